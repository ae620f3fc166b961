/* vfs.h: one FUSE mount of a volume, served on the event loop over WebDAV. */
#ifndef NETCRAVE_VFS_H
#define NETCRAVE_VFS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct event_base;
struct vfs;

struct vfs_params {
	const char	*volume;	/* collection name on the dav server */
	const char	*mountpoint;
	const char	*dav_socket;	/* the dav server's unix socket, or */
	const char	*dav_host;	/* host and port of its mutual TLS */
	const char	*dav_port;	/* listener, with ... */
	SSL_CTX		*dav_ssl;	/* ... a client certificate */
	size_t		 writeback_bytes; /* dirty bytes kept per file */
	int		 read_only;
};

/* Mount (allow_other) after detaching a stale mount left on the path. */
struct vfs	*vfs_mount(struct event_base *, const struct vfs_params *,
		    char *err, size_t errlen);
void		 vfs_unmount(struct vfs *);
/* cb(arg) once no upload started by close(2) is in flight (at once if none);
 * never after vfs_unmount. */
void		 vfs_drain(struct vfs *, void (*cb)(void *), void *arg);
/* Detach (lazily) whatever a dead run left mounted there; call before mounting. */
void		 vfs_stale_cleanup(const char *mountpoint);

#endif
