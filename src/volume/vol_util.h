/* vol_util.h: the pure pieces of the volume client, kept apart so unit tests
 * reach them without a mount: path joining and URL encoding, the write-back
 * extent, HTTP status to errno, and the Create options. */
#ifndef NETCRAVE_VOL_UTIL_H
#define NETCRAVE_VOL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "dir/name", or name alone when dir is the root "". Caller frees. */
char	*vol_path_join(const char *dir, const char *name);
/* "/<volume>/<path>" with every byte outside [A-Za-z0-9-._~/] as %XX. */
char	*vol_url(const char *volume, const char *path);
/* Last segment of an href, percent-decoded; NULL when malformed (or holding
 * a NUL or a slash once decoded).  A trailing slash is ignored. */
char	*vol_href_name(const char *href);
/* The errno a WebDAV status means for a file-system call. */
int	 vol_status_errno(int status);

/*
 * One contiguous dirty extent of a file, kept until flushed with PATCH.  A
 * write joins it when it overlaps or touches its end and the whole still fits
 * in cap; otherwise the caller must flush first.
 */
struct vol_extent {
	uint64_t	 start;
	size_t		 len;
	size_t		 cap;		/* most bytes held */
	size_t		 alloc;		/* bytes of buf, grown up to cap */
	unsigned char	*buf;
};
/* 0: added; -1: does not fit, flush first (nothing changed). */
int	vol_extent_add(struct vol_extent *, uint64_t off, const void *, size_t);
int	vol_extent_full(const struct vol_extent *);
void	vol_extent_free(struct vol_extent *);

/* One member of a PROPFIND reply; the first is the resource asked about. */
struct vol_entry {
	char		*name;		/* last href segment, decoded */
	int		 bad;		/* href not decodable */
	int		 is_dir;
	uint64_t	 size;
	time_t		 mtime;
};
/* vol_xml.c: parse a multistatus body; -1 when malformed or empty. */
int	vol_multistatus_parse(const char *, size_t, struct vol_entry **,
	    size_t *);
void	vol_entries_free(struct vol_entry *, size_t);

enum vol_type {
	VOL_TYPE_DATA,
	VOL_TYPE_CERTS
};
/* The options of VolumeDriver.Create, checked. */
struct vol_opts {
	enum vol_type	 type;
	char		*names;		/* certs: comma-separated DNS names */
	int		 acme;		/* certs: issuer=acme */
};
struct json;
/* Parse Opts (NULL when absent); -1 with a sentence in err. */
int	vol_opts_parse(const struct json *opts, struct vol_opts *, char *err,
	    size_t errlen);
void	vol_opts_clear(struct vol_opts *);

#endif
