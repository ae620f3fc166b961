/* test_conf.c: unit tests of the configuration: defaults, golden output, errors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* Whole file as a string; the test fails if it cannot be read. */
static char *
read_file(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*buf;
	size_t	 len;

	if ((f = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	buf = xmalloc(1024 * 1024);
	len = fread(buf, 1, 1024 * 1024 - 1, f);
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return (buf);
}

/*
 * Path of a golden file: under $top_srcdir (make check sets it), else under the
 * source tree this file was compiled from, else relative to the build tree.
 */
static char *
golden_path(const char *name)
{
	const char	*env, *tries[] = { ".", "..", "../.." };
	const char	*self = __FILE__, *tail = "tests/unit/test_conf.c";
	char		*path;
	size_t		 i, len;

	if ((env = getenv("top_srcdir")) != NULL) {
		xasprintf(&path, "%s/tests/integration/golden/%s", env, name);
		if (access(path, R_OK) != 0)
			fail_msg("golden file %s not found (top_srcdir=%s)", path,
			    env);
		return (path);
	}
	len = strlen(self);
	if (len >= strlen(tail) && strcmp(self + len - strlen(tail), tail) == 0) {
		xasprintf(&path, "%.*stests/integration/golden/%s",
		    (int)(len - strlen(tail)), self, name);
		if (access(path, R_OK) == 0)
			return (path);
		free(path);
	}
	for (i = 0; i < sizeof tries / sizeof tries[0]; i++) {
		xasprintf(&path, "%s/tests/integration/golden/%s", tries[i],
		    name);
		if (access(path, R_OK) == 0)
			return (path);
		free(path);
	}
	fail_msg("golden file %s not found: set top_srcdir", name);
	return (NULL);
}

/* conf_print into a string. */
static char *
printed(const struct conf *c)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&out, &len);
	assert_non_null(f);
	conf_print(c, f);
	fclose(f);
	return (out);
}

/* Parse a C string; the test fails with the message if it does not parse. */
static struct conf *
parse_ok(const char *text)
{
	struct conf	*c;
	char		 err[512];

	c = conf_parse("t.json", text, strlen(text), err, sizeof err);
	if (c == NULL)
		fail_msg("%s: %s", text, err);
	return (c);
}

/* Parse expecting exactly the error want. */
static void
parse_fails(const char *text, size_t len, const char *want)
{
	struct conf	*c;
	char		 err[512];

	c = conf_parse("t.json", text, len, err, sizeof err);
	if (c != NULL) {
		conf_free(c);
		fail_msg("%s: parsed, expected %s", text, want);
	}
	if (strcmp(err, want) != 0)
		fail_msg("%s:\n got  %s\n want %s", text, err, want);
}

#define FAILS(text, want)	parse_fails((text), sizeof(text) - 1, (want))

/* Whether list holds exactly the strings of want (NULL-terminated). */
static void
check_list(char **list, const char *const *want)
{
	size_t	i;

	assert_non_null(list);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(list[i]);
		assert_string_equal(list[i], want[i]);
	}
	assert_null(list[i]);
}

/* One scope of the default schema. */
static void
check_default_child(const struct conf_scope *s, const char *name,
    const char *const *tags, const char *const *egress,
    const char *const *ingress)
{
	char	path[128];

	snprintf(path, sizeof path, "netcrave/%s", name);
	assert_string_equal(s->name, name);
	assert_string_equal(s->path, path);
	assert_string_equal(s->ipv4_network, "auto/20");
	assert_string_equal(s->ipv6_network, "auto/56");
	assert_int_equal(s->ipv4_prefix_length, 24);
	assert_int_equal(s->ipv6_prefix_length, 64);
	check_list(s->tags, tags);
	check_list(s->egress, egress);
	check_list(s->ingress, ingress);
	assert_null(s->children);
	assert_int_equal(s->nchildren, 0);
}

/* The default schema: an auto root with the original project's children. */
static void
check_default_schema(const struct conf *c, const char *def, const char *uplink,
    const char *host)
{
	const struct conf_scope	*root, *k;
	const char		*none[] = { NULL };

	assert_string_equal(c->default_tag, def);
	assert_string_equal(c->uplink_tag, uplink);
	assert_string_equal(c->host_tag, host);
	assert_int_equal(c->nscopes, 1);
	root = &c->scopes[0];
	assert_string_equal(root->name, "netcrave");
	assert_string_equal(root->path, "netcrave");
	assert_string_equal(root->ipv4_network, "auto/16");
	assert_string_equal(root->ipv6_network, "auto/48");
	assert_int_equal(root->ipv4_prefix_length, 0);
	assert_int_equal(root->ipv6_prefix_length, 0);
	check_list(root->tags, none);
	check_list(root->egress, none);
	check_list(root->ingress, none);
	assert_int_equal(root->nchildren, 5);
	k = root->children;
	check_default_child(&k[0], "default", (const char *[]){ def, NULL },
	    (const char *[]){ "docker-local-ingress", uplink, NULL },
	    (const char *[]){ "docker-local-egress", NULL });
	check_default_child(&k[1], "docker-local-egress",
	    (const char *[]){ "docker-local-egress", NULL },
	    (const char *[]){ def, NULL }, none);
	check_default_child(&k[2], "docker-local-ingress",
	    (const char *[]){ "docker-local-ingress", NULL }, none,
	    (const char *[]){ def, host, NULL });
	check_default_child(&k[3], "docker-internet-egress",
	    (const char *[]){ "docker-internet-egress", NULL },
	    (const char *[]){ uplink, NULL }, none);
	check_default_child(&k[4], "docker-internet-ingress",
	    (const char *[]){ "docker-internet-ingress", NULL }, none,
	    (const char *[]){ uplink, host, NULL });
}

/* Check every field of a default configuration. */
static void
check_defaults(const struct conf *c)
{
	assert_string_equal(c->instance, "netcrave");
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
	assert_string_equal(c->run_dir, "/run/netcrave");
	assert_string_equal(c->state_dir, "/var/lib/netcrave");
	assert_string_equal(c->keys_dir, "/var/lib/netcrave/keys");
	assert_string_equal(c->plugin_socket,
	    "/run/docker/plugins/netcrave.sock");
	assert_string_equal(c->control_socket, "/run/netcrave/control.sock");
	assert_string_equal(c->netns, "_netcrave");
	assert_string_equal(c->link_prefix, "nc");
	assert_string_equal(c->nft_table, "netcrave");
	assert_string_equal(c->store_backend, "file");
	assert_int_equal(c->store_compact_bytes, 4194304);
	assert_int_equal(c->http_max_header_bytes, 16384);
	assert_int_equal(c->http_max_body_bytes, 1048576);
	assert_int_equal(c->http_idle_timeout_ms, 30000);
	assert_int_equal(c->http_max_connections, 1024);
	assert_int_equal(c->http_header_timeout_ms, 10000);
	assert_int_equal(c->http_body_timeout_ms, 60000);
	assert_int_equal(c->http_body_min_rate, 1024);
	assert_string_equal(c->metrics_listen, "unix:/run/netcrave/metrics.sock");
	assert_null(c->children);
	assert_int_equal(c->nchildren, 0);
	check_default_schema(c, "default", "internet", "host");
}

