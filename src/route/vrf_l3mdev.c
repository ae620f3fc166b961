/* vrf_l3mdev.c: the VRF backend for kernels with l3mdev: a "vrf" device per tag
 * in the routing namespace, with a routing table of its own (from a hash of
 * the tag), the tag's bridges its slaves.  Their connected routes move to that
 * table; the main table keeps a route to every pool, which lookups that miss in
 * a VRF's table fall through to, so traffic between VRFs and to the uplink is
 * routed there and the forward chain's tag policy decides. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "netns.h"
#include "vrf.h"

#define VRF_TABLE_BASE	1000000u	/* far above tables people number */

static unsigned int
vrf_l3mdev_table(const char *tag)
{
	return (VRF_TABLE_BASE + vrf_tag_hash(tag) % 1000000u);
}

/* "ip link add x type vrf table N" works: make one and remove it again. */
static int
vrf_l3mdev_probe(const struct vrf_env *env, char *err, size_t errlen)
{
	char	name[16];

	snprintf(name, sizeof name, "%svprobe", env->link_prefix);
	if (link_vrf_ensure(env->rsk, name, VRF_TABLE_BASE - 1, NULL, err,
	    errlen) == -1)
		return (-1);
	link_delete(env->rsk, name);
	return (0);
}

static int
vrf_l3mdev_open(const struct vrf_env *env, struct vrf *v, char *err,
    size_t errlen)
{
	v->ns[0] = '\0';
	vrf_link_name(env, 'x', v->tag, v->link, sizeof v->link);
	v->table = vrf_l3mdev_table(v->tag);
	v->nsfd = env->rns;
	v->sk = env->rsk;
	/* Sockets not bound to a VRF (the DNS server at gateways) still
	   receive what arrives in one. */
	link_sysctl(env->rns, "net/ipv4/tcp_l3mdev_accept", "1");
	link_sysctl(env->rns, "net/ipv4/udp_l3mdev_accept", "1");
	return (0);
}

static int
vrf_l3mdev_build(const struct vrf_env *env, struct vrf *v, char *err,
    size_t errlen)
{
	char	alias[160];

	snprintf(alias, sizeof alias, "netcrave:%s:vrf:%s", env->instance,
	    v->tag);
	return (link_vrf_ensure(env->rsk, v->link, v->table, alias, err,
	    errlen) == -1 ? -1 : 0);
}

static int
vrf_l3mdev_attach(const struct vrf_env *env, struct vrf *v,
    const char *bridge, char *err, size_t errlen)
{
	int	idx;

	if ((idx = link_index(env->rsk, v->link)) == 0) {
		snprintf(err, errlen, "no vrf %s", v->link);
		return (-1);
	}
	if (link_set_master(env->rsk, bridge, idx) == -1) {
		snprintf(err, errlen, "cannot enslave bridge %s to %s", bridge,
		    v->link);
		return (-1);
	}
	return (0);
}

static int
vrf_l3mdev_route(const struct vrf_env *env, struct vrf *v,
    const struct prefix *pool, int bridge, int add, char *err, size_t errlen)
{
	if (!add)
		return (link_route_del(env->rsk, pool));
	return (link_route_add_dev(env->rsk, pool, bridge, 0, err, errlen));
}

static void
vrf_l3mdev_destroy(const struct vrf_env *env, struct vrf *v)
{
	link_delete(env->rsk, v->link);
}

const struct vrf_backend vrf_l3mdev_backend = {
	"l3mdev", vrf_l3mdev_probe, vrf_l3mdev_open, vrf_l3mdev_build,
	vrf_l3mdev_attach, vrf_l3mdev_route, vrf_l3mdev_destroy, 0
};
