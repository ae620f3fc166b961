/* ingress_api.c: HAProxy's runtime API (the stats socket) from the loop: a
 * FIFO of command lines, one connection per line (haproxy answers and closes
 * in non-interactive mode), retried with a short delay while the socket
 * refuses, never blocking the loop.  A line that keeps failing is dropped
 * with a warning: the written config and the SRV fallback still hold. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "ingress.h"
#include "log.h"
#include "xmalloc.h"

#define INGRESS_API_RETRY_MS	50
#define INGRESS_API_TRIES	40	/* 2 s of refusals, then dropped */
#define INGRESS_API_MAX_REPLY	65536
#define INGRESS_API_MAX_QUEUE	4096
/* What a log shows of a line: its first line only (a payload may hold a
 * private key), as the two arguments of "%.*s". */
#define INGRESS_API_SHOWN(line)	(int)strcspn((line), "\n"), (line)

struct ingress_api_line {
	char				*line;		/* NULL: call then(arg) */
	void				(*then)(void *);
	void				*arg;
	unsigned int			 tries;
	struct ingress_api_line		*next;
};

static struct {
	struct event_base	*base;
	char			*socket;
	struct ingress_api_line	*head, *tail;
	size_t			 n;
	struct bufferevent	*bev;	/* the line at head is in flight */
	struct event		*retry;
	int			 up;
} api;

static const struct timeval ingress_api_retry_delay = {
	0, INGRESS_API_RETRY_MS * 1000
};

static void	ingress_api_next(void);

/* Drop the line at the head of the queue. */
static void
ingress_api_pop(void)
{
	struct ingress_api_line	*l = api.head;

	if (l == NULL)
		return;
	api.head = l->next;
	if (api.head == NULL)
		api.tail = NULL;
	api.n--;
	/* A payload may hold a private key. */
	if (l->line != NULL)
		freezero_secret(l->line, strlen(l->line));
	free(l);
}

/* Whether haproxy's answer reports a failure (it answers in plain text). */
static int
ingress_api_reply_failed(const char *reply)
{
	static const char *const bad[] = { "No such", "Unknown", "Require",
	    "unknown", "Invalid", "invalid", "failed", "Can't", "can't",
	    "error", "Error", NULL };
	size_t	i;

	for (i = 0; bad[i] != NULL; i++)
		if (strstr(reply, bad[i]) != NULL)
			return (1);
	return (0);
}

/* The line at the head could not be delivered: try again shortly, or drop
 * it after its last try. */
static void
ingress_api_failed(void)
{
	if (++api.head->tries >= INGRESS_API_TRIES) {
		log_warnx("ingress: runtime API at %s: \"%.*s\" dropped after "
		    "%u tries", api.socket, INGRESS_API_SHOWN(api.head->line),
		    api.head->tries);
		ingress_api_pop();
		ingress_api_next();
		return;
	}
	evtimer_add(api.retry, &ingress_api_retry_delay);
}

/* The connection ended: EOF is the whole answer, anything else a retry. */
static void
ingress_api_event(struct bufferevent *bev, short what, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*reply;
	size_t		 len;

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_enable(bev, EV_READ);
		return;
	}
	len = evbuffer_get_length(in);
	reply = xmalloc(len + 1);
	evbuffer_remove(in, reply, len);
	reply[len] = '\0';
	bufferevent_free(bev);
	api.bev = NULL;
	if ((what & BEV_EVENT_EOF) != 0) {
		if (ingress_api_reply_failed(reply))
			log_warnx("ingress: haproxy refused \"%.*s\": %s",
			    INGRESS_API_SHOWN(api.head->line), reply);
		else
			log_debug("ingress: haproxy: %.*s -> %s",
			    INGRESS_API_SHOWN(api.head->line), reply);
		free(reply);
		ingress_api_pop();
		ingress_api_next();
		return;
	}
	free(reply);
	ingress_api_failed();
}

/* Reading is done at EOF; the size cap guards against a runaway answer. */
static void
ingress_api_read(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_input(bev)) >
	    INGRESS_API_MAX_REPLY)
		ingress_api_event(bev, BEV_EVENT_ERROR, arg);
}

/* Send the line at the head, unless one is in flight or haproxy is down. */
static void
ingress_api_next(void)
{
	struct sockaddr_un	 sun;

	if (api.bev != NULL || api.head == NULL || !api.up ||
	    evtimer_pending(api.retry, NULL))
		return;
	/* A marker: everything queued before it has been answered. */
	while (api.head != NULL && api.head->line == NULL) {
		void	(*then)(void *) = api.head->then;
		void	 *arg = api.head->arg;

		ingress_api_pop();
		then(arg);
		if (api.bev != NULL || api.head == NULL)
			return;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", api.socket);
	api.bev = bufferevent_socket_new(api.base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(api.bev, ingress_api_read, NULL, ingress_api_event,
	    NULL);
	bufferevent_setwatermark(api.bev, EV_READ, 0, INGRESS_API_MAX_REPLY + 1);
	evbuffer_add_printf(bufferevent_get_output(api.bev), "%s\n",
	    api.head->line);
	bufferevent_enable(api.bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(api.bev, (struct sockaddr *)&sun,
	    sizeof sun) == -1) {
		/* The event callback has run and scheduled the retry, or
		 * the bufferevent is still ours to free. */
		if (api.bev != NULL) {
			bufferevent_free(api.bev);
			api.bev = NULL;
			ingress_api_failed();
		}
	}
}

/* The retry delay is over. */
static void
ingress_api_retry(evutil_socket_t fd, short what, void *arg)
{
	ingress_api_next();
}

void
ingress_api_init(struct event_base *base, const char *socket)
{
	api.base = base;
	free(api.socket);
	api.socket = xstrdup(socket);
	if (api.retry == NULL)
		api.retry = evtimer_new(base, ingress_api_retry, NULL);
}

/* Queue an entry: a line, or a marker when line is NULL. */
static void
ingress_api_queue(const char *line, void (*then)(void *), void *arg)
{
	struct ingress_api_line	*l;

	l = xcalloc(1, sizeof *l);
	l->line = line != NULL ? xstrdup(line) : NULL;
	l->then = then;
	l->arg = arg;
	if (api.tail != NULL)
		api.tail->next = l;
	else
		api.head = l;
	api.tail = l;
	api.n++;
	ingress_api_next();
}

void
ingress_api_send(const char *line)
{
	if (api.n >= INGRESS_API_MAX_QUEUE) {
		log_warnx("ingress: runtime API queue full, \"%.*s\" dropped "
		    "(the written config still holds it)",
		    INGRESS_API_SHOWN(line));
		return;
	}
	ingress_api_queue(line, NULL, NULL);
}

void
ingress_api_then(void (*then)(void *), void *arg)
{
	ingress_api_queue(NULL, then, arg);
}

void
ingress_api_set_up(int up)
{
	api.up = up;
	ingress_api_next();
}

size_t
ingress_api_pending(void)
{
	return (api.n);
}

void
ingress_api_shutdown(void)
{
	if (api.bev != NULL)
		bufferevent_free(api.bev);
	api.bev = NULL;
	if (api.retry != NULL)
		event_free(api.retry);
	api.retry = NULL;
	while (api.head != NULL)
		ingress_api_pop();
	free(api.socket);
	api.socket = NULL;
	api.up = 0;
}
