/* vfs.c: the FUSE file system of a volume, served from the event loop.  The
 * libfuse low-level session's fd is a libevent read event; every request is
 * answered later from the callback of a WebDAV request to the dav server
 * (PROPFIND for attributes and listings, ranged GET, PATCH with
 * X-Update-Range, PUT, MKCOL, MOVE, DELETE), all streams of one HTTP/2
 * connection, so nothing ever blocks the loop.
 * Writes gather in a bounded per-file extent flushed with PATCH when full, on
 * flush/fsync/release, or before anything that must see them. */
#include "config.h"

#define FUSE_USE_VERSION 34

#include <sys/queue.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <fuse_lowlevel.h>

#include "http.h"
#include "log.h"
#include "util.h"
#include "vfs.h"
#include "vol_util.h"
#include "xmalloc.h"

#define VFS_HASH		4096
#define VFS_ATTR_SECONDS	1.0	/* attributes and names cached this long */
#define VFS_HTTP_TIMEOUT_MS	120000
#define VFS_HTTP_MAX_BODY	(64 * 1024 * 1024)
#define VFS_MAX_FLIGHTS		64	/* uploads started by close, at most */
#define VFS_MAX_WRITE		(1024 * 1024)
#define VFS_TRUNC_MAX		(64 * 1024 * 1024) /* shrink by GET+PUT up to this */
#define VFS_READAHEAD_KB	1024	/* the mount's read-ahead window */

struct vnode;

/* A set of names (a directory's members). */
#define VFS_NAMES_BUCKETS	256
struct vname {
	struct vname		*next;
	char			 name[];
};
struct vnames {
	struct vname		*b[VFS_NAMES_BUCKETS];
};

static void	vfs_names_free(struct vnames *);

/* An operation waiting for its file's dirty data to be stored. */
struct vwait {
	/* 0: done (replied); -1: not yet, keep waiting. */
	int			(*run)(struct vnode *, struct vwait *);
	fuse_req_t		 req;
	uint64_t		 off;
	size_t			 size;
	unsigned char		*data;		/* write: a copy of the bytes */
	TAILQ_ENTRY(vwait)	 entry;
};
TAILQ_HEAD(vwaits, vwait);

struct vnode {
	struct vfs		*fs;
	uint64_t		 ino;
	char			*path;		/* volume-relative; "" the root */
	int			 dead;		/* unlinked or replaced */
	int			 is_dir;
	uint64_t		 size;
	time_t			 mtime;
	double			 attr_until;	/* monotonic seconds */
	uint64_t		 nlookup;	/* the kernel's references */
	unsigned int		 refs;		/* ours: operations in flight */

	struct vol_extent	 dirty;		/* gathering writes */
	struct vol_extent	 flight;	/* being sent by PATCH */
	int			 flushing;
	int			 local;		/* created here, not yet PUT */
	int			 wb_error;	/* errno of a failed flush, once */
	int			 push;		/* closed: flush all that is dirty */
	uint64_t		 unsynced;	/* put_gen of its unsynced PUT */
	struct vwaits		 waits;

	/* A directory's member names as last listed (or made empty by our
	 * MKCOL) and kept up to date by our own changes: until names_until a
	 * name not in it is answered "no such file" without a round trip. */
	struct vnames		*names;
	double			 names_until;

	struct vnode		*ino_next;
	struct vnode		*path_next;
	TAILQ_ENTRY(vnode)	 entry;
};
TAILQ_HEAD(vnodes, vnode);

struct vfs {
	struct event_base	*base;
	char			*volume;
	char			*mountpoint;
	struct fuse_session	*se;
	struct event		*ev;
	struct fuse_buf		 fbuf;
	struct http2_client	*h2;		/* every request a stream of it */
	size_t			 writeback_bytes;
	int			 read_only;
	/* Uploads in flight (PUT or PATCH of dirty data), the fsyncdir
	 * requests waiting for none to be left, the first error of one that
	 * no fsync of its file reported, and who waits for the mount to be
	 * idle before unmounting it. */
	unsigned int		 flights;
	fuse_req_t		*syncs;
	size_t			 nsyncs;
	int			 wb_error;
	/* New files are PUT with "X-Netcrave-Sync: later": the server puts
	 * them in place before their fsync.  put_gen counts those PUTs
	 * answered; synced_gen is the count a request with "X-Netcrave-Sync:
	 * now" covered (everything answered before it was sent).  fsync and
	 * fsyncdir send one when something is left between the two. */
	uint64_t		 put_gen;
	uint64_t		 synced_gen;
	void			(*drain_cb)(void *);
	void			*drain_arg;
	struct event		*drain_ev;	/* calls it off the client's stack */
	uint64_t		 next_ino;
	struct vnode		*by_ino[VFS_HASH];
	struct vnode		*by_path[VFS_HASH];
	struct vnodes		 nodes;
};

/* One WebDAV request on behalf of a FUSE request. */
struct vop {
	struct vfs		*fs;
	fuse_req_t		 req;
	struct vnode		*node;		/* held (refs) */
	char			*name;		/* lookup/create/mkdir: new name */
	char			*path;		/* its volume-relative path */
	char			*path2;		/* rename: destination */
	struct vnode		*parent2;
	uint64_t		 off;
	size_t			 size;
	int			 flags;
	struct fuse_file_info	 fi;
	unsigned char		*data;
	double			 sent;		/* listings: when asked */
};

/* A listing kept from opendir to releasedir. */
struct vdir {
	struct vol_entry	*e;
	size_t		 n;
};

static double
vfs_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static unsigned int
vfs_hash_str(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h % VFS_HASH);
}

/* --- inode table ------------------------------------------------------- */

static struct vnode *
vfs_node_ino(struct vfs *fs, uint64_t ino)
{
	struct vnode	*n;

	for (n = fs->by_ino[ino % VFS_HASH]; n != NULL; n = n->ino_next)
		if (n->ino == ino)
			return (n);
	return (NULL);
}

static struct vnode *
vfs_node_path(struct vfs *fs, const char *path)
{
	struct vnode	*n;

	for (n = fs->by_path[vfs_hash_str(path)]; n != NULL; n = n->path_next)
		if (!n->dead && strcmp(n->path, path) == 0)
			return (n);
	return (NULL);
}

static void
vfs_path_unhash(struct vnode *n)
{
	struct vnode	**pp;

	for (pp = &n->fs->by_path[vfs_hash_str(n->path)]; *pp != NULL;
	    pp = &(*pp)->path_next)
		if (*pp == n) {
			*pp = n->path_next;
			break;
		}
	n->path_next = NULL;
}

static void
vfs_path_hash(struct vnode *n)
{
	unsigned int	h = vfs_hash_str(n->path);

	n->path_next = n->fs->by_path[h];
	n->fs->by_path[h] = n;
}

/* The node for path, made when new. */
static struct vnode *
vfs_node_get(struct vfs *fs, const char *path)
{
	struct vnode	*n;

	if ((n = vfs_node_path(fs, path)) != NULL)
		return (n);
	n = xcalloc(1, sizeof *n);
	n->fs = fs;
	n->ino = fs->next_ino++;
	n->path = xstrdup(path);
	n->dirty.cap = n->flight.cap = fs->writeback_bytes;
	TAILQ_INIT(&n->waits);
	n->ino_next = fs->by_ino[n->ino % VFS_HASH];
	fs->by_ino[n->ino % VFS_HASH] = n;
	vfs_path_hash(n);
	TAILQ_INSERT_TAIL(&fs->nodes, n, entry);
	return (n);
}

