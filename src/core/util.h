/* util.h: small file-system and byte-order helpers shared by the modules. */
#ifndef NETCRAVE_UTIL_H
#define NETCRAVE_UTIL_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/* mkdir -p path with mode for each directory made; existing ones are kept. */
int	util_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);
/* mkdir -p of the directory holding path. */
int	util_mkdir_parent(const char *path, mode_t mode, char *err, size_t errlen);

/*
 * fsync a directory so a rename or a new file inside it is durable.  On failure
 * err says which step failed and errno is still the cause, so a caller that
 * words its own message may pass err NULL with errlen 0.
 */
int	util_fsync_dir(const char *dir, char *err, size_t errlen);
/*
 * Write all of buf at offset off, retrying after signals.  -1 with errno set
 * on failure (EIO when the file takes no more bytes).
 */
int	util_write_at(int fd, const void *buf, size_t len, off_t off);
/*
 * Replace path atomically with buf: dir/.name.tmp created with mode (whatever
 * the umask), written, fsynced, renamed over path, then dir fsynced.  A crash
 * leaves the old file or the new, never half; a failure removes the temporary.
 */
int	util_write_atomic(const char *path, const void *buf, size_t len,
	    mode_t mode, char *err, size_t errlen);

/* Big-endian integers, as every on-disk format here stores them. */
void		util_put_be16(unsigned char *, uint16_t);
void		util_put_be32(unsigned char *, uint32_t);
void		util_put_be64(unsigned char *, uint64_t);
uint16_t	util_get_be16(const unsigned char *);
uint32_t	util_get_be32(const unsigned char *);
uint64_t	util_get_be64(const unsigned char *);

/* NULL-terminated string lists (argv, env, tags): copy (NULL gives an empty
 * list), free (NULL is fine), compare (NULL equals empty). */
char	**util_strv_copy(char *const *);
void	  util_strv_free(char **);
int	  util_strv_equal(char *const *, char *const *);
/* Whether a NULL-terminated list (NULL: empty) holds s. */
int	  util_strv_has(char *const *, const char *s);

/* FNV-1a over len bytes, chained from h (start with UTIL_FNV_INIT). */
#define UTIL_FNV_INIT	2166136261U
uint32_t  util_fnv1a(uint32_t h, const void *, size_t len);
/* Seconds of the monotonic clock (ages of things, immune to clock steps). */
long long util_monotonic_sec(void);
/* The same in milliseconds. */
long long util_monotonic_ms(void);

/* Split HOST:PORT or [V6]:PORT (host without brackets); -1 when it is
 * neither (no colon, empty host or port, a bracket out of place, or an IPv6
 * address without its brackets).  Both are the caller's to free. */
int	  util_hostport(const char *, char **host, char **port);
/* A port from 1 to 65535 in plain decimal (no sign, space or leading zero)
 * into *port; -1 otherwise. */
int	  util_port(const char *, uint16_t *port);
/* Decode /proc/self/mountinfo's octal escapes (\040 a space) in place. */
void	  util_mountinfo_unescape(char *);

#endif
