/* dav_store.h: the encrypted store behind WebDAV.  A store is a directory of
 * volumes; a volume is a directory with its own key (wrapped by the master key
 * through keys.h as "volume:<name>") whose data tree mirrors the collection
 * tree.  File contents are AES-256-GCM in 4 KiB blocks (see doc/dav.md); names
 * stay plain.  Paths given here are volume-relative, already checked by
 * dav_store_path_ok ("" is the volume root, "a/b" a member). */
#ifndef NETCRAVE_DAV_STORE_H
#define NETCRAVE_DAV_STORE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DAV_BLOCK_BYTES		4096
#define DAV_FILE_ID_BYTES	16
/* Each collection keeps its members' properties in this reserved member. */
#define DAV_RESERVED_NAME	".netcrave"
#define DAV_NAME_MAX		255
#define DAV_PATH_MAX		4000

struct dav_store;
struct dav_volume;
struct dav_file;
struct dav_writer;

struct dav_stat {
	int		 exists;
	int		 is_dir;
	uint64_t	 size;			/* plaintext bytes */
	struct timespec	 mtime;
	struct timespec	 btime;			/* creation, or ctime if unknown */
	char		 etag[64];		/* quoted strong entity tag */
};

/* One dead property; value is self-contained XML text (dav_xml_serialize). */
struct dav_prop {
	char		*ns;
	char		*name;
	char		*value;
};

/* Open (creating it 0700) the store directory and every volume in it. */
struct dav_store	*dav_store_open(const char *dir, char *err, size_t errlen);
void			 dav_store_close(struct dav_store *);
/* Volume names: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. */
int			 dav_volume_name_ok(const char *);
int			 dav_volume_create(struct dav_store *, const char *name,
			    char *err, size_t errlen);
/* fsync the files committed later; report: take a failure kept from
 * earlier calls too (otherwise kept for the next reporting call). */
int			 dav_volume_sync(struct dav_volume *, int report,
			    char *err, size_t errlen);
size_t			 dav_volume_unsynced(const struct dav_volume *);
/* fsync at most max of them, oldest first, with their directories; how
 * many were synced (a failure is kept for the next report). */
size_t			 dav_volume_sync_some(struct dav_volume *, size_t max);
int			 dav_volume_sync_error(struct dav_volume *, char *err,
			    size_t errlen);
/* Files ever committed later, and how many of those are durable: a request
 * that promises durability waits until the second reaches the first as it
 * was when the request came. */
uint64_t		 dav_volume_sync_mark(const struct dav_volume *);
uint64_t		 dav_volume_synced(const struct dav_volume *);
/* Remove a volume and all its data (its wrapped key file stays). */
int			 dav_volume_remove(struct dav_store *, const char *name,
			    char *err, size_t errlen);
struct dav_volume	*dav_volume_find(struct dav_store *, const char *name);
/* Volumes in name order: first with prev NULL. */
struct dav_volume	*dav_volume_next(struct dav_store *, struct dav_volume *prev);
const char		*dav_volume_name(const struct dav_volume *);
/* Times of the store directory: the root collection. */
int			 dav_store_stat(struct dav_store *, struct dav_stat *);

/*
 * Is a percent-decoded volume-relative path acceptable?  Refuses empty, "." and
 * ".." segments, NUL, the reserved name, names over DAV_NAME_MAX and paths over
 * DAV_PATH_MAX; sets why.
 */
int	dav_store_path_ok(const char *path, const char **why);
/* Tests: confine paths as on kernels without openat2 (1), or normally (0). */
void	dav_store_without_openat2(int);

/* Resources.  Every call returns -1 with errno and err set on failure; a
 * symlink met anywhere under the volume is ELOOP, a damaged file EIO. */
int	dav_stat(struct dav_volume *, const char *path, struct dav_stat *,
	    char *err, size_t errlen);
