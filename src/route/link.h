/* link.h: the links netcrave makes, through libnl-route: a bridge per network
 * holding its gateways, a veth pair per endpoint, each with the alias
 * "netcrave:<instance>:..." so reconcile recognises everything it made. */
#ifndef NETCRAVE_LINK_H
#define NETCRAVE_LINK_H

#include <stddef.h>

#include "prefix.h"

struct nl_sock;

/* A route socket bound to the namespace of nsfd. */
struct nl_sock	*link_sock_open(int nsfd, char *err, size_t errlen);
void		 link_sock_close(struct nl_sock *);

/* ifindex of a link by name, 0 if none (or no socket). */
int	link_index(struct nl_sock *, const char *name);
/* Make sure a bridge exists and is up; its ifindex or -1. */
int	link_bridge_ensure(struct nl_sock *, const char *name, const char *alias,
	    char *err, size_t errlen);
/* A WireGuard link (kind "wireguard"), up, with alias: its ifindex or -1. */
int	link_wireguard_ensure(struct nl_sock *, const char *name,
	    const char *alias, char *err, size_t errlen);
/* Add an address (with its prefix length) to a link; present is success. */
int	link_addr_add(struct nl_sock *, int ifindex, const struct prefix *,
	    char *err, size_t errlen);
/*
 * A veth pair: name in sk's namespace (with mac, may be NULL), peer moved to the
 * namespace of peer_nsfd, enslaved to its bridge master and up there (psk is a
 * socket of that namespace).  Both ends carry alias.
 */
int	link_veth_create(struct nl_sock *sk, const char *name, const char *mac,
	    struct nl_sock *psk, int peer_nsfd, const char *peer, int master,
	    const char *alias, char *err, size_t errlen);
/* Put a link (by name, if present) on a bridge, up; -1 when absent. */
int	link_set_master(struct nl_sock *, const char *name, int master);
/* Bring a link up by name. */
int	link_set_up(struct nl_sock *, const char *name);
/* A route to dst (NULL: default) via gw on ifindex; present is success. */
int	link_route_add(struct nl_sock *, const struct prefix *dst,
	    const struct prefix *gw, int ifindex, char *err, size_t errlen);
/* The same with the gateway on ifindex without a prefix route to it. */
int	link_route_add_onlink(struct nl_sock *, const struct prefix *dst,
	    const struct prefix *gw, int ifindex, char *err, size_t errlen);
/* A route to dst straight out of ifindex, in table (0: main). */
int	link_route_add_dev(struct nl_sock *, const struct prefix *dst,
	    int ifindex, unsigned int table, char *err, size_t errlen);
/* Delete the route to dst; a missing route is success. */
int	link_route_del(struct nl_sock *, const struct prefix *dst);
/* The same out of ifindex (0: any) in table (0: main). */
int	link_route_del_dev(struct nl_sock *, const struct prefix *dst,
	    int ifindex, unsigned int table);
/*
 * The rule "from all lookup table" of family at priority: add (present is
 * success) or, with add 0, delete (missing is success).
 */
int	link_rule_table(struct nl_sock *, int family, unsigned int table,
	    unsigned int priority, int add, char *err, size_t errlen);
/* Delete a link by name; a missing link (or no socket) is success. */
int	link_delete(struct nl_sock *, const char *name);
/* Call fn for every link whose alias starts with prefix. */
int	link_foreach_alias(struct nl_sock *, const char *prefix,
	    void (*fn)(const char *name, const char *alias, void *), void *arg);
/* A VRF device (l3mdev) on table, up, with alias: its ifindex or -1. */
int	link_vrf_ensure(struct nl_sock *, const char *name, unsigned int table,
	    const char *alias, char *err, size_t errlen);
/* Set a sysctl of the namespace of nsfd, e.g. "net/ipv4/ip_forward"; 0, or
 * -1 with errno (EROFS: /proc/sys is read-only and may not be remounted). */
int	link_sysctl(int nsfd, const char *key, const char *value);
/* Running as the Docker managed plugin (plugin.managed): a read-only
 * /proc/sys is the container's, and link_sysctl remounts it read-write. */
void	link_set_managed_plugin(int);

#endif
