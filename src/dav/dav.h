/* dav.h: the WebDAV server entry and its store, for the volume driver. */
#ifndef NETCRAVE_DAV_H
#define NETCRAVE_DAV_H

struct dav_store;

extern const struct server dav_server;

/* The running server's store (NULL when dav is off or not started). */
struct dav_store	*dav_server_store(void);

#endif
