/* store_file.c: the embedded store backend: an encrypted append-only journal
 * on top of an encrypted snapshot, with torn-tail recovery (see doc/store.md). */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "metrics.h"
#include "store_private.h"
#include "util.h"
#include "xmalloc.h"

#define FILE_JOURNAL		"journal"
#define FILE_SNAPSHOT		"snapshot"
#define FILE_LOCK		"lock"

#define FILE_MAGIC_JOURNAL	"NCRVJRNL"
#define FILE_MAGIC_SNAPSHOT	"NCRVSNAP"
#define FILE_MAGIC_BYTES	8
#define FILE_VERSION		1

#define FILE_ID_BYTES		16
#define FILE_NONCE_BYTES	12
#define FILE_TAG_BYTES		16
#if STORE_AT_REST_KEY_BYTES != CRYPTO_KEY_BYTES || \
    FILE_TAG_BYTES != CRYPTO_TAG_BYTES
#error "the store format needs AES-256 keys and full 16-byte GCM tags"
#endif

/*
 * File header: magic, version, reserved, generation, file id, base id (the
 * snapshot id a journal applies to), then a GCM nonce and the GMAC tag over
 * everything before it.  The tag lets a wrong key fail at the first bytes.
 */
#define FILE_HEADER_AUTH_BYTES	(FILE_MAGIC_BYTES + 4 + 4 + 8 + 2 * FILE_ID_BYTES)
#define FILE_HEADER_BYTES \
	(FILE_HEADER_AUTH_BYTES + FILE_NONCE_BYTES + FILE_TAG_BYTES)

/*
 * Record: length of the sealed payload, CRC-32 of that length, nonce, sealed
 * payload, tag, CRC-32 of all the record before it.  The length has its own
 * CRC so a damaged length is never mistaken for a record cut short by a crash.
 */
#define FILE_RECORD_HEAD_BYTES	8
#define FILE_RECORD_OVERHEAD \
	(FILE_RECORD_HEAD_BYTES + FILE_NONCE_BYTES + FILE_TAG_BYTES + 4)
#define FILE_RECORD_AAD_BYTES	(FILE_ID_BYTES + 8 + 4)

/* Payload: op, kind length, key length, value length, kind, key, value. */
#define FILE_OP_PUT		1
#define FILE_OP_DEL		2
#define FILE_OP_END		3	/* last record of a snapshot: the count */
#define FILE_PAYLOAD_HEAD	(1 + 2 + 2 + 4)
#define FILE_PAYLOAD_MAX \
	(FILE_PAYLOAD_HEAD + STORE_KIND_MAX + STORE_KEY_MAX + STORE_VALUE_MAX)

/* One live record of the in-memory map. */
struct file_entry {
	char			*kind;
	char			*key;
	unsigned char		*value;
	size_t			 len;
	uint32_t		 hash;
	struct file_entry	*next;
};

/* A decoded payload; pointers into the plaintext buffer. */
struct file_payload {
	int			 op;
	const char		*kind;
	size_t			 kind_len;
	const char		*key;
	size_t			 key_len;
	const unsigned char	*value;
	size_t			 len;
};

struct file_state {
	char			*journal_path;
	char			*journal_tmp;
	char			*snapshot_path;
	char			*snapshot_tmp;
	int			 lock_fd;
	int			 journal_fd;
	off_t			 journal_size;
	uint64_t		 journal_seq;	/* records in the journal */
	unsigned char		 journal_id[FILE_ID_BYTES];
	uint64_t		 generation;	/* of snapshot and journal */
	unsigned char		 snapshot_id[FILE_ID_BYTES];
	int			 have_snapshot;
	char			*broken;	/* set: appends are refused */

	struct file_entry	**buckets;
	size_t			 nbuckets;
	size_t			 nentries;
};

static uint32_t	file_crc_table[256];
static int	file_crc_ready;

static int	file_compact(struct store *);
static void	file_metrics(const struct file_state *);

/* CRC-32 (IEEE 802.3, reflected), table built on first use. */
static uint32_t
file_crc32(const unsigned char *p, size_t len)
{
	uint32_t	c;
	size_t		i;
	int		k;

	if (!file_crc_ready) {
		for (i = 0; i < 256; i++) {
			c = (uint32_t)i;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
			file_crc_table[i] = c;
		}
		file_crc_ready = 1;
	}
	c = 0xffffffffU;
	for (i = 0; i < len; i++)
		c = file_crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return (c ^ 0xffffffffU);
}

