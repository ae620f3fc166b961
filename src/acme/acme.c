/* acme.c: the ACME (RFC 8555) client on the loop and its server table entry:
 * directory, nonces (badNonce retried), account (ES256, key derived from the
 * wrapped "acme-account" key), orders, challenges answered by our own DNS
 * (dns-01) or HTTP listener (http-01), finalize with a CSR, polling that
 * honours Retry-After, the chain downloaded, renewal on a timer. */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme.h"
#include "conf.h"
#include "control.h"
#include "crypto.h"
#include "dns.h"
#include "http.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "util.h"
#include "xmalloc.h"

#define ACME_NONCE_TRIES	10	/* badNonce retries per request */
#define ACME_POLL_FIRST_MS	20	/* no Retry-After: 20 ms, doubling */
#define ACME_POLL_MAX_MS	2000
#define ACME_POLL_LIMIT		200	/* polls before an order is given up */
#define ACME_BACKOFF_FIRST	5	/* seconds after a failed order, doubling */
#define ACME_BACKOFF_MAX	3600
#define ACME_MAX_BODY		(1024 * 1024)

struct acme_order;
typedef void (*acme_step_fn)(struct acme_order *, const struct http_response *);

/* One certificate kept, ordered and renewed: for a name of acme.names
 * (written under acme.cert_dir) or for another server (done called). */
struct acme_order {
	char		*name;		/* label: the first name, or the holder's */
	char		**names;	/* one authorization each */
	acme_cert_fn	 done;		/* NULL: files under acme.cert_dir */
	void		*arg;
	int		 config;	/* from acme.names: freed at shutdown */
	int		 inflight;	/* a request of ours is with the client */
	int		 in_cb;		/* inside done */
	int		 gone;		/* removed: free when the answer comes */
	time_t		 not_before, not_after, next;
	char		*last_error;
	char		*chal_name;	/* dns-01 record in place for this name */
	char		*ari_id;	/* RFC 9773 certificate identifier */
	time_t		 renew_at;	/* chosen renewal time */
	char		**alts;		/* alternate chains' URLs (Link) */
	size_t		 nalts, ialt;
	char		*chain0;	/* the default chain, while trying them */
	size_t		 chain0len;
	TAILQ_ENTRY(acme_order) entry;
	char		*order_url, *finalize_url, *cert_url;
	char		**authz;
	size_t		 nauthz, iauthz;
	char		*chal_url;
	char		*token;		/* http-01 token being served */
	EVP_PKEY	*key;		/* the certificate's key */
	unsigned int	 polls, poll_ms;
	unsigned int	 backoff;
	int		 busy;
	struct event	*timer;
	void		(*timer_fn)(struct acme_order *);
};

/* A signed request in flight (resent on badNonce). */
struct acme_req {
	struct acme_order	*order;
	char			*url;
	char			*payload;	/* NULL: POST-as-GET */
	acme_step_fn		 step;
	int			 tries;
};

static struct {
	struct event_base	*base;
	const struct conf	*conf;
	SSL_CTX			*ssl;
	struct http_client	*client;
	char			*origin;	/* "https://host:port" */
	char			*dir_path;
	struct acme_directory	 dir;
	char			*nonce;
	char			*kid;
	EVP_PKEY		*account;
	char			*jwk;		/* {"crv":..,"kty":..,"x":..,"y":..} */
	char			*thumbprint;
	struct http_server	*http01;
	char			**tokens;	/* "token keyauth" being served */
	size_t			 ntokens;
	struct metric		*m_issued, *m_failed;
} acme;

/* Every certificate kept; outside acme, which is cleared at each start, as
 * other servers' registrations outlive a reload of the acme section. */
static TAILQ_HEAD(, acme_order) acme_orders =
    TAILQ_HEAD_INITIALIZER(acme_orders);
static struct event_base *acme_base;	/* for a reload's restart */

static void	acme_order_fail(struct acme_order *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	acme_order_begin(struct acme_order *);
static void	acme_post(struct acme_order *, const char *url,
		    const char *payload, acme_step_fn);
static void	acme_next_authz(struct acme_order *);
static void	acme_got_cert(struct acme_order *, const struct http_response *);
static void	acme_order_reset(struct acme_order *);
static void	acme_schedule(struct acme_order *);
static void	acme_ari_fetch(struct acme_order *);
static void	acme_renew_at(struct acme_order *, time_t, time_t);
static void	acme_renew_due(struct acme_order *);
static struct acme_order *acme_order_new(const char *, char *const *,
		    acme_cert_fn, void *);

/* ---- keys and JWS ---- */

/* The account key: the P-256 scalar is the wrapped key itself, so the
 * private key is only ever on disk encrypted by the master key. */
static int
acme_account_key(char *err, size_t errlen)
{
	unsigned char	 secret[KEYS_KEY_BYTES], pub[65];
	EC_GROUP	*group = NULL;
	EC_POINT	*point = NULL;
	BIGNUM		*priv = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx = NULL;
	char		*x, *y, *text;
	unsigned char	 md[32];
	int		 rc = -1;

	if (keys_get("acme-account", secret, 1, err, errlen) == -1)
		return (-1);
	group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	priv = BN_bin2bn(secret, sizeof secret, NULL);
	point = EC_POINT_new(group);
	if (group == NULL || priv == NULL || point == NULL ||
	    !EC_POINT_mul(group, point, priv, NULL, NULL, NULL) ||
	    EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub,
	    sizeof pub, NULL) != sizeof pub)
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
	    sizeof pub) || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &acme.account, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	x = crypto_b64url(pub + 1, 32);
	y = crypto_b64url(pub + 33, 32);
	/* RFC 7638: members in lexicographic order, no white space. */
	xasprintf(&acme.jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
	    "\"y\":\"%s\"}", x, y);
	free(x);
	free(y);
	text = acme.jwk;
	if (EVP_Digest(text, strlen(text), md, NULL, EVP_sha256(), NULL) != 1)
		goto out;
	acme.thumbprint = crypto_b64url(md, sizeof md);
	rc = 0;
