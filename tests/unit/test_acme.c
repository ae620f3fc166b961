/* test_acme.c: the pure parts of the ACME client: base64url, ECDSA DER to
 * raw R||S, Retry-After, the directory and problem documents, ARI (RFC 9773)
 * renewalInfo and the renewal time chosen from it or from the lifetime,
 * authorizations' identifiers, Link headers and the preferred chain. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme.h"
#include "crypto.h"

static void
test_b64url(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		/* RFC 4648 section 10, without padding */
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" },
		/* the URL-safe letters */
		{ "\xfb\xff\xbf", "-_-_" },
	};
	size_t	 i;
	char	*s;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		s = crypto_b64url(v[i].in, strlen(v[i].in));
		assert_string_equal(s, v[i].out);
		free(s);
	}
}

static void
test_der_to_raw(void **state)
{
	/* r = 1, s = 2 */
	static const unsigned char small[] = { 0x30, 0x06, 0x02, 0x01, 0x01,
	    0x02, 0x01, 0x02 };
	/* r = 0x80 and s = 0xff with the sign byte DER adds */
	static const unsigned char pad[] = { 0x30, 0x08, 0x02, 0x02, 0x00, 0x80,
	    0x02, 0x02, 0x00, 0xff };
	static const unsigned char trailing[] = { 0x30, 0x06, 0x02, 0x01, 0x01,
	    0x02, 0x01, 0x02, 0x00 };
	unsigned char	raw[64], want[64];

	(void)state;
	memset(want, 0, sizeof want);
	want[31] = 1;
	want[63] = 2;
	assert_int_equal(crypto_ecdsa_der_to_raw(small, sizeof small, raw, 32), 0);
	assert_memory_equal(raw, want, 64);
	memset(want, 0, sizeof want);
	want[31] = 0x80;
	want[63] = 0xff;
	assert_int_equal(crypto_ecdsa_der_to_raw(pad, sizeof pad, raw, 32), 0);
	assert_memory_equal(raw, want, 64);
	assert_int_equal(crypto_ecdsa_der_to_raw(trailing, sizeof trailing, raw,
	    32), -1);
	assert_int_equal(crypto_ecdsa_der_to_raw(small, 3, raw, 32), -1);
}

/* A real P-256 signature survives DER -> R||S -> DER and still verifies. */
static void
test_der_to_raw_roundtrip(void **state)
{
	EVP_PKEY	*key;
	EVP_MD_CTX	*ctx;
	ECDSA_SIG	*sig;
	unsigned char	 der[80], raw[64], *back = NULL;
	size_t		 len = sizeof der;
	int		 blen, i;

	(void)state;
	for (i = 0; i < 20; i++) {
		key = EVP_EC_gen("P-256");
		assert_non_null(key);
		ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
		    key), 1);
		len = sizeof der;
		assert_int_equal(EVP_DigestSign(ctx, der, &len,
		    (const unsigned char *)"abc", 3), 1);
		EVP_MD_CTX_free(ctx);
		assert_int_equal(crypto_ecdsa_der_to_raw(der, len, raw, 32), 0);
		sig = ECDSA_SIG_new();
		ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL),
		    BN_bin2bn(raw + 32, 32, NULL));
		blen = i2d_ECDSA_SIG(sig, &back);
		ECDSA_SIG_free(sig);
		ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(),
		    NULL, key), 1);
		assert_int_equal(EVP_DigestVerify(ctx, back, (size_t)blen,
		    (const unsigned char *)"abc", 3), 1);
		EVP_MD_CTX_free(ctx);
		OPENSSL_free(back);
		back = NULL;
		EVP_PKEY_free(key);
	}
}

