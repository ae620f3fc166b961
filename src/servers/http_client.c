/* http_client.c: the HTTP/1.1 client: one keep-alive connection to one target
 * (unix socket or TCP, optionally TLS), requests queued and sent one at a time. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http.h"
#include "http_private.h"
#include "log.h"
#include "xmalloc.h"

enum http_client_state {
	HTTP_CLIENT_DOWN,
	HTTP_CLIENT_CONNECTING,
	HTTP_CLIENT_UP,
};

struct http_client_request {
	struct http_client	*client;
	char			*wire;		/* the whole request, kept for a retry */
	size_t			 wirelen;
	int			 is_head;
	http_client_body_fn	 on_body;
	http_client_cb		 done;
	void			*arg;
	struct event		*timer;
	int			 retried;
	int			 got_bytes;	/* some of the response arrived */
	int			 headers_in;
	int			 cancelled;	/* on_body returned -1 or cancel in a callback */
	TAILQ_ENTRY(http_client_request) entry;
};

struct http_client {
	struct http_upstream	 up;		/* target, limits, bev, kick */
	enum http_client_state	 state;
	int			 reused;	/* a response already came on it */
	http_parser		 parser;
	struct http_response	 resp;
	struct http_client_request *current;	/* in flight: head of the queue */
	TAILQ_HEAD(, http_client_request) queue;

	int			 in_parse;
	int			 complete;	/* current response fully read */
	const char		*parse_error;
};

static void	http_client_connect(struct http_client *);
static void	http_client_start_tls(struct http_client *);
static void	http_client_drop(struct http_client *);
static void	http_client_destroy(struct http_client *);

static int	http_client_on_message_begin(http_parser *);
static int	http_client_on_header_field(http_parser *, const char *, size_t);
static int	http_client_on_header_value(http_parser *, const char *, size_t);
static int	http_client_on_headers_complete(http_parser *);
static int	http_client_on_body(http_parser *, const char *, size_t);
static int	http_client_on_message_complete(http_parser *);

static const http_parser_settings http_response_settings = {
	.on_message_begin = http_client_on_message_begin,
	.on_header_field = http_client_on_header_field,
	.on_header_value = http_client_on_header_value,
	.on_headers_complete = http_client_on_headers_complete,
	.on_body = http_client_on_body,
	.on_message_complete = http_client_on_message_complete,
};

/* Status code of a response. */
int
http_response_status(const struct http_response *resp)
{
	return (resp->status);
}

/* First response header of that name, or NULL. */
const char *
http_response_header(const struct http_response *resp, const char *name)
{
	return (http_headers_find(&resp->headers.list, name));
}

const char *
http_response_header_nth(const struct http_response *resp, const char *name,
    size_t n)
{
	const struct http_header	*h;

	TAILQ_FOREACH(h, &resp->headers.list, entry)
		if (strcasecmp(h->name, name) == 0 && n-- == 0)
			return (h->value);
	return (NULL);
}

/* Buffered body (empty when streamed to on_body). */
struct evbuffer *
http_response_body(const struct http_response *resp)
{
	return (resp->body);
}

/* Forget the previous response before the next one. */
static void
http_client_reset_response(struct http_client *c)
{
	c->resp.status = 0;
	http_headers_clear(&c->resp.headers);
	evbuffer_drain(c->resp.body, evbuffer_get_length(c->resp.body));
}

/* Free a request that is out of the queue. */
static void
http_client_request_free(struct http_client_request *r)
{
	event_free(r->timer);
	free(r->wire);
	free(r);
}

/* Unlink a request from the queue (and from flight). */
static void
http_client_unqueue(struct http_client *c, struct http_client_request *r)
{
	TAILQ_REMOVE(&c->queue, r, entry);
	if (c->current == r)
		c->current = NULL;
}

/*
 * Hand a finished request to its owner.  Returns -1 if the owner freed the
 * client meanwhile: the caller must not touch it any more.
 */
