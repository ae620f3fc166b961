/* test_http.c: the HTTP layer in one process: a server on a private unix socket
 * (and TLS on 127.0.0.1), driven by raw sockets and by the layer's own client. */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http.h"
#include "http_private.h"
#include "log.h"
#include "metrics.h"

struct async_reply {
	struct http_request	*req;
	struct event		*timer;
};

/* What the handlers saw, reset per test. */
static struct {
	int		 cleanups;
	int		 async_replied;
	size_t		 stream_bytes;
	int		 stream_calls;
	char		 propfind_body[256];
	struct async_reply *pending;
} seen;

static struct event_base	*base;
static struct http_server	*srv;
static char			 dir[64];
static char			 sock[128];

/* GET /hello */
static void
h_hello(struct http_request *req, void *arg)
{
	http_reply(req, 200, "text/plain", "hello", 5);
}

/* POST /echo: the buffered body back. */
static void
h_echo(struct http_request *req, void *arg)
{
	http_reply_buffer(req, 200, "application/octet-stream",
	    http_request_body(req));
}

/* PROPFIND under /dav/: proves WebDAV methods are routed. */
static void
h_propfind(struct http_request *req, void *arg)
{
	struct evbuffer	*b = http_request_body(req);
	size_t		 n = evbuffer_get_length(b);

	if (n >= sizeof seen.propfind_body)
		n = sizeof seen.propfind_body - 1;
	evbuffer_remove(b, seen.propfind_body, n);
	seen.propfind_body[n] = '\0';
	http_reply(req, 207, "application/xml", "<multistatus/>", 14);
}

/* Timer: the asynchronous answer. */
static void
async_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct async_reply	*a = arg;

	seen.async_replied++;
	http_reply(a->req, 200, "text/plain", "async", 5);
	event_free(a->timer);
	free(a);
	seen.pending = NULL;
}

/* Cleanup: the connection went away before the answer. */
static void
async_cleanup(struct http_request *req, void *arg)
{
	struct async_reply	*a = arg;

	seen.cleanups++;
	assert_ptr_equal(a->req, req);
	event_free(a->timer);
	free(a);
	seen.pending = NULL;
}

/* Answer after delay_ms (or never, for -1). */
static void
async_start(struct http_request *req, int delay_ms)
{
	struct async_reply	*a;
	struct timeval		 tv = { 0, delay_ms * 1000 };

	a = calloc(1, sizeof *a);
	a->req = req;
	a->timer = evtimer_new(base, async_fire, a);
	if (delay_ms >= 0)
		evtimer_add(a->timer, &tv);
	http_request_set_cleanup(req, async_cleanup, a);
	seen.pending = a;
}

/* GET /async: answers after 100 ms. */
static void
h_async(struct http_request *req, void *arg)
{
	async_start(req, 100);
}

/* GET /never: only the cleanup ends it. */
static void
h_never(struct http_request *req, void *arg)
{
	async_start(req, -1);
}

/* POST /stream: handler runs at end of headers. */
static void
h_stream_start(struct http_request *req, void *arg)
{
	assert_null(http_request_body(req));
}

/* POST /stream body pieces. */
static int
h_stream_body(struct http_request *req, const void *data, size_t len, void *arg)
{
	seen.stream_bytes += len;
	seen.stream_calls++;
	return (0);
}

/* POST /stream end: report the count. */
static void
h_stream_end(struct http_request *req, void *arg)
{
	char	 buf[64];
	int	 n;

	n = snprintf(buf, sizeof buf, "got %zu", seen.stream_bytes);
	http_reply(req, 200, "text/plain", buf, n);
}

/* GET /chunks: a chunked streamed reply. */
static void
h_chunks(struct http_request *req, void *arg)
{
	http_reply_start(req, 200, "text/plain", -1);
	http_reply_chunk(req, "a", 1);
	http_reply_chunk(req, "bb", 2);
	http_reply_chunk(req, "ccc", 3);
	http_reply_end(req);
}

/* GET /alpn: what TLS agreed on. */
static void
h_alpn(struct http_request *req, void *arg)
{
	const char	*p = http_request_alpn(req);

	if (p == NULL)
		p = "none";
	http_reply(req, 200, "text/plain", p, strlen(p));
}

static const struct http_route routes[] = {
	{ "GET", "/hello", 0, h_hello, NULL, NULL },
	{ "POST", "/echo", 0, h_echo, NULL, NULL },
	{ "PROPFIND", "/dav/", HTTP_ROUTE_PREFIX, h_propfind, NULL, NULL },
	{ "GET", "/async", 0, h_async, NULL, NULL },
	{ "GET", "/never", 0, h_never, NULL, NULL },
	{ "POST", "/stream", HTTP_ROUTE_STREAM, h_stream_start, h_stream_body,
	    h_stream_end },
	{ "GET", "/chunks", 0, h_chunks, NULL, NULL },
	{ "GET", "/alpn", 0, h_alpn, NULL, NULL },
};

/* The plugin API's way: errors as {"Err":...}. */
static void
json_error(struct http_request *req, int status, const char *message, void *arg)
{
	char	 buf[256];
	int	 n;

	n = snprintf(buf, sizeof buf, "{\"Err\":\"%s\"}", message);
	http_reply(req, status, "application/json", buf, n);
}

