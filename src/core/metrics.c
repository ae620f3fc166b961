/* metrics.c: one registry of counters, gauges and histograms, rendered in the
 * Prometheus text exposition format 0.0.4. */
#include "config.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM
};

struct metric_family;

struct metric {
	TAILQ_ENTRY(metric)	 entry;
	struct metric_family	*family;
	char			*labels;	/* without braces; "" when none */

	uint64_t		 counter;
	double			 gauge;

	/* Histogram: buckets[i] counts observations in (bounds[i-1], bounds[i]];
	 * buckets[nbounds] is the +Inf overflow.  Cumulated when rendered. */
	double			*bounds;
	unsigned int		 nbounds;
	uint64_t		*buckets;
	uint64_t		 count;
	double			 sum;
};

struct metric_family {
	TAILQ_ENTRY(metric_family) entry;
	char			*name;
	char			*help;
	enum metric_type	 type;
	TAILQ_HEAD(, metric)	 series;	/* registration order */
};

/* Families in registration order, so the rendered text is deterministic. */
static TAILQ_HEAD(, metric_family) metrics_families =
    TAILQ_HEAD_INITIALIZER(metrics_families);

/* Powers of 1, 2.5 and 5 from 100us to 10s: fine where handlers live. */
const double metrics_latency_bounds[] = {
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5,
	10
};
const unsigned int metrics_latency_nbounds =
    sizeof metrics_latency_bounds / sizeof metrics_latency_bounds[0];

/* Name of a type as "# TYPE" spells it. */
static const char *
metrics_type_name(enum metric_type type)
{
	switch (type) {
	case METRIC_COUNTER:
		return ("counter");
	case METRIC_GAUGE:
		return ("gauge");
	case METRIC_HISTOGRAM:
		return ("histogram");
	}
	return ("untyped");
}

/* Metric names are fixed in the code, so a bad one is a programming error. */
static int
metrics_valid_name(const char *name)
{
	const char	*p;

	if (*name == '\0' || (*name >= '0' && *name <= '9'))
		return (0);
	for (p = name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':')
			continue;
		return (0);
	}
	return (1);
}

/* Find the family called name, or NULL. */
static struct metric_family *
metrics_find_family(const char *name)
{
	struct metric_family	*mf;

	TAILQ_FOREACH(mf, &metrics_families, entry) {
		if (strcmp(mf->name, name) == 0)
			return (mf);
	}
	return (NULL);
}

/* Find or create the series name{labels}; the first registration sets help. */
static struct metric *
metrics_get(const char *name, const char *help, const char *labels,
    enum metric_type type, int *created)
{
	struct metric_family	*mf;
	struct metric		*m;

	if (!metrics_valid_name(name))
		fatalx("%s: invalid metric name \"%s\"", __func__, name);
	if (labels == NULL)
		labels = "";
	*created = 0;

	mf = metrics_find_family(name);
	if (mf == NULL) {
		mf = xcalloc(1, sizeof *mf);
		mf->name = xstrdup(name);
		mf->help = xstrdup(help != NULL ? help : "");
		mf->type = type;
		TAILQ_INIT(&mf->series);
		TAILQ_INSERT_TAIL(&metrics_families, mf, entry);
	} else if (mf->type != type) {
		fatalx("%s: %s registered as %s, asked for as %s", __func__,
		    name, metrics_type_name(mf->type), metrics_type_name(type));
	}

	TAILQ_FOREACH(m, &mf->series, entry) {
		if (strcmp(m->labels, labels) == 0)
			return (m);
	}
	m = xcalloc(1, sizeof *m);
	m->family = mf;
	m->labels = xstrdup(labels);
	TAILQ_INSERT_TAIL(&mf->series, m, entry);
	*created = 1;
	return (m);
}

/* Register or find a counter series. */
struct metric *
metrics_counter(const char *name, const char *help, const char *labels)
{
	int	created;

	return (metrics_get(name, help, labels, METRIC_COUNTER, &created));
}

/* Register or find a gauge series. */
struct metric *
metrics_gauge(const char *name, const char *help, const char *labels)
{
	int	created;

	return (metrics_get(name, help, labels, METRIC_GAUGE, &created));
}

/* Register or find a histogram series; an existing series keeps its bounds. */
struct metric *
metrics_histogram(const char *name, const char *help, const char *labels,
    const double *bounds, unsigned int nbounds)
{
	struct metric	*m;
	unsigned int	 i;
	int		 created;

	for (i = 1; i < nbounds; i++) {
		if (!(bounds[i - 1] < bounds[i]))
			fatalx("%s: %s: bounds not increasing", __func__, name);
	}
	m = metrics_get(name, help, labels, METRIC_HISTOGRAM, &created);
	if (created) {
		m->nbounds = nbounds;
		if (nbounds > 0) {
			m->bounds = xreallocarray(NULL, nbounds,
			    sizeof *m->bounds);
			memcpy(m->bounds, bounds, nbounds * sizeof *m->bounds);
		}
		m->buckets = xcalloc(nbounds + 1, sizeof *m->buckets);
	}
	return (m);
}

/* Count n more events; a gauge accepts it too (as an increment). */
void
metrics_add(struct metric *m, uint64_t n)
{
	if (m == NULL)
		return;
	switch (m->family->type) {
	case METRIC_COUNTER:
		m->counter += n;
		break;
	case METRIC_GAUGE:
		m->gauge += (double)n;
		break;
	case METRIC_HISTOGRAM:
		fatalx("%s: %s is a histogram", __func__, m->family->name);
	}
}