static int
http_client_finish(struct http_client *c, struct http_client_request *r,
    const struct http_response *resp, const char *error)
{
	http_client_unqueue(c, r);
	c->up.busy++;
	r->done(resp, error, r->arg);
	c->up.busy--;
	http_client_request_free(r);
	if (c->up.dying) {
		if (c->up.busy == 0)
			http_client_destroy(c);
		return (-1);
	}
	event_active(c->up.kick, 0, 0);
	return (0);
}

/* The request in flight failed: the connection is not trusted any more. */
static int
http_client_fail_current(struct http_client *c, const char *error)
{
	struct http_client_request	*r = c->current;

	log_debug("%s: %s", __func__, error);
	http_client_drop(c);
	if (r == NULL)
		return (0);
	return (http_client_finish(c, r, NULL, error));
}

/* Per-request timeout: from send until the response (or its headers, streamed). */
static void
http_client_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_client_request	*r = arg;
	struct http_client		*c = r->client;

	if (r == c->current) {
		http_client_fail_current(c, "timeout");
		return;
	}
	http_client_finish(c, r, NULL, "timeout");
}

/* Close the connection; the next request opens a new one. */
static void
http_client_close(struct http_client *c)
{
	if (c->up.bev != NULL) {
		bufferevent_free(c->up.bev);
		c->up.bev = NULL;
	}
	c->state = HTTP_CLIENT_DOWN;
	c->reused = 0;
	c->complete = 0;
}

/* Close the connection and forget any partial response. */
static void
http_client_drop(struct http_client *c)
{
	http_client_close(c);
	http_client_reset_response(c);
}

/* Write the request in flight. */
static void
http_client_write_current(struct http_client *c)
{
	struct http_client_request	*r = c->current;

	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	c->complete = 0;
	r->got_bytes = r->headers_in = 0;
	http_client_reset_response(c);
	bufferevent_write(c->up.bev, r->wire, r->wirelen);
}

/* Start the next queued request once nothing is in flight. */
static void
http_client_kick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_client	*c = arg;

	if (c->current != NULL || TAILQ_EMPTY(&c->queue))
		return;
	c->current = TAILQ_FIRST(&c->queue);
	switch (c->state) {
	case HTTP_CLIENT_DOWN:
		http_client_connect(c);
		break;
	case HTTP_CLIENT_CONNECTING:
		break;
	case HTTP_CLIENT_UP:
		http_client_write_current(c);
		break;
	}
}

/* The response in flight is complete: deliver it, keep the connection if allowed. */
static void
http_client_deliver(struct http_client *c)
{
	struct http_client_request	*r = c->current;
	int				 keep;

	keep = http_should_keep_alive(&c->parser) && c->state == HTTP_CLIENT_UP;
	c->complete = 0;
	if (keep)
		c->reused = 1;
	else
		http_client_close(c);
	if (http_client_finish(c, r, &c->resp, NULL) == -1)
		return;
	http_client_reset_response(c);
}

/*
 * Parse what arrived for the request in flight (and the end of the stream on
 * eof, which completes a body delimited by the close); then act on the outcome.
 */
static void
http_client_parse(struct http_client *c, int eof)
{
	struct evbuffer		*in = bufferevent_get_input(c->up.bev);
	struct evbuffer_iovec	 v;
	size_t			 n;
	enum http_errno		 e;
	struct http_client_request *r;

	c->in_parse = 1;
	c->up.busy++;
	while (!c->complete && c->parse_error == NULL) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		c->current->got_bytes = 1;
		n = http_parser_execute(&c->parser, &http_response_settings,
		    v.iov_base, v.iov_len);
		evbuffer_drain(in, n);
		e = HTTP_PARSER_ERRNO(&c->parser);
		if (c->current->cancelled || c->up.dying)
			break;
		if (e != HPE_OK && e != HPE_PAUSED && c->parse_error == NULL)
			c->parse_error = http_errno_description(e);
	}
	if (eof && !c->complete && c->parse_error == NULL &&
	    !c->current->cancelled && !c->up.dying) {
		http_parser_execute(&c->parser, &http_response_settings, NULL, 0);
		e = HTTP_PARSER_ERRNO(&c->parser);
		if (e != HPE_OK && e != HPE_PAUSED && c->parse_error == NULL)
			c->parse_error = http_errno_description(e);
	}
	c->in_parse = 0;
	c->up.busy--;
	if (c->up.dying) {
		if (c->up.busy == 0)
			http_client_destroy(c);
		return;
	}
	r = c->current;
	if (r->cancelled) {
		/* on_body said stop: the rest of the stream is not wanted. */
		http_client_drop(c);
		http_client_unqueue(c, r);
		http_client_request_free(r);
		event_active(c->up.kick, 0, 0);
		return;
	}
	if (c->parse_error != NULL) {
		const char *err = c->parse_error;

		c->parse_error = NULL;
		http_client_fail_current(c, err);
		return;
	}
	if (c->complete)
		http_client_deliver(c);
	else if (eof)
		http_client_fail_current(c, "connection closed");
}

