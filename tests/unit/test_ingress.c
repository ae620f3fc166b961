/* test_ingress.c: haproxy.cfg generation against a golden file (pushed slots,
 * free slots, the SRV template, DNS-only, TLS backends, the WAF hook and its
 * return frontend, ACME), host validation, names, and the runtime-API queue
 * holding lines while haproxy is down. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "ingress.h"
#include "log.h"

/* The golden file's path placeholders; tests/integration/ingress.sh fills
 * them in and runs haproxy -c on the result. */
#define DIR	"@DIR@"

static char *
read_file(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 len;

	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return (buf);
}

static void
test_golden(void **state)
{
	static char		 c1[] = "c1", c3[] = "c3", c4[] = "c4", c9[] = "c9";
	static char		 a1[] = "198.18.7.2", a3[] = "fd5e:1:2::5";
	static char		 a4[] = "198.18.7.4", a9[] = "198.18.7.9";
	static char		 h1[] = "shop.example.test", b1[] = "be_shop_example_test";
	static char		 h2[] = "api.example.test", b2[] = "be_api_example_test";
	static char		 h3[] = "wiki.example.test", b3[] = "be_wiki_example_test";
	static char		 h4[] = "blog.example.test", b4[] = "be_blog_example_test";
	static char		 set[] = "default";
	struct ingress_slot	 shop[3] = {
		{ c1, a1, 80 }, { NULL, NULL, 0 }, { c3, a3, 8080 },
	};
	struct ingress_slot	 api[3] = { { NULL, NULL, 0 } };
	struct ingress_slot	 wiki[3] = { { c9, a9, 443 } };
	struct ingress_slot	 blog[3] = { { c4, a4, 80 } };
	struct ingress_service	 services[4] = {
		{ h1, b1, 0, 0, NULL, 1, shop, 3, NULL },
		{ h2, b2, 1, 0, NULL, 1, api, 3, NULL },
		{ h3, b3, 0, 1, NULL, 1, wiki, 3, NULL },
		{ h4, b4, 0, 0, set, 1, blog, 3, NULL },
	};
	struct ingress_cfg	 cfg = {
		.http_listen = "127.0.0.1:18080",
		.https_listen = "127.0.0.1:18443",
		.socket = DIR "/haproxy.sock",
		.crt_list = DIR "/crt-list",
		.ca_file = DIR "/ca.crt",
		.resolver = "127.0.0.1:18053",
		.zone = "netcrave.internal.",
		.acme_address = "127.0.0.1:18081",
		.waf_address = "127.0.0.1:18082",
		.waf_return_listen = "127.0.0.1:18083",
		.hold_valid_ms = 1000,
		.hold_obsolete_ms = 5000,
		.slots = 3,
	};
	char	*text, *want;
	const char *path = INGRESS_FIXTURES "/haproxy.cfg";
	FILE	*f;

	text = ingress_cfg_text(&cfg, services, 4);
	assert_non_null(text);
	if (getenv("INGRESS_UPDATE_GOLDEN") != NULL) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
	want = read_file(path);
	assert_non_null(want);
	assert_string_equal(text, want);
	free(text);
	free(want);

	/* Without a resolver no template; without TLS no https frontend
	 * and no redirect; no WAF address: the WAF service goes direct. */
	cfg.resolver = "";
	cfg.https_listen = "";
	cfg.waf_address = "";
	cfg.waf_return_listen = "";
	text = ingress_cfg_text(&cfg, services, 4);
	assert_non_null(text);
	assert_null(strstr(text, "server-template"));
	assert_null(strstr(text, "resolvers"));
	assert_null(strstr(text, "frontend https"));
	assert_null(strstr(text, "redirect"));
	assert_null(strstr(text, "backend waf"));
	assert_non_null(strstr(text, "use_backend be_blog_example_test if "
	    "{ var(txn.host) -m str blog.example.test }"));
	free(text);
}

static void
test_hosts(void **state)
{
	char	*s;

	assert_true(ingress_host_ok("shop.example.test"));
	assert_true(ingress_host_ok("a-b.c"));
	assert_true(ingress_host_ok("x"));
	assert_false(ingress_host_ok(""));
	assert_false(ingress_host_ok("Shop.example"));
	assert_false(ingress_host_ok("a..b"));
	assert_false(ingress_host_ok(".a"));
	assert_false(ingress_host_ok("a."));
	assert_false(ingress_host_ok("-a"));
	assert_false(ingress_host_ok("a_b"));
	assert_false(ingress_host_ok("a b"));
	assert_false(ingress_host_ok("a\nuse_backend x"));
	assert_false(ingress_host_ok("a;b"));
	s = ingress_backend_name("shop.example.test");
	assert_string_equal(s, "be_shop_example_test");
	free(s);
	s = ingress_cfg_address("[::1]:80");
	assert_string_equal(s, "ipv6@::1:80");
	free(s);
	s = ingress_cfg_address("unix:/run/x.sock");
	assert_string_equal(s, "unix@/run/x.sock");
	free(s);
	s = ingress_cfg_address("127.0.0.1:80");
	assert_string_equal(s, "127.0.0.1:80");
	free(s);
}

/* While haproxy is down lines wait; a socket that refuses keeps them queued
 * for the retries and drops each after its last try. */
static void
test_api_queue(void **state)
{
	struct event_base	*base = event_base_new();
	int			 i;

	ingress_api_init(base, "/nonexistent/netcrave-test/haproxy.sock");
	ingress_api_send("set server be_x/s1 state ready");
	ingress_api_send("set server be_x/s2 state maint");
	assert_int_equal(ingress_api_pending(), 2);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(ingress_api_pending(), 2);
	ingress_api_set_up(1);
	/* 40 tries of 50 ms each per line: run the loop until both drop. */
	for (i = 0; i < 400 && ingress_api_pending() > 0; i++)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(ingress_api_pending(), 0);
	ingress_api_shutdown();
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_api_queue),
	};

	log_init(1, LOG_LEVEL_INFO, "test_ingress");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
