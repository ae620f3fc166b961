/* keys.c: one master key, made once and kept, wraps every named key on disk. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "keys.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Master key file: magic, version (big endian), key, SHA-256 of what precedes it.
 * The checksum tells a damaged file from a wrong one before any key is unwrapped.
 */
#define KEYS_MASTER_FILE	"master.key"
#define KEYS_MASTER_MAGIC	"NCRVMKEY"
#define KEYS_MAGIC_BYTES	8
#define KEYS_VERSION		1
#define KEYS_DIGEST_BYTES	32
#define KEYS_MASTER_BYTES \
	(KEYS_MAGIC_BYTES + 4 + KEYS_KEY_BYTES + KEYS_DIGEST_BYTES)

/*
 * Wrapped key file: magic, version, GCM nonce, key encrypted with the master
 * key, GCM tag.  The AAD is magic, version and the key's name, so a file renamed
 * to another key's name fails authentication instead of handing out the wrong key.
 */
#define KEYS_WRAPPED_SUFFIX	".wkey"
#define KEYS_WRAPPED_MAGIC	"NCRVWKEY"
#define KEYS_NONCE_BYTES	12
#define KEYS_TAG_BYTES		16
#define KEYS_WRAPPED_BYTES \
	(KEYS_MAGIC_BYTES + 4 + KEYS_NONCE_BYTES + KEYS_KEY_BYTES + KEYS_TAG_BYTES)
#if KEYS_KEY_BYTES != CRYPTO_KEY_BYTES || \
    KEYS_TAG_BYTES != CRYPTO_TAG_BYTES
#error "the wrapped key format needs AES-256 keys and full 16-byte GCM tags"
#endif

/* Longest key name accepted; longer file names are replaced by a digest. */
#define KEYS_NAME_MAX		1024
#define KEYS_FILE_NAME_MAX	200

static struct {
	int		 open;
	char		*dir;
	unsigned char	 master[KEYS_KEY_BYTES];
} keys;

/*
 * Turn a key name into a file name that cannot leave the directory: every byte
 * but [A-Za-z0-9_-] becomes %XX, so '/' and '.' never appear and the mapping is
 * one to one.  A name too long for a file name becomes '=' and its SHA-256 ('='
 * never survives the escaping, so the two forms cannot collide).
 */
static char *
keys_file_name(const char *name)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 digest[KEYS_DIGEST_BYTES];
	const unsigned char	*p;
	char			*file, *out;
	size_t			 len, i;

	len = strlen(name);
	file = xmalloc(len * 3 + sizeof KEYS_WRAPPED_SUFFIX);
	out = file;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
			*out++ = *p;
		else {
			*out++ = '%';
			*out++ = hex[*p >> 4];
			*out++ = hex[*p & 0xf];
		}
	}
	*out = '\0';
	if ((size_t)(out - file) <= KEYS_FILE_NAME_MAX) {
		strcat(file, KEYS_WRAPPED_SUFFIX);
		return (file);
	}
	free(file);

	if (EVP_Digest(name, len, digest, NULL, EVP_sha256(), NULL) != 1)
		fatalx("%s: SHA-256 failed", __func__);
	file = xmalloc(1 + 2 * sizeof digest + sizeof KEYS_WRAPPED_SUFFIX);
	file[0] = '=';
	for (i = 0; i < sizeof digest; i++) {
		file[1 + 2 * i] = hex[digest[i] >> 4];
		file[2 + 2 * i] = hex[digest[i] & 0xf];
	}
	file[1 + 2 * sizeof digest] = '\0';
	strcat(file, KEYS_WRAPPED_SUFFIX);
	return (file);
}

/* Whether a directory entry is a wrapped key file. */
static int
keys_is_wrapped(const char *file)
{
	size_t	len, slen;

	len = strlen(file);
	slen = strlen(KEYS_WRAPPED_SUFFIX);
	return (file[0] != '.' && len > slen &&
	    strcmp(file + len - slen, KEYS_WRAPPED_SUFFIX) == 0);
}

/*
 * Count the wrapped keys in the directory and remove temporary files a crash
 * left behind (they were never renamed into place, so nothing refers to them).
 */
