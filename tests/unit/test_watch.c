/* test_watch.c: the watcher's parse (watch_parse) on rtnetlink datagrams
 * captured from a real kernel (tests/fuzz/corpus/rtnl, made by ip(8) in a
 * scratch namespace: a bridge and a veth pair with netcrave aliases, addresses
 * and routes added and removed), and on truncated copies of them. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "watch.h"

struct seen {
	int	bridge_new;	/* fzb0 with its alias */
	int	bridge_del;
	int	veth_new;	/* fzv0 with its alias */
	int	veth_del;
	int	addr_del;
	int	events;
};

static void
cb(enum watch_what what, const char *name, const char *alias, void *arg)
{
	struct seen	*s = arg;

	s->events++;
	if (what == WATCH_LINK_NEW && strcmp(name, "fzb0") == 0 &&
	    strcmp(alias, "netcrave:fuzz:net:0123456789ab") == 0)
		s->bridge_new++;
	if (what == WATCH_LINK_DEL && strcmp(name, "fzb0") == 0)
		s->bridge_del++;
	if (what == WATCH_LINK_NEW && strcmp(name, "fzv0") == 0 &&
	    strcmp(alias, "netcrave:fuzz:ep:0123456789ab") == 0)
		s->veth_new++;
	if (what == WATCH_LINK_DEL && strcmp(name, "fzv0") == 0)
		s->veth_del++;
	if (what == WATCH_ADDR_DEL && strncmp(name, "if", 2) == 0)
		s->addr_del++;
}

/* A captured datagram, or NULL past the last. */
static void *
load(int i, size_t *len)
{
	char	 path[512];
	FILE	*f;
	void	*buf;

	snprintf(path, sizeof path, "%s/msg%02d", RTNL_FIXTURES, i);
	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	buf = malloc(65536);
	assert_non_null(buf);
	*len = fread(buf, 1, 65536, f);
	fclose(f);
	return (buf);
}

static void
test_captured(void **state)
{
	struct seen	 s;
	size_t		 len, cut;
	void		*buf;
	int		 i, n;

	memset(&s, 0, sizeof s);
	for (i = 1; (buf = load(i, &len)) != NULL; i++) {
		n = watch_parse(buf, len, cb, &s);
		assert_true(n >= 0);
		/* Every cut of it parses what is whole and stops there. */
		for (cut = 0; cut < len; cut += 7)
			assert_true(watch_parse(buf, cut, cb, &(struct seen){ 0 })
			    <= n);
		free(buf);
	}
	assert_true(i > 40);
	assert_true(s.bridge_new > 0);
	assert_true(s.veth_new > 0);
	assert_int_equal(s.bridge_del, 1);
	assert_true(s.veth_del >= 1);
	/* Two addresses deleted by hand, more went with the links. */
	assert_true(s.addr_del >= 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captured),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
