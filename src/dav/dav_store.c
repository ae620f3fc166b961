/* dav_store.c: volumes and their encrypted files.  Every lookup goes through
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from the volume's data
 * directory, so nothing outside the volume (or behind a symlink) is reached. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/openat2.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "crypto.h"
#include "dav_store.h"
#include "keys.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/*
 * File layout: magic (8) | file id (16) | slots.  A slot is nonce (12) |
 * ciphertext (1..4096, 0 only for the one block of an empty file) | tag (16).
 * The associated data of block i is id | be64(i) | final flag, so blocks
 * cannot be moved between files or positions and a file cut at a slot
 * boundary no longer has a valid final block.
 */
#define DAV_MAGIC		"NCDAVF1\0"
#define DAV_MAGIC_BYTES		8
#define DAV_HEADER_BYTES	(DAV_MAGIC_BYTES + DAV_FILE_ID_BYTES)
#define DAV_NONCE_BYTES		12
#define DAV_SLOT_OVERHEAD	(DAV_NONCE_BYTES + CRYPTO_TAG_BYTES)
#define DAV_SLOT_BYTES		(DAV_BLOCK_BYTES + DAV_SLOT_OVERHEAD)
#define DAV_AAD_BYTES		(DAV_FILE_ID_BYTES + 8 + 1)
#define DAV_WRITER_SLOTS	64	/* slots gathered per write(2) */
#define DAV_RESOLVE		(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | \
				 RESOLVE_NO_MAGICLINKS)

/* A file put in place unsynced, and its directory (the new name). */
struct dav_unsynced {
	int			 fd;
	int			 dirfd;		/* O_RDONLY, for its fsync */
	dev_t			 dirdev;
	ino_t			 dirino;
};

struct dav_volume {
	struct dav_store	*store;
	uint64_t		 gen;		/* bumped by every change of data */
	char			*name;
	char			*dir;		/* <store>/<name> */
	int			 datafd;	/* <dir>/data, O_PATH */
	int			 dirfd;		/* <dir>, O_PATH */
	unsigned char		 key[CRYPTO_KEY_BYTES];
	struct crypto_aead_key	*aead;		/* the key, scheduled once */
	/* New files put in place before their fsync (dav_writer_commit_later),
	 * still open with their directories, oldest first from unsynced_head;
	 * how many were ever queued and how many of those are durable (the
	 * marks dav_volume_sync_mark and dav_volume_synced compare); the first
	 * failure of a later fsync not yet reported. */
	struct dav_unsynced	*unsynced;
	size_t			 nunsynced;
	size_t			 unsynced_head;
	size_t			 unsynced_started; /* writeback asked up to */
	size_t			 dir_owner;	/* last with a dirfd; SIZE_MAX */
	uint64_t		 later_queued;
	uint64_t		 later_synced;
	int			 sync_errno;
	char			 sync_err[128];
	struct dav_volume	*next;		/* sorted by name */
};

/*
 * Small files in plaintext after a whole read, so a hot GET costs one statx
 * instead of open, read, decrypt and close.  An entry holds for as long as
 * its volume's generation (bumped by every write, rename, copy and removal
 * made here) and the file's inode, size, mtime and ctime (a change made
 * behind our back, such as tampering with the ciphertext) are those it was
 * read with; otherwise the file is read and authenticated again.
 */
#define DAV_CACHE_FILE_MAX	(64 * 1024)
#define DAV_CACHE_BYTES		(8 * 1024 * 1024)
#define DAV_CACHE_BUCKETS	1024

struct dav_cache_entry {
	struct dav_volume	*vol;
	char			*path;
	uint32_t		 hash;
	uint64_t		 gen;
	uint64_t		 ino;
	uint64_t		 disk;		/* on-disk size */
	struct statx_timestamp	 mtime;
	struct statx_timestamp	 ctime;
	struct dav_stat		 st;
	unsigned char		*data;
	size_t			 len;
	struct dav_cache_entry	*hnext;
	TAILQ_ENTRY(dav_cache_entry) lru;	/* most recent first */
};

struct dav_store {
	char			*dir;
	struct dav_volume	*volumes;
	struct dav_cache_entry	*cache[DAV_CACHE_BUCKETS];
	TAILQ_HEAD(dav_cache_lru, dav_cache_entry) cache_lru;
	size_t			 cache_bytes;
};

struct dav_file {
	struct dav_volume	*vol;
	int			 fd;
	/* What the cache checks an entry against, from the open. */
	uint64_t		 gen;
	struct statx		 sx;
	unsigned char		 id[DAV_FILE_ID_BYTES];
	uint64_t		 nslots;
	uint64_t		 size;
	/* Block 0 as read with the header: a small file costs one read. */
	unsigned char		*slot0;
	size_t			 slot0len;
	/* Read-ahead for sequential reads: slots from ra_first, ra_len bytes. */
	unsigned char		*ra;
	uint64_t		 ra_first;
	size_t			 ra_len;
};

#define DAV_READAHEAD_SLOTS	64

struct dav_writer {
	struct dav_volume	*vol;
	int			 fd;
	char			 tmpname[64];
	unsigned char		 id[DAV_FILE_ID_BYTES];
	uint64_t		 index;		/* next block to seal */
	unsigned char		 block[DAV_BLOCK_BYTES];
	size_t			 blocklen;
	unsigned char		*out;		/* sealed slots not yet written */
	size_t			 outlen;
	off_t			 offset;	/* file offset of out */
	off_t			 synced;	/* writeback started up to here */
	/* Nonces drawn ahead, one per slot of out; nnonce left unused. */
	unsigned char		 nonces[DAV_WRITER_SLOTS * DAV_NONCE_BYTES];
	size_t			 nnonce;
	int			 sealed;	/* dav_writer_end done */
};

#define DAV_WRITER_SYNC_BYTES	(8 * 1024 * 1024)

/*
 * The same confinement without openat2 (kernels before 5.6, and valgrind,
 * which does not know the call): one component at a time, none of them "."
 * or "..", none followed if it is a symbolic link.  Slower, so only used when
 * openat2 is missing.
 */
static int
dav_openat_walk(int dirfd, const char *path, int flags, mode_t mode)
{
	struct stat	 sb;
	char		*copy, *comp, *next;
	int		 fd, cur = dirfd, last, saved;

	if (*path == '\0')
		return (openat(dirfd, ".", flags | O_CLOEXEC, mode));
	copy = xstrdup(path);
	for (comp = copy;; comp = next) {
		if ((next = strchr(comp, '/')) != NULL)
			*next++ = '\0';
		if (*comp == '\0' || strcmp(comp, ".") == 0 ||
		    strcmp(comp, "..") == 0) {
			errno = EXDEV;	/* what openat2 says for escapes */
			fd = -1;
			break;
		}
		last = (next == NULL || *next == '\0');
		/* With O_NOFOLLOW a link fails (ELOOP) or opens as itself. */
		fd = openat(cur, comp, last ? flags | O_CLOEXEC | O_NOFOLLOW :
		    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, mode);
		saved = errno;
		if (fd == -1 && errno == ENOTDIR && fstatat(cur, comp, &sb,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
			saved = ELOOP;
		if (cur != dirfd)
			close(cur);
		cur = dirfd;
		errno = saved;
		if (fd == -1 || last)
			break;
		cur = fd;
	}
	saved = errno;
	if (cur != dirfd)
		close(cur);
	free(copy);
	errno = saved;
	return (fd);
}

static int	 dav_no_openat2;	/* openat2 said ENOSYS once */

void
dav_store_without_openat2(int on)
{
	dav_no_openat2 = on;
}

/* openat2 from a directory fd, confined beneath it, no symlinks. */
static int
dav_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how	 how;
	int		 fd;

	if (dav_no_openat2)
		return (dav_openat_walk(dirfd, path, flags, mode));
	memset(&how, 0, sizeof how);
	how.flags = flags | O_CLOEXEC;
	if (flags & O_CREAT)
		how.mode = mode;
	how.resolve = DAV_RESOLVE;
	fd = (int)syscall(SYS_openat2, dirfd, *path != '\0' ? path : ".",
	    &how, sizeof how);
	if (fd == -1 && errno == ENOSYS) {
		log_warnx("dav: openat2 is missing: confining paths one "
		    "component at a time");
		dav_no_openat2 = 1;
		return (dav_openat_walk(dirfd, path, flags, mode));
	}
	return (fd);
}

/* Say what failed, keeping errno. */
static int
dav_fail(char *err, size_t errlen, const char *what, const char *path)
{
	int	 saved = errno;

	snprintf(err, errlen, "%s %s: %s", what, *path ? path : "/",
	    saved == ELOOP ? "symbolic link refused" : strerror(saved));
	errno = saved;
	return (-1);
}

/* Split path into a parent fd (O_PATH directory) and the last name. */
static int
dav_parent(struct dav_volume *vol, const char *path, const char **leaf)
{
	const char	*slash;
	char		*parent;
	int		 fd;

	if ((slash = strrchr(path, '/')) == NULL) {
		*leaf = path;
		return (dav_openat2(vol->datafd, "", O_PATH | O_DIRECTORY, 0));
	}
	*leaf = slash + 1;
	parent = xstrndup(path, slash - path);
	fd = dav_openat2(vol->datafd, parent, O_PATH | O_DIRECTORY, 0);
	free(parent);
	return (fd);
}

/* Volume-relative path checks (the URL is already percent-decoded). */
int
dav_store_path_ok(const char *path, const char **why)
{
	const char	*p, *seg;
	size_t		 n;

	if (strlen(path) > DAV_PATH_MAX) {
		*why = "path too long";
		return (0);
	}
	if (*path == '\0')
		return (1);
	for (p = path;; p = seg + n + 1) {
		seg = p;
		n = strcspn(seg, "/");
		if (n == 0) {
			*why = "empty path segment";
			return (0);
		}
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			*why = "dot segment";
			return (0);
		}
		if (n > DAV_NAME_MAX) {
			*why = "name too long";
			return (0);
		}
		if (n == sizeof DAV_RESERVED_NAME - 1 &&
		    memcmp(seg, DAV_RESERVED_NAME, n) == 0) {
			*why = "reserved name";
			return (0);
		}
		if (seg[n] == '\0')
			break;
	}
	return (1);
}

