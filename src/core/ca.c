/* ca.c: the internal CA.  ECDSA P-256 throughout; the CA key lives in
 * <dir>/ca.key.sealed, AES-256-GCM under the key "ca" of keys.h, never in
 * the clear on disk; ca.crt beside it is public. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "crypto.h"
#include "keys.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define CA_NONCE_BYTES	12
#define CA_AAD		"netcrave-ca-key-v1"
#define CA_DAYS		3650

static struct {
	EVP_PKEY	*key;
	X509		*cert;
	char		*dir;
	char		*cert_path;
} ca;

/* The last OpenSSL error as text. */
static const char *
ca_ssl_error(void)
{
	unsigned long	 e = ERR_get_error();

	return (e != 0 ? ERR_reason_error_string(e) : "unknown error");
}

/* A fresh P-256 key. */
static EVP_PKEY *
ca_new_key(void)
{
	return (EVP_EC_gen("P-256"));
}

/* Add one extension by its config-style value. */
static int
ca_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return (-1);
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return (0);
}

/* A certificate skeleton: random serial, validity, subject CN. */
static X509 *
ca_new_cert(EVP_PKEY *key, const char *cn, unsigned int seconds)
{
	unsigned char	 serial[16];
	BIGNUM		*bn;
	X509		*cert;
	X509_NAME	*name;

	cert = X509_new();
	X509_set_version(cert, 2);
	crypto_random(serial, sizeof serial);
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
	BN_free(bn);
	/* A little slack for clocks that are behind (an hour, or a tenth of
	 * a short lifetime, which renewal at two thirds of it must outlast). */
	X509_gmtime_adj(X509_getm_notBefore(cert), seconds >= 36000 ? -3600 :
	    -(long)(seconds / 10));
	X509_gmtime_adj(X509_getm_notAfter(cert), (long)seconds);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"netcrave", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	return (cert);
}

/* Seal the CA key's PEM and write it atomically (0600). */
static int
ca_save_key(const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	unsigned char	 k[KEYS_KEY_BYTES], *out;
	BIO		*bio;
	char		*pem;
	long		 len;
	int		 rv;

	if (keys_get("ca", k, 1, err, errlen) == -1)
		return (-1);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(bio, &pem);
	out = xmalloc(CA_NONCE_BYTES + CRYPTO_TAG_BYTES + len);
	crypto_random(out, CA_NONCE_BYTES);
	if (crypto_aead_seal(k, out, CA_NONCE_BYTES, CA_AAD, strlen(CA_AAD), pem,
	    len, out + CA_NONCE_BYTES + CRYPTO_TAG_BYTES,
	    out + CA_NONCE_BYTES) == -1)
		fatalx("%s: cipher failed", __func__);
	explicit_bzero(k, sizeof k);
	BIO_free(bio);	/* BIO_s_mem frees and clears nothing: it held the PEM */
	rv = util_write_atomic(path, out, CA_NONCE_BYTES + CRYPTO_TAG_BYTES + len,
	    0600, err, errlen);
	free(out);
	return (rv);
}

/* Read and unseal the CA key. */
static EVP_PKEY *
ca_load_key(const char *path, char *err, size_t errlen)
{
	unsigned char	 k[KEYS_KEY_BYTES], *in = NULL, *pem = NULL;
	EVP_PKEY	*key = NULL;
	struct stat	 sb;
	BIO		*bio;
	size_t		 len;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	len = sb.st_size;
	if (len <= CA_NONCE_BYTES + CRYPTO_TAG_BYTES || len > 65536) {
		snprintf(err, errlen, "%s: damaged", path);
		close(fd);
		return (NULL);
	}
	in = xmalloc(len);
	if (read(fd, in, len) != (ssize_t)len) {
		snprintf(err, errlen, "%s: short read", path);
		goto out;
	}
	if (keys_get("ca", k, 0, err, errlen) == -1)
		goto out;
	len -= CA_NONCE_BYTES + CRYPTO_TAG_BYTES;
	pem = xmalloc(len);
	if (crypto_aead_open(k, in, CA_NONCE_BYTES, CA_AAD, strlen(CA_AAD),
	    in + CA_NONCE_BYTES + CRYPTO_TAG_BYTES, len, pem,
	    in + CA_NONCE_BYTES) == -1) {
		snprintf(err, errlen, "%s: fails authentication (wrong key or "
		    "tampered with)", path);
		goto out;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL)
		snprintf(err, errlen, "%s: %s", path, ca_ssl_error());
out:
	explicit_bzero(k, sizeof k);
	if (pem != NULL) {
		explicit_bzero(pem, len);
		free(pem);
	}
	free(in);
	close(fd);
	return (key);
}