/* The same, handing a regular file back open for reading when fp is set. */
int	dav_stat_open(struct dav_volume *, const char *path, struct dav_stat *,
	    struct dav_file **fp, char *err, size_t errlen);
int	dav_mkcol(struct dav_volume *, const char *path, char *err, size_t errlen);
/* Remove a file or a whole collection, with properties. */
int	dav_remove(struct dav_volume *, const char *path, char *err, size_t errlen);
/* Rename within a volume (destination must not exist). */
int	dav_rename(struct dav_volume *, const char *from, const char *to,
	    char *err, size_t errlen);
/* Copy (destination must not exist); depth 0 copies a collection alone. */
int	dav_copy(struct dav_volume *, const char *from, struct dav_volume *,
	    const char *to, int recursive, char *err, size_t errlen);
/* Member names of a collection (NULL-terminated, sorted; util_strv_free). */
char	**dav_list(struct dav_volume *, const char *path, char *err, size_t errlen);

/* Dead properties of a resource (props NULL and n 0 when none). */
int	dav_props_load(struct dav_volume *, const char *path, int is_dir,
	    struct dav_prop **props, size_t *n, char *err, size_t errlen);
int	dav_props_save(struct dav_volume *, const char *path, int is_dir,
	    const struct dav_prop *props, size_t n, char *err, size_t errlen);
void	dav_props_free(struct dav_prop *, size_t);

/* Random access to an existing file. */
struct dav_file	*dav_file_open(struct dav_volume *, const char *path, int writable,
		    char *err, size_t errlen);
uint64_t	 dav_file_size(const struct dav_file *);
/* Bytes read (short only at the end), or -1 (EIO: a block fails to open). */
ssize_t		 dav_file_read(struct dav_file *, void *, size_t, uint64_t off,
		    char *err, size_t errlen);
int		 dav_file_write(struct dav_file *, const void *, size_t, uint64_t off,
		    char *err, size_t errlen);
int		 dav_file_truncate(struct dav_file *, uint64_t size, char *err,
		    size_t errlen);
int		 dav_file_sync(struct dav_file *, char *err, size_t errlen);
void		 dav_file_close(struct dav_file *);

/*
 * Small files kept in plaintext after a whole read: a copy (free it) of what
 * path holds with its stat, or NULL when not cached or changed since.
 */
unsigned char	*dav_cache_get(struct dav_volume *, const char *path,
		    struct dav_stat *, size_t *len);
/* The whole plaintext of the file f (opened by dav_stat_open), read now. */
void		 dav_cache_put(struct dav_file *f, const char *path,
		    const struct dav_stat *, const void *data, size_t len);

/* A new file written front to back, then put in place atomically. */
struct dav_writer *dav_writer_new(struct dav_volume *, char *err, size_t errlen);
int		 dav_writer_add(struct dav_writer *, const void *, size_t,
		    char *err, size_t errlen);
/* No more bytes: seal the last block and start writeback (if asked; the
 * call is optional). */
int		 dav_writer_end(struct dav_writer *, int writeback, char *err,
		    size_t errlen);
/* Seal the last block, fsync, rename over path (replacing a file). */
int		 dav_writer_commit(struct dav_writer *, const char *path,
		    char *err, size_t errlen);
/*
 * The same without the fsync when path names no file yet: the new file is
 * in place at once and made durable by the next dav_volume_sync (after a
 * crash of the host before that it may be missing, or cut short and read
 * as an error).  A file replaced is always synced first.
 */
int		 dav_writer_commit_later(struct dav_writer *, const char *path,
		    char *err, size_t errlen);
void		 dav_writer_abort(struct dav_writer *);

/* The volume's lock table, sealed like a file; NULL data and 0 when none. */
int	dav_volume_locks_load(struct dav_volume *, char **data, size_t *len,
	    char *err, size_t errlen);
int	dav_volume_locks_save(struct dav_volume *, const void *, size_t,
	    char *err, size_t errlen);

#endif
