/* nc-testchild.c: a child for the supervisor's tests, driven by argv flags
 * (exit, crash, listen late, ignore SIGTERM, spawn a grandchild, report). */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
    "usage: nc-testchild [--exit-after MS] [--exit-code N] [--crash-after MS]\n"
    "	[--listen PATH] [--ready-after MS] [--ignore-term]\n"
    "	[--spawn-grandchild PIDFILE] [--grandchild-ignore-term]\n"
    "	[--pidfile PATH] [--report PATH]\n";

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Parse a non-negative number or die with the usage text. */
static long
number(const char *s)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || n < 0) {
		fprintf(stderr, "nc-testchild: bad number: %s\n", s);
		exit(2);
	}
	return (n);
}

/* Write text to path through a temporary file, so readers see all or nothing. */
static void
write_file(const char *path, const char *text)
{
	char	 tmp[PATH_MAX];
	FILE	*f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		perror(tmp);
		exit(2);
	}
	fputs(text, f);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		exit(2);
	}
}

/* Write "pid\n" to path. */
static void
write_pid(const char *path, pid_t pid)
{
	char	buf[32];

	snprintf(buf, sizeof buf, "%ld\n", (long)pid);
	write_file(path, buf);
}

/* Describe what the supervisor gave us: ids, netns, fds, signals, environment. */
static void
write_report(const char *path)
{
	struct sigaction	 sa;
	struct dirent		*de;
	sigset_t		 mask;
	char			 netns[256], *text = NULL;
	size_t			 textlen = 0;
	ssize_t			 n;
	FILE			*f;
	DIR			*d;
	char			**e;
	int			 dfd, blocked = 0, sig;

	if ((f = open_memstream(&text, &textlen)) == NULL) {
		perror("open_memstream");
		exit(2);
	}
	fprintf(f, "pid=%ld\npgid=%ld\n", (long)getpid(), (long)getpgrp());

	n = readlink("/proc/self/ns/net", netns, sizeof netns - 1);
	netns[n > 0 ? n : 0] = '\0';
	fprintf(f, "netns=%s\n", netns);

	/* Open descriptors, without the one used to list them. */
	fprintf(f, "fds=");
	if ((d = opendir("/proc/self/fd")) != NULL) {
		dfd = dirfd(d);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' || atoi(de->d_name) == dfd)
				continue;
			fprintf(f, "%s,", de->d_name);
		}
		closedir(d);
	}
	fprintf(f, "\n");

	sigprocmask(SIG_SETMASK, NULL, &mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sigismember(&mask, sig) == 1)
			blocked++;
	}
	fprintf(f, "blocked=%d\n", blocked);
	sigaction(SIGPIPE, NULL, &sa);
	fprintf(f, "sigpipe=%s\n", sa.sa_handler == SIG_DFL ? "default" :
	    sa.sa_handler == SIG_IGN ? "ignored" : "handled");

	for (e = environ; *e != NULL; e++)
		fprintf(f, "env=%s\n", *e);
	fclose(f);
	write_file(path, text);
	free(text);
}

/* Fork a grandchild that sleeps until killed; it stays in our process group. */
static void
spawn_grandchild(const char *pidfile, int ignore_term)
{
	pid_t	pid;

	switch (pid = fork()) {
	case -1:
		perror("fork");
		exit(2);
	case 0:
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		else
			signal(SIGTERM, SIG_DFL);
		for (;;)
			pause();
	default:
		write_pid(pidfile, pid);
	}
}

/* Bind and listen on a unix socket at path, replacing a stale one. */
static int
listen_unix(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		fprintf(stderr, "nc-testchild: path too long: %s\n", path);
		exit(2);
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 16) == -1) {
		perror(path);
		exit(2);
	}
	return (fd);
}

int
main(int argc, char **argv)
{
	struct rlimit	 rl = { 0, 0 };
	struct pollfd	 pfd;
	const char	*listen_path = NULL, *pidfile = NULL, *report = NULL;
	const char	*grandchild = NULL;
	long long	 start, deadline, t;
	long		 exit_after = -1, crash_after = -1, ready_after = 0;
	int		 exit_code = 0, ignore_term = 0, grandchild_ignore = 0;
	int		 i, fd = -1, c, timeout;

	start = now_ms();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ignore-term") == 0)
			ignore_term = 1;
		else if (strcmp(argv[i], "--grandchild-ignore-term") == 0)
			grandchild_ignore = 1;
		else if (i + 1 >= argc) {
			fputs(usage, stderr);
			return (2);
		} else if (strcmp(argv[i], "--exit-after") == 0)
			exit_after = number(argv[++i]);
		else if (strcmp(argv[i], "--exit-code") == 0)
			exit_code = (int)number(argv[++i]);
		else if (strcmp(argv[i], "--crash-after") == 0)
			crash_after = number(argv[++i]);
		else if (strcmp(argv[i], "--listen") == 0)
			listen_path = argv[++i];
		else if (strcmp(argv[i], "--ready-after") == 0)
			ready_after = number(argv[++i]);
		else if (strcmp(argv[i], "--spawn-grandchild") == 0)
			grandchild = argv[++i];
		else if (strcmp(argv[i], "--pidfile") == 0)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--report") == 0)
			report = argv[++i];
		else {
			fputs(usage, stderr);
			return (2);
		}
	}

	if (ignore_term)
		signal(SIGTERM, SIG_IGN);
	if (report != NULL)
		write_report(report);
	if (grandchild != NULL)
		spawn_grandchild(grandchild, grandchild_ignore);
	if (pidfile != NULL)
		write_pid(pidfile, getpid());
	/* A deliberate crash should not leave core files behind. */
	setrlimit(RLIMIT_CORE, &rl);

	for (;;) {
		t = now_ms() - start;
		if (crash_after >= 0 && t >= crash_after) {
			/* Die of the signal even where a sanitizer catches it. */
			signal(SIGSEGV, SIG_DFL);
			raise(SIGSEGV);
		}
		if (exit_after >= 0 && t >= exit_after)
			return (exit_code);
		if (listen_path != NULL && fd == -1 && t >= ready_after)
			fd = listen_unix(listen_path);

		/* Sleep until the next thing to do, accepting probes meanwhile. */
		deadline = -1;
		if (crash_after >= 0)
			deadline = crash_after;
		if (exit_after >= 0 && (deadline == -1 || exit_after < deadline))
			deadline = exit_after;
		if (listen_path != NULL && fd == -1 &&
		    (deadline == -1 || ready_after < deadline))
			deadline = ready_after;
		timeout = -1;
		if (deadline != -1)
			timeout = deadline > t ? (int)(deadline - t) : 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) > 0 && (pfd.revents & POLLIN)) {
			if ((c = accept(fd, NULL, NULL)) != -1)
				close(c);
		}
	}
}