out:
	if (rc == -1)
		snprintf(err, errlen, "acme: cannot make the account key");
	OPENSSL_cleanse(secret, sizeof secret);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(priv);
	EC_POINT_free(point);
	EC_GROUP_free(group);
	return (rc);
}

/* ES256 over "protected.payload", as raw R||S in base64url. */
static char *
acme_sign(const char *input)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 der[80], raw[64];
	size_t		 len = sizeof der;
	char		*out = NULL;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return (NULL);
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, acme.account) ==
	    1 && EVP_DigestSign(ctx, der, &len, (const unsigned char *)input,
	    strlen(input)) == 1 &&
	    crypto_ecdsa_der_to_raw(der, len, raw, 32) == 0)
		out = crypto_b64url(raw, sizeof raw);
	EVP_MD_CTX_free(ctx);
	return (out);
}

static char *
acme_jws(const char *url, const char *payload)
{
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;
	char			*prot, *pay, *input, *sig, *out;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "alg", "ES256");
	json_gen_string(g, "nonce", acme.nonce);
	json_gen_string(g, "url", url);
	if (acme.kid != NULL)
		json_gen_string(g, "kid", acme.kid);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	if (acme.kid == NULL) {
		/* The jwk member, spliced in before the closing brace. */
		char *p;
		xasprintf(&p, "%.*s,\"jwk\":%s}", (int)len - 1, buf, acme.jwk);
		prot = crypto_b64url(p, strlen(p));
		free(p);
	} else
		prot = crypto_b64url(buf, len);
	yajl_gen_free(g);
	pay = payload == NULL ? xstrdup("") :
	    crypto_b64url(payload, strlen(payload));
	xasprintf(&input, "%s.%s", prot, pay);
	sig = acme_sign(input);
	free(input);
	if (sig == NULL) {
		free(prot);
		free(pay);
		return (NULL);
	}
	xasprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", prot, pay, sig);
	free(prot);
	free(pay);
	free(sig);
	return (out);
}

/* ---- requests ---- */

/* The path of url on the directory's server; NULL if elsewhere. */
static const char *
acme_path(const char *url)
{
	size_t	n = strlen(acme.origin);

	if (strncmp(url, acme.origin, n) != 0 || url[n] != '/')
		return (NULL);
	return (url + n);
}

static void
acme_keep_nonce(const struct http_response *resp)
{
	const char	*n;

	if (resp != NULL &&
	    (n = http_response_header(resp, "Replay-Nonce")) != NULL) {
		free(acme.nonce);
		acme.nonce = xstrdup(n);
	}
}

static char *
acme_body(const struct http_response *resp, size_t *len)
{
	struct evbuffer	*b = http_response_body(resp);

	*len = evbuffer_get_length(b);
	return ((char *)evbuffer_pullup(b, -1));
}

static void	acme_req_send(struct acme_req *);

static void
acme_order_free(struct acme_order *o)
{
	acme_order_reset(o);
	TAILQ_REMOVE(&acme_orders, o, entry);
	if (o->timer != NULL)
		event_free(o->timer);
	util_strv_free(o->names);
	free(o->name);
	free(o->last_error);
	free(o->ari_id);
	free(o);
}

/* An answer for o came back: 1 if o was removed meanwhile (now freed). */
static int
acme_order_landed(struct acme_order *o)
{
	o->inflight = 0;
	if (!o->gone)
		return (0);
	acme_order_free(o);
	return (1);
}

static void
acme_req_free(struct acme_req *r)
{
	free(r->url);
	free(r->payload);
	free(r);
}

static void
acme_req_done(const struct http_response *resp, const char *error, void *arg)
{
	struct acme_req		*r = arg;
	struct acme_order	*o = r->order;
	char			*body, *problem;
	size_t			 len;

	if (acme_order_landed(o)) {
		acme_req_free(r);
		return;
	}
	if (resp == NULL) {
		acme_order_fail(o, "%s: %s", r->url, error);
		acme_req_free(r);
		return;
	}
	acme_keep_nonce(resp);
	if (http_response_status(resp) >= 400) {
		body = acme_body(resp, &len);
		problem = acme_parse_problem(body, len);
		if (problem != NULL && strstr(problem,
		    "urn:ietf:params:acme:error:badNonce") != NULL &&
		    ++r->tries < ACME_NONCE_TRIES) {
			/* RFC 8555 6.5: retry with the nonce just given. */
			free(problem);
			acme_req_send(r);
			return;
		}
		acme_order_fail(o, "%s: %d %s", r->url,
		    http_response_status(resp),
		    problem != NULL ? problem : "(no problem document)");
		free(problem);
		acme_req_free(r);
		return;
	}
	r->step(o, resp);
	acme_req_free(r);
}

static void
acme_nonce_done(const struct http_response *resp, const char *error,
    void *arg)
{
	struct acme_req	*r = arg;

	if (acme_order_landed(r->order)) {
		acme_req_free(r);
		return;
	}
	acme_keep_nonce(resp);
	if (acme.nonce == NULL) {
		acme_order_fail(r->order, "newNonce: %s",
		    error != NULL ? error : "no Replay-Nonce");
		acme_req_free(r);
		return;
	}
	acme_req_send(r);
}

