/* keys.h: every secret netcraved holds is a named key wrapped by one master key. */
#ifndef NETCRAVE_KEYS_H
#define NETCRAVE_KEYS_H

#include <stddef.h>

#define KEYS_KEY_BYTES	32	/* AES-256 */

/*
 * Open the key directory (created 0700 if absent).  The master key file is
 * created (0600) on first start, i.e. when neither it nor any wrapped key exists.
 * A master key that is missing while wrapped keys exist, or whose file is damaged,
 * is an error: returns -1 with a message in err.
 */
int	keys_open(const char *dir, char *err, size_t errlen);
void	keys_close(void);

/*
 * Fetch the named key (e.g. "journal", later "volume:<name>", "dnssec:<zone>",
 * "ca", "acme-account") into out.  create: make it if it does not exist yet.
 * A wrapped key that fails authentication is an error naming the file.
 */
int	keys_get(const char *name, unsigned char out[KEYS_KEY_BYTES], int create,
	    char *err, size_t errlen);
/* Whether the named key exists (without unwrapping it). */
int	keys_exists(const char *name);

#endif
