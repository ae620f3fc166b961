/* http.c: the HTTP/1.1 server: listeners (unix, TCP, TLS), connections parsed by
 * libhttp-parser, routing, limits, buffered and streamed bodies and replies. */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http.h"
#include "http_private.h"
#include "log.h"
#include "metrics.h"
#include "xmalloc.h"

#define HTTP_DEFAULT_HEADER_BYTES	(16 * 1024)
#define HTTP_DEFAULT_BODY_BYTES		(1024 * 1024)
#define HTTP_DEFAULT_IDLE_MS		30000
#define HTTP_DEFAULT_CONNECTIONS	1024
#define HTTP_DEFAULT_HEADER_MS		10000
#define HTTP_DEFAULT_BODY_MS		60000
#define HTTP_DEFAULT_BODY_RATE		1024
#define HTTP_RATE_WINDOW_MS		5000	/* a streamed body's rate is checked per window */
#define HTTP2_SWEEP_MS			1000	/* an HTTP/2 connection's streams checked */
#define HTTP_MAX_HEADERS		100
#define HTTP_LISTEN_BACKLOG		128

/* Where a connection is in its current request. */
enum http_conn_state {
	HTTP_CONN_IDLE,		/* waiting for the first byte of a request */
	HTTP_CONN_HEADERS,	/* request line and headers arriving */
	HTTP_CONN_BODY,		/* body arriving */
	HTTP_CONN_HANDLER,	/* request complete, the handler owns it */
	HTTP_CONN_CLOSING,	/* flushing the last response, then closed */
};

enum http_reply_state {
	HTTP_REPLY_NONE,
	HTTP_REPLY_STREAMING,
	HTTP_REPLY_DONE,
};

struct http_listener {
	struct http_server	*server;
	struct evconnlistener	*lev;
	SSL_CTX			*ssl;
	char			*unix_path;	/* unlinked at free if still ours */
	dev_t			 unix_dev;
	ino_t			 unix_ino;
	int			 port;		/* TCP: bound port */
	TAILQ_ENTRY(http_listener) entry;
};

struct http_conn;

struct http_request {
	struct http_conn	*conn;
	const struct http_route	*route;
	const char		*method;
	char			*url;
	size_t			 urllen;
	char			*path;
	char			*query;
	struct http_header_parse headers;
	struct evbuffer		*body;
	int			 http_major;
	int			 http_minor;
	int			 keepalive;
	int			 is_head;
	int			 headers_complete;
	int			 complete;	/* whole body read */
	int			 handler_called;
	int			 body_aborted;	/* stream on_body returned -1 */
	int			 error_status;	/* 404/405 answered at end of body */
	char			*allow;		/* Allow: value for 405 */
	enum http_reply_state	 reply_state;
	int			 status;
	int			 chunked;	/* streamed reply uses chunked coding */
	struct http_headers	 response_headers;
	void			(*cleanup)(struct http_request *, void *);
	void			*cleanup_arg;
	void			*data;		/* the handler's own state */
	/* HTTP/2: the stream, its queued reply body, whether that is all. */
	int32_t			 h2_stream;
	char			*h2_method;
	uint64_t		 h2_body_bytes;
	uint64_t		 h2_window_bytes;	/* h2_body_bytes at h2_window */
	struct timespec		 h2_window;	/* a streamed body's rate window */
	size_t			 h2_header_bytes;
	struct evbuffer		*h2_out;
	int			 h2_eof;
	int			 h2_closed;	/* stream gone, free pending */
	TAILQ_ENTRY(http_request) h2_entry;
	void			(*drain)(struct http_request *, void *);
	void			*drain_arg;
	struct timespec		 start;
};

struct http_conn {
	struct http_server	*server;
	struct http_listener	*listener;
	struct bufferevent	*bev;
	http_parser		 parser;
	enum http_conn_state	 state;
	struct http_request	*req;
	struct event		*deadline;	/* whole request (not per byte) */
	struct event		*resume;	/* continue after a reply, off-stack */
	size_t			 header_bytes;
	uint64_t		 body_bytes;
	uint64_t		 window_bytes;	/* body_bytes when the rate window began */
	int			 fail_status;	/* set by parser callbacks */
	const char		*fail_message;
	int			 proto_known;	/* HTTP/1.1 or HTTP/2 decided */
	int			 rcvlowat;	/* SO_RCVLOWAT set, 0 for never */
	int			 lowat_off;	/* a slow body: wake on every byte */
	nghttp2_session		*h2;		/* HTTP/2 connection */
	struct timespec		 h2_active;	/* a stream last opened or closed */
	TAILQ_HEAD(, http_request) h2_streams;
	TAILQ_ENTRY(http_conn)	 entry;
};

struct http_server {
	struct event_base	*base;
	char			*name;
	struct http_limits	 limits;
	struct http_route	*routes;
	size_t			 nroutes;
	http_error_fn		 error_fn;
	void			*arg;
	TAILQ_HEAD(, http_listener) listeners;
	TAILQ_HEAD(, http_conn)	 conns;
	unsigned int		 nconns;
	int			 paused;	/* listeners disabled at the cap */
	int			 priority;	/* of its connections' events, -1: default */
	struct metric		*m_requests[5];
	struct metric		*m_duration;
	struct metric		*m_connections;
	/* Per route (the plugin API's methods, the control paths): requests
	 * by status class and latency; HTTP_ROUTE_METRICS of them per route. */
	struct metric		**m_route;
};

#define HTTP_ROUTE_METRICS	6	/* 1xx..5xx counters, then the histogram */

static void	http_conn_free(struct http_conn *);
static void	http_conn_tune_lowat(struct http_conn *);
static void	http_conn_read_more(struct http_conn *);
#define HTTP_BODY_LOWAT		(64 * 1024)
static void	http_server_route_metrics(struct http_server *);
static int	http2_conn_start(struct http_conn *);
static void	http2_conn_read(struct http_conn *);
static void	http2_conn_send(struct http_conn *);
static void	http2_conn_free(struct http_conn *);
static void	http2_conn_sweep(struct http_conn *);
static void	http2_conn_drained(struct http_conn *);
static int	http2_write_head(struct http_request *, int, const char *, int64_t);
static void	http2_reply_data(struct http_request *, const void *, size_t);
static void	http2_reply_end(struct http_request *);
static void	http_conn_parse(struct http_conn *);
static void	http_conn_fail(struct http_conn *, int, const char *);
static void	http_send_error(struct http_request *, int, const char *);

static int	http_on_message_begin(http_parser *);
static int	http_on_url(http_parser *, const char *, size_t);
static int	http_on_header_field(http_parser *, const char *, size_t);
static int	http_on_header_value(http_parser *, const char *, size_t);
static int	http_on_headers_complete(http_parser *);
static int	http_on_body(http_parser *, const char *, size_t);
static int	http_on_message_complete(http_parser *);

static const http_parser_settings http_request_settings = {
	.on_message_begin = http_on_message_begin,
	.on_url = http_on_url,
	.on_header_field = http_on_header_field,
	.on_header_value = http_on_header_value,
	.on_headers_complete = http_on_headers_complete,
	.on_body = http_on_body,
	.on_message_complete = http_on_message_complete,
};

static const char *const http_conn_state_names[] = {
	"idle", "headers", "body", "handler", "closing"
};

/* Shared helpers (declared in http_private.h). */

/* Start an empty header collection. */
void
http_headers_init(struct http_header_parse *hp)
{
	memset(hp, 0, sizeof *hp);
	TAILQ_INIT(&hp->list);
}

/* Append a piece of text to a growing string. */
static void
http_append(char **s, size_t *len, const char *data, size_t n)
{
	*s = xreallocarray(*s, 1, *len + n + 1);
	memcpy(*s + *len, data, n);
	*len += n;
	(*s)[*len] = '\0';
}

/* A piece of a field name; a field after a value starts the next header. */
void
http_headers_field(struct http_header_parse *hp, const char *data, size_t n)
{
	if (hp->in_value)
		http_headers_done(hp);
	http_append(&hp->field, &hp->fieldlen, data, n);
}

/* A piece of a header value. */
void
http_headers_value(struct http_header_parse *hp, const char *data, size_t n)
{
	hp->in_value = 1;
	if (hp->value == NULL)
		hp->value = xstrdup("");
	http_append(&hp->value, &hp->valuelen, data, n);
}

/* Commit the header being collected, if any. */
void
http_headers_done(struct http_header_parse *hp)
{
	struct http_header	*h;

	if (hp->field != NULL) {
		h = xcalloc(1, sizeof *h);
		h->name = hp->field;
		h->value = hp->value != NULL ? hp->value : xstrdup("");
		TAILQ_INSERT_TAIL(&hp->list, h, entry);
		hp->count++;
	} else
		free(hp->value);
	hp->field = hp->value = NULL;
	hp->fieldlen = hp->valuelen = 0;
	hp->in_value = 0;
}

/* Free everything collected. */
void
http_headers_clear(struct http_header_parse *hp)
{
	free(hp->field);
	free(hp->value);
	http_headers_free(&hp->list);
	http_headers_init(hp);
}

/* First header of that name (names compare without case). */
const char *
http_headers_find(const struct http_headers *list, const char *name)
{
	const struct http_header	*h;

	TAILQ_FOREACH(h, list, entry) {
		if (strcasecmp(h->name, name) == 0)
			return (h->value);
	}
	return (NULL);
}

/* Add a header to a list. */
void
http_headers_add(struct http_headers *list, const char *name, const char *value)
{
	struct http_header	*h;

	size_t			 nlen = strlen(name) + 1, vlen = strlen(value) + 1;

	/* One allocation: a reply adds a few of these for every request. */
	h = xmalloc(sizeof *h + nlen + vlen);
	h->name = (char *)(h + 1);
	h->value = h->name + nlen;
	memcpy(h->name, name, nlen);
	memcpy(h->value, value, vlen);
	h->packed = 1;
	TAILQ_INSERT_TAIL(list, h, entry);
}

/* Free every header in a list. */
void
http_headers_free(struct http_headers *list)
{
	struct http_header	*h;

	while ((h = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, h, entry);
		if (!h->packed) {
			free(h->name);
			free(h->value);
		}
		free(h);
	}
}