/* Hash of (kind, key) for the map. */
static uint32_t
file_hash(const char *kind, const char *key)
{
	uint32_t		 h = 2166136261U;
	const unsigned char	*p;

	for (p = (const unsigned char *)kind; *p != '\0'; p++)
		h = (h ^ *p) * 16777619U;
	h = (h ^ 0xff) * 16777619U;	/* never part of a kind or key */
	for (p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 16777619U;
	return (h);
}

/* Find the live record for (kind, key), and the link that points to it. */
static struct file_entry *
file_map_find(struct file_state *fs, const char *kind, const char *key,
    struct file_entry ***linkp)
{
	struct file_entry	**link, *e;
	uint32_t		  h;

	if (fs->nbuckets == 0)
		return (NULL);
	h = file_hash(kind, key);
	for (link = &fs->buckets[h % fs->nbuckets]; (e = *link) != NULL;
	    link = &e->next) {
		if (e->hash == h && strcmp(e->kind, kind) == 0 &&
		    strcmp(e->key, key) == 0) {
			if (linkp != NULL)
				*linkp = link;
			return (e);
		}
	}
	return (NULL);
}

/* Double the bucket array when the map gets crowded. */
static void
file_map_grow(struct file_state *fs)
{
	struct file_entry	**buckets, *e, *next;
	size_t			  n, i;

	n = fs->nbuckets == 0 ? 64 : fs->nbuckets * 2;
	buckets = xcalloc(n, sizeof *buckets);
	for (i = 0; i < fs->nbuckets; i++) {
		for (e = fs->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = buckets[e->hash % n];
			buckets[e->hash % n] = e;
		}
	}
	free(fs->buckets);
	fs->buckets = buckets;
	fs->nbuckets = n;
}

/* Set (kind, key) to a copy of value. */
static void
file_map_set(struct file_state *fs, const char *kind, const char *key,
    const void *value, size_t len)
{
	struct file_entry	*e;

	if ((e = file_map_find(fs, kind, key, NULL)) == NULL) {
		if (fs->nentries >= fs->nbuckets)
			file_map_grow(fs);
		e = xcalloc(1, sizeof *e);
		e->kind = xstrdup(kind);
		e->key = xstrdup(key);
		e->hash = file_hash(kind, key);
		e->next = fs->buckets[e->hash % fs->nbuckets];
		fs->buckets[e->hash % fs->nbuckets] = e;
		fs->nentries++;
	} else
		free(e->value);
	e->len = len;
	e->value = NULL;
	if (len > 0) {
		e->value = xmalloc(len);
		memcpy(e->value, value, len);
	}
}

/* Free one map entry. */
static void
file_entry_free(struct file_entry *e)
{
	free(e->kind);
	free(e->key);
	free(e->value);
	free(e);
}

/* Remove (kind, key) if present. */
static void
file_map_remove(struct file_state *fs, const char *kind, const char *key)
{
	struct file_entry	**link, *e;

	if ((e = file_map_find(fs, kind, key, &link)) == NULL)
		return;
	*link = e->next;
	file_entry_free(e);
	fs->nentries--;
}

/* Order entries by kind, then key. */
static int
file_entry_cmp(const void *a, const void *b)
{
	const struct file_entry	*ea = *(const struct file_entry * const *)a;
	const struct file_entry	*eb = *(const struct file_entry * const *)b;
	int			 c;

	if ((c = strcmp(ea->kind, eb->kind)) != 0)
		return (c);
	return (strcmp(ea->key, eb->key));
}

/* All live entries in a sorted array the caller frees (NULL when empty). */
static struct file_entry **
file_map_sorted(struct file_state *fs)
{
	struct file_entry	**all, *e;
	size_t			  i, n = 0;

	if (fs->nentries == 0)
		return (NULL);
	all = xreallocarray(NULL, fs->nentries, sizeof *all);
	for (i = 0; i < fs->nbuckets; i++) {
		for (e = fs->buckets[i]; e != NULL; e = e->next)
			all[n++] = e;
	}
	qsort(all, n, sizeof *all, file_entry_cmp);
	return (all);
}

/* Encode a payload; value is the count for FILE_OP_END. */
static unsigned char *
file_payload_encode(int op, const char *kind, const char *key,
    const void *value, size_t len, size_t *plen)
{
	unsigned char	*p;
	size_t		 klen, kylen;

	klen = kind != NULL ? strlen(kind) : 0;
	kylen = key != NULL ? strlen(key) : 0;
	*plen = FILE_PAYLOAD_HEAD + klen + kylen + len;
	p = xmalloc(*plen);
	p[0] = op;
	util_put_be16(p + 1, (uint16_t)klen);
	util_put_be16(p + 3, (uint16_t)kylen);
	util_put_be32(p + 5, (uint32_t)len);
	if (klen > 0)
		memcpy(p + FILE_PAYLOAD_HEAD, kind, klen);
	if (kylen > 0)
		memcpy(p + FILE_PAYLOAD_HEAD + klen, key, kylen);
	if (len > 0)
		memcpy(p + FILE_PAYLOAD_HEAD + klen + kylen, value, len);
	return (p);
}

/* Decode an authenticated payload; -1 if its lengths are inconsistent. */
static int
file_payload_decode(const unsigned char *p, size_t plen,
    struct file_payload *pl)
{
	if (plen < FILE_PAYLOAD_HEAD)
		return (-1);
	pl->op = p[0];
	pl->kind_len = util_get_be16(p + 1);
	pl->key_len = util_get_be16(p + 3);
	pl->len = util_get_be32(p + 5);
	if (FILE_PAYLOAD_HEAD + pl->kind_len + pl->key_len + pl->len != plen)
		return (-1);
	pl->kind = (const char *)p + FILE_PAYLOAD_HEAD;
	pl->key = pl->kind + pl->kind_len;
	pl->value = p + FILE_PAYLOAD_HEAD + pl->kind_len + pl->key_len;
	switch (pl->op) {
	case FILE_OP_PUT:
	case FILE_OP_DEL:
		if (pl->kind_len == 0 || pl->kind_len > STORE_KIND_MAX ||
		    pl->key_len == 0 || pl->key_len > STORE_KEY_MAX ||
		    memchr(pl->kind, '\0', pl->kind_len) != NULL ||
		    memchr(pl->key, '\0', pl->key_len) != NULL)
			return (-1);
		if (pl->op == FILE_OP_DEL && pl->len != 0)
			return (-1);
		return (0);
	case FILE_OP_END:
		return (pl->kind_len == 0 && pl->key_len == 0 && pl->len == 8 ?
		    0 : -1);
	}
	return (-1);
}

/* Seal a payload into a record for position seq of the file with this id. */
static unsigned char *
file_record_seal(struct store *s, const unsigned char *id, uint64_t seq,
    const unsigned char *payload, size_t plen, size_t *rlen)
{
	unsigned char	*r, aad[FILE_RECORD_AAD_BYTES], *nonce, *ct, *tag;

	*rlen = FILE_RECORD_OVERHEAD + plen;
	r = xmalloc(*rlen);
	util_put_be32(r, (uint32_t)plen);
	util_put_be32(r + 4, file_crc32(r, 4));
	nonce = r + FILE_RECORD_HEAD_BYTES;
	ct = nonce + FILE_NONCE_BYTES;
	tag = ct + plen;
	memcpy(aad, id, FILE_ID_BYTES);
	util_put_be64(aad + FILE_ID_BYTES, seq);
	util_put_be32(aad + FILE_ID_BYTES + 8, (uint32_t)plen);
	crypto_random(nonce, FILE_NONCE_BYTES);
	if (crypto_aead_seal(s->key, nonce, FILE_NONCE_BYTES, aad, sizeof aad,
	    payload, plen, ct, tag) == -1)
		fatalx("%s: AES-256-GCM encryption failed", __func__);
	util_put_be32(tag + FILE_TAG_BYTES, file_crc32(r, *rlen - 4));
	return (r);
}

/* Build a sealed file header. */
static void
file_header_seal(struct store *s, unsigned char *h, const char *magic,
    uint64_t generation, const unsigned char *id, const unsigned char *base)
{
	unsigned char	*nonce, *tag;

	memset(h, 0, FILE_HEADER_BYTES);
	memcpy(h, magic, FILE_MAGIC_BYTES);
	util_put_be32(h + FILE_MAGIC_BYTES, FILE_VERSION);
	util_put_be64(h + FILE_MAGIC_BYTES + 8, generation);
	memcpy(h + FILE_MAGIC_BYTES + 16, id, FILE_ID_BYTES);
	memcpy(h + FILE_MAGIC_BYTES + 16 + FILE_ID_BYTES, base, FILE_ID_BYTES);
	nonce = h + FILE_HEADER_AUTH_BYTES;
	tag = nonce + FILE_NONCE_BYTES;
	crypto_random(nonce, FILE_NONCE_BYTES);
	if (crypto_aead_seal(s->key, nonce, FILE_NONCE_BYTES, h,
	    FILE_HEADER_AUTH_BYTES, NULL, 0, NULL, tag) == -1)
		fatalx("%s: AES-256-GCM failed", __func__);
}

/* Check a file header; fill in generation, id and base id. */
static int
file_header_open(struct store *s, const char *path, const unsigned char *buf,
    size_t len, const char *magic, uint64_t *generation, unsigned char *id,
    unsigned char *base, char *err, size_t errlen)
{
	const unsigned char	*nonce;
	uint32_t		 version;

	if (len < FILE_HEADER_BYTES) {
		snprintf(err, errlen, "%s: too short for a header (%zu bytes)",
		    path, len);
		return (-1);
	}
	if (memcmp(buf, magic, FILE_MAGIC_BYTES) != 0) {
		snprintf(err, errlen, "%s: bad magic, not a netcraved %s", path,
		    strcmp(magic, FILE_MAGIC_JOURNAL) == 0 ? "journal" :
		    "snapshot");
		return (-1);
	}
	version = util_get_be32(buf + FILE_MAGIC_BYTES);
	if (version != FILE_VERSION) {
		snprintf(err, errlen, "%s: format version %u is not supported",
		    path, version);
		return (-1);
	}
	nonce = buf + FILE_HEADER_AUTH_BYTES;
	if (crypto_aead_open(s->key, nonce, FILE_NONCE_BYTES, buf,
	    FILE_HEADER_AUTH_BYTES, NULL, 0, NULL,
	    nonce + FILE_NONCE_BYTES) == -1) {
		snprintf(err, errlen, "%s: header fails authentication "
		    "(wrong key, or tampered with)", path);
		return (-1);
	}
	*generation = util_get_be64(buf + FILE_MAGIC_BYTES + 8);
	memcpy(id, buf + FILE_MAGIC_BYTES + 16, FILE_ID_BYTES);
	memcpy(base, buf + FILE_MAGIC_BYTES + 16 + FILE_ID_BYTES, FILE_ID_BYTES);
	return (0);
}

enum file_next {
	FILE_NEXT_RECORD,	/* one record decrypted */
	FILE_NEXT_EOF,		/* clean end */
	FILE_NEXT_TORN,		/* a crash cut the last record short */
	FILE_NEXT_ERROR
};

/* Whether every byte is zero (a tail the file system extended but never wrote). */
static int
file_all_zero(const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0)
			return (0);
	}
	return (1);
}