/* No file at all: built-in defaults, from every way of asking for them. */
static void
test_defaults(void **state)
{
	struct conf	*c;
	char		 err[512];

	c = conf_load(NULL, 0, err, sizeof err);
	assert_non_null(c);
	assert_null(c->path);
	check_defaults(c);
	conf_free(c);

	/* A missing default file is fine... */
	c = conf_load("/nonexistent/netcrave/netcraved.json", 0, err,
	    sizeof err);
	assert_non_null(c);
	assert_null(c->path);
	check_defaults(c);
	conf_free(c);

	/* ...but a file named with -c must exist. */
	c = conf_load("/nonexistent/netcrave/netcraved.json", 1, err,
	    sizeof err);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/netcrave/netcraved.json: "
	    "No such file or directory");

	/* An empty object is the defaults too. */
	c = parse_ok("{}\n");
	assert_string_equal(c->path, "t.json");
	check_defaults(c);
	conf_free(c);
}

/* The defaults print exactly as the golden file says. */
static void
test_default_golden(void **state)
{
	struct conf	*c;
	char		*path, *want, *got;

	path = golden_path("default.json");
	want = read_file(path, NULL);
	c = conf_load(NULL, 0, NULL, 0);
	got = printed(c);
	assert_string_equal(got, want);
	free(got);
	conf_free(c);

	c = parse_ok("{}");
	got = printed(c);
	assert_string_equal(got, want);
	free(got);
	conf_free(c);
	free(want);
	free(path);
}

/* A file with every key prints as its golden output, which reads back the same. */
static void
test_full_golden(void **state)
{
	struct conf	*c, *again;
	char		*in, *out, *want, *got, *got2, err[512];
	size_t		 len;

	in = golden_path("full.in.json");
	out = golden_path("full.out.json");
	c = conf_load(in, 1, err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	assert_string_equal(c->path, in);

	/* Spot checks that the file reached the struct. */
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(c->run_dir, "/run/nctest");
	assert_int_equal(c->nchildren, 3);
	assert_string_equal(c->children[0].role, "dockerd");
	assert_string_equal(c->children[0].argv[4],
	    "quote\"back\\slash\ttab \xc3\xa9");
	assert_null(c->children[0].argv[5]);
	assert_string_equal(c->children[0].env[1], "DOCKER_RAMDISK=1");
	assert_null(c->children[0].netns);
	assert_int_equal(c->children[0].restart, CONF_RESTART_ON_FAILURE);
	assert_string_equal(c->children[0].ready_socket,
	    "/run/nctest/docker.sock");
	assert_int_equal(c->children[1].restart, CONF_RESTART_NEVER);
	assert_string_equal(c->children[1].netns, "_nctest");
	assert_int_equal(c->children[1].stop_order, -5);
	assert_null(c->children[1].env[0]);
	assert_int_equal(c->children[2].restart, CONF_RESTART_ALWAYS);
	assert_int_equal(c->children[2].backoff_initial_ms, 500);
	assert_int_equal(c->children[2].stop_timeout_ms, 10000);
	assert_string_equal(c->default_tag, "web");
	assert_string_equal(c->uplink_tag, "wan");
	assert_string_equal(c->host_tag, "self");
	assert_int_equal(c->nscopes, 2);
	assert_string_equal(c->scopes[0].ipv6_network, "fd12:3456:789a::/48");
	assert_int_equal(c->scopes[0].nchildren, 3);
	assert_string_equal(c->scopes[0].children[1].path, "lab/db");
	assert_string_equal(c->scopes[0].children[1].ipv4_network, "auto/22");
	assert_null(c->scopes[0].children[1].ipv6_network);
	assert_int_equal(c->scopes[0].children[1].ipv4_prefix_length, 28);
	assert_string_equal(c->scopes[0].children[2].children[0].path,
	    "lab/mgmt/ops.1");
	assert_string_equal(c->scopes[0].children[0].tags[1], "frontend");
	assert_string_equal(c->scopes[0].children[0].ingress[2], "edge");
	assert_null(c->scopes[1].ipv4_network);
	assert_string_equal(c->scopes[1].children[0].egress[1], "web");

	want = read_file(out, NULL);
	got = printed(c);
	assert_string_equal(got, want);

	/* The printed form parses back to the same printed form. */
	len = strlen(got);
	again = conf_parse("printed", got, len, err, sizeof err);
	if (again == NULL)
		fail_msg("%s", err);
	got2 = printed(again);
	assert_string_equal(got2, got);

	free(got2);
	free(got);
	free(want);
	conf_free(again);
	conf_free(c);
	free(out);
	free(in);
}

/* Both comment styles are allowed in the file. */
static void
test_comments(void **state)
{
	struct conf	*c;

	c = parse_ok("// netcraved\n{ /* level */ \"log_level\": \"debug\" "
	    "// verbose\n}\n/* end */");
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	conf_free(c);
}

/* Every class of error names file:line:column and the key. */
static void
test_errors(void **state)
{
	FAILS("{\n  \"http\": {\n    \"max_bdy_bytes\": 1\n  }\n}",
	    "t.json:3:5: http.max_bdy_bytes: unknown key (known here: "
	    "max_header_bytes, max_body_bytes, idle_timeout_ms, "
	    "max_connections, header_timeout_ms, body_timeout_ms, "
	    "body_min_rate)");
	FAILS("{\"instance\": \"x\", \"colour\": 1}",
	    "t.json:1:19: colour: unknown key (known here: instance, "
	    "log_level, paths, names, store, http, metrics, dav, volume, "
	    "children, runtime, follower, waf, dns, ingress, network, plugin, "
	    "cluster, acme, default_tag, uplink_tag, host_tag, scopes)");
	FAILS("{\"waf\": {\"squid\": {\"enabled\": 1}}}",
	    "t.json:1:31: waf.squid.enabled: expected true or false, got number");
	FAILS("{\"log_level\": 1}",
	    "t.json:1:15: log_level: expected \"info\" or \"debug\", got number");
	FAILS("{\"log_level\": \"trace\"}",
	    "t.json:1:15: log_level: expected \"info\" or \"debug\"");
	FAILS("{\"paths\": []}",
	    "t.json:1:11: paths: expected an object, got array");
	FAILS("{\"instance\": null}",
	    "t.json:1:14: instance: expected a string, got null");
	FAILS("{\"http\": {\"max_body_bytes\": 1}}",
	    "t.json:1:29: http.max_body_bytes: expected an integer between "
	    "1024 and 1073741824");
	FAILS("{\"http\": {\"max_body_bytes\": \"1M\"}}",
	    "t.json:1:29: http.max_body_bytes: expected an integer between "
	    "1024 and 1073741824, got string");
	FAILS("{\"http\": {\"max_connections\": 1.5}}",
	    "t.json:1:30: http.max_connections: expected an integer between "
	    "1 and 65536");
	FAILS("{\"store\": {\"compact_bytes\": 99999999999999999999999}}",
	    "t.json:1:29: store.compact_bytes: expected an integer between "
	    "65536 and 1073741824");
	FAILS("{\"instance\": \"Bad\"}",
	    "t.json:1:14: instance: expected 1 to 24 characters from "
	    "[a-z0-9_-], starting with a letter");
	FAILS("{\"instance\": \"a234567890123456789012345\"}",
	    "t.json:1:14: instance: expected 1 to 24 characters from "
	    "[a-z0-9_-], starting with a letter");
	FAILS("{\"instance\": \"\"}",
	    "t.json:1:14: instance: expected 1 to 24 characters from "
	    "[a-z0-9_-], starting with a letter");
	FAILS("{\"paths\": {\"state_dir\": \"var/lib\"}}",
	    "t.json:1:25: paths.state_dir: expected an absolute path");
	FAILS("{\"paths\": {\"keys_dir\": \"/a/../b\"}}",
	    "t.json:1:24: paths.keys_dir: expected an absolute path without "
	    "empty, \".\" or \"..\" components");
	FAILS("{\"paths\": {\"run_dir\": \"/a//b\"}}",
	    "t.json:1:23: paths.run_dir: expected an absolute path without "
	    "empty, \".\" or \"..\" components");
	FAILS("{\"instance\": \"a\", \"instance\": \"b\"}",
	    "t.json:1:19: duplicate member \"instance\"");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"]}, "
	    "{\"role\": \"a\", \"argv\": [\"/y\"]}]}",
	    "t.json:1:55: children[1].role: duplicate role \"a\", also "
	    "children[0]");
	FAILS("{\"instance\": \"a\",}",
	    "t.json:1:18: invalid object key (must be a string)");
	FAILS("{\"instance\": \"a\"", "t.json:1:17: premature EOF");
	FAILS("{\"instance\": \"\xff\"}",
	    "t.json:1:15: invalid bytes in UTF8 string");
	FAILS("", "t.json:1:1: empty document");
	FAILS("[]", "t.json:1:1: expected an object at the top level, got array");
	FAILS("{\"instance\": \"a\\u0000b\"}",
	    "t.json:1:14: instance: must not contain a NUL byte");
}

