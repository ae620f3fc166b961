/* dav.c: the "dav" server: WebDAV (RFC 4918 class 1 and 2) over the one HTTP
 * layer, on a unix socket, TLS listeners and an optional plaintext loopback
 * listener.  This file holds the listeners, request parsing (URL, Depth,
 * Destination) and the methods on resources: OPTIONS, GET/HEAD, PUT, PATCH,
 * DELETE, MKCOL, COPY and MOVE.  Properties are in dav_props.c, locks and the
 * If header in dav_lock.c, the encrypted store in dav_store.c. */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "ca.h"
#include "conf.h"
#include "dav.h"
#include "dav_private.h"
#include "dav_xml.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "util.h"
#include "xmalloc.h"

#define DAV_GET_CHUNK		(256 * 1024)	/* plaintext per refill */
#define DAV_GET_WHOLE		(1024 * 1024)	/* read before the headers */
#define DAV_DEFER_MAX		(1024 * 1024)	/* body read to answer after it */

struct dav_caps		 dav_caps;

static struct {
	struct event_base	*base;
	struct dav_store	*store;
	struct http_server	*http;
	SSL_CTX			*tls[2];	/* without, with client certs */
	/* PUTs whose bodies are in, committed together (dav_commit_cb). */
	TAILQ_HEAD(, dav_req)	 commits;
	struct event		*commit_ev;
	struct event		*sync_ev;	/* files committed unsynced */
	size_t			 unsynced;	/* their number, all volumes */
	TAILQ_HEAD(, dav_req)	 sync_waiters;	/* "now" requests, in order */
	char			 sync_from[128]; /* volume the next pass starts at */
} dav;

/*
 * "X-Netcrave-Sync: later" on a PUT of a new file: put in place and answered
 * without its fsync (a client that promises durability only on fsync, the
 * volumes' FUSE client, storing many small files).  Those files are synced
 * in a row, from DAV_SYNC_MS after the first or once DAV_SYNC_MAX wait, and
 * a request of the volume that carries "X-Netcrave-Sync: now" is answered
 * once those stored before it are synced.  One fsync after another of files
 * long written share the journal commits that one each, answered in turn,
 * would not.
 */
#define DAV_SYNC_MS		100
#define DAV_SYNC_MAX		128
/*
 * The syncs run on the event loop: one pass syncs at most DAV_SYNC_STEP
 * files, one at a time (its fsync, and its directory's when no file synced
 * earlier stands for it) going round the volumes, and stops once
 * DAV_SYNC_BUDGET_MS went by; the rest go on from a zero timeout, after the
 * loop has polled its sockets again.  A slow disk then delays other
 * requests by two fsyncs past the budget at worst, not by a whole batch
 * (remote mounts drop the connection when a PING waits 10 s).
 */
#define DAV_SYNC_STEP		16
#define DAV_SYNC_BUDGET_MS	20
/* Files waiting hold open fds and the loop no longer stalls on them: past
 * this many (all volumes) a PUT "later" is synced before its answer, as a
 * client storing faster than the disk syncs must be slowed down somehow. */
#define DAV_SYNC_BACKLOG	1024

static void	dav_shutdown(void);
static void	dav_count(const char *method, int status, uint64_t out);
static void	dav_count_bytes(int in, uint64_t n);
static void	dav_count_protocol(struct http_request *);
static void	dav_count_unsynced(uint64_t synced);
static void	dav_on_headers(struct http_request *, void *);
static int	dav_on_body(struct http_request *, const void *, size_t, void *);
static void	dav_on_end(struct http_request *, void *);
static void	dav_run(struct dav_req *);

static const struct http_route dav_routes[] = {
	{ NULL, "/", HTTP_ROUTE_PREFIX | HTTP_ROUTE_STREAM, dav_on_headers,
	  dav_on_body, dav_on_end },
};

/* The store, for the volume driver and tests in the same process. */
struct dav_store *
dav_server_store(void)
{
	return (dav.store);
}

/* Free a request's state. */
static void
dav_req_free(struct dav_req *dr)
{
	if (dr == NULL)
		return;
	if (dr->body != NULL)
		evbuffer_free(dr->body);
	if (dr->defer_body != NULL)
		evbuffer_free(dr->defer_body);
	if (dr->committing)
		TAILQ_REMOVE(&dav.commits, dr, commit_entry);
	if (dr->sync_waiting)
		TAILQ_REMOVE(&dav.sync_waiters, dr, sync_entry);
	dav_writer_abort(dr->writer);
	dav_file_close(dr->file);
	free(dr->cached);
	dav_target_clear(&dr->t);
	if (dr->has_if)
		dav_if_free(&dr->ifh);
	free(dr);
}

/* The connection went away before the reply was done. */
static void
dav_req_cleanup(struct http_request *req, void *arg)
{
	dav_req_free(arg);
}

/*
 * Reply from a buffer (drained) and forget the request.  A PUT or PATCH
 * refused at the end of its headers still has its body coming: cutting the
 * connection then makes TLS clients see a reset instead of the answer, so a
 * modest body is read and dropped first and the answer goes out at its end.
 */
static void
dav_reply_buffer(struct dav_req *dr, int status, const char *ctype,
    struct evbuffer *buf)
{
	const char	*cl;

	if (dr->in_headers && !dr->deferred &&
	    (cl = http_request_header(dr->req, "Content-Length")) != NULL &&
	    strtoull(cl, NULL, 10) > 0 &&
	    strtoull(cl, NULL, 10) <= DAV_DEFER_MAX) {
		dr->deferred = 1;
		dr->failed = 1;
		dr->defer_status = status;
		dr->defer_ctype = ctype;
		dr->defer_body = evbuffer_new();
		evbuffer_add_buffer(dr->defer_body, buf);
		return;
	}
	http_request_set_cleanup(dr->req, NULL, NULL);
	/* dav_on_headers looks here to know whether dr is gone. */
	http_request_set_data(dr->req, NULL);
	dav_count(dr->method, status, evbuffer_get_length(buf));
	http_reply_buffer(dr->req, status, ctype, buf);
	dav_req_free(dr);
}

/* Reply and forget the request. */
void
dav_finish(struct dav_req *dr, int status, const char *ctype, const void *body,
    size_t len)
{
	struct evbuffer	*b;

	/* The common case (a GET) goes out without a buffer in between. */
	if (!dr->in_headers && !dr->deferred) {
		http_request_set_cleanup(dr->req, NULL, NULL);
		dav_count(dr->method, status, len);
		http_reply(dr->req, status, ctype, body, len);
		dav_req_free(dr);
		return;
	}
	b = evbuffer_new();
	evbuffer_add(b, body, len);
	dav_reply_buffer(dr, status, ctype, b);
	evbuffer_free(b);
}

/* Reply with an XML body from a buffer. */
void
dav_finish_buffer(struct dav_req *dr, int status, struct evbuffer *buf)
{
	dav_reply_buffer(dr, status, "application/xml; charset=utf-8", buf);
	evbuffer_free(buf);
}

/* An error with its reason; a DAV:error body when a precondition is named. */
void
dav_error(struct dav_req *dr, int status, const char *precondition,
    const char *fmt, ...)
{
	struct evbuffer	*b;
	va_list		 ap;
	char		*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatal("%s: vasprintf", __func__);
	va_end(ap);
	log_debug("%s: %s %s: %d %s", __func__, dr->method,
	    http_request_path(dr->req), status, msg);
	b = evbuffer_new();
	if (precondition != NULL) {
		evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		    "<D:error xmlns:D=\"DAV:\"><D:%s/>"
		    "<D:responsedescription>", precondition);
		dav_xml_escape(b, msg);
		evbuffer_add_printf(b, "</D:responsedescription></D:error>\n");
		free(msg);
		dav_finish_buffer(dr, status, b);
		return;
	}
	evbuffer_add_printf(b, "%d %s: %s\n", status, http_status_text(status),
	    msg);
	free(msg);
	dav_reply_buffer(dr, status, "text/plain; charset=utf-8", b);
	evbuffer_free(b);
}

