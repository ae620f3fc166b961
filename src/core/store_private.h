/* store_private.h: what the store front (store.c) shares with its backends. */
#ifndef NETCRAVE_STORE_PRIVATE_H
#define NETCRAVE_STORE_PRIVATE_H

#include <sys/queue.h>

#include <stddef.h>

#include "store.h"

#define STORE_AT_REST_KEY_BYTES	32

/* A finished change whose callback waits for the event loop. */
struct store_done {
	store_done_cb		 cb;
	void			*arg;
	char			*error;		/* NULL: durable */
	TAILQ_ENTRY(store_done)	 entry;
};
TAILQ_HEAD(store_done_queue, store_done);

/*
 * One open store.  The front owns everything here but data, which belongs to
 * the backend.  Contract for a backend:
 * - open: read what exists, call store_load_record() once per live record
 *   (any order; the file backend sorts by kind then key), set data.  On failure
 *   fill err, free what it made and leave data NULL.
 * - put/del: arguments are already checked by the front.  Report the outcome
 *   exactly once with store_complete(), before or after returning: the front
 *   defers the callback to the event loop either way.
 * - close: release data; changes still in flight must be completed (with an
 *   error if their fate is unknown) before close returns.
 */
struct store {
	const struct store_backend *backend;
	struct event_base	*base;
	char			*dir;		/* file backend's state directory */
	size_t			 compact_bytes;
	unsigned char		 key[STORE_AT_REST_KEY_BYTES];
	store_load_cb		 load_cb;
	void			*load_arg;
	void			*data;		/* the backend's own state */

	const struct store_params *params;	/* during open only */
	store_watch_cb		 watch_cb[STORE_WATCH_MAX];
	void			*watch_arg[STORE_WATCH_MAX];
	size_t			 nwatch;

	struct event		*ev_done;	/* zero timeout: run done_queue */
	struct store_done_queue	 done_queue;
	int			 dispatching;	/* inside the done callbacks */
	int			 closing;	/* store_close called */
};

/* Hand one live record to the caller while the store opens. */
void	store_load_record(struct store *, const char *kind, const char *key,
	    const void *value, size_t len);
/* Tell the watchers another host changed a record (value NULL: deleted). */
void	store_changed(struct store *, const char *kind, const char *key,
	    const void *value, size_t len);
/* Report a change's outcome (error NULL: durable); error is copied. */
void	store_complete(struct store *, store_done_cb, void *arg,
	    const char *error);

#endif
