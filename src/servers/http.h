/* http.h: the one HTTP layer of netcraved.  HTTP/1.1 server and client on libevent
 * bufferevents, parsed by libhttp-parser; unix and TCP listeners; TLS through OpenSSL
 * bufferevents with ALPN (HTTP/2 through nghttp2 is added beside it later).  Every
 * HTTP speaker in the project (plugin API, control socket, metrics, WebDAV, ACME,
 * the dockerd client) uses this layer. */
#ifndef NETCRAVE_HTTP_H
#define NETCRAVE_HTTP_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

struct event_base;
struct evbuffer;
struct http_server;
struct http_request;
struct http_client;
struct http_response;

struct http_limits {
	size_t		max_header_bytes;	/* request line + headers; over: 431 */
	size_t		max_body_bytes;		/* buffered or streamed; over: 413 */
	unsigned int	idle_timeout_ms;	/* no byte for this long: connection dropped */
	unsigned int	max_connections;	/* accept paused while at the cap */
	/* Slow clients: a request head not whole this long after its first
	 * byte, a buffered body not whole this long after its head, or a
	 * streamed body slower than body_min_rate bytes a second over a
	 * window: 408 and closed, however steadily the bytes dribble in. */
	unsigned int	header_timeout_ms;
	unsigned int	body_timeout_ms;
	size_t		body_min_rate;
};

typedef void	(*http_handler_fn)(struct http_request *, void *arg);
/* Streaming body: return 0 to go on, -1 to abort (the handler has replied). */
typedef int	(*http_body_fn)(struct http_request *, const void *data, size_t len,
		    void *arg);

#define HTTP_ROUTE_PREFIX	0x1	/* path matches as a prefix */
#define HTTP_ROUTE_STREAM	0x2	/* handler runs at end of headers; body via on_body */

struct http_route {
	const char	*method;	/* "GET", "POST", ...; NULL matches any method */
	const char	*path;		/* exact path, or a prefix with HTTP_ROUTE_PREFIX */
	int		 flags;
	http_handler_fn	 handler;	/* buffered: called once the whole body is in */
	http_body_fn	 on_body;	/* HTTP_ROUTE_STREAM only */
	http_handler_fn	 on_end;	/* HTTP_ROUTE_STREAM only: body complete */
};

/*
 * Renders an error the layer itself produces (400, 404, 405, 408, 413, 431, 503)
 * so that each speaker answers in its own format (the plugin API answers JSON
 * {"Err":...}).  NULL: a text/plain body with the message.
 */
typedef void	(*http_error_fn)(struct http_request *, int status,
		    const char *message, void *arg);

/* Server.  name is used in logs and metric labels ("plugin", "control"). */
struct http_server *http_server_new(struct event_base *, const char *name,
		    const struct http_limits *, const struct http_route *routes,
		    size_t nroutes, http_error_fn, void *arg);
/*
 * Listen on a unix socket with this mode.  A stale socket left by a crash is
 * replaced; a socket another live process still answers on is an error.
 */
int		 http_server_listen_unix(struct http_server *, const char *path,
		    mode_t mode, char *err, size_t errlen);
/* Listen on TCP host:port; ssl non-NULL for TLS (ALPN "http/1.1"). */
int		 http_server_listen_tcp(struct http_server *, const char *host,
		    const char *port, SSL_CTX *ssl, char *err, size_t errlen);
void		 http_server_set_limits(struct http_server *, const struct http_limits *);
/* Event priority of its connections (NC_EV_PRIO_* of server.h). */
void		 http_server_set_priority(struct http_server *, int);
/* Close listeners (unlinking unix sockets) and every connection. */
void		 http_server_free(struct http_server *);
unsigned int	 http_server_connections(const struct http_server *);
/* Port of the first TCP listener, for callers that listened on port "0"; -1 if none. */
int		 http_server_tcp_port(const struct http_server *);

/* Request accessors, valid until the reply is finished or the cleanup runs. */
const char	*http_request_method(const struct http_request *);
const char	*http_request_path(const struct http_request *);	/* no query */
const char	*http_request_query(const struct http_request *);	/* NULL if none */
const char	*http_request_header(const struct http_request *, const char *name);
struct evbuffer	*http_request_body(struct http_request *);	/* buffered routes */
void		*http_request_server_arg(const struct http_request *);
/* Protocol chosen by ALPN on a TLS connection ("http/1.1"), NULL otherwise. */
const char	*http_request_alpn(const struct http_request *);
/*
 * An asynchronous handler registers a cleanup: it runs if the connection goes
 * away before the reply is finished (EOF, error, server freed, or the layer
 * answering an error itself, e.g. 413 during a streamed body).  The request is
 * freed right after the cleanup returns: the continuation must forget the
 * pointer there and never call a reply function on it again.  Once a reply is
 * finished (http_reply, http_reply_buffer, http_reply_end) the request is freed
 * by the layer too and must not be touched.  A second reply is ignored with a
 * warning while the request still exists.
 */
