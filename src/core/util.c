/* util.c: small file-system and byte-order helpers shared by the modules. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "xmalloc.h"

/* mkdir -p path with mode for each directory made; existing ones are kept. */
int
util_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct stat	 st;
	char		*dir, *p;

	dir = xstrdup(path);
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		int last = (*p == '\0');
		*p = '\0';
		if (mkdir(dir, mode) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
			free(dir);
			return (-1);
		}
		if (last)
			break;
		*p = '/';
	}
	if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		free(dir);
		return (-1);
	}
	free(dir);
	return (0);
}

/* mkdir -p of the directory holding path. */
int
util_mkdir_parent(const char *path, mode_t mode, char *err, size_t errlen)
{
	char	*dir, *p;
	int	 rv = 0;

	dir = xstrdup(path);
	if ((p = strrchr(dir, '/')) != NULL && p != dir) {
		*p = '\0';
		rv = util_mkdir_p(dir, mode, err, errlen);
	}
	free(dir);
	return (rv);
}

/* fsync a directory; errno survives the message for callers that word their own. */
int
util_fsync_dir(const char *dir, char *err, size_t errlen)
{
	int	fd, save;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		save = errno;
		snprintf(err, errlen, "open %s: %s", dir, strerror(save));
		errno = save;
		return (-1);
	}
	if (fsync(fd) == -1) {
		save = errno;
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(save));
		close(fd);
		errno = save;
		return (-1);
	}
	close(fd);
	return (0);
}

/*
 * Write all of buf at offset off.  Returns 0, -1 with errno set, or 1 when a
 * write took no bytes (no errno then: callers word that case themselves).
 */
static int
util_write_all(int fd, const unsigned char *buf, size_t len, off_t off)
{
	size_t	done;
	ssize_t	n;

	for (done = 0; done < len; done += n) {
		n = pwrite(fd, buf + done, len - done, off + (off_t)done);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n == -1)
			return (-1);
		if (n == 0)
			return (1);
	}
	return (0);
}

/* Write all of buf at offset off; EIO when the file takes no more bytes. */
int
util_write_at(int fd, const void *buf, size_t len, off_t off)
{
	switch (util_write_all(fd, buf, len, off)) {
	case 0:
		return (0);
	case 1:
		errno = EIO;
		break;
	}
	return (-1);
}

/*
 * Replace path atomically: a temporary file beside it, fsync, rename, fsync of
 * the directory.  A crash leaves the old file or the new, never half.
 */
int
util_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	const char	*slash, *name;
	char		*tmp, *dir;
	int		 fd, rv;

	/* The temporary is dir/.name.tmp: hidden, and left for a sweep at start. */
	if ((slash = strrchr(path, '/')) == NULL) {
		name = path;
		dir = xstrdup(".");
	} else {
		name = slash + 1;
		dir = slash == path ? xstrdup("/") : xstrndup(path, slash - path);
	}
	xasprintf(&tmp, "%.*s.%s.tmp", (int)(name - path), path, name);

	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1) {
		snprintf(err, errlen, "open %s: %s", tmp, strerror(errno));
		goto fail;
	}
	/* The umask could have left it more open or less; mode is what we want. */
	if (fchmod(fd, mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((rv = util_write_all(fd, buf, len, 0)) != 0) {
		snprintf(err, errlen, "write %s: %s", tmp,
		    rv == 1 ? "short write" : strerror(errno));
		goto fail;
	}
	if (fsync(fd) == -1) {
		snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		snprintf(err, errlen, "close %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
		goto fail;
	}
	rv = util_fsync_dir(dir, err, errlen);
	free(tmp);
	free(dir);
	return (rv);

fail:
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	free(dir);
	return (-1);
}

/* Store 16 bits big endian. */
void
util_put_be16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* Store 32 bits big endian. */
void
util_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Store 64 bits big endian. */
void
util_put_be64(unsigned char *p, uint64_t v)
{
	util_put_be32(p, v >> 32);
	util_put_be32(p + 4, (uint32_t)v);
}

/* Read 16 bits big endian. */
uint16_t
util_get_be16(const unsigned char *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

/* Read 32 bits big endian. */
uint32_t
util_get_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* Read 64 bits big endian. */
uint64_t
util_get_be64(const unsigned char *p)
{
	return ((uint64_t)util_get_be32(p) << 32 | util_get_be32(p + 4));
}

/* Copy a NULL-terminated string list (NULL gives an empty one). */
char **
util_strv_copy(char *const *v)
{
	char	**copy;
	size_t	  n = 0, i;

	while (v != NULL && v[n] != NULL)
		n++;
	copy = xcalloc(n + 1, sizeof *copy);
	for (i = 0; i < n; i++)
		copy[i] = xstrdup(v[i]);
	return (copy);
}

/* Free a list made by util_strv_copy. */
void
util_strv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Whether two lists hold the same strings in the same order. */
int
util_strv_equal(char *const *a, char *const *b)
{
	for (; a != NULL && b != NULL && *a != NULL && *b != NULL; a++, b++)
		if (strcmp(*a, *b) != 0)
			return (0);
	return ((a == NULL || *a == NULL) && (b == NULL || *b == NULL));
}

int
util_strv_has(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return (1);
	return (0);
}

/* FNV-1a: a fast, well-spread hash for in-memory tables (not for untrusted
 * keys that could be chosen to collide: none of its callers has those). */
uint32_t
util_fnv1a(uint32_t h, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619U;
	return (h);
}

long long
util_monotonic_sec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec);
}

long long
util_monotonic_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* HOST:PORT or [V6]:PORT split (see util.h). */
int
util_hostport(const char *s, char **host, char **port)
{
	const char	*colon;
	size_t		 n;
	int		 bracketed = 0;

	if ((colon = strrchr(s, ':')) == NULL || colon[1] == '\0')
		return (-1);
	n = colon - s;
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		bracketed = 1;
	}
	if (n == 0 || memchr(s, '[', n) != NULL || memchr(s, ']', n) != NULL)
		return (-1);
	/* "::1:53" is ambiguous (an address, or ::1 and a port): brackets. */
	if (!bracketed && memchr(s, ':', n) != NULL)
		return (-1);
	*host = xstrndup(s, n);
	*port = xstrdup(colon + 1);
	return (0);
}

/* A port number (see util.h). */
int
util_port(const char *s, uint16_t *port)
{
	size_t		 len = strlen(s);
	unsigned long	 n;

	if (len == 0 || len > 5 || strspn(s, "0123456789") != len ||
	    s[0] == '0')
		return (-1);
	n = strtoul(s, NULL, 10);
	if (n > 65535)
		return (-1);
	*port = (uint16_t)n;
	return (0);
}

void
util_mountinfo_unescape(char *s)
{
	char	*w = s;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 4;
		} else
			*w++ = *s++;
	}
	*w = '\0';
}