static int
keys_scan(const char *dir, size_t *nwrapped, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 len;
	int		 dfd;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "opendir %s: %s", dir, strerror(errno));
		return (-1);
	}
	dfd = dirfd(d);
	*nwrapped = 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (keys_is_wrapped(de->d_name))
			(*nwrapped)++;
		else if (de->d_name[0] == '.' && len > 4 &&
		    strcmp(de->d_name + len - 4, ".tmp") == 0) {
			if (unlinkat(dfd, de->d_name, 0) == -1)
				log_warn("%s: unlink %s/%s", __func__, dir,
				    de->d_name);
		}
	}
	closedir(d);
	return (0);
}

/*
 * Read a whole small file of exactly want bytes.  Returns 0, 1 if it does not
 * exist, -1 on error (a wrong size says the file is damaged).
 */
static int
keys_read_file(const char *path, unsigned char *buf, size_t want, char *err,
    size_t errlen)
{
	struct stat	st;
	ssize_t		n;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return (1);
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "stat %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if ((size_t)st.st_size != want) {
		snprintf(err, errlen, "%s: damaged key file: %lld bytes, "
		    "expected %zu", path, (long long)st.st_size, want);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		log_warnx("%s: %s was readable by others (mode %o), now 0600",
		    __func__, path, (unsigned)(st.st_mode & 0777));
		if (fchmod(fd, 0600) == -1)
			log_warn("%s: chmod %s", __func__, path);
	}
	n = read(fd, buf, want);
	if (n == -1 || (size_t)n != want) {
		snprintf(err, errlen, "read %s: %s", path,
		    n == -1 ? strerror(errno) : "short read");
		goto fail;
	}
	close(fd);
	return (0);

fail:
	close(fd);
	return (-1);
}

/* Fill in a master key file image: header, key, checksum. */
static void
keys_master_encode(unsigned char *buf, const unsigned char *key)
{
	memcpy(buf, KEYS_MASTER_MAGIC, KEYS_MAGIC_BYTES);
	util_put_be32(buf + KEYS_MAGIC_BYTES, KEYS_VERSION);
	memcpy(buf + KEYS_MAGIC_BYTES + 4, key, KEYS_KEY_BYTES);
	if (EVP_Digest(buf, KEYS_MAGIC_BYTES + 4 + KEYS_KEY_BYTES,
	    buf + KEYS_MAGIC_BYTES + 4 + KEYS_KEY_BYTES, NULL, EVP_sha256(),
	    NULL) != 1)
		fatalx("%s: SHA-256 failed", __func__);
}

/* Check a master key file image and take the key out of it. */
static int
keys_master_decode(const char *path, const unsigned char *buf,
    unsigned char *key, char *err, size_t errlen)
{
	unsigned char	digest[KEYS_DIGEST_BYTES];
	uint32_t	version;

	if (memcmp(buf, KEYS_MASTER_MAGIC, KEYS_MAGIC_BYTES) != 0) {
		snprintf(err, errlen, "%s: damaged master key file: bad magic",
		    path);
		return (-1);
	}
	version = util_get_be32(buf + KEYS_MAGIC_BYTES);
	if (version != KEYS_VERSION) {
		snprintf(err, errlen, "%s: master key file version %u is not "
		    "supported", path, version);
		return (-1);
	}
	if (EVP_Digest(buf, KEYS_MAGIC_BYTES + 4 + KEYS_KEY_BYTES, digest, NULL,
	    EVP_sha256(), NULL) != 1)
		fatalx("%s: SHA-256 failed", __func__);
	if (CRYPTO_memcmp(digest, buf + KEYS_MAGIC_BYTES + 4 + KEYS_KEY_BYTES,
	    sizeof digest) != 0) {
		snprintf(err, errlen, "%s: damaged master key file: checksum "
		    "mismatch", path);
		return (-1);
	}
	memcpy(key, buf + KEYS_MAGIC_BYTES + 4, KEYS_KEY_BYTES);
	return (0);
}