static void
vfs_node_free(struct vnode *n)
{
	struct vfs	*fs = n->fs;
	struct vnode	**pp;

	for (pp = &fs->by_ino[n->ino % VFS_HASH]; *pp != NULL;
	    pp = &(*pp)->ino_next)
		if (*pp == n) {
			*pp = n->ino_next;
			break;
		}
	vfs_path_unhash(n);
	TAILQ_REMOVE(&fs->nodes, n, entry);
	vol_extent_free(&n->dirty);
	vol_extent_free(&n->flight);
	vfs_names_free(n->names);
	free(n->path);
	free(n);
}

/* Free a node nobody references and that holds no data to store. */
static void
vfs_node_maybe_free(struct vnode *n)
{
	if (n->ino == FUSE_ROOT_ID || n->nlookup > 0 || n->refs > 0 ||
	    n->dirty.len > 0 || n->flushing || n->local ||
	    !TAILQ_EMPTY(&n->waits))
		return;
	vfs_node_free(n);
}

static void
vfs_node_rele(struct vnode *n)
{
	n->refs--;
	vfs_node_maybe_free(n);
}

/* Forget the name of a node replaced or removed on the server. */
static void
vfs_node_kill(struct vnode *n)
{
	if (n == NULL || n->ino == FUSE_ROOT_ID)
		return;
	vfs_path_unhash(n);
	n->dead = 1;
	n->dirty.len = 0;
	vfs_path_hash(n);
}

/* After a rename: from and everything under it now live under to. */
static void
vfs_node_move(struct vfs *fs, const char *from, const char *to)
{
	struct vnode	*n;
	size_t		 flen = strlen(from);
	char		*p;

	vfs_node_kill(vfs_node_path(fs, to));
	TAILQ_FOREACH(n, &fs->nodes, entry) {
		if (n->dead || strncmp(n->path, from, flen) != 0 ||
		    (n->path[flen] != '\0' && n->path[flen] != '/'))
			continue;
		vfs_path_unhash(n);
		xasprintf(&p, "%s%s", to, n->path + flen);
		free(n->path);
		n->path = p;
		vfs_path_hash(n);
	}
}

static void
vfs_node_attr(const struct vnode *n, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = n->ino;
	/* No permission model inside a volume: containers run as any user. */
	st->st_mode = n->is_dir ? S_IFDIR | 0777 : S_IFREG | 0666;
	st->st_nlink = n->is_dir ? 2 : 1;
	st->st_size = n->size;
	st->st_blksize = 4096;
	st->st_blocks = (n->size + 511) / 512;
	st->st_mtime = st->st_ctime = st->st_atime = n->mtime;
}

static void
vfs_reply_entry(fuse_req_t req, struct vnode *n)
{
	struct fuse_entry_param	e;

	memset(&e, 0, sizeof e);
	e.ino = n->ino;
	e.generation = 1;
	e.attr_timeout = VFS_ATTR_SECONDS;
	e.entry_timeout = VFS_ATTR_SECONDS;
	vfs_node_attr(n, &e.attr);
	n->nlookup++;
	fuse_reply_entry(req, &e);
}

/* --- WebDAV requests --------------------------------------------------- */

static struct vop *
vfs_op_new(struct vfs *fs, fuse_req_t req, struct vnode *n)
{
	struct vop	*op;

	op = xcalloc(1, sizeof *op);
	op->fs = fs;
	op->req = req;
	op->node = n;
	if (n != NULL)
		n->refs++;
	return (op);
}

static void
vfs_op_free(struct vop *op)
{
	struct vnode	*n = op->node, *p2 = op->parent2;

	free(op->name);
	free(op->path);
	free(op->path2);
	free(op->data);
	free(op);
	if (p2 != NULL)
		vfs_node_rele(p2);
	if (n != NULL)
		vfs_node_rele(n);
}

/* Send method on a volume path; extra headers NULL-terminated. */
static void
vfs_send(struct vfs *fs, const char *method, const char *path,
    const char *const *headers, const void *body, size_t len, http_client_cb cb,
    void *arg)
{
	char	*url;

	url = vol_url(fs->volume, path);
	http2_client_send(fs->h2, method, url, headers, body, len, NULL, cb,
	    arg);
	free(url);
}

/* errno of a finished request: transport failures are EIO. */
static int
vfs_result(const struct http_response *resp, const char *error,
    const char *what, struct vop *op)
{
	int	status;

	if (resp == NULL) {
		log_warnx("volume %s: %s: %s", op->fs->volume, what, error);
		return (EIO);
	}
	status = http_response_status(resp);
	if (status >= 500)
		log_warnx("volume %s: %s: status %d", op->fs->volume, what,
		    status);
	return (vol_status_errno(status));
}

static const char vfs_propfind_body[] =
    "<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><prop>"
    "<resourcetype/><getcontentlength/><getlastmodified/>"
    "</prop></propfind>";

/* Parse a PROPFIND reply (the first entry is the target). */
static int
vfs_parse_multistatus(struct evbuffer *body, struct vol_entry **out,
    size_t *nout)
{
	return (vol_multistatus_parse((const char *)evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), out, nout));
}

/*
 * The entries of a PROPFIND reply; on failure the FUSE request is answered
 * with the errno and op freed, and -1 returned.
 */
static int
vfs_propfind_entries(const struct http_response *resp, const char *error,
    struct vop *op, struct vol_entry **e, size_t *ne)
{
	int	err;

	if ((err = vfs_result(resp, error, "PROPFIND", op)) != 0 ||
	    vfs_parse_multistatus(http_response_body(resp), e, ne) == -1) {
		fuse_reply_err(op->req, err != 0 ? err : EIO);
		vfs_op_free(op);
		return (-1);
	}
	return (0);
}

static void
vfs_propfind_with(struct vfs *fs, const char *path, const char *depth,
    const char *extra, http_client_cb cb, void *arg)
{
	const char	*hdrs[4];
	char		*d;

	xasprintf(&d, "Depth: %s", depth);
	hdrs[0] = d;
	hdrs[1] = "Content-Type: application/xml";
	hdrs[2] = extra;
	hdrs[3] = NULL;
	vfs_send(fs, "PROPFIND", path, hdrs, vfs_propfind_body,
	    sizeof vfs_propfind_body - 1, cb, arg);
	free(d);
}

static void
vfs_propfind(struct vfs *fs, const char *path, const char *depth,
    http_client_cb cb, void *arg)
{
	vfs_propfind_with(fs, path, depth, NULL, cb, arg);
}

/*
 * Ask the server to fsync every file of the volume it stored unsynced (one
 * PROPFIND of the volume root carrying "X-Netcrave-Sync: now"); cb gets the
 * answer, op->off the put_gen it covers.
 */
static void
vfs_sync_send(struct vfs *fs, struct vop *op, http_client_cb cb)
{
	op->off = fs->put_gen;
	vfs_propfind_with(fs, "", "0", "X-Netcrave-Sync: now", cb, op);
}

/* Did the sync request succeed?  Then everything it covers is durable. */
static int
vfs_sync_result(const struct http_response *resp, const char *error,
    struct vop *op)
{
	int	 err;

	if ((err = vfs_result(resp, error, "sync", op)) != 0)
		return (err);
	if (op->off > op->fs->synced_gen)
		op->fs->synced_gen = op->off;
	return (0);
}

/* Apply a fresh PROPFIND entry to a node (local dirty data wins on size). */
static void
vfs_node_update(struct vnode *n, const struct vol_entry *e)
{
	uint64_t	end;

	n->is_dir = e->is_dir;
	n->mtime = e->mtime;
	n->size = e->size;
	if (n->flushing && n->flight.start + n->flight.len > n->size)
		n->size = n->flight.start + n->flight.len;
	end = n->dirty.start + n->dirty.len;
	if (n->dirty.len > 0 && end > n->size)
		n->size = end;
	n->attr_until = vfs_now() + VFS_ATTR_SECONDS;
}

/* --- member names of directories -------------------------------------- */

