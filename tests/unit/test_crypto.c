/* test_crypto.c: AES-256-GCM seal/open against published vectors and tampering;
 * a CA of its own (squid's ssl-bump CA), apart from the internal CA. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/x509v3.h>

#include "ca.h"
#include "crypto.h"
#include "keys.h"

#define NONCE_BYTES	12

/* Turn a hex string into bytes; returns how many. */
static size_t
unhex(const char *hex, unsigned char *out, size_t max)
{
	size_t		n = 0;
	unsigned int	byte;

	while (hex[0] != '\0' && hex[1] != '\0') {
		assert_true(n < max);
		assert_int_equal(sscanf(hex, "%2x", &byte), 1);
		out[n++] = (unsigned char)byte;
		hex += 2;
	}
	assert_true(*hex == '\0');
	return (n);
}

/* Whether every byte is zero. */
static int
all_zero(const unsigned char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] != 0)
			return (0);
	}
	return (1);
}

/*
 * The AES-256 cases of the GCM specification's test vectors (McGrew and
 * Viega, "The Galois/Counter Mode of Operation", test cases 13, 14 and 16).
 */
static const struct {
	const char	*key, *nonce, *aad, *plain, *cipher, *tag;
} vectors[] = {
	{	/* 13: no plaintext, no AAD: a bare GMAC */
		"0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000", "", "", "",
		"530f8afbc74536b9a963b4f1c4cb738b"
	},
	{	/* 14: one zero block */
		"0000000000000000000000000000000000000000000000000000000000000000",
		"000000000000000000000000", "",
		"00000000000000000000000000000000",
		"cea7403d4d606b6e074ec5d3baf39d18",
		"d0d1c8a799996bf0265b98b5d48ab919"
	},
	{	/* 16: AAD, and a plaintext that ends inside a block */
		"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		"cafebabefacedbaddecaf888",
		"feedfacedeadbeeffeedfacedeadbeefabaddad2",
		"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
		"8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
		"ba637b39",
		"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
		"2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
		"bcc9f662",
		"76fc6ece0f4e1768cddf8853bb2d551b"
	},
};

/* Seal gives the published ciphertext and tag; open gives the plaintext back. */
static void
test_known_answers(void **state)
{
	unsigned char	key[CRYPTO_KEY_BYTES], nonce[NONCE_BYTES], aad[64];
	unsigned char	plain[64], cipher[64], tag[CRYPTO_TAG_BYTES];
	unsigned char	out[64], outtag[CRYPTO_TAG_BYTES];
	size_t		i, aadlen, len;

	for (i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		assert_int_equal(unhex(vectors[i].key, key, sizeof key),
		    sizeof key);
		assert_int_equal(unhex(vectors[i].nonce, nonce, sizeof nonce),
		    sizeof nonce);
		aadlen = unhex(vectors[i].aad, aad, sizeof aad);
		len = unhex(vectors[i].plain, plain, sizeof plain);
		assert_int_equal(unhex(vectors[i].cipher, cipher,
		    sizeof cipher), len);
		assert_int_equal(unhex(vectors[i].tag, tag, sizeof tag),
		    sizeof tag);

		memset(out, 0xaa, sizeof out);
		assert_int_equal(crypto_aead_seal(key, nonce, sizeof nonce,
		    aad, aadlen, plain, len, out, outtag), 0);
		assert_memory_equal(out, cipher, len);
		assert_memory_equal(outtag, tag, sizeof tag);

		memset(out, 0xaa, sizeof out);
		assert_int_equal(crypto_aead_open(key, nonce, sizeof nonce,
		    aad, aadlen, cipher, len, out, tag), 0);
		assert_memory_equal(out, plain, len);
	}
}

