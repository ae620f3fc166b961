/* icap.h: netcraved's RFC 3507 ICAP server: OPTIONS, REQMOD and RESPMOD for
 * the services /waf/<set> and /waf-host, judged by the firewall engine (src/waf). */
#ifndef NETCRAVE_ICAP_H
#define NETCRAVE_ICAP_H

#include <stddef.h>

#include "server.h"

#define ICAP_MAX_HEAD	65536	/* ICAP head plus encapsulated HTTP heads */

struct event_base;
struct icap_server;
struct waf_ruleset;

struct icap_limits {
	size_t		 max_body_bytes;	/* kept for inspection and echo */
	unsigned int	 preview_bytes;		/* offered in OPTIONS */
	unsigned int	 idle_timeout_ms;
	unsigned int	 max_connections;
	/* An ICAP head and its encapsulated HTTP heads not whole this long
	 * after their first byte: ICAP 408 and closed, however steadily the
	 * bytes dribble in; 0 for none. */
	unsigned int	 head_timeout_ms;
};

/* A server without a listener (tests and the fuzzer adopt sockets). */
struct icap_server	*icap_server_new(struct event_base *,
			    const struct icap_limits *);
/* Listen on "HOST:PORT"; -1 with err. */
int			 icap_server_listen(struct icap_server *, const char *,
			    char *err, size_t errlen);
/* Serve a connected socket (the server owns fd from here on). */
void			 icap_server_adopt(struct icap_server *, int fd);
/* Replace the rule sets (the server owns them; the old ones are freed) and
 * the ISTag, which changes with every call. */
void			 icap_server_set_rules(struct icap_server *,
			    struct waf_ruleset **, size_t, const char *default_set);
void			 icap_server_set_limits(struct icap_server *,
			    const struct icap_limits *);
size_t			 icap_server_connections(const struct icap_server *);
/*
 * Services by Host (the accelerator's /waf-host): a container's labels
 * io.netcrave.ingress.host=<host>[,<host>...] and io.netcrave.waf=<set> make
 * requests for those hosts judged by that set; set NULL forgets the
 * container.  Other hosts, and sets not defined, get the default set.
 */
void			 icap_server_set_service(struct icap_server *,
			    const char *container_id, const char *hosts,
			    const char *set);
/* The set name requests for host get (its port, if any, ignored). */
const char		*icap_server_host_set(const struct icap_server *,
			    const char *host, size_t len);
void			 icap_server_free(struct icap_server *);

extern const struct server icap_server_entry;

#endif
