/* reset.c: `netcravectl reset`: undo what netcrave made on this host -- the
 * safe version of the original project's `rm -rf /srv/netcrave; ip netns delete
 * _netcrave`.  Only what carries netcrave's configured names is touched: the
 * daemon and the processes naming its paths, links by alias, its nft table, its
 * namespaces, mounts under its directories, and those directories. */
#include "config.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "nft.h"
#include "reset.h"
#include "util.h"
#include "xmalloc.h"

/* netcraved stops dockerd (30 s for its containers) and containerd (10 s). */
#define RESET_DAEMON_WAIT_MS	60000
/* Leftover processes get SIGTERM, then SIGKILL after this. */
#define RESET_PROCESS_WAIT_MS	5000
#define RESET_MAX_PIDS		4096
#define RESET_MAX_MOUNTS	4096

struct reset {
	const struct conf	*conf;
	const char		*dirs[8];	/* what netcrave's paths are */
	size_t			 ndirs;
	int			 failed;
};

/*
 * State letter and parent of pid from /proc/<pid>/stat; state 0 when the
 * process does not exist.  (The command name may hold spaces and parentheses:
 * the fields start after the last ')'.)
 */
static char
reset_stat(pid_t pid, pid_t *ppid)
{
	char	path[64], buf[512], *p, state = 0;
	FILE	*f;
	long	parent = 0;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 1, " %c %ld", &state, &parent) < 1)
		state = 0;
	fclose(f);
	if (ppid != NULL)
		*ppid = (pid_t)parent;
	return (state);
}

/* A process is gone when it no longer exists or is a zombie nobody reaps yet. */
static int
reset_pid_alive(pid_t pid)
{
	char	state = reset_stat(pid, NULL);

	return (state != 0 && state != 'Z' && state != 'X');
}

/* Whether s names path or something under it ("/run/x" matches "/run/x/y",
 * not "/run/xy"). */
static int
reset_names_path(const char *s, const char *path)
{
	size_t		 len = strlen(path);
	const char	*p;

	for (p = s; (p = strstr(p, path)) != NULL; p++) {
		if (p[len] == '\0' || p[len] == '/')
			return (1);
	}
	return (0);
}

/* Whether path is one of netcrave's directories or under one. */
static int
reset_under(const struct reset *r, const char *path)
{
	size_t	i, len;

	for (i = 0; i < r->ndirs; i++) {
		len = strlen(r->dirs[i]);
		if (strncmp(path, r->dirs[i], len) == 0 &&
		    (path[len] == '\0' || path[len] == '/'))
			return (1);
	}
	return (0);
}

/* Whether the namespace file ns is the same namespace as /proc/pid/ns/net. */
static int
reset_in_netns(pid_t pid, const struct stat *ns)
{
	struct stat	st;
	char		path[64];

	snprintf(path, sizeof path, "/proc/%ld/ns/net", (long)pid);
	return (stat(path, &st) == 0 && st.st_dev == ns->st_dev &&
	    st.st_ino == ns->st_ino);
}

/*
 * Whether pid is one of netcrave's by itself: its command line names one of
 * netcrave's directories (dockerd, containerd and shims started with our
 * configs), or it lives in one of netcrave's namespaces.  (Containers are
 * found as the shims' descendants: pivot_root hides where their root is.)
 */
static int
reset_pid_ours(const struct reset *r, pid_t pid, const struct stat *ns,
    size_t nns)
{
	char	 path[64], buf[8192];
	ssize_t	 n;
	size_t	 i, off;
	FILE	*f;

	for (i = 0; i < nns; i++)
		if (reset_in_netns(pid, &ns[i]))
			return (1);
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	if (n <= 0)
		return (0);
	buf[n] = '\0';
	for (off = 0; off < (size_t)n; off += strlen(buf + off) + 1) {
		for (i = 0; i < r->ndirs; i++)
			if (reset_names_path(buf + off, r->dirs[i]))
				return (1);
	}
	return (0);
}

