/* http2_client.c: the HTTP/2 client: one connection to one target (h2c prior
 * knowledge on a unix socket or plain TCP, ALPN "h2" over TLS), every request
 * a stream of its own, all of them in flight at once. */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "http.h"
#include "http_private.h"
#include "log.h"
#include "xmalloc.h"

/*
 * Receive windows: a 256 KiB+ GET must not stall on WINDOW_UPDATE round
 * trips, and many of them share the connection.
 */
#define H2C_STREAM_WINDOW	(4 * 1024 * 1024)
#define H2C_CONN_WINDOW		(64 * 1024 * 1024)
/*
 * A server that stops answering (its host hung, or the network gone without a
 * reset) must not hold every request to its full timeout: while requests are
 * outstanding the client sends a PING each tick, and drops the connection after
 * H2C_LIVE_MISSES ticks in which nothing at all arrived (one miss is forgiven:
 * a deferred read may run after the tick), or a connection or TLS handshake
 * that has not finished after as many.
 */
#define H2C_LIVE_TICK_MS	5000
#define H2C_LIVE_MISSES		2

struct http2_client_request {
	struct http2_client	*client;
	int32_t			 id;		/* 0 until submitted */
	char			*method;
	char			*path;
	char			**headers;	/* "Name: value", NULL-terminated */
	char			*body;
	size_t			 len;
	size_t			 off;		/* body bytes handed to nghttp2 */
	struct http_response	 resp;
	http_client_body_fn	 on_body;
	http_client_cb		 done;
	void			*arg;
	struct event		*timer;
	int			 retried;
	int			 got_bytes;
	int			 cancelled;	/* done will not run */
	const char		*error;		/* set before the stream closes */
	TAILQ_ENTRY(http2_client_request) entry;
};
TAILQ_HEAD(h2c_requests, http2_client_request);

enum h2c_state {
	H2C_DOWN,
	H2C_CONNECTING,
	H2C_UP,
};

struct http2_client {
	struct http_upstream	 up;		/* target, limits, bev, kick */
	nghttp2_session		*session;
	enum h2c_state		 state;
	int			 reused;	/* a response came on this connection */
	struct h2c_requests	 waiting;	/* not yet submitted */
	struct h2c_requests	 streams;	/* submitted */
	struct event		*live;		/* every H2C_LIVE_TICK_MS */
	int			 heard;		/* bytes came since the tick */
	int			 misses;	/* ticks in a row without */
};

static void	h2c_connect(struct http2_client *);
static void	h2c_drop(struct http2_client *, const char *);
static void	h2c_flush(struct http2_client *);
static void	h2c_destroy(struct http2_client *);

static void
h2c_request_free(struct http2_client_request *r)
{
	size_t	i;

	if (r->timer != NULL)
		event_free(r->timer);
	for (i = 0; r->headers != NULL && r->headers[i] != NULL; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->method);
	free(r->path);
	free(r->body);
	http_headers_clear(&r->resp.headers);
	if (r->resp.body != NULL)
		evbuffer_free(r->resp.body);
	free(r);
}

/* Run done (unless cancelled) and free r; -1 if the client died meanwhile. */
static int
h2c_finish(struct http2_client *c, struct http2_client_request *r,
    const char *error)
{
	if (!r->cancelled) {
		c->up.busy++;
		r->done(error == NULL ? &r->resp : NULL, error, r->arg);
		c->up.busy--;
	}
	h2c_request_free(r);
	if (c->up.dying && c->up.busy == 0) {
		h2c_destroy(c);
		return (-1);
	}
	return (0);
}

/* nghttp2 callbacks. */

static ssize_t
h2c_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
    void *arg)
{
	struct http2_client	*c = arg;

	if (evbuffer_add(bufferevent_get_output(c->up.bev), data, len) == -1)
		return (NGHTTP2_ERR_CALLBACK_FAILURE);
	return ((ssize_t)len);
}