/* Errors inside children and in the values with their own grammar. */
static void
test_child_errors(void **state)
{
	FAILS("{\"children\": {}}",
	    "t.json:1:14: children: expected an array of objects, got object");
	FAILS("{\"children\": [{\"argv\": [\"/x\"]}]}",
	    "t.json:1:15: children[0]: missing required key \"role\"");
	FAILS("{\"children\": [{\"role\": \"a\"}]}",
	    "t.json:1:15: children[0]: missing required key \"argv\"");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"x\"]}]}",
	    "t.json:1:38: children[0].argv[0]: expected an absolute program "
	    "path");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": []}]}",
	    "t.json:1:37: children[0].argv: expected 1 to 256 strings");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\", 1]}]}",
	    "t.json:1:44: children[0].argv[1]: expected a string, got number");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"], "
	    "\"env\": [\"NOEQUALS\"]}]}",
	    "t.json:1:53: children[0].env[0]: expected NAME=value");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"], "
	    "\"restart\": \"sometimes\"}]}",
	    "t.json:1:56: children[0].restart: expected \"always\", "
	    "\"on-failure\" or \"never\"");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"], "
	    "\"backoff_initial_ms\": 5000, \"backoff_max_ms\": 1000}]}",
	    "t.json:1:91: children[0].backoff_max_ms: backoff_max_ms (1000) is "
	    "less than backoff_initial_ms (5000)");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"], "
	    "\"backoff_initial_ms\": 50000}]}",
	    "t.json:1:67: children[0].backoff_initial_ms: backoff_max_ms "
	    "(30000) is less than backoff_initial_ms (50000)");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"], "
	    "\"netns\": \"../x\"}]}",
	    "t.json:1:54: children[0].netns: expected a namespace name from "
	    "[A-Za-z0-9_.-] or an absolute path");
	FAILS("{\"children\": [{\"role\": \"A\", \"argv\": [\"/x\"]}]}",
	    "t.json:1:24: children[0].role: expected 1 to 32 characters from "
	    "[a-z0-9_.-], starting with a letter or digit");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"], \"x\": 1}]}",
	    "t.json:1:45: children[0].x: unknown key (known here: role, "
	    "argv, env, netns, restart, backoff_initial_ms, backoff_max_ms, "
	    "ready_socket, start_after, ready_timeout_ms, stop_order, "
	    "stop_timeout_ms)");
	FAILS("{\"children\": [{\"role\": \"a\", \"argv\": [\"/x\"], "
	    "\"ready_socket\": \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}",
	    "t.json:1:61: children[0].ready_socket: path too long for a unix "
	    "socket (at most 107 bytes)");
	FAILS("{\"store\": {\"backend\": \"postgres\"}}",
	    "t.json:1:23: store.backend: expected \"file\" or \"pg\"");
	FAILS("{\"store\": {\"backend\": \"sqlite\"}}",
	    "t.json:1:23: store.backend: expected \"file\" or \"pg\"");
	FAILS("{\"store\": {\"sslmode\": \"verify\"}}",
	    "t.json:1:23: store.sslmode: expected disable, allow, prefer, "
	    "require, verify-ca or verify-full");
	FAILS("{\"store\": {\"sslcert\": \"client.crt\"}}",
	    "t.json:1:23: store.sslcert: expected an absolute path");
	FAILS("{\"names\": {\"link_prefix\": \"toolong\"}}",
	    "t.json:1:27: names.link_prefix: expected 1 to 6 characters from "
	    "[a-z0-9], starting with a letter");
	FAILS("{\"paths\": {\"run_dir\": \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaa\"}}",
	    "t.json:1:23: paths.run_dir: too long: a socket under it would "
	    "exceed 107 bytes");
}

