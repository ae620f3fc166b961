/* http_private.h: internals shared by the HTTP server (http.c) and client
 * (http_client.c): header lists, the response Date, parser helpers. */
#ifndef NETCRAVE_HTTP_PRIVATE_H
#define NETCRAVE_HTTP_PRIVATE_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>

#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

struct evbuffer;

/* One header as received or to be sent; names keep the sender's case. */
struct http_header {
	char			*name;
	char			*value;
	int			 packed;	/* name and value follow it */
	TAILQ_ENTRY(http_header) entry;
};
TAILQ_HEAD(http_headers, http_header);

/*
 * Headers arrive from libhttp-parser in pieces (a field or value may be split
 * across reads); this collects them into whole name/value pairs.
 */
struct http_header_parse {
	struct http_headers	 list;
	char			*field;		/* being collected */
	size_t			 fieldlen;
	char			*value;
	size_t			 valuelen;
	int			 in_value;	/* last piece was a value */
	unsigned int		 count;
};

/* A response as the clients (HTTP/1.1 and HTTP/2) hand it to their callers. */
struct http_response {
	int			 status;
	struct http_header_parse headers;
	struct evbuffer		*body;
};

/* Implemented in http.c; the client links the same library. */
void		 http_headers_init(struct http_header_parse *);
void		 http_headers_field(struct http_header_parse *, const char *, size_t);
void		 http_headers_value(struct http_header_parse *, const char *, size_t);
void		 http_headers_done(struct http_header_parse *);
void		 http_headers_clear(struct http_header_parse *);
const char	*http_headers_find(const struct http_headers *, const char *);
void		 http_headers_add(struct http_headers *, const char *, const char *);
void		 http_headers_free(struct http_headers *);
/* Append "Date: <IMF-fixdate>\r\n". */
void		 http_date_header(struct evbuffer *);
/* Case-insensitive token search in a comma-separated header value. */
int		 http_header_has_token(const char *value, const char *token);

/*
 * HTTP/2 DATA frames up to the peer's SETTINGS_MAX_FRAME_SIZE (at most
 * HTTP2_DATA_MAX) within the flow-control windows: nghttp2's
 * data_source_read_length_callback, for the server and the client alike.
 */
#define HTTP2_DATA_MAX		(256 * 1024)
#define HTTP2_FRAME_MAX		(1024 * 1024)	/* SETTINGS_MAX_FRAME_SIZE */
ssize_t		 http2_data_length(nghttp2_session *, uint8_t, int32_t,
		    int32_t, int32_t, uint32_t, void *);

/*
 * The target both clients keep (http_client.c and http2_client.c): their copy
 * of a struct http_client_target, parsed once by http_target_parse.
 */
struct http_client_target;
struct http_target {
	char		*unix_path;	/* either a unix socket ... */
	char		*host;		/* ... or host and port */
	char		*port;
	SSL_CTX		*ssl;		/* TLS when non-NULL */
	char		*server_name;	/* SNI and certificate name, or NULL */
	char		*authority;	/* Host: and :authority */
	char		*name;		/* for messages: the path or host:port */
};
/* Fill tg from t; -1 when t has neither a unix path nor host and port. */
int		 http_target_parse(struct http_target *,
		    const struct http_client_target *);
void		 http_target_clear(struct http_target *);
/*
 * What both clients hold besides their requests: the target, the loop, the
 * caller's limits, the connection, and the guard against being freed from
 * inside one of their own callbacks.
 */
struct http_upstream {
	struct event_base	*base;
	struct http_target	 t;
	unsigned int		 timeout_ms;	/* per request; 0 none */
	size_t			 max_body_bytes;
	struct bufferevent	*bev;		/* NULL when down */
	struct event		*kick;		/* the client's work, off-stack */
	int			 busy;		/* inside a user callback */
	int			 dying;		/* freed from a callback */
};
/* Parse t into up (-1 and a warning when it names nothing to reach); kick
 * runs kickcb(arg).  Nothing connects yet. */
int		 http_upstream_init(struct http_upstream *, struct event_base *,
		    const struct http_client_target *, unsigned int timeout_ms,
		    size_t max_body_bytes, void (*kickcb)(evutil_socket_t, short,
		    void *), void *arg);
/* Close the connection and free what http_upstream_init made. */
void		 http_upstream_clear(struct http_upstream *);
/* For the clients' free functions: 1 when called from inside a callback (the
 * client is marked dying and goes once the callback returns), else 0. */
int		 http_upstream_free_later(struct http_upstream *);
/*
 * Start connecting: up->bev a socket bufferevent with the callbacks,
 * enabled; -1 and why in err when it failed at once.  Only numeric hosts and
 * "localhost" (a name lookup would block the loop).
 */
int		 http_upstream_connect(struct http_upstream *, bufferevent_data_cb,
		    bufferevent_event_cb, void *, char *err, size_t errlen);
/*
 * TCP is up: up->bev becomes a TLS bufferevent over it with SNI, the name
 * check and alpn offered, taking the callbacks; -1 and why in err (the TCP
 * one is left as it was).
 */
int		 http_upstream_start_tls(struct http_upstream *,
		    const unsigned char *alpn, unsigned int alpnlen,
		    bufferevent_data_cb, bufferevent_event_cb, void *,
		    char *err, size_t errlen);
/* A request was queued: the client is kicked to start it (from the loop),
 * and its timer is returned, armed for up's timeout unless that is 0. */
struct event	*http_upstream_queued(struct http_upstream *,
		    void (*)(evutil_socket_t, short, void *), void *);
/* Why a connection ended (an EOF or ERROR event) into msg. */
void		 http_target_error(const struct http_target *,
		    struct bufferevent *, short events, int connecting,
		    char *msg, size_t len);

/* Serve a connected non-blocking socket without a listener (fuzzing, tests). */
struct http_server;
void		 http_server_adopt(struct http_server *, int fd);

#endif