static int
h2c_header_cb(nghttp2_session *s, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
    uint8_t flags, void *arg)
{
	struct http2_client_request	*r;
	int				 st;
	size_t				 i;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return (0);
	r = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (r == NULL)
		return (0);
	r->got_bytes = 1;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		if (valuelen != 3) {
			r->error = "bad :status";
			return (NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE);
		}
		for (st = 0, i = 0; i < 3; i++) {
			if (value[i] < '0' || value[i] > '9') {
				r->error = "bad :status";
				return (NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE);
			}
			st = st * 10 + (value[i] - '0');
		}
		if (st < 100) {
			r->error = "bad :status";
			return (NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE);
		}
		/* An interim 1xx response is replaced by the final one. */
		r->resp.status = st;
		return (0);
	}
	if (r->resp.status >= 100 && r->resp.status < 200)
		return (0);
	http_headers_field(&r->resp.headers, (const char *)name, namelen);
	http_headers_value(&r->resp.headers, (const char *)value, valuelen);
	return (0);
}

static int
h2c_frame_recv_cb(nghttp2_session *s, const nghttp2_frame *frame, void *arg)
{
	struct http2_client_request	*r;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_RESPONSE)
		return (0);
	r = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (r == NULL)
		return (0);
	http_headers_done(&r->resp.headers);
	/* Streamed: the timeout covers the headers only. */
	if (r->on_body != NULL)
		evtimer_del(r->timer);
	return (0);
}

static int
h2c_data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
    size_t len, void *arg)
{
	struct http2_client		*c = arg;
	struct http2_client_request	*r;
	int				 rv;

	r = nghttp2_session_get_stream_user_data(s, id);
	if (r == NULL || r->cancelled || r->error != NULL)
		return (0);
	if (r->on_body != NULL) {
		c->up.busy++;
		rv = r->on_body(&r->resp, data, len, r->arg);
		c->up.busy--;
		if (rv == -1) {
			r->cancelled = 1;
			nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id,
			    NGHTTP2_CANCEL);
		}
		return (0);
	}
	if (evbuffer_get_length(r->resp.body) + len > c->up.max_body_bytes) {
		r->error = "response too large";
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id,
		    NGHTTP2_CANCEL);
		return (0);
	}
	evbuffer_add(r->resp.body, data, len);
	return (0);
}

static int
h2c_stream_close_cb(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
	struct http2_client		*c = arg;
	struct http2_client_request	*r;
	const char			*error = NULL;

	r = nghttp2_session_get_stream_user_data(s, id);
	if (r == NULL)
		return (0);
	nghttp2_session_set_stream_user_data(s, id, NULL);
	TAILQ_REMOVE(&c->streams, r, entry);
	c->reused = 1;
	if (r->error != NULL)
		error = r->error;
	else if (code != NGHTTP2_NO_ERROR || r->resp.status < 200)
		error = "stream reset by the server";
	if (h2c_finish(c, r, error) == -1)
		return (NGHTTP2_ERR_CALLBACK_FAILURE);
	return (0);
}

static ssize_t
h2c_body_read_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct http2_client_request	*r = src->ptr;
	size_t				 n = r->len - r->off;

	if (n > len)
		n = len;
	memcpy(buf, r->body + r->off, n);
	r->off += n;
	if (r->off == r->len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return ((ssize_t)n);
}