/* Set a gauge: counters only go up, so setting one is a programming error. */
void
metrics_set(struct metric *m, double value)
{
	if (m == NULL)
		return;
	if (m->family->type != METRIC_GAUGE)
		fatalx("%s: %s is not a gauge", __func__, m->family->name);
	m->gauge = value;
}

/* Record one observation in its bucket; "le" means the bound is inclusive. */
void
metrics_observe(struct metric *m, double value)
{
	unsigned int	i;

	if (m == NULL)
		return;
	if (m->family->type != METRIC_HISTOGRAM)
		fatalx("%s: %s is not a histogram", __func__, m->family->name);
	for (i = 0; i < m->nbounds; i++) {
		if (value <= m->bounds[i])
			break;
	}
	m->buckets[i]++;
	m->count++;
	m->sum += value;
}

/* Format a float the shortest way that reads back the same, as Go prints them. */
static void
metrics_format_double(char *buf, size_t len, double value)
{
	int	precision;

	if (isnan(value)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(value)) {
		snprintf(buf, len, "%s", value > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* %g would print 10 as 1e+01: whole numbers read better in full. */
	if (fabs(value) < 1e15 && value == (double)(int64_t)value) {
		snprintf(buf, len, "%.0f", value);
		return;
	}
	for (precision = 1; precision < 17; precision++) {
		snprintf(buf, len, "%.*g", precision, value);
		if (strtod(buf, NULL) == value)
			return;
	}
	snprintf(buf, len, "%.17g", value);
}

/* Escape a label value: backslash, double quote and newline. */
char *
metrics_escape_label(const char *value)
{
	const char	*p;
	char		*out, *q;

	out = xreallocarray(NULL, strlen(value) + 1, 2);
	for (p = value, q = out; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			*q++ = '\\';
			*q++ = '\\';
			break;
		case '"':
			*q++ = '\\';
			*q++ = '"';
			break;
		case '\n':
			*q++ = '\\';
			*q++ = 'n';
			break;
		default:
			*q++ = *p;
			break;
		}
	}
	*q = '\0';
	return (out);
}

/* HELP text escapes only backslash and newline (quotes stay as they are). */
static void
metrics_render_help(struct evbuffer *out, const struct metric_family *mf)
{
	const char	*p;

	evbuffer_add_printf(out, "# HELP %s ", mf->name);
	for (p = mf->help; *p != '\0'; p++) {
		if (*p == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*p == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, p, 1);
	}
	evbuffer_add(out, "\n", 1);
}

/* Render one histogram series: cumulative buckets, then _sum and _count. */
static void
metrics_render_histogram(struct evbuffer *out, const struct metric *m)
{
	const char	*name = m->family->name, *sep;
	char		 le[64], sum[64];
	uint64_t	 cumulative = 0;
	unsigned int	 i;

	sep = m->labels[0] != '\0' ? "," : "";
	for (i = 0; i <= m->nbounds; i++) {
		cumulative += m->buckets[i];
		if (i < m->nbounds)
			metrics_format_double(le, sizeof le, m->bounds[i]);
		else
			snprintf(le, sizeof le, "+Inf");
		evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n",
		    name, m->labels, sep, le, cumulative);
	}
	metrics_format_double(sum, sizeof sum, m->sum);
	if (m->labels[0] != '\0') {
		evbuffer_add_printf(out, "%s_sum{%s} %s\n", name, m->labels, sum);
		evbuffer_add_printf(out, "%s_count{%s} %" PRIu64 "\n", name,
		    m->labels, m->count);
	} else {
		evbuffer_add_printf(out, "%s_sum %s\n", name, sum);
		evbuffer_add_printf(out, "%s_count %" PRIu64 "\n", name, m->count);
	}
}

/* Append every family, HELP and TYPE once each, series in registration order. */
void
metrics_render(struct evbuffer *out)
{
	struct metric_family	*mf;
	struct metric		*m;
	char			 value[64];

	TAILQ_FOREACH(mf, &metrics_families, entry) {
		metrics_render_help(out, mf);
		evbuffer_add_printf(out, "# TYPE %s %s\n", mf->name,
		    metrics_type_name(mf->type));
		TAILQ_FOREACH(m, &mf->series, entry) {
			if (mf->type == METRIC_HISTOGRAM) {
				metrics_render_histogram(out, m);
				continue;
			}
			if (mf->type == METRIC_COUNTER)
				snprintf(value, sizeof value, "%" PRIu64,
				    m->counter);
			else
				metrics_format_double(value, sizeof value,
				    m->gauge);
			if (m->labels[0] != '\0')
				evbuffer_add_printf(out, "%s{%s} %s\n",
				    mf->name, m->labels, value);
			else
				evbuffer_add_printf(out, "%s %s\n", mf->name,
				    value);
		}
	}
}

/* Free every family and series; pointers held by callers become invalid. */
void
metrics_reset(void)
{
	struct metric_family	*mf;
	struct metric		*m;

	while ((mf = TAILQ_FIRST(&metrics_families)) != NULL) {
		TAILQ_REMOVE(&metrics_families, mf, entry);
		while ((m = TAILQ_FIRST(&mf->series)) != NULL) {
			TAILQ_REMOVE(&mf->series, m, entry);
			free(m->labels);
			free(m->bounds);
			free(m->buckets);
			free(m);
		}
		free(mf->name);
		free(mf->help);
		free(mf);
	}
}