/* Errors the HTTP layer makes itself (413, 431, 408): text with the reason. */
static void
dav_layer_error(struct http_request *req, int status, const char *message,
    void *arg)
{
	char	*body;
	int	 n;

	n = xasprintf(&body, "%d %s: %s\n", status, http_status_text(status),
	    message);
	dav_count(http_request_method(req), status, n);
	http_reply(req, status, "text/plain; charset=utf-8", body, n);
	free(body);
}

/* Percent-encode one decoded path segment into out. */
static void
dav_href_segment(struct evbuffer *out, const char *s, size_t n)
{
	static const char	 keep[] = "-._~!$()*+,;=:@";
	size_t			 i;
	unsigned char		 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' && strchr(keep, c)))
			evbuffer_add(out, &s[i], 1);
		else
			evbuffer_add_printf(out, "%%%02X", c);
	}
}

/* The href of "vol/rel" ("" for the root); collections end in '/'. */
void
dav_href(struct evbuffer *out, const char *full, int is_dir)
{
	const char	*p = full;
	size_t		 n;

	evbuffer_add(out, "/", 1);
	while (*p != '\0') {
		n = strcspn(p, "/");
		dav_href_segment(out, p, n);
		p += n;
		if (*p == '/') {
			evbuffer_add(out, "/", 1);
			p++;
		}
	}
	if (is_dir && *full != '\0')
		evbuffer_add(out, "/", 1);
}

/* Start and end of a 207 body. */
void
dav_multistatus_begin(struct evbuffer *b)
{
	evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<D:multistatus xmlns:D=\"DAV:\">\n");
}

void
dav_multistatus_end(struct evbuffer *b)
{
	evbuffer_add_printf(b, "</D:multistatus>\n");
}

/* Value of one hex digit, -1 if none. */
static int
dav_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Forget a parsed target. */
void
dav_target_clear(struct dav_target *t)
{
	free(t->volname);
	free(t->rel);
	free(t->full);
	memset(t, 0, sizeof *t);
}

/* Fill vol/rel/full from a decoded volume name and relative path. */
static void
dav_target_set(struct dav_target *t, char *volname, char *rel)
{
	t->volname = volname;
	t->rel = rel;
	t->vol = dav_volume_find(dav.store, volname);
	if (*rel != '\0')
		xasprintf(&t->full, "%s/%s", volname, rel);
	else
		t->full = xstrdup(volname);
}

/*
 * A raw URL path into a target.  Each segment is percent-decoded on its own,
 * so an encoded slash cannot join or split segments; NUL, '#', dot segments,
 * empty segments, the reserved name and overlong names are refused.
 */
int
dav_target_parse(const char *raw, struct dav_target *t, const char **why)
{
	const char	*p, *seg;
	char		*full, *volname, *rel;
	size_t		 n, i, o, volend = 0;
	int		 a, b;

	memset(t, 0, sizeof *t);
	if (*raw != '/') {
		*why = "path must start with /";
		return (-1);
	}
	if (strchr(raw, '#') != NULL) {
		*why = "fragment in the request target";
		return (-1);
	}
	if (strlen(raw) > 3 * DAV_PATH_MAX) {
		*why = "path too long";
		return (-1);
	}
	if (strcmp(raw, "/") == 0) {
		t->is_root = 1;
		t->slash = 1;
		t->full = xstrdup("");
		return (0);
	}
	/*
	 * Decoded straight into "vol/rel": one buffer per request, since this
	 * runs for every request (the decoded text is never longer).
	 */
	full = xmalloc(strlen(raw) + 1);
	o = 0;
	for (p = raw + 1; *p != '\0'; p = seg + n + (seg[n] == '/')) {
		seg = p;
		n = strcspn(seg, "/");
		if (n == 0) {
			*why = "empty path segment";
			goto fail;
		}
		if (o > 0)
			full[o++] = '/';
		for (i = 0; i < n; i++) {
			if (seg[i] != '%') {
				full[o++] = seg[i];
				continue;
			}
			if (i + 2 >= n) {
				*why = "bad percent-encoding";
				goto fail;
			}
			a = dav_hex(seg[i + 1]);
			b = dav_hex(seg[i + 2]);
			if (a == -1 || b == -1) {
				*why = "bad percent-encoding";
				goto fail;
			}
			full[o] = (char)(a * 16 + b);
			if (full[o] == '\0' || full[o] == '/') {
				*why = "encoded NUL or slash in a segment";
				goto fail;
			}
			o++;
			i += 2;
		}
		if (volend == 0)
			volend = o;
		if (seg[n] == '/' && seg[n + 1] == '\0')
			t->slash = 1;
	}
	full[o] = '\0';
	volname = xstrndup(full, volend);
	if (!dav_volume_name_ok(volname)) {
		free(volname);
		*why = "invalid volume name";
		goto fail;
	}
	rel = xstrdup(full[volend] == '/' ? full + volend + 1 : "");
	if (!dav_store_path_ok(rel, why)) {
		free(volname);
		free(rel);
		goto fail;
	}
	t->volname = volname;
	t->rel = rel;
	t->full = full;
	t->vol = dav_volume_find(dav.store, volname);
	return (0);
fail:
	free(full);
	t->slash = 0;
	return (-1);
}

/* "vol/rel" into a target (from lock roots and tags). */
int
dav_target_from_full(const char *full, struct dav_target *t)
{
	const char	*slash;

	memset(t, 0, sizeof *t);
	if (*full == '\0') {
		t->is_root = 1;
		t->full = xstrdup("");
		return (0);
	}
	if ((slash = strchr(full, '/')) == NULL)
		dav_target_set(t, xstrdup(full), xstrdup(""));
	else
		dav_target_set(t, xstrndup(full, slash - full),
		    xstrdup(slash + 1));
	return (0);
}

/* Stat a target into t->st; the root and volume roots are collections. */
int
dav_target_stat(struct dav_target *t, char *err, size_t errlen)
{
	memset(&t->st, 0, sizeof t->st);
	if (t->is_root) {
		if (dav_store_stat(dav.store, &t->st) == -1) {
			snprintf(err, errlen, "store directory: %s",
			    strerror(errno));
			return (-1);
		}
		return (0);
	}
	if (t->vol == NULL)
		return (0);
	return (dav_stat(t->vol, t->rel, &t->st, err, errlen));
}

/* Current etag of a resource, for If-header entity tags. */
int
dav_full_etag(const char *full, char *etag, size_t len)
{
	struct dav_target	 t;
	char			 err[256];
	int			 rv = 0;

	dav_target_from_full(full, &t);
	if (dav_target_stat(&t, err, sizeof err) == 0 && t.st.exists) {
		snprintf(etag, len, "%s", t.st.etag);
		rv = 1;
	}
	dav_target_clear(&t);
	return (rv);
}

/* The Depth header: 0, 1, -1 for infinity, -2 when malformed. */
int
dav_depth(struct dav_req *dr, int dflt)
{
	const char	*d = http_request_header(dr->req, "Depth");

	if (d == NULL)
		return (dflt);
	if (strcmp(d, "0") == 0)
		return (0);
	if (strcmp(d, "1") == 0)
		return (1);
	if (strcasecmp(d, "infinity") == 0)
		return (-1);
	return (-2);
}

/* An HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT") into time_t; -1 if not one. */
static time_t
dav_parse_date(const char *s)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof tm);
	if ((end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm)) == NULL ||
	    *end != '\0')
		return (-1);
	return (timegm(&tm));
}

/* Does an If-Match / If-None-Match list hold etag ("*" matches any)? */
static int
dav_etag_listed(const char *list, const char *etag)
{
	const char	*p = list;
	size_t		 n, elen = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return (1);
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && memcmp(p, etag, n) == 0)
			return (1);
		p += n;
		while (*p != '\0' && *p != ',')
			p++;
	}
	return (0);
}

/*
 * RFC 9110 preconditions: 0 to go on, else the status answered (412, 304).
 * reading: GET/HEAD (304 instead of 412 for If-None-Match/-Modified-Since).
 */