/* Start a request as a stream of the open session. */
static void
h2c_submit(struct http2_client *c, struct http2_client_request *r)
{
	nghttp2_nv		*nv;
	nghttp2_data_provider	 prov, *pp = NULL;
	size_t			 n, i, k;
	char			*colon, clen[32];
	int32_t			 id;

	for (n = 0; r->headers != NULL && r->headers[n] != NULL; n++)
		;
	nv = xcalloc(n + 5, sizeof *nv);
#define NV(na, va) do {							\
	nv[k].name = (uint8_t *)(uintptr_t)(na); nv[k].namelen = strlen(na);	\
	nv[k].value = (uint8_t *)(uintptr_t)(va); nv[k].valuelen = strlen(va);	\
	k++;								\
} while (0)
	k = 0;
	NV(":method", r->method);
	NV(":scheme", c->up.t.ssl != NULL ? "https" : "http");
	NV(":authority", c->up.t.authority);
	NV(":path", r->path);
	for (i = 0; i < n; i++) {
		/* Split "Name: value" in place; names go lower case for h2. */
		if ((colon = strchr(r->headers[i], ':')) == NULL)
			continue;
		*colon = '\0';
		for (colon++; *colon == ' '; colon++)
			;
		for (char *p = r->headers[i]; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p += 'a' - 'A';
		NV(r->headers[i], colon);
	}
	snprintf(clen, sizeof clen, "%zu", r->len);
	if (r->len > 0 || (strcmp(r->method, "GET") != 0 &&
	    strcmp(r->method, "HEAD") != 0 && strcmp(r->method, "DELETE") != 0))
		NV("content-length", clen);
#undef NV
	if (r->len > 0) {
		prov.source.ptr = r;
		prov.read_callback = h2c_body_read_cb;
		pp = &prov;
	}
	id = nghttp2_submit_request(c->session, NULL, nv, k, pp, r);
	free(nv);
	if (id < 0) {
		/* Too many streams or the session is going away: retry later. */
		TAILQ_INSERT_HEAD(&c->waiting, r, entry);
		return;
	}
	r->id = id;
	TAILQ_INSERT_TAIL(&c->streams, r, entry);
}

/* Submit what waits and write out what nghttp2 has to say. */
static void
h2c_flush(struct http2_client *c)
{
	struct http2_client_request	*r;
	int				 rv;

	if (c->state != H2C_UP)
		return;
	while ((r = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, r, entry);
		h2c_submit(c, r);
		if (r->id == 0)
			break;
	}
	c->up.busy++;
	rv = nghttp2_session_send(c->session);
	c->up.busy--;
	if (c->up.dying) {
		if (c->up.busy == 0)
			h2c_destroy(c);
		return;
	}
	if (rv != 0)
		h2c_drop(c, nghttp2_strerror(rv));
}

static void
h2c_kick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http2_client	*c = arg;

	if (c->state == H2C_DOWN && !TAILQ_EMPTY(&c->waiting))
		h2c_connect(c);
	else
		h2c_flush(c);
}

static void
h2c_read_cb(struct bufferevent *bev, void *arg)
{
	struct http2_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	size_t			 len;
	ssize_t			 n;

	c->heard = 1;
	c->up.busy++;
	while ((len = evbuffer_get_length(in)) > 0) {
		n = nghttp2_session_mem_recv(c->session,
		    evbuffer_pullup(in, -1), len);
		if (c->up.dying)
			break;
		if (n < 0) {
			c->up.busy--;
			h2c_drop(c, nghttp2_strerror((int)n));
			return;
		}
		evbuffer_drain(in, (size_t)n);
	}
	c->up.busy--;
	if (c->up.dying) {
		if (c->up.busy == 0)
			h2c_destroy(c);
		return;
	}
	h2c_flush(c);
}

/* The session is ready once the transport is: preface and SETTINGS go first. */
static int
h2c_session_start(struct http2_client *c)
{
	nghttp2_session_callbacks	*cb;
	nghttp2_settings_entry		 iv[3];

	if (nghttp2_session_callbacks_new(&cb) != 0)
		fatalx("%s: out of memory", __func__);
	nghttp2_session_callbacks_set_send_callback(cb, h2c_send_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2c_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    h2c_frame_recv_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    h2c_data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    h2c_stream_close_cb);
	nghttp2_session_callbacks_set_data_source_read_length_callback(cb,
	    http2_data_length);
	if (nghttp2_session_client_new(&c->session, cb, c) != 0)
		fatalx("%s: out of memory", __func__);
	nghttp2_session_callbacks_del(cb);
	iv[0].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	iv[0].value = H2C_STREAM_WINDOW;
	iv[1].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
	iv[1].value = 0;
	/* Fewer, larger DATA frames if the server cares to send them. */
	iv[2].settings_id = NGHTTP2_SETTINGS_MAX_FRAME_SIZE;
	iv[2].value = HTTP2_FRAME_MAX;
	nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 3);
	nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0,
	    H2C_CONN_WINDOW);
	c->state = H2C_UP;
	c->reused = 0;
	return (0);
}