/* A process of the table reset_find_pids builds. */
struct reset_proc {
	pid_t	pid;
	pid_t	ppid;
	int	ours;		/* 1: netcrave's; -1: us or an ancestor of ours */
};

/*
 * Collect netcrave's processes and all their descendants (taken before any
 * is killed, while a container's parent is still its shim), never ourselves
 * or our ancestors.
 */
static size_t
reset_find_pids(const struct reset *r, pid_t *pids, size_t max)
{
	const struct conf	*c = r->conf;
	const char		*names[2] = { c->netns, c->runtime_netns };
	struct reset_proc	*procs = NULL;
	struct stat		 ns[2];
	struct dirent		*d;
	char			 path[PATH_MAX];
	size_t			 n = 0, nprocs = 0, nns = 0, i, j;
	pid_t			 pid, ppid, a;
	DIR			*dir;
	int			 changed;

	for (i = 0; i < 2; i++) {
		if (names[i] == NULL)
			continue;
		if (names[i][0] == '/')
			snprintf(path, sizeof path, "%s", names[i]);
		else
			snprintf(path, sizeof path, "/run/netns/%s", names[i]);
		if (stat(path, &ns[nns]) == 0)
			nns++;
	}
	if ((dir = opendir("/proc")) == NULL)
		return (0);
	while ((d = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = (pid_t)strtol(d->d_name, NULL, 10);
		a = reset_stat(pid, &ppid);
		if (pid <= 1 || a == 0 || a == 'Z' || a == 'X')
			continue;
		procs = xreallocarray(procs, nprocs + 1, sizeof *procs);
		procs[nprocs].pid = pid;
		procs[nprocs].ppid = ppid;
		procs[nprocs].ours = reset_pid_ours(r, pid, ns, nns);
		nprocs++;
	}
	closedir(dir);
	/* Walk up from ourselves: a is each ancestor in turn. */
	for (a = getpid(); a > 1; a = ppid) {
		for (i = 0; i < nprocs; i++)
			if (procs[i].pid == a)
				procs[i].ours = -1;
		if (reset_stat(a, &ppid) == 0)
			break;
	}
	do {
		changed = 0;
		for (i = 0; i < nprocs; i++) {
			if (procs[i].ours != 0)
				continue;
			for (j = 0; j < nprocs; j++)
				if (procs[j].ours == 1 &&
				    procs[j].pid == procs[i].ppid) {
					procs[i].ours = changed = 1;
					break;
				}
		}
	} while (changed);
	for (i = 0; i < nprocs && n < max; i++)
		if (procs[i].ours == 1)
			pids[n++] = procs[i].pid;
	free(procs);
	return (n);
}

/* Wait until none of pids is alive, or about timeout_ms; returns how many are. */
static size_t
reset_wait_pids(const pid_t *pids, size_t n, int timeout_ms)
{
	size_t	i, alive;
	int	waited;

	for (waited = 0;; waited += 100) {
		for (i = alive = 0; i < n; i++)
			alive += reset_pid_alive(pids[i]);
		if (alive == 0 || waited >= timeout_ms)
			return (alive);
		usleep(100 * 1000);
	}
}

/*
 * Stop a running netcraved (pid from its control socket, or -1): SIGTERM
 * makes it stop its children in order, dockerd first while the plugin
 * socket still answers, so containers release their endpoints.
 */
static void
reset_stop_daemon(struct reset *r, pid_t pid)
{
	if (pid <= 1 || !reset_pid_alive(pid)) {
		printf("no netcraved answers: resetting alone\n");
		return;
	}
	printf("stopping netcraved (pid %ld) and its children\n", (long)pid);
	if (kill(pid, SIGTERM) == -1) {
		fprintf(stderr, "netcravectl: reset: kill %ld: %s\n", (long)pid,
		    strerror(errno));
		r->failed = 1;
		return;
	}
	if (reset_wait_pids(&pid, 1, RESET_DAEMON_WAIT_MS) != 0) {
		fprintf(stderr, "netcravectl: reset: netcraved %ld did not stop "
		    "within %d s: killed\n", (long)pid, RESET_DAEMON_WAIT_MS / 1000);
		kill(pid, SIGKILL);
		(void)reset_wait_pids(&pid, 1, 5000);
	}
}

/* Whatever is left (a SIGKILLed netcraved's children, containers). */
static void
reset_stop_leftovers(struct reset *r)
{
	pid_t	pids[RESET_MAX_PIDS];
	size_t	n, i;

	if ((n = reset_find_pids(r, pids, RESET_MAX_PIDS)) == 0)
		return;
	printf("stopping %zu leftover process%s\n", n, n == 1 ? "" : "es");
	for (i = 0; i < n; i++)
		kill(pids[i], SIGTERM);
	if (reset_wait_pids(pids, n, RESET_PROCESS_WAIT_MS) == 0)
		return;
	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	if (reset_wait_pids(pids, n, RESET_PROCESS_WAIT_MS) != 0) {
		fprintf(stderr, "netcravectl: reset: processes survive SIGKILL\n");
		r->failed = 1;
	}
}

/* link_foreach_alias callback: collect the names (deleted after the walk). */
struct reset_links {
	char	names[256][16];
	size_t	n;
};

static void
reset_link_cb(const char *name, const char *alias, void *arg)
{
	struct reset_links	*l = arg;

	if (l->n < sizeof l->names / sizeof l->names[0])
		snprintf(l->names[l->n++], sizeof l->names[0], "%s", name);
}

/* Links whose alias is "netcrave:<instance>:..." in the namespace of nsfd. */
static void
reset_links_in(struct reset *r, int nsfd, const char *where)
{
	struct reset_links	 l;
	struct nl_sock		*sk;
	char			 prefix[128], err[256];
	size_t			 i;

	snprintf(prefix, sizeof prefix, "netcrave:%s:", r->conf->instance);
	if ((sk = link_sock_open(nsfd, err, sizeof err)) == NULL) {
		fprintf(stderr, "netcravectl: reset: links in %s: %s\n", where, err);
		r->failed = 1;
		return;
	}
	memset(&l, 0, sizeof l);
	(void)link_foreach_alias(sk, prefix, reset_link_cb, &l);
	for (i = 0; i < l.n; i++) {
		printf("deleting link %s in %s\n", l.names[i], where);
		if (link_delete(sk, l.names[i]) == -1)
			r->failed = 1;
	}
	link_sock_close(sk);
}

/* Links, nft table and namespaces. */
static void
reset_kernel(struct reset *r)
{
	const struct conf	*c = r->conf;
	char			 text[256], err[512], path[PATH_MAX];
	int			 fd;

	/* Host: the uplink's host end; dockerd's namespace: container ends. */
	reset_links_in(r, netns_self(), "this namespace");
	if (c->runtime_netns != NULL && strcmp(c->runtime_netns, c->netns) != 0 &&
	    (fd = netns_open(c->runtime_netns, 0, err, sizeof err)) != -1) {
		reset_links_in(r, fd, c->runtime_netns);
		close(fd);
	}
	/*
	 * The table lives in the routing namespace; one of its name elsewhere
	 * is netcrave's by configuration too.  Declared first: deleting a
	 * missing table is an error in nft.  A failure is only said: the
	 * routing namespace takes its table along, and a kernel without
	 * nf_tables has no table to leave.
	 */
	snprintf(text, sizeof text, "table inet %s\ndelete table inet %s\n",
	    c->nft_table, c->nft_table);
	snprintf(path, sizeof path, "/run/netns/%s", c->netns);
	if (access(path, F_OK) == 0 &&
	    (fd = netns_open(c->netns, 0, err, sizeof err)) != -1) {
		printf("deleting nft table inet %s in %s\n", c->nft_table,
		    c->netns);
		if (nft_apply(fd, text, err, sizeof err) == -1)
			fprintf(stderr, "netcravectl: reset: nft in %s: %s\n",
			    c->netns, err);
		close(fd);
	}
	if (nft_apply(netns_self(), text, err, sizeof err) == -1)
		fprintf(stderr, "netcravectl: reset: nft: %s\n", err);
	/* Deleting the routing namespace takes its bridges and veths along. */
	if (access(path, F_OK) == 0) {
		printf("deleting network namespace %s\n", c->netns);
		if (netns_delete(c->netns) == -1)
			r->failed = 1;
	}
	if (c->runtime_netns != NULL && c->runtime_netns[0] != '/' &&
	    strcmp(c->runtime_netns, c->netns) != 0) {
		snprintf(path, sizeof path, "/run/netns/%s", c->runtime_netns);
		if (access(path, F_OK) == 0) {
			printf("deleting network namespace %s\n", c->runtime_netns);
			if (netns_delete(c->runtime_netns) == -1)
				r->failed = 1;
		}
	}
}

static int
reset_cmp_depth(const void *a, const void *b)
{
	size_t	la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return (la < lb ? 1 : la > lb ? -1 : 0);
}

/* Unmount everything under netcrave's directories, deepest first. */
static void
reset_mounts(struct reset *r)
{
	char	 line[8192], mp[PATH_MAX], *mounts[RESET_MAX_MOUNTS];
	size_t	 n = 0, i;
	FILE	*f;

	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL && n < RESET_MAX_MOUNTS) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		util_mountinfo_unescape(mp);
		if (reset_under(r, mp))
			mounts[n++] = xstrdup(mp);
	}
	fclose(f);
	qsort(mounts, n, sizeof mounts[0], reset_cmp_depth);
	for (i = 0; i < n; i++) {
		printf("unmounting %s\n", mounts[i]);
		if (umount2(mounts[i], 0) == -1 && errno != EINVAL &&
		    umount2(mounts[i], MNT_DETACH) == -1 && errno != EINVAL) {
			fprintf(stderr, "netcravectl: reset: umount %s: %s\n",
			    mounts[i], strerror(errno));
			r->failed = 1;
		}
		free(mounts[i]);
	}
}

