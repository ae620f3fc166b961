/* volume.h: the VolumeDriver handlers of the plugin API and the volume server. */
#ifndef NETCRAVE_VOLUME_H
#define NETCRAVE_VOLUME_H

#include <yajl/yajl_gen.h>

struct http_request;

extern const struct server volume_server;

void	volume_create(struct http_request *, void *);
void	volume_remove(struct http_request *, void *);
void	volume_mount(struct http_request *, void *);
void	volume_unmount(struct http_request *, void *);
void	volume_path(struct http_request *, void *);
void	volume_get(struct http_request *, void *);
void	volume_list(struct http_request *, void *);
/* Every volume with its status as a JSON array (caller frees). */
char	*volume_status_json(void);
/* The certificate volumes as GET /certs entries, into the array open in g. */
void	 volume_certs_json(yajl_gen g);
/* Control socket: GET /volumes. */
void	volume_control_volumes(struct http_request *, void *);

#endif