/* Response bytes arrived. */
static void
http_client_read_cb(struct bufferevent *bev, void *arg)
{
	struct http_client	*c = arg;

	if (c->current == NULL) {
		/* Nobody asked: a confused server; start afresh. */
		http_client_drop(c);
		return;
	}
	http_client_parse(c, 0);
}

/* Connected, closed or failed. */
static void
http_client_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct http_client		*c = arg;
	struct http_client_request	*r = c->current;
	char				 msg[256];

	if (events & BEV_EVENT_CONNECTED) {
		if (c->up.t.ssl != NULL && bufferevent_openssl_get_ssl(bev) == NULL) {
			/* TCP is up: TLS starts over it. */
			http_client_start_tls(c);
			return;
		}
		c->state = HTTP_CLIENT_UP;
		if (c->current != NULL)
			http_client_write_current(c);
		return;
	}

	if (r == NULL) {
		/* The server closed an idle connection: fine, reopen on demand. */
		http_client_drop(c);
		return;
	}
	if (c->reused && !r->got_bytes && !r->retried) {
		log_debug("%s: kept-alive connection closed, retrying", __func__);
		r->retried = 1;
		http_client_drop(c);
		http_client_connect(c);
		return;
	}
	if ((events & BEV_EVENT_EOF) && r->headers_in) {
		/* Perhaps a body delimited by the close. */
		http_client_parse(c, 1);
		return;
	}
	http_target_error(&c->up.t, bev, events,
	    c->state == HTTP_CLIENT_CONNECTING, msg, sizeof msg);
	http_client_fail_current(c, msg);
}

/* Response parser callbacks. */

/* A response starts. */
static int
http_client_on_message_begin(http_parser *p)
{
	http_client_reset_response(p->data);
	return (0);
}

/* A piece of a header name. */
static int
http_client_on_header_field(http_parser *p, const char *data, size_t n)
{
	struct http_client	*c = p->data;

	http_headers_field(&c->resp.headers, data, n);
	return (0);
}

/* A piece of a header value. */
static int
http_client_on_header_value(http_parser *p, const char *data, size_t n)
{
	struct http_client	*c = p->data;

	http_headers_value(&c->resp.headers, data, n);
	return (0);
}

/* Headers in: a streamed response has no timeout from here on. */
static int
http_client_on_headers_complete(http_parser *p)
{
	struct http_client		*c = p->data;
	struct http_client_request	*r = c->current;

	http_headers_done(&c->resp.headers);
	c->resp.status = p->status_code;
	if (p->status_code >= 100 && p->status_code < 200)
		return (0);
	r->headers_in = 1;
	if (r->on_body != NULL)
		evtimer_del(r->timer);
	/* A HEAD response announces a length but carries no body. */
	return (r->is_head ? 1 : 0);
}

/* Body bytes: streamed, or buffered under the cap. */
static int
http_client_on_body(http_parser *p, const char *data, size_t n)
{
	struct http_client		*c = p->data;
	struct http_client_request	*r = c->current;

	if (r->on_body != NULL) {
		if (r->on_body(&c->resp, data, n, r->arg) == -1)
			r->cancelled = 1;
		return (r->cancelled || c->up.dying ? -1 : 0);
	}
	if (evbuffer_get_length(c->resp.body) + n > c->up.max_body_bytes) {
		c->parse_error = "response too large";
		return (-1);
	}
	evbuffer_add(c->resp.body, data, n);
	return (0);
}