/* nftw callback: remove, without crossing into other file systems. */
static int
reset_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_DP ? rmdir(path) : unlink(path)) {
		if (errno != ENOENT)
			fprintf(stderr, "netcravectl: reset: remove %s: %s\n",
			    path, strerror(errno));
	}
	return (0);
}

/*
 * A directory netcrave may remove whole: absolute, two components at least
 * and none of the system's own, so a state_dir of "/var/lib" or "/" from a
 * mistaken configuration is refused instead of emptied.
 */
static int
reset_dir_ok(const char *dir)
{
	static const char *const system[] = { "/var/lib", "/var/run", "/usr/lib",
	    "/usr/local", "/home", "/etc", "/srv", "/opt", "/root", "/tmp",
	    "/run/user", "/var/cache", "/var/tmp", "/var/log", "/run/docker",
	    "/run/netns", "/run/containerd", "/var/lib/docker",
	    "/var/lib/containerd", NULL };
	size_t	i;

	if (dir[0] != '/' || strchr(dir + 1, '/') == NULL || strstr(dir, "/..") ||
	    dir[strlen(dir) - 1] == '/')
		return (0);
	for (i = 0; system[i] != NULL; i++)
		if (strcmp(dir, system[i]) == 0)
			return (0);
	return (1);
}