static void
test_retry_after(void **state)
{
	/* Fri, 31 Dec 1999 23:59:59 GMT (RFC 9110's example) */
	time_t	t = 946684799;

	(void)state;
	assert_int_equal(acme_retry_after("120", t), 120);
	assert_int_equal(acme_retry_after("0", t), 0);
	assert_int_equal(acme_retry_after("Fri, 31 Dec 1999 23:59:59 GMT",
	    t - 10), 10);
	assert_int_equal(acme_retry_after("Fri, 31 Dec 1999 23:59:59 GMT",
	    t + 10), 0);
	assert_int_equal(acme_retry_after(NULL, t), -1);
	assert_int_equal(acme_retry_after("", t), -1);
	assert_int_equal(acme_retry_after("-5", t), -1);
	assert_int_equal(acme_retry_after("12abc", t), -1);
	assert_int_equal(acme_retry_after("99999999", t), -1);
	assert_int_equal(acme_retry_after("Fri, 31 Dec 1999", t), -1);
}

static void
test_directory(void **state)
{
	static const char pebble[] = "{\"keyChange\":\"https://localhost:14000/"
	    "rollover-account-key\",\"meta\":{\"externalAccountRequired\":false,"
	    "\"termsOfService\":\"data:text/plain,Do%20what%20thou%20wilt\"},"
	    "\"newAccount\":\"https://localhost:14000/sign-me-up\","
	    "\"newNonce\":\"https://localhost:14000/nonce-plz\","
	    "\"newOrder\":\"https://localhost:14000/order-plz\","
	    "\"revokeCert\":\"https://localhost:14000/revoke-cert\"}";
	static const char nonew[] = "{\"newNonce\":\"https://a/n\","
	    "\"newAccount\":\"https://a/a\"}";
	static const char plain[] = "{\"newNonce\":\"http://a/n\","
	    "\"newAccount\":\"https://a/a\",\"newOrder\":\"https://a/o\"}";
	struct acme_directory	d;
	char			err[256];

	(void)state;
	assert_int_equal(acme_parse_directory(pebble, strlen(pebble), &d, err,
	    sizeof err), 0);
	assert_string_equal(d.new_order, "https://localhost:14000/order-plz");
	assert_string_equal(d.new_nonce, "https://localhost:14000/nonce-plz");
	assert_null(d.renewal_info);
	acme_directory_clear(&d);
	assert_int_equal(acme_parse_directory(nonew, strlen(nonew), &d, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "newOrder"));
	assert_int_equal(acme_parse_directory(plain, strlen(plain), &d, err,
	    sizeof err), -1);
	assert_int_equal(acme_parse_directory("{", 1, &d, err, sizeof err), -1);
}

static void
test_problem(void **state)
{
	/* RFC 8555 section 6.7's badNonce, as pebble sends it */
	static const char bad[] = "{\"type\":\"urn:ietf:params:acme:error:"
	    "badNonce\",\"detail\":\"JWS has an invalid anti-replay nonce\","
	    "\"status\":400}";
	char	*p;

	(void)state;
	p = acme_parse_problem(bad, strlen(bad));
	assert_string_equal(p, "urn:ietf:params:acme:error:badNonce: JWS has "
	    "an invalid anti-replay nonce");
	free(p);
	assert_null(acme_parse_problem("{}", 2));
	assert_null(acme_parse_problem("<html>", 6));
}

static void
test_links(void **state)
{
	/* RFC 8555 7.4.2: the certificate's answer, pebble's spelling and
	 * two links in one header value. */
	char	**urls = NULL;
	size_t	  n = 0;

	(void)state;
	acme_parse_links("<https://ca.test/dir>;rel=\"index\"", "alternate",
	    &urls, &n);
	assert_int_equal(n, 0);
	acme_parse_links("<https://ca.test/cert/1/1>;rel=\"alternate\"",
	    "alternate", &urls, &n);
	acme_parse_links("<https://ca.test/cert/1/2>; rel=alternate, "
	    "<https://ca.test/i>; rel=\"up\", <http://plain.test/x>; "
	    "rel=\"alternate\", <https://ca.test/y>; rel=\"alternates\"",
	    "alternate", &urls, &n);
	assert_int_equal(n, 2);
	assert_string_equal(urls[0], "https://ca.test/cert/1/1");
	assert_string_equal(urls[1], "https://ca.test/cert/1/2");
	assert_null(urls[2]);
	acme_parse_links("<https://ca.test/i>; rel=\"up\"", "up", &urls, &n);
	assert_int_equal(n, 3);
	acme_parse_links("<https://broken", "up", &urls, &n);
	acme_parse_links("", "up", &urls, &n);
	assert_int_equal(n, 3);
	for (n = 0; urls[n] != NULL; n++)
		free(urls[n]);
	free(urls);
}

