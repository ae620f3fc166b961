/* ingress.h: ingress through HAProxy: the service model built from container
 * labels, the haproxy.cfg writer, the runtime-API client, and the server
 * table entry that supervises haproxy. */
#ifndef NETCRAVE_INGRESS_H
#define NETCRAVE_INGRESS_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "server.h"

/* Labels a container may carry (netcraved.8, INGRESS). */
#define INGRESS_HOST_LABEL	"io.netcrave.ingress.host"
#define INGRESS_PORT_LABEL	"io.netcrave.ingress.port"
#define INGRESS_MODE_LABEL	"io.netcrave.ingress.mode"	/* push | dns */
#define INGRESS_TLS_LABEL	"io.netcrave.ingress.tls"	/* true: backend speaks TLS */
#define INGRESS_WAF_LABEL	"io.netcrave.waf"
#define INGRESS_CERT_LABEL	"io.netcrave.ingress.cert"	/* acme: from the ACME CA */
/* The SRV owner of a host's backends is "_ingress._tcp.<host>.<zone>". */
#define INGRESS_SRV_PREFIX	"_ingress._tcp"

/* One pushed server slot: free when container_id is NULL. */
struct ingress_slot {
	char		*container_id;
	char		*addr;		/* IPv4 or IPv6 literal */
	unsigned int	 port;
};

/* One service: every container labelled with the same host. */
struct acme_order;

struct ingress_service {
	char			*host;		/* lower case, validated */
	char			*backend;	/* "be_" + host, '.' as '_' */
	int			 dns_only;	/* no pushed slots */
	int			 tls;		/* backends verified against the CA */
	char			*waf_set;	/* io.netcrave.waf, or NULL */
	int			 live;		/* haproxy has its backend */
	struct ingress_slot	*slots;
	size_t			 nslots;
	struct acme_order	*acme;		/* certificate from the ACME CA
						   (io.netcrave.ingress.cert),
						   or NULL: the internal CA's;
						   its callback's argument is
						   host, which stays where it
						   is when services moves */
};

/* What haproxy.cfg is written from, besides the services. */
struct ingress_cfg {
	const char	*http_listen;
	const char	*https_listen;	/* "" no TLS frontend */
	const char	*socket;	/* the runtime API (stats socket) */
	const char	*crt_list;	/* the TLS frontend's crt-list file */
	const char	*ca_file;	/* verifies TLS backends */
	const char	*resolver;	/* "HOST:PORT" of netcraved's DNS, or "" */
	const char	*zone;		/* "netcrave.internal." */
	const char	*acme_address;	/* "" none */
	const char	*waf_address;	/* "" none */
	const char	*waf_return_listen; /* "" none */
	unsigned int	 hold_valid_ms;
	unsigned int	 hold_obsolete_ms;
	unsigned int	 slots;		/* slots (and template servers) per backend */
};

/* ingress_cfg.c */
/* Whether s is a host name ingress accepts (letters, digits, '-', '.'). */
int	 ingress_host_ok(const char *s);
/* The backend name of host (caller frees). */
char	*ingress_backend_name(const char *host);
/* The text of haproxy.cfg (caller frees). */
char	*ingress_cfg_text(const struct ingress_cfg *,
	    const struct ingress_service *, size_t nservices);
/* A "HOST:PORT" of netcraved as haproxy spells it ("[::1]:80" -> "::1:80"
 * is ambiguous, so IPv6 becomes "ipv6@::1:80"); caller frees. */
char	*ingress_cfg_address(const char *listen);

/* ingress_api.c: the runtime API on the loop, one command line at a time. */
struct event_base;
void	 ingress_api_init(struct event_base *, const char *socket);
/* Queue a line (commands separated by ';'); sent when haproxy is up. */
void	 ingress_api_send(const char *line);
/* Call then(arg) once every line queued before has been answered or
 * dropped (while haproxy is down it waits; shutdown drops it uncalled). */
void	 ingress_api_then(void (*then)(void *), void *arg);
/* haproxy is up (1) or not (0): the queue waits while it is down. */
void	 ingress_api_set_up(int);
size_t	 ingress_api_pending(void);
void	 ingress_api_shutdown(void);

/* ingress.c */
struct dockerd_container;
/* The network whose name makes the SRV target of c
 * ("<name>.<network>.<zone>": the endpoint pushes use too), or NULL when
 * ingress is off or no network of c admits it. */
const char *ingress_srv_network(const struct dockerd_container *);

/* For the control socket.  GET /ingress: the model (haproxy's state, the
 * queue, every service and its pushed servers) as one JSON object. */
/* The hosts' certificates for GET /certs, into an open array. */
void	 ingress_certs_json(yajl_gen);
void	 ingress_gen(yajl_gen);
/* POST /ingress/renew: every host certificate issued again and swapped in
 * the running haproxy through the runtime API; how many, -1 without TLS. */
int	 ingress_renew_all(void);

extern const struct server ingress_server;

#endif
