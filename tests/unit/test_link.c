/* test_link.c: link_sysctl against a read-only /proc/sys, in a child with a
 * mount and a network namespace of its own (a read-only bind of /proc/sys
 * there, net.ipv4.ip_forward of a fresh namespace flipped): without the managed
 * plugin it fails with EROFS and leaves the mount read-only; as the managed
 * plugin it remounts it and writes the value.  Needs root; skipped otherwise
 * or where namespaces cannot be made. */
#include "config.h"

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "link.h"
#include "netns.h"

#define SKIP	77
#define KEY	"net/ipv4/ip_forward"

/* The first byte of the key, as this namespace reads it. */
static int
forward_value(void)
{
	char	 c = '?';
	int	 fd;

	if ((fd = open("/proc/sys/" KEY, O_RDONLY)) == -1)
		return (-1);
	if (read(fd, &c, 1) != 1)
		c = '?';
	close(fd);
	return (c);
}

static int
proc_sys_readonly(void)
{
	struct statvfs	 sv;

	if (statvfs("/proc/sys", &sv) == -1)
		return (-1);
	return ((sv.f_flag & ST_RDONLY) != 0);
}

/*
 * In the child: namespaces of its own, /proc/sys bound read-only, then
 * link_sysctl with managed as given.  Exit 0 when it behaved, SKIP when the
 * namespaces could not be made, otherwise the number of the failed step.
 */
static int
child(int managed)
{
	char	 err[256];
	int	 rv, e, was;
	const char *want;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) == -1)
		return (SKIP);
	/* Nothing done here may reach the host's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return (SKIP);
	if (mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL) == -1 ||
	    mount("", "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY,
	    NULL) == -1)
		return (SKIP);
	if (netns_init(err, sizeof err) == -1)	/* the child's namespace */
		return (SKIP);
	if (proc_sys_readonly() != 1)
		return (SKIP);
	/* A new namespace may start from the host's value: flip it. */
	if ((was = forward_value()) != '0' && was != '1')
		return (SKIP);
	want = was == '1' ? "0" : "1";

	link_set_managed_plugin(managed);
	rv = link_sysctl(netns_self(), KEY, want);
	e = errno;
	if (!managed) {
		if (rv != -1)
			return (1);
		if (e != EROFS)
			return (2);
		if (proc_sys_readonly() != 1)
			return (3);	/* remounted all the same */
		if (forward_value() != was)
			return (4);
		return (0);
	}
	if (rv != 0)
		return (5);
	if (proc_sys_readonly() != 0)
		return (6);
	if (forward_value() != *want)
		return (7);
	return (0);
}

static int
run_child(int managed)
{
	pid_t	 pid;
	int	 status;

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0)
		_exit(child(managed));
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return (-1);
	return (WEXITSTATUS(status));
}

/* One case in a child; skipped where its namespaces cannot be made. */
static void
readonly_case(int managed)
{
	int	 rc;

	if (geteuid() != 0)
		skip();
	rc = run_child(managed);
	if (rc == SKIP) {
		print_message("skipped: no mount and network namespace with a "
		    "read-only /proc/sys could be made here\n");
		skip();
	}
	assert_int_equal(rc, 0);
}

/* Not the managed plugin: a read-only /proc/sys is reported, not undone. */
static void
test_readonly_reported(void **state)
{
	readonly_case(0);
}

/* The managed plugin: its container's read-only /proc/sys is remounted. */
static void
test_readonly_remounted_managed(void **state)
{
	readonly_case(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readonly_reported),
		cmocka_unit_test(test_readonly_remounted_managed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
