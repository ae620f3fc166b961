/* squid.h: squid.conf written by netcraved and squid supervised as a child. */
#ifndef NETCRAVE_SQUID_H
#define NETCRAVE_SQUID_H

#include <stddef.h>

#include "server.h"

struct conf;

/* Write squid.conf for conf to path (atomically); -1 with err. */
int	squid_write_conf(const struct conf *, const char *path, char *err,
	    size_t errlen);

extern const struct server squid_server_entry;

#endif
