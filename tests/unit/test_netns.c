/* test_netns.c: named namespaces: one is made under /run/netns, a socket opened
 * inside it binds the same loopback port as one in ours (so it lives elsewhere),
 * and the namespace is removed again.  Needs root; skipped otherwise. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netns.h"

/* Bind fd to 127.0.0.1:port; 0 or -1. */
static int
bind_loopback(int fd, uint16_t port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return (bind(fd, (struct sockaddr *)&sin, sizeof sin));
}

static void
test_socket_inside(void **state)
{
	char		 name[64], path[128], err[256];
	int		 fd, ours, theirs, other;
	uint16_t	 port = 40000 + getpid() % 20000;

	if (geteuid() != 0)
		skip();
	snprintf(name, sizeof name, "nc-unit-%d", (int)getpid());
	snprintf(path, sizeof path, "/run/netns/%s", name);
	assert_int_equal(netns_init(err, sizeof err), 0);
	fd = netns_open(name, 1, err, sizeof err);
	assert_true(fd >= 0);
	assert_int_equal(access(path, F_OK), 0);

	ours = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind_loopback(ours, port), 0);
	/* lo is down in a fresh namespace: bring it up from inside. */
	assert_int_equal(netns_enter(fd), 0);
	assert_int_equal(system("ip link set lo up"), 0);
	netns_leave();
	theirs = netns_socket(name, AF_INET, SOCK_DGRAM, 0);
	assert_true(theirs >= 0);
	assert_int_equal(bind_loopback(theirs, port), 0);
	/* A second one in ours collides: the first was really elsewhere. */
	other = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind_loopback(other, port), -1);

	close(other);
	close(theirs);
	close(ours);
	close(fd);
	assert_int_equal(netns_delete(name), 0);
	assert_int_not_equal(access(path, F_OK), 0);
	/* Gone already: still success. */
	assert_int_equal(netns_delete(name), 0);
}

static void
test_missing(void **state)
{
	char	err[256];

	assert_int_equal(netns_init(err, sizeof err), 0);
	assert_int_equal(netns_open("nc-unit-does-not-exist", 0, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "nc-unit-does-not-exist"));
	assert_int_equal(netns_socket("nc-unit-does-not-exist", AF_INET,
	    SOCK_DGRAM, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_inside),
		cmocka_unit_test(test_missing),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