static struct vname **
vfs_names_slot(struct vnames *s, const char *name)
{
	struct vname	**pp;

	for (pp = &s->b[vfs_hash_str(name) % VFS_NAMES_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			break;
	return (pp);
}

static void
vfs_names_add(struct vnames *s, const char *name)
{
	struct vname	**pp, *v;
	size_t		  len = strlen(name);

	if (*(pp = vfs_names_slot(s, name)) != NULL)
		return;
	v = xmalloc(sizeof *v + len + 1);
	memcpy(v->name, name, len + 1);
	v->next = NULL;
	*pp = v;
}

static void
vfs_names_del(struct vnames *s, const char *name)
{
	struct vname	**pp, *v;

	if ((v = *(pp = vfs_names_slot(s, name))) == NULL)
		return;
	*pp = v->next;
	free(v);
}

static void
vfs_names_free(struct vnames *s)
{
	struct vname	*v;
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; i < VFS_NAMES_BUCKETS; i++)
		while ((v = s->b[i]) != NULL) {
			s->b[i] = v->next;
			free(v);
		}
	free(s);
}

/*
 * The directory's names are known afresh: those of a listing that took
 * "took" seconds to get, or none.  They hold for a second, or for twenty
 * times what the listing cost (at most VFS_NAMES_MAX_SECONDS), so that
 * renewing the names of a directory of many thousand files stays a small
 * part of the time spent creating more of them.
 */
#define VFS_NAMES_MAX_SECONDS	10.0

static void
vfs_names_set(struct vnode *d, const struct vol_entry *e, size_t ne,
    double took)
{
	double	 hold = VFS_ATTR_SECONDS;
	size_t	 i;

	vfs_names_free(d->names);
	d->names = xcalloc(1, sizeof *d->names);
	for (i = 0; i < ne; i++)
		if (e[i].name != NULL && !e[i].bad)
			vfs_names_add(d->names, e[i].name);
	if (took * 20 > hold)
		hold = took * 20 < VFS_NAMES_MAX_SECONDS ? took * 20 :
		    VFS_NAMES_MAX_SECONDS;
	d->names_until = vfs_now() + hold;
}

/* Our own change to a directory's members (kept while the set is fresh). */
static void
vfs_names_change(struct vfs *fs, const char *path, int add)
{
	struct vnode	*d;
	const char	*slash = strrchr(path, '/');
	char		*parent;

	parent = slash == NULL ? xstrdup("") : xstrndup(path, slash - path);
	if ((d = vfs_node_path(fs, parent)) != NULL && d->names != NULL) {
		if (add)
			vfs_names_add(d->names, slash == NULL ? path : slash + 1);
		else
			vfs_names_del(d->names, slash == NULL ? path : slash + 1);
	}
	free(parent);
}

/* Is name surely absent from directory d (its names fresh)? */
static int
vfs_names_absent(struct vnode *d, const char *name)
{
	return (d->names != NULL && d->names_until > vfs_now() &&
	    *vfs_names_slot(d->names, name) == NULL);
}

/* --- write-back -------------------------------------------------------- */

static void	vfs_flush_start(struct vnode *);
static void	vfs_flights_check(struct vfs *);

/* Is everything written to this file stored? */
static int
vfs_node_clean(const struct vnode *n)
{
	return (n->dirty.len == 0 && !n->flushing && !n->local);
}

/* Queue an operation until the file is clean, starting a flush. */
static void
vfs_wait(struct vnode *n, fuse_req_t req, int (*run)(struct vnode *,
    struct vwait *), uint64_t off, size_t size, const void *data)
{
	struct vwait	*w;

	w = xcalloc(1, sizeof *w);
	w->run = run;
	w->req = req;
	w->off = off;
	w->size = size;
	if (data != NULL) {
		w->data = xmalloc(size);
		memcpy(w->data, data, size);
	}
	TAILQ_INSERT_TAIL(&n->waits, w, entry);
	n->refs++;
	if (!n->flushing)
		vfs_flush_start(n);
}

static int	vfs_write_wait(struct vnode *, struct vwait *);

/* Queue a prepared WebDAV operation until the file is clean. */
static void
vfs_wait_op(struct vnode *n, fuse_req_t req, int (*run)(struct vnode *,
    struct vwait *), struct vop *op)
{
	struct vwait	*w;

	w = xcalloc(1, sizeof *w);
	w->run = run;
	w->req = req;
	w->data = (unsigned char *)op;
	TAILQ_INSERT_TAIL(&n->waits, w, entry);
	n->refs++;
	if (!n->flushing)
		vfs_flush_start(n);
}

/* Run what waited, in order: writes as soon as they fit in the extent,
 * everything else once the file is clean. */
static void
vfs_run_waits(struct vnode *n)
{
	struct vwait	*w;

	n->refs++;
	while ((w = TAILQ_FIRST(&n->waits)) != NULL) {
		if (n->flushing && w->run != vfs_write_wait)
			break;
		if (!n->flushing && w->run != vfs_write_wait &&
		    (n->dirty.len > 0 || n->local))
			break;
		if (w->run(n, w) == -1)
			break;
		TAILQ_REMOVE(&n->waits, w, entry);
		free(w->data);
		free(w);
		n->refs--;
	}
	if (!TAILQ_EMPTY(&n->waits) && !n->flushing &&
	    (n->dirty.len > 0 || n->local))
		vfs_flush_start(n);
	vfs_node_rele(n);
}

static void
vfs_flush_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct vnode	*n = op->node;
	struct vfs	*fs = op->fs;
	int		 e;

	e = vfs_result(resp, error, n->local ? "PUT" : "PATCH", op);
	if (e == 0 && n->local)
		n->unsynced = ++fs->put_gen;
	if (e != 0 && !n->dead) {
		n->wb_error = e;
		if (fs->wb_error == 0)
			fs->wb_error = e;
		log_warnx("volume %s: storing %s failed: %s", fs->volume,
		    n->path, strerror(e));
	}
	fs->flights--;
	n->flushing = 0;
	n->local = 0;
	n->flight.len = 0;
	if (n->dirty.len == 0)
		vol_extent_free(&n->flight);
	n->mtime = time(NULL);
	if (n->dirty.len > 0 && (vol_extent_full(&n->dirty) ||
	    !TAILQ_EMPTY(&n->waits) || n->push))
		vfs_flush_start(n);
	else if (n->dirty.len == 0)
		vol_extent_free(&n->dirty);
	if (vfs_node_clean(n))
		n->push = 0;
	vfs_run_waits(n);
	vfs_op_free(op);
	vfs_flights_check(fs);	/* last: may unmount and free fs */
}

static void
vfs_syncdir_done(const struct http_response *resp, const char *error,
    void *arg)
{
	struct vop	*op = arg;
	struct vfs	*fs = op->fs;
	int		 e;

	if ((e = vfs_sync_result(resp, error, op)) != 0) {
		/* Nothing left to sync it again: the error goes to them. */
		if (fs->wb_error == 0)
			fs->wb_error = e;
		fs->synced_gen = op->off;
	}
	vfs_op_free(op);
	fs->flights--;
	vfs_flights_check(fs);	/* last: may unmount and free fs */
}

/*
 * No upload left: answer fsyncdir once the server has synced what it
 * stored unsynced (that request counts as an upload), and whoever waits to
 * unmount.
 */
static void
vfs_flights_check(struct vfs *fs)
{
	size_t	 i;

	if (fs->flights > 0)
		return;
	if (fs->nsyncs > 0 && fs->put_gen > fs->synced_gen) {
		fs->flights++;
		vfs_sync_send(fs, vfs_op_new(fs, NULL, NULL), vfs_syncdir_done);
		return;
	}
	for (i = 0; i < fs->nsyncs; i++)
		fuse_reply_err(fs->syncs[i], fs->wb_error);
	if (fs->nsyncs > 0)
		fs->wb_error = 0;
	free(fs->syncs);
	fs->syncs = NULL;
	fs->nsyncs = 0;
	if (fs->drain_cb != NULL)
		event_active(fs->drain_ev, EV_TIMEOUT, 0);
}