/* Run the loop for about ms milliseconds. */
static void
pump(int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/*
 * A server with these limits on a fresh socket; a short idle time makes the
 * head and body deadlines as short (the slow-client tests).
 */
static void
start_server(size_t hdr, size_t body, unsigned int idle, unsigned int maxc)
{
	struct http_limits	 l = { hdr, body, idle, maxc, idle, idle, 0 };
	char			 err[256];

	srv = http_server_new(base, "test", &l, routes,
	    sizeof routes / sizeof routes[0], json_error, NULL);
	assert_non_null(srv);
	if (http_server_listen_unix(srv, sock, 0600, err, sizeof err) != 0)
		fail_msg("listen: %s", err);
}

/* Per test: a loop, a directory, a clean slate. */
static int
setup(void **state)
{
	memset(&seen, 0, sizeof seen);
	strcpy(dir, "/tmp/test_http.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(sock, sizeof sock, "%s/s.sock", dir);
	base = event_base_new();
	srv = NULL;
	return (base == NULL ? -1 : 0);
}

/* Per test: free the server, check the socket is gone. */
static int
teardown(void **state)
{
	struct stat	 sb;

	if (srv != NULL) {
		http_server_free(srv);
		assert_int_equal(lstat(sock, &sb), -1);
	}
	srv = NULL;
	event_base_free(base);
	unlink(sock);
	rmdir(dir);
	metrics_reset();
	return (0);
}

/* Raw client side. */

struct raw {
	int	 fd;
	char	 buf[256 * 1024];
	size_t	 len;
	int	 eof;
};

/* Connect a non-blocking raw socket to the server. */
static struct raw *
raw_open(void)
{
	struct sockaddr_un	 sun;
	struct raw		*r;

	r = calloc(1, sizeof *r);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(r->fd >= 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	assert_int_equal(connect(r->fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return (r);
}

/* Close and free. */
static void
raw_close(struct raw *r)
{
	close(r->fd);
	free(r);
}

/* Send bytes (small enough to fit the socket buffer). */
static void
raw_send(struct raw *r, const char *s, size_t n)
{
	ssize_t	 w = 0;
	size_t	 off = 0;

	while (off < n) {
		w = send(r->fd, s + off, n - off, MSG_NOSIGNAL);
		if (w == -1 && errno == EAGAIN) {
			pump(1);
			continue;
		}
		assert_true(w > 0);
		off += w;
	}
}

#define raw_puts(r, s)	raw_send((r), (s), strlen(s))

/* Pull whatever arrived. */
static void
raw_fill(struct raw *r)
{
	ssize_t	 n;

	for (;;) {
		n = recv(r->fd, r->buf + r->len, sizeof r->buf - 1 - r->len,
		    MSG_DONTWAIT);
		if (n > 0) {
			r->len += n;
			r->buf[r->len] = '\0';
			continue;
		}
		if (n == 0 || (n == -1 && errno != EAGAIN))
			r->eof = 1;
		return;
	}
}

/* Count the responses received so far. */
static int
raw_responses(const struct raw *r)
{
	const char	*p = r->buf;
	int		 n = 0;

	while ((p = strstr(p, "HTTP/1.1 ")) != NULL) {
		n++;
		p++;
	}
	return (n);
}

/* Run the loop until n responses (or EOF if n is 0) or ms elapse. */
static void
raw_wait(struct raw *r, int n, int ms)
{
	int	 waited;

	for (waited = 0; waited < ms; waited += 5) {
		pump(5);
		raw_fill(r);
		if (n == 0 ? r->eof : raw_responses(r) >= n) {
			/* Let a body that follows the head arrive too. */
			pump(5);
			raw_fill(r);
			return;
		}
	}
}

/* Layer's client side. */

struct result {
	int	 done;
	int	 status;
	char	 error[128];
	char	 body[4096];
	char	 streamed[4096];
	size_t	 streamed_len;
	char	 content_length[32];
};

/* done callback: keep what the test asserts on. */
static void
client_done(const struct http_response *resp, const char *error, void *arg)
{
	struct result	*res = arg;
	struct evbuffer	*b;
	const char	*cl;
	size_t		 n;

	res->done++;
	if (resp == NULL) {
		snprintf(res->error, sizeof res->error, "%s", error);
		return;
	}
	res->status = http_response_status(resp);
	b = http_response_body(resp);
	n = evbuffer_get_length(b);
	if (n >= sizeof res->body)
		n = sizeof res->body - 1;
	evbuffer_copyout(b, res->body, n);
	res->body[n] = '\0';
	if ((cl = http_response_header(resp, "content-length")) != NULL)
		snprintf(res->content_length, sizeof res->content_length, "%s", cl);
}

/* on_body callback: collect the stream. */
static int
client_stream(const struct http_response *resp, const void *data, size_t len,
    void *arg)
{
	struct result	*res = arg;

	assert_int_equal(http_response_status(resp), 200);
	assert_true(res->streamed_len + len < sizeof res->streamed);
	memcpy(res->streamed + res->streamed_len, data, len);
	res->streamed_len += len;
	return (0);
}

/* Run the loop until the result is in (or 3 s). */
static void
client_wait(struct result *res)
{
	int	 waited;

	for (waited = 0; waited < 3000 && !res->done; waited += 5)
		pump(5);
}

/* A client on the test socket. */
static struct http_client *
client_unix(unsigned int timeout_ms)
{
	struct http_client_target	 t = { 0 };

	t.unix_path = sock;
	return (http_client_new(base, &t, timeout_ms, 64 * 1024));
}

/* Tests. */

/* 200, 404 (rendered by the error function), 405 with Allow. */
static void
test_routing(void **state)
{
	struct raw	*r;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_wait(r, 1, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r->buf, "Content-Length: 5\r\n"));
	assert_non_null(strstr(r->buf, "Date: "));
	assert_non_null(strstr(r->buf, "\r\n\r\nhello"));

	raw_puts(r, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_wait(r, 2, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 404 Not Found\r\n"));
	assert_non_null(strstr(r->buf, "{\"Err\":\"no such path\"}"));

	raw_puts(r, "DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_wait(r, 3, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(r->buf, "Allow: GET\r\n"));
	/* Errors of routing keep the connection. */
	assert_false(r->eof);
	assert_int_equal(http_server_connections(srv), 1);
	raw_close(r);
}

/* Several requests on one connection through the client. */
static void
test_keepalive(void **state)
{
	struct http_client	*c;
	struct result		 res[3];
	int			 i;

	start_server(0, 0, 0, 0);
	c = client_unix(2000);
	memset(res, 0, sizeof res);
	for (i = 0; i < 3; i++)
		http_client_send(c, "GET", "/hello", NULL, NULL, 0, NULL,
		    client_done, &res[i]);
	client_wait(&res[2]);
	for (i = 0; i < 3; i++) {
		assert_int_equal(res[i].done, 1);
		assert_int_equal(res[i].status, 200);
		assert_string_equal(res[i].body, "hello");
	}
	assert_int_equal(http_server_connections(srv), 1);
	http_client_free(c);
}

/* Three requests in one write: answered in order, the async one included. */
static void
test_pipelining(void **state)
{
	struct raw	*r;
	char		*a, *b, *d;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
	    "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_wait(r, 3, 2000);
	assert_int_equal(raw_responses(r), 3);
	a = strstr(r->buf, "async");
	b = strstr(r->buf, "abc");
	d = strstr(r->buf, "hello");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(d);
	assert_true(a < b && b < d);
	raw_close(r);
}

/* A chunked request body is buffered whole. */
static void
test_chunked_request(void **state)
{
	struct raw	*r;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
	raw_wait(r, 1, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r->buf, "Content-Length: 11\r\n"));
	assert_non_null(strstr(r->buf, "\r\n\r\nhello world"));
	raw_close(r);
}

/* Content-Length over the cap: 413 before the body, then closed. */
static void
test_413_content_length(void **state)
{
	struct raw	*r;

	start_server(0, 1024, 0, 0);
	r = raw_open();
	raw_puts(r, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
	raw_wait(r, 0, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 413 "));
	assert_non_null(strstr(r->buf, "Connection: close\r\n"));
	assert_non_null(strstr(r->buf, "{\"Err\":\"request body too large\"}"));
	assert_true(r->eof);
	raw_close(r);
}

/* Chunked bytes are counted against the cap too. */
static void
test_413_chunked(void **state)
{
	struct raw	*r;
	char		 chunk[600];
	int		 i;

	start_server(0, 1024, 0, 0);
	r = raw_open();
	raw_puts(r, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	memset(chunk, 'z', sizeof chunk);
	for (i = 0; i < 3; i++) {
		raw_puts(r, "1f4\r\n");
		raw_send(r, chunk, 500);
		raw_puts(r, "\r\n");
	}
	raw_wait(r, 0, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 413 "));
	assert_true(r->eof);
	raw_close(r);
}

/* Headers over the cap: 431, then closed. */
static void
test_431(void **state)
{
	struct raw	*r;
	char		 big[8192];

	start_server(4096, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big, 'b', sizeof big);
	raw_send(r, big, sizeof big);
	raw_puts(r, "\r\n\r\n");
	raw_wait(r, 0, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 431 "));
	assert_true(r->eof);
	raw_close(r);
}

/* Garbage: 400, then closed. */
static void
test_400(void **state)
{
	struct raw	*r;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "\x01\x02 nonsense\r\n\r\n");
	raw_wait(r, 0, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 400 "));
	assert_true(r->eof);
	raw_close(r);
}

/* A silent client is dropped after the idle timeout. */
static void
test_idle_timeout(void **state)
{
	struct raw	*r;

	start_server(0, 0, 200, 0);
	r = raw_open();
	pump(50);
	assert_int_equal(http_server_connections(srv), 1);
	raw_wait(r, 0, 2000);
	assert_true(r->eof);
	assert_int_equal(r->len, 0);
	assert_int_equal(http_server_connections(srv), 0);
	raw_close(r);
}

/*
 * After head, a byte every 20 ms: 408 and closed at the 300 ms deadline
 * (far before the 2 s the bytes would take), however steadily they come.
 */
static void
dribble_until_408(const char *head)
{
	struct raw	*r;
	int		 i;

	start_server(0, 0, 300, 0);
	r = raw_open();
	raw_puts(r, head);
	for (i = 0; i < 100 && !r->eof; i++) {
		raw_puts(r, "a");
		pump(20);
		raw_fill(r);
	}
	assert_true(r->eof);
	assert_true(i < 50);	/* ~300 ms, not 2 s */
	assert_non_null(strstr(r->buf, "HTTP/1.1 408 "));
	assert_int_equal(http_server_connections(srv), 0);
	raw_close(r);
}

/* The headers never complete: dropped all the same. */
static void
test_slowloris(void **state)
{
	dribble_until_408("GET /hello HTTP/1.1\r\nX-Slow: ");
}

/* A whole head, then a body that never completes: the body deadline. */
static void
test_slow_body(void **state)
{
	dribble_until_408("POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
}

/* At the cap accept pauses; a close resumes it. */
static void
test_max_connections(void **state)
{
	struct raw	*r1, *r2, *r3;

	start_server(0, 0, 0, 2);
	r1 = raw_open();
	r2 = raw_open();
	r3 = raw_open();	/* sits in the kernel backlog */
	pump(50);
	assert_int_equal(http_server_connections(srv), 2);
	raw_puts(r3, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_wait(r3, 1, 200);
	assert_int_equal(raw_responses(r3), 0);
	raw_close(r1);
	raw_wait(r3, 1, 1000);
	assert_int_equal(raw_responses(r3), 1);
	assert_non_null(strstr(r3->buf, "hello"));
	assert_int_equal(http_server_connections(srv), 2);
	raw_close(r2);
	raw_close(r3);
}

/* A stale socket is replaced, a live one refused, a plain file kept. */
static void
test_unix_socket_takeover(void **state)
{
	struct sockaddr_un	 sun;
	struct http_server	*other;
	struct stat		 sb;
	char			 err[256], file[128];
	int			 fd;

	/* Stale: bound, then the "daemon" died without unlinking. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	assert_int_equal(lstat(sock, &sb), 0);

	start_server(0, 0, 0, 0);
	assert_int_equal(lstat(sock, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* Live: the first server answers there. */
	other = http_server_new(base, "other", NULL, routes, 1, NULL, NULL);
	assert_int_equal(http_server_listen_unix(other, sock, 0600, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "another process"));

	/* Not a socket: left alone. */
	snprintf(file, sizeof file, "%s/plain", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(http_server_listen_unix(other, file, 0600, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "not a socket"));
	assert_int_equal(lstat(file, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	unlink(file);
	http_server_free(other);

	/* The first server still works. */
	{
		struct raw *r = raw_open();

		raw_puts(r, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
		raw_wait(r, 1, 1000);
		assert_non_null(strstr(r->buf, "hello"));
		raw_close(r);
	}
}

/* A handler answers later from a timer. */
static void
test_async_reply(void **state)
{
	struct http_client	*c;
	struct result		 res = { 0 };

	start_server(0, 0, 0, 0);
	c = client_unix(2000);
	http_client_send(c, "GET", "/async", NULL, NULL, 0, NULL, client_done,
	    &res);
	pump(50);
	assert_int_equal(res.done, 0);
	client_wait(&res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "async");
	assert_int_equal(seen.async_replied, 1);
	assert_int_equal(seen.cleanups, 0);
	http_client_free(c);
}

/* The client leaves before the async answer: cleanup runs, no reply. */
static void
test_async_cleanup(void **state)
{
	struct raw	*r;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	pump(30);
	assert_non_null(seen.pending);
	raw_close(r);
	pump(200);
	assert_int_equal(seen.cleanups, 1);
	assert_int_equal(seen.async_replied, 0);
	assert_null(seen.pending);
	assert_int_equal(http_server_connections(srv), 0);
}

/* A streamed request body arrives in pieces before the end handler. */
static void
test_stream_request(void **state)
{
	struct http_client	*c;
	struct result		 res = { 0 };
	char			*body;
	size_t			 n = 200 * 1024;

	start_server(0, 1024 * 1024, 0, 0);
	c = client_unix(3000);
	body = malloc(n);
	memset(body, 'x', n);
	http_client_send(c, "POST", "/stream", NULL, body, n, NULL, client_done,
	    &res);
	free(body);
	client_wait(&res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "got 204800");
	assert_int_equal(seen.stream_bytes, n);
	assert_true(seen.stream_calls >= 1);
	http_client_free(c);
}

/* A chunked reply read through the client's on_body. */
static void
test_stream_response(void **state)
{
	struct http_client	*c;
	struct result		 res = { 0 };
	struct raw		*r;

	start_server(0, 0, 0, 0);
	c = client_unix(2000);
	http_client_send(c, "GET", "/chunks", NULL, NULL, 0, client_stream,
	    client_done, &res);
	client_wait(&res);
	assert_int_equal(res.done, 1);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.streamed_len, 6);
	assert_memory_equal(res.streamed, "abbccc", 6);
	assert_string_equal(res.body, "");
	http_client_free(c);

	/* On the wire it is chunked. */
	r = raw_open();
	raw_puts(r, "GET /chunks HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_wait(r, 1, 1000);
	assert_non_null(strstr(r->buf, "Transfer-Encoding: chunked\r\n"));
	assert_non_null(strstr(r->buf, "1\r\na\r\n2\r\nbb\r\n3\r\nccc\r\n0\r\n\r\n"));
	raw_close(r);
}

/* The server drops the idle keep-alive connection; the next request reconnects. */
static void
test_client_reconnect(void **state)
{
	struct http_client	*c;
	struct result		 a = { 0 }, b = { 0 };

	start_server(0, 0, 150, 0);
	c = client_unix(2000);
	http_client_send(c, "GET", "/hello", NULL, NULL, 0, NULL, client_done, &a);
	client_wait(&a);
	assert_int_equal(a.status, 200);
	assert_int_equal(http_server_connections(srv), 1);
	pump(400);
	assert_int_equal(http_server_connections(srv), 0);
	http_client_send(c, "GET", "/hello", NULL, NULL, 0, NULL, client_done, &b);
	client_wait(&b);
	assert_int_equal(b.status, 200);
	assert_string_equal(b.body, "hello");
	http_client_free(c);
}

/* A response that never comes: the client times out, the server cleans up. */
static void
test_client_timeout(void **state)
{
	struct http_client	*c;
	struct result		 res = { 0 }, next = { 0 };

	start_server(0, 0, 0, 0);
	c = client_unix(200);
	http_client_send(c, "GET", "/never", NULL, NULL, 0, NULL, client_done,
	    &res);
	http_client_send(c, "GET", "/hello", NULL, NULL, 0, NULL, client_done,
	    &next);
	client_wait(&res);
	assert_int_equal(res.done, 1);
	assert_string_equal(res.error, "timeout");
	pump(50);
	assert_int_equal(seen.cleanups, 1);
	/* The one queued behind it had the same deadline. */
	client_wait(&next);
	assert_int_equal(next.done, 1);
	http_client_free(c);
}

/* HEAD: the headers of GET, no body, and the connection stays in sync. */
static void
test_head(void **state)
{
	struct http_client	*c;
	struct result		 a = { 0 }, b = { 0 };
	struct raw		*r;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
	raw_wait(r, 1, 1000);
	pump(50);
	raw_fill(r);
	assert_non_null(strstr(r->buf, "Content-Length: 5\r\n"));
	assert_null(strstr(r->buf, "hello"));
	raw_close(r);

	c = client_unix(2000);
	http_client_send(c, "HEAD", "/hello", NULL, NULL, 0, NULL, client_done, &a);
	http_client_send(c, "GET", "/hello", NULL, NULL, 0, NULL, client_done, &b);
	client_wait(&b);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "");
	assert_string_equal(a.content_length, "5");
	assert_int_equal(b.status, 200);
	assert_string_equal(b.body, "hello");
	http_client_free(c);
}

/* PROPFIND is a method like any other; the route decides. */
static void
test_propfind(void **state)
{
	struct http_client	*c;
	struct result		 res = { 0 };
	const char		*xml = "<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><allprop/></propfind>";
	const char		*hdrs[] = { "Depth: 1",
	    "Content-Type: application/xml", NULL };

	start_server(0, 0, 0, 0);
	c = client_unix(2000);
	http_client_send(c, "PROPFIND", "/dav/vol/a", hdrs, xml, strlen(xml),
	    NULL, client_done, &res);
	client_wait(&res);
	assert_int_equal(res.status, 207);
	assert_string_equal(res.body, "<multistatus/>");
	assert_string_equal(seen.propfind_body, xml);
	http_client_free(c);
}

/* HTTP/1.0 without keep-alive: Connection: close, then EOF. */
static void
test_http10(void **state)
{
	struct raw	*r;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "GET /hello HTTP/1.0\r\n\r\n");
	raw_wait(r, 0, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r->buf, "Connection: close\r\n"));
	assert_true(r->eof);
	raw_close(r);
}

/* Make a self-signed certificate for 127.0.0.1. */
static void
make_cert(EVP_PKEY **keyp, X509 **certp)
{
	EVP_PKEY		*key;
	X509			*x;
	X509_NAME		*name;
	X509_EXTENSION		*ext;
	X509V3_CTX		 v3;

	key = EVP_EC_gen("P-256");
	assert_non_null(key);
	x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"netcrave test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
	    "IP:127.0.0.1");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*keyp = key;
	*certp = x;
}

/* TLS on 127.0.0.1: verified certificate, ALPN http/1.1, a round trip. */
static void
test_tls(void **state)
{
	SSL_CTX				*sctx, *cctx;
	EVP_PKEY			*key;
	X509				*cert;
	struct http_client_target	 t = { 0 };
	struct http_client		*c;
	struct result			 res = { 0 }, again = { 0 };
	char				 err[256], port[16];
	int				 p;

	make_cert(&key, &cert);
	sctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
	cctx = SSL_CTX_new(TLS_client_method());
	X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), cert);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);

	srv = http_server_new(base, "tls", NULL, routes,
	    sizeof routes / sizeof routes[0], NULL, NULL);
	if (http_server_listen_tcp(srv, "127.0.0.1", "0", sctx, err,
	    sizeof err) != 0)
		fail_msg("listen: %s", err);
	p = http_server_tcp_port(srv);
	assert_true(p > 0);
	snprintf(port, sizeof port, "%d", p);

	t.host = "127.0.0.1";
	t.port = port;
	t.ssl = cctx;
	c = http_client_new(base, &t, 3000, 4096);
	http_client_send(c, "GET", "/alpn", NULL, NULL, 0, NULL, client_done, &res);
	client_wait(&res);
	if (res.error[0] != '\0')
		fail_msg("TLS request: %s", res.error);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "http/1.1");
	http_client_free(c);

	/* A name the certificate does not carry is refused. */
	t.server_name = "example.org";
	c = http_client_new(base, &t, 3000, 4096);
	http_client_send(c, "GET", "/alpn", NULL, NULL, 0, NULL, client_done,
	    &again);
	client_wait(&again);
	assert_int_equal(again.done, 1);
	assert_int_equal(again.status, 0);
	assert_true(again.error[0] != '\0');
	http_client_free(c);

	http_server_free(srv);
	srv = NULL;
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(cert);
	EVP_PKEY_free(key);
}

/* A thousand idle connections do not keep a fresh request from an answer. */
static void
test_many_idle(void **state)
{
	struct rlimit		 rl;
	struct raw		**idle;
	struct http_client	*c;
	struct result		 res = { 0 };
	int			 i, n = 1000, waited;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 2200) {
		rl.rlim_cur = rl.rlim_max < 2200 ? rl.rlim_max : 2200;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < 2100)
		skip();
	start_server(0, 0, 0, 2000);
	idle = calloc(n, sizeof *idle);
	for (i = 0; i < n; i++) {
		idle[i] = raw_open();
		if (i % 100 == 99)
			pump(1);	/* keep the backlog short */
	}
	for (waited = 0; waited < 5000 &&
	    http_server_connections(srv) < (unsigned int)n; waited += 5)
		pump(5);
	assert_int_equal(http_server_connections(srv), n);

	c = client_unix(2000);
	http_client_send(c, "GET", "/hello", NULL, NULL, 0, NULL, client_done,
	    &res);
	client_wait(&res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "hello");
	http_client_free(c);
	for (i = 0; i < n; i++)
		raw_close(idle[i]);
	free(idle);
}

/* Expect: 100-continue gets its interim answer before the body is sent. */
static void
test_expect_continue(void **state)
{
	struct raw	*r;

	start_server(0, 0, 0, 0);
	r = raw_open();
	raw_puts(r, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
	    "Expect: 100-continue\r\n\r\n");
	raw_wait(r, 1, 1000);
	assert_string_equal(r->buf, "HTTP/1.1 100 Continue\r\n\r\n");
	raw_puts(r, "body");
	raw_wait(r, 2, 1000);
	assert_non_null(strstr(r->buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(r->buf, "\r\n\r\nbody"));
	raw_close(r);
}

/* Accept on a raw listening socket, pumping the loop meanwhile. */
static int
raw_accept(int lfd)
{
	int	 fd, waited;

	for (waited = 0; waited < 2000; waited += 5) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) != -1)
			return (fd);
		pump(5);
	}
	fail_msg("no connection");
	return (-1);
}

/* Read until a request's end of headers arrives, pumping the loop. */
static void
raw_read_request(int fd)
{
	char	 buf[4096];
	size_t	 len = 0;
	ssize_t	 n;
	int	 waited;

	for (waited = 0; waited < 2000; waited += 5) {
		n = recv(fd, buf + len, sizeof buf - 1 - len, MSG_DONTWAIT);
		if (n > 0) {
			len += n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				return;
		}
		pump(5);
	}
	fail_msg("no request");
}

/*
 * A server that closes a kept-alive connection just as the next request
 * arrives: the client retries once on a new connection, transparently.
 */
static void
test_client_retry(void **state)
{
	struct sockaddr_un	 sun;
	struct http_client	*c;
	struct result		 a = { 0 }, b = { 0 };
	const char		*ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	int			 lfd, fd;

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(listen(lfd, 5), 0);

	c = client_unix(2000);
	http_client_send(c, "GET", "/one", NULL, NULL, 0, NULL, client_done, &a);
	fd = raw_accept(lfd);
	raw_read_request(fd);
	assert_int_equal(send(fd, ok, strlen(ok), 0), (ssize_t)strlen(ok));
	client_wait(&a);
	assert_int_equal(a.status, 200);

	/* The second request reaches a server that closes without answering. */
	http_client_send(c, "GET", "/two", NULL, NULL, 0, NULL, client_done, &b);
	raw_read_request(fd);
	close(fd);
	fd = raw_accept(lfd);
	raw_read_request(fd);
	assert_int_equal(send(fd, ok, strlen(ok), 0), (ssize_t)strlen(ok));
	client_wait(&b);
	assert_int_equal(b.done, 1);
	assert_int_equal(b.status, 200);
	assert_string_equal(b.body, "ok");
	close(fd);
	close(lfd);
	http_client_free(c);
}

/* A response with neither length nor chunks ends at the close. */
static void
test_client_read_until_close(void **state)
{
	struct sockaddr_un	 sun;
	struct http_client	*c;
	struct result		 a = { 0 };
	const char		*resp = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close";
	int			 lfd, fd;

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(listen(lfd, 5), 0);

	c = client_unix(2000);
	http_client_send(c, "GET", "/", NULL, NULL, 0, NULL, client_done, &a);
	fd = raw_accept(lfd);
	raw_read_request(fd);
	assert_int_equal(send(fd, resp, strlen(resp), 0), (ssize_t)strlen(resp));
	pump(50);
	assert_int_equal(a.done, 0);
	close(fd);
	client_wait(&a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "until close");
	close(lfd);
	http_client_free(c);
}

/* Nobody listens: the error names the target. */
static void
test_client_connect_error(void **state)
{
	struct http_client	*c;
	struct result		 a = { 0 };

	c = client_unix(1000);
	http_client_send(c, "GET", "/", NULL, NULL, 0, NULL, client_done, &a);
	assert_int_equal(a.done, 0);	/* never from inside send */
	client_wait(&a);
	assert_int_equal(a.done, 1);
	assert_non_null(strstr(a.error, sock));
	http_client_free(c);
}

/* HTTP/2 client: many requests as streams of one h2c connection. */
static void
test_h2_client_streams(void **state)
{
	struct http_client_target	 t = { 0 };
	struct http2_client		*c;
	struct result			*res;
	const char			*hdrs[] = { "X-Test: yes", NULL };
	char				 body[3000];
	int				 i, n = 40;

	start_server(0, 0, 0, 0);
	t.unix_path = sock;
	c = http2_client_new(base, &t, 2000, 64 * 1024);
	res = calloc(n, sizeof *res);
	memset(body, 'b', sizeof body);
	for (i = 0; i < n; i++) {
		if (i % 2 == 0)
			http2_client_send(c, "GET", i % 4 == 0 ? "/hello" :
			    "/async", hdrs, NULL, 0, NULL, client_done, &res[i]);
		else
			http2_client_send(c, "POST", "/echo", NULL, body,
			    sizeof body, NULL, client_done, &res[i]);
	}
	assert_int_equal(res[0].done, 0);	/* never from inside send */
	for (i = 0; i < n; i++)
		client_wait(&res[i]);
	for (i = 0; i < n; i++) {
		assert_int_equal(res[i].done, 1);
		assert_int_equal(res[i].status, 200);
		if (i % 4 == 0)
			assert_string_equal(res[i].body, "hello");
		else if (i % 2 == 1) {
			assert_int_equal(strlen(res[i].body), sizeof body);
			assert_int_equal(res[i].body[0], 'b');
		}
	}
	/* All of them on one connection. */
	assert_int_equal(http_server_connections(srv), 1);
	free(res);
	http2_client_free(c);
}

/* HTTP/2 client: a body over the cap fails that stream only; connect errors. */
static void
test_h2_client_errors(void **state)
{
	struct http_client_target	 t = { 0 };
	struct http2_client		*c;
	struct result			 a = { 0 }, b = { 0 }, e = { 0 };
	char				 body[600];

	t.unix_path = sock;
	c = http2_client_new(base, &t, 1000, 512);
	http2_client_send(c, "GET", "/", NULL, NULL, 0, NULL, client_done, &e);
	client_wait(&e);
	assert_int_equal(e.done, 1);
	assert_non_null(strstr(e.error, sock));

	start_server(0, 0, 0, 0);
	memset(body, 'x', sizeof body);
	http2_client_send(c, "POST", "/echo", NULL, body, sizeof body, NULL,
	    client_done, &a);
	http2_client_send(c, "GET", "/hello", NULL, NULL, 0, NULL, client_done,
	    &b);
	client_wait(&a);
	client_wait(&b);
	assert_int_equal(a.done, 1);
	assert_string_equal(a.error, "response too large");
	assert_int_equal(b.done, 1);
	assert_int_equal(b.status, 200);
	assert_string_equal(b.body, "hello");
	http2_client_free(c);
}

/* A raw nghttp2 client: what DATA frames the server sends. */
struct h2raw {
	const char	*body;		/* request body to send */
	size_t		 len, off;
	size_t		 got;		/* response body bytes */
	size_t		 max_data;	/* largest DATA frame received */
	int		 frames;
	int		 closed;
	int		 mismatch;
};

static ssize_t
h2raw_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
    uint32_t *flags, nghttp2_data_source *src, void *arg)
{
	struct h2raw	*h = arg;
	size_t		 n = h->len - h->off;

	if (n > length)
		n = length;
	memcpy(buf, h->body + h->off, n);
	h->off += n;
	if (h->off == h->len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return ((ssize_t)n);
}

static int
h2raw_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
	struct h2raw	*h = arg;

	if (f->hd.type == NGHTTP2_DATA) {
		h->frames++;
		if (f->hd.length > h->max_data)
			h->max_data = f->hd.length;
	}
	return (0);
}

static int
h2raw_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
    size_t len, void *arg)
{
	struct h2raw	*h = arg;

	if (h->got + len > h->len || memcmp(h->body + h->got, data, len) != 0)
		h->mismatch = 1;
	h->got += len;
	return (0);
}

static int
h2raw_close(nghttp2_session *s, int32_t id, uint32_t error, void *arg)
{
	((struct h2raw *)arg)->closed = 1;
	return (0);
}

/*
 * HTTP/2 DATA frames as large as the peer allows: a 768 KiB echo comes back
 * in frames of HTTP2_DATA_MAX (nghttp2 alone would send 16 KiB ones), and
 * the server takes the upload in frames of that size too.
 */
static void
test_h2_large_frames(void **state)
{
	nghttp2_session_callbacks	*cb;
	nghttp2_session			*s;
	nghttp2_settings_entry		 iv[2];
	nghttp2_data_provider		 prd;
	nghttp2_nv			 nv[4];
	struct h2raw			 h = { 0 };
	struct raw			*r;
	const uint8_t			*out;
	char				*body, in[65536];
	ssize_t				 n;
	size_t				 i;
	int				 tries;

	start_server(0, 0, 0, 0);
	h.len = 768 * 1024;
	body = malloc(h.len);
	for (i = 0; i < h.len; i++)
		body[i] = (char)(i * 7 + i / 4096);
	h.body = body;
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2raw_frame);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    h2raw_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2raw_close);
	nghttp2_session_callbacks_set_data_source_read_length_callback(cb,
	    http2_data_length);
	assert_int_equal(nghttp2_session_client_new(&s, cb, &h), 0);
	nghttp2_session_callbacks_del(cb);
	iv[0].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	iv[0].value = 4 * 1024 * 1024;
	iv[1].settings_id = NGHTTP2_SETTINGS_MAX_FRAME_SIZE;
	iv[1].value = HTTP2_FRAME_MAX;
	nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 2);
	nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0,
	    16 * 1024 * 1024);
#define NV(k, v) { (uint8_t *)(uintptr_t)(k), (uint8_t *)(uintptr_t)(v), \
	sizeof(k) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }
	{
		nghttp2_nv	 req[4] = { NV(":method", "POST"),
		    NV(":scheme", "http"), NV(":authority", "x"),
		    NV(":path", "/echo") };
		memcpy(nv, req, sizeof nv);
	}