/* The metrics listener grammar. */
static void
test_metrics_listen(void **state)
{
	const char	*good[] = { "", "127.0.0.1:9100", "localhost:9100",
			    "[::1]:1", "[2001:db8::1]:65535", "unix:/run/m.sock",
			    "0.0.0.0:80" };
	const char	*bad[] = { "[::1]", "1.2.3.4:0", "1.2.3.4:65536",
			    "unix:rel.sock", ":80", "host", "[1.2.3.4]:80",
			    "a_b:80", "1.2.3.4:08", "::1:80", "[::1]x:80",
			    "[]:80", "1.2.3.4:", "1.2.3.4:+80" };
	const char	*prefix = "t.json:1:24: metrics.listen: expected ";
	struct conf	*c;
	char		 text[256], err[512];
	size_t		 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "{\"metrics\": {\"listen\": \"%s\"}}",
		    good[i]);
		c = parse_ok(text);
		assert_string_equal(c->metrics_listen, good[i]);
		conf_free(c);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "{\"metrics\": {\"listen\": \"%s\"}}",
		    bad[i]);
		c = conf_parse("t.json", text, strlen(text), err, sizeof err);
		if (c != NULL)
			fail_msg("listen \"%s\" accepted", bad[i]);
		if (strncmp(err, prefix, strlen(prefix)) != 0)
			fail_msg("listen \"%s\": %s", bad[i], err);
	}
	/* A unix path is normalised like any other. */
	c = parse_ok("{\"metrics\": {\"listen\": \"unix:/run/x/m.sock/\"}}");
	assert_string_equal(c->metrics_listen, "unix:/run/x/m.sock");
	conf_free(c);
}

/* util_hostport() and util_port(): the one HOST:PORT splitter every
 * listener, peer and published address goes through. */
static void
test_hostport(void **state)
{
	const struct {
		const char	*in, *host, *port;
	} good[] = {
		{ "127.0.0.1:80", "127.0.0.1", "80" },
		{ "localhost:9100", "localhost", "9100" },
		{ "[::1]:53", "::1", "53" },
		{ "[2001:db8::1]:65535", "2001:db8::1", "65535" },
		{ "[fe80::1%eth0]:8", "fe80::1%eth0", "8" },
		{ "h:x", "h", "x" },	/* the port is the caller's to judge */
	};
	const char	*bad[] = { "", ":", "host", "host:", ":80", "[::1]",
			    "[::1]:", "::1:53", "[]:80", "[::1]x:80", "a[b:80",
			    "a]b:80", "[[::1]]:80", "[::1:80", "unix:", "2001:db8::1" };
	const struct {
		const char	*in;
		int		 rv;
		uint16_t	 port;
	} ports[] = {
		{ "1", 0, 1 }, { "80", 0, 80 }, { "65535", 0, 65535 },
		{ "0", -1, 0 }, { "65536", -1, 0 }, { "99999", -1, 0 },
		{ "080", -1, 0 }, { "+80", -1, 0 }, { "-1", -1, 0 },
		{ " 80", -1, 0 }, { "80 ", -1, 0 }, { "", -1, 0 },
		{ "100000", -1, 0 }, { "8a", -1, 0 },
	};
	char		*host, *port;
	uint16_t	 p;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (util_hostport(good[i].in, &host, &port) == -1)
			fail_msg("\"%s\" refused", good[i].in);
		assert_string_equal(host, good[i].host);
		assert_string_equal(port, good[i].port);
		free(host);
		free(port);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (util_hostport(bad[i], &host, &port) != -1)
			fail_msg("\"%s\" split into \"%s\" and \"%s\"", bad[i],
			    host, port);
	}
	for (i = 0; i < sizeof ports / sizeof ports[0]; i++) {
		p = 0;
		if (util_port(ports[i].in, &p) != ports[i].rv)
			fail_msg("port \"%s\": expected %d", ports[i].in,
			    ports[i].rv);
		if (ports[i].rv == 0)
			assert_int_equal(p, ports[i].port);
	}
}

/* A second instance gets its own name everywhere netcraved makes one. */
static void
test_second_instance(void **state)
{
	struct conf	*def, *c;

	def = conf_load(NULL, 0, NULL, 0);
	c = parse_ok("{\"instance\": \"nctest\"}");
	assert_string_equal(c->run_dir, "/run/nctest");
	assert_string_equal(c->state_dir, "/var/lib/nctest");
	assert_string_equal(c->keys_dir, "/var/lib/nctest/keys");
	assert_string_equal(c->plugin_socket, "/run/docker/plugins/nctest.sock");
	assert_string_equal(c->control_socket, "/run/nctest/control.sock");
	assert_string_equal(c->netns, "_nctest");
	assert_string_equal(c->nft_table, "nctest");
	assert_string_equal(c->metrics_listen, "unix:/run/nctest/metrics.sock");
	/* n + 5 hex digits of FNV-1a("nctest"), worked out independently. */
	assert_string_equal(c->link_prefix, "nd379e");

	assert_string_not_equal(c->run_dir, def->run_dir);
	assert_string_not_equal(c->state_dir, def->state_dir);
	assert_string_not_equal(c->keys_dir, def->keys_dir);
	assert_string_not_equal(c->plugin_socket, def->plugin_socket);
	assert_string_not_equal(c->control_socket, def->control_socket);
	assert_string_not_equal(c->netns, def->netns);
	assert_string_not_equal(c->link_prefix, def->link_prefix);
	assert_string_not_equal(c->nft_table, def->nft_table);
	assert_string_not_equal(c->metrics_listen, def->metrics_listen);
	conf_free(c);
	conf_free(def);
}

/* The link prefix leaves room in a 15-byte interface name, for any instance. */
static void
test_link_prefix_fits(void **state)
{
	struct conf	*c;
	const char	*names[] = { "a", "netcrave2", "x-y_z",
			    "abcdefghijklmnopqrstuvwx" };
	char		 text[128];
	size_t		 i, len;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(text, sizeof text, "{\"instance\": \"%s\"}", names[i]);
		c = parse_ok(text);
		len = strlen(c->link_prefix);
		assert_true(len >= 2 && len <= 6);
		assert_int_equal(c->link_prefix[0], 'n');
		assert_int_equal(strspn(c->link_prefix + 1, "0123456789abcdef"),
		    len - 1);
		assert_string_not_equal(c->link_prefix, "nc");
		assert_string_equal(c->nft_table, names[i]);
		conf_free(c);
	}
	/* The default instance keeps the short historical prefix. */
	c = parse_ok("{\"instance\": \"netcrave\"}");
	assert_string_equal(c->link_prefix, "nc");
	conf_free(c);
}