static void
vfs_drained_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vfs	*fs = arg;
	void		(*cb)(void *);

	if (fs->flights > 0 || (cb = fs->drain_cb) == NULL)
		return;
	fs->drain_cb = NULL;
	cb(fs->drain_arg);	/* may unmount and free fs */
}

/* Call cb(arg) once no upload is in flight (now, if none is); never after
 * vfs_unmount. */
void
vfs_drain(struct vfs *fs, void (*cb)(void *), void *arg)
{
	if (fs->flights == 0) {
		cb(arg);
		return;
	}
	fs->drain_cb = cb;
	fs->drain_arg = arg;
}

/* A new file's PUT: durable at the next fsync, not before its answer. */
static const char *const vfs_put_later[] = { "X-Netcrave-Sync: later", NULL };

/* Send the dirty extent with PATCH (the flight buffer must be free). */
static void
vfs_flush_start(struct vnode *n)
{
	struct vol_extent	 t;
	struct vop		*op;
	const char		*hdrs[3];
	char			*range;

	if (n->flushing)
		return;
	if ((n->dirty.len == 0 && !n->local) || n->dead) {
		n->dirty.len = 0;
		n->local = 0;
		if (!TAILQ_EMPTY(&n->waits))
			vfs_run_waits(n);
		return;
	}
	if (n->local) {
		/* A new file is made by one PUT with its first bytes (or
		 * empty when they do not start at 0: PATCHes follow). */
		n->flushing = 1;
		if (n->dirty.len > 0 && n->dirty.start == 0) {
			t = n->flight;
			n->flight = n->dirty;
			n->dirty = t;
			n->dirty.len = 0;
		}
		n->fs->flights++;
		vfs_send(n->fs, "PUT", n->path, vfs_put_later, n->flight.buf,
		    n->flight.len, vfs_flush_done, vfs_op_new(n->fs, NULL, n));
		return;
	}
	t = n->flight;
	n->flight = n->dirty;
	n->dirty = t;
	n->dirty.len = 0;
	n->flushing = 1;
	op = vfs_op_new(n->fs, NULL, n);
	xasprintf(&range, "X-Update-Range: bytes=%" PRIu64 "-%" PRIu64,
	    n->flight.start, n->flight.start + n->flight.len - 1);
	hdrs[0] = "Content-Type: application/x-sabredav-partialupdate";
	hdrs[1] = range;
	hdrs[2] = NULL;
	n->fs->flights++;
	vfs_send(n->fs, "PATCH", n->path, hdrs, n->flight.buf, n->flight.len,
	    vfs_flush_done, op);
	free(range);
}

/* --- FUSE operations --------------------------------------------------- */

static struct vnode *
vfs_req_node(fuse_req_t req, fuse_ino_t ino)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*n;

	if ((n = vfs_node_ino(fs, ino)) == NULL)
		fuse_reply_err(req, ESTALE);
	return (n);
}

static void
vfs_op_init(void *userdata, struct fuse_conn_info *conn)
{
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	conn->max_write = VFS_MAX_WRITE;
	conn->max_readahead = VFS_MAX_WRITE;
}

/* "No such file", as a negative entry the kernel caches briefly. */
static void
vfs_reply_negative(fuse_req_t req)
{
	struct fuse_entry_param	neg;

	memset(&neg, 0, sizeof neg);
	neg.entry_timeout = VFS_ATTR_SECONDS;
	fuse_reply_entry(req, &neg);
}

/* A lookup in a directory whose names went stale: its listing renews them
 * (one request for the many lookups of a busy directory) and answers. */
static void
vfs_lookup_listed(const struct http_response *resp, const char *error,
    void *arg)
{
	struct vop		*op = arg;
	struct vol_entry	*e;
	struct vnode		*n;
	size_t			 ne, i;

	if (vfs_propfind_entries(resp, error, op, &e, &ne) == -1)
		return;
	if (!e[0].is_dir) {
		vol_entries_free(e, ne);
		fuse_reply_err(op->req, ENOTDIR);
		vfs_op_free(op);
		return;
	}
	vfs_names_set(op->node, e + 1, ne - 1, vfs_now() - op->sent);
	for (i = 1; i < ne; i++)
		if (e[i].name != NULL && strcmp(e[i].name, op->name) == 0)
			break;
	if (i == ne) {
		vfs_reply_negative(op->req);
	} else {
		n = vfs_node_get(op->fs, op->path);
		vfs_node_update(n, &e[i]);
		vfs_reply_entry(op->req, n);
	}
	vol_entries_free(e, ne);
	vfs_op_free(op);
}

static void
vfs_lookup_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct vol_entry	*e;
	struct vnode	*n;
	size_t		 ne;
	int		 err;

	if ((err = vfs_result(resp, error, "PROPFIND", op)) != 0 ||
	    vfs_parse_multistatus(http_response_body(resp), &e, &ne) == -1) {
		if (err == ENOENT)
			vfs_reply_negative(op->req);
		else
			fuse_reply_err(op->req, err != 0 ? err : EIO);
		vfs_op_free(op);
		return;
	}
	n = vfs_node_get(op->fs, op->path);
	vfs_node_update(n, &e[0]);
	vol_entries_free(e, ne);
	vfs_reply_entry(op->req, n);
	vfs_op_free(op);
}

static void
vfs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*p, *n;
	struct vop	*op;
	char		*path;

	if ((p = vfs_req_node(req, parent)) == NULL)
		return;
	if (strcmp(name, ".netcrave") == 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	path = vol_path_join(p->path, name);
	n = vfs_node_path(fs, path);
	if (n != NULL && (n->attr_until > vfs_now() || !vfs_node_clean(n) ||
	    n->refs > 0)) {
		free(path);
		vfs_reply_entry(req, n);
		return;
	}
	if (n == NULL && vfs_names_absent(p, name)) {
		free(path);
		vfs_reply_negative(req);
		return;
	}
	if (n == NULL && p->names != NULL && p->names_until <= vfs_now()) {
		op = vfs_op_new(fs, req, p);
		op->path = path;
		op->name = xstrdup(name);
		op->sent = vfs_now();
		vfs_propfind(fs, p->path, "1", vfs_lookup_listed, op);
		return;
	}
	op = vfs_op_new(fs, req, NULL);
	op->path = path;
	vfs_propfind(fs, path, "0", vfs_lookup_done, op);
}

static void
vfs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*n;

	if ((n = vfs_node_ino(fs, ino)) != NULL) {
		n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
		vfs_node_maybe_free(n);
	}
	fuse_reply_none(req);
}

static void
vfs_reply_attr(fuse_req_t req, struct vnode *n)
{
	struct stat	st;

	vfs_node_attr(n, &st);
	fuse_reply_attr(req, &st, VFS_ATTR_SECONDS);
}

static void
vfs_getattr_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct vol_entry	*e;
	size_t		 ne;

	if (vfs_propfind_entries(resp, error, op, &e, &ne) == -1)
		return;
	vfs_node_update(op->node, &e[0]);
	vol_entries_free(e, ne);
	vfs_reply_attr(op->req, op->node);
	vfs_op_free(op);
}

static void
vfs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vnode	*n;

	if ((n = vfs_req_node(req, ino)) == NULL)
		return;
	if (n->dead || n->attr_until > vfs_now() || !vfs_node_clean(n)) {
		vfs_reply_attr(req, n);
		return;
	}
	vfs_propfind(n->fs, n->path, "0", vfs_getattr_done,
	    vfs_op_new(n->fs, req, n));
}

