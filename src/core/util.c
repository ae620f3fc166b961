/* util.c: small file-system helpers shared by the daemon's modules. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
