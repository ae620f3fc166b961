/* test_plugin.c: the Docker plugin API's answers, through the real HTTP layer on a
 * private unix socket, as dockerd would see them. */
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
#include <event2/buffer.h>
#include <event2/event.h>

#include "http.h"
#include "json.h"
#include "log.h"
#include "plugin.h"

struct fixture {
	struct event_base	*base;
	struct http_server	*server;
	struct http_client	*client;
	char			 dir[64];
	char			 path[128];
};

struct answer {
	int	 status;
	char	*body;
	int	 done;
};

/* Start the plugin routes on a private socket with a client connected to it. */
static int
setup(void **state)
{
	struct fixture			*f = calloc(1, sizeof *f);
	struct http_limits		 limits = { 16384, 65536, 5000, 64, 0, 0, 0 };
	struct http_client_target	 target;
	char				 err[256];

	log_init(1, LOG_LEVEL_INFO, "test_plugin");
	strcpy(f->dir, "/tmp/nc-test-plugin.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/plugin.sock", f->dir);
	f->base = event_base_new();
	f->server = http_server_new(f->base, "plugin", &limits, plugin_routes,
	    plugin_nroutes, plugin_error, NULL);
	assert_int_equal(http_server_listen_unix(f->server, f->path, 0600, err,
	    sizeof err), 0);
	memset(&target, 0, sizeof target);
	target.unix_path = f->path;
	f->client = http_client_new(f->base, &target, 5000, 1 << 20);
	*state = f;
	return (0);
}

/* Stop everything and remove the directory. */
static int
teardown(void **state)
{
	struct fixture	*f = *state;

	http_client_free(f->client);
	http_server_free(f->server);
	event_base_free(f->base);
	rmdir(f->dir);
	free(f);
	return (0);
}

/* Record the answer and stop the loop. */
static void
on_answer(const struct http_response *resp, const char *error, void *arg)
{
	struct answer	*a = arg;
	struct evbuffer	*body;
	size_t		 len;

	a->done = 1;
	if (resp == NULL) {
		a->status = -1;
		a->body = strdup(error);
		return;
	}
	a->status = http_response_status(resp);
	body = http_response_body(resp);
	len = evbuffer_get_length(body);
	a->body = calloc(1, len + 1);
	evbuffer_remove(body, a->body, len);
}

/* POST path with body the way dockerd does; wait for the answer. */
static void
call(struct fixture *f, const char *path, const char *body, struct answer *a)
{
	static const char *const headers[] = {
		"Accept: application/vnd.docker.plugins.v1.2+json",
		NULL
	};

	memset(a, 0, sizeof *a);
	http_client_send(f->client, "POST", path, headers, body,
	    body != NULL ? strlen(body) : 0, NULL, on_answer, a);
	while (!a->done)
		event_base_loop(f->base, EVLOOP_ONCE);
}

/* The answer's Err member, checked to be the only member. */
static char *
answer_err(const struct answer *a)
{
	struct json_error	 jerr;
	struct json		*doc;
	char			*err;

	doc = json_parse(a->body, strlen(a->body), 0, &jerr);
	assert_non_null(doc);
	assert_int_equal(doc->type, JSON_OBJECT);
	assert_int_equal(doc->nchildren, 1);
	assert_non_null(json_get_string(doc, "Err"));
	err = strdup(json_get_string(doc, "Err"));
	json_free(doc);
	return (err);
}

/* Activate with an empty body lists the three APIs. */
static void
test_activate(void **state)
{
	struct answer	a;

	call(*state, "/Plugin.Activate", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body,
	    "{\"Implements\":[\"NetworkDriver\",\"IpamDriver\",\"VolumeDriver\"]}");
	free(a.body);
}

/* The capabilities of each API. */
static void
test_capabilities(void **state)
{
	struct answer	a;

	call(*state, "/NetworkDriver.GetCapabilities", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body,
	    "{\"Scope\":\"local\",\"ConnectivityScope\":\"local\"}");
	free(a.body);
	call(*state, "/IpamDriver.GetCapabilities", "{}\n", &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body,
	    "{\"RequiresMACAddress\":false,\"RequiresRequestReplay\":false}");
	free(a.body);
	call(*state, "/VolumeDriver.Capabilities", NULL, &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"Capabilities\":{\"Scope\":\"local\"}}");
	free(a.body);
}

/*
 * Swarm's AllocateNetwork and FreeNetwork: both need a NetworkID; with no address
 * schema loaded (no network server here) no pool is netcrave's, and the answer
 * says which IPAM driver to use.  FreeNetwork has nothing to free.
 */
static void
test_swarm_allocate(void **state)
{
	struct answer	 a;
	char		*err;

	call(*state, "/NetworkDriver.AllocateNetwork", "{\"Options\":{}}\n", &a);
	assert_int_equal(a.status, 400);
	err = answer_err(&a);
	assert_string_equal(err, "netcrave: NetworkDriver.AllocateNetwork: "
	    "NetworkID is missing");
	free(err);
	free(a.body);

	call(*state, "/NetworkDriver.AllocateNetwork", "{\"NetworkID\":\"n1\","
	    "\"Options\":{},\"IPv4Data\":[{\"AddressSpace\":\"\",\"Pool\":"
	    "\"198.18.7.0/24\",\"Gateway\":\"198.18.7.1/24\"}],\"IPv6Data\":"
	    "[]}\n", &a);
	assert_int_equal(a.status, 400);
	err = answer_err(&a);
	assert_non_null(strstr(err, "pool 198.18.7.0/24 is not from netcrave's "
	    "address schema"));
	free(err);
	free(a.body);

	call(*state, "/NetworkDriver.AllocateNetwork", "{\"NetworkID\":\"n1\","
	    "\"IPv4Data\":[],\"IPv6Data\":[]}", &a);
	assert_int_equal(a.status, 400);
	err = answer_err(&a);
	assert_non_null(strstr(err, "neither IPv4Data nor IPv6Data"));
	free(err);
	free(a.body);

	call(*state, "/NetworkDriver.FreeNetwork", "{\"NetworkID\":\"n1\"}\n", &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{}");
	free(a.body);

	call(*state, "/NetworkDriver.FreeNetwork", "{}", &a);
	assert_int_equal(a.status, 400);
	free(a.body);
}

/* Bad bodies: 400 with the position; unknown endpoints: 404; all JSON. */
static void
test_bad_input(void **state)
{
	struct answer	 a;
	char		*err;

	call(*state, "/NetworkDriver.CreateNetwork", "{\"NetworkID\":", &a);
	assert_int_equal(a.status, 400);
	err = answer_err(&a);
	assert_non_null(strstr(err, "netcrave: NetworkDriver.CreateNetwork: "
	    "malformed JSON at 1:"));
	free(err);
	free(a.body);

	call(*state, "/NetworkDriver.CreateNetwork", "\"just a string\"", &a);
	assert_int_equal(a.status, 400);
	err = answer_err(&a);
	assert_non_null(strstr(err, "must be a JSON object"));
	free(err);
	free(a.body);

	call(*state, "/NetworkDriver.Frobnicate", "{}", &a);
	assert_int_equal(a.status, 404);
	err = answer_err(&a);
	assert_true(strncmp(err, "netcrave: ", 10) == 0);
	free(err);
	free(a.body);

	/* And the connection still serves. */
	call(*state, "/Plugin.Activate", NULL, &a);
	assert_int_equal(a.status, 200);
	free(a.body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_activate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swarm_allocate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
