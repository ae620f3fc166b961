/* test_runtime.c: the configurations netcraved writes for the dockerd and
 * containerd it supervises: valid JSON and TOML naming only our paths. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "json.h"
#include "runtime.h"

static struct conf *
parse(const char *text)
{
	struct conf	*c;
	char		 err[512];

	c = conf_parse("t.json", text, strlen(text), err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	return (c);
}

/* Defaults: roots derived from the instance's state and run dirs. */
static void
test_defaults(void **state)
{
	struct conf	*c = parse("{\"instance\": \"rt\"}");
	char		*s;

	assert_int_equal(c->runtime_mode, CONF_RUNTIME_EXTERNAL);
	assert_string_equal(c->runtime_root, "/var/lib/rt/runtime");
	assert_string_equal(c->runtime_exec_root, "/run/rt/runtime");
	assert_string_equal(c->runtime_bin_dir, "/opt/netcrave/bin");
	s = runtime_dockerd_socket(c);
	assert_string_equal(s, "/run/rt/runtime/docker.sock");
	free(s);
	s = runtime_containerd_socket(c);
	assert_string_equal(s, "/run/rt/runtime/containerd/containerd.sock");
	free(s);
	/* External runtimes are the system's: its namespace is not ours to pick. */
	assert_null(c->runtime_netns);
	conf_free(c);

	/* Supervised: the routing namespace, unless the file says otherwise. */
	c = parse("{\"instance\": \"rt\", \"runtime\": {\"mode\": \"supervised\"}}");
	assert_string_equal(c->runtime_netns, "_rt");
	conf_free(c);
	c = parse("{\"runtime\": {\"mode\": \"supervised\", \"netns\": null}}");
	assert_null(c->runtime_netns);
	conf_free(c);
	c = parse("{\"runtime\": {\"mode\": \"supervised\", \"netns\": \"dk\"}}");
	assert_string_equal(c->runtime_netns, "dk");
	conf_free(c);
}

/* daemon.json: every path ours, no iptables, no bridge, driver only if set. */
static void
test_dockerd_json(void **state)
{
	struct conf		*c;
	struct json		*doc;
	const struct json	*hosts;
	struct json_error	 jerr;
	char			*text;
	int			 b;

	c = parse("{\"runtime\": {\"mode\": \"supervised\", \"root\": \"/r\", "
	    "\"exec_root\": \"/x\"}}");
	text = runtime_dockerd_json(c);
	doc = json_parse(text, strlen(text), 0, &jerr);
	if (doc == NULL)
		fail_msg("daemon.json does not parse: %s\n%s", jerr.message, text);
	assert_string_equal(json_get_string(doc, "data-root"), "/r/docker");
	assert_string_equal(json_get_string(doc, "exec-root"), "/x/docker");
	assert_string_equal(json_get_string(doc, "pidfile"), "/x/docker.pid");
	assert_string_equal(json_get_string(doc, "containerd"),
	    "/x/containerd/containerd.sock");
	assert_string_equal(json_get_string(doc, "deprecated-key-path"),
	    "/r/key.json");
	assert_string_equal(json_get_string(doc, "bridge"), "none");
	assert_int_equal(json_get_bool(doc, "iptables", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(json_get_bool(doc, "ip6tables", &b), 0);
	assert_int_equal(b, 0);
	hosts = json_get(doc, "hosts");
	assert_non_null(hosts);
	assert_int_equal(hosts->type, JSON_ARRAY);
	assert_int_equal(hosts->nchildren, 1);
	assert_string_equal(hosts->children[0]->string, "unix:///x/docker.sock");
	assert_null(json_get(doc, "storage-driver"));
	json_free(doc);
	free(text);
	conf_free(c);

	c = parse("{\"runtime\": {\"storage_driver\": \"vfs\"}}");
	text = runtime_dockerd_json(c);
	doc = json_parse(text, strlen(text), 0, &jerr);
	assert_non_null(doc);
	assert_string_equal(json_get_string(doc, "storage-driver"), "vfs");
	json_free(doc);
	free(text);
	conf_free(c);
}

/* config.toml: version 2, our roots and socket, CRI off. */
static void
test_containerd_toml(void **state)
{
	struct conf	*c;
	char		*text;

	c = parse("{\"runtime\": {\"root\": \"/r\", \"exec_root\": \"/x\"}}");
	text = runtime_containerd_toml(c);
	assert_non_null(strstr(text, "\nversion = 2\n"));
	assert_non_null(strstr(text, "\nroot = \"/r/containerd\"\n"));
	assert_non_null(strstr(text, "\nstate = \"/x/containerd\"\n"));
	assert_non_null(strstr(text,
	    "[grpc]\n  address = \"/x/containerd/containerd.sock\"\n"));
	assert_non_null(strstr(text,
	    "[ttrpc]\n  address = \"/x/containerd/containerd.sock.ttrpc\"\n"));
	assert_non_null(strstr(text, "io.containerd.grpc.v1.cri"));
	free(text);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dockerd_json),
		cmocka_unit_test(test_containerd_toml),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
