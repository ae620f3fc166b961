/* test_volume.c: the pure parts of the volume client: URL encoding and href
 * decoding, the write-back extent (merging, bounds, against a byte model),
 * HTTP status to errno, and the Create options. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "vol_util.h"

static void
test_paths(void **state)
{
	char	*s;

	s = vol_path_join("", "a");
	assert_string_equal(s, "a");
	free(s);
	s = vol_path_join("a/b", "c d");
	assert_string_equal(s, "a/b/c d");
	free(s);
	s = vol_url("v1", "");
	assert_string_equal(s, "/v1");
	free(s);
	s = vol_url("v1", "dir/a b%c#?é");
	assert_string_equal(s, "/v1/dir/a%20b%25c%23%3F%C3%A9");
	free(s);
	s = vol_href_name("/v1/dir/a%20b%25c%23%3F%C3%A9");
	assert_string_equal(s, "a b%c#?é");
	free(s);
	s = vol_href_name("http://localhost/v1/dir/sub/");
	assert_string_equal(s, "sub");
	free(s);
	assert_null(vol_href_name("/v1/a%2Fb"));	/* a slash inside a name */
	assert_null(vol_href_name("/v1/a%00b"));
	assert_null(vol_href_name("/v1/a%zz"));
	assert_null(vol_href_name("/v1/a%4"));
	assert_null(vol_href_name("/"));
}

static void
test_errno(void **state)
{
	assert_int_equal(vol_status_errno(200), 0);
	assert_int_equal(vol_status_errno(204), 0);
	assert_int_equal(vol_status_errno(207), 0);
	assert_int_equal(vol_status_errno(404), ENOENT);
	assert_int_equal(vol_status_errno(409), ENOENT);
	assert_int_equal(vol_status_errno(405), EEXIST);
	assert_int_equal(vol_status_errno(412), EEXIST);
	assert_int_equal(vol_status_errno(423), EBUSY);
	assert_int_equal(vol_status_errno(507), ENOSPC);
	assert_int_equal(vol_status_errno(500), EIO);
}

static void
test_extent_rules(void **state)
{
	struct vol_extent	x = { .cap = 16 };
	char			buf[32];

	memset(buf, 'a', sizeof buf);
	assert_int_equal(vol_extent_add(&x, 100, buf, 4), 0);
	assert_int_equal(x.start, 100);
	assert_int_equal(x.len, 4);
	/* Touching the end joins; overlapping joins; a gap does not. */
	assert_int_equal(vol_extent_add(&x, 104, "bbbb", 4), 0);
	assert_int_equal(x.len, 8);
	assert_int_equal(vol_extent_add(&x, 102, "cc", 2), 0);
	assert_int_equal(x.len, 8);
	assert_memory_equal(x.buf, "aaccbbbb", 8);
	assert_int_equal(vol_extent_add(&x, 109, "d", 1), -1);
	assert_int_equal(vol_extent_add(&x, 99, "d", 1), -1);
	/* Never past cap. */
	assert_int_equal(vol_extent_add(&x, 108, buf, 9), -1);
	assert_int_equal(vol_extent_add(&x, 108, buf, 8), 0);
	assert_true(vol_extent_full(&x));
	vol_extent_free(&x);
	assert_int_equal(vol_extent_add(&x, 0, buf, 17), -1);
	assert_int_equal(x.len, 0);
	vol_extent_free(&x);
}

/* Random writes against a byte model: flushing when a write does not fit. */
static void
test_extent_model(void **state)
{
	enum { FILE_BYTES = 4096 };
	static unsigned char	model[FILE_BYTES], stored[FILE_BYTES];
	struct vol_extent	x = { .cap = 512 };
	unsigned char		data[300];
	unsigned int		seed = 1, i, off, n, k;

	memset(model, 0, sizeof model);
	memset(stored, 0, sizeof stored);
	for (i = 0; i < 20000; i++) {
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 8) % sizeof data;
		seed = seed * 1103515245 + 12345;
		/* Mostly sequential, sometimes anywhere. */
		off = (seed >> 8) % 4 == 0 || x.len == 0 ?
		    (seed >> 10) % (FILE_BYTES - n) : x.start + x.len;
		if (off + n > FILE_BYTES)
			off = FILE_BYTES - n;
		for (k = 0; k < n; k++)
			data[k] = (unsigned char)(seed >> (k % 24));
		memcpy(model + off, data, n);
		if (vol_extent_add(&x, off, data, n) == -1) {
			memcpy(stored + x.start, x.buf, x.len);
			x.len = 0;
			assert_int_equal(vol_extent_add(&x, off, data, n), 0);
		}
		assert_true(x.len <= x.cap);
	}
	memcpy(stored + x.start, x.buf, x.len);
	assert_memory_equal(stored, model, FILE_BYTES);
	vol_extent_free(&x);
}

