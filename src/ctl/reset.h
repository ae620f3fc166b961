/* reset.h: `netcravectl reset`: remove what netcrave made on this host. */
#ifndef NETCRAVE_RESET_H
#define NETCRAVE_RESET_H

#include <sys/types.h>

struct conf;

/*
 * Stop the netcraved of pid daemon (-1: none answered) and whatever else of
 * netcrave's still runs, then remove its links, nft table, namespaces, mounts
 * and directories.  Without yes, asks on a terminal and refuses elsewhere.
 * Returns the exit code: 0 when everything is gone.
 */
int	reset_run(const struct conf *, pid_t daemon, int yes);

#endif
