/* dockerd.h: following dockerd from the side: which containers run, their names,
 * labels, endpoints and addresses, kept up to date from dockerd's event stream on
 * the loop; and tag assignment, which connects a container labelled
 * io.netcrave.tags to the netcrave network of each tag. */
#ifndef NETCRAVE_DOCKERD_H
#define NETCRAVE_DOCKERD_H

#include <stddef.h>

#include <yajl/yajl_gen.h>

#include "server.h"

/* The label that asks for tag assignment: "io.netcrave.tags=a,b". */
#define DOCKERD_TAGS_LABEL	"io.netcrave.tags"

/* The follower's API, agreed between capabilities: extend, don't change. */
struct dockerd_endpoint {
	char	 *network_id;
	char	 *network_name;
	char	 *endpoint_id;
	char	 *ipv4;		/* "198.18.0.5" (no prefix length) or NULL */
	char	 *ipv6;		/* or NULL */
	char	**aliases;	/* NULL-terminated, may be empty */
};
struct dockerd_container {
	char			 *id;		/* full 64-hex id */
	char			 *name;		/* without the leading '/' */
	char			**labels;	/* NULL-terminated "key=value" */
	struct dockerd_endpoint	 *endpoints;
	size_t			  nendpoints;
	int			  running;
};
enum dockerd_change { DOCKERD_CONTAINER_UP, DOCKERD_CONTAINER_DOWN };
typedef void (*dockerd_watch_fn)(enum dockerd_change, const struct dockerd_container *,
    void *arg);
/* Subscribe: UP for every container already known at once, then UP again whenever
 * a container starts or its networks/addresses change (full new state), DOWN when it
 * stops, dies or is removed.  Callbacks run on the loop, never inside a plugin call. */
void dockerd_watch(dockerd_watch_fn, void *arg);
/* Whether the follower is in step with dockerd (its list is complete). */
int dockerd_following(void);
const struct dockerd_container *dockerd_container_by_endpoint(const char *endpoint_id);
const struct dockerd_container *dockerd_container_by_id(const char *id);
const char *dockerd_label(const struct dockerd_container *, const char *key);
void dockerd_foreach(void (*)(const struct dockerd_container *, void *), void *);

/* Additions. */

/* Stop a subscription (same fn and arg); a capability shutting down calls it. */
void	dockerd_unwatch(dockerd_watch_fn, void *arg);
/* The server table entry. */
extern const struct server dockerd_server;
/* The follower's state and every container with its tags and problems, as the
 * JSON object GET /containers on the control socket answers. */
void	dockerd_gen_containers(yajl_gen);

#endif