/* An HTTP date (IMF-fixdate, the one format RFC 9110 wants senders to use). */
void
http_format_date(time_t t, char *buf, size_t len)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	 tm;
	char		 tmp[32], *p = tmp;
	int		 year;

	/*
	 * Written by hand: strftime's names follow the locale, and every
	 * reply carries a date or two, so no printf either.
	 */
	gmtime_r(&t, &tm);
	year = tm.tm_year + 1900;
	if (year < 1000 || year > 9999) {
		snprintf(buf, len, "%s, %02d %s %d %02d:%02d:%02d GMT",
		    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], year,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
		return;
	}
#define HTTP_DATE_2(v)	do { *p++ = '0' + (v) / 10; *p++ = '0' + (v) % 10; } while (0)
	memcpy(p, days[tm.tm_wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	HTTP_DATE_2(tm.tm_mday);
	*p++ = ' ';
	memcpy(p, months[tm.tm_mon], 3);
	p += 3;
	*p++ = ' ';
	HTTP_DATE_2(year / 100);
	HTTP_DATE_2(year % 100);
	*p++ = ' ';
	HTTP_DATE_2(tm.tm_hour);
	*p++ = ':';
	HTTP_DATE_2(tm.tm_min);
	*p++ = ':';
	HTTP_DATE_2(tm.tm_sec);
	memcpy(p, " GMT", 4);
	p += 4;
#undef HTTP_DATE_2
	if (len == 0)
		return;
	if ((size_t)(p - tmp) >= len)
		p = tmp + len - 1;
	memcpy(buf, tmp, p - tmp);
	buf[p - tmp] = '\0';
}

/*
 * The Date header line, formatted once a second: every reply carries it, and
 * formatting it each time cost a tenth of a small GET.
 */
static size_t
http_date_line(const char **line)
{
	static char	 buf[64];
	static size_t	 len;
	static time_t	 when = -1;
	time_t		 now = time(NULL);

	if (now != when) {
		memcpy(buf, "Date: ", 6);
		http_format_date(now, buf + 6, sizeof buf - 8);
		len = strlen(buf);
		memcpy(buf + len, "\r\n", 3);
		len += 2;
		when = now;
	}
	*line = buf;
	return (len);
}

/* Date header of a reply. */
void
http_date_header(struct evbuffer *out)
{
	const char	*line;
	size_t		 len;

	len = http_date_line(&line);
	evbuffer_add(out, line, len);
}

/*
 * A reply head built in one buffer and added to the output at once, without
 * printf: the head of a small reply costs as much to format as the rest.
 */
struct http_head {
	char		 buf[2048];
	size_t		 len;
	struct evbuffer	*spill;		/* a head larger than buf (rare) */
};

static void
http_head_add(struct http_head *hd, const char *s, size_t n)
{
	if (hd->spill == NULL && n > sizeof hd->buf - hd->len) {
		hd->spill = evbuffer_new();
		evbuffer_add(hd->spill, hd->buf, hd->len);
	}
	if (hd->spill != NULL)
		evbuffer_add(hd->spill, s, n);
	else {
		memcpy(hd->buf + hd->len, s, n);
		hd->len += n;
	}
}

static void
http_head_str(struct http_head *hd, const char *s)
{
	http_head_add(hd, s, strlen(s));
}

static void
http_head_num(struct http_head *hd, long long v)
{
	char	 tmp[24];
	size_t	 i = sizeof tmp;
	unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;

	do {
		tmp[--i] = '0' + (u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[--i] = '-';
	http_head_add(hd, tmp + i, sizeof tmp - i);
}

static void
http_head_field(struct http_head *hd, const char *name, const char *value)
{
	http_head_str(hd, name);
	http_head_add(hd, ": ", 2);
	http_head_str(hd, value);
	http_head_add(hd, "\r\n", 2);
}

/* Is token one of the comma-separated items of value? */
int
http_header_has_token(const char *value, const char *token)
{
	size_t		 tlen = strlen(token), n;
	const char	*p = value;

	if (value == NULL)
		return (0);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(p, token, n) == 0)
			return (1);
		p += n;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return (0);
}

/* Reason phrase of a status code. */
const char *
http_status_text(int status)
{
	switch (status) {
	case 100: return ("Continue");
	case 101: return ("Switching Protocols");
	case 200: return ("OK");
	case 201: return ("Created");
	case 202: return ("Accepted");
	case 204: return ("No Content");
	case 206: return ("Partial Content");
	case 207: return ("Multi-Status");
	case 301: return ("Moved Permanently");
	case 302: return ("Found");
	case 304: return ("Not Modified");
	case 307: return ("Temporary Redirect");
	case 308: return ("Permanent Redirect");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 409: return ("Conflict");
	case 411: return ("Length Required");
	case 412: return ("Precondition Failed");
	case 413: return ("Content Too Large");
	case 415: return ("Unsupported Media Type");
	case 416: return ("Range Not Satisfiable");
	case 422: return ("Unprocessable Content");
	case 423: return ("Locked");
	case 424: return ("Failed Dependency");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	case 507: return ("Insufficient Storage");
	}
	return ("Unknown");
}

/* Server. */

/* Fill unset limits with defaults, so a zeroed struct is usable. */
static void
http_limits_apply(struct http_limits *dst, const struct http_limits *src)
{
	if (src != NULL)
		*dst = *src;
	else
		memset(dst, 0, sizeof *dst);
	if (dst->max_header_bytes == 0)
		dst->max_header_bytes = HTTP_DEFAULT_HEADER_BYTES;
	if (dst->max_body_bytes == 0)
		dst->max_body_bytes = HTTP_DEFAULT_BODY_BYTES;
	if (dst->idle_timeout_ms == 0)
		dst->idle_timeout_ms = HTTP_DEFAULT_IDLE_MS;
	if (dst->max_connections == 0)
		dst->max_connections = HTTP_DEFAULT_CONNECTIONS;
	if (dst->header_timeout_ms == 0)
		dst->header_timeout_ms = HTTP_DEFAULT_HEADER_MS;
	if (dst->body_timeout_ms == 0)
		dst->body_timeout_ms = HTTP_DEFAULT_BODY_MS;
	if (dst->body_min_rate == 0)
		dst->body_min_rate = HTTP_DEFAULT_BODY_RATE;
}

/* (Re)arm the connection's deadline ms from now. */
static void
http_conn_deadline_in(struct http_conn *c, unsigned int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->deadline, &tv);
}

/* Create a server; routes are copied, the first match wins. */
struct http_server *
http_server_new(struct event_base *base, const char *name,
    const struct http_limits *limits, const struct http_route *routes,
    size_t nroutes, http_error_fn error_fn, void *arg)
{
	struct http_server	*srv;
	char			*labels;
	size_t			 i;

	srv = xcalloc(1, sizeof *srv);
	srv->base = base;
	srv->name = xstrdup(name);
	http_limits_apply(&srv->limits, limits);
	srv->routes = xcalloc(nroutes > 0 ? nroutes : 1, sizeof *srv->routes);
	for (i = 0; i < nroutes; i++) {
		srv->routes[i] = routes[i];
		if (routes[i].method != NULL)
			srv->routes[i].method = xstrdup(routes[i].method);
		srv->routes[i].path = xstrdup(routes[i].path);
	}
	srv->nroutes = nroutes;
	srv->error_fn = error_fn;
	srv->arg = arg;
	srv->priority = -1;
	TAILQ_INIT(&srv->listeners);
	TAILQ_INIT(&srv->conns);

	for (i = 0; i < 5; i++) {
		xasprintf(&labels, "server=\"%s\",code=\"%zuxx\"", name, i + 1);
		srv->m_requests[i] = metrics_counter("netcrave_http_requests_total",
		    "HTTP requests answered, by server and status class", labels);
		free(labels);
	}
	xasprintf(&labels, "server=\"%s\"", name);
	srv->m_duration = metrics_histogram("netcrave_http_request_duration_seconds",
	    "Time from a request's headers to the end of its reply", labels,
	    metrics_latency_bounds, metrics_latency_nbounds);
	srv->m_connections = metrics_gauge("netcrave_http_connections",
	    "Open HTTP connections", labels);
	free(labels);
	http_server_route_metrics(srv);
	return (srv);
}

/* New limits apply to new connections and to the next request of the others. */
void
http_server_set_limits(struct http_server *srv, const struct http_limits *limits)
{
	http_limits_apply(&srv->limits, limits);
	if (srv->paused && srv->nconns < srv->limits.max_connections) {
		struct http_listener	*l;

		TAILQ_FOREACH(l, &srv->listeners, entry)
			evconnlistener_enable(l->lev);
		srv->paused = 0;
	}
}

/*
 * Serve this server's connections at an event priority of the loop's (see
 * NC_EV_PRIORITIES): the plugin socket goes first so that dockerd's calls keep
 * their latency while DNS floods or WebDAV transfers keep the loop busy.
 */
void
http_server_set_priority(struct http_server *srv, int priority)
{
	srv->priority = priority;
}

/* Open connections, for tests and the status page. */
unsigned int
http_server_connections(const struct http_server *srv)
{
	return (srv->nconns);
}

/* Port of the first TCP listener (useful after listening on port "0"). */
int
http_server_tcp_port(const struct http_server *srv)
{
	const struct http_listener	*l;

	TAILQ_FOREACH(l, &srv->listeners, entry) {
		if (l->unix_path == NULL)
			return (l->port);
	}
	return (-1);
}

/* Close every listener and connection, then free the server. */
void
http_server_free(struct http_server *srv)
{
	struct http_listener	*l;
	struct http_conn	*c;
	struct stat		 sb;
	size_t			 i;

	if (srv == NULL)
		return;
	while ((l = TAILQ_FIRST(&srv->listeners)) != NULL) {
		TAILQ_REMOVE(&srv->listeners, l, entry);
		evconnlistener_free(l->lev);
		/* Only unlink the socket if nobody replaced it meanwhile. */
		if (l->unix_path != NULL && lstat(l->unix_path, &sb) == 0 &&
		    S_ISSOCK(sb.st_mode) && sb.st_dev == l->unix_dev &&
		    sb.st_ino == l->unix_ino)
			unlink(l->unix_path);
		free(l->unix_path);
		free(l);
	}
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		http_conn_free(c);
	for (i = 0; i < srv->nroutes; i++) {
		free((char *)(uintptr_t)srv->routes[i].method);
		free((char *)(uintptr_t)srv->routes[i].path);
	}
	free(srv->routes);
	free(srv->m_route);
	free(srv->name);
	free(srv);
}

/* Stop accepting at the connection cap; the kernel backlog holds the rest. */
static void
http_server_check_cap(struct http_server *srv)
{
	struct http_listener	*l;

	if (!srv->paused && srv->nconns >= srv->limits.max_connections) {
		log_debug("%s: %s: %u connections, accept paused", __func__,
		    srv->name, srv->nconns);
		TAILQ_FOREACH(l, &srv->listeners, entry)
			evconnlistener_disable(l->lev);
		srv->paused = 1;
	} else if (srv->paused && srv->nconns < srv->limits.max_connections) {
		log_debug("%s: %s: accept resumed", __func__, srv->name);
		TAILQ_FOREACH(l, &srv->listeners, entry)
			evconnlistener_enable(l->lev);
		srv->paused = 0;
	}
}

/* ALPN: HTTP/2 preferred, HTTP/1.1 otherwise. */
static int
http_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	/* Preference order. */
	static const unsigned char	 ours[] = "\x02h2\x08http/1.1";
	unsigned char			*selected;

	if (SSL_select_next_proto(&selected, outlen, ours, sizeof ours - 1,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_NOACK);	/* no ALPN match: plain HTTP/1.1 */
	*out = selected;
	return (SSL_TLSEXT_ERR_OK);
}

/*
 * A streamed body's rate window ended: it goes on if the window brought
 * body_min_rate bytes a second.  Bytes queued in the socket under a raised
 * low-water mark count; reading goes on a byte at a time to take them.
 */
static int
http_conn_rate_ok(struct http_conn *c)
{
	uint64_t	 got, want;
	int		 queued = 0;

	got = c->body_bytes - c->window_bytes;
	got += evbuffer_get_length(bufferevent_get_input(c->bev));
	if (c->rcvlowat > 1 && ioctl(bufferevent_getfd(c->bev), FIONREAD,
	    &queued) == 0 && queued > 0) {
		got += queued;
		c->lowat_off = 1;
		http_conn_tune_lowat(c);
	}
	want = (uint64_t)c->server->limits.body_min_rate *
	    HTTP_RATE_WINDOW_MS / 1000;
	c->window_bytes = c->body_bytes;
	return (got >= want);
}

/*
 * Timer: the keep-alive idle time, the request head's or the buffered body's
 * deadline, or the end of a streamed body's rate window.  Counted from a
 * fixed start, never per byte, so a client dribbling a byte a second is cut
 * all the same.
 */
static void
http_conn_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_conn	*c = arg;
	struct http_request	*req = c->req;

	if (c->h2 != NULL) {
		http2_conn_sweep(c);
		return;
	}
	if (req == NULL) {
		log_debug("%s: %s: idle connection dropped", __func__,
		    c->server->name);
		http_conn_free(c);
		return;
	}
	if (!req->headers_complete) {
		log_info("%s: request head not whole in %u ms, dropped",
		    c->server->name, c->server->limits.header_timeout_ms);
		http_conn_fail(c, 408, "request head not received in time");
		return;
	}
	if (req->handler_called && !req->complete) {
		/* A streamed body. */
		if (http_conn_rate_ok(c)) {
			http_conn_deadline_in(c, HTTP_RATE_WINDOW_MS);
			return;
		}
		log_info("%s: request body under %zu bytes/s, dropped",
		    c->server->name, c->server->limits.body_min_rate);
		http_conn_fail(c, 408, "request body too slow");
		return;
	}
	log_info("%s: request body not whole in %u ms, dropped",
	    c->server->name, c->server->limits.body_timeout_ms);
	http_conn_fail(c, 408, "request body not received in time");
}

