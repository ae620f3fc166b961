/* hostnet.c: what the machine already routes (its addresses, its routes, its
 * resolvers), so the address schema never hands out a prefix that would send
 * container traffic out of the machine. */
#include "config.h"

#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "hostnet.h"
#include "xmalloc.h"

/* Add one entry. */
void
hostnet_add(struct hostnet *h, const struct prefix *p, const char *what)
{
	struct hostnet_entry	*e;

	h->entries = xreallocarray(h->entries, h->nentries + 1,
	    sizeof *h->entries);
	e = &h->entries[h->nentries++];
	e->prefix = *p;
	prefix_mask(&e->prefix);
	snprintf(e->what, sizeof e->what, "%s", what);
}

/* A libnl address into a prefix; -1 for families we do not route. */
static int
hostnet_from_nl(struct nl_addr *a, struct prefix *p)
{
	memset(p, 0, sizeof *p);
	p->family = nl_addr_get_family(a);
	if (p->family != AF_INET && p->family != AF_INET6)
		return (-1);
	if (nl_addr_get_len(a) > sizeof p->addr)
		return (-1);
	memcpy(p->addr, nl_addr_get_binary_addr(a), nl_addr_get_len(a));
	p->len = nl_addr_get_prefixlen(a);
	return (0);
}

/* Every address on every link: the link's own prefix is routed here. */
static void
hostnet_addr_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_addr	*a = (struct rtnl_addr *)obj;
	struct hostnet		*h = arg;
	struct nl_addr		*local = rtnl_addr_get_local(a);
	struct prefix		 p;
	char			 buf[PREFIX_STRLEN], what[96];

	if (local == NULL || hostnet_from_nl(local, &p) == -1)
		return;
	p.len = rtnl_addr_get_prefixlen(a);
	snprintf(what, sizeof what, "address %s on link %d",
	    prefix_format(&p, 1, buf, sizeof buf), rtnl_addr_get_ifindex(a));
	hostnet_add(h, &p, what);
}

/* Every route but default routes, which would overlap everything. */
static void
hostnet_route_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_route	*r = (struct rtnl_route *)obj;
	struct hostnet		*h = arg;
	struct nl_addr		*dst = rtnl_route_get_dst(r);
	struct prefix		 p;
	char			 buf[PREFIX_STRLEN], what[96];

	if (dst == NULL || hostnet_from_nl(dst, &p) == -1 || p.len == 0)
		return;
	/* Multicast routes are not destinations containers would be handed. */
	if (rtnl_route_get_type(r) == RTN_MULTICAST)
		return;
	snprintf(what, sizeof what, "route %s (table %u)",
	    prefix_format(&p, 1, buf, sizeof buf), rtnl_route_get_table(r));
	hostnet_add(h, &p, what);
}

/* Name servers of resolv.conf: traffic to them must keep leaving the machine. */
static void
hostnet_resolvers(struct hostnet *h, const char *path)
{
	struct prefix	 p;
	FILE		*f;
	char		 line[512], *s, *end, err[128], what[96];

	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "nameserver", 10) != 0 ||
		    !isspace((unsigned char)line[10]))
			continue;
		for (s = line + 10; isspace((unsigned char)*s); s++)
			;
		for (end = s; *end != '\0' && !isspace((unsigned char)*end) &&
		    *end != '%'; end++)
			;
		*end = '\0';
		if (prefix_parse(s, 0, &p, err, sizeof err) == -1)
			continue;
		snprintf(what, sizeof what, "resolver %s in %s", s, path);
		hostnet_add(h, &p, what);
	}
	fclose(f);
}

/* Read addresses, routes and resolvers. */
int
hostnet_load(struct hostnet *h, const char *resolv_conf, char *err,
    size_t errlen)
{
	struct nl_sock	*sk;
	struct nl_cache	*addrs = NULL, *routes = NULL;
	int		 rv;

	memset(h, 0, sizeof *h);
	if ((sk = nl_socket_alloc()) == NULL) {
		snprintf(err, errlen, "nl_socket_alloc failed");
		return (-1);
	}
	if ((rv = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
	    (rv = rtnl_addr_alloc_cache(sk, &addrs)) < 0 ||
	    (rv = rtnl_route_alloc_cache(sk, AF_UNSPEC, 0, &routes)) < 0) {
		snprintf(err, errlen, "reading the host's addresses and routes: %s",
		    nl_geterror(rv));
		if (addrs != NULL)
			nl_cache_free(addrs);
		nl_socket_free(sk);
		return (-1);
	}
	nl_cache_foreach(addrs, hostnet_addr_cb, h);
	nl_cache_foreach(routes, hostnet_route_cb, h);
	nl_cache_free(addrs);
	nl_cache_free(routes);
	nl_socket_free(sk);
	if (resolv_conf != NULL)
		hostnet_resolvers(h, resolv_conf);
	return (0);
}

/* Free the entries. */
void
hostnet_free(struct hostnet *h)
{
	free(h->entries);
	h->entries = NULL;
	h->nentries = 0;
}

/* Forget the entries inside p. */
size_t
hostnet_forget(struct hostnet *h, const struct prefix *p)
{
	size_t	i = 0, n = 0;

	while (i < h->nentries) {
		if (prefix_contains(p, &h->entries[i].prefix)) {
			h->entries[i] = h->entries[--h->nentries];
			n++;
		} else
			i++;
	}
	return (n);
}

/* The first entry p overlaps, or NULL. */
const struct hostnet_entry *
hostnet_collision(const struct hostnet *h, const struct prefix *p)
{
	size_t	i;

	for (i = 0; i < h->nentries; i++)
		if (prefix_overlaps(&h->entries[i].prefix, p))
			return (&h->entries[i]);
	return (NULL);
}