static void
h2c_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct http2_client	*c = arg;
	const unsigned char	*proto = NULL;
	unsigned int		 plen = 0;
	SSL			*ssl = NULL;
	char			 msg[256];

	if (events & BEV_EVENT_CONNECTED) {
		if (c->up.t.ssl != NULL &&
		    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL) {
			/* TCP is up: TLS over it, offering "h2". */
			if (http_upstream_start_tls(&c->up,
			    (const unsigned char *)"\x02h2", 3, h2c_read_cb,
			    h2c_event_cb, c, msg, sizeof msg) == -1)
				h2c_drop(c, msg);
			return;
		}
		if (ssl != NULL) {
			SSL_get0_alpn_selected(ssl, &proto, &plen);
			if (plen != 2 || memcmp(proto, "h2", 2) != 0) {
				h2c_drop(c, "TLS: server did not select h2");
				return;
			}
		}
		h2c_session_start(c);
		h2c_flush(c);
		return;
	}
	http_target_error(&c->up.t, bev, events, 0, msg, sizeof msg);
	h2c_drop(c, msg);
}

/*
 * The connection is gone.  Streams that had no answer yet on a connection that
 * already served some (the server closed an idle one) are retried once; the
 * rest fail with error.
 */
static void
h2c_drop(struct http2_client *c, const char *error)
{
	struct http2_client_request	*r;
	struct h2c_requests		 failed;
	int				 reused = c->reused;

	log_debug("%s: %s", __func__, error);
	if (c->session != NULL) {
		nghttp2_session_del(c->session);
		c->session = NULL;
	}
	if (c->up.bev != NULL) {
		bufferevent_free(c->up.bev);
		c->up.bev = NULL;
	}
	c->state = H2C_DOWN;
	TAILQ_INIT(&failed);
	while ((r = TAILQ_FIRST(&c->streams)) != NULL) {
		TAILQ_REMOVE(&c->streams, r, entry);
		r->id = 0;
		r->off = 0;
		if (reused && !r->got_bytes && !r->retried && !r->cancelled) {
			r->retried = 1;
			TAILQ_INSERT_TAIL(&c->waiting, r, entry);
		} else
			TAILQ_INSERT_TAIL(&failed, r, entry);
	}
	if (!reused) {
		/* Connect or handshake failed: those waiting fail too. */
		TAILQ_CONCAT(&failed, &c->waiting, entry);
	}
	c->up.busy++;
	while ((r = TAILQ_FIRST(&failed)) != NULL) {
		TAILQ_REMOVE(&failed, r, entry);
		h2c_finish(c, r, error);
	}
	c->up.busy--;
	if (c->up.dying) {
		if (c->up.busy == 0)
			h2c_destroy(c);
		return;
	}
	if (!TAILQ_EMPTY(&c->waiting))
		event_active(c->up.kick, 0, 0);
}

static void
h2c_connect(struct http2_client *c)
{
	char	msg[256];

	c->reused = 0;
	c->heard = 0;
	c->misses = 0;
	/* Callbacks are deferred: none runs before the state is set. */
	if (http_upstream_connect(&c->up, h2c_read_cb, h2c_event_cb, c, msg,
	    sizeof msg) == -1) {
		h2c_drop(c, msg);
		return;
	}
	c->state = H2C_CONNECTING;
}

static void
h2c_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http2_client_request	*r = arg;
	struct http2_client		*c = r->client;

	if (r->id == 0) {
		TAILQ_REMOVE(&c->waiting, r, entry);
		h2c_finish(c, r, "timeout");
		return;
	}
	r->error = "timeout";
	nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, r->id,
	    NGHTTP2_CANCEL);
	h2c_flush(c);
}

