/* test_json.c: unit tests of the JSON reader: types, positions, escapes, limits. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "xmalloc.h"

/* Parse a C string without comments; the test fails if it does not parse. */
static struct json *
parse_ok(const char *text)
{
	struct json_error	 err;
	struct json		*root;

	root = json_parse(text, strlen(text), 0, &err);
	if (root == NULL)
		fail_msg("parse of %s failed: %u:%u: %s", text, err.line,
		    err.column, err.message);
	return (root);
}

/* Parse len bytes expecting failure at line:column with message containing want. */
static void
parse_fails(const char *text, size_t len, int comments, unsigned int line,
    unsigned int column, const char *want)
{
	struct json_error	 err;
	struct json		*root;

	root = json_parse(text, len, comments, &err);
	if (root != NULL) {
		json_free(root);
		fail_msg("parse of %.40s succeeded", text != NULL ? text : "");
	}
	if (strstr(err.message, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
	if (err.line != line || err.column != column)
		fail_msg("%.40s: error at %u:%u, expected %u:%u (%s)",
		    text != NULL ? text : "",
		    err.line, err.column, line, column, err.message);
}

/* Every type, with its value. */
static void
test_types(void **state)
{
	struct json		*root;
	const struct json	*n;
	int64_t			 v;
	int			 b;

	root = parse_ok("{\"n\": null, \"t\": true, \"f\": false, \"i\": -12,"
	    " \"d\": 1.5e3, \"s\": \"hi\", \"a\": [], \"o\": {}}");
	assert_int_equal(root->type, JSON_OBJECT);
	assert_int_equal(root->nchildren, 8);
	assert_int_equal(json_get(root, "n")->type, JSON_NULL);
	assert_int_equal(json_get_bool(root, "t", &b), 0);
	assert_true(b);
	assert_int_equal(json_get_bool(root, "f", &b), 0);
	assert_false(b);
	assert_int_equal(json_get_bool(root, "s", &b), -1);
	assert_int_equal(json_get_bool(root, "missing", &b), -1);
	n = json_get(root, "i");
	assert_int_equal(n->type, JSON_NUMBER);
	assert_string_equal(n->string, "-12");
	assert_int_equal(json_number_int64(n, -100, 100, &v), 0);
	assert_int_equal(v, -12);
	n = json_get(root, "d");
	assert_string_equal(n->string, "1.5e3");
	assert_int_equal(json_number_int64(n, INT64_MIN, INT64_MAX, &v), -1);
	assert_string_equal(json_get_string(root, "s"), "hi");
	assert_null(json_get_string(root, "i"));
	assert_int_equal(json_get(root, "a")->type, JSON_ARRAY);
	assert_int_equal(json_get(root, "a")->nchildren, 0);
	assert_int_equal(json_get(root, "o")->type, JSON_OBJECT);
	assert_null(json_get(root, "nope"));
	assert_null(json_get(json_get(root, "a"), "x"));
	/* Members keep their order. */
	assert_string_equal(root->children[0]->key, "n");
	assert_string_equal(root->children[7]->key, "o");
	assert_string_equal(json_type_name(JSON_OBJECT), "object");
	assert_string_equal(json_type_name(JSON_STRING), "string");
	json_free(root);

	/* Top-level scalars are documents too. */
	root = parse_ok("123");
	assert_int_equal(root->type, JSON_NUMBER);
	assert_string_equal(root->string, "123");
	assert_int_equal(root->column, 1);
	json_free(root);
	root = parse_ok("  false");
	assert_int_equal(root->type, JSON_BOOL);
	assert_int_equal(root->column, 3);
	json_free(root);
}

/* Nested containers build the right tree. */
static void
test_nesting(void **state)
{
	struct json		*root;
	const struct json	*a, *b;

	root = parse_ok("[[1, [2, [3]]], {\"a\": {\"b\": [true]}}]");
	assert_int_equal(root->type, JSON_ARRAY);
	assert_int_equal(root->nchildren, 2);
	a = root->children[0];
	assert_int_equal(a->nchildren, 2);
	assert_string_equal(a->children[0]->string, "1");
	assert_string_equal(a->children[1]->children[1]->children[0]->string,
	    "3");
	b = json_get(json_get(root->children[1], "a"), "b");
	assert_non_null(b);
	assert_int_equal(b->type, JSON_ARRAY);
	assert_int_equal(b->children[0]->boolean, 1);
	assert_null(root->children[0]->key);
	json_free(root);
}

/* line:column of values and member names, columns counted in characters. */
static void
test_positions(void **state)
{
	const char		*text =
	    "{\n"
	    "  \"a\": 1,\n"
	    "  \"b\xc3\xa9\": \"x\", \"c\": [true,\n"
	    "    null], \"d\": -2.5e+1, \"e\": \"q\\\"\\\\\"\n"
	    "}\n";
	struct json		*root;
	const struct json	*n;

	root = parse_ok(text);
	assert_int_equal(root->line, 1);
	assert_int_equal(root->column, 1);
	n = json_get(root, "a");
	assert_int_equal(n->key_line, 2);
	assert_int_equal(n->key_column, 3);
	assert_int_equal(n->line, 2);
	assert_int_equal(n->column, 8);
	n = json_get(root, "b\xc3\xa9");
	assert_int_equal(n->key_line, 3);
	assert_int_equal(n->key_column, 3);
	assert_int_equal(n->line, 3);
	assert_int_equal(n->column, 9);
	n = json_get(root, "c");
	assert_int_equal(n->key_column, 14);
	assert_int_equal(n->line, 3);
	assert_int_equal(n->column, 19);
	assert_int_equal(n->children[0]->line, 3);
	assert_int_equal(n->children[0]->column, 20);
	assert_int_equal(n->children[1]->line, 4);
	assert_int_equal(n->children[1]->column, 5);
	n = json_get(root, "d");
	assert_int_equal(n->line, 4);
	assert_int_equal(n->column, 17);
	n = json_get(root, "e");
	assert_int_equal(n->line, 4);
	assert_int_equal(n->column, 31);
	assert_string_equal(n->string, "q\"\\");
	json_free(root);
}

/* \u escapes: BMP, NUL, surrogate pairs, Go's HTML-safe escapes. */
static void
test_unicode_escapes(void **state)
{
	struct json	*root;

	root = parse_ok("\"\\u00e9\"");
	assert_int_equal(root->string_len, 2);
	assert_memory_equal(root->string, "\xc3\xa9", 2);
	json_free(root);

	root = parse_ok("\"a\\u0000b\"");
	assert_int_equal(root->string_len, 3);
	assert_memory_equal(root->string, "a\0b", 3);
	json_free(root);

	root = parse_ok("{\"s\": \"x\\u0000\"}");
	/* C-text lookups refuse a string with a NUL inside. */
	assert_null(json_get_string(root, "s"));
	assert_int_equal(json_get(root, "s")->string_len, 2);
	json_free(root);

	root = parse_ok("\"\\ud83d\\ude00!\"");
	assert_int_equal(root->string_len, 5);
	assert_memory_equal(root->string, "\xf0\x9f\x98\x80!", 5);
	json_free(root);

	/* Go's encoder escapes <, > and & this way. */
	root = parse_ok("{\"Name\":\"\\u003cb\\u003e \\u0026\"}\n");
	assert_string_equal(json_get_string(root, "Name"), "<b> &");
	json_free(root);

	/* An escaped backslash before "u" is not an escape. */
	root = parse_ok("\"\\\\ud800\"");
	assert_string_equal(root->string, "\\ud800");
	json_free(root);

	parse_fails("\"\\ud800\"", 8, 0, 1, 8, "surrogate");
	parse_fails("\"\\ud800x\"", 9, 0, 1, 8, "surrogate");
	parse_fails("\"\\ude00\"", 8, 0, 1, 2, "surrogate");
	parse_fails("[\"ok\", \"\\ud83d\\u0041\"]", 22, 0, 1, 15, "surrogate");
	parse_fails("{\"\\udc00\": 1}", 13, 0, 1, 3, "surrogate");
	parse_fails("{\"a\\u0000\": 1}", 14, 0, 1, 2, "NUL");
}

/* A Docker plugin request as Go's encoder writes it. */
static void
test_go_body(void **state)
{
	const char	*body = "{\"NetworkID\":\"abc\",\"Options\":"
	    "{\"com.docker.network.generic\":{\"k\":\"\\u003cv\\u003e\"}},"
	    "\"IPv4Data\":[{\"AddressSpace\":\"\",\"Pool\":\"10.0.0.0/24\"}],"
	    "\"IPv6Data\":null}\n";
	struct json	*root;

	root = parse_ok(body);
	assert_string_equal(json_get_string(root, "NetworkID"), "abc");
	assert_string_equal(json_get_string(json_get(json_get(root, "Options"),
	    "com.docker.network.generic"), "k"), "<v>");
	assert_int_equal(json_get(root, "IPv6Data")->type, JSON_NULL);
	json_free(root);
}

/* Build n nested arrays. */
static char *
nested(size_t n)
{
	char	*text;

	text = xmalloc(2 * n + 1);
	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	return (text);
}

/* JSON_MAX_DEPTH containers are fine, one more is refused where it opens. */
static void
test_depth_limit(void **state)
{
	struct json	*root;
	char		*text;

	text = nested(JSON_MAX_DEPTH);
	root = parse_ok(text);
	json_free(root);
	free(text);

	text = nested(JSON_MAX_DEPTH + 1);
	parse_fails(text, strlen(text), 0, 1, JSON_MAX_DEPTH + 1, "deeper");
	free(text);

	/* Far deeper input fails the same way without recursion. */
	text = nested(1000000);
	parse_fails(text, strlen(text), 0, 1, JSON_MAX_DEPTH + 1, "deeper");
	free(text);
}

/* Build an array of n zeros: n + 1 values. */
static char *
zeros(size_t n)
{
	char	*text;
	size_t	 i;

	text = xmalloc(2 * n + 2);
	text[0] = '[';
	for (i = 0; i < n; i++) {
		text[1 + 2 * i] = '0';
		text[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	text[2 * n + 1] = '\0';
	return (text);
}

/* JSON_MAX_NODES values are fine, one more is refused. */
static void
test_node_limit(void **state)
{
	struct json	*root;
	char		*text;

	text = zeros(JSON_MAX_NODES - 1);
	root = parse_ok(text);
	assert_int_equal(root->nchildren, JSON_MAX_NODES - 1);
	json_free(root);
	free(text);

	text = zeros(JSON_MAX_NODES);
	/* The last zero is at byte 2 * JSON_MAX_NODES - 1, so that column. */
	parse_fails(text, strlen(text), 0, 1, 2 * JSON_MAX_NODES,
	    "more than");
	free(text);
}

/* Duplicate names are refused at the later one, in small and large objects. */
static void
test_duplicate_key(void **state)
{
	char	*text, *p;
	size_t	 i, size = 64 * 1000;

	parse_fails("{\"a\": 1,\n \"b\": 2, \"a\": 3}", 25, 0, 2, 10,
	    "duplicate member \"a\"");
	parse_fails("{\"x\": {\"a\": 1, \"a\": 1}}", 24, 0, 1, 16, "duplicate");

	/* A large object goes through the sorted check. */
	text = xmalloc(size);
	p = text;
	*p++ = '{';
	for (i = 0; i < 1000; i++)
		p += snprintf(p, size - (size_t)(p - text), "\"k%zu\": %zu, ",
		    i, i);
	p += snprintf(p, size - (size_t)(p - text), "\"k500\": 0}");
	parse_fails(text, strlen(text), 0, 1,
	    (unsigned int)(strstr(text, "\"k500\": 0}") - text) + 1,
	    "duplicate member \"k500\"");
	/* Without the duplicate it parses. */
	strcpy(strstr(text, ", \"k500\": 0}"), "}");
	json_free(parse_ok(text));
	free(text);

	/* Same name in different objects is fine. */
	json_free(parse_ok("[{\"a\": 1}, {\"a\": 2}]"));
}

/* Invalid UTF-8 is an error, in values and in names. */
static void
test_invalid_utf8(void **state)
{
	parse_fails("\"ab\xff\"", 5, 0, 1, 4, "UTF8");
	parse_fails("{\"a\": \"\xc3\"}", 10, 0, 1, 8, "UTF8");
	/* yajl itself lets surrogates, overlong forms and > U+10FFFF through. */
	parse_fails("{\"\xed\xa0\x80\": 1}", 10, 0, 1, 3, "UTF8");
	parse_fails("[\"x\xc0\x80\"]", 6, 0, 1, 4, "UTF8");
	parse_fails("\"\xe0\x80\x80\"", 5, 0, 1, 2, "UTF8");
	parse_fails("\"\xf0\x80\x80\x80\"", 6, 0, 1, 2, "UTF8");
	parse_fails("\"\xf4\x90\x80\x80\"", 6, 0, 1, 2, "UTF8");
	parse_fails("\"\xe2\x82\"", 4, 0, 1, 2, "UTF8");
	json_free(parse_ok("\"\xf4\x8f\xbf\xbf \xed\x9f\xbf \xc2\x80\""));
	json_free(parse_ok("\"\xe2\x82\xac\""));
}

/* Trailing garbage, empty input and other syntax errors name their place. */
static void
test_syntax_errors(void **state)
{
	parse_fails("{} x", 4, 0, 1, 4, "trailing garbage");
	parse_fails("{\"a\":1}{}", 9, 0, 1, 8, "trailing garbage");
	parse_fails("", 0, 0, 1, 1, "empty document");
	/* An empty HTTP body may come as a NULL pointer. */
	parse_fails(NULL, 0, 0, 1, 1, "empty document");
	parse_fails("  \n ", 4, 0, 2, 2, "empty document");
	parse_fails("{\"a\" 1}", 7, 0, 1, 6, "colon");
	parse_fails("[1, @]", 6, 0, 1, 5, "invalid char");
	parse_fails("{\"a\":1,}", 8, 0, 1, 8, "object key");
	parse_fails("[1 234]", 7, 0, 1, 4, "expect");
	parse_fails("[1,\n", 4, 0, 2, 1, "premature EOF");
	parse_fails("[\"a\0\"]", 6, 0, 1, 4, "invalid character");
	parse_fails("\"abc\x01\"", 6, 0, 1, 5, "invalid character");
	parse_fails("\"\\q\"", 4, 0, 1, 3, "may not");
	parse_fails("[-]", 3, 0, 1, 3, "malformed number");
	parse_fails("[tru]", 5, 0, 1, 5, "invalid string");
	/* NUL outside a string. */
	parse_fails("[1]\0", 4, 0, 1, 4, "");
}

/* Comments only when asked for. */
static void
test_comments(void **state)
{
	const char	*text = "// head\n{ /* a */ \"a\": 1 // tail\n}\n";
	struct json	*root;
	struct json_error err;

	root = json_parse(text, strlen(text), 1, &err);
	assert_non_null(root);
	assert_int_equal(json_get(root, "a")->line, 2);
	assert_int_equal(json_get(root, "a")->column, 16);
	json_free(root);
	parse_fails(text, strlen(text), 0, 1, 1, "comment");
	parse_fails("/* open", 7, 1, 1, 8, "");
}

/* Build a number node for json_number_int64. */
static int
int64_of(const char *text, int64_t min, int64_t max, int64_t *out)
{
	struct json	node;

	memset(&node, 0, sizeof node);
	node.type = JSON_NUMBER;
	node.string = (char *)(uintptr_t)text;
	node.string_len = strlen(text);
	return (json_number_int64(&node, min, max, out));
}

/* Integers are parsed strictly and range-checked. */
static void
test_int64(void **state)
{
	int64_t	v;

	assert_int_equal(int64_of("0", 0, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(int64_of("-0", 0, 0, &v), 0);
	assert_int_equal(int64_of("9223372036854775807", INT64_MIN, INT64_MAX,
	    &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(int64_of("-9223372036854775808", INT64_MIN, INT64_MAX,
	    &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(int64_of("9223372036854775808", INT64_MIN, INT64_MAX,
	    &v), -1);
	assert_int_equal(int64_of("-9223372036854775809", INT64_MIN, INT64_MAX,
	    &v), -1);
	assert_int_equal(int64_of("99999999999999999999", INT64_MIN, INT64_MAX,
	    &v), -1);
	assert_int_equal(int64_of("1024", 1024, 2048, &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(int64_of("1023", 1024, 2048, &v), -1);
	assert_int_equal(int64_of("2049", 1024, 2048, &v), -1);
	assert_int_equal(int64_of("1.0", 0, 10, &v), -1);
	assert_int_equal(int64_of("1e2", 0, 1000, &v), -1);
	assert_int_equal(int64_of("01", 0, 10, &v), -1);
	assert_int_equal(int64_of("-", -10, 10, &v), -1);
	assert_int_equal(int64_of("+1", -10, 10, &v), -1);
	assert_int_equal(json_number_int64(NULL, 0, 1, &v), -1);
}

/* What json_write_string writes parses back to the same bytes. */
static void
test_write_string(void **state)
{
	char		 input[160], *out = NULL;
	size_t		 i, outlen = 0;
	FILE		*f;
	struct json	*root;
	struct json_error err;

	for (i = 0; i < 128; i++)
		input[i] = (char)i;
	memcpy(input + 128, "\"\\/\xc3\xa9", 5);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	json_write_string(f, input, 133);
	fclose(f);
	root = json_parse(out, outlen, 0, &err);
	assert_non_null(root);
	assert_int_equal(root->type, JSON_STRING);
	assert_int_equal(root->string_len, 133);
	assert_memory_equal(root->string, input, 133);
	json_free(root);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_unicode_escapes),
		cmocka_unit_test(test_go_body),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_node_limit),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_int64),
		cmocka_unit_test(test_write_string),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