/* Write a PEM certificate file. */
static int
ca_write_cert(const char *path, X509 *cert, char *err, size_t errlen)
{
	BIO	*bio;
	char	*data;
	long	 len;
	int	 rv;

	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, cert);
	len = BIO_get_mem_data(bio, &data);
	rv = util_write_atomic(path, data, len, 0644, err, errlen);
	BIO_free(bio);
	return (rv);
}

/* A self-signed CA certificate for cn of path length 0 and its new key: the
 * internal CA, and CAs of their own (ca.h). */
int
ca_make_root(const char *cn, unsigned int seconds, EVP_PKEY **keyp,
    X509 **certp, char *err, size_t errlen)
{
	EVP_PKEY	*key = ca_new_key();
	X509		*cert = ca_new_cert(key, cn, seconds);

	X509_set_issuer_name(cert, X509_get_subject_name(cert));
	if (ca_add_ext(cert, cert, NID_basic_constraints,
	    "critical,CA:TRUE,pathlen:0") == -1 ||
	    ca_add_ext(cert, cert, NID_key_usage,
	    "critical,keyCertSign,cRLSign,digitalSignature") == -1 ||
	    ca_add_ext(cert, cert, NID_subject_key_identifier,
	    "hash") == -1 || X509_sign(cert, key, EVP_sha256()) == 0) {
		snprintf(err, errlen, "CA certificate for %s: %s", cn,
		    ca_ssl_error());
		X509_free(cert);
		EVP_PKEY_free(key);
		return (-1);
	}
	*keyp = key;
	*certp = cert;
	return (0);
}