/* Truncation: PUT of nothing, a zero byte PATCHed at the new end, or (to
 * shrink) the kept head read and PUT back. */
static void
vfs_trunc_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	int		 err;

	if ((err = vfs_result(resp, error, "truncate", op)) != 0) {
		fuse_reply_err(op->req, err);
		vfs_op_free(op);
		return;
	}
	op->node->size = op->off;
	op->node->mtime = time(NULL);
	op->node->attr_until = vfs_now() + VFS_ATTR_SECONDS;
	vfs_reply_attr(op->req, op->node);
	vfs_op_free(op);
}

static void
vfs_trunc_head(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct evbuffer	*b;
	int		 err;

	if ((err = vfs_result(resp, error, "GET", op)) != 0 ||
	    evbuffer_get_length(b = http_response_body(resp)) != op->off) {
		fuse_reply_err(op->req, err != 0 ? err : EIO);
		vfs_op_free(op);
		return;
	}
	vfs_send(op->fs, "PUT", op->node->path, NULL, evbuffer_pullup(b, -1),
	    op->off, vfs_trunc_done, op);
}

static void
vfs_truncate(struct vnode *n, fuse_req_t req, uint64_t size)
{
	struct vop	*op;
	const char	*hdrs[3];
	char		*h;

	if (n->wb_error != 0) {
		fuse_reply_err(req, n->wb_error);
		n->wb_error = 0;
		return;
	}
	op = vfs_op_new(n->fs, req, n);
	op->off = size;
	if (size == 0)
		vfs_send(n->fs, "PUT", n->path, NULL, "", 0, vfs_trunc_done, op);
	else if (size > n->size) {
		xasprintf(&h, "X-Update-Range: bytes=%" PRIu64 "-%" PRIu64,
		    size - 1, size - 1);
		hdrs[0] = "Content-Type: application/x-sabredav-partialupdate";
		hdrs[1] = h;
		hdrs[2] = NULL;
		vfs_send(n->fs, "PATCH", n->path, hdrs, "", 1, vfs_trunc_done,
		    op);
		free(h);
	} else if (size == n->size) {
		vfs_reply_attr(req, n);
		vfs_op_free(op);
	} else if (size > VFS_TRUNC_MAX) {
		fuse_reply_err(req, EFBIG);
		vfs_op_free(op);
	} else {
		xasprintf(&h, "Range: bytes=0-%" PRIu64, size - 1);
		hdrs[0] = h;
		hdrs[1] = NULL;
		vfs_send(n->fs, "GET", n->path, hdrs, NULL, 0, vfs_trunc_head,
		    op);
		free(h);
	}
}

static int
vfs_truncate_wait(struct vnode *n, struct vwait *w)
{
	vfs_truncate(n, w->req, w->off);
	return (0);
}

static void
vfs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct vnode	*n;

	if ((n = vfs_req_node(req, ino)) == NULL)
		return;
	/* Modes, owners and times are not kept: accepted, as on vfat. */
	if ((to_set & FUSE_SET_ATTR_SIZE) == 0 || n->is_dir) {
		if (to_set & FUSE_SET_ATTR_SIZE) {
			fuse_reply_err(req, EISDIR);
			return;
		}
		vfs_reply_attr(req, n);
		return;
	}
	if (!vfs_node_clean(n)) {
		vfs_wait(n, req, vfs_truncate_wait, attr->st_size, 0, NULL);
		return;
	}
	vfs_truncate(n, req, attr->st_size);
}

static void
vfs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vnode	*n;

	if ((n = vfs_req_node(req, ino)) == NULL)
		return;
	if (n->is_dir) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	fi->keep_cache = 0;
	/* A read-only volume's files are replaced whole behind the kernel
	 * (certificate renewal): reads pass through, never clipped to a size
	 * the kernel cached from before. */
	if (n->fs->read_only)
		fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void
vfs_create_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct vnode	*n;
	struct fuse_entry_param	e;
	int		 err;

	if (resp != NULL && (err = vfs_result(resp, error, "PUT", op)) != 0) {
		fuse_reply_err(op->req, err);
		vfs_op_free(op);
		return;
	}
	vfs_node_kill(vfs_node_path(op->fs, op->path));
	vfs_names_change(op->fs, op->path, 1);
	n = vfs_node_get(op->fs, op->path);
	n->local = resp == NULL;
	n->is_dir = 0;
	n->size = 0;
	n->mtime = time(NULL);
	n->attr_until = vfs_now() + VFS_ATTR_SECONDS;
	memset(&e, 0, sizeof e);
	e.ino = n->ino;
	e.generation = 1;
	e.attr_timeout = e.entry_timeout = VFS_ATTR_SECONDS;
	vfs_node_attr(n, &e.attr);
	n->nlookup++;
	fuse_reply_create(op->req, &e, &op->fi);
	vfs_op_free(op);
}

static void
vfs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*p;
	struct vop	*op;
	const char	*hdrs[2] = { NULL, NULL };

	if ((p = vfs_req_node(req, parent)) == NULL)
		return;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	op = vfs_op_new(fs, req, p);
	op->path = vol_path_join(p->path, name);
	op->fi = *fi;
	if (fi->flags & O_EXCL) {
		/* Exclusive creation must be decided by the server now. */
		hdrs[0] = "If-None-Match: *";
		vfs_send(fs, "PUT", op->path, hdrs, "", 0, vfs_create_done, op);
		return;
	}
	/*
	 * Otherwise the file is made by the PUT of its first flush (at the
	 * latest on close or fsync), which saves a round trip and a sync per
	 * small file; until then it exists only in this mount.
	 */
	vfs_create_done(NULL, NULL, op);
}

static void
vfs_read_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct evbuffer	*b;
	int		 status, err;
	size_t		 len;

	if (resp != NULL && (status = http_response_status(resp)) == 416) {
		fuse_reply_buf(op->req, NULL, 0);
		vfs_op_free(op);
		return;
	}
	if ((err = vfs_result(resp, error, "GET", op)) != 0) {
		fuse_reply_err(op->req, err);
		vfs_op_free(op);
		return;
	}
	b = http_response_body(resp);
	len = evbuffer_get_length(b);
	if (http_response_status(resp) == 200 && op->off > 0) {
		/* A server that ignored Range: take our part of the whole. */
		if (op->off >= len) {
			fuse_reply_buf(op->req, NULL, 0);
			vfs_op_free(op);
			return;
		}
		evbuffer_drain(b, op->off);
		len -= op->off;
	}
	if (len > op->size)
		len = op->size;
	fuse_reply_buf(op->req, (const char *)evbuffer_pullup(b, len), len);
	vfs_op_free(op);
}

static void
vfs_read(struct vnode *n, fuse_req_t req, uint64_t off, size_t size)
{
	struct vop	*op;
	const char	*hdrs[2];
	char		*h;

	if (size == 0 || off >= n->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	op = vfs_op_new(n->fs, req, n);
	op->off = off;
	op->size = size;
	xasprintf(&h, "Range: bytes=%" PRIu64 "-%" PRIu64, off, off + size - 1);
	hdrs[0] = h;
	hdrs[1] = NULL;
	vfs_send(n->fs, "GET", n->path, hdrs, NULL, 0, vfs_read_done, op);
	free(h);
}

static int
vfs_read_wait(struct vnode *n, struct vwait *w)
{
	vfs_read(n, w->req, w->off, w->size);
	return (0);
}

static void
vfs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct vnode	*n;

	if ((n = vfs_req_node(req, ino)) == NULL)
		return;
	if (!vfs_node_clean(n)) {
		vfs_wait(n, req, vfs_read_wait, off, size, NULL);
		return;
	}
	vfs_read(n, req, off, size);
}