/* Derived paths follow whatever was set explicitly. */
static void
test_derived_paths(void **state)
{
	struct conf	*c;

	c = parse_ok("{\"paths\": {\"state_dir\": \"/srv/nc/\", "
	    "\"run_dir\": \"/\"}}");
	assert_string_equal(c->state_dir, "/srv/nc");
	assert_string_equal(c->keys_dir, "/srv/nc/keys");
	assert_string_equal(c->run_dir, "/");
	assert_string_equal(c->control_socket, "/control.sock");
	assert_string_equal(c->metrics_listen, "unix:/metrics.sock");
	/* Not derived from run_dir. */
	assert_string_equal(c->plugin_socket, "/run/docker/plugins/netcrave.sock");
	conf_free(c);

	c = parse_ok("{\"instance\": \"other\", \"names\": {\"link_prefix\": "
	    "\"ot\"}, \"metrics\": {\"listen\": \"\"}}");
	assert_string_equal(c->link_prefix, "ot");
	assert_string_equal(c->netns, "_other");
	assert_string_equal(c->metrics_listen, "");
	conf_free(c);
}

/* A schema of one scope with body as its other members (after its name). */
#define SCOPE(body)	"{\"scopes\": [{\"name\": \"a\", " body "}]}"
/* A scope a with one child b whose members are child. */
#define NESTED(parent, child) \
	"{\"scopes\": [{\"name\": \"a\", " parent ", \"scopes\": " \
	"[{\"name\": \"b\", " child "}]}]}"

/* The shape of each scope and of the scope arrays. */
static void
test_scope_shape_errors(void **state)
{
	struct conf	*c;

	FAILS("{\"scopes\": {}}",
	    "t.json:1:12: scopes: expected an array of objects, got object");
	FAILS("{\"scopes\": [1]}",
	    "t.json:1:13: scopes[0]: expected an object, got number");
	FAILS("{\"scopes\": [{\"ipv4_network\": null}]}",
	    "t.json:1:13: scopes[0]: missing required key \"name\"");
	FAILS("{\"scopes\": [{\"name\": \"A\"}]}",
	    "t.json:1:22: scopes[0].name: expected 1 to 32 characters from "
	    "[a-z0-9_.-], starting with a letter or digit");
	FAILS("{\"scopes\": [{\"name\": \"a23456789012345678901234567890123\"}]}",
	    "t.json:1:22: scopes[0].name: expected 1 to 32 characters from "
	    "[a-z0-9_.-], starting with a letter or digit");
	FAILS("{\"scopes\": [{\"name\": \"-a\"}]}",
	    "t.json:1:22: scopes[0].name: expected 1 to 32 characters from "
	    "[a-z0-9_.-], starting with a letter or digit");
	FAILS(SCOPE("\"colour\": 1"),
	    "t.json:1:27: scopes[0] (a).colour: unknown key (known here: name, "
	    "ipv4_network, ipv6_network, ipv4_prefix_length, "
	    "ipv6_prefix_length, tags, egress, ingress, scopes)");
	FAILS("{\"scopes\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
	    "t.json:1:37: scopes[1] (a).name: duplicate name \"a\", also "
	    "scopes[0]");
	FAILS(NESTED("\"ipv4_network\": \"10.0.0.0/16\"",
	    "\"tags\": \"x\""),
	    "t.json:1:91: scopes[0].scopes[0] (a/b).tags: expected an array of "
	    "strings, got string");
	FAILS(SCOPE("\"tags\": [\"Bad\"]"),
	    "t.json:1:36: scopes[0] (a).tags[0]: expected a tag: 1 to 32 "
	    "characters from [a-z0-9_.-], starting with a letter or digit");
	FAILS(SCOPE("\"ipv4_network\": 10"),
	    "t.json:1:43: scopes[0] (a).ipv4_network: expected a string, got "
	    "number");
	FAILS(SCOPE("\"scopes\": null"),
	    "t.json:1:37: scopes[0] (a).scopes: expected an array of objects, "
	    "got null");
	/* Names are unique among siblings only. */
	c = parse_ok("{\"scopes\": [{\"name\": \"a\", \"scopes\": "
	    "[{\"name\": \"a\"}]}, {\"name\": \"b\", \"scopes\": "
	    "[{\"name\": \"a\"}]}, {\"name\": \"d\", \"ipv4_network\": "
	    "\"10.0.0.0/16\", \"ipv4_prefix_length\": 24, \"tags\": "
	    "[\"default\"]}]}");
	assert_string_equal(c->scopes[0].children[0].path, "a/a");
	assert_string_equal(c->scopes[1].children[0].path, "b/a");
	conf_free(c);
}

