/* acme_parse.c: the CA's answers read into what the client uses (directory,
 * problem documents, ARI renewalInfo) and the times derived from headers;
 * pure functions, unit-tested and fuzzed. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme.h"
#include "crypto.h"
#include "json.h"
#include "xmalloc.h"

long
acme_retry_after(const char *v, time_t now)
{
	struct tm	 tm;
	const char	*end;
	char		*ep;
	long		 n;
	time_t		 t;

	if (v == NULL)
		return (-1);
	while (*v == ' ')
		v++;
	if (isdigit((unsigned char)*v)) {
		n = strtol(v, &ep, 10);
		while (*ep == ' ')
			ep++;
		if (*ep != '\0' || n < 0 || n > 86400)
			return (-1);
		return (n);
	}
	memset(&tm, 0, sizeof tm);
	if ((end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) == NULL ||
	    *end != '\0')
		return (-1);
	if ((t = timegm(&tm)) == (time_t)-1)
		return (-1);
	if (t <= now)
		return (0);
	if (t - now > 86400)
		return (86400);
	return ((long)(t - now));
}

/* The document parsed, or NULL with "what: line:column: message" in err. */
static struct json *
acme_parse_open(const char *what, const char *text, size_t len, char *err,
    size_t errlen)
{
	struct json		*j;
	struct json_error	 je;

	if ((j = json_parse(text, len, 0, &je)) == NULL && err != NULL)
		snprintf(err, errlen, "%s: %u:%u: %s", what, je.line,
		    je.column, je.message);
	return (j);
}

static char *
acme_dup_url(const struct json *j, const char *key)
{
	const char	*s;

	if ((s = json_get_string(j, key)) == NULL)
		return (NULL);
	if (strncmp(s, "https://", 8) != 0)
		return (NULL);
	return (xstrdup(s));
}

void
acme_directory_clear(struct acme_directory *d)
{
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->renewal_info);
	memset(d, 0, sizeof *d);
}

int
acme_parse_directory(const char *text, size_t len, struct acme_directory *d,
    char *err, size_t errlen)
{
	struct json		*j;

	memset(d, 0, sizeof *d);
	if ((j = acme_parse_open("directory", text, len, err, errlen)) == NULL)
		return (-1);
	d->new_nonce = acme_dup_url(j, "newNonce");
	d->new_account = acme_dup_url(j, "newAccount");
	d->new_order = acme_dup_url(j, "newOrder");
	d->renewal_info = acme_dup_url(j, "renewalInfo");
	json_free(j);
	if (d->new_nonce == NULL || d->new_account == NULL ||
	    d->new_order == NULL) {
		snprintf(err, errlen, "directory: newNonce, newAccount or "
		    "newOrder missing or not https");
		acme_directory_clear(d);
		return (-1);
	}
	return (0);
}

char *
acme_parse_problem(const char *text, size_t len)
{
	struct json		*j;
	const char		*type, *detail;
	char			*out = NULL;

	if ((j = acme_parse_open("problem", text, len, NULL, 0)) == NULL)
		return (NULL);
	type = json_get_string(j, "type");
	detail = json_get_string(j, "detail");
	if (type != NULL || detail != NULL)
		xasprintf(&out, "%s: %s", type != NULL ? type : "problem",
		    detail != NULL ? detail : "(no detail)");
	json_free(j);
	return (out);
}

static char *
acme_dup(const struct json *j, const char *key)
{
	const char	*s = json_get_string(j, key);

	return (s != NULL ? xstrdup(s) : NULL);
}

void
acme_order_doc_clear(struct acme_order_doc *d)
{
	size_t	i;

	free(d->status);
	free(d->finalize);
	free(d->certificate);
	for (i = 0; i < d->nauthz; i++)
		free(d->authz[i]);
	free(d->authz);
	memset(d, 0, sizeof *d);
}

int
acme_parse_order(const char *text, size_t len, struct acme_order_doc *d,
    char *err, size_t errlen)
{
	struct json		*j;
	const struct json	*az;
	size_t			 i;

	memset(d, 0, sizeof *d);
	if ((j = acme_parse_open("order", text, len, err, errlen)) == NULL)
		return (-1);
	d->status = acme_dup(j, "status");
	d->finalize = acme_dup_url(j, "finalize");
	d->certificate = acme_dup_url(j, "certificate");
	az = json_get(j, "authorizations");
	if (d->status == NULL || az == NULL || az->type != JSON_ARRAY ||
	    az->nchildren > 100) {
		snprintf(err, errlen, "order: no status or authorizations");
		goto fail;
	}
	d->authz = xcalloc(az->nchildren + 1, sizeof *d->authz);
	for (i = 0; i < az->nchildren; i++) {
		if (az->children[i]->type != JSON_STRING ||
		    strlen(az->children[i]->string) !=
		    az->children[i]->string_len) {
			snprintf(err, errlen, "order: bad authorization URL");
			goto fail;
		}
		d->authz[d->nauthz++] = xstrdup(az->children[i]->string);
	}
	json_free(j);
	return (0);
fail:
	json_free(j);
	acme_order_doc_clear(d);
	return (-1);
}

void
acme_authz_doc_clear(struct acme_authz_doc *d)
{
	free(d->status);
	free(d->token);
	free(d->url);
	free(d->error);
	free(d->identifier);
	memset(d, 0, sizeof *d);
}

int
acme_parse_authz(const char *text, size_t len, const char *want,
    struct acme_authz_doc *d, char *err, size_t errlen)
{
	struct json		*j;
	const struct json	*chs, *c, *e;
	const char		*type, *token;
	size_t			 i;

