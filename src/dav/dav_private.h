/* dav_private.h: what the WebDAV method files (dav.c, dav_props.c,
 * dav_lock.c) share: the parsed request, the lock table, reply helpers. */
#ifndef NETCRAVE_DAV_PRIVATE_H
#define NETCRAVE_DAV_PRIVATE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dav_if.h"
#include "dav_store.h"

struct evbuffer;
struct http_request;
struct dav_xml;

/* A resource named by a URL: the root "/" lists volumes; "/vol/a/b" is in one. */
struct dav_target {
	int			 is_root;	/* "/" itself */
	struct dav_volume	*vol;		/* NULL: no such volume (or root) */
	char			*volname;	/* decoded, NULL for root */
	char			*rel;		/* volume-relative, "" for its root */
	char			*full;		/* "vol" or "vol/rel": lock key */
	int			 slash;		/* URL ended in '/' */
	struct dav_stat		 st;
};

struct dav_req {
	struct http_request	*req;
	const char		*method;
	struct dav_target	 t;
	struct evbuffer		*body;		/* XML methods */
	int			 too_big;
	struct dav_writer	*writer;	/* PUT */
	struct dav_file		*file;		/* PATCH, GET */
	unsigned char		*cached;	/* GET: the file from the cache */
	size_t			 cachedlen;
	uint64_t		 offset;	/* PATCH: next byte; GET: next byte */
	uint64_t		 end;		/* GET: one past the last byte */
	int			 created;
	int			 failed;	/* answered, or the answer waits */
	int			 in_headers;	/* PUT/PATCH: checks before the body */
	int			 deferred;	/* answer at the end of the body */
	int			 defer_status;
	const char		*defer_ctype;
	struct evbuffer		*defer_body;
	struct dav_if		 ifh;		/* parsed If header */
	int			 has_if;
	int			 committing;	/* PUT: in the group commit queue */
	TAILQ_ENTRY(dav_req)	 commit_entry;
	/* X-Netcrave-Sync: now: waits for its volume's files committed later
	 * before it to be synced (dav_volume_synced reaching sync_mark). */
	int			 sync_waiting;
	uint64_t		 sync_mark;
	TAILQ_ENTRY(dav_req)	 sync_entry;
};

struct dav_lock {
	char			 token[64];	/* "urn:uuid:..." */
	char			*full;		/* "vol" or "vol/rel" */
	int			 exclusive;
	int			 infinite;
	char			*owner;		/* serialized XML, may be NULL */
	unsigned int		 timeout;	/* seconds; 0 infinite */
	time_t			 expires;
	TAILQ_ENTRY(dav_lock)	 entry;
};
TAILQ_HEAD(dav_locks, dav_lock);

struct dav_caps {
	size_t		 max_xml_bytes;
	unsigned int	 max_locks;
	unsigned int	 max_lock_timeout;
};

/* dav.c */
extern struct dav_caps	 dav_caps;
void	dav_finish(struct dav_req *, int status, const char *ctype,
	    const void *body, size_t len);
void	dav_finish_buffer(struct dav_req *, int status, struct evbuffer *);
/* Plain-text error with a reason; precondition non-NULL: a DAV:error body. */
void	dav_error(struct dav_req *, int status, const char *precondition,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	dav_href(struct evbuffer *, const char *full, int is_dir);
void	dav_multistatus_begin(struct evbuffer *);
void	dav_multistatus_end(struct evbuffer *);
int	dav_target_stat(struct dav_target *, char *err, size_t errlen);
/* Split "vol/rel" into a target (for tagged If lists and lock roots). */
int	dav_target_from_full(const char *full, struct dav_target *);
void	dav_target_clear(struct dav_target *);
/* A parsed request-URI or Destination path into a target. */
int	dav_target_parse(const char *rawpath, struct dav_target *,
	    const char **why);
/* Current stat of a "vol/rel" resource for etag checks; 0 if absent. */
int	dav_full_etag(const char *full, char *etag, size_t len);
int	dav_depth(struct dav_req *, int dflt);	/* 0, 1, -1 infinity, -2 bad */
/* HTTP status for a store failure's errno (409, 405, 403, 507, 500). */
int	dav_errno_status(int);

/* dav_props.c */
void	dav_propfind(struct dav_req *);
void	dav_proppatch(struct dav_req *);
/* lockdiscovery content of a resource (the activelock elements). */
void	dav_lockdiscovery(struct evbuffer *, const char *full);
void	dav_activelock(struct evbuffer *, const struct dav_lock *);

/* dav_lock.c */
int	dav_locks_init(char *err, size_t errlen);
void	dav_locks_shutdown(void);
void	dav_lock(struct dav_req *);
void	dav_unlock(struct dav_req *);
/*
 * May the request change full (recursive: and everything below it)?  Returns
 * 0, or the HTTP status (423, 412) after answering it.  parent_too also checks
 * the lock of the collection whose membership changes.
 */
int	dav_lock_check(struct dav_req *, const char *full, int recursive,
	    int membership);
/* Evaluate the If header against the request target: 0 or 412 answered. */
int	dav_if_check(struct dav_req *);
/* Drop the locks on full and below (deleted or moved away). */
void	dav_locks_drop(const char *full);
/* Walk the locks covering full (direct or inherited); NULL at the end. */
struct dav_lock *dav_lock_next_covering(const char *full, struct dav_lock *);
void	dav_locks_volume_removed(const char *volname);

#endif