/* A certificate for cn issued by the CA named issuer, as PEM. */
static char *
make_cert(const char *cn, const char *issuer, EVP_PKEY *key)
{
	X509	*x = X509_new();
	BIO	*b = BIO_new(BIO_s_mem());
	char	*data, *out;
	long	 len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)issuer, -1, -1, 0);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	PEM_write_bio_X509(b, x);
	len = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)len);
	BIO_free(b);
	X509_free(x);
	return (out);
}

static void
test_chain_issued_by(void **state)
{
	EVP_PKEY	*key = EVP_EC_gen("P-256");
	char		*leaf, *inter, *chain;

	(void)state;
	leaf = make_cert("www.test", "Pebble Intermediate A", key);
	inter = make_cert("Pebble Intermediate A", "Pebble Root B", key);
	assert_non_null(chain = malloc(strlen(leaf) + strlen(inter) + 1));
	strcpy(chain, leaf);
	strcat(chain, inter);
	/* The topmost certificate's issuer decides, not the leaf's. */
	assert_int_equal(acme_chain_issued_by(chain, strlen(chain),
	    "Pebble Root B"), 1);
	assert_int_equal(acme_chain_issued_by(chain, strlen(chain),
	    "Pebble Intermediate A"), 0);
	assert_int_equal(acme_chain_issued_by(leaf, strlen(leaf),
	    "Pebble Intermediate A"), 1);
	assert_int_equal(acme_chain_issued_by("junk", 4, "x"), -1);
	free(leaf);
	free(inter);
	free(chain);
	EVP_PKEY_free(key);
}

static void
test_authz_identifier(void **state)
{
	/* RFC 8555 7.1.4's example, for a wildcard: the base name. */
	static const char doc[] = "{\"status\":\"pending\",\"identifier\":"
	    "{\"type\":\"dns\",\"value\":\"www.example.org\"},\"wildcard\":"
	    "true,\"challenges\":[{\"type\":\"dns-01\",\"url\":"
	    "\"https://example.com/acme/chall/Rg5dV14Gh1Q\",\"token\":"
	    "\"DGyRejmCefe7v4NfDGDKfA\"}]}";
	struct acme_authz_doc	d;
	char			err[128];

	(void)state;
	assert_int_equal(acme_parse_authz(doc, strlen(doc), "dns-01", &d, err,
	    sizeof err), 0);
	assert_string_equal(d.identifier, "www.example.org");
	assert_string_equal(d.token, "DGyRejmCefe7v4NfDGDKfA");
	acme_authz_doc_clear(&d);
	assert_int_equal(acme_parse_authz("{\"status\":", 11, "dns-01", &d,
	    err, sizeof err), -1);
	/* acme_parse_open names the document and the place. */
	assert_int_equal(strncmp(err, "authorization: 1:", 17), 0);
}