/* Volume names as Docker allows them. */
int
dav_volume_name_ok(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len > 64)
		return (0);
	for (i = 0; i < len; i++) {
		if ((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9'))
			continue;
		if (i > 0 && (name[i] == '_' || name[i] == '.' ||
		    name[i] == '-'))
			continue;
		return (0);
	}
	return (1);
}

/* Open a volume directory that exists; create: make its key. */
static struct dav_volume *
dav_volume_load(struct dav_store *st, const char *name, int create, char *err,
    size_t errlen)
{
	struct dav_volume	*vol, **vp;
	char			*keyname, kerr[256];
	int			 r;

	vol = xcalloc(1, sizeof *vol);
	vol->store = st;
	vol->name = xstrdup(name);
	xasprintf(&vol->dir, "%s/%s", st->dir, name);
	vol->datafd = vol->dirfd = -1;
	vol->dir_owner = SIZE_MAX;
	if ((vol->dirfd = open(vol->dir, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (vol->datafd = dav_openat2(vol->dirfd, "data",
	    O_PATH | O_DIRECTORY, 0)) == -1) {
		snprintf(err, errlen, "volume %s: %s", name, strerror(errno));
		goto fail;
	}
	xasprintf(&keyname, "volume:%s", name);
	r = keys_get(keyname, vol->key, create, kerr, sizeof kerr);
	free(keyname);
	if (r == -1) {
		snprintf(err, errlen, "volume %s: key: %s", name, kerr);
		goto fail;
	}
	vol->aead = crypto_aead_key_new(vol->key, DAV_NONCE_BYTES);
	for (vp = &st->volumes; *vp != NULL; vp = &(*vp)->next) {
		if (strcmp((*vp)->name, name) > 0)
			break;
	}
	vol->next = *vp;
	*vp = vol;
	return (vol);
fail:
	if (vol->datafd != -1)
		close(vol->datafd);
	if (vol->dirfd != -1)
		close(vol->dirfd);
	free(vol->dir);
	free(vol->name);
	free(vol);
	return (NULL);
}

/* Free one volume's memory (not its files). */
/* --- the plaintext cache of small files ----------------------------------- */

static uint32_t
dav_cache_hash(const struct dav_volume *vol, const char *path)
{
	return (util_fnv1a(util_fnv1a(UTIL_FNV_INIT, &vol, sizeof vol), path,
	    strlen(path)));
}

static struct dav_cache_entry *
dav_cache_find(struct dav_volume *vol, const char *path, uint32_t h)
{
	struct dav_cache_entry	*e;

	for (e = vol->store->cache[h % DAV_CACHE_BUCKETS]; e != NULL;
	    e = e->hnext)
		if (e->hash == h && e->vol == vol && strcmp(e->path, path) == 0)
			return (e);
	return (NULL);
}

static void
dav_cache_drop(struct dav_store *st, struct dav_cache_entry *e)
{
	struct dav_cache_entry	**pp;

	for (pp = &st->cache[e->hash % DAV_CACHE_BUCKETS]; *pp != e;
	    pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	TAILQ_REMOVE(&st->cache_lru, e, lru);
	st->cache_bytes -= e->len;
	explicit_bzero(e->data, e->len);
	free(e->data);
	free(e->path);
	free(e);
}

/* A volume goes away: none of its entries may outlive it. */
static void
dav_cache_forget(struct dav_volume *vol)
{
	struct dav_store	*st = vol->store;
	struct dav_cache_entry	*e, *next;

	if (st == NULL)
		return;
	for (e = TAILQ_FIRST(&st->cache_lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e->vol == vol)
			dav_cache_drop(st, e);
	}
}

static int
dav_cache_ts_equal(const struct statx_timestamp *a,
    const struct statx_timestamp *b)
{
	return (a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec);
}

/* A copy of a cached file that is still what the disk holds, or NULL. */
unsigned char *
dav_cache_get(struct dav_volume *vol, const char *path, struct dav_stat *sb,
    size_t *lenp)
{
	struct dav_cache_entry	*e;
	struct statx		 sx;
	unsigned char		*buf;

	if ((e = dav_cache_find(vol, path, dav_cache_hash(vol, path))) == NULL)
		return (NULL);
	if (e->gen != vol->gen || statx(vol->datafd, path, AT_SYMLINK_NOFOLLOW,
	    STATX_BASIC_STATS, &sx) == -1 || !S_ISREG(sx.stx_mode) ||
	    sx.stx_ino != e->ino || sx.stx_size != e->disk ||
	    !dav_cache_ts_equal(&sx.stx_mtime, &e->mtime) ||
	    !dav_cache_ts_equal(&sx.stx_ctime, &e->ctime)) {
		dav_cache_drop(vol->store, e);
		return (NULL);
	}
	TAILQ_REMOVE(&vol->store->cache_lru, e, lru);
	TAILQ_INSERT_HEAD(&vol->store->cache_lru, e, lru);
	*sb = e->st;
	buf = xmalloc(e->len + 1);
	memcpy(buf, e->data, e->len);
	*lenp = e->len;
	return (buf);
}

/* Keep the whole plaintext of a small file just read through f. */
void
dav_cache_put(struct dav_file *f, const char *path, const struct dav_stat *sb,
    const void *data, size_t len)
{
	struct dav_volume	*vol = f->vol;
	struct dav_store	*st = vol->store;
	struct dav_cache_entry	*e;
	uint32_t		 h;

	struct timespec		 now;

	if (len > DAV_CACHE_FILE_MAX || len != f->size || f->gen != vol->gen ||
	    f->sx.stx_mask == 0)
		return;
	/*
	 * A file changed within the last second is not kept: the kernel's
	 * timestamps are coarse (a clock tick), so a change made behind our
	 * back in the same tick would leave statx unchanged and the cache
	 * stale (git's "racily clean" entries).
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec - f->sx.stx_mtime.tv_sec < 2 ||
	    now.tv_sec - f->sx.stx_ctime.tv_sec < 2)
		return;
	h = dav_cache_hash(vol, path);
	if ((e = dav_cache_find(vol, path, h)) != NULL)
		dav_cache_drop(st, e);
	while (st->cache_bytes + len > DAV_CACHE_BYTES &&
	    !TAILQ_EMPTY(&st->cache_lru))
		dav_cache_drop(st, TAILQ_LAST(&st->cache_lru, dav_cache_lru));
	e = xcalloc(1, sizeof *e);
	e->vol = vol;
	e->path = xstrdup(path);
	e->hash = h;
	e->gen = f->gen;
	e->ino = f->sx.stx_ino;
	e->disk = f->sx.stx_size;
	e->mtime = f->sx.stx_mtime;
	e->ctime = f->sx.stx_ctime;
	e->st = *sb;
	e->data = xmalloc(len + 1);
	memcpy(e->data, data, len);
	e->len = len;
	e->hnext = st->cache[h % DAV_CACHE_BUCKETS];
	st->cache[h % DAV_CACHE_BUCKETS] = e;
	TAILQ_INSERT_HEAD(&st->cache_lru, e, lru);
	st->cache_bytes += len;
}

static void
dav_volume_free(struct dav_volume *vol)
{
	char	 err[256];

	/* Closing the store (a stop) is a sync point too. */
	if (dav_volume_sync(vol, 1, err, sizeof err) == -1)
		log_warnx("dav: volume %s: %s", vol->name, err);
	free(vol->unsynced);
	dav_cache_forget(vol);
	close(vol->datafd);
	close(vol->dirfd);
	explicit_bzero(vol->key, sizeof vol->key);
	crypto_aead_key_free(vol->aead);
	free(vol->dir);
	free(vol->name);
	free(vol);
}

/* Open the store and every volume in it. */
struct dav_store *
dav_store_open(const char *dir, char *err, size_t errlen)
{
	struct dav_store	*st;
	struct dirent		*de;
	DIR			*d;

	if (util_mkdir_p(dir, 0700, err, errlen) == -1)
		return (NULL);
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return (NULL);
	}
	st = xcalloc(1, sizeof *st);
	st->dir = xstrdup(dir);
	TAILQ_INIT(&st->cache_lru);
	while ((de = readdir(d)) != NULL) {
		if (!dav_volume_name_ok(de->d_name))
			continue;
		if (dav_volume_load(st, de->d_name, 0, err, errlen) == NULL) {
			closedir(d);
			dav_store_close(st);
			return (NULL);
		}
	}
	closedir(d);
	return (st);
}

/* Close the store (files stay). */
void
dav_store_close(struct dav_store *st)
{
	struct dav_volume	*vol;

	if (st == NULL)
		return;
	while ((vol = st->volumes) != NULL) {
		st->volumes = vol->next;
		dav_volume_free(vol);
	}
	free(st->dir);
	free(st);
}

/* Make a volume: its directory, data tree and key. */
int
dav_volume_create(struct dav_store *st, const char *name, char *err,
    size_t errlen)
{
	char	*dir, *sub;
	int	 rv = -1;

	if (!dav_volume_name_ok(name)) {
		snprintf(err, errlen, "invalid volume name");
		errno = EINVAL;
		return (-1);
	}
	if (dav_volume_find(st, name) != NULL) {
		snprintf(err, errlen, "volume %s exists", name);
		errno = EEXIST;
		return (-1);
	}
	xasprintf(&dir, "%s/%s", st->dir, name);
	if (mkdir(dir, 0700) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(dir);
		return (-1);
	}
	xasprintf(&sub, "%s/data", dir);
	if (mkdir(sub, 0700) == 0) {
		free(sub);
		xasprintf(&sub, "%s/tmp", dir);
		if (mkdir(sub, 0700) == 0 &&
		    util_fsync_dir(st->dir, err, errlen) == 0 &&
		    dav_volume_load(st, name, 1, err, errlen) != NULL)
			rv = 0;
	} else
		snprintf(err, errlen, "%s: %s", sub, strerror(errno));
	free(sub);
	free(dir);
	return (rv);
}

/* Remove everything under dirfd/name (not following symlinks). */
static int
dav_rmtree_at(int parent, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, rv = 0;

	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return (0);
	if (errno != EISDIR && errno != EPERM)
		return (-1);
	if ((fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return (-1);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (dav_rmtree_at(dirfd(d), de->d_name) == -1)
			rv = -1;
	}
	closedir(d);
	if (rv == 0 && unlinkat(parent, name, AT_REMOVEDIR) == -1)
		rv = -1;
	return (rv);
}

/* Remove a volume with all its data. */
int
dav_volume_remove(struct dav_store *st, const char *name, char *err,
    size_t errlen)
{
	struct dav_volume	**vp, *vol;
	int			  fd;

	for (vp = &st->volumes; *vp != NULL; vp = &(*vp)->next) {
		if (strcmp((*vp)->name, name) == 0)
			break;
	}
	if ((vol = *vp) == NULL) {
		snprintf(err, errlen, "no volume %s", name);
		errno = ENOENT;
		return (-1);
	}
	*vp = vol->next;
	dav_volume_free(vol);
	if ((fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    dav_rmtree_at(fd, name) == -1) {
		snprintf(err, errlen, "remove volume %s: %s", name,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	close(fd);
	return (0);
}

/* A volume by name. */
struct dav_volume *
dav_volume_find(struct dav_store *st, const char *name)
{
	struct dav_volume	*vol;

	for (vol = st->volumes; vol != NULL; vol = vol->next) {
		if (strcmp(vol->name, name) == 0)
			return (vol);
	}
	return (NULL);
}

/* Walk the volumes in name order. */
struct dav_volume *
dav_volume_next(struct dav_store *st, struct dav_volume *prev)
{
	return (prev == NULL ? st->volumes : prev->next);
}

/* The volume's name. */
const char *
dav_volume_name(const struct dav_volume *vol)
{
	return (vol->name);
}

/* Fill times and the etag of a directory or file from stat data. */
static void
dav_stat_fill(struct dav_stat *sb, const struct statx *sx,
    const unsigned char *id)
{
	size_t	 i;
	char	*p;

	sb->exists = 1;
	sb->is_dir = S_ISDIR(sx->stx_mode);
	sb->mtime.tv_sec = sx->stx_mtime.tv_sec;
	sb->mtime.tv_nsec = sx->stx_mtime.tv_nsec;
	if (sx->stx_mask & STATX_BTIME) {
		sb->btime.tv_sec = sx->stx_btime.tv_sec;
		sb->btime.tv_nsec = sx->stx_btime.tv_nsec;
	} else {
		sb->btime.tv_sec = sx->stx_ctime.tv_sec;
		sb->btime.tv_nsec = sx->stx_ctime.tv_nsec;
	}
	/* The file id changes with each PUT, mtime and size with each PATCH. */
	p = sb->etag;
	*p++ = '"';
	if (id != NULL) {
		for (i = 0; i < 8; i++)
			p += sprintf(p, "%02x", id[i]);
	} else
		p += sprintf(p, "%llx", (unsigned long long)sx->stx_ino);
	snprintf(p, sizeof sb->etag - (p - sb->etag), "-%llx-%llx\"",
	    (unsigned long long)sb->size,
	    (unsigned long long)sx->stx_mtime.tv_sec * 1000000000ULL +
	    sx->stx_mtime.tv_nsec);
}

/* Plaintext size from the on-disk size; -1 if no valid layout has it. */
static int
dav_layout(uint64_t disk, uint64_t *nslots, uint64_t *size)
{
	uint64_t	 body, last;

	if (disk < DAV_HEADER_BYTES + DAV_SLOT_OVERHEAD)
		return (-1);
	body = disk - DAV_HEADER_BYTES;
	*nslots = (body + DAV_SLOT_BYTES - 1) / DAV_SLOT_BYTES;
	last = body - (*nslots - 1) * DAV_SLOT_BYTES;
	if (last < DAV_SLOT_OVERHEAD)
		return (-1);
	*size = (*nslots - 1) * DAV_BLOCK_BYTES + (last - DAV_SLOT_OVERHEAD);
	return (0);
}

/* Read header and first slot of an open file into a new handle. */
static struct dav_file *
dav_file_from_fd(struct dav_volume *vol, int fd, uint64_t disk)
{
	struct dav_file	*f;
	unsigned char	*buf;
	size_t		 want;
	ssize_t		 n;

	f = xcalloc(1, sizeof *f);
	f->vol = vol;
	f->fd = fd;
	if (dav_layout(disk, &f->nslots, &f->size) == -1) {
		free(f);
		errno = EIO;
		return (NULL);
	}
	want = DAV_HEADER_BYTES + (f->nslots == 1 ? disk - DAV_HEADER_BYTES :
	    DAV_SLOT_BYTES);
	buf = xmalloc(want);
	n = pread(fd, buf, want, 0);
	if (n != (ssize_t)want || memcmp(buf, DAV_MAGIC, DAV_MAGIC_BYTES) != 0) {
		free(buf);
		free(f);
		errno = EIO;
		return (NULL);
	}
	memcpy(f->id, buf + DAV_MAGIC_BYTES, DAV_FILE_ID_BYTES);
	f->slot0 = buf;
	f->slot0len = want;
	return (f);
}

/*
 * What is at path; a regular file is also handed back open (read-only) in
 * *fp when fp is set, so a GET costs one open.
 */
int
dav_stat_open(struct dav_volume *vol, const char *path, struct dav_stat *sb,
    struct dav_file **fp, char *err, size_t errlen)
{
	struct statx	 sx;
	struct dav_file	*f;
	int		 fd;

	memset(sb, 0, sizeof *sb);
	if (fp != NULL)
		*fp = NULL;
	/* O_NONBLOCK: a FIFO planted in the storage must not stall the loop. */
	if ((fd = dav_openat2(vol->datafd, path, O_RDONLY | O_NONBLOCK, 0)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return (0);
		if (errno == ENXIO)
			errno = EPERM;
		return (dav_fail(err, errlen, "stat", path));
	}
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME,
	    &sx) == -1) {
		close(fd);
		return (dav_fail(err, errlen, "stat", path));
	}
	if (S_ISDIR(sx.stx_mode)) {
		close(fd);
		dav_stat_fill(sb, &sx, NULL);
		return (0);
	}
	if (!S_ISREG(sx.stx_mode)) {
		close(fd);
		errno = EPERM;
		return (dav_fail(err, errlen, "stat", path));
	}
	if ((f = dav_file_from_fd(vol, fd, sx.stx_size)) == NULL) {
		close(fd);
		errno = EIO;
		return (dav_fail(err, errlen, "damaged file", path));
	}
	sb->size = f->size;
	f->gen = vol->gen;
	f->sx = sx;
	dav_stat_fill(sb, &sx, f->id);
	if (fp != NULL)
		*fp = f;
	else
		dav_file_close(f);
	return (0);
}

/* What is at path. */
int
dav_stat(struct dav_volume *vol, const char *path, struct dav_stat *sb,
    char *err, size_t errlen)
{
	return (dav_stat_open(vol, path, sb, NULL, err, errlen));
}

/* Times of the store directory itself: the root collection "/". */
int
dav_store_stat(struct dav_store *st, struct dav_stat *sb)
{
	struct statx	 sx;

	memset(sb, 0, sizeof *sb);
	if (statx(AT_FDCWD, st->dir, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS |
	    STATX_BTIME, &sx) == -1)
		return (-1);
	dav_stat_fill(sb, &sx, NULL);
	return (0);
}

/* Make a collection. */
int
dav_mkcol(struct dav_volume *vol, const char *path, char *err, size_t errlen)
{
	const char	*leaf;
	int		 pfd, rv;

	if ((pfd = dav_parent(vol, path, &leaf)) == -1)
		return (dav_fail(err, errlen, "mkcol", path));
	rv = mkdirat(pfd, leaf, 0700);
	if (rv == -1)
		dav_fail(err, errlen, "mkcol", path);
	close(pfd);
	return (rv);
}

/* Where the properties of path live: "<parent>/.netcrave/<leaf>.p" for a
 * member, "<path>/.netcrave/.p" for a collection (no member is named ""). */
static void
dav_props_where(const char *path, int is_dir, char **dir, char **file)
{
	const char	*slash;

	if (is_dir) {
		if (*path == '\0')
			*dir = xstrdup(DAV_RESERVED_NAME);
		else
			xasprintf(dir, "%s/%s", path, DAV_RESERVED_NAME);
		*file = xstrdup(".p");
		return;
	}
	if ((slash = strrchr(path, '/')) == NULL) {
		*dir = xstrdup(DAV_RESERVED_NAME);
		xasprintf(file, "%s.p", path);
	} else {
		xasprintf(dir, "%.*s/%s", (int)(slash - path), path,
		    DAV_RESERVED_NAME);
		xasprintf(file, "%s.p", slash + 1);
	}
}

/* Remove a file or a collection and its properties. */
int
dav_remove(struct dav_volume *vol, const char *path, char *err, size_t errlen)
{
	const char	*leaf;
	char		*pdir, *pfile;
	int		 pfd, fd;

	vol->gen++;	/* the plaintext cache is stale */
	if (*path == '\0') {
		errno = EPERM;
		return (dav_fail(err, errlen, "remove", path));
	}
	if ((pfd = dav_parent(vol, path, &leaf)) == -1)
		return (dav_fail(err, errlen, "remove", path));
	/* The O_PATH parent cannot be used for unlinkat's directory walk. */
	fd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(pfd);
	if (fd == -1 || dav_rmtree_at(fd, leaf) == -1) {
		if (fd != -1)
			close(fd);
		return (dav_fail(err, errlen, "remove", path));
	}
	close(fd);
	dav_props_where(path, 0, &pdir, &pfile);
	if ((fd = dav_openat2(vol->datafd, pdir, O_RDONLY | O_DIRECTORY, 0)) != -1) {
		unlinkat(fd, pfile, 0);
		close(fd);
	}
	free(pdir);
	free(pfile);
	return (0);
}

/* Make the reserved directory of a collection when missing. */
static int
dav_reserved_dir(struct dav_volume *vol, const char *dir)
{
	const char	*leaf;
	int		 pfd, rv;

	if ((pfd = dav_parent(vol, dir, &leaf)) == -1)
		return (-1);
	rv = mkdirat(pfd, leaf, 0700);
	close(pfd);
	return (rv == -1 && errno != EEXIST ? -1 : 0);
}

/* Move the property file of a member along with it (collections carry theirs). */
static int
dav_props_rename(struct dav_volume *vol, const char *from, const char *to)
{
	char	*fdir, *ffile, *tdir, *tfile;
	int	 ffd = -1, tfd = -1, rv = 0;

	dav_props_where(from, 0, &fdir, &ffile);
	dav_props_where(to, 0, &tdir, &tfile);
	if ((ffd = dav_openat2(vol->datafd, fdir, O_PATH | O_DIRECTORY, 0)) != -1 &&
	    faccessat(ffd, ffile, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if (dav_reserved_dir(vol, tdir) == -1 ||
		    (tfd = dav_openat2(vol->datafd, tdir, O_PATH | O_DIRECTORY,
		    0)) == -1 || renameat(ffd, ffile, tfd, tfile) == -1)
			rv = -1;
	} else if (errno != ENOENT)
		rv = -1;
	if (ffd != -1)
		close(ffd);
	if (tfd != -1)
		close(tfd);
	free(fdir);
	free(ffile);
	free(tdir);
	free(tfile);
	return (rv);
}

/* Rename within one volume; the destination must not exist. */
int
dav_rename(struct dav_volume *vol, const char *from, const char *to, char *err,
    size_t errlen)
{
	const char	*fleaf, *tleaf;
	int		 ffd, tfd, rv;

	vol->gen++;	/* the plaintext cache is stale */
	if ((ffd = dav_parent(vol, from, &fleaf)) == -1)
		return (dav_fail(err, errlen, "move", from));
	if ((tfd = dav_parent(vol, to, &tleaf)) == -1) {
		close(ffd);
		return (dav_fail(err, errlen, "move to", to));
	}
	rv = renameat2(ffd, fleaf, tfd, tleaf, RENAME_NOREPLACE);
	if (rv == -1)
		dav_fail(err, errlen, "move", from);
	close(ffd);
	close(tfd);
	if (rv == 0 && dav_props_rename(vol, from, to) == -1)
		log_warn("%s: properties of %s", __func__, from);
	return (rv);
}

/*
 * Seal one block into slot (nonce | ciphertext | tag).  The nonce comes from
 * nonces (random bytes drawn ahead, a batch at a time: one RAND_bytes call per
 * block costs more than the cipher on a long PUT) or, when NULL, fresh.
 */
static void
dav_seal(const struct dav_volume *vol, const unsigned char *id, uint64_t index,
    int final, const unsigned char *in, size_t len, unsigned char *slot,
    const unsigned char *nonce)
{
	unsigned char	 aad[DAV_AAD_BYTES];

	memcpy(aad, id, DAV_FILE_ID_BYTES);
	util_put_be64(aad + DAV_FILE_ID_BYTES, index);
	aad[DAV_AAD_BYTES - 1] = final ? 1 : 0;
	if (nonce != NULL)
		memcpy(slot, nonce, DAV_NONCE_BYTES);
	else
		crypto_random(slot, DAV_NONCE_BYTES);
	if (crypto_aead_key_seal(vol->aead, slot, aad, sizeof aad, in, len,
	    slot + DAV_NONCE_BYTES, slot + DAV_NONCE_BYTES + len) == -1)
		fatalx("%s: cipher failed", __func__);
}

/* Read and open block index of f into out; returns its length or -1 (EIO).
 * The slot is opened where it was read (block 0 or the read-ahead). */
static ssize_t
dav_file_block(struct dav_file *f, uint64_t index, unsigned char *out,
    char *err, size_t errlen)
{
	unsigned char		 aad[DAV_AAD_BYTES];
	const unsigned char	*slot = NULL;
	size_t			 want, len;
	ssize_t			 n;
	int			 final = (index == f->nslots - 1);

	want = final ? (f->size - index * DAV_BLOCK_BYTES) + DAV_SLOT_OVERHEAD :
	    DAV_SLOT_BYTES;
	if (index == 0 && f->slot0 != NULL &&
	    f->slot0len == DAV_HEADER_BYTES + want) {
		slot = f->slot0 + DAV_HEADER_BYTES;
		n = want;
	} else {
		/* One pread for many slots: the next ones are likely wanted. */
		if (f->ra == NULL || index < f->ra_first ||
		    (index - f->ra_first) * DAV_SLOT_BYTES + want > f->ra_len) {
			if (f->ra == NULL)
				f->ra = xmalloc(DAV_READAHEAD_SLOTS *
				    DAV_SLOT_BYTES);
			f->ra_first = index;
			n = pread(f->fd, f->ra, DAV_READAHEAD_SLOTS *
			    DAV_SLOT_BYTES, DAV_HEADER_BYTES + index *
			    DAV_SLOT_BYTES);
			f->ra_len = n > 0 ? (size_t)n : 0;
		}
		if ((index - f->ra_first) * DAV_SLOT_BYTES + want <= f->ra_len) {
			slot = f->ra + (index - f->ra_first) * DAV_SLOT_BYTES;
			n = want;
		} else
			n = f->ra_len - (index - f->ra_first) * DAV_SLOT_BYTES;
	}
	if (n != (ssize_t)want) {
		snprintf(err, errlen, "block %llu: %s",
		    (unsigned long long)index, n == -1 ? strerror(errno) :
		    "short read (file truncated)");
		errno = EIO;
		return (-1);
	}
	len = want - DAV_SLOT_OVERHEAD;
	memcpy(aad, f->id, DAV_FILE_ID_BYTES);
	util_put_be64(aad + DAV_FILE_ID_BYTES, index);
	aad[DAV_AAD_BYTES - 1] = final ? 1 : 0;
	if (crypto_aead_key_open(f->vol->aead, slot, aad, sizeof aad,
	    slot + DAV_NONCE_BYTES, len, out, slot + DAV_NONCE_BYTES + len) == -1) {
		snprintf(err, errlen, "block %llu fails authentication (file "
		    "tampered with or truncated)", (unsigned long long)index);
		errno = EIO;
		return (-1);
	}
	return ((ssize_t)len);
}

/* Open an existing file. */
struct dav_file *
dav_file_open(struct dav_volume *vol, const char *path, int writable, char *err,
    size_t errlen)
{
	struct dav_file	*f;
	struct stat	 sb;
	int		 fd;

	if ((fd = dav_openat2(vol->datafd, path, writable ? O_RDWR : O_RDONLY,
	    0)) == -1) {
		dav_fail(err, errlen, "open", path);
		return (NULL);
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (f = dav_file_from_fd(vol, fd, sb.st_size)) == NULL) {
		errno = EIO;
		dav_fail(err, errlen, "damaged file", path);
		close(fd);
		return (NULL);
	}
	return (f);
}

/* Blocks change: the cached first one is stale. */
static void
dav_file_uncache(struct dav_file *f)
{
	free(f->slot0);
	f->slot0 = NULL;
	f->slot0len = 0;
	free(f->ra);
	f->ra = NULL;
	f->ra_len = 0;
}

/* Plaintext size. */
uint64_t
dav_file_size(const struct dav_file *f)
{
	return (f->size);
}

/* Read len bytes at off. */
ssize_t
dav_file_read(struct dav_file *f, void *buf, size_t len, uint64_t off,
    char *err, size_t errlen)
{
	unsigned char	 block[DAV_BLOCK_BYTES];
	unsigned char	*out = buf;
	uint64_t	 index;
	size_t		 done = 0, skip, n;
	ssize_t		 blen;

	while (done < len && off + done < f->size) {
		index = (off + done) / DAV_BLOCK_BYTES;
		skip = (off + done) % DAV_BLOCK_BYTES;
		/* A whole block that fits is opened straight into buf. */
		if (skip == 0 && (len - done >= DAV_BLOCK_BYTES ||
		    (index == f->nslots - 1 &&
		    len - done >= f->size - index * DAV_BLOCK_BYTES))) {
			if ((blen = dav_file_block(f, index, out + done, err,
			    errlen)) == -1)
				return (-1);
			done += blen;
			continue;
		}
		if ((blen = dav_file_block(f, index, block, err, errlen)) == -1)
			return (-1);
		if ((size_t)blen <= skip)
			break;
		n = blen - skip;
		if (n > len - done)
			n = len - done;
		memcpy(out + done, block + skip, n);
		done += n;
	}
	return ((ssize_t)done);
}

/*
 * Write len bytes at off (len 0 with off past the end extends with zeros).
 * Every block from the first touched (or the old final block, which stops
 * being final when the file grows) to the new last one is opened, changed and
 * sealed again with a fresh nonce.
 */
int
dav_file_write(struct dav_file *f, const void *data, size_t len, uint64_t off,
    char *err, size_t errlen)
{
	unsigned char	 block[DAV_BLOCK_BYTES], slot[DAV_SLOT_BYTES];
	const unsigned char *in = data;
	uint64_t	 newsize, first, last, index, bstart, lo, hi;
	size_t		 blen;
	ssize_t		 olen;

	f->vol->gen++;	/* the plaintext cache is stale */
	newsize = off + len > f->size ? off + len : f->size;
	if (newsize == f->size && len == 0)
		return (0);
	dav_file_uncache(f);
	first = off / DAV_BLOCK_BYTES;
	if (newsize > f->size && f->nslots - 1 < first)
		first = f->nslots - 1;
	last = newsize == 0 ? 0 : (newsize - 1) / DAV_BLOCK_BYTES;
	for (index = first; index <= last; index++) {
		bstart = index * DAV_BLOCK_BYTES;
		memset(block, 0, sizeof block);
		if (index < f->nslots) {
			if ((olen = dav_file_block(f, index, block, err,
			    errlen)) == -1)
				return (-1);
		}
		blen = index == last ? newsize - bstart : DAV_BLOCK_BYTES;
		lo = off > bstart ? off : bstart;
		hi = off + len < bstart + blen ? off + len : bstart + blen;
		if (hi > lo)
			memcpy(block + (lo - bstart), in + (lo - off), hi - lo);
		dav_seal(f->vol, f->id, index, index == last, block, blen, slot,
		    NULL);
		if (util_write_at(f->fd, slot, blen + DAV_SLOT_OVERHEAD,
		    DAV_HEADER_BYTES + index * DAV_SLOT_BYTES) == -1) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return (-1);
		}
	}
	f->nslots = last + 1;
	f->size = newsize;
	explicit_bzero(block, sizeof block);
	return (0);
}

/* Cut or extend to size. */
int
dav_file_truncate(struct dav_file *f, uint64_t size, char *err, size_t errlen)
{
	unsigned char	 block[DAV_BLOCK_BYTES], slot[DAV_SLOT_BYTES];
	uint64_t	 last;
	size_t		 blen;

	f->vol->gen++;	/* the plaintext cache is stale */
	if (size >= f->size)
		return (dav_file_write(f, NULL, 0, size, err, errlen));
	dav_file_uncache(f);
	last = size == 0 ? 0 : (size - 1) / DAV_BLOCK_BYTES;
	if (dav_file_block(f, last, block, err, errlen) == -1)
		return (-1);
	blen = size - last * DAV_BLOCK_BYTES;
	dav_seal(f->vol, f->id, last, 1, block, blen, slot, NULL);
	explicit_bzero(block, sizeof block);
	if (util_write_at(f->fd, slot, blen + DAV_SLOT_OVERHEAD,
	    DAV_HEADER_BYTES + last * DAV_SLOT_BYTES) == -1 ||
	    ftruncate(f->fd, DAV_HEADER_BYTES + last * DAV_SLOT_BYTES + blen +
	    DAV_SLOT_OVERHEAD) == -1) {
		snprintf(err, errlen, "truncate: %s", strerror(errno));
		return (-1);
	}
	f->nslots = last + 1;
	f->size = size;
	return (0);
}

/* Keep the first failure of a later sync for the next reporting call. */
static void
dav_volume_sync_failed(struct dav_volume *vol, const char *what)
{
	if (vol->sync_errno != 0)
		return;
	vol->sync_errno = errno;
	snprintf(vol->sync_err, sizeof vol->sync_err, "fsync of %s stored "
	    "unsynced: %s", what, strerror(errno));
}

/*
 * fsync up to max files put in place unsynced, oldest first, then each of
 * their directories once (the new names), and close them.  Writeback of
 * every file queued is started first, so that the waits of this step and
 * the next find little left and share journal commits.  Returns how many
 * files are now durable; a failure is kept for dav_volume_sync_error.
 */
size_t
dav_volume_sync_some(struct dav_volume *vol, size_t max)
{
	struct dav_unsynced	*u, *v;
	size_t			 i, j, n;

	for (; vol->unsynced_started < vol->nunsynced; vol->unsynced_started++)
		sync_file_range(vol->unsynced[vol->unsynced_started].fd, 0, 0,
		    SYNC_FILE_RANGE_WRITE);
	n = vol->nunsynced - vol->unsynced_head;
	if (n > max)
		n = max;
	u = vol->unsynced + vol->unsynced_head;
	for (i = 0; i < n; i++) {
		if (fsync(u[i].fd) == -1)
			dav_volume_sync_failed(vol, "a file");
		close(u[i].fd);
	}
	for (i = 0; i < n; i++) {
		if (u[i].dirfd == -1)
			continue;
		if (fsync(u[i].dirfd) == -1)
			dav_volume_sync_failed(vol, "the directory of a file");
		/* The same directory later in this step is synced already. */
		for (j = i + 1; j < n; j++) {
			v = &u[j];
			if (v->dirfd != -1 && v->dirdev == u[i].dirdev &&
			    v->dirino == u[i].dirino) {
				close(v->dirfd);
				v->dirfd = -1;
			}
		}
		close(u[i].dirfd);
		u[i].dirfd = -1;
	}
	vol->unsynced_head += n;
	vol->later_synced += n;
	/* The synced ones leave the front once they are half the array. */
	if (vol->unsynced_head > 0 &&
	    vol->unsynced_head * 2 >= vol->nunsynced) {
		memmove(vol->unsynced, vol->unsynced + vol->unsynced_head,
		    (vol->nunsynced - vol->unsynced_head) *
		    sizeof *vol->unsynced);
		vol->nunsynced -= vol->unsynced_head;
		vol->unsynced_started -= vol->unsynced_head;
		if (vol->dir_owner != SIZE_MAX)
			vol->dir_owner = vol->dir_owner < vol->unsynced_head ?
			    SIZE_MAX : vol->dir_owner - vol->unsynced_head;
		vol->unsynced_head = 0;
	}
	return (n);
}

/* Take the failure kept from the syncs: 0, or -1 with errno and err. */
int
dav_volume_sync_error(struct dav_volume *vol, char *err, size_t errlen)
{
	int	 e;

	if ((e = vol->sync_errno) == 0)
		return (0);
	snprintf(err, errlen, "%s", vol->sync_err);
	vol->sync_errno = 0;
	errno = e;
	return (-1);
}

/*
 * fsync every file put in place unsynced (and its directory), and close it.
 * A failure is kept until a call with report set takes it (the caller that
 * promises durability); -1 with errno and err then, or when this call
 * failed.
 */
int
dav_volume_sync(struct dav_volume *vol, int report, char *err, size_t errlen)
{
	int	 e;

	(void)dav_volume_sync_some(vol, SIZE_MAX);
	if (report)
		return (dav_volume_sync_error(vol, err, errlen));
	if ((e = vol->sync_errno) == 0)
		return (0);
	snprintf(err, errlen, "%s", vol->sync_err);
	errno = e;
	return (-1);
}

/* Files of the volume put in place and not synced yet. */
size_t
dav_volume_unsynced(const struct dav_volume *vol)
{
	return (vol->nunsynced - vol->unsynced_head);
}

/* How many files were ever put in place unsynced: the mark a request that
 * promises durability waits for (dav_volume_synced reaching it). */
uint64_t
dav_volume_sync_mark(const struct dav_volume *vol)
{
	return (vol->later_queued);
}

/* How many of them are durable. */
uint64_t
dav_volume_synced(const struct dav_volume *vol)
{
	return (vol->later_synced);
}

/* Make what was written durable. */
int
dav_file_sync(struct dav_file *f, char *err, size_t errlen)
{
	if (fsync(f->fd) == -1) {
		snprintf(err, errlen, "fsync: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/* Close a file. */
void
dav_file_close(struct dav_file *f)
{
	if (f == NULL)
		return;
	close(f->fd);
	free(f->slot0);
	free(f->ra);
	free(f);
}

/* Start a new file in the volume's tmp directory. */
struct dav_writer *
dav_writer_new(struct dav_volume *vol, char *err, size_t errlen)
{
	struct dav_writer	*w;
	unsigned char		 r[8];
	unsigned char		 h[DAV_HEADER_BYTES];
	int			 tmpfd;

	w = xcalloc(1, sizeof *w);
	w->vol = vol;
	crypto_random(w->id, sizeof w->id);
	crypto_random(r, sizeof r);
	snprintf(w->tmpname, sizeof w->tmpname, "w.%02x%02x%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	if ((tmpfd = dav_openat2(vol->dirfd, "tmp", O_PATH | O_DIRECTORY,
	    0)) == -1 || (w->fd = openat(tmpfd, w->tmpname, O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "temporary file: %s", strerror(errno));
		if (tmpfd != -1)
			close(tmpfd);
		free(w);
		return (NULL);
	}
	close(tmpfd);
	memcpy(h, DAV_MAGIC, DAV_MAGIC_BYTES);
	memcpy(h + DAV_MAGIC_BYTES, w->id, DAV_FILE_ID_BYTES);
	w->out = xmalloc(DAV_HEADER_BYTES + DAV_WRITER_SLOTS * DAV_SLOT_BYTES);
	memcpy(w->out, h, sizeof h);
	w->outlen = sizeof h;
	return (w);
}

/* Write out the gathered slots. */
static int
dav_writer_flush(struct dav_writer *w, char *err, size_t errlen)
{
	if (w->outlen == 0)
		return (0);
	if (util_write_at(w->fd, w->out, w->outlen, w->offset) == -1) {
		snprintf(err, errlen, "write: %s", strerror(errno));
		return (-1);
	}
	w->offset += w->outlen;
	w->outlen = 0;
	/* Start writeback as we go, so the fsync at commit has little left. */
	if (w->offset - w->synced >= DAV_WRITER_SYNC_BYTES) {
		sync_file_range(w->fd, w->synced, w->offset - w->synced,
		    SYNC_FILE_RANGE_WRITE);
		w->synced = w->offset;
	}
	return (0);
}

/* Seal len bytes at in (the pending block, or a whole block straight from
 * the caller's data) into the output. */
static int
dav_writer_seal_from(struct dav_writer *w, const unsigned char *in, size_t len,
    int final, char *err, size_t errlen)
{
	if (w->nnonce == 0) {
		crypto_random(w->nonces, sizeof w->nonces);
		w->nnonce = DAV_WRITER_SLOTS;
	}
	w->nnonce--;
	dav_seal(w->vol, w->id, w->index, final, in, len, w->out + w->outlen,
	    w->nonces + w->nnonce * DAV_NONCE_BYTES);
	w->outlen += len + DAV_SLOT_OVERHEAD;
	w->index++;
	if (final || w->outlen + DAV_SLOT_BYTES > DAV_HEADER_BYTES +
	    DAV_WRITER_SLOTS * DAV_SLOT_BYTES)
		return (dav_writer_flush(w, err, errlen));
	return (0);
}

/* Seal the pending block into the output. */
static int
dav_writer_seal(struct dav_writer *w, int final, char *err, size_t errlen)
{
	size_t	 len = w->blocklen;

	w->blocklen = 0;
	return (dav_writer_seal_from(w, w->block, len, final, err, errlen));
}

/* More bytes; a full block is sealed only once more follow (the last one is
 * sealed as final at commit). */
int
dav_writer_add(struct dav_writer *w, const void *data, size_t len, char *err,
    size_t errlen)
{
	const unsigned char	*p = data;
	size_t			 n;

	while (len > 0) {
		if (w->blocklen == DAV_BLOCK_BYTES &&
		    dav_writer_seal(w, 0, err, errlen) == -1)
			return (-1);
		/* A whole block with more behind it is sealed in place. */
		if (w->blocklen == 0 && len > DAV_BLOCK_BYTES) {
			if (dav_writer_seal_from(w, p, DAV_BLOCK_BYTES, 0, err,
			    errlen) == -1)
				return (-1);
			p += DAV_BLOCK_BYTES;
			len -= DAV_BLOCK_BYTES;
			continue;
		}
		n = DAV_BLOCK_BYTES - w->blocklen;
		if (n > len)
			n = len;
		memcpy(w->block + w->blocklen, p, n);
		w->blocklen += n;
		p += n;
		len -= n;
	}
	return (0);
}

/*
 * All bytes are in: seal the last block and start writing the file out, so
 * that the fsync of dav_writer_commit finds little left to do, and the
 * fsyncs of several files ended together share one journal commit.
 */
int
dav_writer_end(struct dav_writer *w, int writeback, char *err, size_t errlen)
{
	if (w->sealed)
		return (0);
	if (dav_writer_seal(w, 1, err, errlen) == -1)
		return (-1);
	w->sealed = 1;
	if (writeback)
		sync_file_range(w->fd, w->synced, 0, SYNC_FILE_RANGE_WRITE);
	return (0);
}

/* Finish into the tree at path, or into the volume directory when path is
 * NULL and name is set (the lock table); later: without the fsync, the file
 * kept open for dav_volume_sync. */
static int
dav_writer_finish(struct dav_writer *w, int dirfd, const char *leaf,
    const char *what, int later, char *err, size_t errlen)
{
	struct dav_volume	*vol = w->vol;
	struct dav_unsynced	*u;
	struct stat		 sb;
	size_t			 o;
	int			 tmpfd, rv = -1;

	w->vol->gen++;	/* the plaintext cache is stale */
	if (!w->sealed && dav_writer_end(w, !later, err, errlen) == -1)
		goto out;
	if (!later && fsync(w->fd) == -1) {
		snprintf(err, errlen, "fsync: %s", strerror(errno));
		goto out;
	}
	if ((tmpfd = dav_openat2(w->vol->dirfd, "tmp", O_PATH | O_DIRECTORY,
	    0)) == -1) {
		snprintf(err, errlen, "tmp: %s", strerror(errno));
		goto out;
	}
	if (renameat(tmpfd, w->tmpname, dirfd, leaf) == -1) {
		dav_fail(err, errlen, "replace", what);
		close(tmpfd);
		goto out;
	}
	close(tmpfd);
	w->tmpname[0] = '\0';
	if (later) {
		vol->unsynced = xreallocarray(vol->unsynced,
		    vol->nunsynced + 1, sizeof *vol->unsynced);
		u = &vol->unsynced[vol->nunsynced++];
		u->fd = w->fd;
		w->fd = -1;
		u->dirfd = -1;
		u->dirdev = 0;
		u->dirino = 0;
		/*
		 * The new name is durable once its directory is synced too.
		 * When the last file that holds a directory fd still waits
		 * and is in the same directory, that fd's fsync comes after
		 * this rename and serves both: no second fd.  A directory
		 * that cannot be opened is a sync failure kept for the next
		 * reporting call, like a failed fsync.
		 */
		o = vol->dir_owner;
		if (fstat(dirfd, &sb) == -1)
			dav_volume_sync_failed(vol, "the directory of a file");
		else if (o != SIZE_MAX && o >= vol->unsynced_head &&
		    vol->unsynced[o].dirdev == sb.st_dev &&
		    vol->unsynced[o].dirino == sb.st_ino)
			;	/* synced with the owner's */
		else if ((u->dirfd = openat(dirfd, ".", O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) == -1)
			dav_volume_sync_failed(vol, "the directory of a file");
		else {
			u->dirdev = sb.st_dev;
			u->dirino = sb.st_ino;
			vol->dir_owner = vol->nunsynced - 1;
		}
		vol->later_queued++;
	}
	rv = 0;
out:
	dav_writer_abort(w);
	return (rv);
}

/* Seal, sync (unless later) and rename over path. */
static int
dav_writer_put(struct dav_writer *w, const char *path, int later, char *err,
    size_t errlen)
{
	const char	*leaf;
	int		 pfd, rv, absent;
	struct stat	 sb;

	if ((pfd = dav_parent(w->vol, path, &leaf)) == -1) {
		dav_fail(err, errlen, "put", path);
		dav_writer_abort(w);
		return (-1);
	}
	rv = fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW);
	absent = rv == -1 && errno == ENOENT;
	/* Never replace a directory or a symlink with a file. */
	if (rv == 0 && !S_ISREG(sb.st_mode)) {
		errno = S_ISDIR(sb.st_mode) ? EISDIR : ELOOP;
		dav_fail(err, errlen, "put", path);
		dav_writer_abort(w);
		close(pfd);
		return (-1);
	}
	/* Only a new name may appear unsynced: a file replaced goes on
	 * holding its old bytes or the new ones, across a crash too. */
	rv = dav_writer_finish(w, pfd, leaf, path, later && absent, err,
	    errlen);
	close(pfd);
	return (rv);
}

int
dav_writer_commit(struct dav_writer *w, const char *path, char *err,
    size_t errlen)
{
	return (dav_writer_put(w, path, 0, err, errlen));
}

int
dav_writer_commit_later(struct dav_writer *w, const char *path, char *err,
    size_t errlen)
{
	return (dav_writer_put(w, path, 1, err, errlen));
}

/* Drop an unfinished file. */
void
dav_writer_abort(struct dav_writer *w)
{
	int	 tmpfd;

	if (w == NULL)
		return;
	if (w->tmpname[0] != '\0' && (tmpfd = dav_openat2(w->vol->dirfd, "tmp",
	    O_PATH | O_DIRECTORY, 0)) != -1) {
		unlinkat(tmpfd, w->tmpname, 0);
		close(tmpfd);
	}
	if (w->fd != -1)
		close(w->fd);
	explicit_bzero(w->block, sizeof w->block);
	free(w->out);
	free(w);
}

/* Whole content of a sealed file at dirfd-relative path into memory. */
static int
dav_read_all(struct dav_volume *vol, int dirfd, const char *path, char **data,
    size_t *len, char *err, size_t errlen)
{
	struct dav_file	*f;
	ssize_t		 n;
	int		 fd;

	*data = NULL;
	*len = 0;
	if ((fd = dav_openat2(dirfd, path, O_RDONLY, 0)) == -1) {
		if (errno == ENOENT)
			return (0);
		return (dav_fail(err, errlen, "open", path));
	}
	close(fd);
	if (dirfd != vol->datafd) {
		/* dav_file_open works beneath the data tree only. */
		struct stat	 sb;

		if ((fd = dav_openat2(dirfd, path, O_RDONLY, 0)) == -1)
			return (dav_fail(err, errlen, "open", path));
		if (fstat(fd, &sb) == -1 ||
		    (f = dav_file_from_fd(vol, fd, sb.st_size)) == NULL) {
			close(fd);
			errno = EIO;
			return (dav_fail(err, errlen, "damaged file", path));
		}
	} else if ((f = dav_file_open(vol, path, 0, err, errlen)) == NULL)
		return (-1);
	*data = xmalloc(f->size + 1);
	n = dav_file_read(f, *data, f->size, 0, err, errlen);
	dav_file_close(f);
	if (n == -1) {
		free(*data);
		*data = NULL;
		return (-1);
	}
	(*data)[n] = '\0';
	*len = n;
	return (0);
}

/* Load the properties of a resource. */
int
dav_props_load(struct dav_volume *vol, const char *path, int is_dir,
    struct dav_prop **props, size_t *n, char *err, size_t errlen)
{
	char		*dir, *file, *rel, *data, *p, *end;
	size_t		 len;
	int		 rv;

	*props = NULL;
	*n = 0;
	dav_props_where(path, is_dir, &dir, &file);
	xasprintf(&rel, "%s/%s", dir, file);
	rv = dav_read_all(vol, vol->datafd, rel, &data, &len, err, errlen);
	free(rel);
	free(dir);
	free(file);
	if (rv == -1 || data == NULL)
		return (rv);
	/* ns NUL name NUL value NUL, repeated. */
	for (p = data, end = data + len; p < end;) {
		struct dav_prop	*d;
		char		*f[3];
		int		 i;

		for (i = 0; i < 3; i++) {
			f[i] = p;
			p += strnlen(p, end - p) + 1;
			if (p > end + 1)
				break;
		}
		if (i < 3 || p > end + 1)
			break;
		*props = xreallocarray(*props, *n + 1, sizeof **props);
		d = &(*props)[(*n)++];
		d->ns = xstrdup(f[0]);
		d->name = xstrdup(f[1]);
		d->value = xstrdup(f[2]);
	}
	free(data);
	return (0);
}

/* Store the properties of a resource (none: the file is removed). */
int
dav_props_save(struct dav_volume *vol, const char *path, int is_dir,
    const struct dav_prop *props, size_t n, char *err, size_t errlen)
{
	struct dav_writer	*w;
	char			*dir, *file, *rel;
	size_t			 i;
	int			 rv = -1, fd;

	dav_props_where(path, is_dir, &dir, &file);
	xasprintf(&rel, "%s/%s", dir, file);
	if (n == 0) {
		if ((fd = dav_openat2(vol->datafd, dir, O_PATH | O_DIRECTORY,
		    0)) != -1) {
			unlinkat(fd, file, 0);
			close(fd);
		}
		rv = 0;
		goto out;
	}
	if (dav_reserved_dir(vol, dir) == -1) {
		dav_fail(err, errlen, "properties of", path);
		goto out;
	}
	if ((w = dav_writer_new(vol, err, errlen)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (dav_writer_add(w, props[i].ns, strlen(props[i].ns) + 1, err,
		    errlen) == -1 || dav_writer_add(w, props[i].name,
		    strlen(props[i].name) + 1, err, errlen) == -1 ||
		    dav_writer_add(w, props[i].value, strlen(props[i].value) + 1,
		    err, errlen) == -1) {
			dav_writer_abort(w);
			goto out;
		}
	}
	rv = dav_writer_commit(w, rel, err, errlen);
out:
	free(rel);
	free(dir);
	free(file);
	return (rv);
}

/* Free a property array. */
void
dav_props_free(struct dav_prop *props, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(props[i].ns);
		free(props[i].name);
		free(props[i].value);
	}
	free(props);
}

/* Compare for qsort of names. */
static int
dav_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Member names of a collection. */
char **
dav_list(struct dav_volume *vol, const char *path, char *err, size_t errlen)
{
	struct dirent	*de;
	DIR		*d;
	char		**names;
	size_t		 n = 0;
	int		 fd;

	if ((fd = dav_openat2(vol->datafd, path, O_RDONLY | O_DIRECTORY,
	    0)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		dav_fail(err, errlen, "list", path);
		return (NULL);
	}
	names = xcalloc(1, sizeof *names);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, DAV_RESERVED_NAME) == 0)
			continue;
		names = xreallocarray(names, n + 2, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	names[n] = NULL;
	closedir(d);
	qsort(names, n, sizeof *names, dav_name_cmp);
	return (names);
}

/* Copy one file's plaintext into a new file at to (re-encrypted, new id). */
static int
dav_copy_file(struct dav_volume *svol, const char *from, struct dav_volume *dvol,
    const char *to, char *err, size_t errlen)
{
	unsigned char		 buf[16 * DAV_BLOCK_BYTES];
	struct dav_file		*f;
	struct dav_writer	*w;
	uint64_t		 off = 0;
	ssize_t			 n;

	if ((f = dav_file_open(svol, from, 0, err, errlen)) == NULL)
		return (-1);
	if ((w = dav_writer_new(dvol, err, errlen)) == NULL) {
		dav_file_close(f);
		return (-1);
	}
	while (off < f->size) {
		if ((n = dav_file_read(f, buf, sizeof buf, off, err,
		    errlen)) <= 0 || dav_writer_add(w, buf, n, err, errlen) == -1) {
			if (n == 0)
				snprintf(err, errlen, "%s: shorter than its size",
				    from);
			dav_writer_abort(w);
			dav_file_close(f);
			return (-1);
		}
		off += n;
	}
	dav_file_close(f);
	explicit_bzero(buf, sizeof buf);
	return (dav_writer_commit(w, to, err, errlen));
}

/* Copy the dead properties of one resource. */
static int
dav_copy_props(struct dav_volume *svol, const char *from,
    struct dav_volume *dvol, const char *to, int is_dir, char *err,
    size_t errlen)
{
	struct dav_prop	*props;
	size_t		 n;
	int		 rv;

	if (dav_props_load(svol, from, is_dir, &props, &n, err, errlen) == -1)
		return (-1);
	rv = dav_props_save(dvol, to, is_dir, props, n, err, errlen);
	dav_props_free(props, n);
	return (rv);
}

/* Copy a resource (a collection with its members when recursive). */
int
dav_copy(struct dav_volume *svol, const char *from, struct dav_volume *dvol,
    const char *to, int recursive, char *err, size_t errlen)
{
	struct dav_stat	 sb;
	char		**names, *f2, *t2;
	size_t		 i;
	int		 rv = 0;

	dvol->gen++;	/* the plaintext cache is stale */
	if (dav_stat(svol, from, &sb, err, errlen) == -1)
		return (-1);
	if (!sb.exists) {
		errno = ENOENT;
		return (dav_fail(err, errlen, "copy", from));
	}
	if (!sb.is_dir) {
		if (dav_copy_file(svol, from, dvol, to, err, errlen) == -1)
			return (-1);
		return (dav_copy_props(svol, from, dvol, to, 0, err, errlen));
	}
	if (dav_mkcol(dvol, to, err, errlen) == -1 ||
	    dav_copy_props(svol, from, dvol, to, 1, err, errlen) == -1)
		return (-1);
	if (!recursive)
		return (0);
	if ((names = dav_list(svol, from, err, errlen)) == NULL)
		return (-1);
	for (i = 0; names[i] != NULL && rv == 0; i++) {
		xasprintf(&f2, "%s%s%s", from, *from ? "/" : "", names[i]);
		xasprintf(&t2, "%s%s%s", to, *to ? "/" : "", names[i]);
		rv = dav_copy(svol, f2, dvol, t2, 1, err, errlen);
		free(f2);
		free(t2);
	}
	util_strv_free(names);
	return (rv);
}

/* Load the lock table of a volume. */
int
dav_volume_locks_load(struct dav_volume *vol, char **data, size_t *len,
    char *err, size_t errlen)
{
	return (dav_read_all(vol, vol->dirfd, "locks", data, len, err, errlen));
}

/* Replace the lock table of a volume atomically. */
int
dav_volume_locks_save(struct dav_volume *vol, const void *data, size_t len,
    char *err, size_t errlen)
{
	struct dav_writer	*w;

	if (len == 0) {
		if (unlinkat(vol->dirfd, "locks", 0) == -1 && errno != ENOENT &&
		    errno != EBADF)
			return (dav_fail(err, errlen, "remove", "locks"));
		/* O_PATH fds cannot unlink: open the directory for it. */
		if (errno == EBADF) {
			int	 fd = openat(vol->dirfd, ".", O_RDONLY |
			    O_DIRECTORY | O_CLOEXEC);

			if (fd != -1) {
				unlinkat(fd, "locks", 0);
				close(fd);
			}
		}
		return (0);
	}
	if ((w = dav_writer_new(vol, err, errlen)) == NULL)
		return (-1);
	if (dav_writer_add(w, data, len, err, errlen) == -1) {
		dav_writer_abort(w);
		return (-1);
	}
	return (dav_writer_finish(w, vol->dirfd, "locks", "locks", 0, err,
	    errlen));
}