static int
dav_http_preconditions(struct dav_req *dr, int reading)
{
	const struct dav_stat	*st = &dr->t.st;
	const char		*h;
	time_t			 t;

	if ((h = http_request_header(dr->req, "If-Match")) != NULL &&
	    (!st->exists || !dav_etag_listed(h, st->etag))) {
		dav_error(dr, 412, NULL, "If-Match does not match");
		return (412);
	}
	if ((h = http_request_header(dr->req, "If-Unmodified-Since")) != NULL &&
	    st->exists && (t = dav_parse_date(h)) != -1 &&
	    st->mtime.tv_sec > t) {
		dav_error(dr, 412, NULL, "modified since %s", h);
		return (412);
	}
	if ((h = http_request_header(dr->req, "If-None-Match")) != NULL &&
	    st->exists && dav_etag_listed(h, st->etag)) {
		if (reading) {
			http_reply_header(dr->req, "ETag", st->etag);
			dav_finish(dr, 304, NULL, NULL, 0);
			return (304);
		}
		dav_error(dr, 412, NULL, "If-None-Match matches");
		return (412);
	}
	if (reading && st->exists && !st->is_dir &&
	    http_request_header(dr->req, "If-None-Match") == NULL &&
	    (h = http_request_header(dr->req, "If-Modified-Since")) != NULL &&
	    (t = dav_parse_date(h)) != -1 && st->mtime.tv_sec <= t) {
		http_reply_header(dr->req, "ETag", st->etag);
		dav_finish(dr, 304, NULL, NULL, 0);
		return (304);
	}
	return (0);
}

/* Validators of a file on a reply. */
static void
dav_reply_validators(struct dav_req *dr)
{
	/* Files written together share a second: its text is kept. */
	static char	 date[64];
	static time_t	 made = -1;

	http_reply_header(dr->req, "ETag", dr->t.st.etag);
	if (dr->t.st.mtime.tv_sec != made) {
		http_format_date(dr->t.st.mtime.tv_sec, date, sizeof date);
		made = dr->t.st.mtime.tv_sec;
	}
	http_reply_header(dr->req, "Last-Modified", date);
}

/* OPTIONS: what this server speaks. */
static void
dav_options(struct dav_req *dr)
{
	http_reply_header(dr->req, "DAV", "1, 2");
	http_reply_header(dr->req, "MS-Author-Via", "DAV");
	http_reply_header(dr->req, "Allow", "OPTIONS, GET, HEAD, PUT, PATCH, "
	    "DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK");
	http_reply_header(dr->req, "Accept-Patch",
	    "application/x-sabredav-partialupdate");
	dav_finish(dr, 200, NULL, NULL, 0);
}

/* A simple listing for GET on a collection. */
static void
dav_get_collection(struct dav_req *dr)
{
	struct evbuffer		*b;
	struct dav_volume	*vol;
	char			**names, err[256], *full;
	size_t			 i;

	b = evbuffer_new();
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html><body><ul>\n");
	if (dr->t.is_root) {
		for (vol = dav_volume_next(dav.store, NULL); vol != NULL;
		    vol = dav_volume_next(dav.store, vol)) {
			evbuffer_add_printf(b, "<li><a href=\"");
			dav_href(b, dav_volume_name(vol), 1);
			evbuffer_add_printf(b, "\">");
			dav_xml_escape(b, dav_volume_name(vol));
			evbuffer_add_printf(b, "/</a></li>\n");
		}
	} else {
		if ((names = dav_list(dr->t.vol, dr->t.rel, err,
		    sizeof err)) == NULL) {
			evbuffer_free(b);
			dav_error(dr, 500, NULL, "%s", err);
			return;
		}
		for (i = 0; names[i] != NULL; i++) {
			xasprintf(&full, "%s/%s", dr->t.full, names[i]);
			evbuffer_add_printf(b, "<li><a href=\"");
			dav_href(b, full, 0);
			evbuffer_add_printf(b, "\">");
			dav_xml_escape(b, names[i]);
			evbuffer_add_printf(b, "</a></li>\n");
			free(full);
		}
		util_strv_free(names);
	}
	evbuffer_add_printf(b, "</ul></body></html>\n");
	dav_reply_buffer(dr, 200, "text/html; charset=utf-8", b);
	evbuffer_free(b);
}

/*
 * A single "bytes=" range against size: 1 with [*start, *end) set, 0 to
 * serve the whole file (no header, several ranges, or unparsable), -1 when
 * unsatisfiable.
 */
static int
dav_range(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
	char		*e;
	uint64_t	 a, b;

	if (h == NULL || strncasecmp(h, "bytes=", 6) != 0 ||
	    strchr(h, ',') != NULL)
		return (0);
	h += 6;
	while (*h == ' ')
		h++;
	if (*h == '-') {
		b = strtoull(h + 1, &e, 10);
		if (e == h + 1 || *e != '\0')
			return (0);
		if (b == 0)
			return (-1);
		*start = b >= size ? 0 : size - b;
		*end = size;
		return (1);
	}
	a = strtoull(h, &e, 10);
	if (e == h || *e != '-')
		return (0);
	h = e + 1;
	if (*h == '\0')
		b = size - 1;
	else {
		b = strtoull(h, &e, 10);
		if (*e != '\0' || b < a)
			return (0);
	}
	if (a >= size)
		return (-1);
	if (b >= size)
		b = size - 1;
	*start = a;
	*end = b + 1;
	return (1);
}

/* Send the next piece of a GET; the last ends the reply. */
static void
dav_get_more(struct http_request *req, void *arg)
{
	struct dav_req	*dr = arg;
	unsigned char	*buf;
	char		 err[256];
	size_t		 want;
	ssize_t		 n;

	while (dr->offset < dr->end) {
		want = dr->end - dr->offset;
		if (want > DAV_GET_CHUNK)
			want = DAV_GET_CHUNK;
		buf = xmalloc(want);
		n = dav_file_read(dr->file, buf, want, dr->offset, err,
		    sizeof err);
		if (n <= 0) {
			free(buf);
			/* Headers are gone: the only honest signal left. */
			log_warnx("dav: GET %s: %s", dr->t.full,
			    n == 0 ? "file shorter than its size" : err);
			http_request_set_cleanup(dr->req, NULL, NULL);
			http_reply_abort(dr->req);
			dav_req_free(dr);
			return;
		}
		dav_count_bytes(0, n);
		http_reply_chunk_free(dr->req, buf, n);
		dr->offset += n;
		/* Wait for the output to drain before reading more. */
		if (dr->offset < dr->end && http_reply_pending(dr->req) >=
		    DAV_GET_CHUNK)
			return;
	}
	http_request_set_cleanup(dr->req, NULL, NULL);
	http_reply_end(dr->req);
	dav_req_free(dr);
}

