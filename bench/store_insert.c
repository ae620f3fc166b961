/* store_insert.c: durable inserts per second through the store interface, as
 * the IPAM makes them for addresses: N distinct keys, up to K in flight.
 * Usage: store_insert file DIR N K | store_insert pg CONNINFO N K */
#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "store.h"

static struct store	*store;
static int		 issued, done, failed, total, inflight_max;

static void	issue(void);

/* One insert is durable: start the next. */
static void
on_done(const char *error, void *arg)
{
	if (error != NULL && failed++ == 0)
		fprintf(stderr, "store_insert: %s\n", error);
	done++;
	issue();
}

/* Keep inflight_max inserts going until total are issued. */
static void
issue(void)
{
	char	key[64];

	while (issued < total && issued - done < inflight_max) {
		snprintf(key, sizeof key, "pool#bench 198.19.%d.%d",
		    issued / 256, issued % 256);
		if (store_insert(store, "ipam.address", key, "{}", 2, on_done,
		    NULL) == -1) {
			fprintf(stderr, "store_insert: refused\n");
			exit(1);
		}
		issued++;
	}
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct store_params	 p;
	struct timeval		 t0, t1;
	unsigned char		 key[32];
	char			 err[512];
	double			 secs;

	if (argc != 5) {
		fprintf(stderr, "usage: store_insert file|pg DIR|CONNINFO N K\n");
		return (1);
	}
	memset(key, 7, sizeof key);
	memset(&p, 0, sizeof p);
	p.backend = argv[1];
	p.key = key;
	if (strcmp(argv[1], "file") == 0)
		p.dir = argv[2];
	else
		p.pg_conninfo = argv[2];
	total = atoi(argv[3]);
	inflight_max = atoi(argv[4]);
	base = event_base_new();
	if ((store = store_open(base, &p, NULL, NULL, err, sizeof err)) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		return (1);
	}
	gettimeofday(&t0, NULL);
	issue();
	while (done < total)
		event_base_loop(base, EVLOOP_ONCE);
	gettimeofday(&t1, NULL);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
	printf("%s %d %.0f\n", argv[1], failed, total / secs);
	store_close(store);
	event_base_free(base);
	return (failed != 0);
}
