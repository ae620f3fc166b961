/* store.c: the backend-independent store front: picks the backend, checks
 * arguments, and runs every done callback later from the event loop. */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "log.h"
#include "store_private.h"
#include "xmalloc.h"

static const struct store_backend *store_backends[] = {
	&store_file_backend,
	&store_pg_backend,
};

static void	store_free(struct store *);

/* Find a backend by name. */
static const struct store_backend *
store_find_backend(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof store_backends / sizeof store_backends[0]; i++) {
		if (strcmp(store_backends[i]->name, name) == 0)
			return (store_backends[i]);
	}
	return (NULL);
}

/* Whether the backend already holds state for these params. */
int
store_has_state(const struct store_params *params)
{
	const struct store_backend	*b;

	b = store_find_backend(params->backend != NULL ? params->backend : "file");
	if (b == NULL)
		return (-1);
	return (b->has_state(params));
}

/* Whether a kind or key is a usable non-empty string within its limit. */
static int
store_valid_name(const char *name, size_t max)
{
	return (name != NULL && *name != '\0' && strnlen(name, max + 1) <= max);
}

/*
 * Run the callbacks queued so far.  Only those: a callback that changes the
 * store again is answered on a later loop pass, so a chain of changes cannot
 * starve the loop.  A callback may close the store; it is freed at the end.
 */
static void
store_dispatch(evutil_socket_t fd, short events, void *arg)
{
	struct store		*s = arg;
	struct store_done_queue	 ready;
	struct store_done	*d;

	TAILQ_INIT(&ready);
	TAILQ_CONCAT(&ready, &s->done_queue, entry);
	s->dispatching = 1;
	while ((d = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, d, entry);
		d->cb(d->error, d->arg);
		free(d->error);
		free(d);
	}
	s->dispatching = 0;
	if (s->closing)
		store_free(s);
}

/* Queue a change's outcome for the loop; never called back synchronously. */
void
store_complete(struct store *s, store_done_cb cb, void *arg, const char *error)
{
	static const struct timeval	 now = { 0, 0 };
	struct store_done		*d;

	if (cb == NULL)
		return;
	d = xcalloc(1, sizeof *d);
	d->cb = cb;
	d->arg = arg;
	d->error = error != NULL ? xstrdup(error) : NULL;
	TAILQ_INSERT_TAIL(&s->done_queue, d, entry);
	if (!s->closing && evtimer_add(s->ev_done, &now) == -1)
		fatalx("%s: evtimer_add", __func__);
}

/* Hand a record to the caller's load callback. */
void
store_load_record(struct store *s, const char *kind, const char *key,
    const void *value, size_t len)
{
	if (s->load_cb != NULL)
		s->load_cb(kind, key, len == 0 ? "" : value, len, s->load_arg);
}

/* Open the store with the named backend and replay its live records. */
struct store *
store_open(struct event_base *base, const struct store_params *params,
    store_load_cb load_cb, void *load_arg, char *err, size_t errlen)
{
	const struct store_backend	*backend;
	struct store			*s;
	const char			*name;

	if (base == NULL || params == NULL || params->key == NULL) {
		snprintf(err, errlen, "store: missing event base, parameters "
		    "or key");
		return (NULL);
	}
	name = params->backend != NULL ? params->backend : "file";
	if ((backend = store_find_backend(name)) == NULL) {
		snprintf(err, errlen, "unknown store backend \"%s\"", name);
		return (NULL);
	}

	s = xcalloc(1, sizeof *s);
	s->backend = backend;
	s->base = base;
	s->dir = params->dir != NULL ? xstrdup(params->dir) : NULL;
	s->compact_bytes = params->compact_bytes;
	memcpy(s->key, params->key, sizeof s->key);
	s->load_cb = load_cb;
	s->load_arg = load_arg;
	TAILQ_INIT(&s->done_queue);
	if ((s->ev_done = evtimer_new(base, store_dispatch, s)) == NULL)
		fatalx("%s: evtimer_new", __func__);

	s->params = params;
	if (backend->open(s, err, errlen) == -1) {
		store_free(s);
		return (NULL);
	}
	s->params = NULL;
	/* Records are replayed once; later changes are the caller's own. */
	s->load_cb = NULL;
	s->load_arg = NULL;
	return (s);
}

/* Whether a put or insert has usable arguments. */
static int
store_valid_put(struct store *s, const char *kind, const char *key,
    const void *value, size_t len)
{
	return (s != NULL && !s->closing && store_valid_name(kind,
	    STORE_KIND_MAX) && store_valid_name(key, STORE_KEY_MAX) &&
	    len <= STORE_VALUE_MAX && (value != NULL || len == 0));
}

