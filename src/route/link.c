/* link.c: links through libnl-route.  Every call is synchronous on the loop:
 * rtnetlink answers in microseconds, and a handler's reply must wait for it. */
#include "config.h"

#include <sys/mount.h>
#include <sys/socket.h>

#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vrf.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include "link.h"
#include "log.h"
#include "netns.h"

struct nl_sock *
link_sock_open(int nsfd, char *err, size_t errlen)
{
	struct nl_sock	*sk;
	int		 rc;

	if ((sk = nl_socket_alloc()) == NULL) {
		snprintf(err, errlen, "nl_socket_alloc failed");
		return (NULL);
	}
	if (netns_enter(nsfd) == -1) {
		nl_socket_free(sk);
		snprintf(err, errlen, "setns: %s", strerror(errno));
		return (NULL);
	}
	rc = nl_connect(sk, NETLINK_ROUTE);
	netns_leave();
	if (rc < 0) {
		snprintf(err, errlen, "rtnetlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return (NULL);
	}
	return (sk);
}

void
link_sock_close(struct nl_sock *sk)
{
	if (sk != NULL)
		nl_socket_free(sk);
}

int
link_index(struct nl_sock *sk, const char *name)
{
	struct rtnl_link	*l;
	int			 idx;

	if (sk == NULL || rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return (0);
	idx = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return (idx);
}

/*
 * Bring a link up (and set its alias: the kernel takes IFLA_IFALIAS only on a
 * change, never when it creates a link).
 */
static int
link_up_alias(struct nl_sock *sk, int ifindex, const char *alias)
{
	struct rtnl_link	*orig, *change;
	int			 rc;

	if ((rc = rtnl_link_get_kernel(sk, ifindex, NULL, &orig)) < 0)
		return (rc);
	change = rtnl_link_alloc();
	rtnl_link_set_flags(change, IFF_UP);
	if (alias != NULL && *alias != '\0')
		rtnl_link_set_ifalias(change, alias);
	rc = rtnl_link_change(sk, orig, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return (rc);
}

static int
link_up(struct nl_sock *sk, int ifindex)
{
	return (link_up_alias(sk, ifindex, NULL));
}

/*
 * Make sure the link l describes (name set, owned here) exists and is up with
 * alias; what names its kind in errors.  Its ifindex or -1.
 */
static int
link_ensure(struct nl_sock *sk, struct rtnl_link *l, const char *what,
    const char *alias, char *err, size_t errlen)
{
	char	name[IFNAMSIZ];
	int	idx, rc;

	snprintf(name, sizeof name, "%s", rtnl_link_get_name(l));
	if ((idx = link_index(sk, name)) == 0) {
		rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
		if (rc < 0 && rc != -NLE_EXIST) {
			snprintf(err, errlen, "%s %s: %s", what, name,
			    nl_geterror(rc));
			rtnl_link_put(l);
			return (-1);
		}
		if ((idx = link_index(sk, name)) == 0) {
			snprintf(err, errlen, "%s %s vanished", what, name);
			rtnl_link_put(l);
			return (-1);
		}
	}
	rtnl_link_put(l);
	if ((rc = link_up_alias(sk, idx, alias)) < 0) {
		snprintf(err, errlen, "%s %s up: %s", what, name,
		    nl_geterror(rc));
		return (-1);
	}
	return (idx);
}

int
link_bridge_ensure(struct nl_sock *sk, const char *name, const char *alias,
    char *err, size_t errlen)
{
	struct rtnl_link	*l;

	l = rtnl_link_alloc();
	rtnl_link_set_type(l, "bridge");
	rtnl_link_set_name(l, name);
	return (link_ensure(sk, l, "bridge", alias, err, errlen));
}

int
link_wireguard_ensure(struct nl_sock *sk, const char *name, const char *alias,
    char *err, size_t errlen)
{
	struct rtnl_link	*l;

	/* libnl has no module for the kind: it sends IFLA_INFO_KIND alone. */
	l = rtnl_link_alloc();
	rtnl_link_set_type(l, "wireguard");
	rtnl_link_set_name(l, name);
	return (link_ensure(sk, l, "wireguard", alias, err, errlen));
}

int
link_addr_add(struct nl_sock *sk, int ifindex, const struct prefix *p,
    char *err, size_t errlen)
{
	struct rtnl_addr	*a;
	struct nl_addr		*local;
	char			 buf[PREFIX_STRLEN];
	int			 rc;

	local = nl_addr_build(p->family, p->addr,
	    p->family == AF_INET ? 4 : 16);
	nl_addr_set_prefixlen(local, p->len);
	a = rtnl_addr_alloc();
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	/* The gateway must answer at once, not after duplicate detection. */
	if (p->family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	rc = rtnl_addr_add(sk, a, NLM_F_REPLACE);
	rtnl_addr_put(a);
	nl_addr_put(local);
	if (rc < 0 && rc != -NLE_EXIST) {
		snprintf(err, errlen, "address %s: %s",
		    prefix_format(p, 1, buf, sizeof buf), nl_geterror(rc));
		return (-1);
	}
	return (0);
}

int
link_veth_create(struct nl_sock *sk, const char *name, const char *mac,
    struct nl_sock *psk, int peer_nsfd, const char *peer, int master,
    const char *alias, char *err, size_t errlen)
{
	struct rtnl_link	*l, *p, *orig, *change;
	struct nl_addr		*hw = NULL;
	int			 rc, idx;

	l = rtnl_link_veth_alloc();
	rtnl_link_set_name(l, name);
	if (mac != NULL && nl_addr_parse(mac, AF_LLC, &hw) == 0)
		rtnl_link_set_addr(l, hw);
	p = rtnl_link_veth_get_peer(l);
	rtnl_link_set_name(p, peer);
	rtnl_link_set_ns_fd(p, peer_nsfd);
	rtnl_link_put(p);
	rc = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(l);
	if (hw != NULL)
		nl_addr_put(hw);
	if (rc < 0) {
		snprintf(err, errlen, "veth %s/%s: %s", name, peer,
		    nl_geterror(rc));
		return (-1);
	}
	if ((rc = rtnl_link_get_kernel(psk, 0, peer, &orig)) < 0) {
		snprintf(err, errlen, "veth peer %s: %s", peer, nl_geterror(rc));
		link_delete(sk, name);
		return (-1);
	}
	idx = rtnl_link_get_ifindex(orig);
	change = rtnl_link_alloc();
	if (master > 0)
		rtnl_link_set_master(change, master);
	rtnl_link_set_flags(change, IFF_UP);
	rtnl_link_set_ifalias(change, alias);
	rc = rtnl_link_change(psk, orig, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	if (rc < 0) {
		snprintf(err, errlen, "veth peer %s (%d) on bridge %d: %s", peer,
		    idx, master, nl_geterror(rc));
		link_delete(sk, name);
		return (-1);
	}
	/* The container end: its alias now, Docker brings it up itself. */
	if ((rc = rtnl_link_get_kernel(sk, 0, name, &orig)) < 0) {
		snprintf(err, errlen, "veth %s: %s", name, nl_geterror(rc));
		link_delete(sk, name);
		return (-1);
	}
	change = rtnl_link_alloc();
	rtnl_link_set_ifalias(change, alias);
	rc = rtnl_link_change(sk, orig, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	if (rc < 0) {
		snprintf(err, errlen, "veth %s alias: %s", name, nl_geterror(rc));
		link_delete(sk, name);
		return (-1);
	}
	return (0);
}

int
link_set_master(struct nl_sock *sk, const char *name, int master)
{
	struct rtnl_link	*orig, *change;
	int			 rc;

	if ((rc = rtnl_link_get_kernel(sk, 0, name, &orig)) < 0)
		return (-1);
	change = rtnl_link_alloc();
	rtnl_link_set_master(change, master);
	rtnl_link_set_flags(change, IFF_UP);
	rc = rtnl_link_change(sk, orig, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return (rc < 0 ? -1 : 0);
}

int
link_set_up(struct nl_sock *sk, const char *name)
{
	int	idx;

	if ((idx = link_index(sk, name)) == 0)
		return (-1);
	return (link_up(sk, idx) < 0 ? -1 : 0);
}

/*
 * A route to dst (NULL: default) via gw (NULL: straight out of ifindex) in
 * table (0: main); onlink when gw is reachable on ifindex without a prefix
 * route to it (the /32 ends of a VRF link).
 */
static int
link_route(struct nl_sock *sk, const struct prefix *dst,
    const struct prefix *gw, int ifindex, unsigned int table, int onlink,
    char *err, size_t errlen)
{
	struct rtnl_route	*r;
	struct rtnl_nexthop	*nh;
	struct nl_addr		*d, *g = NULL;
	unsigned char		 zero[16] = { 0 };
	int			 family = gw != NULL ? gw->family : dst->family;
	size_t			 alen = family == AF_INET ? 4 : 16;
	int			 rc;

	if (dst != NULL) {
		d = nl_addr_build(dst->family, dst->addr, alen);
		nl_addr_set_prefixlen(d, dst->len);
	} else {
		d = nl_addr_build(family, zero, alen);
		nl_addr_set_prefixlen(d, 0);
	}
	r = rtnl_route_alloc();
	rtnl_route_set_family(r, family);
	rtnl_route_set_dst(r, d);
	if (table != 0)
		rtnl_route_set_table(r, table);
	nh = rtnl_route_nh_alloc();
	if (gw != NULL) {
		g = nl_addr_build(gw->family, gw->addr, alen);
		rtnl_route_nh_set_gateway(nh, g);
	} else
		rtnl_route_set_scope(r, RT_SCOPE_LINK);
	if (onlink)
		rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(r, nh);
	rc = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE);
	rtnl_route_put(r);
	nl_addr_put(d);
	if (g != NULL)
		nl_addr_put(g);
	if (rc < 0 && rc != -NLE_EXIST) {
		snprintf(err, errlen, "route: %s", nl_geterror(rc));
		return (-1);
	}
	return (0);
}

int
link_route_add(struct nl_sock *sk, const struct prefix *dst,
    const struct prefix *gw, int ifindex, char *err, size_t errlen)
{
	return (link_route(sk, dst, gw, ifindex, 0, 0, err, errlen));
}

int
link_route_add_onlink(struct nl_sock *sk, const struct prefix *dst,
    const struct prefix *gw, int ifindex, char *err, size_t errlen)
{
	return (link_route(sk, dst, gw, ifindex, 0, 1, err, errlen));
}

int
link_route_add_dev(struct nl_sock *sk, const struct prefix *dst, int ifindex,
    unsigned int table, char *err, size_t errlen)
{
	return (link_route(sk, dst, NULL, ifindex, table, 0, err, errlen));
}

int
link_route_del(struct nl_sock *sk, const struct prefix *dst)
{
	return (link_route_del_dev(sk, dst, 0, 0));
}

int
link_route_del_dev(struct nl_sock *sk, const struct prefix *dst, int ifindex,
    unsigned int table)
{
	struct rtnl_route	*r;
	struct rtnl_nexthop	*nh;
	struct nl_addr		*d;
	int			 rc;

	if (sk == NULL)
		return (0);
	d = nl_addr_build(dst->family, dst->addr,
	    dst->family == AF_INET ? 4 : 16);
	nl_addr_set_prefixlen(d, dst->len);
	r = rtnl_route_alloc();
	rtnl_route_set_family(r, dst->family);
	rtnl_route_set_dst(r, d);
	/* Any scope: left unset, libnl asks for scope link (no gateway given),
	   and the kernel then keeps a route through a gateway. */
	rtnl_route_set_scope(r, RT_SCOPE_NOWHERE);
	if (table != 0)
		rtnl_route_set_table(r, table);
	/* The device names our route, never zebra's to the same prefix. */
	if (ifindex != 0) {
		nh = rtnl_route_nh_alloc();
		rtnl_route_nh_set_ifindex(nh, ifindex);
		rtnl_route_add_nexthop(r, nh);
	}
	rc = rtnl_route_delete(sk, r, 0);
	rtnl_route_put(r);
	nl_addr_put(d);
	return (rc < 0 && rc != -NLE_OBJ_NOTFOUND && rc != -NLE_NOADDR ? -1 :
	    0);
}

int
link_rule_table(struct nl_sock *sk, int family, unsigned int table,
    unsigned int priority, int add, char *err, size_t errlen)
{
	struct rtnl_rule	*r;
	int			 rc;

	r = rtnl_rule_alloc();
	rtnl_rule_set_family(r, family);
	rtnl_rule_set_table(r, table);
	rtnl_rule_set_prio(r, priority);
	rtnl_rule_set_action(r, FR_ACT_TO_TBL);
	if (add)
		rc = rtnl_rule_add(sk, r, NLM_F_CREATE | NLM_F_EXCL);
	else
		rc = rtnl_rule_delete(sk, r, 0);
	rtnl_rule_put(r);
	if (rc == -NLE_EXIST || (!add && (rc == -NLE_OBJ_NOTFOUND ||
	    rc == -NLE_NOADDR)))
		rc = 0;
	if (rc < 0) {
		snprintf(err, errlen, "rule lookup %u: %s", table,
		    nl_geterror(rc));
		return (-1);
	}
	return (0);
}

int
link_delete(struct nl_sock *sk, const char *name)
{
	struct rtnl_link	*l;
	int			 rc;

	if (sk == NULL || rtnl_link_get_kernel(sk, 0, name, &l) < 0)
		return (0);
	rc = rtnl_link_delete(sk, l);
	rtnl_link_put(l);
	if (rc < 0 && rc != -NLE_NODEV && rc != -NLE_OBJ_NOTFOUND) {
		log_warnx("link: delete %s: %s", name, nl_geterror(rc));
		return (-1);
	}
	return (0);
}

struct link_walk {
	const char	*prefix;
	void		(*fn)(const char *, const char *, void *);
	void		*arg;
};

static void
link_walk_cb(struct nl_object *obj, void *arg)
{
	struct rtnl_link	*l = (struct rtnl_link *)obj;
	struct link_walk	*w = arg;
	const char		*alias = rtnl_link_get_ifalias(l);

	if (alias != NULL && strncmp(alias, w->prefix, strlen(w->prefix)) == 0)
		w->fn(rtnl_link_get_name(l), alias, w->arg);
}

int
link_foreach_alias(struct nl_sock *sk, const char *prefix,
    void (*fn)(const char *, const char *, void *), void *arg)
{
	struct nl_cache		*cache;
	struct link_walk	 w = { prefix, fn, arg };

	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache) < 0)
		return (-1);
	nl_cache_foreach(cache, link_walk_cb, &w);
	nl_cache_free(cache);
	return (0);
}

static int	link_managed_plugin;	/* plugin.managed */

void
link_set_managed_plugin(int on)
{
	link_managed_plugin = on;
}

int
link_sysctl(int nsfd, const char *key, const char *value)
{
	char	path[256];
	int	fd, rc = -1, saved;

	snprintf(path, sizeof path, "/proc/sys/%s", key);
	if (netns_enter(nsfd) == -1)
		return (-1);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	/*
	 * As the Docker managed plugin, the runtime binds /proc/sys read-only
	 * in its container.  The net.* keys are per namespace, and only ours
	 * are written, so make it writable in the plugin's own mount namespace
	 * (with CAP_SYS_ADMIN) rather than leave forwarding off.  Anywhere
	 * else a read-only /proc/sys is the administrator's choice: said, and
	 * left alone.
	 */
	if (fd == -1 && errno == EROFS) {
		if (!link_managed_plugin)
			log_warnx("link: sysctl %s: /proc/sys is read-only; "
			    "not remounted (only the managed plugin, "
			    "plugin.managed, does that): set it by hand or "
			    "make /proc/sys writable", key);
		else if (mount("", "/proc/sys", NULL, MS_REMOUNT | MS_BIND,
		    NULL) == 0) {
			log_info("link: /proc/sys was read-only (the managed "
			    "plugin's container): remounted read-write in "
			    "netcraved's mount namespace");
			fd = open(path, O_WRONLY | O_CLOEXEC);
		} else {
			log_warn("link: remount of the read-only /proc/sys");
			errno = EROFS;	/* the sysctl's own failure */
		}
	}
	if (fd != -1) {
		if (write(fd, value, strlen(value)) == (ssize_t)strlen(value))
			rc = 0;
		close(fd);
	}
	saved = errno;
	netns_leave();
	errno = saved;
	/* The read-only case without the plugin was told above. */
	if (rc == -1 && !(saved == EROFS && !link_managed_plugin)) {
		log_warn("link: sysctl %s", key);
		errno = saved;
	}
	return (rc);
}

int
link_vrf_ensure(struct nl_sock *sk, const char *name, unsigned int table,
    const char *alias, char *err, size_t errlen)
{
	struct rtnl_link	*l;

	l = rtnl_link_vrf_alloc();
	rtnl_link_set_name(l, name);
	rtnl_link_vrf_set_tableid(l, table);
	return (link_ensure(sk, l, "vrf", alias, err, errlen));
}
