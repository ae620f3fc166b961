/* test_dockerd.c: unit tests of the dockerd follower's pure parts: framing of the
 * event stream and reading events, inspections and lists.  The fixtures under
 * tests/unit/fixtures/dockerd/ were captured from the e2e harness's dockerd 20.10
 * (docker network create/connect/disconnect, run with labels and aliases, rename,
 * rm -f, a --network none container). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dockerd.h"
#include "dockerd_private.h"
#include "json.h"
#include "util.h"
#include "xmalloc.h"

#define WEB2	"ece8f237c11360818e93ae84e9d46be2fc6e4ac4da4404999c7676b578f8b151"
#define PLAIN	"5a1ac870f79e432a2ac4a0c34761389190d5b93610d9933c6a5b60da87c570d7"

/* A fixture's bytes, NUL-terminated. */
static char *
fixture(const char *name, size_t *lenp)
{
	char	 path[1024], *buf;
	FILE	*f;
	long	 len;

	snprintf(path, sizeof path, "%s/%s", DOCKERD_FIXTURES, name);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = xmalloc(len + 1);
	assert_int_equal(fread(buf, 1, len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	*lenp = len;
	return (buf);
}

static struct json *
fixture_json(const char *name)
{
	struct json_error	 err;
	struct json		*doc;
	size_t			 len;
	char			*text = fixture(name, &len);

	doc = json_parse(text, len, 0, &err);
	if (doc == NULL)
		fail_msg("%s: %u:%u: %s", name, err.line, err.column, err.message);
	free(text);
	return (doc);
}

/* Parse each text (all valid JSON) and hand it to check. */
static void
each_doc(const char *const *texts, size_t n, void (*check)(const struct json *))
{
	struct json_error	 jerr;
	struct json		*doc;
	size_t			 i;

	for (i = 0; i < n; i++) {
		doc = json_parse(texts[i], strlen(texts[i]), 0, &jerr);
		if (doc == NULL)
			fail_msg("%s: %s", texts[i], jerr.message);
		check(doc);
		json_free(doc);
	}
}

/* Objects the splitter handed on, as text. */
struct collected {
	char	**texts;
	size_t	  n;
};

static int
collect(const char *text, size_t len, void *arg)
{
	struct collected	*c = arg;

	c->texts = xreallocarray(c->texts, c->n + 1, sizeof *c->texts);
	c->texts[c->n++] = xstrndup(text, len);
	return (0);
}

static void
collected_free(struct collected *c)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		free(c->texts[i]);
	free(c->texts);
	memset(c, 0, sizeof *c);
}

/* Feed text in pieces of step bytes (0: all at once). */
static int
split_all(const char *text, size_t len, size_t step, struct collected *out,
    char *err, size_t errlen)
{
	struct dockerd_splitter	 sp;
	size_t			 off, n;
	int			 rc = 0;

	memset(&sp, 0, sizeof sp);
	for (off = 0; off < len && rc == 0; off += n) {
		n = step == 0 || len - off < step ? len - off : step;
		rc = dockerd_split_feed(&sp, text + off, n, collect, out, err,
		    errlen);
	}
	dockerd_split_reset(&sp);
	return (rc);
}

/* The captured stream splits into its 21 lines, however the reads fall. */
static void
test_split_captured(void **state)
{
	struct collected	 whole = { NULL, 0 }, bytes = { NULL, 0 };
	struct collected	 odd = { NULL, 0 };
	char			 err[256], *text, *line, *save = NULL, *copy;
	size_t			 len, i;

	text = fixture("events.jsonl", &len);
	assert_int_equal(split_all(text, len, 0, &whole, err, sizeof err), 0);
	assert_int_equal(whole.n, 21);
	assert_int_equal(split_all(text, len, 1, &bytes, err, sizeof err), 0);
	assert_int_equal(split_all(text, len, 77, &odd, err, sizeof err), 0);
	assert_int_equal(bytes.n, 21);
	assert_int_equal(odd.n, 21);
	copy = xstrdup(text);
	for (i = 0, line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), i++) {
		assert_string_equal(whole.texts[i], line);
		assert_string_equal(bytes.texts[i], line);
		assert_string_equal(odd.texts[i], line);
	}
	assert_int_equal(i, 21);
	free(copy);
	free(text);
	collected_free(&whole);
	collected_free(&bytes);
	collected_free(&odd);
}

/* Several objects in one read, without newlines; braces inside strings. */
static void
test_split_packed(void **state)
{
	const char		*text = "{\"a\":\"}{\\\"\"}{\"b\":[1,{\"c\":\"]\"}]}"
				    " \r\n\t{}";
	struct collected	 out = { NULL, 0 };
	char			 err[256];

	assert_int_equal(split_all(text, strlen(text), 0, &out, err,
	    sizeof err), 0);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.texts[0], "{\"a\":\"}{\\\"\"}");
	assert_string_equal(out.texts[1], "{\"b\":[1,{\"c\":\"]\"}]}");
	assert_string_equal(out.texts[2], "{}");
	collected_free(&out);
}

