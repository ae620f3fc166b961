/* test_icap.c: the ICAP server over a socketpair: OPTIONS, REQMOD and RESPMOD
 * verdicts, preview with 100 Continue, persistent connections, echo without
 * 204, and malformed requests answered 400 and closed. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "icap.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "waf.h"

struct fixture {
	struct event_base	*base;
	struct icap_server	*srv;
	int			 fd;		/* the client's end */
	char			 reply[65536];
	size_t			 len;
	int			 closed;
};

static int
setup(void **state)
{
	struct fixture		*f = calloc(1, sizeof *f);
	struct icap_limits	 l = { 65536, 16, 5000, 8, 0 };
	int			 sv[2];

	assert_non_null(f);
	f->base = event_base_new();
	f->srv = icap_server_new(f->base, &l);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	icap_server_adopt(f->srv, sv[0]);
	f->fd = sv[1];
	fcntl(f->fd, F_SETFL, O_NONBLOCK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	close(f->fd);
	icap_server_free(f->srv);
	event_base_free(f->base);
	metrics_reset();
	free(f);
	return 0;
}

/* Send text, then run the loop until want appears in the reply (or the
 * server closes, or two seconds pass).  The reply so far is kept. */
static const char *
exchange(struct fixture *f, const char *text, const char *want)
{
	ssize_t	n;
	int	i;

	f->len = 0;
	f->reply[0] = '\0';
	if (text != NULL)
		assert_int_equal(write(f->fd, text, strlen(text)),
		    (ssize_t)strlen(text));
	for (i = 0; i < 2000; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		n = read(f->fd, f->reply + f->len, sizeof f->reply - 1 - f->len);
		if (n > 0) {
			f->len += (size_t)n;
			f->reply[f->len] = '\0';
		} else if (n == 0) {
			f->closed = 1;
			break;
		}
		if (want != NULL && strstr(f->reply, want) != NULL)
			break;
		usleep(1000);
	}
	return f->reply;
}

#define REQ_HEAD "GET /search?q=shoes HTTP/1.1\r\nHost: shop.test\r\n\r\n"
#define ATTACK "GET /x?id=1%27%20or%20%271%27=%271 HTTP/1.1\r\nHost: s\r\n\r\n"

static void
test_options(void **state)
{
	struct fixture	*f = *state;
	const char	*r;

	r = exchange(f, "OPTIONS icap://127.0.0.1/waf ICAP/1.0\r\n"
	    "Host: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n", "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 200 OK\r\n"));
	assert_non_null(strstr(r, "Methods: REQMOD, RESPMOD\r\n"));
	assert_non_null(strstr(r, "ISTag: \""));
	assert_non_null(strstr(r, "Preview: 16\r\n"));
	assert_non_null(strstr(r, "Max-Connections: 8\r\n"));
	assert_non_null(strstr(r, "Options-TTL: "));
	assert_non_null(strstr(r, "Transfer-Preview: *\r\n"));
	/* Persistent: a second request on the same connection. */
	r = exchange(f, "OPTIONS icap://127.0.0.1/waf/nope ICAP/1.0\r\n"
	    "Encapsulated: null-body=0\r\n\r\n", "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 404 "));
}

static void
test_reqmod_204_and_block(void **state)
{
	struct fixture	*f = *state;
	char		 req[1024];
	const char	*r;

	snprintf(req, sizeof req, "REQMOD icap://h/waf/default ICAP/1.0\r\n"
	    "Host: h\r\nAllow: 204\r\nEncapsulated: req-hdr=0, null-body=%zu"
	    "\r\n\r\n%s", strlen(REQ_HEAD), REQ_HEAD);
	r = exchange(f, req, "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 204 No Content\r\n"));
	/* Same connection, an attack. */
	snprintf(req, sizeof req, "REQMOD icap://h/waf ICAP/1.0\r\nHost: h\r\n"
	    "Encapsulated: req-hdr=0, null-body=%zu\r\n\r\n%s", strlen(ATTACK),
	    ATTACK);
	r = exchange(f, req, "0\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 200 OK\r\n"));
	assert_non_null(strstr(r, "Encapsulated: res-hdr=0, res-body="));
	assert_non_null(strstr(r, "HTTP/1.1 403 Forbidden\r\n"));
	assert_non_null(strstr(r, "X-Netcrave-Incident: "));
	assert_non_null(strstr(r, "Incident ID: "));
	assert_int_equal(f->closed, 0);
}

