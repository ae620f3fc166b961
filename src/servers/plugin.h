/* plugin.h: the Docker plugin API (NetworkDriver, IpamDriver, VolumeDriver) on the
 * plugin socket. */
#ifndef NETCRAVE_PLUGIN_H
#define NETCRAVE_PLUGIN_H

#include <yajl/yajl_gen.h>

#include "http.h"
#include "server.h"

extern const struct server plugin_server;

/* The route table and the error renderer, exposed for unit tests and fuzzing. */
extern const struct http_route plugin_routes[];
extern const size_t plugin_nroutes;
void	plugin_error(struct http_request *, int status, const char *message, void *arg);

/* The address schema and the pools handed out, as JSON arrays (netcravectl). */
void	plugin_ipam_gen_scopes(yajl_gen);
void	plugin_ipam_gen_pools(yajl_gen);

/* The address schema as it runs (NULL before the ipam server started): the
 * dockerd follower reads which tags exist and whether their scope has IPv6. */
struct schema;
const struct schema *plugin_ipam_schema(void);
/* The cluster-wide name (IPAM option netcrave.network) of the pool with this
 * prefix, into buf; -1 when the pool is not a named one. */
struct prefix;
int	plugin_ipam_shared_name(const struct prefix *pool, char *buf, size_t len);

/* "networks" (endpoints: "endpoints") and its array, into an open map (GET /networks). */
void	plugin_network_gen(yajl_gen, int endpoints);
/* The host end of the uplink ("169.254.N.1"; ..._host6: its ULA), where
 * squid listens for the networks of waf.egress_tag; NULL without an uplink. */
const char *plugin_network_uplink_host(void);
const char *plugin_network_uplink_host6(void);
/*
 * A socket opened in the namespace where a network's gateways live (its VRF's
 * with the netns backend, else the routing namespace), for a server listening
 * at the gateway; -1 with errno ENOENT when netcrave has no such network.
 * netns_socket() still opens one in a namespace named outright.
 */
int	plugin_network_socket(const char *network_id, int domain, int type,
	    int protocol);

/* The networks' gateways and the namespace each lives in (the routing one,
 * or its VRF's with the netns backend), for the DNS server listening there:
 * fn for each address, and hook called after every change of the networks
 * (NULL: none). */
struct prefix;
void	plugin_network_gateways(void (*fn)(const char *netns,
	    const struct prefix *gw, void *), void *arg);
void	plugin_network_on_change(void (*hook)(void));

#endif
