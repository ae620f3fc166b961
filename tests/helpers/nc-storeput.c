/* nc-storeput.c: write (or delete) one record in a shared PostgreSQL store as
 * a host of the cluster would, sealed with the cluster's journal key: what
 * tests use to play a host that publishes what netcraved never would.
 *
 * Usage: nc-storeput KEYS_DIR CONNINFO KIND KEY [VALUE]
 * Without VALUE the record is deleted.  Exits 0 once the change is in. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "keys.h"
#include "store.h"

static int	storeput_status = -1;

static void
storeput_load(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	/* The records already there are not this program's business. */
}

static void
storeput_done(const char *error, void *arg)
{
	struct event_base	*base = arg;

	if (error != NULL)
		fprintf(stderr, "nc-storeput: %s\n", error);
	storeput_status = error != NULL;
	event_base_loopexit(base, NULL);
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct store_params	 params;
	struct store		*store;
	unsigned char		 key[KEYS_KEY_BYTES];
	char			 err[512];

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: nc-storeput KEYS_DIR CONNINFO KIND KEY "
		    "[VALUE]\n");
		return (2);
	}
	if (keys_open(argv[1], err, sizeof err) == -1 ||
	    keys_get("journal", key, 0, err, sizeof err) == -1) {
		fprintf(stderr, "nc-storeput: keys: %s\n", err);
		return (1);
	}
	base = event_base_new();
	memset(&params, 0, sizeof params);
	params.backend = "pg";
	params.pg_conninfo = argv[2];
	params.key = key;
	if ((store = store_open(base, &params, storeput_load, NULL, err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "nc-storeput: store: %s\n", err);
		return (1);
	}
	if (argc == 6)
		store_put(store, argv[3], argv[4], argv[5], strlen(argv[5]),
		    storeput_done, base);
	else
		store_del(store, argv[3], argv[4], storeput_done, base);
	event_base_dispatch(base);
	store_close(store);
	keys_close();
	event_base_free(base);
	return (storeput_status == 0 ? 0 : 1);
}