/* Take a write into the dirty extent; -1 when it does not fit (yet). */
static int
vfs_write_take(struct vnode *n, const void *buf, size_t size, uint64_t off)
{
	if (vol_extent_add(&n->dirty, off, buf, size) == -1)
		return (-1);
	if (off + size > n->size)
		n->size = off + size;
	n->mtime = time(NULL);
	if (vol_extent_full(&n->dirty) && !n->flushing)
		vfs_flush_start(n);
	return (0);
}

static int
vfs_write_wait(struct vnode *n, struct vwait *w)
{
	if (n->wb_error != 0) {
		fuse_reply_err(w->req, n->wb_error);
		n->wb_error = 0;
		return (0);
	}
	if (vfs_write_take(n, w->data, w->size, w->off) == -1)
		return (-1);
	fuse_reply_write(w->req, w->size);
	return (0);
}

static void
vfs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	struct vnode	*n;

	if ((n = vfs_req_node(req, ino)) == NULL)
		return;
	if (n->wb_error != 0) {
		fuse_reply_err(req, n->wb_error);
		n->wb_error = 0;
		return;
	}
	if (!TAILQ_EMPTY(&n->waits) ||
	    vfs_write_take(n, buf, size, off) == -1) {
		vfs_wait(n, req, vfs_write_wait, off, size, buf);
		return;
	}
	fuse_reply_write(req, size);
}

static void
vfs_fsync_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct vnode	*n = op->node;
	int		 e;

	if ((e = vfs_sync_result(resp, error, op)) == 0) {
		e = n->wb_error;
		n->wb_error = 0;
	}
	fuse_reply_err(op->req, e);
	vfs_op_free(op);
}

/* A clean file: answer now, or once the server has synced its PUT. */
static void
vfs_sync_clean(struct vnode *n, fuse_req_t req, int durable)
{
	int	 e;

	if (durable && n->unsynced > n->fs->synced_gen && n->wb_error == 0) {
		vfs_sync_send(n->fs, vfs_op_new(n->fs, req, n), vfs_fsync_done);
		return;
	}
	e = n->wb_error;
	n->wb_error = 0;
	fuse_reply_err(req, e);
}

/* flush and release answer once the file's data is stored, fsync once it
 * is durable too. */
static int
vfs_sync_wait(struct vnode *n, struct vwait *w)
{
	vfs_sync_clean(n, w->req, 0);
	return (0);
}

static int
vfs_fsync_wait(struct vnode *n, struct vwait *w)
{
	vfs_sync_clean(n, w->req, 1);
	return (0);
}

static void
vfs_sync(fuse_req_t req, fuse_ino_t ino, int durable)
{
	struct vnode	*n;

	if ((n = vfs_req_node(req, ino)) == NULL)
		return;
	if (!vfs_node_clean(n)) {
		vfs_wait(n, req, durable ? vfs_fsync_wait : vfs_sync_wait, 0, 0,
		    NULL);
		return;
	}
	vfs_sync_clean(n, req, durable);
}

/*
 * The last close(2) of a file (release) starts the upload of what is dirty
 * and returns: a process writing many small files keeps several uploads in
 * flight instead of waiting a round trip (and the server's fsync) for each.
 * flush, which comes at every close of a descriptor, duplicates too (a
 * shell's "> file" opens, dup2s and closes one before the command writes),
 * leaves it to release, so a file goes out in one PUT.  fsync of the file, or
 * fsyncdir of any directory of the mount (sync DIR), waits until it is stored
 * and synced (a new file's PUT is answered before its fsync on the server)
 * and reports its error; reads and names in this mount see the data at once.
 * Past VFS_MAX_FLIGHTS uploads close waits, as flush does (stored, not
 * necessarily synced).
 */
static void
vfs_close(fuse_req_t req, fuse_ino_t ino, int last)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*n;
	int		 e;

	if ((n = vfs_node_ino(fs, ino)) == NULL || vfs_node_clean(n) ||
	    fs->flights >= VFS_MAX_FLIGHTS) {
		vfs_sync(req, ino, 0);
		return;
	}
	if (last) {
		n->push = 1;
		vfs_flush_start(n);
	}
	e = n->wb_error;
	n->wb_error = 0;
	fuse_reply_err(req, e);
}

static void
vfs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	vfs_close(req, ino, 0);
}

/* Wait for every upload of the mount. */
static void
vfs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	struct vfs	*fs = fuse_req_userdata(req);

	fs->syncs = xreallocarray(fs->syncs, fs->nsyncs + 1,
	    sizeof *fs->syncs);
	fs->syncs[fs->nsyncs++] = req;
	vfs_flights_check(fs);
}

static void
vfs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	vfs_sync(req, ino, 1);
}

static void
vfs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	vfs_close(req, ino, 1);
}

static void
vfs_mkdir_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	struct vnode	*n;
	int		 err;

	if ((err = vfs_result(resp, error, "MKCOL", op)) != 0) {
		fuse_reply_err(op->req, err);
		vfs_op_free(op);
		return;
	}
	vfs_names_change(op->fs, op->path, 1);
	n = vfs_node_get(op->fs, op->path);
	n->is_dir = 1;
	n->size = 0;
	n->mtime = time(NULL);
	vfs_names_set(n, NULL, 0, 0);	/* a new collection is empty */
	n->attr_until = vfs_now() + VFS_ATTR_SECONDS;
	vfs_reply_entry(op->req, n);
	vfs_op_free(op);
}

static void
vfs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*p;
	struct vop	*op;

	if ((p = vfs_req_node(req, parent)) == NULL)
		return;
	op = vfs_op_new(fs, req, p);
	op->path = vol_path_join(p->path, name);
	vfs_send(fs, "MKCOL", op->path, NULL, NULL, 0, vfs_mkdir_done, op);
}

static void
vfs_remove_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	int		 err;

	if ((err = vfs_result(resp, error, "DELETE", op)) == 0) {
		vfs_node_kill(vfs_node_path(op->fs, op->path));
		vfs_names_change(op->fs, op->path, 0);
	}
	fuse_reply_err(op->req, err);
	vfs_op_free(op);
}

/* rmdir: the listing first, since DELETE of a collection is recursive. */
static void
vfs_rmdir_listed(const struct http_response *resp, const char *error,
    void *arg)
{
	struct vop	*op = arg;
	struct vol_entry	*e;
	size_t		 ne;
	int		 err;

	if (vfs_propfind_entries(resp, error, op, &e, &ne) == -1)
		return;
	err = !e[0].is_dir ? ENOTDIR : ne > 1 ? ENOTEMPTY : 0;
	vol_entries_free(e, ne);
	if (err != 0) {
		fuse_reply_err(op->req, err);
		vfs_op_free(op);
		return;
	}
	vfs_send(op->fs, "DELETE", op->path, NULL, NULL, 0, vfs_remove_done, op);
}

static void
vfs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*p;
	struct vop	*op;

	if ((p = vfs_req_node(req, parent)) == NULL)
		return;
	op = vfs_op_new(fs, req, p);
	op->path = vol_path_join(p->path, name);
	vfs_propfind(fs, op->path, "1", vfs_rmdir_listed, op);
}

static void
vfs_unlink_checked(const struct http_response *resp, const char *error,
    void *arg)
{
	struct vop	*op = arg;
	struct vol_entry	*e;
	size_t		 ne;
	int		 is_dir;

	if (vfs_propfind_entries(resp, error, op, &e, &ne) == -1)
		return;
	is_dir = e[0].is_dir;
	vol_entries_free(e, ne);
	if (is_dir) {
		fuse_reply_err(op->req, EISDIR);
		vfs_op_free(op);
		return;
	}
	vfs_send(op->fs, "DELETE", op->path, NULL, NULL, 0, vfs_remove_done, op);
}

