/* acme.h: the ACME (RFC 8555) client on the loop: certificates ordered from a
 * CA, challenges answered by our own DNS (dns-01) or HTTP layer (http-01). */
#ifndef NETCRAVE_ACME_H
#define NETCRAVE_ACME_H

#include <stddef.h>
#include <time.h>

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
};
int		 acme_parse_authz(const char *, size_t, const char *want,
		    struct acme_authz_doc *, char *err, size_t errlen);
void		 acme_authz_doc_clear(struct acme_authz_doc *);
/* ARI renewalInfo: the suggested window [start, end]; -1 if bad. */
int		 acme_parse_renewal_info(const char *, size_t, time_t *start,
		    time_t *end);
/* The renewal time: a point in the ARI window if known, else pct of the
 * lifetime after not_before. */
time_t		 acme_renew_time(time_t not_before, time_t not_after,
		    unsigned int pct, time_t ari_start, time_t ari_end);

extern const struct server acme_server;

#endif
