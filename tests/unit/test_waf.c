/* test_waf.c: the firewall engine: decoding transforms, the head parser, rule
 * files, and the whole checked-in corpus (tests/waf) through the default set. */
#include "config.h"

#include <sys/types.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json.h"
#include "log.h"
#include "waf.h"

/* Run one transform over a C string and compare. */
static void
check_transform(size_t (*fn)(char *, size_t), const char *in,
    const char *want)
{
	char	buf[256];
	size_t	n;

	snprintf(buf, sizeof buf, "%s", in);
	n = fn(buf, strlen(buf));
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static size_t
url_plus(char *b, size_t n)
{
	return waf_decode_url(b, n, 1);
}

static void
test_transforms(void **state)
{
	(void)state;
	check_transform(url_plus, "a%27b+c%2", "a'b c%2");
	check_transform(url_plus, "%u003cscript%zz", "<script%zz");
	check_transform(url_plus, "%", "%");
	check_transform(waf_decode_html, "&lt;a&#62;&#x3C;&quot&amp;x&bogus;",
	    "<a><\"&x&bogus;");
	check_transform(waf_decode_html, "&#0;&#99999999;&#", "&#0;&#99999999;&#");
	check_transform(waf_decode_html, "&#xe9;", "\xc3\xa9");
	check_transform(waf_lowercase, "SeLeCt", "select");
	check_transform(waf_normalise_path, "/a/./b/../c//d\\e", "/a/c/d/e");
	check_transform(waf_normalise_path, "/../../etc/passwd", "/etc/passwd");
	check_transform(waf_normalise_path, "a/..", "");
	check_transform(waf_normalise_path, "/x/.", "/x/");
	check_transform(waf_compress_space, " a \t\n b  ", "a b ");
	check_transform(waf_remove_comments, "UNION/**/SELECT/*x", "UNION SELECT ");
}

static void
test_parse_head(void **state)
{
	struct waf_head	h;
	const char	*ok = "GET /x?a=1 HTTP/1.1\r\nHost: a\r\nX-Y:  v w \r\n\r\n";
	const char	*bad[] = {
		"", "\r\n", "GET\r\n\r\n", "GET /x\r\n", "G(T / HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\nNoColon\r\n", "GET / HTTP/1.1\r\n: v\r\n",
		"GET / HTTP/1.1\r\nA: b\r\n folded\r\n",
		"GET / HTTP/1.1\r\nA b: c\r\n", "GET / HTTP/1.1\r\nA: b\x01\r\n",
	};
	size_t		 i;

	(void)state;
	assert_int_equal(waf_parse_head(ok, strlen(ok), &h), 0);
	assert_int_equal(h.nheaders, 2);
	assert_memory_equal(h.start[1], "/x?a=1", 6);
	assert_int_equal(h.start_len[2], 8);
	assert_int_equal(h.headers[1].value_len, 3);
	assert_memory_equal(h.headers[1].value, "v w", 3);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(waf_parse_head(bad[i], strlen(bad[i]), &h), -1);
}

/* Inspect a raw HTTP request (head and body) with set. */
static void
inspect_raw(const struct waf_ruleset *set, const char *raw, size_t len,
    struct waf_verdict *v)
{
	struct waf_head		 h;
	struct waf_message	 m;
	const char		*end;
	size_t			 head_len;

	end = memmem(raw, len, "\r\n\r\n", 4);
	assert_non_null(end);
	head_len = (size_t)(end - raw) + 4;
	assert_int_equal(waf_parse_head(raw, head_len, &h), 0);
	waf_message_from_head(&m, &h);
	m.body = raw + head_len;
	m.body_len = len - head_len;
	waf_inspect(set, &m, v);
}

/* Every file of tests/waf/<dir>; returns how many were read, counting
 * those whose verdict differs from want into *wrong. */
static int
run_corpus(const struct waf_ruleset *set, const char *dir,
    enum waf_action want, int *wrong)
{
	const char		*top = getenv("top_srcdir");
	char			 path[4096], *buf;
	struct dirent		*de;
	struct waf_verdict	 v;
	DIR			*d;
	FILE			*f;
	long			 len;
	int			 n = 0;

	snprintf(path, sizeof path, "%s/tests/waf/%s", top ? top : ".", dir);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".http") == NULL)
			continue;
		snprintf(path, sizeof path, "%s/tests/waf/%s/%s",
		    top ? top : ".", dir, de->d_name);
		assert_non_null(f = fopen(path, "rb"));
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		buf = malloc((size_t)len + 1);
		assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
		fclose(f);
		inspect_raw(set, buf, (size_t)len, &v);
		if (v.action != want) {
			(*wrong)++;
			fprintf(stderr, "corpus %s/%s: %s (rule %s)\n", dir,
			    de->d_name, v.action == WAF_BLOCK ? "blocked" :
			    "passed", v.rule_id[0] ? v.rule_id : "-");
		}
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

static void
test_corpus(void **state)
{
	struct waf_ruleset	*set = waf_ruleset_default();
	int			 wrong_attacks = 0, wrong_benign = 0, na, nb;

	(void)state;
	na = run_corpus(set, "attacks", WAF_BLOCK, &wrong_attacks);
	nb = run_corpus(set, "benign", WAF_ALLOW, &wrong_benign);
	fprintf(stderr, "corpus: %d attacks (%d passed), %d benign (%d "
	    "blocked)\n", na, wrong_attacks, nb, wrong_benign);
	assert_true(na >= 100);
	assert_true(nb >= 100);
	assert_int_equal(wrong_attacks, 0);
	assert_int_equal(wrong_benign, 0);
	waf_ruleset_free(set);
}