static void
acme_req_send(struct acme_req *r)
{
	static const char *const hdrs[] = {
		"Content-Type: application/jose+json", NULL
	};
	const char	*path;
	char		*jws;

	r->order->inflight = 1;
	if (acme.nonce == NULL) {
		http_client_send(acme.client, "HEAD",
		    acme_path(acme.dir.new_nonce), NULL, NULL, 0, NULL,
		    acme_nonce_done, r);
		return;
	}
	if ((path = acme_path(r->url)) == NULL) {
		r->order->inflight = 0;
		acme_order_fail(r->order, "%s: not on the directory's server",
		    r->url);
		acme_req_free(r);
		return;
	}
	jws = acme_jws(r->url, r->payload);
	free(acme.nonce);
	acme.nonce = NULL;
	if (jws == NULL) {
		r->order->inflight = 0;
		acme_order_fail(r->order, "cannot sign");
		acme_req_free(r);
		return;
	}
	http_client_send(acme.client, "POST", path, hdrs, jws, strlen(jws),
	    NULL, acme_req_done, r);
	free(jws);
}

static void
acme_post(struct acme_order *o, const char *url, const char *payload,
    acme_step_fn step)
{
	struct acme_req	*r;

	r = xcalloc(1, sizeof *r);
	r->order = o;
	r->url = xstrdup(url);
	r->payload = payload != NULL ? xstrdup(payload) : NULL;
	r->step = step;
	acme_req_send(r);
}

/* ---- timers ---- */

static void
acme_timer_cb(int fd, short ev, void *arg)
{
	struct acme_order	*o = arg;

	(void)fd;
	(void)ev;
	o->timer_fn(o);
}

static void
acme_later(struct acme_order *o, unsigned int ms, void (*fn)(struct acme_order *))
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	o->timer_fn = fn;
	evtimer_add(o->timer, &tv);
}

/* Next poll: Retry-After when the CA gave one, else a short doubling wait. */
static void
acme_poll_later(struct acme_order *o, const struct http_response *resp,
    void (*fn)(struct acme_order *))
{
	long		ra;
	unsigned int	ms;

	if (++o->polls > ACME_POLL_LIMIT) {
		acme_order_fail(o, "gave up polling after %u tries", o->polls);
		return;
	}
	ra = acme_retry_after(http_response_header(resp, "Retry-After"),
	    time(NULL));
	if (ra >= 0)
		ms = (unsigned int)ra * 1000;
	else {
		ms = o->poll_ms;
		o->poll_ms = o->poll_ms * 2 > ACME_POLL_MAX_MS ?
		    ACME_POLL_MAX_MS : o->poll_ms * 2;
	}
	acme_later(o, ms, fn);
}

/* ---- challenges ---- */

static void
acme_challenge_clear(struct acme_order *o)
{
	size_t	i;

	if (o->chal_name != NULL) {
		dns_challenge_remove(o->chal_name);
		free(o->chal_name);
		o->chal_name = NULL;
	}
	if (o->token != NULL) {
		for (i = 0; i < acme.ntokens; i++) {
			if (strncmp(acme.tokens[i], o->token,
			    strlen(o->token)) == 0 &&
			    acme.tokens[i][strlen(o->token)] == ' ') {
				free(acme.tokens[i]);
				acme.tokens[i] = acme.tokens[--acme.ntokens];
				break;
			}
		}
		free(o->token);
		o->token = NULL;
	}
}

static void
acme_http01_handler(struct http_request *req, void *arg)
{
	const char	*tok;
	size_t		 i, n;

	(void)arg;
	tok = http_request_path(req) + strlen("/.well-known/acme-challenge/");
	n = strlen(tok);
	for (i = 0; i < acme.ntokens; i++) {
		if (n > 0 && strncmp(acme.tokens[i], tok, n) == 0 &&
		    acme.tokens[i][n] == ' ') {
			http_reply(req, 200, "application/octet-stream",
			    acme.tokens[i] + n + 1,
			    strlen(acme.tokens[i] + n + 1));
			return;
		}
	}
	http_reply(req, 404, "text/plain", "no such token\n", 14);
}

static const struct http_route acme_http01_routes[] = {
	{ "GET", "/.well-known/acme-challenge/", HTTP_ROUTE_PREFIX,
	  acme_http01_handler, NULL, NULL },
};

/* ---- the order ---- */

static void
acme_order_reset(struct acme_order *o)
{
	size_t	i;

	acme_challenge_clear(o);
	free(o->order_url);
	free(o->finalize_url);
	free(o->cert_url);
	free(o->chal_url);
	o->order_url = o->finalize_url = o->cert_url = o->chal_url = NULL;
	for (i = 0; i < o->nauthz; i++)
		free(o->authz[i]);
	free(o->authz);
	o->authz = NULL;
	o->nauthz = o->iauthz = 0;
	EVP_PKEY_free(o->key);
	o->key = NULL;
	util_strv_free(o->alts);
	o->alts = NULL;
	o->nalts = o->ialt = 0;
	free(o->chain0);
	o->chain0 = NULL;
	o->busy = 0;
}

/* Tell the holder; it may remove o from done, freed here then. */
static void
acme_order_tell(struct acme_order *o, const char *error, const char *chain,
    size_t chainlen, const char *key, size_t keylen)
{
	if (o->done == NULL)
		return;
	o->in_cb = 1;
	o->done(error, chain, chainlen, key, keylen, o->arg);
	o->in_cb = 0;
	if (o->gone && !o->inflight)
		acme_order_free(o);
}

static void
acme_order_fail(struct acme_order *o, const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->backoff = o->backoff == 0 ? ACME_BACKOFF_FIRST :
	    (o->backoff * 2 > ACME_BACKOFF_MAX ? ACME_BACKOFF_MAX :
	    o->backoff * 2);
	log_warnx("acme: %s: order failed: %s; retrying in %u s (the current "
	    "certificate, if any, stays)", o->name, msg, o->backoff);
	metrics_add(acme.m_failed, 1);
	free(o->last_error);
	o->last_error = xstrdup(msg);
	acme_order_reset(o);
	o->next = time(NULL) + o->backoff;
	acme_later(o, o->backoff * 1000, acme_order_begin);
	acme_order_tell(o, msg, NULL, 0, NULL, 0);
}

