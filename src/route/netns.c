/* netns.c: named network namespaces.  netcraved is single-threaded, so switching
 * its namespace with setns(2) for one synchronous step (open a socket, add a link)
 * and switching straight back is safe: nothing else runs in between. */
#include "config.h"

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "util.h"

#define NETNS_RUN_DIR	"/run/netns"

static int	netns_self_fd = -1;

/* Keep an fd to the namespace netcraved started in: the way back. */
int
netns_init(char *err, size_t errlen)
{
	if (netns_self_fd != -1)
		return (0);
	netns_self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns_self_fd == -1) {
		snprintf(err, errlen, "/proc/self/ns/net: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

int
netns_self(void)
{
	return (netns_self_fd);
}

int
netns_enter(int fd)
{
	if (setns(fd, CLONE_NEWNET) == -1) {
		log_warn("netns: setns");
		return (-1);
	}
	return (0);
}

/* Back to netcraved's own namespace; failing that, nothing is safe any more. */
void
netns_leave(void)
{
	if (setns(netns_self_fd, CLONE_NEWNET) == -1)
		fatal("netns: cannot return to netcraved's namespace");
}

/*
 * Make /run/netns a shared mount point, as ip-netns does, so namespaces bound
 * under it are seen from every mount namespace that shares it.
 */
static void
netns_share_dir(void)
{
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
		return;
	if (errno != EINVAL)
		return;
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC,
	    NULL) == 0)
		(void)mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL);
}

/* Create /run/netns/<name>: a new namespace bound onto a file. */
static int
netns_create(const char *path, char *err, size_t errlen)
{
	int	fd;

	if (util_mkdir_p(NETNS_RUN_DIR, 0755, err, errlen) == -1)
		return (-1);
	netns_share_dir();
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	close(fd);
	if (unshare(CLONE_NEWNET) == -1) {
		snprintf(err, errlen, "unshare: %s", strerror(errno));
		unlink(path);
		return (-1);
	}
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) == -1) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		netns_leave();
		unlink(path);
		return (-1);
	}
	netns_leave();
	log_info("netns: created %s", path);
	return (0);
}

int
netns_open(const char *name, int create, char *err, size_t errlen)
{
	char	path[PATH_MAX];
	int	fd;

	if (name == NULL) {
		if ((fd = fcntl(netns_self_fd, F_DUPFD_CLOEXEC, 0)) == -1)
			snprintf(err, errlen, "dup: %s", strerror(errno));
		return (fd);
	}
	if (name[0] == '/')	/* a path, e.g. /proc/<pid>/ns/net */
		snprintf(path, sizeof path, "%s", name);
	else
		snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create && name[0] != '/') {
		if (netns_create(path, err, errlen) == -1)
			return (-1);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd == -1)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (fd);
}

int
netns_delete(const char *name)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", NETNS_RUN_DIR, name);
	(void)umount2(path, MNT_DETACH);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("netns: unlink %s", path);
		return (-1);
	}
	return (0);
}

int
netns_socket(const char *name, int domain, int type, int protocol)
{
	char	err[256];
	int	fd, nsfd, s;

	if (name == NULL)
		return (socket(domain, type, protocol));
	if ((nsfd = netns_open(name, 0, err, sizeof err)) == -1) {
		log_warnx("netns: %s", err);
		return (-1);
	}
	if (netns_enter(nsfd) == -1) {
		close(nsfd);
		return (-1);
	}
	s = socket(domain, type, protocol);
	fd = errno;
	netns_leave();
	close(nsfd);
	errno = fd;
	return (s);
}

int
netns_same(int fd1, int fd2)
{
	struct stat	a, b;

	if (fd1 == -1 || fd2 == -1 || fstat(fd1, &a) == -1 ||
	    fstat(fd2, &b) == -1)
		return (0);
	return (a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}
