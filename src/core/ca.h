/* ca.h: netcraved's internal certificate authority: one ECDSA P-256 CA whose
 * private key is sealed at rest with the key "ca" from keys.h; it issues the
 * server certificates of TLS listeners and client certificates for mutual
 * TLS. */
#ifndef NETCRAVE_CA_H
#define NETCRAVE_CA_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

/*
 * Load the CA from dir (ca.crt, ca.key.sealed), or make one when dir holds
 * none; name goes into its subject.  Keys must be open.
 */
int	ca_open(const char *dir, const char *name, char *err, size_t errlen);
void	ca_close(void);
/* The CA certificate (borrowed) and the path of its PEM file. */
X509	*ca_certificate(void);
const char *ca_certificate_path(void);

/*
 * Issue a certificate for cn with subjectAltNames names (NULL-terminated;
 * IP literals become IP entries), for a server or a client, valid for days.
 */
int	ca_issue(const char *cn, const char *const *names, int client,
	    unsigned int days, EVP_PKEY **key, X509 **cert, char *err,
	    size_t errlen);
/* The same for a lifetime in seconds (short ones: up to a tenth backdated). */
int	ca_issue_for(const char *cn, const char *const *names, int client,
	    unsigned int seconds, EVP_PKEY **key, X509 **cert, char *err,
	    size_t errlen);
/*
 * Make a CA of its own for cn valid for seconds: self-signed, path length 0,
 * apart from the internal CA (squid's ssl-bump CA, which signs the
 * certificates squid makes up).  A root, so every TLS client that trusts it
 * verifies those; under the internal CA, whose path length is 0, they would
 * verify only in clients that take a partial chain (curl does, most do not).
 */
int	ca_make_root(const char *cn, unsigned int seconds, EVP_PKEY **key,
	    X509 **cert, char *err, size_t errlen);
/* Whether cert was signed by the internal CA's key. */
int	ca_signed(X509 *cert);
/*
 * A TLS server context (TLS 1.2 minimum, 1.3 preferred) with a fresh
 * certificate for names; require_client: only clients presenting a
 * certificate from this CA get through the handshake.
 */
SSL_CTX	*ca_server_context(const char *const *names, int require_client,
	    char *err, size_t errlen);
/* A TLS client context trusting this CA, with a client certificate for cn. */
SSL_CTX	*ca_client_context(const char *cn, char *err, size_t errlen);
/*
 * Write a client certificate for cn as dir/cn.crt, dir/cn.key and
 * dir/cn.p12 (no password, 0600) beside dir/ca.crt, unless present.
 */
int	ca_write_client(const char *dir, const char *cn, char *err, size_t errlen);

/* An X.509 time as seconds since the epoch (0 if it cannot be read). */
time_t		 ca_time(const ASN1_TIME *);

#endif
