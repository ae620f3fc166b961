/* vrf.c: the VRF interface: choosing a backend at start (l3mdev where the kernel
 * has "vrf" links, else a namespace per VRF) and the calls every backend shares. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "vrf.h"
#include "watch.h"
#include "xmalloc.h"

int
vrf_choose(struct vrf_env *env, enum vrf_kind want, char *err, size_t errlen)
{
	char	why[256];

	why[0] = '\0';
	switch (want) {
	case VRF_L3MDEV:
		if (vrf_l3mdev_backend.probe(env, why, sizeof why) == -1) {
			snprintf(err, errlen, "vrf_backend l3mdev: the kernel "
			    "refuses it: %s", why);
			return (-1);
		}
		env->backend = &vrf_l3mdev_backend;
		break;
	case VRF_NETNS:
		env->backend = &vrf_netns_backend;
		break;
	default:
		if (vrf_l3mdev_backend.probe(env, why, sizeof why) == 0)
			env->backend = &vrf_l3mdev_backend;
		else
			env->backend = &vrf_netns_backend;
		break;
	}
	if (why[0] != '\0' && env->backend == &vrf_netns_backend)
		log_info("vrf: backend netns (a namespace per VRF): the kernel "
		    "lacks l3mdev VRF (%s)", why);
	else
		log_info("vrf: backend %s%s", env->backend->name,
		    want == VRF_AUTO ? "" : " (configured)");
	return (0);
}

struct vrf *
vrf_open(const struct vrf_env *env, const char *tag, char *err, size_t errlen)
{
	struct vrf	*v;

	v = xcalloc(1, sizeof *v);
	v->tag = xstrdup(tag);
	v->nsfd = -1;
	if (env->backend->open(env, v, err, errlen) == -1 ||
	    env->backend->build(env, v, err, errlen) == -1) {
		vrf_close(v);
		return (NULL);
	}
	return (v);
}

int
vrf_build(const struct vrf_env *env, struct vrf *v, char *err, size_t errlen)
{
	return (env->backend->build(env, v, err, errlen));
}

int
vrf_attach(const struct vrf_env *env, struct vrf *v, const char *bridge,
    char *err, size_t errlen)
{
	return (env->backend->attach(env, v, bridge, err, errlen));
}

int
vrf_route(const struct vrf_env *env, struct vrf *v, const struct prefix *pool,
    int bridge, int add, char *err, size_t errlen)
{
	return (env->backend->route(env, v, pool, bridge, add, err, errlen));
}

void
vrf_close(struct vrf *v)
{
	if (v == NULL)
		return;
	watch_close(v->watch);
	/* The routing namespace's socket and fd belong to the caller. */
	if (v->ns[0] != '\0') {
		link_sock_close(v->sk);
		if (v->nsfd != -1)
			close(v->nsfd);
	}
	free(v->tag);
	free(v);
}

void
vrf_destroy(const struct vrf_env *env, struct vrf *v)
{
	log_info("vrf: %s of tag %s removed", v->ns[0] != '\0' ? v->ns :
	    v->link, v->tag);
	env->backend->destroy(env, v);
	vrf_close(v);
}

uint32_t
vrf_tag_hash(const char *tag)
{
	const unsigned char	*c;
	uint32_t		 h = 2166136261u;	/* FNV-1a */

	for (c = (const unsigned char *)tag; *c != '\0'; c++)
		h = (h ^ *c) * 16777619u;
	return (h);
}

void
vrf_link_name(const struct vrf_env *env, char kind, const char *tag,
    char *buf, size_t len)
{
	snprintf(buf, len, "%s%c%08x", env->link_prefix, kind,
	    (unsigned int)vrf_tag_hash(tag));
}

void
vrf_ns_prefix(const struct vrf_env *env, char *buf, size_t len)
{
	snprintf(buf, len, "%s-vrf-", env->netns);
}
