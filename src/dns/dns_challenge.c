/* dns_challenge.c: ACME dns-01 answered by our own DNS server: the TXT record
 * _acme-challenge.<name> lives in a source of its own ("acme:<name>") so the
 * follower's and the operator's records are never touched by it. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dns_private.h"
#include "util.h"
#include "xmalloc.h"

/* Whether name (no trailing dot needed) lies in one of db's zones. */
static int
dns_challenge_in_zone(struct dns_db *db, const char *name)
{
	const char	*apex;
	size_t		 i, nlen, alen;

	nlen = strlen(name);
	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	for (i = 0; i < dns_db_nzones(db); i++) {
		apex = dns_db_apex(db, i);
		alen = strlen(apex);
		if (alen > 0 && apex[alen - 1] == '.')
			alen--;
		if (alen == 0)
			return (1);
		if (nlen == alen && strncasecmp(name, apex, alen) == 0)
			return (1);
		if (nlen > alen && name[nlen - alen - 1] == '.' &&
		    strncasecmp(name + nlen - alen, apex, alen) == 0)
			return (1);
	}
	return (0);
}

int
dns_challenge_add(const char *name, const char *value, char *err,
    size_t errlen)
{
	struct dns_db	 *db = dns_server_db();
	struct dns_rec	**rrs = NULL;
	size_t		  n = 0, cap = 0;
	ldns_rr		 *rr = NULL;
	char		 *text, *id;
	const char	 *dot;

	if (db == NULL) {
		snprintf(err, errlen, "dns-01: the DNS server is not running");
		return (-1);
	}
	if (!dns_challenge_in_zone(db, name)) {
		snprintf(err, errlen, "dns-01: %s is outside the zones served "
		    "(delegate _acme-challenge by CNAME)", name);
		return (-1);
	}
	if (strpbrk(value, "\"\\ ") != NULL) {
		snprintf(err, errlen, "dns-01: bad TXT value");
		return (-1);
	}
	dot = name[strlen(name) - 1] == '.' ? "" : ".";
	xasprintf(&text, "_acme-challenge.%s%s 0 IN TXT \"%s\"", name, dot,
	    value);
	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "dns-01: cannot make %s", text);
		free(text);
		return (-1);
	}
	free(text);
	ldns_dname2canonical(ldns_rr_owner(rr));
	dns_rrs_push(&rrs, &n, &cap, rr);
	xasprintf(&id, "acme:%s", name);
	dns_source_replace(db, id, rrs, n);
	free(id);
	/* Answer at once: pebble asks as soon as the challenge is posted. */
	dns_db_commit(db);
	return (0);
}

void
dns_challenge_remove(const char *name)
{
	struct dns_db	*db = dns_server_db();
	char		*id;

	if (db == NULL)
		return;
	xasprintf(&id, "acme:%s", name);
	dns_source_replace(db, id, NULL, 0);
	free(id);
	dns_db_commit(db);
}