static char *
acme_cert_path(const struct acme_order *o, const char *file)
{
	char	*p;

	xasprintf(&p, "%s/%s/%s", acme.conf->acme_cert_dir, o->name, file);
	return (p);
}

/* What renewal needs of the current leaf x (freed here): its validity
 * and its ARI identifier; -1 if x is NULL or its times unreadable. */
static int
acme_leaf(struct acme_order *o, X509 *x)
{
	const ASN1_OCTET_STRING	*aki;
	unsigned char		*der = NULL, *p;
	struct tm		 tm;
	time_t			 nb;
	int			 len, rc = -1;

	if (x == NULL)
		return (-1);
	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1)
		goto out;
	nb = timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		goto out;
	o->not_before = nb;
	o->not_after = timegm(&tm);
	free(o->ari_id);
	o->ari_id = NULL;
	/* The serial's DER is tag, one length octet (at most 20 octets of
	 * value, RFC 5280 4.1.2.2), then the octets RFC 9773 wants. */
	aki = X509_get0_authority_key_id(x);
	len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der);
	p = der;
	if (aki != NULL && len > 2 && len < 128)
		o->ari_id = acme_ari_cert_id(ASN1_STRING_get0_data(aki),
		    (size_t)ASN1_STRING_length(aki), p + 2, (size_t)len - 2);
	OPENSSL_free(der);
	rc = 0;
out:
	X509_free(x);
	return (rc);
}

/* The leaf of acme.names' certificate on disk; -1 if none is there. */
static int
acme_cert_file(struct acme_order *o, const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	return (acme_leaf(o, PEM_read_X509(f, NULL, NULL, NULL)) +
	    (fclose(f) != 0 ? -1 : 0));
}

/* Set the timer for the next renewal of what is on disk. */
static void
acme_schedule(struct acme_order *o)
{
	time_t	at, now = time(NULL);
	char	*path;

	if (o->done == NULL) {
		/* acme.names: what is on disk is the current certificate. */
		path = acme_cert_path(o, "tls.crt");
		if (acme_cert_file(o, path) == -1)
			o->not_before = o->not_after = 0;
		free(path);
	}
	if (o->not_after == 0) {
		o->next = now;
		acme_later(o, 0, acme_order_begin);
		return;
	}
	at = acme_renew_time(o->not_before, o->not_after,
	    acme.conf->acme_renew_percent, 0, 0);
	if (acme.dir.renewal_info != NULL && o->ari_id != NULL && at > now) {
		/* RFC 9773: the CA's suggested window decides. */
		acme_ari_fetch(o);
		return;
	}
	acme_renew_at(o, at, at);
}

/* Renew at at; wake at wake (<= at) to ask the CA's renewalInfo again. */
static void
acme_renew_at(struct acme_order *o, time_t at, time_t wake)
{
	time_t	now = time(NULL);
	long	ms;

	o->renew_at = at;
	ms = wake <= now ? 0 : (long)(wake - now) * 1000;
	if (ms > 86400000L)
		ms = 86400000L;
	o->next = at;
	log_info("acme: %s: certificate valid until %lld, renewal in %lld s",
	    o->name, (long long)o->not_after, (long long)(at > now ? at - now :
	    0));
	acme_later(o, (unsigned int)ms, acme_renew_due);
}

static void
acme_renew_due(struct acme_order *o)
{
	if (time(NULL) >= o->renew_at || acme.dir.renewal_info == NULL ||
	    o->ari_id == NULL)
		acme_order_begin(o);
	else
		acme_ari_fetch(o);
}

static void
acme_ari_done(const struct http_response *resp, const char *error,
    void *arg)
{
	struct acme_order	*o = arg;
	time_t			 start = 0, end = 0, at, now = time(NULL);
	char			*body;
	size_t			 len;
	long			 ra = -1;

	if (acme_order_landed(o))
		return;
	if (resp != NULL && http_response_status(resp) == 200) {
		body = acme_body(resp, &len);
		if (acme_parse_renewal_info(body, len, &start, &end) == -1)
			log_warnx("acme: %s: renewalInfo unreadable", o->name);
		ra = acme_retry_after(http_response_header(resp,
		    "Retry-After"), now);
	} else
		log_warnx("acme: %s: renewalInfo: %s", o->name, resp == NULL ?
		    error : http_status_text(http_response_status(resp)));
	at = acme_renew_time(o->not_before, o->not_after,
	    acme.conf->acme_renew_percent, start, end);
	acme_renew_at(o, at, acme_ari_wake(now, at, ra));
}

/* GET renewalInfo/<certID> (RFC 9773 4.3: no JWS, no nonce). */
static void
acme_ari_fetch(struct acme_order *o)
{
	const char	*base = acme_path(acme.dir.renewal_info);
	char		*path;
	time_t		 at;

	if (base == NULL) {
		/* On another server: the lifetime decides, without ARI. */
		at = acme_renew_time(o->not_before, o->not_after,
		    acme.conf->acme_renew_percent, 0, 0);
		free(o->ari_id);
		o->ari_id = NULL;
		acme_renew_at(o, at, at);
		return;
	}
	xasprintf(&path, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" :
	    "/", o->ari_id);
	o->inflight = 1;
	http_client_send(acme.client, "GET", path, NULL, NULL, 0, NULL,
	    acme_ari_done, o);
	free(path);
}