static void
test_echo_without_204(void **state)
{
	struct fixture	*f = *state;
	char		 req[1024];
	const char	*head = "POST /form HTTP/1.1\r\nHost: s\r\nContent-Type: "
	    "text/plain\r\n\r\n";
	const char	*r;

	snprintf(req, sizeof req, "REQMOD icap://h/waf ICAP/1.0\r\nHost: h\r\n"
	    "Encapsulated: req-hdr=0, req-body=%zu\r\n\r\n%s"
	    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", strlen(head), head);
	r = exchange(f, req, "0\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 200 OK\r\n"));
	assert_non_null(strstr(r, "Encapsulated: req-hdr=0, req-body="));
	assert_non_null(strstr(r, "POST /form HTTP/1.1\r\n"));
	assert_non_null(strstr(r, "b\r\nhello world\r\n0\r\n\r\n"));
}

static void
test_preview(void **state)
{
	struct fixture	*f = *state;
	char		 req[1024];
	const char	*head = "POST /c HTTP/1.1\r\nHost: s\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\n\r\n";
	const char	*r;

	/* 16 bytes of preview, no ieof: the server asks for the rest. */
	snprintf(req, sizeof req, "REQMOD icap://h/waf ICAP/1.0\r\nHost: h\r\n"
	    "Preview: 16\r\nAllow: 204\r\nEncapsulated: req-hdr=0, req-body=%zu"
	    "\r\n\r\n%s10\r\ncomment=hello+wo\r\n0\r\n\r\n", strlen(head), head);
	r = exchange(f, req, "\r\n\r\n");
	assert_string_equal(r, "ICAP/1.0 100 Continue\r\n\r\n");
	r = exchange(f, "1c\r\nrld%27+or+%271%27%3D%271&x=1\r\n0\r\n\r\n",
	    "0\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 403 Forbidden"));
	/* A whole body inside the preview (ieof): answered at once. */
	snprintf(req, sizeof req, "REQMOD icap://h/waf ICAP/1.0\r\nHost: h\r\n"
	    "Preview: 16\r\nEncapsulated: req-hdr=0, req-body=%zu\r\n\r\n%s"
	    "5\r\na=red\r\n0; ieof\r\n\r\n", strlen(head), head);
	r = exchange(f, req, "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 204 No Content\r\n"));
	/* Past a 100 Continue without Allow: 204 the message is echoed. */
	snprintf(req, sizeof req, "REQMOD icap://h/waf ICAP/1.0\r\nHost: h\r\n"
	    "Preview: 4\r\nEncapsulated: req-hdr=0, req-body=%zu\r\n\r\n%s"
	    "4\r\na=re\r\n0\r\n\r\n", strlen(head), head);
	r = exchange(f, req, "\r\n\r\n");
	assert_string_equal(r, "ICAP/1.0 100 Continue\r\n\r\n");
	r = exchange(f, "1\r\nd\r\n0\r\n\r\n", "0\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 200 OK\r\n"));
	assert_non_null(strstr(r, "5\r\na=red\r\n0\r\n\r\n"));
}

static void
test_respmod(void **state)
{
	struct fixture	*f = *state;
	char		 req[2048];
	const char	*res = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
	const char	*img = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n";
	const char	*r;

	snprintf(req, sizeof req, "RESPMOD icap://h/waf ICAP/1.0\r\nHost: h\r\n"
	    "Allow: 204\r\nEncapsulated: req-hdr=0, res-hdr=%zu, res-body=%zu"
	    "\r\n\r\n%s%s1d\r\nroot:x:0:0:root:/root:/bin/sh\r\n0\r\n\r\n",
	    strlen(REQ_HEAD), strlen(REQ_HEAD) + strlen(res), REQ_HEAD, res);
	r = exchange(f, req, "0\r\n\r\n");
	if (strstr(r, "HTTP/1.1 403 Forbidden") == NULL)
		fail_msg("%s", r);
	/* An image after its preview: nothing to read, 204 at once. */
	snprintf(req, sizeof req, "RESPMOD icap://h/waf ICAP/1.0\r\nHost: h\r\n"
	    "Preview: 4\r\nEncapsulated: res-hdr=0, res-body=%zu\r\n\r\n%s"
	    "4\r\n\x89PNG\r\n0\r\n\r\n", strlen(img), img);
	r = exchange(f, req, "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 204 No Content\r\n"));
}