/* Change state, leaving a trace for debugging. */
static void
http_conn_enter_state(struct http_conn *c, enum http_conn_state state)
{
	if (c->state == state)
		return;
	log_debug("%s: %s: %s -> %s", __func__, c->server->name,
	    http_conn_state_names[c->state], http_conn_state_names[state]);
	c->state = state;
}

/* Wait for the next request: its deadline starts now. */
static void
http_conn_wait_request(struct http_conn *c)
{
	http_conn_enter_state(c, HTTP_CONN_IDLE);
	c->header_bytes = 0;
	c->body_bytes = 0;
	c->window_bytes = 0;
	c->lowat_off = 0;
	if (c->rcvlowat > 1)
		http_conn_tune_lowat(c);
	/* Idle until the next request's first byte starts its head's clock. */
	http_conn_deadline_in(c, c->server->limits.idle_timeout_ms);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
}

/* Free a request; its cleanup runs if it was never answered in full. */
static void
http_request_free(struct http_request *req)
{
	if (req->cleanup != NULL && req->reply_state != HTTP_REPLY_DONE)
		req->cleanup(req, req->cleanup_arg);
	free(req->url);
	free(req->path);
	free(req->query);
	free(req->allow);
	http_headers_clear(&req->headers);
	http_headers_free(&req->response_headers);
	if (req->body != NULL)
		evbuffer_free(req->body);
	if (req->h2_out != NULL)
		evbuffer_free(req->h2_out);
	free(req->h2_method);
	free(req);
}

/* Drop a connection now: its pending request's cleanup runs. */
static void
http_conn_free(struct http_conn *c)
{
	struct http_server	*srv = c->server;

	TAILQ_REMOVE(&srv->conns, c, entry);
	srv->nconns--;
	metrics_set(srv->m_connections, srv->nconns);
	if (c->req != NULL) {
		c->req->conn = NULL;
		http_request_free(c->req);
	}
	http2_conn_free(c);
	event_free(c->deadline);
	event_free(c->resume);
	bufferevent_free(c->bev);
	free(c);
	http_server_check_cap(srv);
}

/* Off-stack continuation after a reply: next request, or close. */
static void
http_conn_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct http_conn	*c = arg;

	if (c->h2 != NULL) {
		http2_conn_send(c);
		return;
	}
	if (c->req != NULL && c->req->reply_state == HTTP_REPLY_DONE) {
		http_request_free(c->req);
		c->req = NULL;
	}
	if (c->state == HTTP_CONN_CLOSING) {
		bufferevent_disable(c->bev, EV_READ);
		evtimer_del(c->deadline);
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			http_conn_free(c);
		return;
	}
	if (c->req != NULL)
		return;
	http_conn_wait_request(c);
	if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED)
		http_parser_pause(&c->parser, 0);
	http_conn_parse(c);
}

/*
 * Which protocol: HTTP/2 when ALPN chose "h2", or, on a socket without TLS
 * (unix or plaintext loopback: trusted), when the client opens with the
 * HTTP/2 preface (prior knowledge); HTTP/1.1 otherwise.  0 when more bytes
 * are needed to tell.
 */
static int
http_conn_pick_protocol(struct http_conn *c)
{
	static const char	 preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	const unsigned char	*proto;
	unsigned int		 len;
	size_t			 have, n;
	SSL			*ssl;

	if (c->listener != NULL && c->listener->ssl != NULL) {
		if ((ssl = bufferevent_openssl_get_ssl(c->bev)) != NULL) {
			SSL_get0_alpn_selected(ssl, &proto, &len);
			if (len == 2 && memcmp(proto, "h2", 2) == 0)
				return (http2_conn_start(c) == 0 ? 1 : -1);
		}
		return (1);
	}
	have = evbuffer_get_length(in);
	n = have < sizeof preface - 1 ? have : sizeof preface - 1;
	if (n == 0)
		return (0);
	if (memcmp(evbuffer_pullup(in, n), preface, n) != 0)
		return (1);
	if (n < sizeof preface - 1)
		return (0);
	return (http2_conn_start(c) == 0 ? 1 : -1);
}

/* Bytes arrived: parse them unless a request is with its handler. */
static void
http_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn	*c = arg;
	int			 r;

	if (!c->proto_known) {
		if ((r = http_conn_pick_protocol(c)) == 0)
			return;
		if (r == -1) {
			http_conn_free(c);
			return;
		}
		c->proto_known = 1;
	}
	if (c->h2 != NULL) {
		http2_conn_read(c);
		return;
	}
	http_conn_read_more(c);
	http_conn_parse(c);
}

/* Output flushed: a closing connection can go now. */
static void
http_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn	*c = arg;

	if (c->h2 != NULL) {
		http2_conn_drained(c);
		return;
	}
	/* A streamed reply waiting for room goes on. */
	if (c->state != HTTP_CONN_CLOSING && c->req != NULL &&
	    c->req->reply_state == HTTP_REPLY_STREAMING &&
	    c->req->drain != NULL) {
		c->req->drain(c->req, c->req->drain_arg);
		return;
	}
	/* A deferred callback may report a drain that new output has undone. */
	if (c->state == HTTP_CONN_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		http_conn_free(c);
}

/* EOF, error or a stalled streamed body: the connection is gone. */
static void
http_conn_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct http_conn	*c = arg;
	unsigned long		 e;
	int			 queued;

	if (events & BEV_EVENT_CONNECTED)
		return;
	if (events & BEV_EVENT_ERROR) {
		if ((e = bufferevent_get_openssl_error(bev)) != 0)
			log_debug("%s: %s: TLS: %s", __func__, c->server->name,
			    ERR_reason_error_string(e));
		else
			log_debug("%s: %s: %s", __func__, c->server->name,
			    strerror(EVUTIL_SOCKET_ERROR()));
	} else if (events & BEV_EVENT_TIMEOUT) {
		/*
		 * Under a raised low-water mark a slow body can have bytes
		 * queued that never woke us: it is moving, not stalled.  It
		 * goes on with a wakeup per byte, as without the mark.
		 */
		if (c->rcvlowat > 1 && ioctl(bufferevent_getfd(bev), FIONREAD,
		    &queued) == 0 && queued > 0) {
			c->lowat_off = 1;
			http_conn_tune_lowat(c);
			bufferevent_enable(bev, EV_READ);
			return;
		}
		log_debug("%s: %s: body stalled", __func__, c->server->name);
	}
	http_conn_free(c);
}

