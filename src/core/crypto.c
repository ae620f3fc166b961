/* crypto.c: the AES-256-GCM and random bytes behind every sealed file. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"
#include "log.h"
#include "xmalloc.h"

/* Run a keyed context once: new nonce, aad, data, tag. */
static int
crypto_aead_run(EVP_CIPHER_CTX *ctx, int enc, const unsigned char *nonce,
    const void *aad, size_t aadlen, const void *in, size_t len,
    unsigned char *out, unsigned char *tag)
{
	unsigned char	 final[16];
	int		 n;

	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc) != 1)
		fatalx("%s: AES-256-GCM nonce setup failed", __func__);
	if (aadlen > 0 &&
	    EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		return (-1);
	if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		return (-1);
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    CRYPTO_TAG_BYTES, tag) != 1)
		return (-1);
	/* GCM has no final block: final only keeps out + len out of it. */
	if (EVP_CipherFinal_ex(ctx, final, &n) != 1)
		return (-1);
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    CRYPTO_TAG_BYTES, tag) != 1)
		return (-1);
	return (0);
}

/* A context keyed for one direction with this nonce length. */
static EVP_CIPHER_CTX *
crypto_aead_ctx(int enc, const unsigned char *key, size_t noncelen)
{
	EVP_CIPHER_CTX	*ctx;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		fatalx("%s: EVP_CIPHER_CTX_new", __func__);
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)noncelen,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1)
		fatalx("%s: AES-256-GCM setup failed", __func__);
	return (ctx);
}

/*
 * Run AES-256-GCM one way: enc seals and fills tag, otherwise opens and checks
 * it.  A context per call: nothing is shared between callers or left keyed.
 */
static int
crypto_aead(int enc, const unsigned char *key, const unsigned char *nonce,
    size_t noncelen, const void *aad, size_t aadlen, const void *in,
    size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX	*ctx;
	int		 rv;

	if (noncelen == 0 || noncelen > INT_MAX || aadlen > INT_MAX ||
	    len > INT_MAX)
		return (-1);
	ctx = crypto_aead_ctx(enc, key, noncelen);
	rv = crypto_aead_run(ctx, enc, nonce, aad, aadlen, in, len, out, tag);
	EVP_CIPHER_CTX_free(ctx);
	return (rv);
}

/* A key held in two keyed contexts, for callers sealing many small blocks
 * (the WebDAV store): the key schedule is done once, not per block. */
struct crypto_aead_key {
	EVP_CIPHER_CTX	*seal;
	EVP_CIPHER_CTX	*open;
};

struct crypto_aead_key *
crypto_aead_key_new(const unsigned char key[CRYPTO_KEY_BYTES], size_t noncelen)
{
	struct crypto_aead_key	*k;

	if ((k = calloc(1, sizeof *k)) == NULL)
		fatalx("%s: out of memory", __func__);
	k->seal = crypto_aead_ctx(1, key, noncelen);
	k->open = crypto_aead_ctx(0, key, noncelen);
	return (k);
}

void
crypto_aead_key_free(struct crypto_aead_key *k)
{
	if (k == NULL)
		return;
	EVP_CIPHER_CTX_free(k->seal);
	EVP_CIPHER_CTX_free(k->open);
	free(k);
}

/* crypto_aead_seal with a held key. */
int
crypto_aead_key_seal(struct crypto_aead_key *k, const unsigned char *nonce,
    const void *aad, size_t aadlen, const void *in, size_t len,
    unsigned char *out, unsigned char tag[CRYPTO_TAG_BYTES])
{
	if (aadlen > INT_MAX || len > INT_MAX)
		return (-1);
	return (crypto_aead_run(k->seal, 1, nonce, aad, aadlen, in, len, out,
	    tag));
}

/* crypto_aead_open with a held key; out is wiped when the tag fails. */
int
crypto_aead_key_open(struct crypto_aead_key *k, const unsigned char *nonce,
    const void *aad, size_t aadlen, const void *in, size_t len,
    unsigned char *out, const unsigned char tag[CRYPTO_TAG_BYTES])
{
	unsigned char	copy[CRYPTO_TAG_BYTES];

	memcpy(copy, tag, sizeof copy);
	if (aadlen > INT_MAX || len > INT_MAX ||
	    crypto_aead_run(k->open, 0, nonce, aad, aadlen, in, len, out,
	    copy) == -1) {
		if (len > 0)
			OPENSSL_cleanse(out, len);
		return (-1);
	}
	return (0);
}

/* Seal in into out with aad, filling tag. */
int
crypto_aead_seal(const unsigned char key[CRYPTO_KEY_BYTES],
    const unsigned char *nonce, size_t noncelen, const void *aad,
    size_t aadlen, const void *in, size_t len, unsigned char *out,
    unsigned char tag[CRYPTO_TAG_BYTES])
{
	return (crypto_aead(1, key, nonce, noncelen, aad, aadlen, in, len, out,
	    tag));
}

/* Open in into out if tag checks out over aad and in; else wipe out. */
int
crypto_aead_open(const unsigned char key[CRYPTO_KEY_BYTES],
    const unsigned char *nonce, size_t noncelen, const void *aad,
    size_t aadlen, const void *in, size_t len, unsigned char *out,
    const unsigned char tag[CRYPTO_TAG_BYTES])
{
	unsigned char	copy[CRYPTO_TAG_BYTES];

	/* OpenSSL takes the expected tag through a non-const pointer. */
	memcpy(copy, tag, sizeof copy);
	if (crypto_aead(0, key, nonce, noncelen, aad, aadlen, in, len, out,
	    copy) == -1) {
		if (len > 0)
			OPENSSL_cleanse(out, len);
		return (-1);
	}
	return (0);
}

/* Random bytes for nonces and ids; none at all is a broken invariant. */
void
crypto_random(void *buf, size_t len)
{
	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1)
		fatalx("%s: no random bytes", __func__);
}

/* ACME (issue 7): JOSE encodings. */
char *
crypto_b64url(const void *data, size_t len)
{
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char	*p = data;
	char			*out, *o;
	size_t			 i;
	unsigned int		 v;

	out = o = xmalloc(len / 3 * 4 + 5);
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned int)p[i] << 16 | (unsigned int)p[i + 1] << 8 |
		    p[i + 2];
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
		*o++ = abc[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned int)p[i] << 16;
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (unsigned int)p[i] << 16 | (unsigned int)p[i + 1] << 8;
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
	}
	*o = '\0';
	return (out);
}

int
crypto_ecdsa_der_to_raw(const unsigned char *der, size_t len,
    unsigned char *raw, size_t n)
{
	const unsigned char	*p = der;
	ECDSA_SIG		*sig;
	const BIGNUM		*r, *s;
	int			 rc = -1;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return (-1);
	if (p != der + len)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, raw, (int)n) != (int)n ||
	    BN_bn2binpad(s, raw + n, (int)n) != (int)n)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	return (rc);
}
