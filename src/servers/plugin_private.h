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
void	plugin_network_create_endpoint(struct http_request *, void *);
void	plugin_network_endpoint_info(struct http_request *, void *);
void	plugin_network_delete_endpoint(struct http_request *, void *);
void	plugin_network_join(struct http_request *, void *);
void	plugin_network_leave(struct http_request *, void *);
void	plugin_network_nothing(struct http_request *, void *);

#endif