#undef NV
	memset(&prd, 0, sizeof prd);
	prd.read_callback = h2raw_body;
	assert_true(nghttp2_submit_request(s, NULL, nv, 4, &prd, NULL) > 0);
	r = raw_open();
	for (tries = 0; tries < 2000 && !h.closed; tries++) {
		while ((n = nghttp2_session_mem_send(s, &out)) > 0)
			raw_send(r, (const char *)out, (size_t)n);
		pump(2);
		while ((n = read(r->fd, in, sizeof in)) > 0)
			assert_int_equal(nghttp2_session_mem_recv(s,
			    (const uint8_t *)in, (size_t)n), n);
	}
	assert_true(h.closed);
	assert_int_equal(h.got, h.len);
	assert_false(h.mismatch);
	/* Frames of 256 KiB, not 48 of 16 KiB. */
	assert_int_equal(h.max_data, HTTP2_DATA_MAX);
	assert_true(h.frames <= 4);
	nghttp2_session_del(s);
	raw_close(r);
	free(body);
}

/* Header helpers and status texts. */
static void
test_helpers(void **state)
{
	assert_true(http_header_has_token("keep-alive, Upgrade", "upgrade"));
	assert_true(http_header_has_token("close", "close"));
	assert_false(http_header_has_token("closed", "close"));
	assert_false(http_header_has_token(NULL, "close"));
	assert_string_equal(http_status_text(404), "Not Found");
	assert_string_equal(http_status_text(207), "Multi-Status");
	assert_string_equal(http_status_text(799), "Unknown");
}