/* Prefixes: strict, of the key's family, inside the parent, apart. */
static void
test_scope_prefix_errors(void **state)
{
	FAILS(SCOPE("\"ipv4_network\": \"10.0.0.1/16\""),
	    "t.json:1:43: scopes[0] (a).ipv4_network: \"10.0.0.1/16\" has "
	    "host bits set (did you mean 10.0.0.0/16?)");
	FAILS(SCOPE("\"ipv4_network\": \"fd00::/16\""),
	    "t.json:1:43: scopes[0] (a).ipv4_network: fd00::/16 is not an "
	    "IPv4 prefix");
	FAILS(SCOPE("\"ipv6_network\": \"10.0.0.0/16\""),
	    "t.json:1:43: scopes[0] (a).ipv6_network: 10.0.0.0/16 is not an "
	    "IPv6 prefix");
	FAILS(SCOPE("\"ipv4_network\": \"10.0.0.0\""),
	    "t.json:1:43: scopes[0] (a).ipv4_network: 10.0.0.0: expected an "
	    "IPv4 prefix ADDRESS/LEN, \"auto/LEN\" or null");
	FAILS(SCOPE("\"ipv4_network\": \"10.0.0.0/33\""),
	    "t.json:1:43: scopes[0] (a).ipv4_network: \"10.0.0.0/33\": prefix "
	    "length must be 0 to 32");
	FAILS(SCOPE("\"ipv4_network\": \"auto/7\""),
	    "t.json:1:43: scopes[0] (a).ipv4_network: auto/7: expected a "
	    "length from 8 to 30 at the top level");
	FAILS(SCOPE("\"ipv4_network\": \"auto/31\""),
	    "t.json:1:43: scopes[0] (a).ipv4_network: auto/31: expected a "
	    "length from 8 to 30 at the top level");
	FAILS(SCOPE("\"ipv6_network\": \"auto/65\""),
	    "t.json:1:43: scopes[0] (a).ipv6_network: auto/65: expected a "
	    "length from 8 to 64 at the top level");
	FAILS(SCOPE("\"ipv6_network\": \"auto/016\""),
	    "t.json:1:43: scopes[0] (a).ipv6_network: auto/016: expected "
	    "\"auto/LEN\" with LEN a decimal number");
	FAILS(SCOPE("\"ipv6_network\": \"auto/\""),
	    "t.json:1:43: scopes[0] (a).ipv6_network: auto/: expected "
	    "\"auto/LEN\" with LEN a decimal number");
	/* The example of the manual. */
	FAILS(NESTED("\"ipv4_network\": \"10.0.0.0/16\"",
	    "\"ipv4_network\": \"10.1.0.0/16\""),
	    "t.json:1:99: scopes[0].scopes[0] (a/b).ipv4_network: 10.1.0.0/16 "
	    "is not inside the parent's 10.0.0.0/16");
	FAILS(NESTED("\"ipv4_network\": \"10.0.0.0/16\"",
	    "\"ipv4_network\": \"10.0.0.0/16\""),
	    "t.json:1:99: scopes[0].scopes[0] (a/b).ipv4_network: 10.0.0.0/16 "
	    "is the whole of the parent's prefix; a child must be smaller");
	FAILS(NESTED("\"ipv6_network\": \"fd00::/16\"",
	    "\"ipv6_network\": \"fd01::/32\""),
	    "t.json:1:97: scopes[0].scopes[0] (a/b).ipv6_network: fd01::/32 "
	    "is not inside the parent's fd00::/16");
	FAILS(NESTED("\"ipv4_network\": \"auto/16\"",
	    "\"ipv4_network\": \"10.0.0.0/20\""),
	    "t.json:1:95: scopes[0].scopes[0] (a/b).ipv4_network: 10.0.0.0/20: "
	    "an explicit prefix cannot be checked inside the parent's auto/16, "
	    "which is chosen at the first start");
	FAILS(NESTED("\"ipv4_network\": \"auto/16\"",
	    "\"ipv4_network\": \"auto/16\""),
	    "t.json:1:95: scopes[0].scopes[0] (a/b).ipv4_network: auto/16: "
	    "expected a length from 17 to 32, longer than the parent's auto/16");
	FAILS(NESTED("\"ipv6_network\": \"fd00::/16\"",
	    "\"ipv6_network\": \"auto/8\""),
	    "t.json:1:97: scopes[0].scopes[0] (a/b).ipv6_network: auto/8: "
	    "expected a length from 17 to 128, longer than the parent's "
	    "fd00::/16");
	FAILS(NESTED("\"ipv6_network\": \"auto/48\"",
	    "\"ipv4_network\": \"auto/20\""),
	    "t.json:1:95: scopes[0].scopes[0] (a/b).ipv4_network: auto/20: the "
	    "parent scope a has no ipv4_network");
	FAILS(NESTED("\"ipv4_network\": \"auto/16\"",
	    "\"ipv6_network\": \"fd00::/64\""),
	    "t.json:1:95: scopes[0].scopes[0] (a/b).ipv6_network: fd00::/64: "
	    "the parent scope a has no ipv6_network");
	/* Explicit siblings, at the top and below, do not overlap. */
	FAILS("{\"scopes\": [{\"name\": \"a\", \"ipv4_network\": \"10.0.0.0/16\"}, "
	    "{\"name\": \"b\", \"ipv4_network\": \"10.0.128.0/17\"}]}",
	    "t.json:1:89: scopes[1] (b).ipv4_network: 10.0.128.0/17 overlaps "
	    "10.0.0.0/16 of scope a");
	FAILS("{\"scopes\": [{\"name\": \"a\", \"ipv6_network\": \"fd00::/16\", "
	    "\"scopes\": [{\"name\": \"x\", \"ipv6_network\": \"fd00:0:1::/48\"}, "
	    "{\"name\": \"y\", \"ipv6_network\": \"auto/32\"}, "
	    "{\"name\": \"z\", \"ipv6_network\": \"fd00::/32\"}]}]}",
	    "t.json:1:187: scopes[0].scopes[2] (a/z).ipv6_network: fd00::/32 "
	    "overlaps fd00:0:1::/48 of scope a/x");
}

/* Template lengths and the tagged scopes that need them. */
static void
test_scope_length_errors(void **state)
{
	FAILS(SCOPE("\"ipv4_prefix_length\": 24"),
	    "t.json:1:49: scopes[0] (a).ipv4_prefix_length: 24, but the scope "
	    "has no ipv4_network");
	FAILS(SCOPE("\"ipv4_network\": \"auto/16\", \"ipv6_prefix_length\": 64"),
	    "t.json:1:76: scopes[0] (a).ipv6_prefix_length: 64, but the scope "
	    "has no ipv6_network");
	FAILS(SCOPE("\"ipv4_network\": \"10.0.0.0/24\", "
	    "\"ipv4_prefix_length\": 24"),
	    "t.json:1:80: scopes[0] (a).ipv4_prefix_length: 24: expected a "
	    "length from 25 to 30, longer than the scope's 10.0.0.0/24");
	FAILS(SCOPE("\"ipv6_network\": \"auto/64\", \"ipv6_prefix_length\": 48"),
	    "t.json:1:76: scopes[0] (a).ipv6_prefix_length: 48: expected a "
	    "length from 65 to 124, longer than the scope's auto/64");
	FAILS(SCOPE("\"ipv4_network\": \"10.0.0.0/30\", "
	    "\"ipv4_prefix_length\": 30"),
	    "t.json:1:80: scopes[0] (a).ipv4_prefix_length: 30: the scope's "
	    "10.0.0.0/30 leaves no room for networks (at most /30)");
	FAILS(SCOPE("\"ipv4_network\": \"10.0.0.0/16\", "
	    "\"ipv4_prefix_length\": 31"),
	    "t.json:1:80: scopes[0] (a).ipv4_prefix_length: expected an integer "
	    "between 0 and 30");
	FAILS(SCOPE("\"ipv6_network\": \"fd00::/16\", "
	    "\"ipv6_prefix_length\": 125"),
	    "t.json:1:78: scopes[0] (a).ipv6_prefix_length: expected an integer "
	    "between 0 and 124");
	FAILS(SCOPE("\"ipv4_network\": \"10.0.0.0/16\", \"tags\": [\"x\"]"),
	    "t.json:1:66: scopes[0] (a).tags: a scope with a tag must hand out "
	    "networks: set ipv4_prefix_length or ipv6_prefix_length");
}