static void
test_response(void **state)
{
	struct waf_ruleset	*set = waf_ruleset_default();
	struct waf_verdict	 v;
	struct waf_message	 m;
	struct waf_header	 rh = { "Content-Type", 12, "text/html", 9 };
	const char		*leak = "<pre>You have an error in your SQL "
	    "syntax; check the manual</pre>";
	const char		*fine = "<p>Our SQL course teaches syntax.</p>";

	(void)state;
	memset(&m, 0, sizeof m);
	m.method = "GET";
	m.method_len = 3;
	m.target = "/";
	m.target_len = 1;
	m.version = "HTTP/1.0";
	m.version_len = 8;
	m.has_response = 1;
	m.status = 200;
	m.response_headers = &rh;
	m.nresponse_headers = 1;
	m.response_body = leak;
	m.response_body_len = strlen(leak);
	waf_inspect(set, &m, &v);
	assert_int_equal(v.action, WAF_BLOCK);
	assert_string_equal(v.rule_id, "resp-sql-error");
	m.response_body = fine;
	m.response_body_len = strlen(fine);
	waf_inspect(set, &m, &v);
	assert_int_equal(v.action, WAF_ALLOW);
	waf_ruleset_free(set);
}

/* A rule file: its own operators, actions and targets, and its errors. */
static void
test_rule_json(void **state)
{
	const char *text = "{\"name\":\"api\",\"rules\":["
	    "{\"id\":\"ok-health\",\"action\":\"allow\",\"if\":[{\"target\":"
	    "\"path\",\"op\":\"equals\",\"value\":\"/health\"}]},"
	    "{\"id\":\"note\",\"action\":\"log\",\"if\":[{\"target\":"
	    "\"header:x-debug\",\"op\":\"present\"}]},"
	    "{\"id\":\"admin\",\"action\":\"block\",\"msg\":\"no admin\","
	    "\"if\":[{\"target\":[\"path\"],\"transforms\":[\"url\",\"path\","
	    "\"lower\"],\"op\":\"prefix\",\"value\":\"/admin\"},"
	    "{\"target\":\"method\",\"op\":\"equals\",\"value\":\"GET\","
	    "\"negate\":true}]},"
	    "{\"id\":\"long\",\"action\":\"block\",\"if\":[{\"target\":\"args\","
	    "\"op\":\"length_over\",\"value\":\"5\"}]}]}";
	const char *bad[] = {
		"{\"rules\":{}}",
		"{\"rules\":[{\"id\":\"x\",\"action\":\"drop\",\"if\":[]}]}",
		"{\"rules\":[{\"id\":\"x\",\"action\":\"block\",\"if\":[]}]}",
		"{\"rules\":[{\"id\":\"x\",\"action\":\"block\",\"if\":[{\"target\":"
		    "\"nope\",\"op\":\"contains\",\"value\":\"a\"}]}]}",
		"{\"rules\":[{\"id\":\"x\",\"action\":\"block\",\"if\":[{\"target\":"
		    "\"args\",\"op\":\"regex\",\"value\":\"(\"}]}]}",
		"{\"rules\":[{\"id\":\"x\",\"action\":\"block\",\"if\":[{\"target\":"
		    "\"args\",\"op\":\"length_over\",\"value\":\"x\"}]}]}",
		"{\"rules\":[{\"id\":\"x\",\"action\":\"block\",\"if\":[{\"target\":"
		    "\"args\",\"transforms\":[\"rot13\"],\"op\":\"contains\","
		    "\"value\":\"a\"}]}]}",
	};
	struct json_error	 jerr;
	struct json		*root;
	struct waf_ruleset	*set;
	struct waf_verdict	 v;
	char			 err[256], req[256];
	size_t			 i;

	(void)state;
	root = json_parse(text, strlen(text), 0, &jerr);
	assert_non_null(root);
	set = waf_ruleset_from_json("api", root, err, sizeof err);
	json_free(root);
	assert_non_null(set);
	assert_int_equal(waf_ruleset_count(set), 4);
#define REQ(s)	snprintf(req, sizeof req, "%s", s), \
	inspect_raw(set, req, strlen(req), &v)
	REQ("GET /health?long=abcdefgh HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(v.action, WAF_ALLOW);
	REQ("POST /%41dmin/./x HTTP/1.1\r\nHost: a\r\nX-Debug: 1\r\n\r\n");
	assert_int_equal(v.action, WAF_BLOCK);
	assert_string_equal(v.rule_id, "admin");
	assert_int_equal(v.logged, 1);
	REQ("GET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(v.action, WAF_ALLOW);
	REQ("GET /x?a=123456 HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_string_equal(v.rule_id, "long");
#undef REQ
	waf_ruleset_free(set);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		root = json_parse(bad[i], strlen(bad[i]), 0, &jerr);
		assert_non_null(root);
		err[0] = '\0';
		assert_null(waf_ruleset_from_json("x", root, err, sizeof err));
		assert_true(err[0] != '\0');
		json_free(root);
	}
}

static void
test_incident_id(void **state)
{
	char	a[17], b[17];

	(void)state;
	waf_incident_id(a);
	waf_incident_id(b);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transforms),
		cmocka_unit_test(test_parse_head),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_rule_json),
		cmocka_unit_test(test_incident_id),
	};

	log_init(1, LOG_LEVEL_INFO, "test_waf");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