/* Take a connected socket as a connection; l is NULL for an adopted one. */
static void
http_conn_new(struct http_server *srv, struct http_listener *l, int fd)
{
	struct http_conn	*c;
	struct bufferevent	*bev;
	SSL			*ssl;
	int			 opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;

	if (l != NULL && l->ssl != NULL) {
		if ((ssl = SSL_new(l->ssl)) == NULL) {
			log_warnx("%s: %s: SSL_new failed", __func__, srv->name);
			close(fd);
			return;
		}
		bev = bufferevent_openssl_socket_new(srv->base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, opts);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else
		bev = bufferevent_socket_new(srv->base, fd, opts);
	if (bev == NULL) {
		log_warnx("%s: %s: cannot make a bufferevent", __func__,
		    srv->name);
		close(fd);
		return;
	}

	c = xcalloc(1, sizeof *c);
	c->server = srv;
	c->listener = l;
	c->bev = bev;
	TAILQ_INIT(&c->h2_streams);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->deadline = evtimer_new(srv->base, http_conn_deadline_cb, c);
	c->resume = event_new(srv->base, -1, 0, http_conn_resume_cb, c);
	if (c->deadline == NULL || c->resume == NULL)
		fatalx("%s: event_new failed", __func__);
	if (srv->priority >= 0) {
		bufferevent_priority_set(bev, srv->priority);
		event_priority_set(c->deadline, srv->priority);
		event_priority_set(c->resume, srv->priority);
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	metrics_set(srv->m_connections, srv->nconns);

	/* Bound what sits unparsed behind a pending request (pipelining). */
	bufferevent_setwatermark(bev, EV_READ, 0,
	    srv->limits.max_header_bytes + 64 * 1024);
	/* Large bodies in fewer reads than libevent's 16 KiB default, and large
	 * replies in fewer writes (and wakeups) than its 16 KiB as well. */
	bufferevent_set_max_single_read(bev, 128 * 1024);
	bufferevent_set_max_single_write(bev, 256 * 1024);
	bufferevent_setcb(bev, http_conn_read_cb, http_conn_write_cb,
	    http_conn_event_cb, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	c->state = HTTP_CONN_IDLE;
	http_conn_wait_request(c);
	http_server_check_cap(srv);
}

/* A listener accepted a connection. */
static void
http_listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct http_listener	*l = arg;

	/* libevent may hand over several in one go: the cap is strict. */
	if (l->server->nconns >= l->server->limits.max_connections) {
		close(fd);
		return;
	}
	http_conn_new(l->server, l, fd);
}

/* Serve an already connected (non-blocking) socket, as the fuzzer does. */
void
http_server_adopt(struct http_server *srv, int fd)
{
	http_conn_new(srv, NULL, fd);
}

/* Wrap a bound, listening socket into a listener of this server. */
static struct http_listener *
http_listener_add(struct http_server *srv, int fd, SSL_CTX *ssl, char *err,
    size_t errlen)
{
	struct http_listener	*l;

	l = xcalloc(1, sizeof *l);
	l->server = srv;
	l->ssl = ssl;
	l->lev = evconnlistener_new(srv->base, http_listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l->lev == NULL) {
		snprintf(err, errlen, "cannot make a listener");
		close(fd);
		free(l);
		return (NULL);
	}
	TAILQ_INSERT_TAIL(&srv->listeners, l, entry);
	if (srv->paused)
		evconnlistener_disable(l->lev);
	return (l);
}

/*
 * Is a live process answering on this socket path?  Returns 1 if so, 0 if the
 * socket is stale (ECONNREFUSED) or gone, -1 with err set otherwise.
 */
static int
http_unix_probe(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	int	 fd, r, saved;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	r = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	saved = errno;
	close(fd);
	/* A full backlog (EAGAIN) also means somebody listens. */
	if (r == 0 || saved == EAGAIN || saved == EINPROGRESS)
		return (1);
	if (saved == ECONNREFUSED || saved == ENOENT)
		return (0);
	snprintf(err, errlen, "connect %s: %s", sun->sun_path, strerror(saved));
	return (-1);
}

/* Listen on a unix socket; replaces a stale one, refuses a live one. */
int
http_server_listen_unix(struct http_server *srv, const char *path, mode_t mode,
    char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	struct http_listener	*l;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket",
			    path);
			return (-1);
		}
		switch (http_unix_probe(&sun, err, errlen)) {
		case 1:
			snprintf(err, errlen, "%s: another process is listening "
			    "there (another daemon running?)", path);
			return (-1);
		case 0:
			log_info("%s: %s: replacing stale socket", __func__, path);
			if (unlink(path) == -1 && errno != ENOENT) {
				snprintf(err, errlen, "unlink %s: %s", path,
				    strerror(errno));
				return (-1);
			}
			break;
		default:
			return (-1);
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (chmod(path, mode) == -1 || listen(fd, HTTP_LISTEN_BACKLOG) == -1 ||
	    lstat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return (-1);
	}
	if ((l = http_listener_add(srv, fd, NULL, err, errlen)) == NULL) {
		unlink(path);
		return (-1);
	}
	l->unix_path = xstrdup(path);
	l->unix_dev = sb.st_dev;
	l->unix_ino = sb.st_ino;
	return (0);
}

/* Listen on every address host:port resolves to (all of them when host is NULL). */
int
http_server_listen_tcp(struct http_server *srv, const char *host,
    const char *port, SSL_CTX *ssl, char *err, size_t errlen)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct http_listener	*l;
	int			 fd, r, on = 1, n = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (host != NULL && (*host == '\0' || strcmp(host, "*") == 0))
		host = NULL;
	/* Start-up only: resolving here may block, nothing else runs yet. */
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s:%s: %s", host ? host : "*", port,
		    gai_strerror(r));
		return (-1);
	}
	if (ssl != NULL)
		SSL_CTX_set_alpn_select_cb(ssl, http_alpn_select, NULL);
	snprintf(err, errlen, "%s:%s: no address", host ? host : "*", port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		/* v4 and v6 listeners side by side, not one dual-stack. */
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, HTTP_LISTEN_BACKLOG) == -1) {
			snprintf(err, errlen, "%s:%s: %s", host ? host : "*",
			    port, strerror(errno));
			close(fd);
			continue;
		}
		sslen = sizeof ss;
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
			snprintf(err, errlen, "getsockname: %s", strerror(errno));
			close(fd);
			continue;
		}
		if ((l = http_listener_add(srv, fd, ssl, err, errlen)) == NULL)
			continue;
		if (ss.ss_family == AF_INET6)
			l->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else
			l->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		n++;
	}
	freeaddrinfo(res);
	return (n > 0 ? 0 : -1);
}

/* Parsing. */

/*
 * A large body in fewer wakeups: while a plaintext HTTP/1.1 body of known
 * length streams in over TCP, the socket wakes the loop only once
 * HTTP_BODY_LOWAT bytes (or the rest of the body) are queued, so one read
 * takes 64 KiB instead of the few KiB of each segment, and the ACKs, epoll
 * and FIONREAD calls per byte shrink in step.  The low-water mark is never
 * above what the body still owes, so it cannot wait for bytes that will not
 * come; a head, a chunked or TLS body, or HTTP/2 wake on every byte as usual.
 */

static void
http_conn_tune_lowat(struct http_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	uint64_t	 owed;
	size_t		 have;
	int		 want = 1, fd;

	if (c->listener == NULL || c->listener->ssl != NULL ||
	    c->listener->unix_path != NULL || c->h2 != NULL)
		return;
	if (c->state == HTTP_CONN_BODY && !c->lowat_off &&
	    !(c->parser.flags & F_CHUNKED) &&
	    c->parser.content_length != ULLONG_MAX) {
		have = evbuffer_get_length(in);
		owed = c->parser.content_length;
		if (owed > have) {
			owed -= have;
			want = owed < HTTP_BODY_LOWAT ? (int)owed :
			    HTTP_BODY_LOWAT;
		}
	}
	if (want == (c->rcvlowat == 0 ? 1 : c->rcvlowat))
		return;
	fd = bufferevent_getfd(c->bev);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want) == -1) {
		c->lowat_off = 1;	/* not worth a warning: plain reads */
		return;
	}
	c->rcvlowat = want;
}

/*
 * libevent takes at most 4 KiB from a socket per wakeup (EVBUFFER_MAX_READ in
 * 2.1), whatever the single-read maximum says.  While a plaintext HTTP/1.1
 * body streams in, the rest of what is queued is taken here in one readv,
 * after what libevent appended, so the order of bytes is kept.  EOF and
 * errors are left for libevent to meet on its next read.
 */
static void
http_conn_read_more(struct http_conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v[2];
	size_t			 have, want, left;
	ssize_t			 n;
	int			 nv, i;

	if (c->listener == NULL || c->listener->ssl != NULL ||
	    c->h2 != NULL || c->state != HTTP_CONN_BODY)
		return;
	have = evbuffer_get_length(in);
	if (have >= 2 * HTTP_BODY_LOWAT)
		return;
	want = 2 * HTTP_BODY_LOWAT - have;
	/* A socket bufferevent keeps the end of its input frozen but for its
	 * own reads: thawed for this one, as libevent does. */
	evbuffer_unfreeze(in, 0);
	if ((nv = evbuffer_reserve_space(in, want, v, 2)) <= 0) {
		evbuffer_freeze(in, 0);
		return;
	}
	if (v[0].iov_len > want)
		v[0].iov_len = want;
	if (nv == 2 && v[1].iov_len > want - v[0].iov_len)
		v[1].iov_len = want - v[0].iov_len;
	if ((n = readv(bufferevent_getfd(c->bev), (struct iovec *)v,
	    nv)) <= 0)
		n = 0;
	left = n;
	for (i = 0; i < nv; i++) {
		if (v[i].iov_len > left)
			v[i].iov_len = left;
		left -= v[i].iov_len;
	}
	evbuffer_commit_space(in, v, nv);
	evbuffer_freeze(in, 0);
}

/* Parse as much buffered input as the current request allows. */
static void
http_conn_parse(struct http_conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v;
	size_t			 len, n, room;
	enum http_errno		 e;
	int			 in_headers;

	while (c->state != HTTP_CONN_CLOSING && c->state != HTTP_CONN_HANDLER) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		len = v.iov_len;
		in_headers = (c->req == NULL || !c->req->headers_complete);
		if (in_headers) {
			/* Never feed past the header cap: 431 at the cap. */
			room = c->server->limits.max_header_bytes - c->header_bytes;
			if (room == 0) {
				http_conn_fail(c, 431, "request headers too large");
				break;
			}
			if (len > room)
				len = room;
		}
		n = http_parser_execute(&c->parser, &http_request_settings,
		    v.iov_base, len);
		e = HTTP_PARSER_ERRNO(&c->parser);
		if (in_headers && (c->req == NULL || !c->req->headers_complete))
			c->header_bytes += n;
		evbuffer_drain(in, n);
		if (c->fail_status != 0) {
			http_conn_fail(c, c->fail_status, c->fail_message);
			break;
		}
		if (e == HPE_PAUSED)
			break;
		if (e == HPE_HEADER_OVERFLOW) {
			http_conn_fail(c, 431, "request headers too large");
			break;
		}
		if (e != HPE_OK) {
			http_conn_fail(c, 400, http_errno_description(e));
			break;
		}
		if (c->parser.upgrade)
			break;	/* nothing after an upgrade request is HTTP */
	}
	http_conn_tune_lowat(c);
}