/* GET and HEAD. */
static void
dav_get(struct dav_req *dr)
{
	unsigned char	*buf;
	const char	*range;
	uint64_t	 size, start = 0, end;
	char		 err[256], cr[128];
	ssize_t		 n;
	int		 r, status = 200;

	if (!dr->t.st.exists) {
		dav_error(dr, 404, NULL, "no such resource");
		return;
	}
	if (dav_http_preconditions(dr, 1) != 0)
		return;
	if (dr->t.st.is_dir) {
		dav_get_collection(dr);
		return;
	}
	if (dr->cached == NULL && dr->file == NULL && (dr->file =
	    dav_file_open(dr->t.vol, dr->t.rel, 0, err, sizeof err)) == NULL) {
		dav_error(dr, 500, NULL, "%s", err);
		return;
	}
	size = end = dr->cached != NULL ? dr->cachedlen :
	    dav_file_size(dr->file);
	range = http_request_header(dr->req, "Range");
	if (range != NULL && (http_request_header(dr->req, "If-Range") == NULL ||
	    strcmp(http_request_header(dr->req, "If-Range"),
	    dr->t.st.etag) == 0)) {
		r = dav_range(range, size, &start, &end);
		if (r == -1) {
			snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
			http_reply_header(dr->req, "Content-Range", cr);
			dav_error(dr, 416, NULL, "range not satisfiable");
			return;
		}
		if (r == 1) {
			status = 206;
			snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64
			    "/%" PRIu64, start, end - 1, size);
			http_reply_header(dr->req, "Content-Range", cr);
		}
	}
	dav_reply_validators(dr);
	http_reply_header(dr->req, "Accept-Ranges", "bytes");
	if (strcmp(dr->method, "HEAD") == 0) {
		http_request_set_cleanup(dr->req, NULL, NULL);
		dav_count(dr->method, status, 0);
		http_reply_start(dr->req, status, "application/octet-stream",
		    end - start);
		http_reply_end(dr->req);
		dav_req_free(dr);
		return;
	}
	/* Small enough: read it all first, so damage is a 5xx, not a cut. */
	if (dr->cached != NULL) {
		dav_finish(dr, status, "application/octet-stream",
		    dr->cached + start, end - start);
		return;
	}
	if (end - start <= DAV_GET_WHOLE) {
		buf = xmalloc(end - start + 1);
		n = dav_file_read(dr->file, buf, end - start, start, err,
		    sizeof err);
		if (n != (ssize_t)(end - start)) {
			free(buf);
			dav_error(dr, 500, NULL, "%s", n == -1 ? err :
			    "file shorter than its size");
			return;
		}
		if (start == 0 && end == size)
			dav_cache_put(dr->file, dr->t.rel, &dr->t.st, buf, n);
		dav_finish(dr, status, "application/octet-stream", buf, n);
		free(buf);
		return;
	}
	dr->offset = start;
	dr->end = end;
	dav_count(dr->method, status, 0);	/* bytes as they go */
	http_reply_start(dr->req, status, "application/octet-stream",
	    end - start);
	http_reply_on_drain(dr->req, dav_get_more, dr, DAV_GET_CHUNK / 2);
	dav_get_more(dr->req, dr);
}

/* Status and reason of a store errno for a method's target. */
int
dav_errno_status(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return (409);
	case EEXIST:
		return (405);
	case ELOOP:
	case EPERM:
	case EACCES:
		return (403);
	case ENOSPC:
	case EDQUOT:
		return (507);
	}
	return (500);
}

/* Is the parent collection of a volume member there? 0 or answered. */
static int
dav_parent_check(struct dav_req *dr)
{
	struct dav_stat	 st;
	const char	*slash;
	char		*parent, err[256];

	if ((slash = strrchr(dr->t.rel, '/')) == NULL)
		return (0);	/* the volume root is always there */
	parent = xstrndup(dr->t.rel, slash - dr->t.rel);
	if (dav_stat(dr->t.vol, parent, &st, err, sizeof err) == -1) {
		free(parent);
		dav_error(dr, dav_errno_status(errno) == 500 ? 500 : 409, NULL,
		    "%s", err);
		return (-1);
	}
	free(parent);
	if (!st.exists || !st.is_dir) {
		dav_error(dr, 409, NULL, "parent collection does not exist");
		return (-1);
	}
	return (0);
}

/* PUT: checks at the end of headers, then the body streams into a writer. */
static void
dav_put_start(struct dav_req *dr)
{
	char	 err[256];

	if (dr->t.is_root || dr->t.vol == NULL || *dr->t.rel == '\0') {
		dav_error(dr, dr->t.is_root || dr->t.vol != NULL ? 405 : 409,
		    NULL, dr->t.vol == NULL && !dr->t.is_root ?
		    "no such volume" : "cannot PUT a collection");
		return;
	}
	if (http_request_header(dr->req, "Content-Range") != NULL) {
		dav_error(dr, 400, NULL, "Content-Range on PUT: use PATCH with "
		    "X-Update-Range");
		return;
	}
	if (dr->t.st.exists && dr->t.st.is_dir) {
		dav_error(dr, 405, NULL, "a collection is there");
		return;
	}
	if (dav_parent_check(dr) != 0)
		return;
	if (dav_lock_check(dr, dr->t.full, 0, !dr->t.st.exists) != 0 ||
	    dav_if_check(dr) != 0 || dav_http_preconditions(dr, 0) != 0)
		return;
	if ((dr->writer = dav_writer_new(dr->t.vol, err, sizeof err)) == NULL) {
		dav_error(dr, 500, NULL, "%s", err);
		return;
	}
	dr->created = !dr->t.st.exists;
}

/* Does the request carry X-Netcrave-Sync with this value? */
static int
dav_sync_header(struct dav_req *dr, const char *value)
{
	const char	*h = http_request_header(dr->req, "X-Netcrave-Sync");

	return (h != NULL && strcasecmp(h, value) == 0);
}

/*
 * PUT body done: the file is written out and the PUT queued for the group
 * commit, which runs once the loop has handled every other event that was
 * ready with it.  Each PUT still gets its own fsync before its answer, but
 * the PUTs that end together (many clients, or one client with requests in
 * flight on several connections) pay for one journal commit, not one each.
 */
static void
dav_put_end(struct dav_req *dr)
{
	char	 err[256];

	/* A file synced later is written back with the others of its batch. */
	if (dav_writer_end(dr->writer, !dav_sync_header(dr, "later"), err,
	    sizeof err) == -1) {
		dav_error(dr, dav_errno_status(errno) == 507 ? 507 : 500, NULL,
		    "%s", err);
		return;
	}
	if (TAILQ_EMPTY(&dav.commits))
		event_active(dav.commit_ev, EV_TIMEOUT, 0);
	TAILQ_INSERT_TAIL(&dav.commits, dr, commit_entry);
	dr->committing = 1;
}

/* dav_volume_sync, counted. */
static int
dav_sync_volume(struct dav_volume *vol, int report, char *err, size_t errlen)
{
	size_t	 n = dav_volume_unsynced(vol);
	int	 rv;

	rv = dav_volume_sync(vol, report, err, errlen);
	dav.unsynced -= n;
	dav_count_unsynced(n);
	return (rv);
}

/* Go on with the syncs at the next loop pass, after the sockets. */
static void
dav_sync_soon(void)
{
	struct timeval	 zero = { 0, 0 };

	evtimer_add(dav.sync_ev, &zero);
}

/* Whether a "now" request of vol waits. */
static int
dav_sync_waiting(struct dav_volume *vol)
{
	struct dav_req	*dr;

	TAILQ_FOREACH(dr, &dav.sync_waiters, sync_entry)
		if (dr->t.vol == vol)
			return (1);
	return (0);
}

/* A "now" request whose files are synced: its method, or the failure of
 * one of those syncs, or 404 for a volume removed meanwhile. */
static void
dav_synced_run(struct dav_req *dr)
{
	char	 err[256];

	if (dr->t.vol == NULL)
		dav_error(dr, 404, NULL, "the volume is being removed");
	else if (dav_volume_sync_error(dr->t.vol, err, sizeof err) == -1)
		dav_error(dr, dav_errno_status(errno) == 507 ? 507 : 500, NULL,
		    "%s", err);
	else
		dav_run(dr);
}

/*
 * Answer the "now" requests whose files are synced, first come first; a
 * request whose volume was removed meanwhile gets 404.  A reply may free
 * other requests (an HTTP/2 connection closing), so the list is walked
 * again from its head after each.
 */
static void
dav_sync_wake(void)
{
	struct dav_req	*dr;

again:
	TAILQ_FOREACH(dr, &dav.sync_waiters, sync_entry) {
		if (dr->t.vol != NULL &&
		    dav_volume_synced(dr->t.vol) < dr->sync_mark)
			continue;
		TAILQ_REMOVE(&dav.sync_waiters, dr, sync_entry);
		dr->sync_waiting = 0;
		dav_synced_run(dr);
		goto again;
	}
}

/*
 * The files committed later: sync some, oldest first, within one pass's
 * share (see DAV_SYNC_STEP); answer the requests waiting for them; go on
 * at the next pass while any are left.
 */
