/* cluster.h: clustering (issue 10): FRR/BGP between hosts, and what protects
 * the traffic between them (WireGuard, IPsec ESP, or nothing). */
#ifndef NETCRAVE_CLUSTER_H
#define NETCRAVE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>

#include "prefix.h"

struct server;

extern const struct server cluster_server;

/* 1 when the generic netlink family exists, 0 when not, -1 on error. */
int	cluster_genl_family(const char *name);
/* Each host's record: key its underlay address, so the others peer with it. */
#define CLUSTER_KIND_HOST	"cluster.host"
/* The network server's records (plugin_network.c): a host's prefixes. */
#define CLUSTER_KIND_NETWORK	"net.network"

/* cluster.enabled of the running config. */
int	cluster_is_enabled(void);
/* The "cluster" member of GET /status: encryption and each host pair. */
void	cluster_status(yajl_gen);
/*
 * Dead host cleanup: whether the host of that underlay address counts, 0
 * once its record in the store has not been refreshed for cluster.dead_after
 * seconds, 1 again when it is; hosts not in the membership (and every host
 * without clustering) count.  cluster_watch_hosts: fn is told each change
 * (registered once, however often it is called).
 */
int	cluster_host_alive(const char *addr);
void	cluster_watch_hosts(void (*fn)(const char *addr, int alive));

/*
 * WireGuard between the hosts (cluster_wg.c), used by cluster.c when the
 * kernel has it and cluster.wireguard is auto.  start makes the wg-<instance>
 * link and its peers from the records; -1 (err) leaves nothing behind.
 */
struct conf;
struct server_env;
int	cluster_wg_start(const struct conf *, const struct server_env *,
	    char *err, size_t errlen);
void	cluster_wg_stop(void);
/* Whether the WireGuard path runs. */
int	cluster_wg_active(void);
/* A record of the store changed: peers, allowed IPs and routes follow. */
void	cluster_wg_change(const char *kind, const char *key, const void *value,
	    size_t len);
/* "wireguard": {public_key, address, port} into this host's open record. */
void	cluster_wg_record(yajl_gen);
/*
 * The "wireguard" member of another host's cluster.host record: 0, -1 when it
 * has none (an older netcraved, or no WireGuard there), -2 when malformed.
 */
struct cluster_wg_peer {
	uint8_t		 key[32];	/* WG_KEY_BYTES */
	struct prefix	 endpoint;
	uint16_t	 port;
};
int	cluster_wg_parse_host(const void *value, size_t len,
	    struct cluster_wg_peer *);
/*
 * A net.network record: its "host" (*host, to free) and the pools of its
 * gateways, IPv4 then IPv6, into pfx; how many (0: *host NULL).
 */
size_t	cluster_wg_parse_network(const void *value, size_t len, char **host,
	    struct prefix pfx[2]);
/* Whether the kernel's device has a peer for host addr that can shake hands. */
int	cluster_wg_pair(const char *addr);

#endif