/* A request starts: it belongs to the connection until answered. */
static int
http_on_message_begin(http_parser *p)
{
	struct http_conn	*c = p->data;
	struct http_request	*req;

	req = xcalloc(1, sizeof *req);
	req->conn = c;
	http_headers_init(&req->headers);
	TAILQ_INIT(&req->response_headers);
	req->keepalive = 1;
	c->req = req;
	http_conn_enter_state(c, HTTP_CONN_HEADERS);
	http_conn_deadline_in(c, c->server->limits.header_timeout_ms);
	return (0);
}

/* A piece of the request target. */
static int
http_on_url(http_parser *p, const char *data, size_t n)
{
	struct http_conn	*c = p->data;

	http_append(&c->req->url, &c->req->urllen, data, n);
	return (0);
}

/* A piece of a header name; too many headers is the same as too many bytes. */
static int
http_on_header_field(http_parser *p, const char *data, size_t n)
{
	struct http_conn	*c = p->data;

	http_headers_field(&c->req->headers, data, n);
	if (c->req->headers.count >= HTTP_MAX_HEADERS) {
		c->fail_status = 431;
		c->fail_message = "too many request headers";
		return (-1);
	}
	return (0);
}

/* A piece of a header value. */
static int
http_on_header_value(http_parser *p, const char *data, size_t n)
{
	struct http_conn	*c = p->data;

	http_headers_value(&c->req->headers, data, n);
	return (0);
}

/* Find the route: 404 if no path matches, 405 if only other methods do. */
static void
http_request_route(struct http_request *req)
{
	struct http_server	*srv = req->conn->server;
	const struct http_route	*r, *get = NULL;
	char			*allow = NULL, *s;
	size_t			 i;
	int			 match;

	for (i = 0; i < srv->nroutes; i++) {
		r = &srv->routes[i];
		if (r->flags & HTTP_ROUTE_PREFIX)
			match = strncmp(req->path, r->path, strlen(r->path)) == 0;
		else
			match = strcmp(req->path, r->path) == 0;
		if (!match)
			continue;
		if (r->method == NULL || strcmp(r->method, req->method) == 0) {
			req->route = r;
			free(allow);
			return;
		}
		if (req->is_head && strcmp(r->method, "GET") == 0 && get == NULL)
			get = r;
		if (allow == NULL)
			allow = xstrdup(r->method);
		else {
			xasprintf(&s, "%s, %s", allow, r->method);
			free(allow);
			allow = s;
		}
	}
	/* HEAD is GET without the body, unless a route wants HEAD itself. */
	if (get != NULL) {
		req->route = get;
		free(allow);
		return;
	}
	if (allow != NULL) {
		req->error_status = 405;
		req->allow = allow;
	} else
		req->error_status = 404;
}

/* Split the target into path and query. */
static void
http_request_split_url(struct http_request *req)
{
	const char	*url = req->url != NULL ? req->url : "";
	const char	*q;

	if ((q = strchr(url, '?')) != NULL) {
		req->path = xstrndup(url, q - url);
		req->query = xstrdup(q + 1);
	} else
		req->path = xstrdup(url);
}

/* Give a request to its handler, once; its deadline stops here. */
static void
http_request_dispatch(struct http_request *req)
{
	struct http_conn	*c = req->conn;

	req->handler_called = 1;
	clock_gettime(CLOCK_MONOTONIC, &req->start);
	if (c->h2 == NULL)	/* HTTP/2's timer sweeps every stream */
		evtimer_del(c->deadline);
	req->route->handler(req, c->server->arg);
}

/* Headers are in: check limits, route, and start streaming if asked. */
static int
http_on_headers_complete(http_parser *p)
{
	struct http_conn	*c = p->data;
	struct http_request	*req = c->req;
	struct timeval		 tv;
	unsigned int		 ms;

	http_headers_done(&req->headers);
	req->headers_complete = 1;
	req->method = http_method_str(p->method);
	req->is_head = (p->method == HTTP_HEAD);
	req->http_major = p->http_major;
	req->http_minor = p->http_minor;
	req->keepalive = http_should_keep_alive(p) && !p->upgrade;
	http_request_split_url(req);
	http_conn_enter_state(c, HTTP_CONN_BODY);

	/* Refuse an announced oversized body before reading a byte of it. */
	if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
	    p->content_length > c->server->limits.max_body_bytes) {
		c->fail_status = 413;
		c->fail_message = "request body too large";
		http_parser_pause(p, 1);
		return (0);
	}
	http_request_route(req);
	/* curl and others wait (a while) for this before sending a body. */
	if (req->error_status == 0 && p->http_major == 1 && p->http_minor >= 1 &&
	    (p->flags & F_CHUNKED || (p->content_length != ULLONG_MAX &&
	    p->content_length > 0)) &&
	    http_header_has_token(http_request_header(req, "Expect"),
	    "100-continue"))
		evbuffer_add_printf(bufferevent_get_output(c->bev),
		    "HTTP/1.1 100 Continue\r\n\r\n");
	if (req->error_status != 0 || !(req->route->flags & HTTP_ROUTE_STREAM)) {
		req->body = evbuffer_new();
		http_conn_deadline_in(c, c->server->limits.body_timeout_ms);
		return (0);
	}

	/*
	 * A streamed body (a large upload) has no whole-body deadline: it has
	 * to keep moving (the read timeout) at body_min_rate per window.
	 */
	ms = c->server->limits.idle_timeout_ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	http_request_dispatch(req);
	if (c->req == req && !req->complete && c->state == HTTP_CONN_BODY) {
		c->window_bytes = c->body_bytes;
		http_conn_deadline_in(c, HTTP_RATE_WINDOW_MS);
	}
	return (0);
}

/* Body bytes: counted against the cap, then buffered or streamed. */
static int
http_on_body(http_parser *p, const char *data, size_t n)
{
	struct http_conn	*c = p->data;
	struct http_request	*req = c->req;

	c->body_bytes += n;
	if (c->body_bytes > c->server->limits.max_body_bytes) {
		c->fail_status = 413;
		c->fail_message = "request body too large";
		return (-1);
	}
	if (req->error_status != 0 || c->state == HTTP_CONN_CLOSING)
		return (0);
	if (req->body != NULL) {
		evbuffer_add(req->body, data, n);
		return (0);
	}
	if (req->body_aborted || req->route->on_body == NULL)
		return (0);
	if (req->route->on_body(req, data, n, c->server->arg) == -1)
		req->body_aborted = 1;
	return (0);
}

/* A whole request is in: pause the parser until it is answered. */
static int
http_on_message_complete(http_parser *p)
{
	struct http_conn	*c = p->data;
	struct http_request	*req = c->req;

	req->complete = 1;
	http_parser_pause(p, 1);
	if (c->state == HTTP_CONN_CLOSING)
		return (0);
	http_conn_enter_state(c, HTTP_CONN_HANDLER);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	if (req->error_status != 0) {
		evtimer_del(c->deadline);
		clock_gettime(CLOCK_MONOTONIC, &req->start);
		if (req->allow != NULL)
			http_reply_header(req, "Allow", req->allow);
		http_send_error(req, req->error_status,
		    req->error_status == 404 ? "no such path" :
		    "method not allowed");
		return (0);
	}
	if (req->route->flags & HTTP_ROUTE_STREAM) {
		evtimer_del(c->deadline);	/* the rate window */
		if (!req->body_aborted && req->route->on_end != NULL)
			req->route->on_end(req, c->server->arg);
		return (0);
	}
	http_request_dispatch(req);
	return (0);
}

/* The layer's own error: answer it and close the connection afterwards. */
static void
http_conn_fail(struct http_conn *c, int status, const char *message)
{
	struct http_request	*req = c->req;

	log_debug("%s: %s: %d %s", __func__, c->server->name, status, message);
	c->fail_status = 0;
	evtimer_del(c->deadline);
	if (req == NULL) {
		/* Garbage before any request line: a request to answer on. */
		http_on_message_begin(&c->parser);
		req = c->req;
	}
	if (req->method == NULL)
		req->method = "";
	if (req->reply_state != HTTP_REPLY_NONE) {
		/* The handler is already answering: nothing valid can follow. */
		http_conn_enter_state(c, HTTP_CONN_CLOSING);
		event_active(c->resume, 0, 0);
		return;
	}
	if (req->handler_called && req->cleanup != NULL) {
		/* The streaming handler loses the request to this error. */
		req->cleanup(req, req->cleanup_arg);
		req->cleanup = NULL;
	}
	req->keepalive = 0;
	req->handler_called = 0;
	if (req->start.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &req->start);
	http_headers_free(&req->response_headers);
	http_send_error(req, status, message);
}

/* Render an error through the server's error function or as plain text. */
static void
http_send_error(struct http_request *req, int status, const char *message)
{
	struct http_server	*srv = req->conn->server;
	char			*body;
	int			 n;

	if (srv->error_fn != NULL) {
		srv->error_fn(req, status, message, srv->arg);
		if (req->reply_state != HTTP_REPLY_NONE)
			return;
		log_warnx("%s: %s: error function did not reply", __func__,
		    srv->name);
	}
	n = xasprintf(&body, "%d %s: %s\n", status, http_status_text(status),
	    message);
	http_reply(req, status, "text/plain; charset=utf-8", body, n);
	free(body);
}

/* Request accessors. */

/* Method name as sent ("GET", "PROPFIND"). */
const char *
http_request_method(const struct http_request *req)
{
	return (req->method);
}

/* Path part of the target, without the query, not percent-decoded. */
const char *
http_request_path(const struct http_request *req)
{
	return (req->path != NULL ? req->path : "");
}

/* Query string after '?', or NULL. */
const char *
http_request_query(const struct http_request *req)
{
	return (req->query);
}

/* First request header of that name, or NULL. */
const char *
http_request_header(const struct http_request *req, const char *name)
{
	return (http_headers_find(&req->headers.list, name));
}

/* Buffered body (NULL for streamed routes). */
struct evbuffer *
http_request_body(struct http_request *req)
{
	return (req->body);
}

