/* metrics.h: counters, gauges and histograms in one registry, rendered in the
 * Prometheus text exposition format. */
#ifndef NETCRAVE_METRICS_H
#define NETCRAVE_METRICS_H

#include <stdint.h>

struct evbuffer;
struct metric;

/*
 * Register (or find) a series.  name is the family name ("netcrave_http_requests_total"),
 * labels the label set without braces ("server=\"plugin\",code=\"200\"") or NULL.
 * The same name and labels return the same series; the first help given for a
 * family is kept.  Label values that come from outside (roles, network names)
 * must go through metrics_escape_label first.  A name used with two types is
 * a programming error (fatalx).
 */
struct metric	*metrics_counter(const char *name, const char *help, const char *labels);
struct metric	*metrics_gauge(const char *name, const char *help, const char *labels);
/* bounds: upper bounds of the buckets in increasing order (+Inf is implied). */
struct metric	*metrics_histogram(const char *name, const char *help,
		    const char *labels, const double *bounds, unsigned int nbounds);

/* A NULL metric is ignored, so optional series need no checks at call sites. */
void		 metrics_add(struct metric *, uint64_t);	/* counter, gauge */
void		 metrics_set(struct metric *, double);		/* gauge */
void		 metrics_observe(struct metric *, double);	/* histogram */

/* Escape \\, " and newline for use inside label="..." (caller frees). */
char		*metrics_escape_label(const char *);

/* Append the whole registry in Prometheus text format 0.0.4. */
void		 metrics_render(struct evbuffer *);
/* Free every series (at shutdown and between unit tests). */
void		 metrics_reset(void);

/* Buckets for latencies in seconds, 100us .. 10s. */
extern const double metrics_latency_bounds[];
extern const unsigned int metrics_latency_nbounds;

#endif