static void
test_split_errors(void **state)
{
	struct collected	 out = { NULL, 0 };
	char			 err[256], *deep, *big;
	size_t			 i;

	assert_int_equal(split_all("{} x", 4, 0, &out, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected an object, got byte 0x78"));
	assert_int_equal(out.n, 1);
	collected_free(&out);

	assert_int_equal(split_all("[1]", 3, 0, &out, err, sizeof err), -1);
	assert_int_equal(out.n, 0);

	deep = xcalloc(1, 2 * JSON_MAX_DEPTH + 8);
	deep[0] = '{';
	deep[1] = '"';
	deep[2] = 'k';
	deep[3] = '"';
	deep[4] = ':';
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		deep[5 + i] = '[';
	assert_int_equal(split_all(deep, strlen(deep), 0, &out, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "nested deeper"));
	free(deep);

	big = xmalloc(DOCKERD_MAX_OBJECT + 16);
	memset(big, ' ', DOCKERD_MAX_OBJECT + 16);
	big[0] = '{';
	assert_int_equal(split_all(big, DOCKERD_MAX_OBJECT + 16, 4096, &out,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "larger than"));
	free(big);
	assert_int_equal(out.n, 0);
}

/* What each captured event means to the follower. */
static void
test_events_captured(void **state)
{
	static const struct {
		enum dockerd_event_kind	 kind;
		const char		*container;
	} want[21] = {
		{ DOCKERD_EVENT_OTHER, NULL },		/* network create n1 */
		{ DOCKERD_EVENT_OTHER, WEB2 },		/* container create */
		{ DOCKERD_EVENT_REFRESH, WEB2 },	/* network connect n1 */
		{ DOCKERD_EVENT_REFRESH, WEB2 },	/* start */
		{ DOCKERD_EVENT_OTHER, NULL },		/* network create n2 */
		{ DOCKERD_EVENT_REFRESH, WEB2 },	/* connect n2 */
		{ DOCKERD_EVENT_REFRESH, WEB2 },	/* rename */
		{ DOCKERD_EVENT_REFRESH, WEB2 },	/* disconnect n2 */
		{ DOCKERD_EVENT_REFRESH, WEB2 },	/* disconnect n2 again */
		{ DOCKERD_EVENT_OTHER, PLAIN },		/* create plain */
		{ DOCKERD_EVENT_REFRESH, PLAIN },	/* connect none */
		{ DOCKERD_EVENT_REFRESH, PLAIN },	/* start */
		{ DOCKERD_EVENT_OTHER, WEB2 },		/* kill */
		{ DOCKERD_EVENT_OTHER, PLAIN },		/* kill */
		{ DOCKERD_EVENT_GONE, PLAIN },		/* die */
		{ DOCKERD_EVENT_GONE, WEB2 },		/* die */
		{ DOCKERD_EVENT_REFRESH, PLAIN },	/* disconnect none */
		{ DOCKERD_EVENT_GONE, PLAIN },		/* destroy */
		{ DOCKERD_EVENT_REFRESH, WEB2 },	/* disconnect n1 */
		{ DOCKERD_EVENT_GONE, WEB2 },		/* destroy */
		{ DOCKERD_EVENT_OTHER, NULL },		/* network create n3 */
	};
	struct collected	 out = { NULL, 0 };
	struct dockerd_event	 ev;
	struct json_error	 jerr;
	struct json		*doc;
	char			 err[256], *text;
	size_t			 len, i;

	text = fixture("events.jsonl", &len);
	assert_int_equal(split_all(text, len, 0, &out, err, sizeof err), 0);
	assert_int_equal(out.n, 21);
	for (i = 0; i < out.n; i++) {
		doc = json_parse(out.texts[i], strlen(out.texts[i]), 0, &jerr);
		assert_non_null(doc);
		assert_int_equal(dockerd_event_read(doc, &ev, err, sizeof err), 0);
		if (ev.kind != want[i].kind)
			fail_msg("event %zu (%s): kind %d, want %d", i + 1,
			    ev.action, ev.kind, want[i].kind);
		if (want[i].container != NULL)
			assert_string_equal(ev.container, want[i].container);
		json_free(doc);
	}
	free(text);
	collected_free(&out);
}

static void
event_refused(const struct json *doc)
{
	struct dockerd_event	 ev;
	char			 err[256];

	assert_int_equal(dockerd_event_read(doc, &ev, err, sizeof err), -1);
	assert_int_equal(ev.kind, DOCKERD_EVENT_OTHER);
}

static void
test_events_bad(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"Type\":\"container\",\"Action\":\"start\"}",
		"{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{}}",
		"{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":"
		    "{\"ID\":\"../../etc\"}}",
		"{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":"
		    "{\"Attributes\":{\"container\":7}}}",
	};

	each_doc(bad, sizeof bad / sizeof bad[0], event_refused);
}

/* A running container with a label, an alias and one network. */
static void
test_inspect_captured(void **state)
{
	struct json			*doc = fixture_json("inspect.json");
	struct dockerd_container	*c, *d;
	const struct dockerd_endpoint	*e;
	char				 err[256];

	c = dockerd_container_read(doc, err, sizeof err);
	assert_non_null(c);
	assert_string_equal(c->id, WEB2);
	assert_string_equal(c->name, "web2");
	assert_int_equal(c->running, 1);
	assert_string_equal(dockerd_label(c, DOCKERD_TAGS_LABEL), "a,b");
	assert_null(dockerd_label(c, "io.netcrave"));
	assert_int_equal(c->nendpoints, 1);
	e = &c->endpoints[0];
	assert_string_equal(e->network_name, "n1");
	assert_string_equal(e->network_id,
	    "28d973cc5e9fcb2435ffba71dc1dcf93799151e8789b3dfc7ff268138abb32c1");
	assert_string_equal(e->endpoint_id,
	    "6e0cb897ffc7322c7b6812f768da20f6a69ef741bdc703ca186fe3635e4dfd2c");
	assert_string_equal(e->ipv4, "172.17.0.2");
	assert_null(e->ipv6);
	assert_string_equal(e->aliases[0], "www");
	assert_string_equal(e->aliases[1], "ece8f237c113");
	assert_null(e->aliases[2]);

	d = dockerd_container_read(doc, err, sizeof err);
	assert_true(dockerd_container_equal(c, d));
	free(d->endpoints[0].ipv4);
	d->endpoints[0].ipv4 = xstrdup("172.17.0.3");
	assert_false(dockerd_container_equal(c, d));
	dockerd_container_free(d);
	dockerd_container_free(c);
	json_free(doc);
}

/* --network none: an endpoint without addresses nor aliases. */
static void
test_inspect_none(void **state)
{
	struct json			*doc = fixture_json("inspect-none.json");
	struct dockerd_container	*c;
	char				 err[256];

	c = dockerd_container_read(doc, err, sizeof err);
	assert_non_null(c);
	assert_string_equal(c->name, "plain");
	assert_null(c->labels[0]);
	assert_null(dockerd_label(c, DOCKERD_TAGS_LABEL));
	assert_int_equal(c->nendpoints, 1);
	assert_string_equal(c->endpoints[0].network_name, "none");
	assert_null(c->endpoints[0].ipv4);
	assert_null(c->endpoints[0].aliases[0]);
	dockerd_container_free(c);
	json_free(doc);
}

static void
inspect_refused(const struct json *doc)
{
	char	err[256];

	assert_null(dockerd_container_read(doc, err, sizeof err));
}

static void
test_inspect_bad(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"Name\":\"/x\"}",
		"{\"Id\":\"" WEB2 "\"}",
		"{\"Id\":\"" WEB2 "\",\"Name\":\"/x\",\"NetworkSettings\":"
		    "{\"Networks\":{\"n\":[]}}}",
	};

	each_doc(bad, sizeof bad / sizeof bad[0], inspect_refused);
}

static void
test_list(void **state)
{
	struct json	*doc = fixture_json("containers.json");
	char		**ids, err[256];

	ids = dockerd_list_read(doc, err, sizeof err);
	assert_non_null(ids);
	assert_string_equal(ids[0], WEB2);
	assert_null(ids[1]);
	util_strv_free(ids);
	json_free(doc);
}

static void
test_tags(void **state)
{
	char	**t;

	t = dockerd_tags_split(" a, b,,c ,\t");
	assert_string_equal(t[0], "a");
	assert_string_equal(t[1], "b");
	assert_string_equal(t[2], "c");
	assert_null(t[3]);
	util_strv_free(t);
	t = dockerd_tags_split("");
	assert_null(t[0]);
	util_strv_free(t);
	t = dockerd_tags_split(NULL);
	assert_null(t[0]);
	util_strv_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_captured),
		cmocka_unit_test(test_split_packed),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_events_captured),
		cmocka_unit_test(test_events_bad),
		cmocka_unit_test(test_inspect_captured),
		cmocka_unit_test(test_inspect_none),
		cmocka_unit_test(test_inspect_bad),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_tags),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
