/* runtime.h: dockerd and containerd run by netcraved itself, with the configs
 * it writes, as supervised children (runtime.mode "supervised"). */
#ifndef NETCRAVE_RUNTIME_H
#define NETCRAVE_RUNTIME_H

#include <stddef.h>

struct conf;
struct server;

extern const struct server runtime_server;

/* Where the dockerd that netcraved runs (or would run) listens; caller frees. */
char	*runtime_dockerd_socket(const struct conf *);
/* Same for containerd's gRPC socket. */
char	*runtime_containerd_socket(const struct conf *);

/*
 * The generated configurations, as text (for tests and `netcraved -nv`);
 * caller frees.  They name only paths under runtime.root and runtime.exec_root.
 */
char	*runtime_dockerd_json(const struct conf *);
char	*runtime_containerd_toml(const struct conf *);

#endif