/* The arg given to http_server_new. */
void *
http_request_server_arg(const struct http_request *req)
{
	return (req->conn->server->arg);
}

/* Protocol agreed by ALPN on a TLS connection, NULL otherwise. */
const char *
http_request_alpn(const struct http_request *req)
{
	const unsigned char	*proto;
	unsigned int		 len;
	SSL			*ssl;

	if (req->conn->listener == NULL || req->conn->listener->ssl == NULL)
		return (req->h2_stream != 0 ? "h2c" : NULL);
	if ((ssl = bufferevent_openssl_get_ssl(req->conn->bev)) == NULL)
		return (NULL);
	SSL_get0_alpn_selected(ssl, &proto, &len);
	if (len == 8 && memcmp(proto, "http/1.1", 8) == 0)
		return ("http/1.1");
	if (len == 2 && memcmp(proto, "h2", 2) == 0)
		return ("h2");
	return (NULL);
}

/* The handler's own state for this request (streaming routes find it here). */
void
http_request_set_data(struct http_request *req, void *data)
{
	req->data = data;
}

void *
http_request_data(const struct http_request *req)
{
	return (req->data);
}

/* Cleanup to run if the connection dies before the reply is finished. */
void
http_request_set_cleanup(struct http_request *req,
    void (*fn)(struct http_request *, void *), void *arg)
{
	req->cleanup = fn;
	req->cleanup_arg = arg;
}

/* Responses. */

/* Add a response header (before the reply starts). */
void
http_reply_header(struct http_request *req, const char *name,
    const char *value)
{
	if (req->reply_state != HTTP_REPLY_NONE) {
		log_warnx("%s: %s after the reply started", __func__, name);
		return;
	}
	http_headers_add(&req->response_headers, name, value);
}

/*
 * Status line and headers.  length >= 0 sends Content-Length; -1 means
 * chunked (or, for an HTTP/1.0 client, a body delimited by closing).
 */
static int
http_write_head(struct http_request *req, int status, const char *content_type,
    int64_t length)
{
	struct http_conn	*c = req->conn;
	struct evbuffer		*out;
	struct http_header	*h;
	struct http_head	 hd;
	const char		*date;
	size_t			 date_len;

	if (req->reply_state != HTTP_REPLY_NONE) {
		log_warnx("%s: %s: request answered twice", __func__,
		    c->server->name);
		return (-1);
	}
	if (req->h2_stream != 0)
		return (http2_write_head(req, status, content_type, length));
	out = bufferevent_get_output(c->bev);
	req->status = status;
	/* The connection cannot carry another request after these. */
	if (!req->complete || c->state == HTTP_CONN_CLOSING)
		req->keepalive = 0;
	if (length < 0 && (req->http_major == 1 && req->http_minor == 0))
		req->keepalive = 0;
	hd.len = 0;
	hd.spill = NULL;
	http_head_add(&hd, "HTTP/1.1 ", 9);
	http_head_num(&hd, status);
	http_head_add(&hd, " ", 1);
	http_head_str(&hd, http_status_text(status));
	http_head_add(&hd, "\r\n", 2);
	date_len = http_date_line(&date);
	http_head_add(&hd, date, date_len);
	if (content_type != NULL)
		http_head_field(&hd, "Content-Type", content_type);
	if (status == 204 || status == 304 || (status >= 100 && status < 200))
		;
	else if (length >= 0) {
		http_head_add(&hd, "Content-Length: ", 16);
		http_head_num(&hd, (long long)length);
		http_head_add(&hd, "\r\n", 2);
	} else if (req->keepalive) {
		http_head_str(&hd, "Transfer-Encoding: chunked\r\n");
		req->chunked = 1;
	}
	TAILQ_FOREACH(h, &req->response_headers, entry)
		http_head_field(&hd, h->name, h->value);
	if (!req->keepalive)
		http_head_str(&hd, "Connection: close\r\n");
	else if (req->http_major == 1 && req->http_minor == 0)
		http_head_str(&hd, "Connection: keep-alive\r\n");
	http_head_add(&hd, "\r\n", 2);
	if (hd.spill != NULL) {
		evbuffer_add_buffer(out, hd.spill);
		evbuffer_free(hd.spill);
	} else
		evbuffer_add(out, hd.buf, hd.len);
	req->reply_state = HTTP_REPLY_STREAMING;
	return (0);
}

/* Series per route, made once: route paths are static, so the count is bounded. */
static void
http_server_route_metrics(struct http_server *srv)
{
	struct metric	**m;
	char		 *route, *labels;
	size_t		  i, k;

	srv->m_route = xcalloc(srv->nroutes * HTTP_ROUTE_METRICS + 1,
	    sizeof *srv->m_route);
	for (i = 0; i < srv->nroutes; i++) {
		m = &srv->m_route[i * HTTP_ROUTE_METRICS];
		route = metrics_escape_label(srv->routes[i].path);
		for (k = 0; k < 5; k++) {
			xasprintf(&labels, "server=\"%s\",route=\"%s\",code=\"%zuxx\"",
			    srv->name, route, k + 1);
			m[k] = metrics_counter("netcrave_http_route_requests_total",
			    "HTTP requests answered, by server, route and status "
			    "class", labels);
			free(labels);
		}
		xasprintf(&labels, "server=\"%s\",route=\"%s\"", srv->name, route);
		m[5] = metrics_histogram("netcrave_http_route_duration_seconds",
		    "Time from a request's headers to the end of its reply, by "
		    "route", labels, metrics_latency_bounds, metrics_latency_nbounds);
		free(labels);
		free(route);
	}
}

/* The reply is complete: count it and continue off the caller's stack. */
static void
http_reply_done(struct http_request *req)
{
	struct http_conn	*c = req->conn;
	struct http_server	*srv = c->server;
	struct timespec		 now;
	struct metric		**m;
	double			 took;
	int			 class;

	req->reply_state = HTTP_REPLY_DONE;
	if (req->drain != NULL) {
		req->drain = NULL;
		if (req->h2_stream == 0)
			bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	}
	class = req->status / 100;
	clock_gettime(CLOCK_MONOTONIC, &now);
	took = (now.tv_sec - req->start.tv_sec) +
	    (now.tv_nsec - req->start.tv_nsec) / 1e9;
	if (class >= 1 && class <= 5)
		metrics_add(srv->m_requests[class - 1], 1);
	metrics_observe(srv->m_duration, took);
	if (req->route != NULL) {
		m = &srv->m_route[(size_t)(req->route - srv->routes) *
		    HTTP_ROUTE_METRICS];
		if (class >= 1 && class <= 5)
			metrics_add(m[class - 1], 1);
		metrics_observe(m[5], took);
	}
	if (req->h2_stream != 0) {
		/* The stream closes once its data is out; freed then. */
		http2_reply_end(req);
		return;
	}
	if (!req->keepalive || !req->complete)
		http_conn_enter_state(c, HTTP_CONN_CLOSING);
	event_active(c->resume, 0, 0);
}

/* Whole reply with Content-Length. */
void
http_reply(struct http_request *req, int status, const char *content_type,
    const void *body, size_t len)
{
	if (http_write_head(req, status, content_type, len) == -1)
		return;
	if (req->h2_stream != 0) {
		if (!req->is_head)
			http2_reply_data(req, body, len);
	} else if (!req->is_head && len > 0)
		evbuffer_add(bufferevent_get_output(req->conn->bev), body, len);
	http_reply_done(req);
}

/* Whole reply from a buffer, which is drained. */
void
http_reply_buffer(struct http_request *req, int status,
    const char *content_type, struct evbuffer *body)
{
	size_t	 len = evbuffer_get_length(body);

	if (http_write_head(req, status, content_type, len) == -1)
		return;
	if (req->is_head)
		evbuffer_drain(body, len);
	else if (req->h2_stream != 0)
		evbuffer_add_buffer(req->h2_out, body);
	else
		evbuffer_add_buffer(bufferevent_get_output(req->conn->bev), body);
	http_reply_done(req);
}

/* Start a streamed reply. */
void
http_reply_start(struct http_request *req, int status,
    const char *content_type, int64_t content_length)
{
	http_write_head(req, status, content_type, content_length);
}

/* One piece of a streamed reply. */
void
http_reply_chunk(struct http_request *req, const void *data, size_t len)
{
	struct evbuffer	*out;

	if (req->reply_state != HTTP_REPLY_STREAMING) {
		log_warnx("%s: no streamed reply in progress", __func__);
		return;
	}
	if (req->is_head || len == 0)
		return;
	if (req->h2_stream != 0) {
		http2_reply_data(req, data, len);
		return;
	}
	out = bufferevent_get_output(req->conn->bev);
	if (req->chunked)
		evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, data, len);
	if (req->chunked)
		evbuffer_add(out, "\r\n", 2);
}

static void
http_free_ref(const void *data, size_t len, void *arg)
{
	free(arg);
}

/* http_reply_chunk for a malloc'd buffer the layer frees when sent: an
 * HTTP/1.1 socket takes it by reference instead of a copy. */
void
http_reply_chunk_free(struct http_request *req, void *data, size_t len)
{
	struct evbuffer	*out;

	if (req->reply_state != HTTP_REPLY_STREAMING || req->is_head ||
	    len == 0 || req->h2_stream != 0) {
		http_reply_chunk(req, data, len);
		free(data);
		return;
	}
	out = bufferevent_get_output(req->conn->bev);
	if (req->chunked)
		evbuffer_add_printf(out, "%zx\r\n", len);
	if (evbuffer_add_reference(out, data, len, http_free_ref, data) == -1) {
		evbuffer_add(out, data, len);
		free(data);
	}
	if (req->chunked)
		evbuffer_add(out, "\r\n", 2);
}

/* End a streamed reply. */
void
http_reply_end(struct http_request *req)
{
	if (req->reply_state != HTTP_REPLY_STREAMING) {
		log_warnx("%s: no streamed reply in progress", __func__);
		return;
	}
	if (req->chunked && !req->is_head && req->h2_stream == 0)
		evbuffer_add(bufferevent_get_output(req->conn->bev), "0\r\n\r\n", 5);
	http_reply_done(req);
}

/* Call fn whenever the output of a streamed reply has drained below low. */
void
http_reply_on_drain(struct http_request *req,
    void (*fn)(struct http_request *, void *), void *arg, size_t low)
{
	req->drain = fn;
	req->drain_arg = arg;
	if (req->h2_stream != 0)
		return;		/* drained per stream, see http2_conn_drained */
	bufferevent_setwatermark(req->conn->bev, EV_WRITE, fn != NULL ? low : 0,
	    0);
}