/* The liveness tick (see H2C_LIVE_TICK_MS). */
static void
h2c_live_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http2_client	*c = arg;
	char			 msg[256];

	if (c->state == H2C_DOWN ||
	    (TAILQ_EMPTY(&c->streams) && TAILQ_EMPTY(&c->waiting))) {
		c->misses = 0;
		return;
	}
	if (c->heard)
		c->misses = 0;
	else if (++c->misses >= H2C_LIVE_MISSES) {
		snprintf(msg, sizeof msg, "%s: %s for %d ms", c->up.t.name,
		    c->state == H2C_UP ? "no answer to PING" :
		    "connection not established", H2C_LIVE_MISSES *
		    H2C_LIVE_TICK_MS);
		log_warnx("%s", msg);
		/* Nothing came: no request would get bytes by a retry. */
		c->reused = 0;
		h2c_drop(c, msg);
		return;
	}
	c->heard = 0;
	if (c->state == H2C_UP) {
		nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, NULL);
		h2c_flush(c);
	}
}

struct http2_client *
http2_client_new(struct event_base *base, const struct http_client_target *t,
    unsigned int timeout_ms, size_t max_body_bytes)
{
	struct http2_client	*c;
	struct timeval		 tv;

	c = xcalloc(1, sizeof *c);
	if (http_upstream_init(&c->up, base, t, timeout_ms, max_body_bytes,
	    h2c_kick_cb, c) == -1) {
		free(c);
		return (NULL);
	}
	TAILQ_INIT(&c->waiting);
	TAILQ_INIT(&c->streams);
	if ((c->live = event_new(base, -1, EV_PERSIST, h2c_live_cb, c)) == NULL)
		fatalx("%s: out of memory", __func__);
	tv.tv_sec = H2C_LIVE_TICK_MS / 1000;
	tv.tv_usec = (H2C_LIVE_TICK_MS % 1000) * 1000;
	event_add(c->live, &tv);
	return (c);
}

struct http2_client_request *
http2_client_send(struct http2_client *c, const char *method, const char *path,
    const char *const *headers, const void *body, size_t len,
    http_client_body_fn on_body, http_client_cb done, void *arg)
{
	struct http2_client_request	*r;
	size_t				 n, i;

	r = xcalloc(1, sizeof *r);
	r->client = c;
	r->method = xstrdup(method);
	r->path = xstrdup(path);
	for (n = 0; headers != NULL && headers[n] != NULL; n++)
		;
	r->headers = xcalloc(n + 1, sizeof *r->headers);
	for (i = 0; i < n; i++)
		r->headers[i] = xstrdup(headers[i]);
	if (len > 0) {
		r->body = xmalloc(len);
		memcpy(r->body, body, len);
	}
	r->len = len;
	r->on_body = on_body;
	r->done = done;
	r->arg = arg;
	http_headers_init(&r->resp.headers);
	if ((r->resp.body = evbuffer_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	TAILQ_INSERT_TAIL(&c->waiting, r, entry);
	r->timer = http_upstream_queued(&c->up, h2c_timer_cb, r);
	return (r);
}

/* Forget a request; done will not run. */
void
http2_client_cancel(struct http2_client_request *r)
{
	struct http2_client	*c = r->client;

	if (r->id == 0) {
		TAILQ_REMOVE(&c->waiting, r, entry);
		h2c_request_free(r);
		return;
	}
	r->cancelled = 1;
	nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, r->id,
	    NGHTTP2_CANCEL);
	event_active(c->up.kick, 0, 0);
}

static void
h2c_destroy(struct http2_client *c)
{
	struct http2_client_request	*r;

	if (c->session != NULL)
		nghttp2_session_del(c->session);
	while ((r = TAILQ_FIRST(&c->streams)) != NULL) {
		TAILQ_REMOVE(&c->streams, r, entry);
		h2c_request_free(r);
	}
	while ((r = TAILQ_FIRST(&c->waiting)) != NULL) {
		TAILQ_REMOVE(&c->waiting, r, entry);
		h2c_request_free(r);
	}
	http_upstream_clear(&c->up);
	event_free(c->live);
	free(c);
}

/* Free the client, or mark it so if called from one of its callbacks. */
void
http2_client_free(struct http2_client *c)
{
	if (c != NULL && !http_upstream_free_later(&c->up))
		h2c_destroy(c);
}