void		 http_request_set_cleanup(struct http_request *,
		    void (*)(struct http_request *, void *), void *);
/* The handler's own state, for streaming routes' on_body and on_end. */
void		 http_request_set_data(struct http_request *, void *);
void		*http_request_data(const struct http_request *);

/* Responses. */
void		 http_reply_header(struct http_request *, const char *name,
		    const char *value);
void		 http_reply(struct http_request *, int status, const char *content_type,
		    const void *body, size_t len);
/* Moves (drains) body into the response. */
void		 http_reply_buffer(struct http_request *, int status,
		    const char *content_type, struct evbuffer *body);
/* Streamed response: content_length -1 means chunked. */
void		 http_reply_start(struct http_request *, int status,
		    const char *content_type, int64_t content_length);
void		 http_reply_chunk(struct http_request *, const void *, size_t);
/* The same for a malloc'd buffer, freed by the layer once sent. */
void		 http_reply_chunk_free(struct http_request *, void *, size_t);
void		 http_reply_end(struct http_request *);
/*
 * Flow control of a streamed reply: fn runs each time the bytes queued for
 * the peer drop to low or below, until the reply ends (fn NULL: off).
 */
void		 http_reply_on_drain(struct http_request *,
		    void (*fn)(struct http_request *, void *), void *arg,
		    size_t low);
size_t		 http_reply_pending(const struct http_request *);
/* Give up a started streamed reply: the connection closes, the body cut. */
void		 http_reply_abort(struct http_request *);
const char	*http_status_text(int status);
/* An HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT") of t into buf. */
void		 http_format_date(time_t t, char *buf, size_t len);

/* Client: one keep-alive connection to one target, requests queued in order. */
struct http_client_target {
	const char	*unix_path;	/* either a unix socket ... */
	const char	*host;		/* ... or host and port */
	const char	*port;
	SSL_CTX		*ssl;		/* TLS when non-NULL (certificate verified by ctx) */
	const char	*server_name;	/* SNI and certificate name; default host */
	const char	*host_header;	/* Host: value; default host or "localhost" */
};

/* Response accessors, valid during the callback only. */
int		 http_response_status(const struct http_response *);
const char	*http_response_header(const struct http_response *, const char *name);
/* The n-th (from 0) header called name, for those that repeat (Link). */
const char	*http_response_header_nth(const struct http_response *,
		    const char *name, size_t n);
struct evbuffer	*http_response_body(const struct http_response *);

/* resp NULL and error set on failure (connect, TLS, timeout, parse, too large). */
typedef void	(*http_client_cb)(const struct http_response *resp, const char *error,
		    void *arg);
/*
 * Streaming response body (long-lived streams such as dockerd's /events).
 * Return 0 to go on; -1 stops the stream as http_client_cancel does (done is
 * not called, the connection is closed).
 */
typedef int	(*http_client_body_fn)(const struct http_response *resp,
		    const void *data, size_t len, void *arg);

struct http_client *http_client_new(struct event_base *, const struct http_client_target *,
		    unsigned int timeout_ms, size_t max_body_bytes);
/*
 * Send a request.  headers is a NULL-terminated list of "Name: value" strings or
 * NULL.  When on_body is set, body bytes go to it instead of the buffer, without
 * the size cap and without the timeout once headers are in.  done runs exactly
 * once unless the request is cancelled (or the client freed), never from inside
 * http_client_send.  A request that fails on a reused keep-alive connection
 * before any byte of its response arrived is retried once on a new connection
 * (the server closed an idle connection).  Only numeric hosts and "localhost"
 * are resolved for now.
 */
struct http_client_request *http_client_send(struct http_client *, const char *method,
		    const char *path, const char *const *headers, const void *body,
		    size_t len, http_client_body_fn on_body, http_client_cb done,
		    void *arg);
void		 http_client_cancel(struct http_client_request *);
void		 http_client_free(struct http_client *);

/*
 * The HTTP/2 client, same contract as above but every request is a stream of
 * one connection, all in flight at once: h2c prior knowledge on a unix socket
 * or plain TCP, ALPN "h2" over TLS (a server that does not select h2 fails the
 * requests with "server did not select h2"; use the HTTP/1.1 client then).
 */
struct http2_client;
struct http2_client_request;
struct http2_client *http2_client_new(struct event_base *,
		    const struct http_client_target *, unsigned int timeout_ms,
		    size_t max_body_bytes);
struct http2_client_request *http2_client_send(struct http2_client *,
		    const char *method, const char *path,
		    const char *const *headers, const void *body, size_t len,
		    http_client_body_fn on_body, http_client_cb done, void *arg);
void		 http2_client_cancel(struct http2_client_request *);
void		 http2_client_free(struct http2_client *);

#endif
