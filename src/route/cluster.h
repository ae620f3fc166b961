/* cluster.h: clustering (issue 10): FRR/BGP between hosts, and what protects
 * the traffic between them (WireGuard, IPsec ESP, or nothing). */
#ifndef NETCRAVE_CLUSTER_H
#define NETCRAVE_CLUSTER_H

#include <yajl/yajl_gen.h>

struct server;

extern const struct server cluster_server;

/* 1 when the generic netlink family exists, 0 when not, -1 on error. */
int	cluster_genl_family(const char *name);
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

#endif