/*
 * Read the record at *off.  torn_ok (journal only): an incomplete or garbled
 * record with nothing after it is a crash during its append, reported as TORN.
 * Anything else that does not check out is an error naming file, record and
 * offset.  On RECORD, *plain is the payload (caller frees) and *off moves on.
 */
static enum file_next
file_record_next(struct store *s, const char *path, const unsigned char *buf,
    size_t len, size_t *off, uint64_t seq, const unsigned char *id,
    int torn_ok, unsigned char **plain, size_t *plen, char *err, size_t errlen)
{
	const unsigned char	*r = buf + *off, *nonce, *ct;
	unsigned char		 aad[FILE_RECORD_AAD_BYTES];
	size_t			 rest = len - *off, clen, total;

	if (rest == 0)
		return (FILE_NEXT_EOF);
	if (rest < FILE_RECORD_HEAD_BYTES) {
		if (torn_ok)
			return (FILE_NEXT_TORN);
		snprintf(err, errlen, "%s: record %llu at offset %zu is "
		    "truncated", path, (unsigned long long)seq, *off);
		return (FILE_NEXT_ERROR);
	}
	if (file_crc32(r, 4) != util_get_be32(r + 4)) {
		if (torn_ok && file_all_zero(r, rest))
			return (FILE_NEXT_TORN);
		snprintf(err, errlen, "%s: record %llu at offset %zu has a "
		    "damaged length (checksum mismatch)", path,
		    (unsigned long long)seq, *off);
		return (FILE_NEXT_ERROR);
	}
	clen = util_get_be32(r);
	if (clen < FILE_PAYLOAD_HEAD || clen > FILE_PAYLOAD_MAX) {
		snprintf(err, errlen, "%s: record %llu at offset %zu has an "
		    "impossible length %zu", path, (unsigned long long)seq,
		    *off, clen);
		return (FILE_NEXT_ERROR);
	}
	total = FILE_RECORD_OVERHEAD + clen;
	if (total > rest) {
		if (torn_ok)
			return (FILE_NEXT_TORN);
		snprintf(err, errlen, "%s: record %llu at offset %zu is "
		    "truncated", path, (unsigned long long)seq, *off);
		return (FILE_NEXT_ERROR);
	}
	if (file_crc32(r, total - 4) != util_get_be32(r + total - 4)) {
		if (torn_ok && total == rest)
			return (FILE_NEXT_TORN);
		snprintf(err, errlen, "%s: record %llu at offset %zu is damaged "
		    "(checksum mismatch)", path, (unsigned long long)seq, *off);
		return (FILE_NEXT_ERROR);
	}
	nonce = r + FILE_RECORD_HEAD_BYTES;
	ct = nonce + FILE_NONCE_BYTES;
	memcpy(aad, id, FILE_ID_BYTES);
	util_put_be64(aad + FILE_ID_BYTES, seq);
	util_put_be32(aad + FILE_ID_BYTES + 8, (uint32_t)clen);
	*plain = xmalloc(clen);
	if (crypto_aead_open(s->key, nonce, FILE_NONCE_BYTES, aad, sizeof aad, ct,
	    clen, *plain, ct + clen) == -1) {
		/* A valid CRC rules out a torn write: this is not our data. */
		freezero_secret(*plain, clen);
		*plain = NULL;
		snprintf(err, errlen, "%s: record %llu at offset %zu fails "
		    "authentication (wrong key, tampered with, moved or "
		    "replayed)", path, (unsigned long long)seq, *off);
		return (FILE_NEXT_ERROR);
	}
	*plen = clen;
	*off += total;
	return (FILE_NEXT_RECORD);
}

