/* test_metrics.c: the registry and its exact Prometheus text rendering. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "metrics.h"

/* Render the registry into a NUL-terminated string the caller frees. */
static char *
render(void)
{
	struct evbuffer	*buf;
	size_t		 len;
	char		*text;

	buf = evbuffer_new();
	assert_non_null(buf);
	metrics_render(buf);
	len = evbuffer_get_length(buf);
	text = malloc(len + 1);
	assert_non_null(text);
	evbuffer_remove(buf, text, len);
	text[len] = '\0';
	evbuffer_free(buf);
	return (text);
}

/* Compare the rendering with the expected text. */
static void
assert_rendered(const char *expected)
{
	char	*text;

	text = render();
	assert_string_equal(text, expected);
	free(text);
}

/* Every test starts from an empty registry. */
static int
teardown(void **state)
{
	metrics_reset();
	return (0);
}

/* An empty registry renders nothing. */
static void
test_empty(void **state)
{
	assert_rendered("");
}

/* A counter without labels, incremented twice. */
static void
test_counter(void **state)
{
	struct metric	*m;

	m = metrics_counter("netcrave_test_total", "Things counted.", NULL);
	assert_non_null(m);
	metrics_add(m, 1);
	metrics_add(m, 41);
	assert_rendered(
	    "# HELP netcrave_test_total Things counted.\n"
	    "# TYPE netcrave_test_total counter\n"
	    "netcrave_test_total 42\n");
}

/* A gauge with labels, set several times, and float formatting. */
static void
test_gauge(void **state)
{
	struct metric	*a, *b, *c;

	a = metrics_gauge("netcrave_temp", "A gauge.", "room=\"a\"");
	b = metrics_gauge("netcrave_temp", "ignored help", "room=\"b\"");
	c = metrics_gauge("netcrave_temp", NULL, "room=\"c\"");
	metrics_set(a, 3);
	metrics_set(a, 1.5);
	metrics_set(b, -0.1);
	metrics_set(c, 1.0 / 0.0);
	assert_rendered(
	    "# HELP netcrave_temp A gauge.\n"
	    "# TYPE netcrave_temp gauge\n"
	    "netcrave_temp{room=\"a\"} 1.5\n"
	    "netcrave_temp{room=\"b\"} -0.1\n"
	    "netcrave_temp{room=\"c\"} +Inf\n");
}

/* A labelled histogram: cumulative buckets, inclusive bounds, _sum, _count. */
static void
test_histogram(void **state)
{
	static const double	 bounds[] = { 0.1, 0.5, 1 };
	struct metric		*m;

	m = metrics_histogram("netcrave_lat_seconds", "Latency.",
	    "server=\"dns\"", bounds, 3);
	metrics_observe(m, 0.05);
	metrics_observe(m, 0.1);	/* le is inclusive */
	metrics_observe(m, 0.75);
	metrics_observe(m, 2);
	assert_rendered(
	    "# HELP netcrave_lat_seconds Latency.\n"
	    "# TYPE netcrave_lat_seconds histogram\n"
	    "netcrave_lat_seconds_bucket{server=\"dns\",le=\"0.1\"} 2\n"
	    "netcrave_lat_seconds_bucket{server=\"dns\",le=\"0.5\"} 2\n"
	    "netcrave_lat_seconds_bucket{server=\"dns\",le=\"1\"} 3\n"
	    "netcrave_lat_seconds_bucket{server=\"dns\",le=\"+Inf\"} 4\n"
	    "netcrave_lat_seconds_sum{server=\"dns\"} 2.9\n"
	    "netcrave_lat_seconds_count{server=\"dns\"} 4\n");
}