	memset(d, 0, sizeof *d);
	if ((j = acme_parse_open("authorization", text, len, err, errlen)) ==
	    NULL)
		return (-1);
	if ((d->status = acme_dup(j, "status")) == NULL) {
		snprintf(err, errlen, "authorization: no status");
		json_free(j);
		return (-1);
	}
	/* RFC 8555 7.1.4: a wildcard's identifier is the base name, the one
	 * whose _acme-challenge record dns-01 wants. */
	d->identifier = acme_dup(json_get(j, "identifier"), "value");
	chs = json_get(j, "challenges");
	for (i = 0; chs != NULL && chs->type == JSON_ARRAY &&
	    i < chs->nchildren; i++) {
		c = chs->children[i];
		if ((e = json_get(c, "error")) != NULL && d->error == NULL)
			xasprintf(&d->error, "%s: %s",
			    json_get_string(e, "type") != NULL ?
			    json_get_string(e, "type") : "error",
			    json_get_string(e, "detail") != NULL ?
			    json_get_string(e, "detail") : "(no detail)");
		if ((type = json_get_string(c, "type")) == NULL ||
		    strcmp(type, want) != 0 || d->url != NULL)
			continue;
		token = json_get_string(c, "token");
		/* The token goes into a DNS name's value and a URL path:
		 * base64url only (RFC 8555 8.1). */
		if (token == NULL || *token == '\0' || strspn(token,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_") != strlen(token))
			continue;
		if ((d->url = acme_dup_url(c, "url")) != NULL)
			d->token = xstrdup(token);
	}
	json_free(j);
	return (0);
}

void
acme_parse_links(const char *value, const char *rel, char ***urls, size_t *n)
{
	const char	*p = value, *lt, *gt, *end, *r, *q;
	size_t		 rlen = strlen(rel);
	int		 match;

	while (p != NULL && (lt = strchr(p, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL) {
		/* The link's parameters run to the next link's '<'. */
		end = strchr(gt, '<');
		if (end == NULL)
			end = gt + strlen(gt);
		match = 0;
		for (r = strstr(gt, "rel="); r != NULL && r < end;
		    r = strstr(r + 4, "rel=")) {
			q = r + 4;
			if (*q == '"')
				q++;
			if (strncmp(q, rel, rlen) == 0 &&
			    strchr("\"; ,", q[rlen]) != NULL) {
				match = 1;
				break;
			}
		}
		if (match && gt - lt - 1 > 8 &&
		    strncmp(lt + 1, "https://", 8) == 0 && *n < 16) {
			*urls = xreallocarray(*urls, *n + 2, sizeof **urls);
			(*urls)[(*n)++] = xstrndup(lt + 1, (size_t)(gt - lt - 1));
			(*urls)[*n] = NULL;
		}
		p = *end == '\0' ? NULL : end;
	}
}

int
acme_chain_issued_by(const char *pem, size_t len, const char *cn)
{
	BIO	*b;
	X509	*x, *top = NULL;
	char	 name[256];
	int	 rc;

	if (len > INT32_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return (-1);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_free(top);
		top = x;
	}
	BIO_free(b);
	ERR_clear_error();	/* the end of the text, read as an error */
	if (top == NULL)
		return (-1);
	rc = X509_NAME_get_text_by_NID(X509_get_issuer_name(top),
	    NID_commonName, name, sizeof name) > 0 && strcmp(name, cn) == 0;
	X509_free(top);
	return (rc);
}

char *
acme_ari_cert_id(const unsigned char *aki, size_t akilen,
    const unsigned char *serial, size_t seriallen)
{
	char	*a, *s, *out;

	if (akilen == 0 || seriallen == 0)
		return (NULL);
	a = crypto_b64url(aki, akilen);
	s = crypto_b64url(serial, seriallen);
	xasprintf(&out, "%s.%s", a, s);
	free(a);
	free(s);
	return (out);
}

time_t
acme_ari_wake(time_t now, time_t renew_at, long retry_after)
{
	if (retry_after < 0)
		retry_after = 6 * 3600;
	if (retry_after < 60)
		retry_after = 60;
	if (renew_at <= now + retry_after)
		return (renew_at);
	return (now + retry_after);
}

/* RFC 3339 "2025-01-02T04:00:00Z" (fractions and offsets allowed). */
static int
acme_parse_time(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*p;
	int		 sign, hh, mm;

	memset(&tm, 0, sizeof tm);
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return (-1);
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	*out = timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return (p[1] == '\0' ? 0 : -1);
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 &&
	    strlen(p) == 6) {
		sign = *p == '+' ? 1 : -1;
		*out -= sign * (hh * 3600 + mm * 60);
		return (0);
	}
	return (-1);
}

int
acme_parse_renewal_info(const char *text, size_t len, time_t *start,
    time_t *end)
{
	struct json		*j;
	const struct json	*w;
	const char		*s, *e;
	int			 rc = -1;

	if ((j = acme_parse_open("renewalInfo", text, len, NULL, 0)) == NULL)
		return (-1);
	if ((w = json_get(j, "suggestedWindow")) != NULL &&
	    (s = json_get_string(w, "start")) != NULL &&
	    (e = json_get_string(w, "end")) != NULL &&
	    acme_parse_time(s, start) == 0 && acme_parse_time(e, end) == 0 &&
	    *end > *start)
		rc = 0;
	json_free(j);
	return (rc);
}

time_t
acme_renew_time(time_t not_before, time_t not_after, unsigned int pct,
    time_t ari_start, time_t ari_end)
{
	if (ari_end > ari_start && ari_start > 0)
		/* RFC 9773 4.2: a point in the window; its middle here, so
		 * every renewal of a fleet does not land on the start. */
		return (ari_start + (ari_end - ari_start) / 2);
	if (not_after <= not_before)
		return (not_before);
	return (not_before + (time_t)((double)(not_after - not_before) *
	    pct / 100.0));
}