/* Apply a decoded put or delete to the map. */
static void
file_apply(struct file_state *fs, const struct file_payload *pl)
{
	char	*kind, *key;

	kind = xstrndup(pl->kind, pl->kind_len);
	key = xstrndup(pl->key, pl->key_len);
	if (pl->op == FILE_OP_PUT)
		file_map_set(fs, kind, key, pl->value, pl->len);
	else
		file_map_remove(fs, kind, key);
	free(kind);
	free(key);
}

/* Read a whole open file into memory. */
static int
file_read_fd(int fd, const char *path, unsigned char **buf, size_t *len,
    char *err, size_t errlen)
{
	struct stat	st;
	size_t		done;
	ssize_t		n;

	*buf = NULL;
	*len = 0;
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "stat %s: %s", path, strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return (-1);
	}
	if (st.st_size == 0)
		return (0);
	*buf = xmalloc((size_t)st.st_size);
	for (done = 0; done < (size_t)st.st_size; done += n) {
		n = pread(fd, *buf + done, (size_t)st.st_size - done,
		    (off_t)done);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			snprintf(err, errlen, "read %s: %s", path,
			    n == 0 ? "file shrank" : strerror(errno));
			free(*buf);
			*buf = NULL;
			return (-1);
		}
	}
	*len = done;
	return (0);
}

/* Create a temporary file (0600) holding buf, fsynced; returns its fd. */
static int
file_create_tmp(const char *tmp, const unsigned char *buf, size_t len)
{
	int	fd, save;

	(void)unlink(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1)
		return (-1);
	if (util_write_at(fd, buf, len, 0) == -1 || fsync(fd) == -1) {
		save = errno;
		close(fd);
		(void)unlink(tmp);
		errno = save;
		return (-1);
	}
	return (fd);
}