/* The tag rules, which span the whole schema. */
static void
test_scope_tag_errors(void **state)
{
#define TAGGED(name, prefix, more) \
	"{\"name\": \"" name "\", \"ipv4_network\": \"" prefix "\", " \
	"\"ipv4_prefix_length\": 24" more "}"

	FAILS("{\"scopes\": [" TAGGED("a", "10.0.0.0/16", ", \"tags\": [\"x\"]")
	    ", " TAGGED("b", "10.1.0.0/16", ", \"tags\": [\"y\", \"x\"]")
	    "]}",
	    "t.json:1:185: scopes[1] (b).tags[1]: \"x\" is also a tag of a");
	/* Duplicates within one scope, and the earliest repeat is named. */
	FAILS("{\"scopes\": [" TAGGED("a", "10.0.0.0/16",
	    ", \"tags\": [\"z\", \"default\", \"y\", \"z\", \"y\"]") "]}",
	    "t.json:1:114: scopes[0] (a).tags[3]: \"z\" is also a tag of a");
	FAILS("{\"scopes\": [" TAGGED("a", "10.0.0.0/16",
	    ", \"tags\": [\"default\", \"internet\"]") "]}",
	    "t.json:1:104: scopes[0] (a).tags[1]: \"internet\" is reserved "
	    "(uplink_tag)");
	FAILS("{\"host_tag\": \"me\", \"scopes\": [" TAGGED("a", "10.0.0.0/16",
	    ", \"tags\": [\"me\"]") "]}",
	    "t.json:1:111: scopes[0] (a).tags[0]: \"me\" is reserved "
	    "(host_tag)");
	/* waf.egress_tag is reserved too, and an egress list may name it. */
	FAILS("{\"waf\": {\"egress_tag\": \"px\"}, \"scopes\": ["
	    TAGGED("a", "10.0.0.0/16", ", \"tags\": [\"default\", \"px\"]") "]}",
	    "t.json:1:133: scopes[0] (a).tags[1]: \"px\" is reserved "
	    "(waf.egress_tag)");
	FAILS("{\"waf\": {\"egress_tag\": \"px\"}, \"scopes\": ["
	    TAGGED("a", "10.0.0.0/16", ", \"tags\": [\"default\"], "
	    "\"egress\": [\"px\", \"nowhere\"]") "]}",
	    "t.json:1:151: scopes[0] (a).egress[1]: \"nowhere\" is not a scope's "
	    "tag, nor uplink_tag \"internet\" or host_tag \"host\"");
	FAILS("{\"scopes\": [" TAGGED("a", "10.0.0.0/16",
	    ", \"tags\": [\"default\"], \"egress\": [\"nowhere\"]") "]}",
	    "t.json:1:116: scopes[0] (a).egress[0]: \"nowhere\" is not a scope's "
	    "tag, nor uplink_tag \"internet\" or host_tag \"host\"");
	FAILS("{\"scopes\": [{\"name\": \"p\", \"ipv4_network\": \"10.0.0.0/8\", "
	    "\"scopes\": [" TAGGED("a", "10.0.0.0/16",
	    ", \"tags\": [\"default\"], \"ingress\": [\"host\", \"host\"]")
	    "]}]}",
	    "t.json:1:180: scopes[0].scopes[0] (p/a).ingress[1]: \"host\" is "
	    "listed twice");
	FAILS("{\"scopes\": [" TAGGED("a", "10.0.0.0/16", ", \"tags\": [\"web\"]")
	    "]}",
	    "t.json:1:12: scopes: no scope has the default_tag \"default\"");
	FAILS("{\"default_tag\": \"web\", \"scopes\": [" TAGGED("a",
	    "10.0.0.0/16", ", \"tags\": [\"x\"]") "]}",
	    "t.json:1:17: default_tag: no scope has the tag \"web\"");
	FAILS("{\"uplink_tag\": \"host\"}",
	    "t.json:1:16: uplink_tag: \"host\" is also host_tag");
	FAILS("{\"default_tag\": \"internet\"}",
	    "t.json:1:17: default_tag: \"internet\" is also uplink_tag");
	FAILS("{\"host_tag\": \"default\"}",
	    "t.json:1:14: host_tag: \"default\" is also default_tag");
	FAILS("{\"default_tag\": \"Web\"}",
	    "t.json:1:17: default_tag: expected a tag: 1 to 32 characters from "
	    "[a-z0-9_.-], starting with a letter or digit");
	/* The default schema keeps its own tags. */
	FAILS("{\"host_tag\": \"docker-local-egress\"}",
	    "t.json:1:14: host_tag: \"docker-local-egress\" is a tag of the "
	    "default schema's scope netcrave/docker-local-egress");
	FAILS("{\"default_tag\": \"docker-internet-ingress\"}",
	    "t.json:1:17: default_tag: \"docker-internet-ingress\" is a tag of "
	    "the default schema's scope netcrave/docker-internet-ingress");
#undef TAGGED
}

/* Depth and size are capped; a file at the caps still loads. */
static void
test_scope_limits(void **state)
{
	struct conf	*c;
	char		*text, *p, err[512];
	size_t		 i, size = 1024 * 1024;
	int		 depth;

	/* Nested: each level a /N+1 inside the /N above, auto all the way. */
	for (depth = 8; depth <= 9; depth++) {
		text = p = xmalloc(size);
		p += sprintf(p, "{\"default_tag\": \"t\", \"scopes\": [");
		for (i = 0; i < (size_t)depth; i++)
			p += sprintf(p, "%s{\"name\": \"l%zu\", "
			    "\"ipv4_network\": \"auto/%zu\"%s",
			    i == 0 ? "" : ", \"scopes\": [", i, 16 + i,
			    i + 1 == (size_t)depth ? ", \"ipv4_prefix_length\": "
			    "30, \"tags\": [\"t\"]" : "");
		for (i = 0; i < (size_t)depth; i++)
			p += sprintf(p, "}]");
		p += sprintf(p, "}");
		c = conf_parse("t.json", text, strlen(text), err, sizeof err);
		if (depth == 8) {
			if (c == NULL)
				fail_msg("depth 8: %s", err);
			assert_string_equal(c->scopes[0].children[0].children[0]
			    .children[0].children[0].children[0].children[0]
			    .children[0].path, "l0/l1/l2/l3/l4/l5/l6/l7");
			conf_free(c);
		} else {
			assert_null(c);
			assert_string_equal(err, "t.json:1:456: "
			    "scopes[0].scopes[0].scopes[0].scopes[0].scopes[0]"
			    ".scopes[0].scopes[0].scopes[0] "
			    "(l0/l1/l2/l3/l4/l5/l6/l7).scopes: scopes nested "
			    "more than 8 deep");
		}
		free(text);
	}

	/* Wide: 1024 scopes in all load, 1025 do not. */
	for (i = 1024; i <= 1025; i++) {
		size_t	j;

		text = p = xmalloc(size);
		p += sprintf(p, "{\"scopes\": [{\"name\": \"r\", "
		    "\"ipv4_network\": \"10.0.0.0/8\", \"ipv4_prefix_length\": 24, "
		    "\"tags\": [\"default\"], \"scopes\": [");
		for (j = 1; j < i; j++)
			p += sprintf(p, "%s{\"name\": \"s%zu\"}", j == 1 ? "" :
			    ", ", j);
		p += sprintf(p, "]}]}");
		c = conf_parse("t.json", text, strlen(text), err, sizeof err);
		if (i == 1024) {
			if (c == NULL)
				fail_msg("1024 scopes: %s", err);
			assert_int_equal(c->scopes[0].nchildren, 1023);
			conf_free(c);
		} else {
			assert_null(c);
			assert_string_equal(err, "t.json:1:114: "
			    "scopes[0] (r).scopes: more than 1024 scopes in the "
			    "schema");
		}
		free(text);
	}
}