/* Load or make the CA. */
int
ca_open(const char *dir, const char *name, char *err, size_t errlen)
{
	char	*keypath, *cn;
	FILE	*f;
	int	 rv = -1;

	if (ca.key != NULL)
		return (0);
	if (util_mkdir_p(dir, 0700, err, errlen) == -1)
		return (-1);
	xasprintf(&keypath, "%s/ca.key.sealed", dir);
	xasprintf(&ca.cert_path, "%s/ca.crt", dir);
	ca.dir = xstrdup(dir);
	if (access(keypath, F_OK) == 0) {
		if ((ca.key = ca_load_key(keypath, err, errlen)) == NULL)
			goto out;
		if ((f = fopen(ca.cert_path, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s", ca.cert_path,
			    strerror(errno));
			goto out;
		}
		ca.cert = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		if (ca.cert == NULL || X509_check_private_key(ca.cert,
		    ca.key) != 1) {
			snprintf(err, errlen, "%s: not the certificate of the "
			    "CA key", ca.cert_path);
			goto out;
		}
		rv = 0;
		goto out;
	}
	xasprintf(&cn, "%s internal CA", name);
	rv = ca_make_root(cn, CA_DAYS * 86400, &ca.key, &ca.cert, err,
	    errlen);
	free(cn);
	if (rv == -1)
		goto out;
	rv = -1;
	if (ca_save_key(keypath, ca.key, err, errlen) == -1 ||
	    ca_write_cert(ca.cert_path, ca.cert, err, errlen) == -1)
		goto out;
	log_info("ca: made a new internal CA in %s", dir);
	rv = 0;
out:
	free(keypath);
	if (rv == -1)
		ca_close();
	return (rv);
}

/* Forget the CA. */
void
ca_close(void)
{
	EVP_PKEY_free(ca.key);
	X509_free(ca.cert);
	free(ca.dir);
	free(ca.cert_path);
	memset(&ca, 0, sizeof ca);
}

X509 *
ca_certificate(void)
{
	return (ca.cert);
}

const char *
ca_certificate_path(void)
{
	return (ca.cert_path);
}

/* Issue a leaf certificate valid for days. */
int
ca_issue(const char *cn, const char *const *names, int client,
    unsigned int days, EVP_PKEY **keyp, X509 **certp, char *err, size_t errlen)
{
	return (ca_issue_for(cn, names, client, days * 86400, keyp, certp, err,
	    errlen));
}

/* A fresh key and a certificate skeleton under the CA; NULL without a CA. */
static X509 *
ca_start(const char *cn, unsigned int seconds, EVP_PKEY **keyp, char *err,
    size_t errlen)
{
	X509	*cert;

	if (ca.key == NULL) {
		snprintf(err, errlen, "no CA");
		return (NULL);
	}
	*keyp = ca_new_key();
	cert = ca_new_cert(*keyp, cn, seconds);
	X509_set_issuer_name(cert, X509_get_subject_name(ca.cert));
	return (cert);
}

/* Sign cert when its extensions went in (ok) and hand it out with its key,
 * or free both. */
static int
ca_finish(int ok, X509 *cert, EVP_PKEY *key, const char *cn,
    EVP_PKEY **keyp, X509 **certp, char *err, size_t errlen)
{
	if (!ok || X509_sign(cert, ca.key, EVP_sha256()) == 0) {
		snprintf(err, errlen, "certificate for %s: %s", cn,
		    ca_ssl_error());
		X509_free(cert);
		EVP_PKEY_free(key);
		return (-1);
	}
	*keyp = key;
	*certp = cert;
	return (0);
}

/* Issue a leaf certificate valid for seconds. */
int
ca_issue_for(const char *cn, const char *const *names, int client,
    unsigned int seconds, EVP_PKEY **keyp, X509 **certp, char *err,
    size_t errlen)
{
	unsigned char	 addr[16];
	EVP_PKEY	*key;
	X509		*cert;
	char		*san = NULL, *t;
	size_t		 i;
	int		 ok;

	if ((cert = ca_start(cn, seconds, &key, err, errlen)) == NULL)
		return (-1);
	for (i = 0; names != NULL && names[i] != NULL; i++) {
		int	 ip = inet_pton(AF_INET, names[i], addr) == 1 ||
		    inet_pton(AF_INET6, names[i], addr) == 1;

		xasprintf(&t, "%s%s%s:%s", san ? san : "", san ? "," : "",
		    ip ? "IP" : "DNS", names[i]);
		free(san);
		san = t;
	}
	ok = ca_add_ext(cert, ca.cert, NID_basic_constraints,
	    "critical,CA:FALSE") == 0 &&
	    ca_add_ext(cert, ca.cert, NID_key_usage,
	    "critical,digitalSignature") == 0 &&
	    ca_add_ext(cert, ca.cert, NID_ext_key_usage,
	    client ? "clientAuth" : "serverAuth") == 0 &&
	    ca_add_ext(cert, ca.cert, NID_authority_key_identifier,
	    "keyid:always") == 0 &&
	    (san == NULL || ca_add_ext(cert, ca.cert, NID_subject_alt_name,
	    san) == 0);
	free(san);
	return (ca_finish(ok, cert, key, cn, keyp, certp, err, errlen));
}

int
ca_signed(X509 *cert)
{
	return (ca.key != NULL && X509_verify(cert, ca.key) == 1);
}

/* A context's own certificate, its key and the CA as its chain. */
static int
ca_context_identity(SSL_CTX *ctx, X509 *cert, EVP_PKEY *key, char *err,
    size_t errlen)
{
	if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_add1_chain_cert(ctx, ca.cert) != 1) {
		snprintf(err, errlen, "TLS context: %s", ca_ssl_error());
		return (-1);
	}
	return (0);
}