static void
dav_sync_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dav_volume	*vol;
	long long		 start = util_monotonic_ms();
	size_t			 done = 0, nvol = 0, idle = 0;

	for (vol = NULL; (vol = dav_volume_next(dav.store, vol)) != NULL;)
		nvol++;
	/* Round robin: a pass goes on from the volume the last one stopped
	 * at, so that busy volumes early in name order starve none. */
	if ((vol = dav_volume_find(dav.store, dav.sync_from)) == NULL)
		vol = dav_volume_next(dav.store, NULL);
	while (vol != NULL && idle < nvol && done < DAV_SYNC_STEP &&
	    util_monotonic_ms() - start < DAV_SYNC_BUDGET_MS) {
		if (dav_volume_unsynced(vol) > 0) {
			done += dav_volume_sync_some(vol, 1);
			idle = 0;
		} else
			idle++;
		if ((vol = dav_volume_next(dav.store, vol)) == NULL)
			vol = dav_volume_next(dav.store, NULL);
	}
	if (vol != NULL)
		snprintf(dav.sync_from, sizeof dav.sync_from, "%s",
		    dav_volume_name(vol));
	dav.unsynced -= done;
	dav_count_unsynced(done);
	dav_sync_wake();
	for (vol = NULL; (vol = dav_volume_next(dav.store, vol)) != NULL;)
		if (dav_volume_unsynced(vol) > 0) {
			dav_sync_soon();
			break;
		}
}

/* Before a volume is removed: its "now" requests are answered 404 (its
 * files were synced by the removal's caller). */
static void
dav_sync_forget(struct dav_volume *vol)
{
	struct dav_req	*dr;

	TAILQ_FOREACH(dr, &dav.sync_waiters, sync_entry)
		if (dr->t.vol == vol) {
			dr->t.vol = NULL;
			dav_sync_soon();
		}
}

/* Put the file in place and answer. */
static void
dav_put_commit(struct dav_req *dr)
{
	struct dav_writer	*w = dr->writer;
	struct timeval		 tv = { 0, DAV_SYNC_MS * 1000 };
	char			 err[256];
	size_t			 n;
	int			 later, rv;

	dr->writer = NULL;
	later = dav_sync_header(dr, "later") && dav.unsynced < DAV_SYNC_BACKLOG;
	if (later) {
		n = dav_volume_unsynced(dr->t.vol);
		rv = dav_writer_commit_later(w, dr->t.rel, err, sizeof err);
		/* A file replaced was synced all the same. */
		later = dav_volume_unsynced(dr->t.vol) > n;
	} else
		rv = dav_writer_commit(w, dr->t.rel, err, sizeof err);
	if (later) {
		dav.unsynced++;
		dav_count_unsynced(0);
		if (dav_volume_unsynced(dr->t.vol) >= DAV_SYNC_MAX)
			dav_sync_soon();
		else if (!evtimer_pending(dav.sync_ev, NULL))
			evtimer_add(dav.sync_ev, &tv);
	}
	if (rv == -1) {
		dav_error(dr, dav_errno_status(errno) == 405 ? 409 :
		    dav_errno_status(errno), NULL, "%s", err);
		return;
	}
	if (dav_target_stat(&dr->t, err, sizeof err) == 0 && dr->t.st.exists)
		dav_reply_validators(dr);
	dav_finish(dr, dr->created ? 201 : 204, NULL, NULL, 0);
}

/*
 * Metrics: requests by method and status, body bytes in and out.  Methods
 * outside the known set count as "other", so the label set stays bounded
 * whatever clients send; a series is made on its first use.
 */
static const char *const dav_methods[] = {
	"OPTIONS", "GET", "HEAD", "PUT", "PATCH", "DELETE", "MKCOL", "COPY",
	"MOVE", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "other"
};
#define DAV_NMETHODS	(sizeof dav_methods / sizeof dav_methods[0])

static struct {
	struct metric	*req[DAV_NMETHODS][500];	/* status 100..599 */
	struct metric	*bytes[2];			/* out, in */
	struct metric	*unsynced;
	struct metric	*synced;
} dav_m;

static void
dav_count_bytes(int in, uint64_t n)
{
	if (dav_m.bytes[in] == NULL)
		dav_m.bytes[in] = metrics_counter("netcrave_dav_bytes_total",
		    "WebDAV request and response body bytes.", in ?
		    "direction=\"in\"" : "direction=\"out\"");
	metrics_add(dav_m.bytes[in], n);
}

/* Files committed later: how many wait for their fsync, how many had it. */
static void
dav_count_unsynced(uint64_t synced)
{
	if (dav_m.unsynced == NULL) {
		dav_m.unsynced = metrics_gauge("netcrave_dav_unsynced_files",
		    "Files stored with X-Netcrave-Sync: later, not yet synced.",
		    NULL);
		dav_m.synced = metrics_counter(
		    "netcrave_dav_later_synced_files_total",
		    "Files stored with X-Netcrave-Sync: later, synced since.",
		    NULL);
	}
	metrics_set(dav_m.unsynced, (double)dav.unsynced);
	metrics_add(dav_m.synced, synced);
}

static void
dav_count(const char *method, int status, uint64_t out)
{
	char	 labels[64];
	size_t	 i;

	for (i = 0; i < DAV_NMETHODS - 1; i++)
		if (method != NULL && strcmp(method, dav_methods[i]) == 0)
			break;
	if (status >= 100 && status <= 599) {
		if (dav_m.req[i][status - 100] == NULL) {
			snprintf(labels, sizeof labels,
			    "method=\"%s\",code=\"%d\"", dav_methods[i], status);
			dav_m.req[i][status - 100] = metrics_counter(
			    "netcrave_dav_requests_total",
			    "WebDAV requests by method and status.", labels);
		}
		metrics_add(dav_m.req[i][status - 100], 1);
	}
	if (out > 0)
		dav_count_bytes(0, out);
}

/*
 * Requests by protocol: shows which transport the volumes' FUSE clients (and
 * davfs2, curl) really speak.
 */
static void
dav_count_protocol(struct http_request *req)
{
	static struct metric	*m[3];
	static const char *const labels[3] = {
		"protocol=\"http/1.1\"", "protocol=\"h2\"", "protocol=\"h2c\""
	};
	const char		*p = http_request_alpn(req);
	int			 i;

	i = p == NULL || strcmp(p, "http/1.1") == 0 ? 0 :
	    strcmp(p, "h2") == 0 ? 1 : 2;
	if (m[i] == NULL)
		m[i] = metrics_counter("netcrave_dav_requests_by_protocol_total",
		    "WebDAV requests by HTTP protocol.", labels[i]);
	metrics_add(m[i], 1);
}

/* The group commit: every PUT queued since the last one. */
static void
dav_commit_cb(evutil_socket_t fd, short events, void *arg)
{
	struct dav_req	*dr;

	while ((dr = TAILQ_FIRST(&dav.commits)) != NULL) {
		TAILQ_REMOVE(&dav.commits, dr, commit_entry);
		dr->committing = 0;
		dav_put_commit(dr);
	}
}

/*
 * PATCH with X-Update-Range (SabreDAV's convention): "bytes=START-END",
 * "bytes=START-" (from START on), "bytes=-N" (the last N bytes) or
 * "append".  The body is written at that offset as it arrives.
 */
static void
dav_patch_start(struct dav_req *dr)
{
	const char	*h, *ct;
	char		*e, err[256];
	uint64_t	 a, b, size, clen = 0;
	int		 has_end = 0;

	if (!dr->t.st.exists) {
		dav_error(dr, 404, NULL, "PATCH needs an existing file");
		return;
	}
	if (dr->t.st.is_dir) {
		dav_error(dr, 405, NULL, "cannot PATCH a collection");
		return;
	}
	ct = http_request_header(dr->req, "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/x-sabredav-partialupdate",
	    36) != 0) {
		dav_error(dr, 415, NULL, "PATCH takes Content-Type "
		    "application/x-sabredav-partialupdate");
		return;
	}
	if ((h = http_request_header(dr->req, "X-Update-Range")) == NULL) {
		dav_error(dr, 400, NULL, "PATCH needs X-Update-Range");
		return;
	}
	if (dav_lock_check(dr, dr->t.full, 0, 0) != 0 || dav_if_check(dr) != 0 ||
	    dav_http_preconditions(dr, 0) != 0)
		return;
	if ((dr->file = dav_file_open(dr->t.vol, dr->t.rel, 1, err,
	    sizeof err)) == NULL) {
		dav_error(dr, 500, NULL, "%s", err);
		return;
	}
	size = dav_file_size(dr->file);
	if (http_request_header(dr->req, "Content-Length") != NULL)
		clen = strtoull(http_request_header(dr->req, "Content-Length"),
		    NULL, 10);
	if (strcasecmp(h, "append") == 0) {
		dr->offset = size;
		return;
	}
	if (strncasecmp(h, "bytes=", 6) != 0)
		goto bad;
	h += 6;
	if (*h == '-') {
		b = strtoull(h + 1, &e, 10);
		if (e == h + 1 || *e != '\0' || b > size)
			goto bad;
		dr->offset = size - b;
		return;
	}
	a = strtoull(h, &e, 10);
	if (e == h || *e != '-')
		goto bad;
	if (e[1] != '\0') {
		b = strtoull(e + 1, &e, 10);
		if (*e != '\0' || b < a)
			goto bad;
		has_end = 1;
		if (clen != b - a + 1) {
			dav_error(dr, 416, NULL, "X-Update-Range covers %" PRIu64
			    " bytes, the body has %" PRIu64, b - a + 1, clen);
			return;
		}
	}
	(void)has_end;
	dr->offset = a;
	return;