static int
opts(const char *text, struct vol_opts *o, char *err, size_t errlen)
{
	struct json		*doc;
	struct json_error	 jerr;
	int			 rc;

	doc = json_parse(text, strlen(text), 0, &jerr);
	assert_non_null(doc);
	rc = vol_opts_parse(doc, o, err, errlen);
	json_free(doc);
	return (rc);
}

static void
test_options(void **state)
{
	struct vol_opts	o;
	char		err[256];

	assert_int_equal(vol_opts_parse(NULL, &o, err, sizeof err), 0);
	assert_int_equal(o.type, VOL_TYPE_DATA);
	assert_int_equal(opts("{}", &o, err, sizeof err), 0);
	assert_int_equal(opts("{\"type\":\"data\"}", &o, err, sizeof err), 0);
	assert_int_equal(opts("{\"type\":\"certs\",\"names\":\"a.test,b.test\"}",
	    &o, err, sizeof err), 0);
	assert_int_equal(o.type, VOL_TYPE_CERTS);
	assert_string_equal(o.names, "a.test,b.test");
	vol_opts_clear(&o);
	assert_int_equal(opts("{\"type\":\"certs\"}", &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "needs names="));
	assert_int_equal(opts("{\"type\":\"blob\"}", &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "type=blob"));
	assert_int_equal(opts("{\"names\":\"x\"}", &o, err, sizeof err), -1);
	assert_int_equal(opts("{\"issuer\":\"acme\",\"type\":\"certs\","
	    "\"names\":\"x\"}", &o, err, sizeof err), 0);
	assert_int_equal(o.acme, 1);
	vol_opts_clear(&o);
	assert_int_equal(opts("{\"issuer\":\"le\",\"type\":\"certs\","
	    "\"names\":\"x\"}", &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "issuer=le: unknown issuer"));
	assert_int_equal(opts("{\"size\":\"1G\"}", &o, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown option size"));
	assert_int_equal(opts("{\"type\":1}", &o, err, sizeof err), -1);
	assert_int_equal(opts("[]", &o, err, sizeof err), -1);
}

static void
test_multistatus(void **state)
{
	static const char	 doc[] =
	    "<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\">"
	    "<D:response><D:href>/v1/d1/</D:href><D:propstat><D:prop>"
	    "<D:getlastmodified>Sat, 28 Nov 2026 17:25:17 GMT</D:getlastmodified>"
	    "<D:resourcetype><D:collection/></D:resourcetype></D:prop>"
	    "<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
	    "<D:response><D:href>/v1/d1/a%20b</D:href><D:propstat><D:prop>"
	    "<D:getcontentlength>12345</D:getcontentlength><D:resourcetype/>"
	    "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
	    "<D:propstat><D:prop><D:getcontentlength>9</D:getcontentlength>"
	    "<D:resourcetype><D:collection/></D:resourcetype></D:prop>"
	    "<D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>"
	    "<D:response><D:href>/v1/d1/x%2Fy</D:href></D:response>"
	    "</D:multistatus>";
	struct vol_entry	*e;
	size_t			 n, i, len;
	char			*big, *p;

	assert_int_equal(vol_multistatus_parse(doc, sizeof doc - 1, &e, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].name, "d1");
	assert_true(e[0].is_dir);
	assert_int_equal(e[0].mtime, 1795886717);
	assert_string_equal(e[1].name, "a b");
	assert_false(e[1].is_dir);		/* the 404 propstat is ignored */
	assert_int_equal(e[1].size, 12345);
	assert_null(e[2].name);			/* a slash inside a name */
	assert_true(e[2].bad);
	vol_entries_free(e, n);

	/* Refused: not XML, a DOCTYPE, no response at all. */
	assert_int_equal(vol_multistatus_parse("<a", 2, &e, &n), -1);
	assert_int_equal(vol_multistatus_parse("<!DOCTYPE x [<!ENTITY a \"b\">]>"
	    "<x/>", 34, &e, &n), -1);
	assert_int_equal(vol_multistatus_parse("<D:multistatus xmlns:D=\"DAV:\"/>",
	    31, &e, &n), -1);

	/* A listing of 30,000 members: far past a request body's node cap. */
	big = p = malloc(30000 * 256 + 200);
	p += sprintf(p, "<D:multistatus xmlns:D=\"DAV:\">");
	for (i = 0; i < 30000; i++)
		p += sprintf(p, "<D:response><D:href>/v/f%zu</D:href><D:propstat>"
		    "<D:prop><D:getcontentlength>%zu</D:getcontentlength></D:prop>"
		    "<D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
		    "</D:response>", i, i);
	p += sprintf(p, "</D:multistatus>");
	len = p - big;
	assert_int_equal(vol_multistatus_parse(big, len, &e, &n), 0);
	assert_int_equal(n, 30000);
	assert_string_equal(e[29999].name, "f29999");
	assert_int_equal(e[29999].size, 29999);
	vol_entries_free(e, n);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_extent_rules),
		cmocka_unit_test(test_extent_model),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_multistatus),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