/* The default set and one called name blocking URIs with "evil", which reads
 * neither the request body nor the response. */
static void
uri_set(struct fixture *f, const char *name)
{
	struct waf_ruleset	*sets[2];
	struct json		*root;
	struct json_error	 jerr;
	char			 err[256];
	const char		*text = "{ \"rules\": [ { \"id\": \"u1\", "
	    "\"action\": \"block\", \"if\": [ { \"target\": \"uri\", "
	    "\"op\": \"contains\", \"value\": \"evil\" } ] } ] }";

	root = json_parse(text, strlen(text), 0, &jerr);
	assert_non_null(root);
	sets[0] = waf_ruleset_default();
	sets[1] = waf_ruleset_from_json(name, root, err, sizeof err);
	json_free(root);
	assert_non_null(sets[1]);
	assert_int_equal(waf_ruleset_reads(sets[1], WAF_PART_REQUEST_BODY), 0);
	assert_int_equal(waf_ruleset_reads(sets[1], WAF_PART_RESPONSE), 0);
	assert_int_equal(waf_ruleset_reads(sets[0], WAF_PART_REQUEST_BODY), 1);
	assert_int_equal(waf_ruleset_reads(sets[0], WAF_PART_RESPONSE), 1);
	icap_server_set_rules(f->srv, sets, 2, "default");
}

/* A set whose rules read neither the request body nor the response: the
 * answer comes at the end of the preview, without 100 Continue. */
static void
test_preview_nothing_to_read(void **state)
{
	struct fixture		*f = *state;
	char			 req[1024];
	const char		*r;
	const char	*head = "POST /c HTTP/1.1\r\nHost: s\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\n\r\n";
	const char	*evil = "POST /evil HTTP/1.1\r\nHost: s\r\n\r\n";
	const char	*res = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";

	uri_set(f, "uri");
	snprintf(req, sizeof req, "REQMOD icap://h/waf/uri ICAP/1.0\r\nHost: h"
	    "\r\nPreview: 4\r\nAllow: 204\r\nEncapsulated: req-hdr=0, "
	    "req-body=%zu\r\n\r\n%s4\r\na=re\r\n0\r\n\r\n", strlen(head),
	    head);
	r = exchange(f, req, "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 204 No Content\r\n"));
	assert_null(strstr(r, "100 Continue"));
	/* The head is still judged. */
	snprintf(req, sizeof req, "REQMOD icap://h/waf/uri ICAP/1.0\r\nHost: h"
	    "\r\nPreview: 4\r\nEncapsulated: req-hdr=0, req-body=%zu\r\n"
	    "\r\n%s4\r\na=re\r\n0\r\n\r\n", strlen(evil), evil);
	r = exchange(f, req, "0\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 403 Forbidden"));
	assert_null(strstr(r, "100 Continue"));
	/* RESPMOD of text: no response rules, 204 after the preview. */
	snprintf(req, sizeof req, "RESPMOD icap://h/waf/uri ICAP/1.0\r\nHost: h"
	    "\r\nPreview: 4\r\nEncapsulated: res-hdr=0, res-body=%zu\r\n"
	    "\r\n%s4\r\n<htm\r\n0\r\n\r\n", strlen(res), res);
	r = exchange(f, req, "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 204 No Content\r\n"));
	assert_int_equal(f->closed, 0);
}

/* /waf-host: the set comes from the Host of the request, as container labels
 * name it; other hosts and forgotten containers get the default set. */
