/* plugin_pending.c: replies that wait for the store.  A plugin call's change is
 * durable before Docker hears of it: the reply is kept until the store answers,
 * then sent, or the change undone and Docker told why.  Shared by the
 * IpamDriver and the NetworkDriver. */
#include "config.h"

#include <stdlib.h>

#include "http.h"
#include "log.h"
#include "plugin.h"
#include "plugin_private.h"
#include "xmalloc.h"

/* The connection went away before the store answered: reply to nobody. */
static void
plugin_pending_cleanup(struct http_request *req, void *arg)
{
	struct plugin_pending	*p = arg;

	p->req = NULL;
}

struct plugin_pending *
plugin_pending_new(struct http_request *req, const char *api, char *reply,
    size_t size)
{
	struct plugin_pending	*p;

	if (size < sizeof *p)
		size = sizeof *p;
	p = xcalloc(1, size);
	p->req = req;
	p->api = api;
	p->reply = reply;
	http_request_set_cleanup(req, plugin_pending_cleanup, p);
	return (p);
}

void
plugin_pending_fail(struct plugin_pending *p, int status, const char *msg)
{
	if (p->req != NULL) {
		http_request_set_cleanup(p->req, NULL, NULL);
		plugin_error(p->req, status, msg, NULL);
	}
	free(p->reply);
	free(p);
}

void
plugin_pending_done(const char *error, void *arg)
{
	struct plugin_pending	*p = arg;
	char			*msg;

	if (error != NULL) {
		log_warnx("%s: store: %s", p->api, error);
		if (p->undo != NULL)
			p->undo(p);
		xasprintf(&msg, "%s: the state store failed: %s", p->api,
		    error);
		plugin_pending_fail(p, 500, msg);
		free(msg);
		return;
	}
	if (p->req != NULL) {
		http_request_set_cleanup(p->req, NULL, NULL);
		plugin_reply_json(p->req, p->reply);
	}
	free(p->reply);
	free(p);
}