/* A response is complete; an interim 1xx is skipped. */
static int
http_client_on_message_complete(http_parser *p)
{
	struct http_client	*c = p->data;

	if (p->status_code >= 100 && p->status_code < 200 &&
	    p->status_code != 101) {
		http_client_reset_response(c);
		return (0);
	}
	c->complete = 1;
	http_parser_pause(p, 1);
	return (0);
}

/* TCP is up: start the TLS handshake with SNI, name check and ALPN. */
static void
http_client_start_tls(struct http_client *c)
{
	char	err[128];

	/* The HTTP/2 client offers "h2" (http2_client.c). */
	if (http_upstream_start_tls(&c->up, (const unsigned char *)"\x08http/1.1",
	    9, http_client_read_cb, http_client_event_cb, c, err,
	    sizeof err) == -1)
		http_client_fail_current(c, err);
}

/*
 * The address of a target: the unix socket, or numeric host and port (a name
 * lookup would block the loop; "localhost" is 127.0.0.1).  NULL or why not.
 */
static const char *
http_target_sockaddr(const struct http_target *tg, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;
	struct addrinfo		 hints, *res;
	const char		*host = tg->host;
	int			 r;

	memset(ss, 0, sizeof *ss);
	if (tg->unix_path != NULL) {
		sun->sun_family = AF_UNIX;
		if (strlen(tg->unix_path) >= sizeof sun->sun_path)
			return ("socket path too long");
		memcpy(sun->sun_path, tg->unix_path, strlen(tg->unix_path));
		*sslen = sizeof *sun;
		return (NULL);
	}
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host, tg->port, &hints, &res)) != 0)
		return (gai_strerror(r));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (NULL);
}