/* Make a new master key and write it; only when no wrapped key exists. */
static int
keys_master_create(const char *dir, const char *path, char *err, size_t errlen)
{
	unsigned char	buf[KEYS_MASTER_BYTES];
	int		rv;

	if (RAND_priv_bytes(keys.master, sizeof keys.master) != 1) {
		snprintf(err, errlen, "no random bytes for the master key");
		return (-1);
	}
	keys_master_encode(buf, keys.master);
	rv = util_write_atomic(path, buf, sizeof buf, 0600, err, errlen);
	OPENSSL_cleanse(buf, sizeof buf);
	if (rv == 0)
		log_info("keys: created a new master key in %s", dir);
	return (rv);
}

/* Open the key directory and load (or, on first start, make) the master key. */
int
keys_open(const char *dir, char *err, size_t errlen)
{
	unsigned char	 buf[KEYS_MASTER_BYTES];
	struct stat	 st;
	char		*path;
	size_t		 nwrapped;
	int		 rv;

	if (keys.open)
		keys_close();
	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "no key directory");
		return (-1);
	}
	if (util_mkdir_p(dir, 0700, err, errlen) == -1)
		return (-1);
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "stat %s: %s", dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return (-1);
	}
	if ((st.st_mode & 077) != 0) {
		log_warnx("%s: %s was open to others (mode %o), now 0700",
		    __func__, dir, (unsigned)(st.st_mode & 0777));
		if (chmod(dir, 0700) == -1) {
			snprintf(err, errlen, "chmod %s: %s", dir,
			    strerror(errno));
			return (-1);
		}
	}
	if (keys_scan(dir, &nwrapped, err, errlen) == -1)
		return (-1);

	xasprintf(&path, "%s/%s", dir, KEYS_MASTER_FILE);
	rv = keys_read_file(path, buf, sizeof buf, err, errlen);
	if (rv == 0)
		rv = keys_master_decode(path, buf, keys.master, err, errlen);
	else if (rv == 1 && nwrapped != 0) {
		/* Making a new one would orphan every wrapped key: refuse. */
		snprintf(err, errlen, "master key %s is missing but %zu wrapped "
		    "key%s exist in %s; restore it from a backup", path,
		    nwrapped, nwrapped == 1 ? "" : "s", dir);
		rv = -1;
	} else if (rv == 1)
		rv = keys_master_create(dir, path, err, errlen);
	OPENSSL_cleanse(buf, sizeof buf);
	free(path);
	if (rv != 0) {
		OPENSSL_cleanse(keys.master, sizeof keys.master);
		return (-1);
	}
	keys.dir = xstrdup(dir);
	keys.open = 1;
	return (0);
}

/* Forget the master key. */
void
keys_close(void)
{
	OPENSSL_cleanse(keys.master, sizeof keys.master);
	free(keys.dir);
	keys.dir = NULL;
	keys.open = 0;
}

/* Build the AAD of a wrapped key: file header and the key's name. */
static unsigned char *
keys_wrapped_aad(const char *name, size_t *len)
{
	unsigned char	*aad;
	size_t		 nlen;

	nlen = strlen(name);
	*len = KEYS_MAGIC_BYTES + 4 + nlen;
	aad = xmalloc(*len);
	memcpy(aad, KEYS_WRAPPED_MAGIC, KEYS_MAGIC_BYTES);
	util_put_be32(aad + KEYS_MAGIC_BYTES, KEYS_VERSION);
	memcpy(aad + KEYS_MAGIC_BYTES + 4, name, nlen);
	return (aad);
}

/*
 * Run AES-256-GCM with the master key over one key: wrap (enc) fills the tag,
 * unwrap checks it.  Returns -1 when the tag does not match.
 */
static int
keys_gcm(int enc, const char *name, const unsigned char *nonce,
    const unsigned char *in, unsigned char *out, unsigned char *tag)
{
	unsigned char	*aad;
	size_t		 aadlen;
	int		 rv;

	aad = keys_wrapped_aad(name, &aadlen);
	if (enc)
		rv = crypto_aead_seal(keys.master, nonce, KEYS_NONCE_BYTES, aad,
		    aadlen, in, KEYS_KEY_BYTES, out, tag);
	else
		rv = crypto_aead_open(keys.master, nonce, KEYS_NONCE_BYTES, aad,
		    aadlen, in, KEYS_KEY_BYTES, out, tag);
	free(aad);
	return (rv);
}