/* A server TLS context with a fresh certificate. */
SSL_CTX *
ca_server_context(const char *const *names, int require_client, char *err,
    size_t errlen)
{
	SSL_CTX		*ctx;
	EVP_PKEY	*key;
	X509		*cert;
	X509_STORE	*store;
	STACK_OF(X509_NAME) *cas;

	if (ca_issue(names != NULL && names[0] != NULL ? names[0] : "localhost",
	    names, 0, 397, &key, &cert, err, errlen) == -1)
		return (NULL);
	ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Without it, resuming a session of a verified client fails. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"netcrave",
	    8);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* TLS 1.2 only with forward-secret AEAD suites. */
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	if (ca_context_identity(ctx, cert, key, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	} else if (require_client) {
		store = SSL_CTX_get_cert_store(ctx);
		X509_STORE_add_cert(store, ca.cert);
		cas = sk_X509_NAME_new_null();
		sk_X509_NAME_push(cas, X509_NAME_dup(X509_get_subject_name(
		    ca.cert)));
		SSL_CTX_set_client_CA_list(ctx, cas);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		SSL_CTX_set_verify_depth(ctx, 2);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return (ctx);
}

/*
 * A TLS client context (TLS 1.2 minimum) that trusts only this CA and
 * presents a fresh client certificate for cn: the FUSE client of a volume
 * reaching a WebDAV server's mutual TLS listener.
 */
SSL_CTX *
ca_client_context(const char *cn, char *err, size_t errlen)
{
	const char	*names[2] = { cn, NULL };
	SSL_CTX		*ctx;
	EVP_PKEY	*key;
	X509		*cert;

	if (ca_issue(cn, names, 1, 397, &key, &cert, err, errlen) == -1)
		return (NULL);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca.cert);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 2);
	if (ca_context_identity(ctx, cert, key, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return (ctx);
}

/* Write a client certificate, key and PKCS#12 bundle unless there already. */
int
ca_write_client(const char *dir, const char *cn, char *err, size_t errlen)
{
	EVP_PKEY	*key;
	X509		*cert;
	PKCS12		*p12;
	BIO		*bio;
	char		*path, *data;
	long		 len;
	int		 rv = -1;

	xasprintf(&path, "%s/%s.p12", dir, cn);
	if (access(path, F_OK) == 0) {
		free(path);
		return (0);
	}
	free(path);
	if (util_mkdir_p(dir, 0700, err, errlen) == -1 ||
	    ca_issue(cn, NULL, 1, 397, &key, &cert, err, errlen) == -1)
		return (-1);
	xasprintf(&path, "%s/%s.crt", dir, cn);
	rv = ca_write_cert(path, cert, err, errlen);
	free(path);
	xasprintf(&path, "%s/ca.crt", dir);
	if (rv == 0)
		rv = ca_write_cert(path, ca.cert, err, errlen);
	free(path);
	if (rv == 0) {
		bio = BIO_new(BIO_s_mem());
		PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
		len = BIO_get_mem_data(bio, &data);
		xasprintf(&path, "%s/%s.key", dir, cn);
		rv = util_write_atomic(path, data, len, 0600, err, errlen);
		free(path);
		BIO_free(bio);
	}
	if (rv == 0) {
		/*
		 * Empty password but the default encryption: neon built on
		 * GnuTLS (litmus, cadaver) reads nothing else.  The file is
		 * 0600 and ca.crt is beside it.
		 */
		p12 = PKCS12_create("", cn, key, cert, NULL, 0, 0, 0, 0, 0);
		if (p12 == NULL) {
			snprintf(err, errlen, "PKCS#12: %s", ca_ssl_error());
			rv = -1;
		} else {
			bio = BIO_new(BIO_s_mem());
			i2d_PKCS12_bio(bio, p12);
			len = BIO_get_mem_data(bio, &data);
			xasprintf(&path, "%s/%s.p12", dir, cn);
			rv = util_write_atomic(path, data, len, 0600, err,
			    errlen);
			free(path);
			BIO_free(bio);
			PKCS12_free(p12);
		}
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return (rv);
}

time_t
ca_time(const ASN1_TIME *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return (0);
	return (timegm(&tm));
}