/* Reply bytes queued but not yet written to the peer. */
size_t
http_reply_pending(const struct http_request *req)
{
	if (req->h2_stream != 0)
		return (evbuffer_get_length(req->h2_out));
	return (evbuffer_get_length(bufferevent_get_output(req->conn->bev)));
}

/*
 * A streamed reply cannot be finished (its source failed after the headers
 * went out): close the connection after what is queued, so the client sees a
 * short body rather than a complete wrong one.
 */
void
http_reply_abort(struct http_request *req)
{
	struct http_conn	*c = req->conn;

	if (req->reply_state != HTTP_REPLY_STREAMING) {
		log_warnx("%s: no streamed reply in progress", __func__);
		return;
	}
	if (req->h2_stream != 0) {
		/* A reset stream is HTTP/2's way of saying the body is cut. */
		req->reply_state = HTTP_REPLY_DONE;
		req->drain = NULL;
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE,
		    req->h2_stream, NGHTTP2_INTERNAL_ERROR);
		http2_conn_send(c);
		return;
	}
	req->keepalive = 0;
	req->chunked = 0;	/* no last chunk: the body is visibly cut */
	req->drain = NULL;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	req->reply_state = HTTP_REPLY_DONE;
	http_conn_enter_state(c, HTTP_CONN_CLOSING);
	event_active(c->resume, 0, 0);
}

/* HTTP/2 (nghttp2): each stream is a struct http_request on the same
 * connection; handlers see no difference.  Frames go out from the resume
 * event, never from inside a handler's reply call. */

#define HTTP2_OUTPUT_HIGH	(4 * 1024 * 1024)	/* stop framing above */
#define HTTP2_STREAM_LOW	(256 * 1024)		/* refill streamed replies */

/*
 * nghttp2 cuts DATA at 16 KiB unless told otherwise: a 1 MiB read would be 64
 * frames, each a callback, a copy and a header.  As large as the peer takes
 * and the windows allow, up to HTTP2_DATA_MAX (the frame buffer grows to it).
 */
ssize_t
http2_data_length(nghttp2_session *session, uint8_t type, int32_t id,
    int32_t session_window, int32_t stream_window, uint32_t max_frame,
    void *arg)
{
	int64_t	 n = session_window < stream_window ? session_window :
		    stream_window;

	if (n > (int64_t)max_frame)
		n = max_frame;
	if (n > HTTP2_DATA_MAX)
		n = HTTP2_DATA_MAX;
	return (n < 1 ? 1 : (ssize_t)n);
}

/* Queue a send off the caller's stack. */
static void
http2_conn_kick(struct http_conn *c)
{
	event_active(c->resume, 0, 0);
}

/*
 * A stream opened or closed: the connection is not idle.  Bytes alone (PINGs,
 * a frame dribbled in) do not count, as they do not for HTTP/1.1.
 */
static void
http2_conn_touch(struct http_conn *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->h2_active);
}

/* Milliseconds since t (monotonic). */
static uint64_t
http_ms_since(const struct timespec *t)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((uint64_t)(now.tv_sec - t->tv_sec) * 1000 +
	    (now.tv_nsec - t->tv_nsec) / 1000000);
}

/*
 * A stream too slow: 408 on it, as the 413 of a body over the cap (the
 * connection and its other streams go on), or a reset if its answer began.
 */
static void
http2_stream_timeout(struct http_request *req, const char *message)
{
	req->body_aborted = 1;
	if (req->reply_state != HTTP_REPLY_NONE) {
		nghttp2_submit_rst_stream(req->conn->h2, NGHTTP2_FLAG_NONE,
		    req->h2_stream, NGHTTP2_CANCEL);
		return;
	}
	if (req->handler_called && req->cleanup != NULL) {
		req->cleanup(req, req->cleanup_arg);
		req->cleanup = NULL;
	}
	req->error_status = 408;	/* its end, if it comes, is ignored */
	http_send_error(req, 408, message);
}

/*
 * Every second on an HTTP/2 connection: the deadlines of HTTP/1.1 per
 * stream (a head, a buffered body, a streamed body's rate), and the idle
 * time once no stream is left.  Bytes arriving never postpone it, so
 * PINGs or a dribbled frame keep nothing alive.
 */
static void
http2_conn_sweep(struct http_conn *c)
{
	const struct http_limits	*lim = &c->server->limits;
	struct http_request		*req, *next;
	struct timeval			 tv;
	uint64_t			 got;

	if (TAILQ_EMPTY(&c->h2_streams) &&
	    http_ms_since(&c->h2_active) >= lim->idle_timeout_ms) {
		log_debug("%s: %s: idle HTTP/2 connection dropped", __func__,
		    c->server->name);
		http_conn_free(c);
		return;
	}
	for (req = TAILQ_FIRST(&c->h2_streams); req != NULL; req = next) {
		next = TAILQ_NEXT(req, h2_entry);
		if (req->complete || req->error_status != 0 ||
		    req->body_aborted)
			continue;
		if (!req->headers_complete) {
			if (http_ms_since(&req->start) < lim->header_timeout_ms)
				continue;
			/* A header block cannot be interrupted: the
			 * connection carries nothing else until it ends. */
			log_info("%s: HTTP/2 request head not whole in %u ms, "
			    "dropped", c->server->name, lim->header_timeout_ms);
			nghttp2_session_terminate_session(c->h2,
			    NGHTTP2_PROTOCOL_ERROR);
			break;
		}
		if (!req->handler_called) {
			if (http_ms_since(&req->start) < lim->header_timeout_ms +
			    lim->body_timeout_ms)
				continue;
			log_info("%s: HTTP/2 request body not whole in time, "
			    "stream reset", c->server->name);
			http2_stream_timeout(req,
			    "request body not received in time");
			continue;
		}
		if (http_ms_since(&req->h2_window) < HTTP_RATE_WINDOW_MS)
			continue;
		got = req->h2_body_bytes - req->h2_window_bytes;
		req->h2_window_bytes = req->h2_body_bytes;
		clock_gettime(CLOCK_MONOTONIC, &req->h2_window);
		if (got >= (uint64_t)lim->body_min_rate * HTTP_RATE_WINDOW_MS /
		    1000)
			continue;
		log_info("%s: HTTP/2 request body under %zu bytes/s, stream "
		    "reset", c->server->name, lim->body_min_rate);
		http2_stream_timeout(req, "request body too slow");
	}
	tv.tv_sec = HTTP2_SWEEP_MS / 1000;
	tv.tv_usec = (HTTP2_SWEEP_MS % 1000) * 1000;
	evtimer_add(c->deadline, &tv);
	http2_conn_send(c);
}

/* A stream opens: a request. */
static int
http2_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
    void *arg)
{
	struct http_conn	*c = arg;
	struct http_request	*req;

	if (frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return (0);
	req = xcalloc(1, sizeof *req);
	req->conn = c;
	http_headers_init(&req->headers);
	TAILQ_INIT(&req->response_headers);
	req->keepalive = 1;
	req->http_major = 2;
	req->h2_stream = frame->hd.stream_id;
	req->h2_out = evbuffer_new();
	clock_gettime(CLOCK_MONOTONIC, &req->start);
	TAILQ_INSERT_TAIL(&c->h2_streams, req, h2_entry);
	http2_conn_touch(c);
	nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, req);
	return (0);
}

/* One header of a request; pseudo-headers give method, target and Host. */
static int
http2_on_header(nghttp2_session *session, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value, size_t valuelen,
    uint8_t flags, void *arg)
{
	struct http_conn	*c = arg;
	struct http_request	*req;
	char			*n, *v;

	req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (req == NULL || req->headers_complete)
		return (0);
	req->h2_header_bytes += namelen + valuelen + 32;
	if (req->h2_header_bytes > c->server->limits.max_header_bytes ||
	    req->headers.count >= HTTP_MAX_HEADERS)
		return (NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE);
	n = xstrndup((const char *)name, namelen);
	v = xstrndup((const char *)value, valuelen);
	if (strcmp(n, ":method") == 0) {
		free(req->h2_method);
		req->h2_method = v;
		req->method = req->h2_method;
		v = NULL;
	} else if (strcmp(n, ":path") == 0) {
		free(req->url);
		req->url = v;
		req->urllen = valuelen;
		v = NULL;
	} else if (strcmp(n, ":authority") == 0) {
		http_headers_add(&req->headers.list, "Host", v);
		req->headers.count++;
	} else if (n[0] != ':') {
		http_headers_add(&req->headers.list, n, v);
		req->headers.count++;
	}
	free(n);
	free(v);
	return (0);
}

/* Headers are in: route, and start a streaming handler. */
static void
http2_request_headers_done(struct http_request *req)
{
	struct http_conn	*c = req->conn;
	const char		*cl;

	req->headers_complete = 1;
	if (req->method == NULL || req->url == NULL) {
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE,
		    req->h2_stream, NGHTTP2_PROTOCOL_ERROR);
		return;
	}
	req->is_head = strcmp(req->method, "HEAD") == 0;
	http_request_split_url(req);
	if ((cl = http_request_header(req, "content-length")) != NULL &&
	    strtoull(cl, NULL, 10) > c->server->limits.max_body_bytes) {
		req->error_status = 413;
		return;
	}
	http_request_route(req);
	if (req->error_status != 0 || !(req->route->flags & HTTP_ROUTE_STREAM)) {
		req->body = evbuffer_new();
		return;
	}
	/* The streamed body's first rate window starts with the handler. */
	clock_gettime(CLOCK_MONOTONIC, &req->h2_window);
	req->h2_window_bytes = req->h2_body_bytes;
	http_request_dispatch(req);
}

/* The whole request is in. */
static void
http2_request_complete(struct http_request *req)
{
	struct http_server	*srv = req->conn->server;

	req->complete = 1;
	if (req->reply_state != HTTP_REPLY_NONE && req->handler_called &&
	    req->route != NULL && (req->route->flags & HTTP_ROUTE_STREAM))
		return;
	if (req->error_status != 0) {
		if (req->reply_state != HTTP_REPLY_NONE)
			return;
		if (req->allow != NULL)
			http_reply_header(req, "Allow", req->allow);
		http_send_error(req, req->error_status,
		    req->error_status == 404 ? "no such path" :
		    req->error_status == 413 ? "request body too large" :
		    "method not allowed");
		return;
	}
	if (req->route->flags & HTTP_ROUTE_STREAM) {
		if (!req->body_aborted && req->route->on_end != NULL)
			req->route->on_end(req, srv->arg);
		return;
	}
	http_request_dispatch(req);
}