/* A schema of every kind of scope reads back as written, and prints stably. */
static void
test_scope_round_trip(void **state)
{
	const char	*text =
	    "{\n"
	    "  \"uplink_tag\": \"wan\",\n"
	    "  \"scopes\": [\n"
	    "    { \"name\": \"v4\", \"ipv4_network\": \"198.18.0.0/15\",\n"
	    "      \"scopes\": [\n"
	    "        { \"name\": \"fixed\", \"ipv4_network\": \"198.18.0.0/24\",\n"
	    "          \"ipv4_prefix_length\": 28, \"tags\": [\"default\"],\n"
	    "          \"egress\": [\"wan\", \"six\"], \"ingress\": [\"host\"] },\n"
	    "        { \"name\": \"auto\", \"ipv4_network\": \"auto/20\",\n"
	    "          \"ipv4_prefix_length\": 24, \"tags\": [\"pool\"],\n"
	    "          \"scopes\": [\n"
	    "            { \"name\": \"deep\", \"ipv4_network\": \"auto/22\" }\n"
	    "          ] }\n"
	    "      ] },\n"
	    "    { \"name\": \"v6\", \"ipv6_network\": \"FD00:AB::/32\",\n"
	    "      \"ipv6_prefix_length\": 64, \"tags\": [\"six\"],\n"
	    "      \"ingress\": [\"default\", \"pool\"] },\n"
	    "    { \"name\": \"v4b\", \"ipv4_network\": \"198.20.0.0/16\" },\n"
	    "    { \"name\": \"both\", \"ipv4_network\": \"auto/12\",\n"
	    "      \"ipv6_network\": \"auto/48\" }\n"
	    "  ]\n"
	    "}\n";
	struct conf		*c, *again;
	const struct conf_scope	*s;
	char			*out, *out2, err[512];

	c = parse_ok(text);
	assert_string_equal(c->default_tag, "default");
	assert_string_equal(c->uplink_tag, "wan");
	assert_string_equal(c->host_tag, "host");
	assert_int_equal(c->nscopes, 4);
	s = &c->scopes[0];
	assert_string_equal(s->path, "v4");
	assert_null(s->ipv6_network);
	assert_int_equal(s->ipv4_prefix_length, 0);
	assert_null(s->tags[0]);
	assert_int_equal(s->nchildren, 2);
	assert_string_equal(s->children[0].path, "v4/fixed");
	assert_string_equal(s->children[0].egress[1], "six");
	assert_null(s->children[0].egress[2]);
	assert_string_equal(s->children[1].children[0].path, "v4/auto/deep");
	assert_string_equal(s->children[1].children[0].ipv4_network, "auto/22");
	assert_int_equal(s->children[1].children[0].ipv4_prefix_length, 0);
	assert_null(s->children[1].children[0].children);
	s = &c->scopes[1];
	assert_string_equal(s->ipv6_network, "fd00:ab::/32");
	assert_int_equal(s->ipv6_prefix_length, 64);
	assert_string_equal(s->ingress[1], "pool");
	assert_string_equal(c->scopes[3].ipv4_network, "auto/12");
	assert_string_equal(c->scopes[3].ipv6_network, "auto/48");

	out = printed(c);
	again = conf_parse("printed", out, strlen(out), err, sizeof err);
	if (again == NULL)
		fail_msg("%s\n%s", err, out);
	out2 = printed(again);
	assert_string_equal(out2, out);
	free(out2);
	free(out);
	conf_free(again);
	conf_free(c);

	/* An empty schema is allowed, prints as such and is not the default. */
	c = parse_ok("{\"scopes\": []}");
	assert_int_equal(c->nscopes, 0);
	assert_null(c->scopes);
	out = printed(c);
	assert_non_null(strstr(out, "\"scopes\": []\n}\n"));
	again = parse_ok(out);
	assert_int_equal(again->nscopes, 0);
	free(out);
	conf_free(again);
	conf_free(c);
}

/* Renamed tags reach the default schema's lists. */
static void
test_default_schema_tags(void **state)
{
	struct conf	*c, *again;
	char		*out, *out2;

	c = parse_ok("{\"default_tag\": \"web\", \"uplink_tag\": \"wan\", "
	    "\"host_tag\": \"me\"}");
	check_default_schema(c, "web", "wan", "me");
	out = printed(c);
	again = parse_ok(out);
	check_default_schema(again, "web", "wan", "me");
	out2 = printed(again);
	assert_string_equal(out2, out);
	free(out2);
	free(out);
	conf_free(again);
	conf_free(c);
}

/* Files that are not readable configurations. */
static void
test_load_errors(void **state)
{
	struct conf	*c;
	char		 err[512], path[] = "/tmp/test_conf.XXXXXX";
	FILE		*f;
	int		 fd;

	c = conf_load("/", 0, err, sizeof err);
	assert_null(c);
	assert_string_equal(err, "/: not a regular file");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("{\n  \"log_level\": \"debug\",\n  \"http\": {\n"
	    "    \"max_body_bytes\": 12\n  }\n}\n", f);
	fclose(f);
	c = conf_load(path, 1, err, sizeof err);
	assert_null(c);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_string_equal(err + strlen(path), ":4:23: http.max_body_bytes: "
	    "expected an integer between 1024 and 1073741824");
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_default_golden),
		cmocka_unit_test(test_full_golden),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_child_errors),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_second_instance),
		cmocka_unit_test(test_link_prefix_fits),
		cmocka_unit_test(test_derived_paths),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_scope_shape_errors),
		cmocka_unit_test(test_scope_prefix_errors),
		cmocka_unit_test(test_scope_length_errors),
		cmocka_unit_test(test_scope_tag_errors),
		cmocka_unit_test(test_scope_limits),
		cmocka_unit_test(test_scope_round_trip),
		cmocka_unit_test(test_default_schema_tags),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
