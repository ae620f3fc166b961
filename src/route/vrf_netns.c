/* vrf_netns.c: the VRF backend for kernels without l3mdev: a namespace per tag
 * ("<routing namespace>-vrf-<tag>") holding the tag's bridges, joined to the
 * routing namespace by a veth pair.  Both ends have the same link-local
 * addresses in every VRF (169.254.0.1/32 and fe80::1 on the routing side,
 * .2 and fe80::2 on the VRF side), so nothing is allocated: a route names
 * its device, and the IPv4 gateway is "onlink". */
#include "config.h"

#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "netns.h"
#include "vrf.h"

/* The ends' addresses: index 0 the routing side, 1 the VRF side. */
static void
vrf_netns_addrs(struct prefix v4[2], struct prefix v6[2])
{
	int	i;

	for (i = 0; i < 2; i++) {
		memset(&v4[i], 0, sizeof v4[i]);
		v4[i].family = AF_INET;
		v4[i].len = 32;
		v4[i].addr[0] = 169;
		v4[i].addr[1] = 254;
		v4[i].addr[3] = 1 + i;
		memset(&v6[i], 0, sizeof v6[i]);
		v6[i].family = AF_INET6;
		v6[i].len = 64;
		v6[i].addr[0] = 0xfe;
		v6[i].addr[1] = 0x80;
		v6[i].addr[15] = 1 + i;
	}
}

static int
vrf_netns_probe(const struct vrf_env *env, char *err, size_t errlen)
{
	return (0);
}

static int
vrf_netns_open(const struct vrf_env *env, struct vrf *v, char *err,
    size_t errlen)
{
	char	prefix[96];

	vrf_ns_prefix(env, prefix, sizeof prefix);
	snprintf(v->ns, sizeof v->ns, "%s%s", prefix, v->tag);
	vrf_link_name(env, 'x', v->tag, v->link, sizeof v->link);
	vrf_link_name(env, 'y', v->tag, v->peer, sizeof v->peer);
	if ((v->nsfd = netns_open(v->ns, 1, err, errlen)) == -1)
		return (-1);
	if ((v->sk = link_sock_open(v->nsfd, err, errlen)) == NULL)
		return (-1);
	/* It routes between its bridges and to the routing namespace. */
	link_sysctl(v->nsfd, "net/ipv4/ip_forward", "1");
	link_sysctl(v->nsfd, "net/ipv6/conf/all/forwarding", "1");
	link_set_up(v->sk, "lo");
	return (0);
}

static int
vrf_netns_build(const struct vrf_env *env, struct vrf *v, char *err,
    size_t errlen)
{
	struct prefix	 v4[2], v6[2];
	char		 alias[160];
	int		 ridx, vidx;

	vrf_netns_addrs(v4, v6);
	snprintf(alias, sizeof alias, "netcrave:%s:vrf:%s", env->instance,
	    v->tag);
	if (link_index(env->rsk, v->link) == 0 ||
	    link_index(v->sk, v->peer) == 0) {
		link_delete(env->rsk, v->link);
		link_delete(v->sk, v->peer);
		if (link_veth_create(env->rsk, v->link, NULL, v->sk, v->nsfd,
		    v->peer, 0, alias, err, errlen) == -1)
			return (-1);
	}
	link_set_up(env->rsk, v->link);
	if ((ridx = link_index(env->rsk, v->link)) == 0 ||
	    (vidx = link_index(v->sk, v->peer)) == 0) {
		snprintf(err, errlen, "the link %s/%s vanished", v->link,
		    v->peer);
		return (-1);
	}
	if (link_addr_add(env->rsk, ridx, &v4[0], err, errlen) == -1 ||
	    link_addr_add(env->rsk, ridx, &v6[0], err, errlen) == -1 ||
	    link_addr_add(v->sk, vidx, &v4[1], err, errlen) == -1 ||
	    link_addr_add(v->sk, vidx, &v6[1], err, errlen) == -1)
		return (-1);
	/* Everything not in the VRF goes to the routing namespace. */
	v4[0].len = 32;
	v6[0].len = 128;
	if (link_route_add_onlink(v->sk, NULL, &v4[0], vidx, err,
	    errlen) == -1 ||
	    link_route_add(v->sk, NULL, &v6[0], vidx, err, errlen) == -1)
		return (-1);
	return (0);
}

static int
vrf_netns_attach(const struct vrf_env *env, struct vrf *v,
    const char *bridge, char *err, size_t errlen)
{
	return (0);	/* the bridge is in the VRF's namespace already */
}

static int
vrf_netns_route(const struct vrf_env *env, struct vrf *v,
    const struct prefix *pool, int bridge, int add, char *err, size_t errlen)
{
	struct prefix	 v4[2], v6[2];
	int		 ridx;

	if (!add)
		return (link_route_del(env->rsk, pool));
	vrf_netns_addrs(v4, v6);
	if ((ridx = link_index(env->rsk, v->link)) == 0) {
		snprintf(err, errlen, "no link %s", v->link);
		return (-1);
	}
	if (pool->family == AF_INET)
		return (link_route_add_onlink(env->rsk, pool, &v4[1], ridx, err,
		    errlen));
	v6[1].len = 128;
	return (link_route_add(env->rsk, pool, &v6[1], ridx, err, errlen));
}

static void
vrf_netns_destroy(const struct vrf_env *env, struct vrf *v)
{
	/* The namespace takes its links (and so the routing end) with it. */
	link_delete(env->rsk, v->link);
	netns_delete(v->ns);
}

const struct vrf_backend vrf_netns_backend = {
	"netns", vrf_netns_probe, vrf_netns_open, vrf_netns_build,
	vrf_netns_attach, vrf_netns_route, vrf_netns_destroy, 1
};
