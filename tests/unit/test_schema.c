/* test_schema.c: the run-time schema: auto prefixes chosen around the host's routes
 * and kept, explicit prefixes that collide with the host refused, lookups. */
#include "config.h"

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "hostnet.h"
#include "ipam.h"
#include "log.h"
#include "prefix.h"
#include "schema.h"

/* A tiny store of auto choices. */
struct kept {
	char	key[8][128];
	char	value[8][64];
	int	n;
};

static const char *
kept_lookup(const char *key, void *arg)
{
	struct kept	*k = arg;
	int		 i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->key[i], key) == 0)
			return (k->value[i]);
	return (NULL);
}

static void
kept_record(const char *key, const char *prefix, void *arg)
{
	struct kept	*k = arg;

	assert_true(k->n < 8);
	snprintf(k->key[k->n], sizeof k->key[0], "%s", key);
	snprintf(k->value[k->n], sizeof k->value[0], "%s", prefix);
	k->n++;
}

static char	 s_web[] = "web", s_db[] = "db", s_default[] = "default";
static char	*empty[] = { NULL };
static char	*tag_web[] = { s_web, NULL };
static char	*tag_db[] = { s_db, NULL };
static char	*tag_default[] = { s_default, NULL };

/* Copies made for conf_scope's char * fields, freed after each test. */
static char	*copies[64];
static int	 ncopies;

/* A copy freed by teardown (NULL stays NULL). */
static char *
copy(const char *text)
{
	if (text == NULL)
		return (NULL);
	assert_true(ncopies < 64);
	return (copies[ncopies++] = strdup(text));
}

/* Free the copies of one test. */
static int
teardown(void **state)
{
	while (ncopies > 0)
		free(copies[--ncopies]);
	return (0);
}

/* A scope in a conf, by hand (the strings are copied: conf owns char *). */
static void
scope(struct conf_scope *s, const char *name, const char *path, const char *v4,
    const char *v6, unsigned int len4, unsigned int len6, char **tags)
{
	memset(s, 0, sizeof *s);
	s->name = copy(name);
	s->path = copy(path);
	s->ipv4_network = copy(v4);
	s->ipv6_network = copy(v6);
	s->ipv4_prefix_length = len4;
	s->ipv6_prefix_length = len6;
	s->tags = tags;
	s->egress = empty;
	s->ingress = empty;
}

/* Parse or fail the test. */
static struct prefix
pfx(const char *text)
{
	struct prefix	p;
	char		err[128];

	assert_int_equal(prefix_parse(text, 0, &p, err, sizeof err), 0);
	return (p);
}