/* Sealed data of any length opens to itself under the same inputs. */
static void
test_round_trip(void **state)
{
	static const size_t	 lens[] = { 0, 1, 15, 16, 17, 1000, 65536 };
	unsigned char		 key[CRYPTO_KEY_BYTES], nonce[NONCE_BYTES];
	unsigned char		 aad[40], tag[CRYPTO_TAG_BYTES];
	unsigned char		*plain, *sealed, *opened;
	size_t			 i, len;

	crypto_random(key, sizeof key);
	crypto_random(aad, sizeof aad);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		len = lens[i];
		plain = malloc(len + 1);
		sealed = malloc(len + 1);
		opened = malloc(len + 1);
		assert_non_null(plain);
		assert_non_null(sealed);
		assert_non_null(opened);
		crypto_random(plain, len + 1);
		crypto_random(nonce, sizeof nonce);

		assert_int_equal(crypto_aead_seal(key, nonce, sizeof nonce,
		    aad, sizeof aad, plain, len, sealed, tag), 0);
		if (len >= 16)
			assert_memory_not_equal(sealed, plain, len);
		assert_int_equal(crypto_aead_open(key, nonce, sizeof nonce,
		    aad, sizeof aad, sealed, len, opened, tag), 0);
		assert_memory_equal(opened, plain, len);
		free(plain);
		free(sealed);
		free(opened);
	}
}

/* One sealed message, and what open must reject. */
struct sealed {
	unsigned char	key[CRYPTO_KEY_BYTES];
	unsigned char	nonce[NONCE_BYTES];
	unsigned char	aad[24];
	unsigned char	plain[48];
	unsigned char	cipher[48];
	unsigned char	tag[CRYPTO_TAG_BYTES];
};

/* Seal a random message. */
static void
seal_random(struct sealed *m)
{
	crypto_random(m->key, sizeof m->key);
	crypto_random(m->nonce, sizeof m->nonce);
	crypto_random(m->aad, sizeof m->aad);
	crypto_random(m->plain, sizeof m->plain);
	assert_int_equal(crypto_aead_seal(m->key, m->nonce, sizeof m->nonce,
	    m->aad, sizeof m->aad, m->plain, sizeof m->plain, m->cipher,
	    m->tag), 0);
}

/* Open m; on failure the output must have been wiped. */
static int
open_sealed(const struct sealed *m, size_t aadlen)
{
	unsigned char	out[sizeof m->plain];
	int		rv;

	memset(out, 0xaa, sizeof out);
	rv = crypto_aead_open(m->key, m->nonce, sizeof m->nonce, m->aad,
	    aadlen, m->cipher, sizeof m->cipher, out, m->tag);
	if (rv == 0)
		assert_memory_equal(out, m->plain, sizeof out);
	else
		assert_true(all_zero(out, sizeof out));
	return (rv);
}

/* A single flipped bit anywhere (ciphertext, tag, AAD, nonce, key) is caught. */
static void
test_tampering(void **state)
{
	struct sealed	 m;
	unsigned char	*fields[] = { m.cipher, m.tag, m.aad, m.nonce, m.key };
	size_t		 sizes[] = { sizeof m.cipher, sizeof m.tag,
			    sizeof m.aad, sizeof m.nonce, sizeof m.key };
	size_t		 f, i;
	int		 bit;

	seal_random(&m);
	assert_int_equal(open_sealed(&m, sizeof m.aad), 0);
	for (f = 0; f < sizeof fields / sizeof fields[0]; f++) {
		for (i = 0; i < sizes[f]; i++) {
			for (bit = 0; bit < 8; bit += 7) {
				fields[f][i] ^= 1 << bit;
				assert_int_equal(open_sealed(&m, sizeof m.aad),
				    -1);
				fields[f][i] ^= 1 << bit;
			}
		}
	}
	/* Untouched again, it still opens: the failures were the flips. */
	assert_int_equal(open_sealed(&m, sizeof m.aad), 0);
}

/* AAD cut short, or a wrong key altogether, fails too. */
static void
test_wrong_inputs(void **state)
{
	struct sealed	m;

	seal_random(&m);
	assert_int_equal(open_sealed(&m, sizeof m.aad - 1), -1);
	assert_int_equal(open_sealed(&m, 0), -1);
	crypto_random(m.key, sizeof m.key);
	assert_int_equal(open_sealed(&m, sizeof m.aad), -1);
}

