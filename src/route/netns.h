/* netns.h: named network namespaces (/run/netns/<name>, as ip-netns(8) makes them):
 * netcrave's routing namespace and dockerd's; enter one for a short synchronous
 * step on the loop and come back. */
#ifndef NETCRAVE_NETNS_H
#define NETCRAVE_NETNS_H

#include <stddef.h>

/* Remember the namespace netcraved runs in (call once, before any netns_enter). */
int	netns_init(char *err, size_t errlen);
/* fd of netcraved's own namespace (from netns_init). */
int	netns_self(void);
/*
 * Open /run/netns/<name> (or name itself when it is a path); with create, make
 * a named one first when missing.  NULL name:
 * netcraved's own namespace (a dup of netns_self).  Returns an fd or -1 (err).
 */
int	netns_open(const char *name, int create, char *err, size_t errlen);
/* Remove a named namespace (unmount and unlink); missing is not an error. */
int	netns_delete(const char *name);
/* Switch to the namespace of fd / back to netcraved's own. */
int	netns_enter(int fd);
void	netns_leave(void);
/* Whether two namespace fds are the same namespace (same nsfs inode). */
int	netns_same(int fd1, int fd2);
/* A socket opened inside the named namespace (NULL: netcraved's), or -1. */
int	netns_socket(const char *name, int domain, int type, int protocol);

#endif
