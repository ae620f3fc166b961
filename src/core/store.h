/* store.h: the one place state is made durable.  Records are (kind, key) -> value
 * bytes; callers change them through store_put/store_del and learn through a
 * callback when the change is durable.  Backends: "file" (journal) and "pg"
 * (PostgreSQL or CockroachDB, shared by the hosts of a cluster). */
#ifndef NETCRAVE_STORE_H
#define NETCRAVE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct store;
struct store_params;

/* Limits every backend honours (store_put refuses more with -1). */
#define STORE_KIND_MAX		64		/* bytes of a kind, no NUL */
#define STORE_KEY_MAX		1024		/* bytes of a key, no NUL */
#define STORE_VALUE_MAX		(16 * 1024 * 1024)

/* Called once per live record while the store opens. */
typedef void	(*store_load_cb)(const char *kind, const char *key,
		    const void *value, size_t len, void *arg);
/* Called when a change is durable (error == NULL) or has failed (error set). */
typedef void	(*store_done_cb)(const char *error, void *arg);
/*
 * Called when another host changed a record (shared backends only): value is
 * NULL when it was deleted.  Never called for this process's own changes.
 */
typedef void	(*store_watch_cb)(const char *kind, const char *key,
		    const void *value, size_t len, void *arg);

/* The error store_insert reports when a live record already holds the key. */
#define STORE_ERR_EXISTS	"record already exists"
/* The error store_del_unless reports when no live record held the key. */
#define STORE_ERR_ABSENT	"no such record"
#define STORE_WATCH_MAX		8

/*
 * A backend (see store_private.h for the contract).  put and del return -1 only
 * when they queued nothing; otherwise they report the outcome exactly once
 * through store_complete(), now or later (an asynchronous backend when its
 * server answers).
 */
struct store_backend {
	const char	*name;
	int		(*open)(struct store *, char *err, size_t errlen);
	int		(*put)(struct store *, const char *kind, const char *key,
			    const void *value, size_t len, store_done_cb, void *arg);
	int		(*del)(struct store *, const char *kind, const char *key,
			    store_done_cb, void *arg);
	/* put, but only if no live record holds the key (STORE_ERR_EXISTS). */
	int		(*insert)(struct store *, const char *kind,
			    const char *key, const void *value, size_t len,
			    store_done_cb, void *arg);
	/* del, only if no live record of ref_kind has a key beginning with
	 * ref_prefix; STORE_ERR_EXISTS if one has, STORE_ERR_ABSENT if no
	 * live record (mine: that this process wrote) held the key. */
	int		(*del_unless)(struct store *, const char *kind,
			    const char *key, const char *ref_kind,
			    const char *ref_prefix, int mine, store_done_cb,
			    void *arg);
	int		(*compact)(struct store *);
	void		(*close)(struct store *);
	/* Whether state already exists (so its key must exist too). */
	int		(*has_state)(const struct store_params *);
};

struct store_params {
	const char	*backend;	/* "file" or "pg" */
	const char	*dir;		/* state directory of the file backend */
	size_t		 compact_bytes;	/* journal size that triggers compaction */
	const unsigned char *key;	/* 32-byte at-rest key (from keys_get("journal")) */

	/* pg: libpq connection keywords (NULL: libpq's default or PG* variable). */
	const char	*pg_conninfo;	/* a conninfo string or URI, applied first */
	const char	*pg_host;
	const char	*pg_port;
	const char	*pg_dbname;
	const char	*pg_user;
	const char	*pg_sslmode;
	const char	*pg_sslrootcert;
	const char	*pg_sslcert;
	const char	*pg_sslkey;
	unsigned int	 pg_poll_ms;	/* follow other hosts' changes this often */
	unsigned int	 pg_timeout_ms;	/* a change waits this long for the database */
	size_t		 pg_queue_max;	/* changes that may wait for the database */
};

/*
 * Open the store and replay every live record through load_cb.  Returns NULL and
 * fills err on failure (unknown backend, unreadable journal, record that fails
 * authentication...).  A torn last record is dropped with a warning.
 */
struct store	*store_open(struct event_base *, const struct store_params *,
		    store_load_cb load_cb, void *load_arg, char *err, size_t errlen);
/*
 * Whether the backend already holds state for these params (file: a journal or a
 * snapshot in dir): then the at-rest key must already exist, never be made anew.
 * -1 for an unknown backend.
 */
int		 store_has_state(const struct store_params *);
/*
 * Make a change durable.  The callback runs from the event loop once the change
 * is on stable storage (file: after fsync), never before store_put returns.
 * Returns -1 only for a bad argument; I/O errors come through the callback.
 */
int		 store_put(struct store *, const char *kind, const char *key,
		    const void *value, size_t len, store_done_cb, void *arg);
int		 store_del(struct store *, const char *kind, const char *key,
		    store_done_cb, void *arg);
/*
 * store_put that succeeds only if no live record holds (kind, key); otherwise
 * the callback gets STORE_ERR_EXISTS (test with store_error_exists).  With a
 * shared backend this is what keeps two hosts from taking the same key.
 */
int		 store_insert(struct store *, const char *kind, const char *key,
		    const void *value, size_t len, store_done_cb, void *arg);
int		 store_error_exists(const char *error);
/*
 * Delete (kind, key) unless a live record of ref_kind has a key beginning with
 * ref_prefix, in one step no other host's change comes between (a last
 * reference deleting what it refers to).  The callback gets NULL only when
 * this call deleted the record; STORE_ERR_EXISTS when such a reference lives
 * (the record is kept); STORE_ERR_ABSENT when no live record held the key
 * (another host deleted it first): of hosts racing, exactly one gets NULL.
 * With mine set, a record another host wrote counts as absent and stays (to
 * undo a write whose outcome is unknown without touching another's).
 */
int		 store_del_unless(struct store *, const char *kind,
		    const char *key, const char *ref_kind, const char *ref_prefix,
		    int mine, store_done_cb, void *arg);
int		 store_error_absent(const char *error);
/*
 * Follow changes other hosts make (up to STORE_WATCH_MAX watchers).  The file
 * backend has no other host and never calls back.
 */
int		 store_watch(struct store *, store_watch_cb, void *arg);
/* Rewrite the journal into a snapshot now (also done automatically).  Callbacks
 * still queued when store_close runs are delivered from inside store_close. */
int		 store_compact(struct store *);
void		 store_close(struct store *);
const char	*store_backend_name(const struct store *);

/* Backends. */
extern const struct store_backend store_file_backend;
extern const struct store_backend store_pg_backend;

#endif