/* With no plaintext the tag alone authenticates the AAD (file headers). */
static void
test_aad_only(void **state)
{
	unsigned char	key[CRYPTO_KEY_BYTES], nonce[NONCE_BYTES], aad[52];
	unsigned char	tag[CRYPTO_TAG_BYTES];

	crypto_random(key, sizeof key);
	crypto_random(nonce, sizeof nonce);
	crypto_random(aad, sizeof aad);
	assert_int_equal(crypto_aead_seal(key, nonce, sizeof nonce, aad,
	    sizeof aad, NULL, 0, NULL, tag), 0);
	assert_int_equal(crypto_aead_open(key, nonce, sizeof nonce, aad,
	    sizeof aad, NULL, 0, NULL, tag), 0);
	aad[sizeof aad - 1] ^= 0x80;
	assert_int_equal(crypto_aead_open(key, nonce, sizeof nonce, aad,
	    sizeof aad, NULL, 0, NULL, tag), -1);
}

/* Random bytes are not all zero, nor the same twice. */
static void
test_random(void **state)
{
	unsigned char	a[32], b[32];

	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	crypto_random(a, sizeof a);
	crypto_random(b, sizeof b);
	assert_false(all_zero(a, sizeof a));
	assert_memory_not_equal(a, b, sizeof a);
	crypto_random(a, 0);
}

/*
 * A CA of its own (squid's ssl-bump CA): self-signed, path length 0, apart
 * from the internal CA; its key signs a leaf that verifies with it as the
 * only trust anchor and no partial-chain flag (what squid's made-up
 * certificates and any client trusting bump-ca.crt do), and not with the
 * internal CA.
 */
static void
test_own_root_ca(void **state)
{
	char		 top[] = "/tmp/test_crypto.XXXXXX", dir[64], err[256];
	char		 cmd[96];
	EVP_PKEY	*key, *leafkey;
	X509		*sub, *leaf;
	X509_STORE	*store;
	X509_STORE_CTX	*ctx;
	STACK_OF(X509)	*chain;

	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof dir, "%s/keys", top);
	assert_int_equal(keys_open(dir, err, sizeof err), 0);
	snprintf(dir, sizeof dir, "%s/ca", top);
	assert_int_equal(ca_open(dir, "test", err, sizeof err), 0);
	assert_int_equal(ca_make_root("test ssl-bump CA", 86400, &key, &sub,
	    err, sizeof err), 0);
	assert_false(ca_signed(sub));
	assert_int_equal(X509_check_issued(sub, sub), X509_V_OK);
	assert_int_equal(X509_verify(sub, key), 1);
	assert_int_equal(X509_check_ca(sub), 1);
	assert_int_equal(X509_get_pathlen(sub), 0);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	/* A leaf it signs, as squid makes them up. */
	leafkey = EVP_EC_gen("P-256");
	leaf = X509_new();
	X509_set_version(leaf, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(leaf), 7);
	X509_gmtime_adj(X509_getm_notBefore(leaf), -60);
	X509_gmtime_adj(X509_getm_notAfter(leaf), 3600);
	X509_set_pubkey(leaf, leafkey);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf), "CN",
	    MBSTRING_UTF8, (const unsigned char *)"site.test", -1, -1, 0);
	X509_set_issuer_name(leaf, X509_get_subject_name(sub));
	assert_true(X509_sign(leaf, key, EVP_sha256()) > 0);
	assert_false(ca_signed(leaf));
	store = X509_STORE_new();
	X509_STORE_add_cert(store, sub);
	ctx = X509_STORE_CTX_new();
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	/* Apart from the internal CA: trusting that alone, it does not verify
	 * (clients trust bump-ca.crt; netcraved.8). */
	store = X509_STORE_new();
	X509_STORE_add_cert(store, ca_certificate());
	chain = sk_X509_new_null();
	sk_X509_push(chain, sub);
	ctx = X509_STORE_CTX_new();
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, chain), 1);
	assert_int_not_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	sk_X509_free(chain);
	X509_STORE_free(store);
	X509_free(leaf);
	EVP_PKEY_free(leafkey);
	X509_free(sub);
	EVP_PKEY_free(key);
	ca_close();
	keys_close();
	snprintf(cmd, sizeof cmd, "rm -rf %s", top);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_wrong_inputs),
		cmocka_unit_test(test_aad_only),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_own_root_ca),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
