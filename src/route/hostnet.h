/* hostnet.h: what the machine already routes (its addresses, its routes, its
 * resolvers), so the address schema never hands out a prefix that would send
 * container traffic out of the machine. */
#ifndef NETCRAVE_HOSTNET_H
#define NETCRAVE_HOSTNET_H

#include <stddef.h>

#include "prefix.h"

struct hostnet_entry {
	struct prefix	 prefix;
	char		 what[96];	/* "route 192.0.2.0/24 dev eth0", "resolver ..." */
};

struct hostnet {
	struct hostnet_entry	*entries;
	size_t			 nentries;
};

/*
 * Read the addresses and routes (every table, default routes left out) of the
 * current network namespace through rtnetlink, and the name servers of
 * resolv_conf.  Runs once at start-up, before the loop serves anything.
 */
int	hostnet_load(struct hostnet *, const char *resolv_conf, char *err,
	    size_t errlen);
void	hostnet_free(struct hostnet *);
/* Add one entry by hand (tests). */
void	hostnet_add(struct hostnet *, const struct prefix *, const char *what);
/*
 * Forget the entries inside p: they are netcrave's own (the gateway of a pool it
 * handed out, seen on a host bridge), not the host's.  Returns how many.
 */
size_t	hostnet_forget(struct hostnet *, const struct prefix *p);
/* The first entry p overlaps, or NULL. */
const struct hostnet_entry *hostnet_collision(const struct hostnet *,
	    const struct prefix *p);

#endif