static void
test_set_by_host(void **state)
{
	struct fixture		*f = *state;
	char			 req[1024], head[256];
	const char		*r;

	uri_set(f, "shop");
	icap_server_set_service(f->srv, "c1", "Shop.test, api.test", "shop");
	icap_server_set_service(f->srv, "c2", "other.test", "undefined");
	assert_string_equal(icap_server_host_set(f->srv, "shop.test:8080", 14),
	    "shop");
	assert_string_equal(icap_server_host_set(f->srv, "API.test", 8), "shop");
	assert_string_equal(icap_server_host_set(f->srv, "other.test", 10),
	    "default");
	assert_string_equal(icap_server_host_set(f->srv, "x.test", 6), "default");
#define HOSTREQ(host) \
	snprintf(head, sizeof head, "GET /evil HTTP/1.1\r\nHost: %s\r\n\r\n", \
	    host); \
	snprintf(req, sizeof req, "REQMOD icap://h/waf-host/reqmod ICAP/1.0\r\n" \
	    "Host: h\r\nAllow: 204\r\nEncapsulated: req-hdr=0, null-body=%zu" \
	    "\r\n\r\n%s", strlen(head), head)
	HOSTREQ("shop.test:8080");
	r = exchange(f, req, "0\r\n\r\n");
	assert_non_null(strstr(r, "HTTP/1.1 403 Forbidden"));
	HOSTREQ("www.test");
	r = exchange(f, req, "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 204 No Content\r\n"));
	icap_server_set_service(f->srv, "c1", NULL, NULL);
	HOSTREQ("shop.test");
	r = exchange(f, req, "\r\n\r\n");
	assert_non_null(strstr(r, "ICAP/1.0 204 No Content\r\n"));
#undef HOSTREQ
	assert_int_equal(f->closed, 0);
}

/* Each malformed request: 400 (or 405) and the connection closed. */
static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"HELLO\r\n\r\n",
		"REQMOD icap://h/waf HTTP/1.1\r\n\r\n",
		"REQMOD icap://h/waf ICAP/1.0\r\n\r\n",
		"REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: req-hdr=0, "
		    "req-body=x\r\n\r\n",
		"REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: req-body=5, "
		    "req-hdr=0\r\n\r\n",
		"REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: res-hdr=0, "
		    "null-body=4\r\n\r\nabcd",
		"REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: req-hdr=0, "
		    "null-body=4\r\n\r\nabcd",
		"REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: req-hdr=0, "
		    "req-body=18\r\n\r\nGET / HTTP/1.1\r\n\r\nzz\r\n",
		"REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: req-hdr=0, "
		    "req-body=18\r\n\r\nGET / HTTP/1.1\r\n\r\n3\r\nabcX\r\n",
		"REQMOD icap://h/waf ICAP/1.0\r\nPreview: -1\r\nEncapsulated: "
		    "null-body=0\r\n\r\n",
		"REQMOD /waf ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n",
		"FOO icap://h/waf ICAP/1.0\r\nEncapsulated: null-body=0\r\n\r\n",
	};
	size_t	i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct fixture	*f;
		const char	*r;
		void		*st;

		setup(&st);
		f = st;
		r = exchange(f, bad[i], NULL);
		if (strncmp(r, "ICAP/1.0 400 ", 13) != 0 &&
		    strncmp(r, "ICAP/1.0 405 ", 13) != 0)
			fail_msg("case %zu: %s", i, r);
		assert_int_equal(f->closed, 1);
		teardown(&st);
	}
}

/* A head that never ends is cut off at the cap. */
static void
test_head_cap(void **state)
{
	struct fixture	*f = *state;
	char		*big = malloc(ICAP_MAX_HEAD + 64);
	const char	*r;

	memset(big, 'a', ICAP_MAX_HEAD + 63);
	memcpy(big, "OPTIONS icap://h/waf ICAP/1.0\r\nX: ", 34);
	big[ICAP_MAX_HEAD + 63] = '\0';
	r = exchange(f, big, NULL);
	assert_non_null(strstr(r, "ICAP/1.0 400 "));
	assert_int_equal(f->closed, 1);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reqmod_204_and_block,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_without_204, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_preview, setup, teardown),
		cmocka_unit_test_setup_teardown(test_respmod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preview_nothing_to_read,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_by_host, setup,
		    teardown),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test_setup_teardown(test_head_cap, setup, teardown),
	};

	log_init(1, LOG_LEVEL_INFO, "test_icap");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