/* The leaf of a PEM chain from the CA; -1 if it holds none. */
static int
acme_chain_leaf(struct acme_order *o, const char *pem, size_t len)
{
	BIO	*b;
	X509	*x;

	if (len > INT32_MAX || (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return (-1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return (acme_leaf(o, x));
}

static void
acme_issued(struct acme_order *o)
{
	log_info("acme: %s: certificate issued", o->name);
	metrics_add(acme.m_issued, 1);
	o->backoff = 0;
	free(o->last_error);
	o->last_error = NULL;
	acme_order_reset(o);
	acme_schedule(o);
}

/* A holder's certificate: handed over with its key, then renewal set. */
static void
acme_deliver(struct acme_order *o, const char *chain, size_t len)
{
	BIO	*b;
	BUF_MEM	*mem;
	char	*copy;

	b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_PrivateKey(b, o->key, NULL, NULL, 0,
	    NULL, NULL) != 1) {
		BIO_free(b);
		acme_order_fail(o, "cannot encode the key");
		return;
	}
	BIO_get_mem_ptr(b, &mem);
	/* The body belongs to the client's buffer: keep a copy across done,
	 * which runs after the order state is reset. */
	copy = xstrndup(chain, len);
	acme_issued(o);
	acme_order_tell(o, NULL, copy, len, mem->data, mem->length);
	free(copy);
	OPENSSL_cleanse(mem->data, mem->length);
	BIO_free(b);
}

/*
 * acme.preferred_chain: a chain whose top is not issued by that CA has its
 * alternates (RFC 8555 7.4.2, Link rel="alternate") fetched in turn; 1 when
 * the next one was asked for.
 */
static int
acme_want_other_chain(struct acme_order *o, const struct http_response *resp,
    const char *body, size_t len)
{
	const char	*pref = acme.conf->acme_preferred_chain, *v;
	size_t		 i;

	if (pref == NULL || acme_chain_issued_by(body, len, pref) == 1)
		return (0);
	if (o->chain0 == NULL) {
		for (i = 0; (v = http_response_header_nth(resp, "Link", i)) !=
		    NULL; i++)
			acme_parse_links(v, "alternate", &o->alts, &o->nalts);
		o->chain0 = xstrndup(body, len);
		o->chain0len = len;
	}
	if (o->ialt >= o->nalts)
		return (0);
	acme_post(o, o->alts[o->ialt++], NULL, acme_got_cert);
	return (1);
}

static void
acme_got_cert(struct acme_order *o, const struct http_response *resp)
{
	char		*body, *crt, *keyp, *dir, err[256];
	size_t		 len;
	BIO		*b;
	BUF_MEM		*mem;
	int		 ok;

	body = acme_body(resp, &len);
	if (acme_want_other_chain(o, resp, body, len))
		return;
	if (o->chain0 != NULL &&
	    acme_chain_issued_by(body, len, acme.conf->acme_preferred_chain) != 1) {
		/* No alternate is issued by the preferred CA: the default. */
		body = o->chain0;
		len = o->chain0len;
	}
	if (len == 0 || strstr(body, "-----BEGIN CERTIFICATE-----") == NULL ||
	    acme_chain_leaf(o, body, len) == -1) {
		acme_order_fail(o, "certificate: not a PEM chain");
		return;
	}
	if (o->done != NULL) {
		acme_deliver(o, body, len);
		return;
	}
	xasprintf(&dir, "%s/%s", acme.conf->acme_cert_dir, o->name);
	(void)mkdir(acme.conf->acme_cert_dir, 0700);
	(void)mkdir(dir, 0700);
	free(dir);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, o->key, NULL, NULL, 0, NULL, NULL);
	BIO_get_mem_ptr(b, &mem);
	crt = acme_cert_path(o, "tls.crt");
	keyp = acme_cert_path(o, "tls.key");
	/* The key first: a crash between the two leaves the old pair's
	 * certificate with a new key only if both renames straddle it. */
	ok = util_write_atomic(keyp, mem->data, mem->length, 0600, err,
	    sizeof err) == 0 && util_write_atomic(crt, body, len, 0644, err,
	    sizeof err) == 0;
	BIO_free(b);
	free(crt);
	free(keyp);
	if (!ok) {
		acme_order_fail(o, "cannot write the certificate: %s", err);
		return;
	}
	acme_issued(o);
}

static void	acme_poll_order(struct acme_order *);

static void
acme_order_state(struct acme_order *o, const struct http_response *resp)
{
	struct acme_order_doc	 d;
	char			*body, err[256];
	size_t			 len;

	body = acme_body(resp, &len);
	if (acme_parse_order(body, len, &d, err, sizeof err) == -1) {
		acme_order_fail(o, "%s", err);
		return;
	}
	if (strcmp(d.status, "valid") == 0 && d.certificate != NULL) {
		o->cert_url = xstrdup(d.certificate);
		acme_order_doc_clear(&d);
		acme_post(o, o->cert_url, NULL, acme_got_cert);
		return;
	}
	if (strcmp(d.status, "processing") == 0 ||
	    strcmp(d.status, "ready") == 0 || strcmp(d.status, "valid") == 0) {
		acme_order_doc_clear(&d);
		acme_poll_later(o, resp, acme_poll_order);
		return;
	}
	acme_order_fail(o, "order is %s", d.status);
	acme_order_doc_clear(&d);
}

static void
acme_poll_order(struct acme_order *o)
{
	acme_post(o, o->order_url, NULL, acme_order_state);
}

/* The order's names as SAN text "DNS:a,DNS:b" or JSON identifiers. */
static char *
acme_names_list(const struct acme_order *o, int json)
{
	char	*out = xstrdup(""), *one, *cat;
	size_t	 i;

	for (i = 0; o->names[i] != NULL; i++) {
		if (json)
			xasprintf(&one, "{\"type\":\"dns\",\"value\":\"%s\"}",
			    o->names[i]);
		else
			xasprintf(&one, "DNS:%s", o->names[i]);
		xasprintf(&cat, "%s%s%s", out, i > 0 ? "," : "", one);
		free(one);
		free(out);
		out = cat;
	}
	return (out);
}

static void
acme_finalize(struct acme_order *o)
{
	X509_REQ		*req;
	X509_NAME		*nm;
	X509_EXTENSION		*ext;
	STACK_OF(X509_EXTENSION) *exts;
	unsigned char		*der = NULL;
	char			*san, *csr, *payload;
	int			 len;

	o->key = EVP_EC_gen("P-256");
	req = X509_REQ_new();
	nm = X509_NAME_new();
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)o->names[0], -1, -1, 0);
	X509_REQ_set_subject_name(req, nm);
	X509_NAME_free(nm);
	X509_REQ_set_pubkey(req, o->key);
	san = acme_names_list(o, 0);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	free(san);
	exts = sk_X509_EXTENSION_new_null();
	sk_X509_EXTENSION_push(exts, ext);
	X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (o->key == NULL || ext == NULL ||
	    X509_REQ_sign(req, o->key, EVP_sha256()) <= 0 ||
	    (len = i2d_X509_REQ(req, &der)) <= 0) {
		X509_REQ_free(req);
		acme_order_fail(o, "cannot make the CSR");
		return;
	}
	X509_REQ_free(req);
	csr = crypto_b64url(der, (size_t)len);
	OPENSSL_free(der);
	xasprintf(&payload, "{\"csr\":\"%s\"}", csr);
	free(csr);
	o->polls = 0;
	o->poll_ms = ACME_POLL_FIRST_MS;
	acme_post(o, o->finalize_url, payload, acme_order_state);
	free(payload);
}

