/* fuzz_http.c: arbitrary bytes as a client's request stream into one server
 * connection (over a socketpair), with buffered, streamed and async routes.
 * Built a second time with FUZZ_HTTP2 as fuzz_h2: the bytes then follow the
 * HTTP/2 client preface, so every input is frames for the nghttp2 session. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "http.h"
#include "http_private.h"

static struct event_base	*base;
static struct http_server	*srv;

/* Buffered: echo the body. */
static void
f_echo(struct http_request *req, void *arg)
{
	http_request_header(req, "content-type");
	http_request_query(req);
	http_reply_buffer(req, 200, "application/octet-stream",
	    http_request_body(req));
}

/* Streamed request: count, answer chunked at the end. */
static int
f_stream_body(struct http_request *req, const void *data, size_t len, void *arg)
{
	/* A body starting with '!' is refused halfway, as a handler may. */
	if (len > 0 && *(const char *)data == '!') {
		http_reply(req, 403, NULL, NULL, 0);
		return (-1);
	}
	return (0);
}

/* Streamed request complete. */
static void
f_stream_end(struct http_request *req, void *arg)
{
	http_reply_start(req, 200, "text/plain", -1);
	http_reply_chunk(req, "ok", 2);
	http_reply_end(req);
}

/* Streamed request start: nothing until the body. */
static void
f_stream_start(struct http_request *req, void *arg)
{
}

struct fuzz_async {
	struct http_request	*req;
	struct event		*ev;
};

/* Async: answer from a zero timer. */
static void
f_async_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct fuzz_async	*a = arg;

	http_request_set_cleanup(a->req, NULL, NULL);
	http_reply(a->req, 200, "text/plain", "later", 5);
	event_free(a->ev);
	free(a);
}

/* The connection went away first: the timer must not fire. */
static void
f_async_cleanup(struct http_request *req, void *arg)
{
	struct fuzz_async	*a = arg;

	event_free(a->ev);
	free(a);
}

/* Async handler. */
static void
f_async(struct http_request *req, void *arg)
{
	struct fuzz_async	*a;
	struct timeval		 tv = { 0, 0 };

	if ((a = calloc(1, sizeof *a)) == NULL)
		abort();
	a->req = req;
	a->ev = evtimer_new(base, f_async_fire, a);
	evtimer_add(a->ev, &tv);
	http_request_set_cleanup(req, f_async_cleanup, a);
}

static const struct http_route routes[] = {
	{ "POST", "/echo", 0, f_echo, NULL, NULL },
	{ "GET", "/echo", 0, f_echo, NULL, NULL },
	{ "PROPFIND", "/dav/", HTTP_ROUTE_PREFIX, f_echo, NULL, NULL },
	{ "PUT", "/stream", HTTP_ROUTE_STREAM, f_stream_start, f_stream_body,
	    f_stream_end },
	{ "GET", "/async", 0, f_async, NULL, NULL },
};

/* Make the server once. */
static void
fuzz_init(void)
{
	struct http_limits	 l = { 4096, 8192, 60000, 16, 0, 0, 0 };

	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	srv = http_server_new(base, "fuzz", &l, routes,
	    sizeof routes / sizeof routes[0], NULL, NULL);
}

/* Drain what the server answered. */
static void
fuzz_drain(int fd)
{
	char	 buf[16384];

	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 sv[2], i;
	size_t	 off = 0;
	ssize_t	 n;

	if (base == NULL)
		fuzz_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	http_server_adopt(srv, sv[0]);
#ifdef FUZZ_HTTP2
	{
		static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

		if (send(sv[1], preface, sizeof preface - 1, MSG_NOSIGNAL) !=
		    (ssize_t)(sizeof preface - 1))
			abort();
	}
#endif

	for (i = 0; i < 1000 && off < size; i++) {
		n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
		if (n > 0)
			off += n;
		else if (n == -1 && errno != EAGAIN)
			break;
		event_base_loop(base, EVLOOP_NONBLOCK);
		fuzz_drain(sv[1]);
	}
	for (i = 0; i < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		fuzz_drain(sv[1]);
	}
	close(sv[1]);
	for (i = 0; i < 1000 && http_server_connections(srv) > 0; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (http_server_connections(srv) > 0)
		abort();	/* a connection outlived its peer */
	return (0);
}