/*
 * Start an empty journal for the current generation: header into a temporary
 * file, fsync, rename over the journal, fsync the directory.
 */
static int
file_journal_create(struct store *s, char *err, size_t errlen)
{
	struct file_state	*fs = s->data;
	unsigned char		 h[FILE_HEADER_BYTES], id[FILE_ID_BYTES];
	int			 fd;

	crypto_random(id, sizeof id);
	file_header_seal(s, h, FILE_MAGIC_JOURNAL, fs->generation, id,
	    fs->snapshot_id);
	if ((fd = file_create_tmp(fs->journal_tmp, h, sizeof h)) == -1) {
		snprintf(err, errlen, "create %s: %s", fs->journal_tmp,
		    strerror(errno));
		return (-1);
	}
	if (rename(fs->journal_tmp, fs->journal_path) == -1 ||
	    util_fsync_dir(s->dir, NULL, 0) == -1) {
		snprintf(err, errlen, "install %s: %s", fs->journal_path,
		    strerror(errno));
		close(fd);
		(void)unlink(fs->journal_tmp);
		return (-1);
	}
	if (fs->journal_fd != -1)
		close(fs->journal_fd);
	fs->journal_fd = fd;
	fs->journal_size = sizeof h;
	fs->journal_seq = 0;
	memcpy(fs->journal_id, id, sizeof id);
	return (0);
}

/* Load the snapshot, if any: it must be whole (it was renamed into place). */
static int
file_load_snapshot(struct store *s, char *err, size_t errlen)
{
	struct file_state	*fs = s->data;
	struct file_payload	 pl;
	unsigned char		*buf = NULL, *plain = NULL, base[FILE_ID_BYTES];
	const char		*path = fs->snapshot_path;
	size_t			 len, off, plen;
	uint64_t		 seq, count = 0;
	int			 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			fs->generation = 0;
			memset(fs->snapshot_id, 0, sizeof fs->snapshot_id);
			return (0);
		}
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return (-1);
	}
	if (file_read_fd(fd, path, &buf, &len, err, errlen) == -1)
		goto done;
	if (file_header_open(s, path, buf, len, FILE_MAGIC_SNAPSHOT,
	    &fs->generation, fs->snapshot_id, base, err, errlen) == -1)
		goto done;
	off = FILE_HEADER_BYTES;
	for (seq = 0;; seq++) {
		switch (file_record_next(s, path, buf, len, &off, seq,
		    fs->snapshot_id, 0, &plain, &plen, err, errlen)) {
		case FILE_NEXT_RECORD:
			break;
		case FILE_NEXT_EOF:
			snprintf(err, errlen, "%s: truncated (no end record "
			    "after %llu records)", path,
			    (unsigned long long)count);
			goto done;
		default:
			goto done;
		}
		if (file_payload_decode(plain, plen, &pl) == -1 ||
		    pl.op == FILE_OP_DEL) {
			snprintf(err, errlen, "%s: record %llu is malformed",
			    path, (unsigned long long)seq);
			goto done;
		}
		if (pl.op == FILE_OP_END) {
			if (util_get_be64(pl.value) != count || off != len) {
				snprintf(err, errlen, "%s: end record does not "
				    "match the %llu records before it", path,
				    (unsigned long long)count);
				goto done;
			}
			break;
		}
		file_apply(fs, &pl);
		count++;
		free(plain);
		plain = NULL;
	}
	fs->have_snapshot = 1;
	rv = 0;
done:
	free(plain);
	free(buf);
	close(fd);
	return (rv);
}

/*
 * Load the journal on top of the snapshot.  A journal older than the snapshot
 * is what a crash between the two renames of a compaction leaves: its records
 * are all in the snapshot, so a fresh journal replaces it.
 */
static int
file_load_journal(struct store *s, char *err, size_t errlen)
{
	struct file_state	*fs = s->data;
	struct file_payload	 pl;
	unsigned char		*buf = NULL, *plain = NULL;
	unsigned char		 id[FILE_ID_BYTES], base[FILE_ID_BYTES];
	const char		*path = fs->journal_path;
	size_t			 len, off, plen;
	uint64_t		 seq, generation;
	int			 fd, torn = 0, rv = -1;

	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "open %s: %s", path,
			    strerror(errno));
			return (-1);
		}
		if (fs->have_snapshot) {
			snprintf(err, errlen, "%s is missing while snapshot %s "
			    "exists", path, fs->snapshot_path);
			return (-1);
		}
		return (file_journal_create(s, err, errlen));
	}
	if (file_read_fd(fd, path, &buf, &len, err, errlen) == -1)
		goto done;
	if (file_header_open(s, path, buf, len, FILE_MAGIC_JOURNAL, &generation,
	    id, base, err, errlen) == -1)
		goto done;
	if (generation < fs->generation) {
		log_info("%s: %s (generation %llu) is already in the snapshot "
		    "(generation %llu); starting a new journal", __func__, path,
		    (unsigned long long)generation,
		    (unsigned long long)fs->generation);
		rv = file_journal_create(s, err, errlen);
		goto done;
	}
	if (generation > fs->generation ||
	    memcmp(base, fs->snapshot_id, FILE_ID_BYTES) != 0) {
		snprintf(err, errlen, "%s (generation %llu) does not follow the "
		    "snapshot %s (generation %llu): snapshot missing or "
		    "replaced", path, (unsigned long long)generation,
		    fs->snapshot_path, (unsigned long long)fs->generation);
		goto done;
	}

	off = FILE_HEADER_BYTES;
	for (seq = 0;; seq++) {
		switch (file_record_next(s, path, buf, len, &off, seq, id, 1,
		    &plain, &plen, err, errlen)) {
		case FILE_NEXT_RECORD:
			break;
		case FILE_NEXT_TORN:
			torn = 1;
			/* FALLTHROUGH */
		case FILE_NEXT_EOF:
			goto replayed;
		default:
			goto done;
		}
		if (file_payload_decode(plain, plen, &pl) == -1 ||
		    pl.op == FILE_OP_END) {
			snprintf(err, errlen, "%s: record %llu is malformed",
			    path, (unsigned long long)seq);
			goto done;
		}
		file_apply(fs, &pl);
		free(plain);
		plain = NULL;
	}