/* Check a key name: non-empty, of bounded length. */
static int
keys_check_name(const char *name, char *err, size_t errlen)
{
	if (!keys.open) {
		snprintf(err, errlen, "keys are not open");
		return (-1);
	}
	if (name == NULL || *name == '\0' || strlen(name) > KEYS_NAME_MAX) {
		snprintf(err, errlen, "invalid key name");
		return (-1);
	}
	return (0);
}

/* Make a new random key, wrap it and write its file at path (names are logged
 * only in their escaped file form: they may come from Docker). */
static int
keys_create(const char *name, const char *path, unsigned char *out,
    char *err, size_t errlen)
{
	unsigned char	buf[KEYS_WRAPPED_BYTES], *nonce, *ct, *tag;
	int		rv;

	nonce = buf + KEYS_MAGIC_BYTES + 4;
	ct = nonce + KEYS_NONCE_BYTES;
	tag = ct + KEYS_KEY_BYTES;
	memcpy(buf, KEYS_WRAPPED_MAGIC, KEYS_MAGIC_BYTES);
	util_put_be32(buf + KEYS_MAGIC_BYTES, KEYS_VERSION);
	if (RAND_priv_bytes(out, KEYS_KEY_BYTES) != 1 ||
	    RAND_bytes(nonce, KEYS_NONCE_BYTES) != 1) {
		snprintf(err, errlen, "no random bytes for key %s", name);
		return (-1);
	}
	if (keys_gcm(1, name, nonce, out, ct, tag) == -1)
		fatalx("%s: AES-256-GCM encryption failed", __func__);
	rv = util_write_atomic(path, buf, sizeof buf, 0600, err, errlen);
	if (rv == 0)
		log_info("keys: created key file %s", path);
	else
		OPENSSL_cleanse(out, KEYS_KEY_BYTES);
	return (rv);
}

/* Fetch (and with create, make) the named key. */
int
keys_get(const char *name, unsigned char out[KEYS_KEY_BYTES], int create,
    char *err, size_t errlen)
{
	unsigned char	 buf[KEYS_WRAPPED_BYTES], *nonce, *ct, *tag;
	char		*file, *path;
	int		 rv;

	if (keys_check_name(name, err, errlen) == -1)
		return (-1);
	file = keys_file_name(name);
	xasprintf(&path, "%s/%s", keys.dir, file);
	rv = keys_read_file(path, buf, sizeof buf, err, errlen);
	if (rv == 1) {
		if (create)
			rv = keys_create(name, path, out, err, errlen);
		else {
			snprintf(err, errlen, "key %s does not exist", path);
			rv = -1;
		}
		goto done;
	}
	if (rv == -1)
		goto done;

	rv = -1;
	nonce = buf + KEYS_MAGIC_BYTES + 4;
	ct = nonce + KEYS_NONCE_BYTES;
	tag = ct + KEYS_KEY_BYTES;
	if (memcmp(buf, KEYS_WRAPPED_MAGIC, KEYS_MAGIC_BYTES) != 0)
		snprintf(err, errlen, "%s: damaged key file: bad magic", path);
	else if (util_get_be32(buf + KEYS_MAGIC_BYTES) != KEYS_VERSION)
		snprintf(err, errlen, "%s: key file version %u is not "
		    "supported", path, util_get_be32(buf + KEYS_MAGIC_BYTES));
	else if (keys_gcm(0, name, nonce, ct, out, tag) == -1) {
		OPENSSL_cleanse(out, KEYS_KEY_BYTES);
		snprintf(err, errlen, "%s: key fails authentication "
		    "(file tampered with, or wrapped by another master key)",
		    path);
	} else
		rv = 0;

done:
	free(file);
	free(path);
	return (rv);
}

/* Whether the named key's file exists. */
int
keys_exists(const char *name)
{
	struct stat	 st;
	char		*file, *path;
	char		 err[16];
	int		 rv;

	if (keys_check_name(name, err, sizeof err) == -1)
		return (0);
	file = keys_file_name(name);
	xasprintf(&path, "%s/%s", keys.dir, file);
	rv = (lstat(path, &st) == 0);
	free(file);
	free(path);
	return (rv);
}