/* A frame arrived: end of headers or of the body. */
static int
http2_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
    void *arg)
{
	struct http_request	*req;

	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return (0);
	req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (req == NULL)
		return (0);
	if (frame->hd.type == NGHTTP2_HEADERS && !req->headers_complete &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS))
		http2_request_headers_done(req);
	if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && req->headers_complete &&
	    !req->complete)
		http2_request_complete(req);
	return (0);
}

/* Body bytes of a stream: the same caps and paths as HTTP/1.1. */
static int
http2_on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	struct http_conn	*c = arg;
	struct http_request	*req;

	req = nghttp2_session_get_stream_user_data(session, id);
	if (req == NULL || !req->headers_complete)
		return (0);
	req->h2_body_bytes += len;
	if (req->h2_body_bytes > c->server->limits.max_body_bytes) {
		if (req->error_status == 0 && req->reply_state == HTTP_REPLY_NONE) {
			if (req->handler_called && req->cleanup != NULL) {
				req->cleanup(req, req->cleanup_arg);
				req->cleanup = NULL;
			}
			http_send_error(req, 413, "request body too large");
		}
		req->body_aborted = 1;
		return (0);
	}
	if (req->error_status != 0 || req->reply_state == HTTP_REPLY_DONE)
		return (0);
	if (req->body != NULL) {
		evbuffer_add(req->body, data, len);
		return (0);
	}
	if (req->body_aborted || req->route == NULL || req->route->on_body == NULL)
		return (0);
	if (req->route->on_body(req, data, len, c->server->arg) == -1)
		req->body_aborted = 1;
	return (0);
}

/* A stream is gone: its request with it (cleanup if unanswered). */
static int
http2_on_stream_close(nghttp2_session *session, int32_t id, uint32_t error,
    void *arg)
{
	struct http_conn	*c = arg;
	struct http_request	*req;

	req = nghttp2_session_get_stream_user_data(session, id);
	if (req == NULL)
		return (0);
	nghttp2_session_set_stream_user_data(session, id, NULL);
	TAILQ_REMOVE(&c->h2_streams, req, h2_entry);
	http_request_free(req);
	http2_conn_touch(c);
	return (0);
}

/* Reply body for nghttp2, from the stream's queue. */
static ssize_t
http2_read_data(nghttp2_session *session, int32_t id, uint8_t *buf,
    size_t length, uint32_t *flags, nghttp2_data_source *source, void *arg)
{
	struct http_request	*req = source->ptr;
	size_t			 n;

	n = evbuffer_get_length(req->h2_out);
	if (n > length)
		n = length;
	if (n > 0)
		evbuffer_remove(req->h2_out, buf, n);
	if (evbuffer_get_length(req->h2_out) == 0) {
		if (req->h2_eof)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		else if (n == 0)
			return (NGHTTP2_ERR_DEFERRED);
	}
	return ((ssize_t)n);
}

/* Lower-case a header name, as HTTP/2 requires. */
static char *
http2_lower(const char *name)
{
	char	*s = xstrdup(name), *p;

	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return (s);
}

/* The response HEADERS frame. */
static int
http2_write_head(struct http_request *req, int status, const char *ctype,
    int64_t length)
{
	struct http_conn	*c = req->conn;
	struct http_header	*h;
	nghttp2_data_provider	 prd;
	nghttp2_nv		*nv;
	char			 st[8], cl[32], date[64], **owned;
	size_t			 n = 0, i, max = 4, nown = 0;
	int			 body;

	TAILQ_FOREACH(h, &req->response_headers, entry)
		max++;
	nv = xcalloc(max, sizeof *nv);
	owned = xcalloc(max, sizeof *owned);
#define NV(k, v) do {							\
	nv[n].name = (uint8_t *)(uintptr_t)(k);				\
	nv[n].namelen = strlen(k);					\
	nv[n].value = (uint8_t *)(uintptr_t)(v);			\
	nv[n].valuelen = strlen(v);					\
	nv[n].flags = NGHTTP2_NV_FLAG_NONE;				\
	n++;								\
} while (0)
	snprintf(st, sizeof st, "%d", status);
	NV(":status", st);
	http_format_date(time(NULL), date, sizeof date);
	NV("date", date);
	if (ctype != NULL)
		NV("content-type", ctype);
	body = !(status == 204 || status == 304 || (status >= 100 && status < 200));
	if (body && length >= 0) {
		snprintf(cl, sizeof cl, "%lld", (long long)length);
		NV("content-length", cl);
	}
	TAILQ_FOREACH(h, &req->response_headers, entry) {
		owned[nown] = http2_lower(h->name);
		if (strcmp(owned[nown], "connection") == 0 ||
		    strcmp(owned[nown], "transfer-encoding") == 0 ||
		    strcmp(owned[nown], "keep-alive") == 0) {
			free(owned[nown]);
			continue;
		}
		NV(owned[nown], h->value);
		nown++;
	}
#undef NV
	req->status = status;
	req->reply_state = HTTP_REPLY_STREAMING;
	memset(&prd, 0, sizeof prd);
	prd.source.ptr = req;
	prd.read_callback = http2_read_data;
	nghttp2_submit_response(c->h2, req->h2_stream, nv, n,
	    body && !req->is_head ? &prd : NULL);
	for (i = 0; i < nown; i++)
		free(owned[i]);
	free(owned);
	free(nv);
	http2_conn_kick(c);
	return (0);
}

/* Queue reply body bytes. */
static void
http2_reply_data(struct http_request *req, const void *data, size_t len)
{
	if (len > 0)
		evbuffer_add(req->h2_out, data, len);
	nghttp2_session_resume_data(req->conn->h2, req->h2_stream);
	http2_conn_kick(req->conn);
}

/* No more body: the last DATA frame carries END_STREAM. */
static void
http2_reply_end(struct http_request *req)
{
	req->h2_eof = 1;
	req->drain = NULL;
	nghttp2_session_resume_data(req->conn->h2, req->h2_stream);
	http2_conn_kick(req->conn);
}

/* Frame what nghttp2 has, while the socket keeps up. */
static void
http2_conn_send(struct http_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	const uint8_t	*data;
	ssize_t		 n;

	while (evbuffer_get_length(out) < HTTP2_OUTPUT_HIGH) {
		if ((n = nghttp2_session_mem_send(c->h2, &data)) < 0) {
			log_debug("%s: %s: %s", __func__, c->server->name,
			    nghttp2_strerror((int)n));
			http_conn_free(c);
			return;
		}
		if (n == 0)
			break;
		evbuffer_add(out, data, n);
	}
	if (!nghttp2_session_want_read(c->h2) &&
	    !nghttp2_session_want_write(c->h2)) {
		http_conn_enter_state(c, HTTP_CONN_CLOSING);
		bufferevent_disable(c->bev, EV_READ);
		if (evbuffer_get_length(out) == 0)
			http_conn_free(c);
	}
}

/* Output flushed: refill streamed replies, frame more, or close. */
static void
http2_conn_drained(struct http_conn *c)
{
	struct http_request	*req, *next;

	if (c->state == HTTP_CONN_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			http_conn_free(c);
		return;
	}
	for (req = TAILQ_FIRST(&c->h2_streams); req != NULL; req = next) {
		next = TAILQ_NEXT(req, h2_entry);
		if (req->drain != NULL && req->reply_state ==
		    HTTP_REPLY_STREAMING && evbuffer_get_length(req->h2_out) <
		    HTTP2_STREAM_LOW)
			req->drain(req, req->drain_arg);
	}
	http2_conn_send(c);
}

/* Feed what arrived to nghttp2. */
static void
http2_conn_read(struct http_conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	while (evbuffer_peek(in, -1, NULL, &v, 1) == 1 && v.iov_len > 0) {
		n = nghttp2_session_mem_recv(c->h2, v.iov_base, v.iov_len);
		if (n < 0) {
			log_debug("%s: %s: %s", __func__, c->server->name,
			    nghttp2_strerror((int)n));
			http_conn_free(c);
			return;
		}
		evbuffer_drain(in, n);
	}
	http2_conn_send(c);
}

/*
 * Receive windows past the 64 KiB default: a client uploading 256 KiB+
 * bodies (the volumes' FUSE client, several PUTs at once) would otherwise
 * wait a round trip for every 64 KiB of the whole connection.
 */
static void
http2_conn_windows(struct http_conn *c)
{
	nghttp2_settings_entry	 iv;

	iv.settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	iv.value = 1024 * 1024;
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, &iv, 1);
	nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0,
	    16 * 1024 * 1024);
}

/* Switch a connection to HTTP/2. */
static int
http2_conn_start(struct http_conn *c)
{
	nghttp2_session_callbacks	*cbs;
	nghttp2_settings_entry		 iv[3];
	int				 r;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return (-1);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs,
	    http2_on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, http2_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
	    http2_on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
	    http2_on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
	    http2_on_stream_close);
	nghttp2_session_callbacks_set_data_source_read_length_callback(cbs,
	    http2_data_length);
	r = nghttp2_session_server_new(&c->h2, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (r != 0)
		return (-1);
	iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	iv[0].value = 100;
	iv[1].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
	iv[1].value = c->server->limits.max_header_bytes;
	/* Uploads in large DATA frames too (see http2_data_length). */
	iv[2].settings_id = NGHTTP2_SETTINGS_MAX_FRAME_SIZE;
	iv[2].value = HTTP2_FRAME_MAX;
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 3);
	http2_conn_windows(c);
	http2_conn_touch(c);
	http_conn_deadline_in(c, HTTP2_SWEEP_MS);
	log_debug("%s: %s: HTTP/2", __func__, c->server->name);
	return (0);
}

/* Drop the HTTP/2 side of a connection and its streams. */
static void
http2_conn_free(struct http_conn *c)
{
	struct http_request	*req;

	if (c->h2 == NULL)
		return;
	while ((req = TAILQ_FIRST(&c->h2_streams)) != NULL) {
		TAILQ_REMOVE(&c->h2_streams, req, h2_entry);
		nghttp2_session_set_stream_user_data(c->h2, req->h2_stream, NULL);
		http_request_free(req);
	}
	nghttp2_session_del(c->h2);
	c->h2 = NULL;
}