static int
vfs_unlink_wait(struct vnode *n, struct vwait *w)
{
	struct vop	*op = (struct vop *)w->data;

	w->data = NULL;
	vfs_send(op->fs, "DELETE", op->path, NULL, NULL, 0, vfs_remove_done,
	    op);
	return (0);
}

static void
vfs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*p, *n;
	struct vop	*op;

	if ((p = vfs_req_node(req, parent)) == NULL)
		return;
	op = vfs_op_new(fs, req, p);
	op->path = vol_path_join(p->path, name);
	n = vfs_node_path(fs, op->path);
	if (n != NULL && n->local && !n->flushing) {
		/* Never stored: forgetting it is the whole removal. */
		vfs_node_kill(n);
		fuse_reply_err(req, 0);
		vfs_op_free(op);
		return;
	}
	if (n != NULL && !vfs_node_clean(n)) {
		/* The DELETE must not overtake a PUT or PATCH in flight. */
		vfs_wait_op(n, req, vfs_unlink_wait, op);
		return;
	}
	if (n != NULL && !n->is_dir) {
		vfs_send(fs, "DELETE", op->path, NULL, NULL, 0,
		    vfs_remove_done, op);
		return;
	}
	/* Unknown or a directory: unlink must never remove a tree. */
	vfs_propfind(fs, op->path, "0", vfs_unlink_checked, op);
}

static void
vfs_rename_done(const struct http_response *resp, const char *error, void *arg)
{
	struct vop	*op = arg;
	int		 err;

	if ((err = vfs_result(resp, error, "MOVE", op)) == 0) {
		vfs_node_move(op->fs, op->path, op->path2);
		vfs_names_change(op->fs, op->path, 0);
		vfs_names_change(op->fs, op->path2, 1);
	}
	fuse_reply_err(op->req, err);
	vfs_op_free(op);
}

static void
vfs_rename_send(struct vop *op)
{
	const char	*hdrs[3];
	char		*url, *dest;

	/* A path (RFC 4918 Simple-ref): right whatever Host the server is
	 * reached by, over the unix socket or TLS. */
	url = vol_url(op->fs->volume, op->path2);
	xasprintf(&dest, "Destination: %s", url);
	free(url);
	hdrs[0] = dest;
	hdrs[1] = (op->flags & RENAME_NOREPLACE) ? "Overwrite: F" :
	    "Overwrite: T";
	hdrs[2] = NULL;
	vfs_send(op->fs, "MOVE", op->path, hdrs, NULL, 0, vfs_rename_done, op);
	free(dest);
}

/* A moved file's pending writes must land before its name changes. */
static int
vfs_rename_wait(struct vnode *n, struct vwait *w)
{
	struct vop	*op = (struct vop *)w->data;

	w->data = NULL;
	vfs_rename_send(op);
	return (0);
}

static void
vfs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct vfs	*fs = fuse_req_userdata(req);
	struct vnode	*p, *np, *n;
	struct vop	*op;

	if ((p = vfs_req_node(req, parent)) == NULL ||
	    (np = vfs_req_node(req, newparent)) == NULL)
		return;
	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	op = vfs_op_new(fs, req, p);
	op->parent2 = np;
	np->refs++;
	op->path = vol_path_join(p->path, name);
	op->path2 = vol_path_join(np->path, newname);
	op->flags = flags;
	if ((n = vfs_node_path(fs, op->path)) != NULL && !vfs_node_clean(n)) {
		vfs_wait_op(n, req, vfs_rename_wait, op);
		return;
	}
	vfs_rename_send(op);
}

static void
vfs_opendir_done(const struct http_response *resp, const char *error,
    void *arg)
{
	struct vop	*op = arg;
	struct vdir	*d;
	struct vnode	*c;
	char		*path;
	size_t		 i;
	int		 err;

	d = xcalloc(1, sizeof *d);
	if ((err = vfs_result(resp, error, "PROPFIND", op)) != 0 ||
	    vfs_parse_multistatus(http_response_body(resp), &d->e, &d->n) ==
	    -1) {
		free(d);
		fuse_reply_err(op->req, err != 0 ? err : EIO);
		vfs_op_free(op);
		return;
	}
	if (!d->e[0].is_dir) {
		vol_entries_free(d->e, d->n);
		free(d);
		fuse_reply_err(op->req, ENOTDIR);
		vfs_op_free(op);
		return;
	}
	/* Known members get fresh attributes for free, the directory its
	 * member names. */
	vfs_names_set(op->node, d->e + 1, d->n - 1, vfs_now() - op->sent);
	for (i = 1; i < d->n; i++) {
		if (d->e[i].name == NULL)
			continue;
		path = vol_path_join(op->node->path, d->e[i].name);
		if ((c = vfs_node_path(op->fs, path)) != NULL)
			vfs_node_update(c, &d->e[i]);
		free(path);
	}
	op->fi.fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(op->req, &op->fi) != 0) {
		vol_entries_free(d->e, d->n);
		free(d);
	}
	vfs_op_free(op);
}

static void
vfs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vnode	*n;
	struct vop	*op;

	if ((n = vfs_req_node(req, ino)) == NULL)
		return;
	op = vfs_op_new(n->fs, req, n);
	op->fi = *fi;
	op->sent = vfs_now();
	vfs_propfind(n->fs, n->path, "1", vfs_opendir_done, op);
}

static void
vfs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct vdir	*d = (struct vdir *)(uintptr_t)fi->fh;
	struct stat	 st;
	char		*buf;
	const char	*name;
	size_t		 used = 0, len;
	off_t		 i;

	buf = xmalloc(size);
	/* Offsets: 0 ".", 1 "..", then member i at i + 1. */
	for (i = off; i < (off_t)d->n + 1; i++) {
		memset(&st, 0, sizeof st);
		/* Tools skip entries with inode 0; the kernel does not use
		 * these numbers, lookup gives the real ones. */
		st.st_ino = ino;
		if (i == 0 || i == 1) {
			name = i == 0 ? "." : "..";
			st.st_mode = S_IFDIR;
		} else {
			if ((name = d->e[i - 1].name) == NULL)
				continue;
			st.st_mode = d->e[i - 1].is_dir ? S_IFDIR : S_IFREG;
			st.st_ino = (1ULL << 62) | (uint64_t)i;
		}
		len = fuse_add_direntry(req, buf + used, size - used, name, &st,
		    i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void
vfs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vdir	*d = (struct vdir *)(uintptr_t)fi->fh;

	if (d != NULL) {
		vol_entries_free(d->e, d->n);
		free(d);
	}
	fuse_reply_err(req, 0);
}

static void
vfs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs	st;

	memset(&st, 0, sizeof st);
	st.f_bsize = st.f_frsize = 4096;
	st.f_blocks = st.f_bfree = st.f_bavail = 1ULL << 30;
	st.f_files = st.f_ffree = 1ULL << 30;
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

static const struct fuse_lowlevel_ops vfs_ops = {
	.init = vfs_op_init,
	.lookup = vfs_op_lookup,
	.forget = vfs_op_forget,
	.getattr = vfs_op_getattr,
	.setattr = vfs_op_setattr,
	.mkdir = vfs_op_mkdir,
	.unlink = vfs_op_unlink,
	.rmdir = vfs_op_rmdir,
	.rename = vfs_op_rename,
	.open = vfs_op_open,
	.read = vfs_op_read,
	.write = vfs_op_write,
	.flush = vfs_op_flush,
	.release = vfs_op_release,
	.fsync = vfs_op_fsync,
	.opendir = vfs_op_opendir,
	.readdir = vfs_op_readdir,
	.releasedir = vfs_op_releasedir,
	.fsyncdir = vfs_op_fsyncdir,
	.statfs = vfs_op_statfs,
	.create = vfs_op_create,
};

/* --- the session on the loop ------------------------------------------- */

static void
vfs_readable(evutil_socket_t fd, short what, void *arg)
{
	struct vfs	*fs = arg;
	int		 i, r;

	/* A bounded batch, so one busy mount cannot starve the loop. */
	for (i = 0; i < 64; i++) {
		r = fuse_session_receive_buf(fs->se, &fs->fbuf);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r <= 0) {
			log_warnx("volume %s: FUSE session ended (%s)",
			    fs->volume, r == 0 ? "unmounted" : strerror(-r));
			event_del(fs->ev);
			return;
		}
		fuse_session_process_buf(fs->se, &fs->fbuf);
	}
}