static void	acme_poll_authz(struct acme_order *);
static void	acme_authz_posted(struct acme_order *,
		    const struct http_response *);

/* An authorization's state: pending (answer or wait), valid, or refused. */
static void
acme_authz_state(struct acme_order *o, const struct http_response *resp)
{
	struct acme_authz_doc	 d;
	const char		*want;
	char			*body, *ka, errbuf[256];
	unsigned char		 md[32];
	size_t			 len;

	body = acme_body(resp, &len);
	want = acme.conf->acme_challenge == CONF_ACME_HTTP01 ? "http-01" :
	    "dns-01";
	if (acme_parse_authz(body, len, want, &d, errbuf, sizeof errbuf) == -1) {
		acme_order_fail(o, "%s", errbuf);
		return;
	}
	if (strcmp(d.status, "valid") == 0) {
		acme_authz_doc_clear(&d);
		acme_challenge_clear(o);
		o->iauthz++;
		acme_next_authz(o);
		return;
	}
	if (strcmp(d.status, "pending") != 0) {
		/* Refused: name the CA's reason from the challenge's error. */
		acme_order_fail(o, "%s challenge refused (authorization %s): %s",
		    want, d.status, d.error != NULL ? d.error :
		    "no reason given");
		acme_authz_doc_clear(&d);
		return;
	}
	if (o->chal_url != NULL) {
		/* Posted already: the CA is still validating. */
		acme_authz_doc_clear(&d);
		acme_poll_later(o, resp, acme_poll_authz);
		return;
	}
	if (d.url == NULL) {
		acme_authz_doc_clear(&d);
		acme_order_fail(o, "no usable %s challenge offered", want);
		return;
	}
	xasprintf(&ka, "%s.%s", d.token, acme.thumbprint);
	if (acme.conf->acme_challenge == CONF_ACME_HTTP01) {
		acme.tokens = xreallocarray(acme.tokens, acme.ntokens + 1,
		    sizeof *acme.tokens);
		xasprintf(&acme.tokens[acme.ntokens++], "%s %s", d.token, ka);
		o->token = xstrdup(d.token);
	} else {
		char *v;

		EVP_Digest(ka, strlen(ka), md, NULL, EVP_sha256(), NULL);
		v = crypto_b64url(md, sizeof md);
		if (d.identifier == NULL) {
			free(v);
			free(ka);
			acme_authz_doc_clear(&d);
			acme_order_fail(o, "authorization without identifier");
			return;
		}
		if (dns_challenge_add(d.identifier, v, errbuf,
		    sizeof errbuf) == -1) {
			free(v);
			free(ka);
			acme_authz_doc_clear(&d);
			acme_order_fail(o, "%s", errbuf);
			return;
		}
		free(v);
		o->chal_name = xstrdup(d.identifier);
	}
	free(ka);
	o->chal_url = xstrdup(d.url);
	acme_authz_doc_clear(&d);
	o->polls = 0;
	o->poll_ms = ACME_POLL_FIRST_MS;
	/* Tell the CA to validate; then poll the authorization. */
	acme_post(o, o->chal_url, "{}", acme_authz_posted);
}

static void
acme_authz_posted(struct acme_order *o, const struct http_response *resp)
{
	acme_poll_later(o, resp, acme_poll_authz);
}

static void
acme_poll_authz(struct acme_order *o)
{
	acme_post(o, o->authz[o->iauthz], NULL, acme_authz_state);
}

static void
acme_next_authz(struct acme_order *o)
{
	free(o->chal_url);
	o->chal_url = NULL;
	if (o->iauthz < o->nauthz) {
		acme_post(o, o->authz[o->iauthz], NULL, acme_authz_state);
		return;
	}
	acme_finalize(o);
}

static void
acme_order_made(struct acme_order *o, const struct http_response *resp)
{
	struct acme_order_doc	 d;
	const char		*loc;
	char			*body, err[256];
	size_t			 len;

	body = acme_body(resp, &len);
	if ((loc = http_response_header(resp, "Location")) == NULL) {
		acme_order_fail(o, "newOrder: no Location");
		return;
	}
	if (acme_parse_order(body, len, &d, err, sizeof err) == -1) {
		acme_order_fail(o, "newOrder: %s", err);
		return;
	}
	if (d.finalize == NULL || d.nauthz == 0) {
		acme_order_doc_clear(&d);
		acme_order_fail(o, "newOrder: no finalize or authorizations");
		return;
	}
	o->order_url = xstrdup(loc);
	o->finalize_url = d.finalize;
	o->authz = d.authz;
	o->nauthz = d.nauthz;
	d.finalize = NULL;
	d.authz = NULL;
	d.nauthz = 0;
	acme_order_doc_clear(&d);
	acme_next_authz(o);
}

