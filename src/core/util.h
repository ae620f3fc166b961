/* util.h: small file-system helpers shared by the daemon's modules. */
#ifndef NETCRAVE_UTIL_H
#define NETCRAVE_UTIL_H

#include <sys/types.h>
#include <stddef.h>

/* mkdir -p path with mode for each directory made; existing ones are kept. */
int	util_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);
/* mkdir -p of the directory holding path. */
int	util_mkdir_parent(const char *path, mode_t mode, char *err, size_t errlen);

#endif