bad:
	dav_error(dr, 400, NULL, "malformed X-Update-Range");
}

/* PATCH body done. */
static void
dav_patch_end(struct dav_req *dr)
{
	char	 err[256];

	if (dav_file_sync(dr->file, err, sizeof err) == -1) {
		dav_error(dr, 500, NULL, "%s", err);
		return;
	}
	if (dav_target_stat(&dr->t, err, sizeof err) == 0 && dr->t.st.exists)
		dav_reply_validators(dr);
	dav_finish(dr, 204, NULL, NULL, 0);
}

/* MKCOL: a collection in a volume, or a new volume at the root. */
static void
dav_mkcol_method(struct dav_req *dr)
{
	char	 err[256];

	if (dr->body != NULL && evbuffer_get_length(dr->body) > 0) {
		dav_error(dr, 415, NULL, "MKCOL with a body is not supported");
		return;
	}
	if (dr->t.is_root) {
		dav_error(dr, 405, NULL, "the root exists");
		return;
	}
	if (dr->t.st.exists) {
		dav_error(dr, 405, NULL, "already exists");
		return;
	}
	if (*dr->t.rel == '\0') {
		if (dav_volume_create(dav.store, dr->t.volname, err,
		    sizeof err) == -1) {
			dav_error(dr, 500, NULL, "%s", err);
			return;
		}
		log_info("dav: volume %s created", dr->t.volname);
		dav_finish(dr, 201, NULL, NULL, 0);
		return;
	}
	if (dr->t.vol == NULL) {
		dav_error(dr, 409, NULL, "no such volume");
		return;
	}
	if (dav_parent_check(dr) != 0 ||
	    dav_lock_check(dr, dr->t.full, 0, 1) != 0 || dav_if_check(dr) != 0)
		return;
	if (dav_mkcol(dr->t.vol, dr->t.rel, err, sizeof err) == -1) {
		dav_error(dr, dav_errno_status(errno), NULL, "%s", err);
		return;
	}
	dav_finish(dr, 201, NULL, NULL, 0);
}

/* Remove a resource (or a volume) that exists; 0 or -1 with err. */
static int
dav_delete_target(struct dav_target *t, char *err, size_t errlen)
{
	int	 rv;

	if (*t->rel == '\0') {
		if (t->vol != NULL) {	/* counted, not left to the removal */
			(void)dav_sync_volume(t->vol, 1, err, errlen);
			dav_sync_forget(t->vol);
		}
		rv = dav_volume_remove(dav.store, t->volname, err, errlen);
		if (rv == 0) {
			log_info("dav: volume %s removed", t->volname);
			dav_locks_volume_removed(t->volname);
			t->vol = NULL;
		}
		return (rv);
	}
	if ((rv = dav_remove(t->vol, t->rel, err, errlen)) == 0)
		dav_locks_drop(t->full);
	return (rv);
}

/* DELETE: files, collections recursively, whole volumes. */
static void
dav_delete(struct dav_req *dr)
{
	char	 err[256];
	int	 d;

	if (dr->t.is_root) {
		dav_error(dr, 403, NULL, "the root cannot be deleted");
		return;
	}
	if (!dr->t.st.exists) {
		dav_error(dr, 404, NULL, "no such resource");
		return;
	}
	if (dr->t.st.is_dir && (d = dav_depth(dr, -1)) != -1) {
		dav_error(dr, 400, NULL, "DELETE of a collection takes Depth: "
		    "infinity");
		return;
	}
	if (dav_lock_check(dr, dr->t.full, 1, 1) != 0 || dav_if_check(dr) != 0 ||
	    dav_http_preconditions(dr, 0) != 0)
		return;
	if (dav_delete_target(&dr->t, err, sizeof err) == -1) {
		dav_error(dr, dav_errno_status(errno), NULL, "%s", err);
		return;
	}
	dav_finish(dr, 204, NULL, NULL, 0);
}

/*
 * The Destination header into a target.  An absolute URI must name this
 * server (its authority equal to Host); 0, or the status answered.
 */
static int
dav_destination(struct dav_req *dr, struct dav_target *dst)
{
	const char	*h, *host, *p, *why;
	size_t		 n;

	if ((h = http_request_header(dr->req, "Destination")) == NULL) {
		dav_error(dr, 400, NULL, "Destination header missing");
		return (400);
	}
	p = h;
	if ((n = strcspn(p, ":/")) > 0 && strncmp(p + n, "://", 3) == 0) {
		if ((n != 4 || strncasecmp(p, "http", 4) != 0) &&
		    (n != 5 || strncasecmp(p, "https", 5) != 0)) {
			dav_error(dr, 502, NULL, "Destination scheme not served "
			    "here");
			return (502);
		}
		p += n + 3;
		n = strcspn(p, "/");
		host = http_request_header(dr->req, "Host");
		if (host == NULL || strlen(host) != n ||
		    strncasecmp(p, host, n) != 0) {
			dav_error(dr, 502, NULL, "Destination is on another "
			    "server");
			return (502);
		}
		p += n;
		if (*p == '\0')
			p = "/";
	}
	if (strchr(p, '?') != NULL) {
		dav_error(dr, 400, NULL, "query in Destination");
		return (400);
	}
	if (dav_target_parse(p, dst, &why) == -1) {
		dav_error(dr, 400, NULL, "Destination: %s", why);
		return (400);
	}
	return (0);
}

