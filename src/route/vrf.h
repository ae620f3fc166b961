/* vrf.h: each tag's networks live in a VRF of their own, behind one interface
 * with two backends: Linux l3mdev (a "vrf" device and a routing table per tag,
 * the tag's bridges its slaves, all in the routing namespace) and netns (a
 * namespace per tag holding its bridges, joined to the routing namespace by a
 * veth pair).  Either way, traffic between VRFs crosses the routing namespace,
 * where the nftables tag policy decides. */
#ifndef NETCRAVE_VRF_H
#define NETCRAVE_VRF_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

struct nl_sock;
struct watch;

enum vrf_kind {
	VRF_AUTO,	/* l3mdev where the kernel has it, else netns */
	VRF_L3MDEV,
	VRF_NETNS,
};

/* What every VRF shares: the routing namespace and netcrave's names. */
struct vrf_env {
	const char		*instance;
	const char		*link_prefix;
	const char		*netns;		/* the routing namespace's name */
	int			 rns;		/* its fd */
	struct nl_sock		*rsk;		/* rtnetlink there */
	const struct vrf_backend *backend;	/* chosen by vrf_choose */
};

/* One tag's VRF. */
struct vrf {
	char			*tag;
	char			 ns[128];	/* its namespace's name ("": the
						   routing namespace) */
	char			 link[16];	/* its end in the routing namespace */
	char			 peer[16];	/* netns: its end in its namespace */
	unsigned int		 table;		/* l3mdev: its routing table */
	int			 nsfd;		/* where its bridges live */
	struct nl_sock		*sk;		/* rtnetlink there */
	struct watch		*watch;		/* the caller's watcher there */
	TAILQ_ENTRY(vrf)	 entry;
};

/* A backend: one file each (vrf_l3mdev.c, vrf_netns.c). */
struct vrf_backend {
	const char	*name;
	/* Whether the kernel allows it (err: why not). */
	int	(*probe)(const struct vrf_env *, char *, size_t);
	/* Open (making it when missing) the VRF of v->tag; fill the rest of v. */
	int	(*open)(const struct vrf_env *, struct vrf *, char *, size_t);
	/* Make its links, addresses and routes (idempotent: reconcile, repair). */
	int	(*build)(const struct vrf_env *, struct vrf *, char *, size_t);
	/* A bridge of the VRF (its name) joins it. */
	int	(*attach)(const struct vrf_env *, struct vrf *, const char *,
		    char *, size_t);
	/* The route from the routing namespace to a pool on bridge ifindex. */
	int	(*route)(const struct vrf_env *, struct vrf *,
		    const struct prefix *, int, int, char *, size_t);
	/* Remove it from the kernel (its last network went). */
	void	(*destroy)(const struct vrf_env *, struct vrf *);
	/* Whether forwarding between its networks happens in its own namespace
	   (so the policy there covers them, with its link as the transit). */
	int	  own_namespace;
};

extern const struct vrf_backend vrf_l3mdev_backend;
extern const struct vrf_backend vrf_netns_backend;

/*
 * Pick the backend (want VRF_AUTO: l3mdev when the kernel allows it) into
 * env->backend and log the choice; -1 when the one asked for is refused.
 */
int		 vrf_choose(struct vrf_env *, enum vrf_kind want, char *err,
		    size_t errlen);
/* Open the VRF of tag (making it when missing) and build it; NULL: err. */
struct vrf	*vrf_open(const struct vrf_env *, const char *tag, char *err,
		    size_t errlen);
int		 vrf_build(const struct vrf_env *, struct vrf *, char *err,
		    size_t errlen);
int		 vrf_attach(const struct vrf_env *, struct vrf *,
		    const char *bridge, char *err, size_t errlen);
/* Add (add 1) or remove the routing namespace's route to a pool. */
int		 vrf_route(const struct vrf_env *, struct vrf *,
		    const struct prefix *pool, int bridge, int add, char *err,
		    size_t errlen);
/* Close fds and free (the kernel keeps it: a restart finds it again). */
void		 vrf_close(struct vrf *);
/* Remove it from the kernel, then vrf_close. */
void		 vrf_destroy(const struct vrf_env *, struct vrf *);
/* A hash of a tag (FNV-1a): link names and l3mdev tables. */
uint32_t	 vrf_tag_hash(const char *tag);
/* A name from the tag: "<prefix><kind><8 hex digits>", an interface name. */
void		 vrf_link_name(const struct vrf_env *, char kind, const char *tag,
		    char *buf, size_t len);
/* "<routing namespace>-vrf-": the namespaces of the netns backend. */
void		 vrf_ns_prefix(const struct vrf_env *, char *buf, size_t len);

#endif
