/* privs.h: least privilege: the capabilities netcraved keeps after start. */
#ifndef NETCRAVE_PRIVS_H
#define NETCRAVE_PRIVS_H

#include <stddef.h>
#include <stdint.h>

/* Bit mask of the capabilities netcraved keeps (bit n: capability n). */
uint64_t	privs_keep_mask(void);
/*
 * Shrink the effective and permitted sets to privs_keep_mask(), empty the
 * inheritable set, and with no_new_privs set PR_SET_NO_NEW_PRIVS (only when no
 * child needs to gain capabilities at exec).  -1 with err on failure.
 */
int		privs_drop(int no_new_privs, char *err, size_t errlen);

#endif