replayed:
	if (torn) {
		log_warnx("%s: %s: dropping a torn record at offset %zu "
		    "(%zu bytes), the trace of a crash during an append",
		    __func__, path, off, len - off);
		if (ftruncate(fd, (off_t)off) == -1 || fsync(fd) == -1) {
			snprintf(err, errlen, "truncate %s: %s", path,
			    strerror(errno));
			goto done;
		}
	}
	fs->journal_fd = fd;
	fd = -1;
	fs->journal_size = (off_t)off;
	fs->journal_seq = seq;
	memcpy(fs->journal_id, id, sizeof id);
	rv = 0;
done:
	free(plain);
	free(buf);
	if (fd != -1)
		close(fd);
	return (rv);
}

/* Free the backend state. */
static void
file_free(struct file_state *fs)
{
	struct file_entry	*e, *next;
	size_t			 i;

	if (fs == NULL)
		return;
	for (i = 0; i < fs->nbuckets; i++) {
		for (e = fs->buckets[i]; e != NULL; e = next) {
			next = e->next;
			file_entry_free(e);
		}
	}
	free(fs->buckets);
	if (fs->journal_fd != -1)
		close(fs->journal_fd);
	if (fs->lock_fd != -1)
		close(fs->lock_fd);	/* releases the flock */
	free(fs->journal_path);
	free(fs->journal_tmp);
	free(fs->snapshot_path);
	free(fs->snapshot_tmp);
	free(fs->broken);
	free(fs);
}

/* Open: lock the directory, load snapshot and journal, replay live records. */
static int
file_open(struct store *s, char *err, size_t errlen)
{
	struct file_state	 *fs;
	struct file_entry	**all;
	char			 *lock;
	size_t			  i;

	if (s->dir == NULL || *s->dir == '\0') {
		snprintf(err, errlen, "file store: no state directory");
		return (-1);
	}
	if (util_mkdir_p(s->dir, 0700, err, errlen) == -1)
		return (-1);

	fs = xcalloc(1, sizeof *fs);
	fs->journal_fd = -1;
	fs->lock_fd = -1;
	s->data = fs;
	xasprintf(&fs->journal_path, "%s/%s", s->dir, FILE_JOURNAL);
	xasprintf(&fs->journal_tmp, "%s/%s.tmp", s->dir, FILE_JOURNAL);
	xasprintf(&fs->snapshot_path, "%s/%s", s->dir, FILE_SNAPSHOT);
	xasprintf(&fs->snapshot_tmp, "%s/%s.tmp", s->dir, FILE_SNAPSHOT);

	/* Two writers would interleave records: one daemon per directory. */
	xasprintf(&lock, "%s/%s", s->dir, FILE_LOCK);
	fs->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fs->lock_fd == -1 || flock(fs->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "lock %s: %s", lock, errno == EWOULDBLOCK ?
		    "in use by another process" : strerror(errno));
		free(lock);
		goto fail;
	}
	free(lock);

	/* Temporary files were never renamed into place: nothing uses them. */
	(void)unlink(fs->journal_tmp);
	(void)unlink(fs->snapshot_tmp);

	if (file_load_snapshot(s, err, errlen) == -1 ||
	    file_load_journal(s, err, errlen) == -1)
		goto fail;

	all = file_map_sorted(fs);
	for (i = 0; i < fs->nentries; i++)
		store_load_record(s, all[i]->kind, all[i]->key, all[i]->value,
		    all[i]->len);
	free(all);
	file_metrics(fs);
	log_debug("%s: %s: %zu live records, generation %llu, journal %lld "
	    "bytes", __func__, s->dir, fs->nentries,
	    (unsigned long long)fs->generation, (long long)fs->journal_size);
	return (0);

fail:
	file_free(fs);
	s->data = NULL;
	return (-1);
}

/* The store's size, for the metrics: live records and journal bytes. */
static void
file_metrics(const struct file_state *fs)
{
	metrics_set(metrics_gauge("netcrave_store_records",
	    "Live records in the state store.", "backend=\"file\""),
	    (double)fs->nentries);
	metrics_set(metrics_gauge("netcrave_store_journal_bytes",
	    "Bytes in the state store's journal (compacted past store.compact_bytes).",
	    "backend=\"file\""), (double)fs->journal_size);
}

/* Refuse further appends: the journal's state on disk is no longer known. */
static void
file_break(struct file_state *fs, const char *why)
{
	log_warnx("file store: %s; refusing changes until restart", why);
	if (fs->broken == NULL)
		fs->broken = xstrdup(why);
}