void
vfs_stale_cleanup(const char *mountpoint)
{
	struct stat	st, parent;
	char		*dir, *slash;
	int		 mounted = 0;

	/*
	 * Called before this process mounts there, so anything mounted is a
	 * dead run's.  stat may not say so: the kernel answers it from the
	 * root's cached attributes for a while after the daemon died (seen
	 * with netcraved SIGKILLed mid-mount, t_torture), so a device other
	 * than the parent's counts as a mount too.
	 */
	if (stat(mountpoint, &st) == -1)
		mounted = errno == ENOTCONN;
	else {
		dir = xstrdup(mountpoint);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			mounted = stat(dir, &parent) == 0 &&
			    parent.st_dev != st.st_dev;
		}
		free(dir);
	}
	if (mounted) {
		if (umount2(mountpoint, MNT_DETACH) == -1)
			log_warn("volume: lazy unmount of stale %s", mountpoint);
		else
			log_info("volume: stale mount %s detached", mountpoint);
	}
}

/*
 * The kernel reads ahead at most 128 KiB on a FUSE mount (its default for a
 * new mount's bdi; max_readahead from INIT can only lower it), so a
 * sequential read is a GET of 256 KiB after another.  Windows of
 * VFS_READAHEAD_KB, as large as a FUSE read gets, take a quarter of the
 * round trips, with the next window asked for while this one is read.  The
 * mount's device comes from mountinfo, where the mountpoint is written with
 * its parent resolved (a stat of the mountpoint itself would wait for this
 * loop to answer it).  Best effort: root writes sysfs.
 */
static void
vfs_readahead(struct vfs *fs)
{
	char		 line[8192], mp[PATH_MAX], path[64], *dir, *real;
	const char	*slash = strrchr(fs->mountpoint, '/');
	unsigned int	 maj, min, found = 0;
	FILE		*f;

	if (slash == NULL)
		return;
	dir = xstrndup(fs->mountpoint, slash - fs->mountpoint);
	real = realpath(*dir == '\0' ? "/" : dir, NULL);
	free(dir);
	if (real == NULL)
		return;
	xasprintf(&dir, "%s%s", strcmp(real, "/") == 0 ? "" : real, slash);
	free(real);
	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL) {
		free(dir);
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%*s %*s %u:%u %*s %4095s", &maj, &min,
		    mp) != 3)
			continue;
		util_mountinfo_unescape(mp);
		if (strcmp(mp, dir) == 0) {	/* the last one */
			snprintf(path, sizeof path,
			    "/sys/class/bdi/%u:%u/read_ahead_kb", maj, min);
			found = 1;
		}
	}
	fclose(f);
	free(dir);
	if (!found)
		return;
	if ((f = fopen(path, "w")) == NULL) {
		log_debug("volume %s: %s: %s", fs->volume, path,
		    strerror(errno));
		return;
	}
	fprintf(f, "%d\n", VFS_READAHEAD_KB);
	if (fclose(f) == EOF)
		log_debug("volume %s: %s: %s", fs->volume, path,
		    strerror(errno));
}

struct vfs *
vfs_mount(struct event_base *base, const struct vfs_params *p, char *err,
    size_t errlen)
{
	struct fuse_args		 args = FUSE_ARGS_INIT(0, NULL);
	struct http_client_target	 target;
	struct vfs			*fs;
	struct vnode			*root;
	char				*fsname;
	int				 fd;

	fs = xcalloc(1, sizeof *fs);
	fs->base = base;
	fs->volume = xstrdup(p->volume);
	fs->mountpoint = xstrdup(p->mountpoint);
	fs->writeback_bytes = p->writeback_bytes;
	fs->read_only = p->read_only;
	fs->next_ino = FUSE_ROOT_ID;
	TAILQ_INIT(&fs->nodes);
	if ((fs->drain_ev = evtimer_new(base, vfs_drained_cb, fs)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	root = vfs_node_get(fs, "");
	root->is_dir = 1;
	root->mtime = time(NULL);

	memset(&target, 0, sizeof target);
	if (p->dav_host != NULL) {
		target.host = p->dav_host;
		target.port = p->dav_port;
		target.ssl = p->dav_ssl;
	} else
		target.unix_path = p->dav_socket;
	if ((fs->h2 = http2_client_new(base, &target, VFS_HTTP_TIMEOUT_MS,
	    VFS_HTTP_MAX_BODY)) == NULL) {
		snprintf(err, errlen, "no WebDAV server for %s", fs->volume);
		goto fail;
	}

	vfs_stale_cleanup(fs->mountpoint);
	xasprintf(&fsname, "-ofsname=netcrave:%s,subtype=netcrave,allow_other%s",
	    fs->volume, p->read_only ? ",ro" : "");
	fuse_opt_add_arg(&args, "netcraved");
	fuse_opt_add_arg(&args, fsname);
	free(fsname);
	fs->se = fuse_session_new(&args, &vfs_ops, sizeof vfs_ops, fs);
	fuse_opt_free_args(&args);
	if (fs->se == NULL) {
		snprintf(err, errlen, "FUSE session for %s failed", fs->volume);
		goto fail;
	}
	if (fuse_session_mount(fs->se, fs->mountpoint) != 0) {
		snprintf(err, errlen, "FUSE mount on %s failed (see the log)",
		    fs->mountpoint);
		fuse_session_destroy(fs->se);
		fs->se = NULL;
		goto fail;
	}
	vfs_readahead(fs);
	fd = fuse_session_fd(fs->se);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	fs->ev = event_new(base, fd, EV_READ | EV_PERSIST, vfs_readable, fs);
	event_add(fs->ev, NULL);
	log_info("volume %s: mounted on %s", fs->volume, fs->mountpoint);
	return (fs);
fail:
	http2_client_free(fs->h2);
	vfs_node_free(root);
	event_free(fs->drain_ev);
	free(fs->volume);
	free(fs->mountpoint);
	free(fs);
	return (NULL);
}

/* Unmount (lazily, as root) and drop every node.  Data still waiting in a
 * write-back extent is lost here; the kernel flushed it on close already. */
void
vfs_unmount(struct vfs *fs)
{
	struct vnode	*n;
	struct vwait	*w;

	if (fs == NULL)
		return;
	event_free(fs->ev);
	fuse_session_unmount(fs->se);
	fuse_session_destroy(fs->se);
	free(fs->fbuf.mem);
	if (fs->flights > 0)
		log_warnx("volume %s: unmounted with %u uploads in flight",
		    fs->volume, fs->flights);
	free(fs->syncs);	/* the kernel has dropped those requests */
	event_free(fs->drain_ev);
	http2_client_free(fs->h2);
	while ((n = TAILQ_FIRST(&fs->nodes)) != NULL) {
		while ((w = TAILQ_FIRST(&n->waits)) != NULL) {
			TAILQ_REMOVE(&n->waits, w, entry);
			free(w->data);
			free(w);
		}
		vfs_node_free(n);
	}
	log_info("volume %s: unmounted %s", fs->volume, fs->mountpoint);
	free(fs->volume);
	free(fs->mountpoint);
	free(fs);
}