/* Equal strings, or both NULL. */
static void
assert_same(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* http_target_parse: the one copy of a target both clients keep. */
static void
test_target_parse(void **state)
{
	static const struct {
		struct http_client_target	 in;
		const char			*server_name, *authority;
		const char			*name;
	} cases[] = {
		/* A unix socket: Host: localhost, no TLS name. */
		{ { .unix_path = "/run/docker.sock" }, NULL, "localhost",
		  "/run/docker.sock" },
		/* IPv4: the host names the certificate and the authority. */
		{ { .host = "198.18.0.1", .port = "8443" }, "198.18.0.1",
		  "198.18.0.1:8443", "198.18.0.1:8443" },
		/* IPv6: brackets in the authority only. */
		{ { .host = "fd12:3456:789a::1", .port = "443" },
		  "fd12:3456:789a::1", "[fd12:3456:789a::1]:443",
		  "fd12:3456:789a::1:443" },
		/* SNI and Host: given win; a socket path wins over a host. */
		{ { .unix_path = "/run/x.sock", .host = "198.18.0.2",
		    .port = "80", .server_name = "acme.test",
		    .host_header = "www.acme.test" }, "acme.test",
		  "www.acme.test", "/run/x.sock" },
	};
	struct http_client_target	 t;
	struct http_target		 tg;
	size_t				 i;

	(void)state;
	/* Neither a socket nor host and port. */
	memset(&t, 0, sizeof t);
	assert_int_equal(http_target_parse(&tg, &t), -1);
	t.host = "127.0.0.1";
	assert_int_equal(http_target_parse(&tg, &t), -1);

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(http_target_parse(&tg, &cases[i].in), 0);
		assert_same(tg.unix_path, cases[i].in.unix_path);
		assert_same(tg.host, cases[i].in.unix_path != NULL ? NULL :
		    cases[i].in.host);
		assert_same(tg.port, cases[i].in.unix_path != NULL ? NULL :
		    cases[i].in.port);
		assert_same(tg.server_name, cases[i].server_name);
		assert_same(tg.authority, cases[i].authority);
		assert_same(tg.name, cases[i].name);
		http_target_clear(&tg);
		assert_null(tg.name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_target_parse),
		cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_request, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_413_content_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_413_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_431, setup, teardown),
		cmocka_unit_test_setup_teardown(test_400, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slowloris, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_connections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unix_socket_takeover, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_async_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_cleanup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stream_request, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stream_response, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_reconnect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_propfind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_http10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_continue, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_connect_error, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_client_read_until_close,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_h2_client_streams, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_h2_large_frames, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_h2_client_errors, setup,
		    teardown),
	};

	if (getenv("HTTP_TEST_DEBUG") != NULL)
		log_init(1, LOG_LEVEL_DEBUG, "test_http");
	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