static void
test_ari_cert_id(void **state)
{
	/* RFC 9773 4.1's example: keyIdentifier and serial 00:87:65:43:21. */
	static const unsigned char aki[] = {
		0x69, 0x88, 0x5b, 0x6b, 0x87, 0x46, 0x40, 0x41, 0xe1, 0xb3,
		0x7b, 0x84, 0x7b, 0xa0, 0xae, 0x2c, 0xde, 0x01, 0xc8, 0xd4
	};
	static const unsigned char serial[] = { 0x00, 0x87, 0x65, 0x43, 0x21 };
	char	*id;

	(void)state;
	id = acme_ari_cert_id(aki, sizeof aki, serial, sizeof serial);
	assert_string_equal(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	free(id);
	assert_null(acme_ari_cert_id(aki, 0, serial, sizeof serial));
}

static void
test_ari_wake(void **state)
{
	/* RFC 9773's window 2025-01-02T04:00Z..2025-01-03T04:00Z, asked on
	 * 2025-01-01T00:00Z: renewal at its middle; wake to ask again after
	 * Retry-After (21600 s), or six hours when none was given. */
	static const char doc[] = "{\"suggestedWindow\":{\"start\":"
	    "\"2025-01-02T04:00:00Z\",\"end\":\"2025-01-03T04:00:00Z\"},"
	    "\"explanationURL\":\"https://acme.example.com/docs/ari\"}";
	time_t	now = 1735689600, start, end, at;

	(void)state;
	assert_int_equal(acme_parse_renewal_info(doc, strlen(doc), &start,
	    &end), 0);
	at = acme_renew_time(now - 86400, now + 30 * 86400, 66, start, end);
	assert_int_equal(at, 1735833600);	/* 2025-01-02T16:00Z */
	assert_true(at >= start && at <= end);
	assert_int_equal(acme_ari_wake(now, at, 21600), now + 21600);
	assert_int_equal(acme_ari_wake(now, at, -1), now + 6 * 3600);
	/* Retry-After beyond the renewal time: wake to renew. */
	assert_int_equal(acme_ari_wake(now, at, 86400 * 3), at);
	/* A zero Retry-After is not a busy loop. */
	assert_int_equal(acme_ari_wake(now, at, 0), now + 60);
}

static void
test_ari(void **state)
{
	/* RFC 9773 section 4.2's example response */
	static const char ex[] = "{\n  \"suggestedWindow\": {\n"
	    "    \"start\": \"2025-01-02T04:00:00Z\",\n"
	    "    \"end\": \"2025-01-03T04:00:00Z\"\n  },\n"
	    "  \"explanationURL\": \"https://acme.example.com/docs/ari\"\n}";
	static const char offset[] = "{\"suggestedWindow\":{"
	    "\"start\":\"2025-01-02T05:00:00.123+01:00\","
	    "\"end\":\"2025-01-03T04:00:00Z\"}}";
	static const char inverted[] = "{\"suggestedWindow\":{"
	    "\"start\":\"2025-01-03T04:00:00Z\",\"end\":\"2025-01-02T04:00:00Z\"}}";
	time_t	s, e;

	(void)state;
	assert_int_equal(acme_parse_renewal_info(ex, strlen(ex), &s, &e), 0);
	assert_int_equal(s, 1735790400);
	assert_int_equal(e, 1735876800);
	/* The window's middle, whatever the lifetime says. */
	assert_int_equal(acme_renew_time(1735000000, 1742000000, 66, s, e),
	    1735833600);
	assert_int_equal(acme_parse_renewal_info(offset, strlen(offset), &s, &e),
	    0);
	assert_int_equal(s, 1735790400);
	assert_int_equal(acme_parse_renewal_info(inverted, strlen(inverted), &s,
	    &e), -1);
	assert_int_equal(acme_parse_renewal_info("{}", 2, &s, &e), -1);
	assert_int_equal(acme_parse_renewal_info("{\"suggestedWindow\":{"
	    "\"start\":\"tomorrow\",\"end\":\"2025-01-03T04:00:00Z\"}}", 67, &s,
	    &e), -1);
}

static void
test_renew_time(void **state)
{
	(void)state;
	/* No ARI: two thirds (66%) of a 90-day certificate. */
	assert_int_equal(acme_renew_time(1000, 1000 + 90 * 86400, 66, 0, 0),
	    1000 + (time_t)(90 * 86400 * 0.66));
	assert_int_equal(acme_renew_time(0, 30, 10, 0, 0), 3);
	assert_int_equal(acme_renew_time(50, 40, 66, 0, 0), 50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_der_to_raw),
		cmocka_unit_test(test_der_to_raw_roundtrip),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_problem),
		cmocka_unit_test(test_ari),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_ari_cert_id),
		cmocka_unit_test(test_ari_wake),
		cmocka_unit_test(test_chain_issued_by),
		cmocka_unit_test(test_authz_identifier),
		cmocka_unit_test(test_renew_time),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