/* The default-like shape: auto top level, auto children, kept across builds. */
static void
test_auto_kept(void **state)
{
	struct conf_scope		 top, kids[2];
	struct conf			 conf;
	struct hostnet			 host = { NULL, 0 };
	struct schema_auto_store	 store;
	struct kept			 kept = { .n = 0 };
	struct schema			*s;
	struct schema_scope		*web, *db;
	struct prefix			 p10 = pfx("10.0.0.0/8"), p172 = pfx("172.16.0.0/12");
	struct prefix			 ula = pfx("fd00::/8");
	const struct prefix		*v4, *v6, *w4, *d4;
	char				 err[256], first[2][64];

	scope(&top, "nc", "nc", "auto/16", "auto/48", 0, 0, empty);
	scope(&kids[0], "web", "nc/web", "auto/20", "auto/56", 24, 64, tag_web);
	scope(&kids[1], "db", "nc/db", "auto/20", NULL, 28, 0, tag_db);
	top.children = kids;
	top.nchildren = 2;
	memset(&conf, 0, sizeof conf);
	conf.scopes = &top;
	conf.nscopes = 1;
	store.lookup = kept_lookup;
	store.record = kept_record;
	store.arg = &kept;

	s = schema_build(&conf, &host, &store, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(kept.n, 5);	/* nc v4, nc v6, web v4, web v6, db v4 */
	v4 = schema_scope_prefix(schema_first(s), AF_INET);
	v6 = schema_scope_prefix(schema_first(s), AF_INET6);
	assert_non_null(v4);
	assert_non_null(v6);
	assert_int_equal(v4->len, 16);
	assert_true(prefix_contains(&p10, v4) || prefix_contains(&p172, v4));
	assert_int_equal(v6->len, 48);
	assert_true(prefix_contains(&ula, v6));
	web = schema_find_tag(s, "web");
	db = schema_find_tag(s, "db");
	assert_non_null(web);
	assert_non_null(db);
	w4 = schema_scope_prefix(web, AF_INET);
	d4 = schema_scope_prefix(db, AF_INET);
	/* Children: the first free /20s inside the parent, in order. */
	assert_true(prefix_contains(v4, w4));
	assert_true(prefix_contains(v4, d4));
	assert_memory_equal(w4->addr, v4->addr, 2);
	assert_int_equal(w4->addr[2], 0);
	assert_int_equal(d4->addr[2], 16);
	assert_null(schema_scope_prefix(db, AF_INET6));
	assert_null(schema_scope_space(db, AF_INET6));
	assert_non_null(schema_scope_space(web, AF_INET6));
	assert_string_equal(schema_tag_list(s), "web, db");
	prefix_format(v4, 1, first[0], sizeof first[0]);
	prefix_format(v6, 1, first[1], sizeof first[1]);
	schema_free(s);

	/* Built again with the kept choices: the same prefixes, nothing new. */
	s = schema_build(&conf, &host, &store, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(kept.n, 5);
	assert_string_equal(prefix_format(schema_scope_prefix(schema_first(s),
	    AF_INET), 1, first[0] + 32, 32), first[0]);
	assert_string_equal(prefix_format(schema_scope_prefix(schema_first(s),
	    AF_INET6), 1, first[1] + 32, 32), first[1]);
	schema_free(s);
}

/*
 * Auto children go around their explicit siblings; any explicit scope that
 * overlaps what the host routes is refused, naming both.
 */
static void
test_host_collisions(void **state)
{
	struct conf_scope		 top, kids[2];
	struct conf			 conf;
	struct hostnet			 host = { NULL, 0 };
	struct prefix			 p;
	struct schema			*s;
	char				 err[256], buf[64];

	scope(&top, "nc", "nc", "198.18.0.0/16", NULL, 0, 0, empty);
	scope(&kids[0], "web", "nc/web", "auto/20", NULL, 24, 0, tag_web);
	scope(&kids[1], "db", "nc/db", "198.18.0.0/20", NULL, 28, 0, tag_db);
	top.children = kids;
	top.nchildren = 2;
	memset(&conf, 0, sizeof conf);
	conf.scopes = &top;
	conf.nscopes = 1;
	s = schema_build(&conf, &host, NULL, err, sizeof err);
	assert_non_null(s);
	assert_string_equal(prefix_format(schema_scope_prefix(
	    schema_find_tag(s, "web"), AF_INET), 1, buf, sizeof buf),
	    "198.18.16.0/20");
	schema_free(s);

	/* The host routes 198.18.0.0/20: the whole tree is refused. */
	p = pfx("198.18.0.0/20");
	hostnet_add(&host, &p, "route 198.18.0.0/20 (table 254)");
	s = schema_build(&conf, &host, NULL, err, sizeof err);
	assert_null(s);
	assert_string_equal(err, "scope nc: 198.18.0.0/16: it overlaps the "
	    "host's route 198.18.0.0/20 (table 254); change the schema so "
	    "container traffic cannot leave the machine by mistake");

	/* An auto top level goes around it. */
	scope(&top, "nc", "nc", "auto/16", NULL, 24, 0, tag_default);
	p = pfx("10.0.0.0/9");
	hostnet_add(&host, &p, "route 10.0.0.0/9 (table 254)");
	s = schema_build(&conf, &host, NULL, err, sizeof err);
	assert_non_null(s);
	p = pfx("10.0.0.0/9");
	assert_false(prefix_overlaps(schema_scope_prefix(schema_first(s),
	    AF_INET), &p));
	schema_free(s);
	hostnet_free(&host);
}

/* A kept choice that now collides with the host is an error, not a silent move. */
static void
test_kept_collision(void **state)
{
	struct conf_scope		 top;
	struct conf			 conf;
	struct hostnet			 host = { NULL, 0 };
	struct schema_auto_store	 store;
	struct kept			 kept = { .n = 1 };
	struct prefix			 p = pfx("10.77.0.0/16");
	char				 err[256];

	strcpy(kept.key[0], "nc:ipv4");
	strcpy(kept.value[0], "10.77.0.0/16");
	hostnet_add(&host, &p, "address 10.77.0.1/16 on link 2");
	scope(&top, "nc", "nc", "auto/16", NULL, 24, 0, tag_default);
	memset(&conf, 0, sizeof conf);
	conf.scopes = &top;
	conf.nscopes = 1;
	store.lookup = kept_lookup;
	store.record = kept_record;
	store.arg = &kept;
	assert_null(schema_build(&conf, &host, &store, err, sizeof err));
	assert_string_equal(err, "scope nc: 10.77.0.0/16, chosen for \"auto/16\" "
	    "at an earlier start: it overlaps the host's address 10.77.0.1/16 on "
	    "link 2");
	hostnet_free(&host);
}

/* Lookup by prefix picks the deepest scope that hands out networks. */
static void
test_find_containing(void **state)
{
	struct conf_scope	 top, kids[2];
	struct conf		 conf;
	struct hostnet		 host = { NULL, 0 };
	struct schema		*s;
	struct prefix		 p;
	char			 err[256];

	scope(&top, "nc", "nc", "198.18.0.0/16", NULL, 24, 0, tag_default);
	scope(&kids[0], "web", "nc/web", "198.18.0.0/20", NULL, 24, 0, tag_web);
	scope(&kids[1], "db", "nc/db", "198.18.16.0/20", NULL, 0, 0, tag_db);
	top.children = kids;
	top.nchildren = 2;
	memset(&conf, 0, sizeof conf);
	conf.scopes = &top;
	conf.nscopes = 1;
	s = schema_build(&conf, &host, NULL, err, sizeof err);
	assert_non_null(s);
	p = pfx("198.18.3.0/24");
	assert_string_equal(schema_scope_path(schema_find_containing(s, &p)),
	    "nc/web");
	/* db hands out no networks: its parent does. */
	p = pfx("198.18.17.0/24");
	assert_string_equal(schema_scope_path(schema_find_containing(s, &p)), "nc");
	p = pfx("198.19.0.0/24");
	assert_null(schema_find_containing(s, &p));
	assert_null(schema_find_tag(s, "nope"));
	schema_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_auto_kept, teardown),
		cmocka_unit_test_teardown(test_host_collisions, teardown),
		cmocka_unit_test_teardown(test_kept_collision, teardown),
		cmocka_unit_test_teardown(test_find_containing, teardown),
	};

	log_init(1, LOG_LEVEL_INFO, "test_schema");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