/* Is b inside (or equal to) collection a?  Both "vol/rel". */
static int
dav_full_within(const char *a, const char *b)
{
	size_t	 n = strlen(a);

	return (strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/'));
}

/* COPY and MOVE. */
static void
dav_copymove(struct dav_req *dr)
{
	struct dav_target	 dst;
	const char		*ow;
	char			 err[256];
	int			 move, overwrite = 1, depth, existed, rv;

	move = strcmp(dr->method, "MOVE") == 0;
	if (dr->t.is_root || (dr->t.vol != NULL && *dr->t.rel == '\0')) {
		dav_error(dr, 403, NULL, "cannot %s the root or a volume",
		    dr->method);
		return;
	}
	if (!dr->t.st.exists) {
		dav_error(dr, 404, NULL, "no such resource");
		return;
	}
	depth = dav_depth(dr, -1);
	if (depth == -2 || depth == 1 || (move && depth != -1)) {
		dav_error(dr, 400, NULL, "bad Depth for %s", dr->method);
		return;
	}
	if ((ow = http_request_header(dr->req, "Overwrite")) != NULL) {
		if (strcasecmp(ow, "F") == 0)
			overwrite = 0;
		else if (strcasecmp(ow, "T") != 0) {
			dav_error(dr, 400, NULL, "Overwrite must be T or F");
			return;
		}
	}
	if (dav_destination(dr, &dst) != 0)
		return;
	if (dst.is_root || *dst.rel == '\0') {
		dav_target_clear(&dst);
		dav_error(dr, 403, NULL, "destination is the root or a volume");
		return;
	}
	if (dst.vol == NULL) {
		dav_target_clear(&dst);
		dav_error(dr, 409, NULL, "destination volume does not exist");
		return;
	}
	if (strcmp(dst.full, dr->t.full) == 0 ||
	    (dr->t.st.is_dir && dav_full_within(dr->t.full, dst.full))) {
		dav_target_clear(&dst);
		dav_error(dr, 403, NULL, "source and destination overlap");
		return;
	}
	if (dav_target_stat(&dst, err, sizeof err) == -1) {
		dav_target_clear(&dst);
		dav_error(dr, 500, NULL, "%s", err);
		return;
	}
	existed = dst.st.exists;
	if (existed && !overwrite) {
		dav_target_clear(&dst);
		dav_error(dr, 412, NULL, "destination exists and Overwrite is F");
		return;
	}
	{
		/* Parent of the destination must be a collection. */
		struct dav_req	 probe;
		const char	*slash = strrchr(dst.rel, '/');
		struct dav_stat	 pst;
		char		*parent;

		(void)probe;
		if (slash != NULL) {
			parent = xstrndup(dst.rel, slash - dst.rel);
			rv = dav_stat(dst.vol, parent, &pst, err, sizeof err);
			free(parent);
			if (rv == -1 || !pst.exists || !pst.is_dir) {
				dav_target_clear(&dst);
				dav_error(dr, 409, NULL, "destination parent "
				    "collection does not exist");
				return;
			}
		}
	}
	if ((move && dav_lock_check(dr, dr->t.full, 1, 1) != 0) ||
	    dav_lock_check(dr, dst.full, 1, 1) != 0 || dav_if_check(dr) != 0 ||
	    dav_http_preconditions(dr, 0) != 0) {
		dav_target_clear(&dst);
		return;
	}
	if (existed && dav_delete_target(&dst, err, sizeof err) == -1) {
		dav_target_clear(&dst);
		dav_error(dr, dav_errno_status(errno), NULL, "%s", err);
		return;
	}
	if (move && dst.vol == dr->t.vol)
		rv = dav_rename(dr->t.vol, dr->t.rel, dst.rel, err, sizeof err);
	else {
		rv = dav_copy(dr->t.vol, dr->t.rel, dst.vol, dst.rel,
		    depth != 0, err, sizeof err);
		if (rv == 0 && move)
			rv = dav_remove(dr->t.vol, dr->t.rel, err, sizeof err);
	}
	if (rv == 0 && move)
		dav_locks_drop(dr->t.full);
	dav_target_clear(&dst);
	if (rv == -1) {
		dav_error(dr, dav_errno_status(errno) == 405 ? 412 :
		    dav_errno_status(errno), NULL, "%s", err);
		return;
	}
	dav_finish(dr, existed ? 204 : 201, NULL, NULL, 0);
}

/* End of headers: parse the target; PUT and PATCH start streaming here. */
static void
dav_on_headers(struct http_request *req, void *arg)
{
	struct dav_req	*dr;
	const char	*why, *ifh;
	char		 err[256];

	dav_count_protocol(req);
	dr = xcalloc(1, sizeof *dr);
	dr->req = req;
	dr->method = http_request_method(req);
	http_request_set_data(req, dr);
	http_request_set_cleanup(req, dav_req_cleanup, dr);
	if (dav_target_parse(http_request_path(req), &dr->t, &why) == -1) {
		dav_error(dr, strstr(why, "fragment") || strstr(why, "percent")
		    ? 400 : 403, NULL, "%s", why);
		return;
	}
	/* GET and HEAD keep the file the stat opened. */
	if ((strcmp(dr->method, "GET") == 0 || strcmp(dr->method, "HEAD") == 0) &&
	    dr->t.vol != NULL) {
		if (*dr->t.rel != '\0' && (dr->cached = dav_cache_get(dr->t.vol,
		    dr->t.rel, &dr->t.st, &dr->cachedlen)) != NULL)
			;	/* a small file, unchanged since last read whole */
		else if (dav_stat_open(dr->t.vol, dr->t.rel, &dr->t.st, &dr->file,
		    err, sizeof err) == -1) {
			dav_error(dr, errno == ELOOP || errno == EPERM ? 403 : 500,
			    NULL, "%s", err);
			return;
		}
	} else if (dav_target_stat(&dr->t, err, sizeof err) == -1) {
		dav_error(dr, errno == ELOOP || errno == EPERM ? 403 : 500, NULL,
		    "%s", err);
		return;
	}
	if ((ifh = http_request_header(req, "If")) != NULL) {
		if (dav_if_parse(ifh, &dr->ifh, err, sizeof err) == -1) {
			dav_error(dr, 400, NULL, "%s", err);
			return;
		}
		dr->has_if = 1;
	}
	dr->in_headers = 1;
	if (strcmp(dr->method, "PUT") == 0)
		dav_put_start(dr);
	else if (strcmp(dr->method, "PATCH") == 0)
		dav_patch_start(dr);
	else if (strcmp(dr->method, "GET") != 0 &&
	    strcmp(dr->method, "HEAD") != 0)
		dr->body = evbuffer_new();	/* GET's body, if any, is ignored */
	/* A PUT or PATCH refused at once (no body to wait for) freed dr. */
	if (http_request_data(req) == dr)
		dr->in_headers = 0;
}

/* Body bytes: into the PUT writer, the PATCH file or the XML buffer. */
static int
dav_on_body(struct http_request *req, const void *data, size_t len, void *arg)
{
	struct dav_req	*dr = http_request_data(req);
	char		 err[256];

	if (dr == NULL || dr->failed)
		return (0);
	dav_count_bytes(1, len);
	if (dr->writer != NULL) {
		if (dav_writer_add(dr->writer, data, len, err,
		    sizeof err) == -1) {
			dr->failed = 1;
			dav_error(dr, dav_errno_status(errno) == 507 ? 507 : 500,
			    NULL, "%s", err);
			return (-1);
		}
		return (0);
	}
	if (dr->file != NULL) {
		if (dav_file_write(dr->file, data, len, dr->offset, err,
		    sizeof err) == -1) {
			dr->failed = 1;
			dav_error(dr, 500, NULL, "%s", err);
			return (-1);
		}
		dr->offset += len;
		return (0);
	}
	if (dr->body == NULL)
		return (0);
	if (evbuffer_get_length(dr->body) + len > dav_caps.max_xml_bytes) {
		dr->failed = 1;
		dav_error(dr, 413, NULL, "XML body over %zu bytes",
		    dav_caps.max_xml_bytes);
		return (-1);
	}
	evbuffer_add(dr->body, data, len);
	return (0);
}

/* The whole request is in: run the method. */
static void
dav_on_end(struct http_request *req, void *arg)
{
	struct dav_req	*dr = http_request_data(req);

	if (dr != NULL && dr->deferred) {
		dr->in_headers = 0;
		dav_reply_buffer(dr, dr->defer_status, dr->defer_ctype,
		    dr->defer_body);
		return;
	}
	if (dr == NULL || dr->failed)
		return;
	/* "now": answered once the files committed later before it are
	 * synced, files and directories; the syncs run a few per pass. */
	if (dr->t.vol != NULL && dav_sync_header(dr, "now")) {
		dr->sync_mark = dav_volume_sync_mark(dr->t.vol);
		/* Behind the volume's "now" requests still waiting, if any:
		 * answered in the order they came. */
		if (dav_volume_synced(dr->t.vol) < dr->sync_mark ||
		    dav_sync_waiting(dr->t.vol)) {
			TAILQ_INSERT_TAIL(&dav.sync_waiters, dr, sync_entry);
			dr->sync_waiting = 1;
			dav_sync_soon();
		} else
			dav_synced_run(dr);
		return;
	}
	dav_run(dr);
}

/* Run the method of a request whose body is in. */
static void
dav_run(struct dav_req *dr)
{
	struct http_request	*req = dr->req;
	const char		*m;

	m = dr->method;
	if (strcmp(m, "PUT") == 0)
		dav_put_end(dr);
	else if (strcmp(m, "PATCH") == 0)
		dav_patch_end(dr);
	else if (strcmp(m, "OPTIONS") == 0)
		dav_options(dr);
	else if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		dav_get(dr);
	else if (strcmp(m, "PROPFIND") == 0)
		dav_propfind(dr);
	else if (strcmp(m, "PROPPATCH") == 0)
		dav_proppatch(dr);
	else if (strcmp(m, "MKCOL") == 0)
		dav_mkcol_method(dr);
	else if (strcmp(m, "DELETE") == 0)
		dav_delete(dr);
	else if (strcmp(m, "COPY") == 0 || strcmp(m, "MOVE") == 0)
		dav_copymove(dr);
	else if (strcmp(m, "LOCK") == 0)
		dav_lock(dr);
	else if (strcmp(m, "UNLOCK") == 0)
		dav_unlock(dr);
	else {
		http_reply_header(req, "Allow", "OPTIONS, GET, HEAD, PUT, PATCH, "
		    "DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, "
		    "UNLOCK");
		dav_error(dr, 405, NULL, "method %s not allowed", m);
	}
}

/* The HTTP limits of the dav listeners: bodies up to a file's size cap. */
static void
dav_http_limits(const struct conf *conf, struct http_limits *limits)
{
	server_http_limits(conf, limits);
	limits->max_body_bytes = conf->dav_max_file_bytes;
	limits->max_connections = conf->dav_max_connections;
}

/* Caps from the config. */
static void
dav_caps_set(const struct conf *conf)
{
	dav_caps.max_xml_bytes = conf->dav_max_xml_bytes;
	dav_caps.max_locks = conf->dav_max_locks;
	dav_caps.max_lock_timeout = conf->dav_max_lock_timeout;
}

/*
 * The TLS listeners: a server certificate from the internal CA for localhost,
 * the loopback addresses, this host's name, the listen hosts and tls_names;
 * a client certificate for local tools is written once under <ca>/clients.
 */
static int
dav_tls_listen(const struct conf *conf, char *err, size_t errlen)
{
	char		**names, *dir, *host, *port, *p, hostname[256];
	size_t		  n = 0, i;
	int		  mtls, rv = -1;

	if (conf->dav_listen == NULL || conf->dav_listen[0] == NULL)
		return (0);
	xasprintf(&dir, "%s/ca", conf->state_dir);
	if (ca_open(dir, conf->instance, err, errlen) == -1) {
		free(dir);
		return (-1);
	}
	names = xcalloc(8 + 16 + 32 + 1, sizeof *names);
	names[n++] = xstrdup("localhost");
	names[n++] = xstrdup("127.0.0.1");
	names[n++] = xstrdup("::1");
	if (gethostname(hostname, sizeof hostname) == 0 && *hostname != '\0')
		names[n++] = xstrdup(hostname);
	for (i = 0; conf->dav_tls_names != NULL && conf->dav_tls_names[i]; i++)
		names[n++] = xstrdup(conf->dav_tls_names[i]);
	/* Where the other hosts mount this host's volumes from. */
	if (conf->cluster_host_address != NULL)
		names[n++] = xstrdup(conf->cluster_host_address);
	for (i = 0; conf->dav_listen[i] != NULL; i++) {
		p = strstr(conf->dav_listen[i], "://");
		/* Not HOST:PORT: server_http_listen() below says so. */
		if (util_hostport(p != NULL ? p + 3 : conf->dav_listen[i],
		    &host, &port) == -1)
			continue;
		free(port);
		if (strcmp(host, "*") != 0 && strcmp(host, "0.0.0.0") != 0 &&
		    strcmp(host, "::") != 0)
			names[n++] = host;
		else
			free(host);
	}
	for (mtls = 0; mtls < 2; mtls++) {
		if ((dav.tls[mtls] = ca_server_context((const char *const *)names,
		    mtls, err, errlen)) == NULL)
			goto out;
	}
	for (i = 0; conf->dav_listen[i] != NULL; i++) {
		const char	*l = conf->dav_listen[i];

		mtls = strncmp(l, "tls://", 6) != 0;
		if ((p = strstr(l, "://")) != NULL)
			l = p + 3;
		if (server_http_listen(dav.http, l, dav.tls[mtls], err,
		    errlen) == -1)
			goto out;
		log_info("dav: HTTPS on %s%s", l, mtls ? " (client certificates "
		    "from the internal CA required)" : "");
	}
	free(dir);
	xasprintf(&dir, "%s/ca/clients", conf->state_dir);
	if (ca_write_client(dir, "local", err, errlen) == -1)
		goto out;
	rv = 0;
out:
	free(dir);
	util_strv_free(names);
	return (rv);
}

/* Start: the store, its locks, then the listeners. */
static int
dav_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*conf = env->conf;
	struct http_limits	 limits;

	dav.base = env->base;
	TAILQ_INIT(&dav.commits);
	TAILQ_INIT(&dav.sync_waiters);
	if ((dav.commit_ev = event_new(env->base, -1, 0, dav_commit_cb,
	    NULL)) == NULL)
		fatalx("%s: event_new failed", __func__);
	if ((dav.sync_ev = evtimer_new(env->base, dav_sync_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	dav_caps_set(conf);
	if ((dav.store = dav_store_open(conf->dav_storage_dir, err,
	    errlen)) == NULL)
		return (-1);
	if (dav_locks_init(err, errlen) == -1)
		goto fail;
	dav_http_limits(conf, &limits);
	dav.http = http_server_new(env->base, "dav", &limits, dav_routes,
	    sizeof dav_routes / sizeof dav_routes[0], dav_layer_error, NULL);
	if (*conf->dav_socket != '\0') {
		if (util_mkdir_parent(conf->dav_socket, 0755, err, errlen) == -1 ||
		    http_server_listen_unix(dav.http, conf->dav_socket, 0660,
		    err, errlen) == -1)
			goto fail;
		log_info("dav: listening on %s", conf->dav_socket);
	}
	if (*conf->dav_plain_listen != '\0') {
		if (server_http_listen(dav.http, conf->dav_plain_listen, NULL,
		    err, errlen) == -1)
			goto fail;
		log_info("dav: plaintext HTTP on %s, port %d (tests and "
		    "benchmarks only)", conf->dav_plain_listen,
		    http_server_tcp_port(dav.http));
	}
	if (dav_tls_listen(conf, err, errlen) == -1)
		goto fail;
	return (0);
fail:
	dav_shutdown();
	return (-1);
}

/* Caps and limits change live; listeners and storage need a restart. */
static int
dav_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct http_limits	 limits;

	if (strcmp(old->dav_storage_dir, new->dav_storage_dir) != 0 ||
	    strcmp(old->dav_socket, new->dav_socket) != 0 ||
	    strcmp(old->dav_plain_listen, new->dav_plain_listen) != 0 ||
	    !util_strv_equal(old->dav_listen, new->dav_listen) ||
	    !util_strv_equal(old->dav_tls_names, new->dav_tls_names)) {
		snprintf(err, errlen, "storage_dir, socket, plain_listen, "
		    "listen and tls_names need a restart");
		return (-1);
	}
	if (dav.http == NULL)
		return (0);
	dav_caps_set(new);
	dav_http_limits(new, &limits);
	http_server_set_limits(dav.http, &limits);
	return (0);
}

/* Stop: listeners and connections first, then the store. */
static void
dav_shutdown(void)
{
	int	 i;

	http_server_free(dav.http);
	dav.http = NULL;
	if (dav.commit_ev != NULL) {
		event_free(dav.commit_ev);
		dav.commit_ev = NULL;
	}
	if (dav.sync_ev != NULL) {
		event_free(dav.sync_ev);	/* the store syncs as it closes */
		dav.sync_ev = NULL;
	}
	for (i = 0; i < 2; i++) {
		SSL_CTX_free(dav.tls[i]);
		dav.tls[i] = NULL;
	}
	ca_close();
	dav_locks_shutdown();
	memset(&dav_m, 0, sizeof dav_m);	/* the registry may be reset */
	dav_store_close(dav.store);
	dav.store = NULL;
}

const struct server dav_server = {
	"dav", dav_init, dav_reload, dav_shutdown
};