static void
acme_new_order(struct acme_order *o)
{
	char	*ids, *payload;

	/* Names are checked by their holders (letters, digits, '-', '.',
	 * "*."): nothing to escape in JSON. */
	ids = acme_names_list(o, 1);
	xasprintf(&payload, "{\"identifiers\":[%s]}", ids);
	free(ids);
	acme_post(o, acme.dir.new_order, payload, acme_order_made);
	free(payload);
}

static void
acme_account_made(struct acme_order *o, const struct http_response *resp)
{
	const char	*loc;

	if ((loc = http_response_header(resp, "Location")) == NULL) {
		acme_order_fail(o, "newAccount: no Location");
		return;
	}
	free(acme.kid);
	acme.kid = xstrdup(loc);
	acme_new_order(o);
}

static void
acme_directory_done(const struct http_response *resp, const char *error,
    void *arg)
{
	struct acme_order	*o = arg;
	char			*body, err[256], *payload;
	size_t			 len;

	if (acme_order_landed(o))
		return;
	if (resp == NULL || http_response_status(resp) != 200) {
		acme_order_fail(o, "directory: %s", resp == NULL ? error :
		    http_status_text(http_response_status(resp)));
		return;
	}
	body = acme_body(resp, &len);
	acme_directory_clear(&acme.dir);
	if (acme_parse_directory(body, len, &acme.dir, err, sizeof err) == -1 ||
	    acme_path(acme.dir.new_nonce) == NULL) {
		acme_order_fail(o, "%s", acme.dir.new_nonce == NULL ? err :
		    "directory: URLs on another server");
		return;
	}
	if (acme.conf->acme_email != NULL)
		xasprintf(&payload, "{\"termsOfServiceAgreed\":true,"
		    "\"contact\":[\"mailto:%s\"]}", acme.conf->acme_email);
	else
		payload = xstrdup("{\"termsOfServiceAgreed\":true}");
	acme_post(o, acme.dir.new_account, payload, acme_account_made);
	free(payload);
}

static void
acme_order_begin(struct acme_order *o)
{
	if (o->busy || acme.client == NULL)
		return;
	o->busy = 1;
	log_info("acme: %s: ordering a certificate (%s)", o->name,
	    acme.conf->acme_challenge == CONF_ACME_HTTP01 ? "http-01" :
	    "dns-01");
	if (acme.kid == NULL) {
		o->inflight = 1;
		http_client_send(acme.client, "GET", acme.dir_path, NULL, NULL,
		    0, NULL, acme_directory_done, o);
	} else
		acme_new_order(o);
}

/* ---- the server table entry ---- */