/*
 * Append one record and fsync.  A failed write is cut back off so the next
 * append starts on a record boundary; a failed fsync leaves the file in an
 * unknown state (the kernel may have dropped the pages), so the store breaks.
 */
static int
file_append(struct store *s, const unsigned char *payload, size_t plen,
    char *err, size_t errlen)
{
	struct file_state	*fs = s->data;
	unsigned char		*r;
	size_t			 rlen;
	int			 rv = -1;

	r = file_record_seal(s, fs->journal_id, fs->journal_seq, payload, plen,
	    &rlen);
	if (util_write_at(fs->journal_fd, r, rlen, fs->journal_size) == -1) {
		snprintf(err, errlen, "write %s: %s", fs->journal_path,
		    strerror(errno));
		if (ftruncate(fs->journal_fd, fs->journal_size) == -1)
			file_break(fs, err);
		goto done;
	}
	if (fsync(fs->journal_fd) == -1) {
		snprintf(err, errlen, "fsync %s: %s", fs->journal_path,
		    strerror(errno));
		file_break(fs, err);
		goto done;
	}
	fs->journal_size += (off_t)rlen;
	fs->journal_seq++;
	file_metrics(fs);
	rv = 0;
done:
	free(r);
	return (rv);
}

/* Compact once the journal has grown past the configured size. */
static void
file_maybe_compact(struct store *s)
{
	struct file_state	*fs = s->data;

	if (s->compact_bytes != 0 && fs->broken == NULL &&
	    (size_t)fs->journal_size > s->compact_bytes)
		(void)file_compact(s);
}

/* Record a value durably, then report through the loop. */
static int
file_put(struct store *s, const char *kind, const char *key,
    const void *value, size_t len, store_done_cb cb, void *arg)
{
	struct file_state	*fs = s->data;
	unsigned char		*payload;
	size_t			 plen;
	char			 err[512];

	if (fs->broken != NULL) {
		store_complete(s, cb, arg, fs->broken);
		return (0);
	}
	payload = file_payload_encode(FILE_OP_PUT, kind, key, value, len, &plen);
	if (file_append(s, payload, plen, err, sizeof err) == -1) {
		free(payload);
		store_complete(s, cb, arg, err);
		return (0);
	}
	free(payload);
	file_map_set(fs, kind, key, value, len);
	store_complete(s, cb, arg, NULL);
	file_maybe_compact(s);
	return (0);
}

/* Delete a record durably; deleting an absent record writes nothing. */
static int
file_del(struct store *s, const char *kind, const char *key,
    store_done_cb cb, void *arg)
{
	struct file_state	*fs = s->data;
	unsigned char		*payload;
	size_t			 plen;
	char			 err[512];

	if (fs->broken != NULL) {
		store_complete(s, cb, arg, fs->broken);
		return (0);
	}
	if (file_map_find(fs, kind, key, NULL) == NULL) {
		store_complete(s, cb, arg, NULL);
		return (0);
	}
	payload = file_payload_encode(FILE_OP_DEL, kind, key, NULL, 0, &plen);
	if (file_append(s, payload, plen, err, sizeof err) == -1) {
		free(payload);
		store_complete(s, cb, arg, err);
		return (0);
	}
	free(payload);
	file_map_remove(fs, kind, key);
	store_complete(s, cb, arg, NULL);
	file_maybe_compact(s);
	return (0);
}

/* Put unless the key is live: the map is the whole truth for one process. */
static int
file_insert(struct store *s, const char *kind, const char *key,
    const void *value, size_t len, store_done_cb cb, void *arg)
{
	struct file_state	*fs = s->data;

	if (fs->broken == NULL && file_map_find(fs, kind, key, NULL) != NULL) {
		store_complete(s, cb, arg, STORE_ERR_EXISTS);
		return (0);
	}
	return (file_put(s, kind, key, value, len, cb, arg));
}

/*
 * Delete unless a live record of ref_kind under ref_prefix remains.  One
 * process owns the map (every record is its own: mine changes nothing), so
 * looking and deleting cannot be come between.
 */
static int
file_del_unless(struct store *s, const char *kind, const char *key,
    const char *ref_kind, const char *ref_prefix, int mine, store_done_cb cb,
    void *arg)
{
	struct file_state	*fs = s->data;
	struct file_entry	*e;
	size_t			 i, plen = strlen(ref_prefix);

	if (fs->broken == NULL) {
		if (file_map_find(fs, kind, key, NULL) == NULL) {
			store_complete(s, cb, arg, STORE_ERR_ABSENT);
			return (0);
		}
		for (i = 0; i < fs->nbuckets; i++) {
			for (e = fs->buckets[i]; e != NULL; e = e->next) {
				if (strcmp(e->kind, ref_kind) == 0 &&
				    strncmp(e->key, ref_prefix, plen) == 0) {
					store_complete(s, cb, arg,
					    STORE_ERR_EXISTS);
					return (0);
				}
			}
		}
	}
	return (file_del(s, kind, key, cb, arg));
}

