/* plugin_private.h: what the plugin API's files share: body parsing, replies in
 * Docker's format, and the handlers of each API. */
#ifndef NETCRAVE_PLUGIN_PRIVATE_H
#define NETCRAVE_PLUGIN_PRIVATE_H

#include "http.h"
#include "json.h"
#include "server.h"

/* Parse the body into *doc (NULL when empty); a bad body is answered 400, -1. */
int	plugin_body(struct http_request *, struct json **doc);
void	plugin_bad_request(struct http_request *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A failure Docker shows the user as "netcrave: <sentence>". */
void	plugin_fail(struct http_request *, int status, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	plugin_reply_json(struct http_request *, const char *json);
/* Check the body, then answer a fixed JSON text. */
void	plugin_reply_fixed(struct http_request *, const char *json);

/* plugin_pending.c: a reply kept until the store says the change is durable. */
struct plugin_pending {
	struct http_request	*req;		/* NULL once the client went away */
	const char		*api;		/* "IpamDriver": in errors and logs */
	char			*reply;		/* JSON body on success (owned) */
	/* Run when the store failed, before the error is sent. */
	void			(*undo)(struct plugin_pending *);
	void			*arg;		/* the caller's, for undo */
};
/*
 * A pending reply of size bytes (a caller's struct that starts with a struct
 * plugin_pending, or 0), reply owned; give plugin_pending_done to the store.
 */
struct plugin_pending *plugin_pending_new(struct http_request *,
	    const char *api, char *reply, size_t size);
void	plugin_pending_done(const char *error, void *arg);
/* Answer status with msg (if the client is still there) and free. */
void	plugin_pending_fail(struct plugin_pending *, int status,
	    const char *msg);

/* plugin_ipam.c */
extern const struct server ipam_server;
void	plugin_ipam_address_spaces(struct http_request *, void *);
void	plugin_ipam_request_pool(struct http_request *, void *);
void	plugin_ipam_release_pool(struct http_request *, void *);
void	plugin_ipam_request_address(struct http_request *, void *);
void	plugin_ipam_release_address(struct http_request *, void *);

/* plugin_network.c */
extern const struct server network_server;
void	plugin_network_create(struct http_request *, void *);
void	plugin_network_delete(struct http_request *, void *);
void	plugin_network_allocate(struct http_request *, void *);
void	plugin_network_free(struct http_request *, void *);
void	plugin_network_create_endpoint(struct http_request *, void *);
void	plugin_network_endpoint_info(struct http_request *, void *);
void	plugin_network_delete_endpoint(struct http_request *, void *);
void	plugin_network_join(struct http_request *, void *);
void	plugin_network_leave(struct http_request *, void *);
void	plugin_network_nothing(struct http_request *, void *);

#endif