/* A histogram without labels, and the latency bounds as published. */
static void
test_histogram_unlabelled(void **state)
{
	struct metric	*m;
	char		*text;

	m = metrics_histogram("netcrave_req_seconds", "Requests.", NULL,
	    metrics_latency_bounds, metrics_latency_nbounds);
	metrics_observe(m, 0.003);
	text = render();
	assert_non_null(strstr(text,
	    "netcrave_req_seconds_bucket{le=\"0.0001\"} 0\n"));
	assert_non_null(strstr(text,
	    "netcrave_req_seconds_bucket{le=\"0.0025\"} 0\n"
	    "netcrave_req_seconds_bucket{le=\"0.005\"} 1\n"));
	assert_non_null(strstr(text,
	    "netcrave_req_seconds_bucket{le=\"10\"} 1\n"
	    "netcrave_req_seconds_bucket{le=\"+Inf\"} 1\n"
	    "netcrave_req_seconds_sum 0.003\n"
	    "netcrave_req_seconds_count 1\n"));
	free(text);
	assert_int_equal(metrics_latency_nbounds, 16);
	assert_true(metrics_latency_bounds[0] == 0.0001);
	assert_true(metrics_latency_bounds[metrics_latency_nbounds - 1] == 10);
}

/* The same name and labels give the same series; other labels a new one. */
static void
test_same_series(void **state)
{
	struct metric	*a, *b, *c;

	a = metrics_counter("netcrave_x_total", "X.", "k=\"1\"");
	b = metrics_counter("netcrave_x_total", "X.", "k=\"1\"");
	c = metrics_counter("netcrave_x_total", "X.", "k=\"2\"");
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	metrics_add(a, 1);
	metrics_add(b, 1);
	assert_rendered(
	    "# HELP netcrave_x_total X.\n"
	    "# TYPE netcrave_x_total counter\n"
	    "netcrave_x_total{k=\"1\"} 2\n"
	    "netcrave_x_total{k=\"2\"} 0\n");
}

/* Families render in registration order, each HELP and TYPE once. */
static void
test_family_order(void **state)
{
	metrics_gauge("netcrave_b", "B.", "r=\"1\"");
	metrics_counter("netcrave_a_total", "A.", NULL);
	metrics_gauge("netcrave_b", "B.", "r=\"2\"");
	metrics_add(NULL, 1);	/* ignored */
	assert_rendered(
	    "# HELP netcrave_b B.\n"
	    "# TYPE netcrave_b gauge\n"
	    "netcrave_b{r=\"1\"} 0\n"
	    "netcrave_b{r=\"2\"} 0\n"
	    "# HELP netcrave_a_total A.\n"
	    "# TYPE netcrave_a_total counter\n"
	    "netcrave_a_total 0\n");
}

/* Label values and HELP text are escaped as the format asks. */
static void
test_escaping(void **state)
{
	char	*v, *labels;

	v = metrics_escape_label("a\"b\\c\nd");
	assert_string_equal(v, "a\\\"b\\\\c\\nd");
	assert_int_not_equal(asprintf(&labels, "role=\"%s\"", v), -1);
	metrics_gauge("netcrave_esc", "Back\\slash \"quoted\"\nsecond line",
	    labels);
	assert_rendered(
	    "# HELP netcrave_esc Back\\\\slash \"quoted\"\\nsecond line\n"
	    "# TYPE netcrave_esc gauge\n"
	    "netcrave_esc{role=\"a\\\"b\\\\c\\nd\"} 0\n");
	free(labels);
	free(v);

	v = metrics_escape_label("");
	assert_string_equal(v, "");
	free(v);
}

/* Reset forgets every family; a re-registered series starts at zero. */
static void
test_reset(void **state)
{
	struct metric	*m;

	m = metrics_counter("netcrave_r_total", "R.", NULL);
	metrics_add(m, 5);
	metrics_reset();
	assert_rendered("");
	m = metrics_counter("netcrave_r_total", "R again.", NULL);
	metrics_add(m, 1);
	assert_rendered(
	    "# HELP netcrave_r_total R again.\n"
	    "# TYPE netcrave_r_total counter\n"
	    "netcrave_r_total 1\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_empty, teardown),
		cmocka_unit_test_teardown(test_counter, teardown),
		cmocka_unit_test_teardown(test_gauge, teardown),
		cmocka_unit_test_teardown(test_histogram, teardown),
		cmocka_unit_test_teardown(test_histogram_unlabelled, teardown),
		cmocka_unit_test_teardown(test_same_series, teardown),
		cmocka_unit_test_teardown(test_family_order, teardown),
		cmocka_unit_test_teardown(test_escaping, teardown),
		cmocka_unit_test_teardown(test_reset, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
