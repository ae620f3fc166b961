/* acme.h: the ACME (RFC 8555) client on the loop: certificates ordered from a
 * CA, challenges answered by our own DNS (dns-01) or HTTP layer (http-01). */
#ifndef NETCRAVE_ACME_H
#define NETCRAVE_ACME_H

#include <stddef.h>
#include <time.h>

#include <yajl/yajl_gen.h>

#include "server.h"

struct json;

/* Pure parts, unit-tested and fuzzed. */
/* Retry-After (delta seconds or an HTTP date) as seconds from now; -1 if bad. */
long		 acme_retry_after(const char *, time_t now);
/* The parts of the CA's answers we use; -1 with err when a field is wrong. */
struct acme_directory {
	char	*new_nonce, *new_account, *new_order, *renewal_info;
};
int		 acme_parse_directory(const char *, size_t,
		    struct acme_directory *, char *err, size_t errlen);
void		 acme_directory_clear(struct acme_directory *);
/* A problem document's "type: detail" (caller frees), or NULL. */
char		*acme_parse_problem(const char *, size_t);
/* An order: status, finalize and certificate URLs, authorizations. */
struct acme_order_doc {
	char	*status, *finalize, *certificate;
	char	**authz;
	size_t	 nauthz;
};
int		 acme_parse_order(const char *, size_t, struct acme_order_doc *,
		    char *err, size_t errlen);
void		 acme_order_doc_clear(struct acme_order_doc *);
/* An authorization: its status, the challenge of type want (token, url)
 * and, when refused, the CA's reason ("type: detail"). */
struct acme_authz_doc {
	char	*status, *token, *url, *error;
	char	*identifier;	/* the name (a wildcard's base name) */
};
int		 acme_parse_authz(const char *, size_t, const char *want,
		    struct acme_authz_doc *, char *err, size_t errlen);
void		 acme_authz_doc_clear(struct acme_authz_doc *);
/* ARI renewalInfo: the suggested window [start, end]; -1 if bad. */
int		 acme_parse_renewal_info(const char *, size_t, time_t *start,
		    time_t *end);
/* RFC 8288 Link header value: the https URLs of its links with rel, added
 * to the NULL-terminated list *urls of *n (util_strv_free). */
void		 acme_parse_links(const char *value, const char *rel,
		    char ***urls, size_t *n);
/* 1 if the topmost certificate of the PEM chain was issued by a CA whose
 * common name is cn (as certbot's --preferred-chain), 0 if not, -1 if the
 * text holds no certificate. */
int		 acme_chain_issued_by(const char *pem, size_t len,
		    const char *cn);
/* RFC 9773 4.1: the certificate's ARI identifier, base64url(key identifier
 * of its Authority Key Identifier) "." base64url(its serial's DER octets). */
char		*acme_ari_cert_id(const unsigned char *aki, size_t akilen,
		    const unsigned char *serial, size_t seriallen);
/* When to wake after a renewalInfo answer: the renewal time, or sooner to
 * ask again after retry_after seconds (RFC 9773 4.3; -1: none given, six
 * hours; at least a minute). */
time_t		 acme_ari_wake(time_t now, time_t renew_at, long retry_after);
/* The renewal time: a point in the ARI window if known, else pct of the
 * lifetime after not_before. */
time_t		 acme_renew_time(time_t not_before, time_t not_after,
		    unsigned int pct, time_t ari_start, time_t ari_end);

/*
 * Certificates kept for other servers (certificate volumes, the ingress):
 * ordered for names (one authorization per name) and renewed while
 * registered.  done hears of every issuance (the PEM chain, leaf first, and
 * the PEM key) and of every failed order (error set, chain NULL; the client
 * backs off and tries again, the holder keeps its current certificate).
 * not_after 0: no certificate yet, order at once.  Registrations outlive a
 * reload of the acme section; they start when it runs.
 */
struct acme_order;
typedef void	(*acme_cert_fn)(const char *error, const char *chain,
		    size_t chainlen, const char *key, size_t keylen, void *arg);
struct acme_order *acme_cert_add(const char *label, char *const *names,
		    time_t not_before, time_t not_after, acme_cert_fn, void *);
void		 acme_cert_remove(struct acme_order *);
/*
 * When a holder's certificate is renewed next: the ACME client's time once it
 * runs (its order's timer: ARI, back-off), else a third of the lifetime
 * before the end (the internal CA's rule, and o NULL: no ACME order).
 * error: the order's last failure, NULL since the last issuance or none.
 */
time_t		 acme_cert_renew_next(const struct acme_order *o,
		    time_t not_before, time_t not_after, const char **error);
/* The certificates of acme.names as GET /certs entries, appended to the
 * array open in g. */
void		 acme_certs_json(yajl_gen g);
/* 1 when the acme section is configured and the client runs. */
int		 acme_running(void);
/* The CA's root certificate file (acme.issuer_root), NULL if none known. */
const char	*acme_issuer_root(void);

extern const struct server acme_server;

#endif
