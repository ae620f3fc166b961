/* crypto.h: the AES-256-GCM and random bytes behind every sealed file. */
#ifndef NETCRAVE_CRYPTO_H
#define NETCRAVE_CRYPTO_H

#include <stddef.h>

#define CRYPTO_KEY_BYTES	32	/* AES-256 */
#define CRYPTO_TAG_BYTES	16	/* full GCM tag; never truncated */

/*
 * Encrypt len bytes of in into out (same length; in and out may be NULL when
 * len is 0, which leaves a GMAC over aad alone) and authenticate them with aad
 * into tag.  The nonce must never repeat under one key.  Returns 0, or -1 if
 * the cipher fails (callers treat that as a broken invariant).
 */
int	crypto_aead_seal(const unsigned char key[CRYPTO_KEY_BYTES],
	    const unsigned char *nonce, size_t noncelen, const void *aad,
	    size_t aadlen, const void *in, size_t len, unsigned char *out,
	    unsigned char tag[CRYPTO_TAG_BYTES]);
/*
 * Check tag over aad and in, decrypting in into out.  Returns -1 when
 * authentication fails (wrong key, nonce, aad, ciphertext or tag); out is
 * then wiped, so unauthenticated plaintext never leaves.
 */
int	crypto_aead_open(const unsigned char key[CRYPTO_KEY_BYTES],
	    const unsigned char *nonce, size_t noncelen, const void *aad,
	    size_t aadlen, const void *in, size_t len, unsigned char *out,
	    const unsigned char tag[CRYPTO_TAG_BYTES]);
/*
 * The same with a key set up once (many small blocks under one key): the
 * nonce length is fixed at creation.  Each call still takes a fresh nonce.
 */
struct crypto_aead_key;
struct crypto_aead_key *crypto_aead_key_new(const unsigned char key[CRYPTO_KEY_BYTES],
	    size_t noncelen);
void	crypto_aead_key_free(struct crypto_aead_key *);
int	crypto_aead_key_seal(struct crypto_aead_key *, const unsigned char *nonce,
	    const void *aad, size_t aadlen, const void *in, size_t len,
	    unsigned char *out, unsigned char tag[CRYPTO_TAG_BYTES]);
int	crypto_aead_key_open(struct crypto_aead_key *, const unsigned char *nonce,
	    const void *aad, size_t aadlen, const void *in, size_t len,
	    unsigned char *out, const unsigned char tag[CRYPTO_TAG_BYTES]);

/* Fill buf with random bytes for nonces and ids; fatal if there are none. */
void	crypto_random(void *buf, size_t len);

/* ACME (issue 7): JOSE encodings. */
/* base64url without padding of len bytes (caller frees). */
char	*crypto_b64url(const void *, size_t len);
/* An ECDSA DER signature into raw R||S of 2*n bytes (n 32 for P-256);
 * -1 when der is not a signature or a part does not fit. */
int	crypto_ecdsa_der_to_raw(const unsigned char *der, size_t len,
	    unsigned char *raw, size_t n);

#endif