/* The plugin socket, then netcrave's directories. */
static void
reset_files(struct reset *r)
{
	const struct conf	*c = r->conf;
	struct stat		 st;
	size_t			 i;

	if (unlink(c->plugin_socket) == 0)
		printf("removed %s\n", c->plugin_socket);
	for (i = 0; i < r->ndirs; i++) {
		if (lstat(r->dirs[i], &st) == -1)
			continue;
		printf("removing %s\n", r->dirs[i]);
		(void)nftw(r->dirs[i], reset_rm_cb, 32,
		    FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		if (lstat(r->dirs[i], &st) == 0) {
			fprintf(stderr, "netcravectl: reset: %s is still there\n",
			    r->dirs[i]);
			r->failed = 1;
		}
	}
}

/*
 * netcrave's directories: run and state dirs, and any configured elsewhere.
 * One refused here is not used at all: not removed, and neither processes
 * naming it nor mounts under it are taken for netcrave's.
 */
static void
reset_add_dir(struct reset *r, const char *dir)
{
	size_t	i;

	if (dir == NULL || *dir == '\0' || reset_under(r, dir))
		return;
	if (!reset_dir_ok(dir)) {
		fprintf(stderr, "netcravectl: reset: %s: left alone: too close "
		    "to the root to be netcrave's alone\n", dir);
		r->failed = 1;
		return;
	}
	for (i = 0; i < r->ndirs; i++)
		if (strcmp(r->dirs[i], dir) == 0)
			return;
	if (r->ndirs < sizeof r->dirs / sizeof r->dirs[0])
		r->dirs[r->ndirs++] = dir;
}

/* What a person is asked to confirm. */
static void
reset_describe(const struct reset *r, FILE *out)
{
	const struct conf	*c = r->conf;
	size_t			 i;

	fprintf(out, "netcravectl reset removes, for instance %s:\n"
	    "  netcraved and its children (dockerd, containerd and their "
	    "containers)\n"
	    "  network namespace %s%s%s, links aliased netcrave:%s:*, "
	    "nft table inet %s\n  %s\n",
	    c->instance, c->netns, c->runtime_netns != NULL &&
	    strcmp(c->runtime_netns, c->netns) != 0 ? " and " : "",
	    c->runtime_netns != NULL && strcmp(c->runtime_netns, c->netns) != 0 ?
	    c->runtime_netns : "", c->instance, c->nft_table, c->plugin_socket);
	for (i = 0; i < r->ndirs; i++)
		fprintf(out, "  %s (all of it, with what is mounted there)\n",
		    r->dirs[i]);
}

/* Ask on the terminal; anything but "yes" declines. */
static int
reset_confirm(const struct reset *r)
{
	char	line[64];

	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "netcravectl: reset: refusing without --yes "
		    "(standard input is not a terminal to ask on)\n");
		return (0);
	}
	reset_describe(r, stdout);
	printf("Type \"yes\" to go on: ");
	fflush(stdout);
	if (fgets(line, sizeof line, stdin) == NULL ||
	    strcmp(line, "yes\n") != 0) {
		printf("nothing done\n");
		return (0);
	}
	return (1);
}

int
reset_run(const struct conf *c, pid_t daemon, int yes)
{
	struct reset	r;
	char		err[256];

	memset(&r, 0, sizeof r);
	r.conf = c;
	reset_add_dir(&r, c->run_dir);
	reset_add_dir(&r, c->state_dir);
	reset_add_dir(&r, c->keys_dir);
	reset_add_dir(&r, c->runtime_root);
	reset_add_dir(&r, c->runtime_exec_root);
	reset_add_dir(&r, c->dav_storage_dir);
	if (!yes && !reset_confirm(&r))
		return (1);
	if (netns_init(err, sizeof err) == -1) {
		fprintf(stderr, "netcravectl: reset: %s\n", err);
		return (1);
	}
	reset_stop_daemon(&r, daemon);
	reset_stop_leftovers(&r);
	reset_kernel(&r);
	/* Namespaces are gone: what remains mounted is under our dirs. */
	reset_mounts(&r);
	reset_files(&r);
	if (r.failed) {
		fprintf(stderr, "netcravectl: reset: not everything could be "
		    "removed (see above)\n");
		return (1);
	}
	printf("reset done\n");
	return (0);
}