/* Open a connection to the target (see http_private.h). */
int
http_upstream_connect(struct http_upstream *up, bufferevent_data_cb readcb,
    bufferevent_event_cb eventcb, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = 0;
	const char		*why;

	if ((why = http_target_sockaddr(&up->t, &ss, &sslen)) != NULL) {
		snprintf(err, errlen, "%s", why);
		return (-1);
	}
	up->bev = bufferevent_socket_new(up->base, -1,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (up->bev == NULL) {
		snprintf(err, errlen, "cannot make a bufferevent");
		return (-1);
	}
	bufferevent_setcb(up->bev, readcb, NULL, eventcb, arg);
	bufferevent_enable(up->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(up->bev, (struct sockaddr *)&ss,
	    sslen) == -1) {
		/* Failed at once (ENOENT on a unix socket). */
		snprintf(err, errlen, "connect %s: %s", up->t.name,
		    strerror(errno));
		bufferevent_free(up->bev);
		up->bev = NULL;
		return (-1);
	}
	return (0);
}

/* TLS over a connected socket (see http_private.h). */
int
http_upstream_start_tls(struct http_upstream *up, const unsigned char *alpn,
    unsigned int alpnlen, bufferevent_data_cb readcb,
    bufferevent_event_cb eventcb, void *arg, char *err, size_t errlen)
{
	struct bufferevent	*bev;
	struct in6_addr		 a6;
	SSL			*ssl;
	const char		*name = up->t.server_name;

	if ((ssl = SSL_new(up->t.ssl)) == NULL) {
		snprintf(err, errlen, "TLS: SSL_new failed");
		return (-1);
	}
	/* The name checked is a host name or an address. */
	if (name != NULL) {
		if (inet_pton(AF_INET, name, &a6) == 1 ||
		    inet_pton(AF_INET6, name, &a6) == 1)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
		else {
			SSL_set_tlsext_host_name(ssl, name);
			SSL_set1_host(ssl, name);
		}
	}
	SSL_set_alpn_protos(ssl, alpn, alpnlen);
	bev = bufferevent_openssl_filter_new(up->base, up->bev, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		snprintf(err, errlen, "TLS: cannot make a bufferevent");
		return (-1);
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	bufferevent_setcb(bev, readcb, NULL, eventcb, arg);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	up->bev = bev;
	return (0);
}

/* A request queued (see http_private.h). */
struct event *
http_upstream_queued(struct http_upstream *up,
    void (*cb)(evutil_socket_t, short, void *), void *arg)
{
	struct event	*ev;
	struct timeval	 tv;

	if ((ev = evtimer_new(up->base, cb, arg)) == NULL)
		fatalx("%s: out of memory", __func__);
	if (up->timeout_ms > 0) {
		tv.tv_sec = up->timeout_ms / 1000;
		tv.tv_usec = (up->timeout_ms % 1000) * 1000;
		evtimer_add(ev, &tv);
	}
	event_active(up->kick, 0, 0);
	return (ev);
}

/* Why a connection ended (see http_private.h). */
void
http_target_error(const struct http_target *tg, struct bufferevent *bev,
    short events, int connecting, char *msg, size_t len)
{
	unsigned long	e;

	if (events & BEV_EVENT_EOF)
		snprintf(msg, len, "%s: connection closed", tg->name);
	else if ((e = bufferevent_get_openssl_error(bev)) != 0)
		snprintf(msg, len, "%s: TLS: %s", tg->name,
		    ERR_reason_error_string(e));
	else if (connecting)
		snprintf(msg, len, "connect %s: %s", tg->name,
		    strerror(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(msg, len, "%s: %s", tg->name,
		    strerror(EVUTIL_SOCKET_ERROR()));
}

/* Open the connection (asynchronously) for the request in flight. */
static void
http_client_connect(struct http_client *c)
{
	char	err[256];

	/* Callbacks are deferred: none runs before the state is set. */
	if (http_upstream_connect(&c->up, http_client_read_cb,
	    http_client_event_cb, c, err, sizeof err) == -1) {
		http_client_fail_current(c, err);
		return;
	}
	c->state = HTTP_CLIENT_CONNECTING;
	c->reused = 0;
}

/* A target's copy (see http_private.h). */
int
http_target_parse(struct http_target *tg, const struct http_client_target *t)
{
	int	v6;

	memset(tg, 0, sizeof *tg);
	if (t->unix_path == NULL && (t->host == NULL || t->port == NULL))
		return (-1);
	if (t->unix_path != NULL) {
		tg->unix_path = xstrdup(t->unix_path);
		tg->name = xstrdup(t->unix_path);
	} else {
		tg->host = xstrdup(t->host);
		tg->port = xstrdup(t->port);
		xasprintf(&tg->name, "%s:%s", t->host, t->port);
	}
	tg->ssl = t->ssl;
	if (t->server_name != NULL)
		tg->server_name = xstrdup(t->server_name);
	else if (t->host != NULL)
		tg->server_name = xstrdup(t->host);
	if (t->host_header != NULL)
		tg->authority = xstrdup(t->host_header);
	else if (t->host == NULL || t->unix_path != NULL)
		tg->authority = xstrdup("localhost");
	else {
		/* An IPv6 address goes between brackets. */
		v6 = strchr(t->host, ':') != NULL;
		xasprintf(&tg->authority, "%s%s%s:%s", v6 ? "[" : "", t->host,
		    v6 ? "]" : "", t->port);
	}
	return (0);
}

void
http_target_clear(struct http_target *tg)
{
	free(tg->unix_path);
	free(tg->host);
	free(tg->port);
	free(tg->server_name);
	free(tg->authority);
	free(tg->name);
	memset(tg, 0, sizeof *tg);
}

/* The clients' common part (see http_private.h). */
int
http_upstream_init(struct http_upstream *up, struct event_base *base,
    const struct http_client_target *t, unsigned int timeout_ms,
    size_t max_body_bytes, void (*kickcb)(evutil_socket_t, short, void *),
    void *arg)
{
	memset(up, 0, sizeof *up);
	if (http_target_parse(&up->t, t) == -1) {
		log_warnx("http client: no unix path nor host and port");
		return (-1);
	}
	up->base = base;
	up->timeout_ms = timeout_ms;
	up->max_body_bytes = max_body_bytes;
	if ((up->kick = event_new(base, -1, 0, kickcb, arg)) == NULL)
		fatalx("%s: out of memory", __func__);
	return (0);
}

void
http_upstream_clear(struct http_upstream *up)
{
	if (up->bev != NULL)
		bufferevent_free(up->bev);
	if (up->kick != NULL)
		event_free(up->kick);
	http_target_clear(&up->t);
	memset(up, 0, sizeof *up);
}

int
http_upstream_free_later(struct http_upstream *up)
{
	if (up->busy == 0)
		return (0);
	up->dying = 1;
	return (1);
}

/* Create a client; nothing connects before the first request. */
struct http_client *
http_client_new(struct event_base *base, const struct http_client_target *t,
    unsigned int timeout_ms, size_t max_body_bytes)
{
	struct http_client	*c;

	c = xcalloc(1, sizeof *c);
	if (http_upstream_init(&c->up, base, t, timeout_ms, max_body_bytes,
	    http_client_kick_cb, c) == -1) {
		free(c);
		return (NULL);
	}
	if ((c->resp.body = evbuffer_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	http_headers_init(&c->resp.headers);
	TAILQ_INIT(&c->queue);
	return (c);
}

/* Queue a request; it is sent once those before it are answered. */
struct http_client_request *
http_client_send(struct http_client *c, const char *method, const char *path,
    const char *const *headers, const void *body, size_t len,
    http_client_body_fn on_body, http_client_cb done, void *arg)
{
	struct http_client_request	*r;
	struct evbuffer			*w;
	size_t				 i;

	r = xcalloc(1, sizeof *r);
	r->client = c;
	r->is_head = strcmp(method, "HEAD") == 0;
	r->on_body = on_body;
	r->done = done;
	r->arg = arg;

	if ((w = evbuffer_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	evbuffer_add_printf(w, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path,
	    c->up.t.authority);
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		evbuffer_add_printf(w, "%s\r\n", headers[i]);
	/* Servers may want a length even for an empty POST (Docker's do not care). */
	if (len > 0 || (strcmp(method, "GET") != 0 && !r->is_head &&
	    strcmp(method, "DELETE") != 0 && strcmp(method, "OPTIONS") != 0))
		evbuffer_add_printf(w, "Content-Length: %zu\r\n", len);
	evbuffer_add(w, "\r\n", 2);
	if (len > 0)
		evbuffer_add(w, body, len);
	r->wirelen = evbuffer_get_length(w);
	r->wire = xmalloc(r->wirelen);
	evbuffer_remove(w, r->wire, r->wirelen);
	evbuffer_free(w);

	TAILQ_INSERT_TAIL(&c->queue, r, entry);
	r->timer = http_upstream_queued(&c->up, http_client_timer_cb, r);
	return (r);
}

/* Forget a request; done will not run.  Its connection goes if it was in flight. */
void
http_client_cancel(struct http_client_request *r)
{
	struct http_client	*c = r->client;

	if (r == c->current && c->in_parse) {
		/* Inside its own on_body: the parse loop finishes the job. */
		r->cancelled = 1;
		return;
	}
	if (r == c->current)
		http_client_drop(c);
	http_client_unqueue(c, r);
	http_client_request_free(r);
	event_active(c->up.kick, 0, 0);
}

/* Free everything; done runs for nobody. */
static void
http_client_destroy(struct http_client *c)
{
	struct http_client_request	*r;

	while ((r = TAILQ_FIRST(&c->queue)) != NULL) {
		TAILQ_REMOVE(&c->queue, r, entry);
		http_client_request_free(r);
	}
	http_upstream_clear(&c->up);
	http_headers_clear(&c->resp.headers);
	evbuffer_free(c->resp.body);
	free(c);
}

/* Free the client, or mark it so if called from one of its callbacks. */
void
http_client_free(struct http_client *c)
{
	if (c != NULL && !http_upstream_free_later(&c->up))
		http_client_destroy(c);
}