static int
acme_init(const struct server_env *env, char *err, size_t errlen)
{
	struct http_client_target	 t;
	const struct conf		*c = env->conf;
	char				 host[256], port[16];
	const char			*p, *slash, *colon;
	struct acme_order		*o;
	size_t				 i;

	memset(&acme, 0, sizeof acme);
	acme_base = env->base;
	if (c->acme_directory == NULL)
		return (0);
	acme.base = env->base;
	acme.conf = c;
	p = c->acme_directory;
	if (strncmp(p, "https://", 8) != 0 || (slash = strchr(p + 8, '/')) ==
	    NULL || (colon = memchr(p + 8, ':', (size_t)(slash - p - 8))) ==
	    NULL || (size_t)(colon - p - 8) >= sizeof host ||
	    (size_t)(slash - colon - 1) >= sizeof port) {
		snprintf(err, errlen, "acme.directory: https://HOST:PORT/PATH "
		    "expected");
		return (-1);
	}
	memcpy(host, p + 8, (size_t)(colon - p - 8));
	host[colon - p - 8] = '\0';
	memcpy(port, colon + 1, (size_t)(slash - colon - 1));
	port[slash - colon - 1] = '\0';
	acme.origin = xstrndup(p, (size_t)(slash - p));
	acme.dir_path = xstrdup(slash);
	if (c->acme_cert_dir == NULL) {
		snprintf(err, errlen, "acme.cert_dir is needed");
		return (-1);
	}
	acme.ssl = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(acme.ssl, SSL_VERIFY_PEER, NULL);
	if (c->acme_ca_file != NULL ? SSL_CTX_load_verify_locations(acme.ssl,
	    c->acme_ca_file, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(acme.ssl) != 1) {
		snprintf(err, errlen, "acme.ca_file: cannot load %s",
		    c->acme_ca_file != NULL ? c->acme_ca_file : "defaults");
		SSL_CTX_free(acme.ssl);
		return (-1);
	}
	if (acme_account_key(err, errlen) == -1)
		return (-1);
	memset(&t, 0, sizeof t);
	t.host = host;
	t.port = port;
	t.ssl = acme.ssl;
	acme.client = http_client_new(env->base, &t, 30000, ACME_MAX_BODY);
	acme.m_issued = metrics_counter("netcrave_acme_issued_total",
	    "Certificates issued by the ACME CA", NULL);
	acme.m_failed = metrics_counter("netcrave_acme_failures_total",
	    "ACME orders that failed (each retried with back-off)", NULL);
	if (c->acme_http01_listen != NULL) {
		acme.http01 = http_server_new(env->base, "acme-http01", NULL,
		    acme_http01_routes, 1, NULL, NULL);
		if (server_http_listen(acme.http01, c->acme_http01_listen,
		    NULL, err, errlen) == -1)
			return (-1);
	}
	for (i = 0; c->acme_names != NULL && c->acme_names[i] != NULL; i++) {
		char *one[2];

		one[0] = c->acme_names[i];
		one[1] = NULL;
		o = acme_order_new(c->acme_names[i], one, NULL, NULL);
		o->config = 1;
	}
	/* Certificates of other servers, registered before we ran. */
	TAILQ_FOREACH(o, &acme_orders, entry) {
		o->timer = evtimer_new(env->base, acme_timer_cb, o);
		acme_schedule(o);
	}
	return (0);
}

static void
acme_shutdown(void)
{
	struct acme_order	*o, *next;
	size_t			 i;

	/* acme.names go; other servers' certificates stay registered,
	 * stopped until the section runs again.  Requests in flight die
	 * with the client, unanswered. */
	for (o = TAILQ_FIRST(&acme_orders); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		o->inflight = 0;
		if (o->config || o->gone) {
			acme_order_free(o);
			continue;
		}
		acme_order_reset(o);
		if (o->timer != NULL)
			event_free(o->timer);
		o->timer = NULL;
	}
	if (acme.client != NULL)
		http_client_free(acme.client);
	if (acme.http01 != NULL)
		http_server_free(acme.http01);
	for (i = 0; i < acme.ntokens; i++)
		free(acme.tokens[i]);
	free(acme.tokens);
	SSL_CTX_free(acme.ssl);
	EVP_PKEY_free(acme.account);
	acme_directory_clear(&acme.dir);
	free(acme.jwk);
	free(acme.thumbprint);
	free(acme.nonce);
	free(acme.kid);
	free(acme.origin);
	free(acme.dir_path);
	memset(&acme, 0, sizeof acme);
}

static struct acme_order *
acme_order_new(const char *label, char *const *names, acme_cert_fn done,
    void *arg)
{
	struct acme_order	*o;
	size_t			 n;

	o = xcalloc(1, sizeof *o);
	o->name = xstrdup(label);
	for (n = 0; names[n] != NULL; n++)
		;
	o->names = xcalloc(n + 1, sizeof *o->names);
	for (n = 0; names[n] != NULL; n++)
		o->names[n] = xstrdup(names[n]);
	o->done = done;
	o->arg = arg;
	TAILQ_INSERT_TAIL(&acme_orders, o, entry);
	return (o);
}

struct acme_order *
acme_cert_add(const char *label, char *const *names, time_t not_before,
    time_t not_after, acme_cert_fn done, void *arg)
{
	struct acme_order	*o;

	o = acme_order_new(label, names, done, arg);
	o->not_before = not_before;
	o->not_after = not_after;
	if (acme.base != NULL) {
		o->timer = evtimer_new(acme.base, acme_timer_cb, o);
		acme_schedule(o);
	}
	return (o);
}

void
acme_cert_remove(struct acme_order *o)
{
	if (o == NULL)
		return;
	o->done = NULL;
	o->gone = 1;
	if (o->timer != NULL)
		evtimer_del(o->timer);
	/* An answer on its way, or done running: freed when it returns. */
	if (o->inflight || o->in_cb)
		return;
	acme_order_free(o);
}

time_t
acme_cert_renew_next(const struct acme_order *o, time_t not_before,
    time_t not_after, const char **error)
{
	*error = NULL;
	if (o != NULL) {
		*error = o->last_error;
		if (o->timer != NULL && o->next != 0)
			return (o->next);
	}
	if (not_after == 0)
		return (0);
	return (not_after - (not_after - not_before) / 3);
}

void
acme_certs_json(yajl_gen g)
{
	struct acme_order	*o;
	struct control_cert	 c;

	TAILQ_FOREACH(o, &acme_orders, entry) {
		if (!o->config)
			continue;
		memset(&c, 0, sizeof c);
		c.volume = "-";
		c.names = o->names[0];
		c.issuer = "acme";
		c.not_before = o->not_before;
		c.not_after = o->not_after;
		c.renew_at = acme_cert_renew_next(o, o->not_before,
		    o->not_after, &c.error);
		control_cert_entry(g, &c);
	}
}

int
acme_running(void)
{
	return (acme.client != NULL);
}

const char *
acme_issuer_root(void)
{
	if (acme.conf == NULL)
		return (NULL);
	return (acme.conf->acme_issuer_root);
}

/* Two optional strings alike (both NULL, or equal). */
static int
acme_same(const char *a, const char *b)
{
	return (a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0);
}

/*
 * SIGHUP: an unchanged acme section keeps the client and its orders (only
 * the config pointer moves to the new copy); a changed one restarts it:
 * requests in flight are dropped, acme.names orders made anew, other
 * servers' certificates rescheduled.  A new section that does not start
 * puts the old one back and is refused.
 */
static int
acme_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct server_env	env;
	char			err2[256];

	if (acme_same(old->acme_directory, new->acme_directory) &&
	    acme_same(old->acme_ca_file, new->acme_ca_file) &&
	    acme_same(old->acme_email, new->acme_email) &&
	    old->acme_challenge == new->acme_challenge &&
	    acme_same(old->acme_http01_listen, new->acme_http01_listen) &&
	    old->acme_renew_percent == new->acme_renew_percent &&
	    util_strv_equal(old->acme_names, new->acme_names) &&
	    acme_same(old->acme_cert_dir, new->acme_cert_dir) &&
	    acme_same(old->acme_issuer_root, new->acme_issuer_root) &&
	    acme_same(old->acme_preferred_chain, new->acme_preferred_chain)) {
		if (acme.conf != NULL)
			acme.conf = new;
		return (0);
	}
	memset(&env, 0, sizeof env);
	env.base = acme_base;
	env.conf = new;
	acme_shutdown();
	if (acme_init(&env, err, errlen) == 0) {
		log_info("acme: section reloaded");
		return (0);
	}
	acme_shutdown();
	env.conf = old;
	if (acme_init(&env, err2, sizeof err2) == -1)
		log_warnx("acme: the old section does not start again: %s",
		    err2);
	return (-1);
}

const struct server acme_server = {
	"acme", acme_init, acme_reload, acme_shutdown
};
