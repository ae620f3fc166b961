/* ipam_alloc.c: time and peak memory of the address pool at scale: a million
 * addresses of a /64 in then out, a million interleaved allocs and releases,
 * and the documented slow case, a small pool nearly full.  One scenario per
 * run so each peak RSS is its own.  Built by bench/ipam.sh. */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipam.h"
#include "log.h"
#include "prefix.h"
#include "xmalloc.h"

#define BENCH_N		1000000
#define BENCH_WINDOW	1000	/* addresses live at once when interleaved */

/* Seconds on the monotonic clock. */
static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Peak resident set of this process so far, in KiB. */
static long
bench_peak_rss(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_maxrss);
}

/* A pool over text, or exit. */
static struct ipam_pool *
bench_pool(const char *text)
{
	struct prefix	p;
	char		err[128];

	if (prefix_parse(text, 1, &p, err, sizeof err) == -1)
		fatalx("%s", err);
	return (ipam_pool_new(&p));
}

/* A million allocs in a /64, then every one released. */
static void
bench_sequential(void)
{
	struct ipam_pool	*pool = bench_pool("fd00:be:c::/64");
	struct prefix		*all = xcalloc(BENCH_N, sizeof *all);
	double			 t0, t1, t2;
	long			 rss_before = bench_peak_rss();
	size_t			 i;

	t0 = bench_now();
	for (i = 0; i < BENCH_N; i++)
		if (ipam_pool_alloc(pool, &all[i]) == -1)
			fatalx("alloc %zu failed", i);
	t1 = bench_now();
	for (i = 0; i < BENCH_N; i++)
		if (ipam_pool_release(pool, &all[i]) == -1)
			fatalx("release %zu failed", i);
	t2 = bench_now();
	if (ipam_pool_count(pool) != 0)
		fatalx("count %zu after releasing all", ipam_pool_count(pool));
	printf("sequential /64: %d allocs %.3f s, %d releases %.3f s, "
	    "total %.3f s; peak RSS %ld KiB (%ld KiB before; the bench's own "
	    "address array is %zu KiB)\n", BENCH_N, t1 - t0, BENCH_N, t2 - t1,
	    t2 - t0, bench_peak_rss(), rss_before,
	    (size_t)BENCH_N * sizeof *all / 1024);
	free(all);
	ipam_pool_free(pool);
}

/* A million allocs in a /64, each followed by releasing the oldest live one. */
static void
bench_interleaved(void)
{
	struct ipam_pool	*pool = bench_pool("fd00:be:c::/64");
	struct prefix		 live[BENCH_WINDOW];
	double			 t0, t1;
	size_t			 i;

	t0 = bench_now();
	for (i = 0; i < BENCH_N; i++) {
		if (i >= BENCH_WINDOW &&
		    ipam_pool_release(pool, &live[i % BENCH_WINDOW]) == -1)
			fatalx("release %zu failed", i);
		if (ipam_pool_alloc(pool, &live[i % BENCH_WINDOW]) == -1)
			fatalx("alloc %zu failed", i);
	}
	t1 = bench_now();
	printf("interleaved /64: %d allocs and %d releases (%d live) %.3f s; "
	    "peak RSS %ld KiB\n", BENCH_N, BENCH_N - BENCH_WINDOW, BENCH_WINDOW,
	    t1 - t0, bench_peak_rss());
	ipam_pool_free(pool);
}

/*
 * The slow case the header documents: a /16 with every address taken but a
 * few, each alloc then walks from the cursor to the next hole.  Random holes
 * are released and taken again.
 */
static void
bench_nearly_full(void)
{
	enum { HOLES = 8, ROUNDS = 20000 };
	struct ipam_pool	*pool = bench_pool("10.77.0.0/16");
	struct prefix		 p, *all;
	uint64_t		 seed = 88172645463325252ULL;
	double			 t0, t1;
	size_t			 n = 65534, i, k;

	all = xcalloc(n, sizeof *all);
	for (i = 0; i < n; i++)
		if (ipam_pool_alloc(pool, &all[i]) == -1)
			fatalx("fill %zu failed", i);
	for (i = 0; i < HOLES; i++)
		ipam_pool_release(pool, &all[i * (n / HOLES)]);
	t0 = bench_now();
	for (i = 0; i < ROUNDS; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		k = seed % n;
		if (ipam_pool_release(pool, &all[k]) == -1)
			continue;	/* one of the holes: try another */
		if (ipam_pool_alloc(pool, &p) == -1)
			fatalx("alloc in round %zu failed", i);
		/* Keep the array naming what is held. */
		all[k] = p;
	}
	t1 = bench_now();
	printf("nearly full /16 (%d free of 65534): %d release+alloc %.3f s "
	    "(%.1f us each)\n", HOLES, ROUNDS, t1 - t0,
	    (t1 - t0) * 1e6 / ROUNDS);
	free(all);
	ipam_pool_free(pool);
}

int
main(int argc, char **argv)
{
	const char	*what = argc > 1 ? argv[1] : "all";

	log_init(1, LOG_LEVEL_INFO, "ipam_alloc");
	if (strcmp(what, "sequential") == 0)
		bench_sequential();
	else if (strcmp(what, "interleaved") == 0)
		bench_interleaved();
	else if (strcmp(what, "nearly-full") == 0)
		bench_nearly_full();
	else {
		fprintf(stderr, "usage: ipam_alloc sequential|interleaved|"
		    "nearly-full\n");
		return (1);
	}
	return (0);
}