/* Write the live set as a snapshot of the given generation into fd. */
static int
file_write_snapshot(struct store *s, int fd, uint64_t generation,
    const unsigned char *id)
{
	struct file_state	 *fs = s->data;
	struct file_entry	**all;
	unsigned char		  h[FILE_HEADER_BYTES], zero[FILE_ID_BYTES];
	unsigned char		 *payload, *r, count[8];
	size_t			  i, plen, rlen;
	off_t			  off;
	int			  rv = 0;

	memset(zero, 0, sizeof zero);
	file_header_seal(s, h, FILE_MAGIC_SNAPSHOT, generation, id, zero);
	if (util_write_at(fd, h, sizeof h, 0) == -1)
		return (-1);
	off = sizeof h;
	all = file_map_sorted(fs);
	for (i = 0; i <= fs->nentries && rv == 0; i++) {
		if (i < fs->nentries)
			payload = file_payload_encode(FILE_OP_PUT, all[i]->kind,
			    all[i]->key, all[i]->value, all[i]->len, &plen);
		else {
			util_put_be64(count, fs->nentries);
			payload = file_payload_encode(FILE_OP_END, NULL, NULL,
			    count, sizeof count, &plen);
		}
		r = file_record_seal(s, id, i, payload, plen, &rlen);
		free(payload);
		if (util_write_at(fd, r, rlen, off) == -1)
			rv = -1;
		off += (off_t)rlen;
		free(r);
	}
	free(all);
	if (rv == 0 && fsync(fd) == -1)
		rv = -1;
	return (rv);
}

/*
 * Compact: the live set goes into a new snapshot, then an empty journal of the
 * same new generation replaces the old one.  Both are written and fsynced as
 * temporary files first; the snapshot rename is the commit point.  A crash
 * before it keeps the old pair, after it leaves a journal older than the
 * snapshot, which the next open discards (file_load_journal).
 */
static int
file_compact(struct store *s)
{
	struct file_state	*fs = s->data;
	unsigned char		 snap_id[FILE_ID_BYTES], journal_id[FILE_ID_BYTES];
	unsigned char		 h[FILE_HEADER_BYTES];
	uint64_t		 generation;
	off_t			 old_size;
	char			 why[512];
	int			 sfd = -1, jfd = -1;

	if (fs->broken != NULL)
		return (-1);
	generation = fs->generation + 1;
	old_size = fs->journal_size;
	crypto_random(snap_id, sizeof snap_id);
	crypto_random(journal_id, sizeof journal_id);

	(void)unlink(fs->snapshot_tmp);
	sfd = open(fs->snapshot_tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (sfd == -1 || file_write_snapshot(s, sfd, generation, snap_id) == -1) {
		log_warn("%s: write %s", __func__, fs->snapshot_tmp);
		goto fail;
	}
	close(sfd);
	sfd = -1;
	file_header_seal(s, h, FILE_MAGIC_JOURNAL, generation, journal_id,
	    snap_id);
	if ((jfd = file_create_tmp(fs->journal_tmp, h, sizeof h)) == -1) {
		log_warn("%s: create %s", __func__, fs->journal_tmp);
		goto fail;
	}
	if (rename(fs->snapshot_tmp, fs->snapshot_path) == -1) {
		log_warn("%s: rename %s", __func__, fs->snapshot_path);
		goto fail;
	}

	/* Committed: from here a failure leaves the directory ahead of us. */
	if (util_fsync_dir(s->dir, NULL, 0) == -1 ||
	    rename(fs->journal_tmp, fs->journal_path) == -1 ||
	    util_fsync_dir(s->dir, NULL, 0) == -1) {
		snprintf(why, sizeof why, "compaction of %s stopped after the "
		    "snapshot: %s", s->dir, strerror(errno));
		close(jfd);
		file_break(fs, why);
		return (-1);
	}
	close(fs->journal_fd);
	fs->journal_fd = jfd;
	fs->journal_size = sizeof h;
	fs->journal_seq = 0;
	memcpy(fs->journal_id, journal_id, sizeof journal_id);
	fs->generation = generation;
	memcpy(fs->snapshot_id, snap_id, sizeof snap_id);
	fs->have_snapshot = 1;
	log_info("file store: compacted %s: %zu live records, journal was %lld "
	    "bytes", s->dir, fs->nentries, (long long)old_size);
	file_metrics(fs);
	return (0);

fail:
	if (sfd != -1)
		close(sfd);
	if (jfd != -1)
		close(jfd);
	(void)unlink(fs->snapshot_tmp);
	(void)unlink(fs->journal_tmp);
	return (-1);
}

/* Close: every change already completed, so only memory and fds remain. */
static void
file_close(struct store *s)
{
	file_free(s->data);
	s->data = NULL;
}

/* A journal or a snapshot in the directory means state exists. */
static int
file_has_state(const struct store_params *params)
{
	static const char *const names[] = { FILE_JOURNAL, FILE_SNAPSHOT };
	struct stat	 st;
	char		*path;
	size_t		 i;
	int		 found = 0;

	for (i = 0; i < sizeof names / sizeof names[0] && !found; i++) {
		xasprintf(&path, "%s/%s", params->dir, names[i]);
		if (lstat(path, &st) == 0)
			found = 1;
		free(path);
	}
	return (found);
}

const struct store_backend store_file_backend = {
	.name = "file",
	.open = file_open,
	.put = file_put,
	.del = file_del,
	.insert = file_insert,
	.del_unless = file_del_unless,
	.compact = file_compact,
	.close = file_close,
	.has_state = file_has_state,
};