/* Record a value; the callback says when it is durable. */
int
store_put(struct store *s, const char *kind, const char *key,
    const void *value, size_t len, store_done_cb cb, void *arg)
{
	if (!store_valid_put(s, kind, key, value, len))
		return (-1);
	return (s->backend->put(s, kind, key, value, len, cb, arg));
}

/* Remove a record (removing an absent one succeeds). */
int
store_del(struct store *s, const char *kind, const char *key,
    store_done_cb cb, void *arg)
{
	if (s == NULL || s->closing || !store_valid_name(kind, STORE_KIND_MAX) ||
	    !store_valid_name(key, STORE_KEY_MAX))
		return (-1);
	return (s->backend->del(s, kind, key, cb, arg));
}

/* Record a value unless a live record already holds the key. */
int
store_insert(struct store *s, const char *kind, const char *key,
    const void *value, size_t len, store_done_cb cb, void *arg)
{
	if (!store_valid_put(s, kind, key, value, len))
		return (-1);
	return (s->backend->insert(s, kind, key, value, len, cb, arg));
}

/* Delete a record unless a live reference to it remains (see store.h). */
int
store_del_unless(struct store *s, const char *kind, const char *key,
    const char *ref_kind, const char *ref_prefix, int mine, store_done_cb cb,
    void *arg)
{
	if (s == NULL || s->closing || !store_valid_name(kind, STORE_KIND_MAX) ||
	    !store_valid_name(key, STORE_KEY_MAX) ||
	    !store_valid_name(ref_kind, STORE_KIND_MAX) ||
	    !store_valid_name(ref_prefix, STORE_KEY_MAX))
		return (-1);
	return (s->backend->del_unless(s, kind, key, ref_kind, ref_prefix,
	    mine, cb, arg));
}

/* Whether a done callback's error is store_del_unless's "no such record". */
int
store_error_absent(const char *error)
{
	return (error != NULL && strcmp(error, STORE_ERR_ABSENT) == 0);
}

/* Whether a done callback's error is store_insert's "already exists". */
int
store_error_exists(const char *error)
{
	return (error != NULL && strcmp(error, STORE_ERR_EXISTS) == 0);
}

/* Add a watcher of other hosts' changes. */
int
store_watch(struct store *s, store_watch_cb cb, void *arg)
{
	if (s == NULL || cb == NULL || s->nwatch >= STORE_WATCH_MAX)
		return (-1);
	s->watch_cb[s->nwatch] = cb;
	s->watch_arg[s->nwatch] = arg;
	s->nwatch++;
	return (0);
}

/* Hand another host's change to every watcher. */
void
store_changed(struct store *s, const char *kind, const char *key,
    const void *value, size_t len)
{
	size_t	i;

	for (i = 0; i < s->nwatch && !s->closing; i++)
		s->watch_cb[i](kind, key, value, len, s->watch_arg[i]);
}

/* Compact now. */
int
store_compact(struct store *s)
{
	if (s == NULL || s->closing)
		return (-1);
	return (s->backend->compact(s));
}

/* The backend's name, for logs and metrics. */
const char *
store_backend_name(const struct store *s)
{
	return (s->backend->name);
}

/* Release the store once no callback is running from it. */
static void
store_free(struct store *s)
{
	struct store_done	*d;

	while ((d = TAILQ_FIRST(&s->done_queue)) != NULL) {
		TAILQ_REMOVE(&s->done_queue, d, entry);
		free(d->error);
		free(d);
	}
	if (s->ev_done != NULL)
		event_free(s->ev_done);
	OPENSSL_cleanse(s->key, sizeof s->key);
	free(s->dir);
	free(s);
}

/*
 * Close the store.  Outcomes still queued are delivered here, so no caller
 * waits forever and no callback runs after the memory is gone.
 */
void
store_close(struct store *s)
{
	struct store_done	*d;

	if (s == NULL || s->closing)
		return;
	s->closing = 1;
	s->backend->close(s);
	s->data = NULL;
	evtimer_del(s->ev_done);
	while ((d = TAILQ_FIRST(&s->done_queue)) != NULL) {
		TAILQ_REMOVE(&s->done_queue, d, entry);
		d->cb(d->error, d->arg);
		free(d->error);
		free(d);
	}
	if (!s->dispatching)
		store_free(s);
}
