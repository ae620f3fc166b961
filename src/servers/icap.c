/* icap.c: the ICAP server (RFC 3507) on the one loop: a small bounds-checked
 * parser for ICAP heads, Encapsulated offsets and chunked bodies with preview,
 * one state machine per connection, verdicts from the firewall engine. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "conf.h"
#include "dockerd.h"
#include "icap.h"
#include "log.h"
#include "metrics.h"
#include "waf.h"
#include "xmalloc.h"

#define ICAP_MAX_CHUNK_LINE	128
#define ICAP_MAX_SETS		64

enum icap_state {
	ICAP_HEAD,		/* reading the ICAP head */
	ICAP_ENCAPSULATED,	/* reading the encapsulated HTTP heads */
	ICAP_CHUNK_SIZE,	/* reading a chunk-size line */
	ICAP_CHUNK_DATA,
	ICAP_CHUNK_CRLF,	/* the CRLF after chunk data */
	ICAP_CHUNK_TRAILER,	/* after the last chunk: the empty line */
	ICAP_CLOSING		/* flushing a final answer, then close */
};

static const char *const icap_state_names[] = {
	"head", "encapsulated", "chunk-size", "chunk-data", "chunk-crlf",
	"chunk-trailer", "closing"
};

enum icap_method {
	ICAP_OPTIONS,
	ICAP_REQMOD,
	ICAP_RESPMOD
};

/* One host of a labelled container (services by Host). */
struct icap_host {
	char			*container_id;
	char			*host;		/* lower case, without port */
	char			*set;
	struct icap_host	*next;
};

struct icap_server {
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct icap_limits	 limits;
	struct waf_ruleset	*sets[ICAP_MAX_SETS];
	size_t			 nsets;
	char			*default_set;
	char			 istag[24];
	size_t			 nconns;
	struct icap_conn	*conns;		/* every live connection */
	struct icap_host	*hosts;		/* from container labels */
	/* The counters of every passed message, looked up once (blocks and
	 * errors are rare and keep icap_count). */
	struct metric		*passed_204;
	struct metric		*passed_200;
};

/* One ICAP connection and the request on it. */
struct icap_conn {
	struct icap_server	*srv;
	struct bufferevent	*bev;
	struct evbuffer		*out;		/* answers not yet written */
	struct event		*deadline;	/* the heads of the request */
	struct icap_conn	*next;
	enum icap_state		 state;

	/* The current request. */
	enum icap_method	 method;
	const struct waf_ruleset *set;		/* valid within one callback */
	char			 set_name[80];	/* looked up again after a reload */
	int			 by_host;	/* /waf-host: set from the Host */
	int			 allow_204;
	int			 preview;	/* bytes announced; -1: none */
	int			 in_preview;	/* body so far is the preview */
	int			 continued;	/* 100 Continue sent */
	int			 ieof;
	int			 close_after;
	size_t			 req_hdr, res_hdr, body_off; /* offsets; SIZE_MAX: absent */
	int			 has_body;
	char			*encap;		/* the encapsulated heads */
	size_t			 encap_len;
	struct evbuffer		*body;		/* de-chunked body */
	int			 truncated;
	size_t			 chunk_left;
};

static struct icap_server	*icap_main;	/* the server table's instance */

static void	icap_conn_process(struct icap_conn *);
static void	icap_conn_free(struct icap_conn *);

/* Count one event of a labelled counter family. */
static void
icap_count(const char *name, const char *help, const char *label,
    const char *value)
{
	char	*esc = metrics_escape_label(value), *labels;

	xasprintf(&labels, "%s=\"%s\"", label, esc);
	metrics_add(metrics_counter(name, help, labels), 1);
	free(labels);
	free(esc);
}

/* Log state changes at debug level, as every session state machine here. */
static void
icap_conn_enter_state(struct icap_conn *c, enum icap_state state)
{
	log_debug("icap: connection %p: %s -> %s", (void *)c,
	    icap_state_names[c->state], icap_state_names[state]);
	c->state = state;
}

/* Forget the request, keep the connection. */
static void
icap_request_reset(struct icap_conn *c)
{
	free(c->encap);
	c->encap = NULL;
	c->encap_len = 0;
	evbuffer_drain(c->body, evbuffer_get_length(c->body));
	c->set = NULL;
	c->by_host = 0;
	c->allow_204 = 0;
	c->preview = -1;
	c->in_preview = 0;
	c->continued = 0;
	c->ieof = 0;
	c->req_hdr = c->res_hdr = c->body_off = SIZE_MAX;
	c->has_body = 0;
	c->truncated = 0;
	c->chunk_left = 0;
	evtimer_del(c->deadline);
}

/* May the answer be 204?  With Allow: 204, or in answer to a preview (before
 * any 100 Continue), which every client that sends one must take. */
static int
icap_can_204(const struct icap_conn *c)
{
	return c->allow_204 || (c->preview >= 0 && !c->continued);
}

/* The common head of every answer. */
static void
icap_reply_head(struct icap_conn *c, struct evbuffer *out, int status,
    const char *reason)
{
	evbuffer_add_printf(out, "ICAP/1.0 %d %s\r\nServer: netcraved\r\n"
	    "ISTag: \"%s\"\r\n", status, reason, c->srv->istag);
	if (c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
}

/* An error answer; the connection closes once it is written. */
static void
icap_conn_fail(struct icap_conn *c, int status, const char *reason,
    const char *why)
{
	struct evbuffer	*out = c->out;
	char		 code[16];

	log_debug("icap: connection %p: %d %s: %s", (void *)c, status, reason,
	    why);
	snprintf(code, sizeof code, "%d", status);
	icap_count("netcrave_icap_errors_total",
	    "ICAP requests answered with an error", "status", code);
	c->close_after = 1;
	evtimer_del(c->deadline);
	icap_reply_head(c, out, status, reason);
	evbuffer_add_printf(out, "Encapsulated: null-body=0\r\n\r\n");
	icap_conn_enter_state(c, ICAP_CLOSING);
	bufferevent_disable(c->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(c->bev),
	    evbuffer_get_length(bufferevent_get_input(c->bev)));
}

/* The rule set called name, or NULL. */
static const struct waf_ruleset *
icap_find_set(const struct icap_server *srv, const char *name)
{
	size_t	i;

	for (i = 0; i < srv->nsets; i++)
		if (strcmp(waf_ruleset_name(srv->sets[i]), name) == 0)
			return srv->sets[i];
	return NULL;
}

/* Find the rule set of a service path: /waf, /waf/<set>, /waf/<set>/<any>;
 * its name goes to buf.  /waf-host[/<any>] sets by_host and gives the
 * default set until the Host of the request is known. */
static const struct waf_ruleset *
icap_service_set(struct icap_server *srv, const char *path, size_t len,
    char *buf, size_t buflen, int *by_host)
{
	const char	*slash;
	size_t		 n;

	if (len >= 9 && memcmp(path, "/waf-host", 9) == 0 &&
	    (len == 9 || path[9] == '/')) {
		*by_host = 1;
		snprintf(buf, buflen, "%s", srv->default_set);
		return icap_find_set(srv, buf);
	}
	if (len < 4 || memcmp(path, "/waf", 4) != 0 ||
	    (len > 4 && path[4] != '/'))
		return NULL;
	snprintf(buf, buflen, "%s", srv->default_set);
	if (len > 5) {
		slash = memchr(path + 5, '/', len - 5);
		n = (size_t)((slash ? slash : path + len) - (path + 5));
		if (n == 0 || n >= buflen)
			return NULL;
		memcpy(buf, path + 5, n);
		buf[n] = '\0';
	}
	return icap_find_set(srv, buf);
}

/* Does a comma list header value hold token? */
static int
icap_has_token(const char *v, size_t len, const char *token)
{
	size_t	tlen = strlen(token), i = 0, start;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (i - start == tlen && strncasecmp(v + start, token, tlen) == 0)
			return 1;
	}
	return 0;
}

/* A decimal number of at most 9 digits filling [s, s+len); -1 otherwise. */
static long
icap_number(const char *s, size_t len)
{
	long	n = 0;
	size_t	i;

	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n;
}

/* Parse "req-hdr=0, req-body=412" into offsets; -1 when malformed. */
static int
icap_parse_encapsulated(struct icap_conn *c, const char *v, size_t len)
{
	size_t	 i = 0, start, eq, last = 0;
	long	 off;
	int	 n = 0, end_seen = 0;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == ','))
			i++;
		if (i == len)
			break;
		if (end_seen)
			return -1;	/* nothing follows the body entity */
		start = i;
		while (i < len && v[i] != ',')
			i++;
		for (eq = start; eq < i && v[eq] != '='; eq++)
			;
		if (eq == i)
			return -1;
		off = icap_number(v + eq + 1, i - eq - 1);
		if (off < 0 || (n == 0 && off != 0) || (size_t)off < last)
			return -1;
		last = (size_t)off;
#define IS(name) (eq - start == strlen(name) && \
	    strncasecmp(v + start, name, eq - start) == 0)
		if (IS("req-hdr") && c->req_hdr == SIZE_MAX &&
		    c->res_hdr == SIZE_MAX)
			c->req_hdr = last;
		else if (IS("res-hdr") && c->res_hdr == SIZE_MAX &&
		    c->method == ICAP_RESPMOD)
			c->res_hdr = last;
		else if ((IS("req-body") && c->method == ICAP_REQMOD) ||
		    (IS("res-body") && c->method == ICAP_RESPMOD)) {
			c->body_off = last;
			c->has_body = 1;
			end_seen = 1;
		} else if (IS("null-body")) {
			c->body_off = last;
			end_seen = 1;
		} else
			return -1;
#undef IS
		n++;
	}
	if (!end_seen || last > ICAP_MAX_HEAD)
		return -1;
	/* REQMOD needs a request head; RESPMOD a response head. */
	if (c->method == ICAP_REQMOD && c->req_hdr == SIZE_MAX)
		return -1;
	if (c->method == ICAP_RESPMOD && c->res_hdr == SIZE_MAX)
		return -1;
	return 0;
}

/* The OPTIONS answer: what the service does and what it wants to see. */
static void
icap_reply_options(struct icap_conn *c)
{
	struct evbuffer	*out = c->out;
	struct icap_server *srv = c->srv;

	icap_reply_head(c, out, 200, "OK");
	evbuffer_add_printf(out, "Methods: REQMOD, RESPMOD\r\n"
	    "Service: netcraved web-application firewall\r\n"
	    "Max-Connections: %u\r\nOptions-TTL: 3600\r\n"
	    "Allow: 204\r\nPreview: %u\r\n"
	    "Transfer-Preview: *\r\n"
	    "Transfer-Ignore: jpg, jpeg, png, gif, webp, ico, mp4, webm, mp3, "
	    "woff, woff2, zip, gz\r\n"
	    "Encapsulated: null-body=0\r\n\r\n",
	    srv->limits.max_connections, srv->limits.preview_bytes);
}

/* Read the ICAP head once it is complete; -1 after failing the connection. */
static int
icap_read_head(struct icap_conn *c)
{
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr	 p;
	struct waf_head		 h;
	const char		*uri, *path, *end;
	char			*head;
	size_t			 len, i, ulen;
	int			 have_encap = 0, have_host = 0;
	long			 n;

	/* Empty lines between requests are tolerated, as in HTTP. */
	while (evbuffer_get_length(in) >= 2) {
		unsigned char two[2];

		evbuffer_copyout(in, two, 2);
		if (two[0] != '\r' || two[1] != '\n')
			break;
		evbuffer_drain(in, 2);
	}
	p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (p.pos == -1) {
		if (evbuffer_get_length(in) > ICAP_MAX_HEAD) {
			icap_conn_fail(c, 400, "Bad Request", "head too long");
			return -1;
		}
		return 1;	/* wait for more */
	}
	len = (size_t)p.pos + 4;
	if (len > ICAP_MAX_HEAD) {
		icap_conn_fail(c, 400, "Bad Request", "head too long");
		return -1;
	}
	head = xmalloc(len);
	evbuffer_remove(in, head, len);
	if (waf_parse_head(head, len, &h) != 0 || h.start_len[2] != 8 ||
	    memcmp(h.start[2], "ICAP/1.0", 8) != 0) {
		free(head);
		icap_conn_fail(c, 400, "Bad Request", "not an ICAP/1.0 head");
		return -1;
	}
	icap_request_reset(c);
	if (h.start_len[0] == 7 && memcmp(h.start[0], "OPTIONS", 7) == 0)
		c->method = ICAP_OPTIONS;
	else if (h.start_len[0] == 6 && memcmp(h.start[0], "REQMOD", 6) == 0)
		c->method = ICAP_REQMOD;
	else if (h.start_len[0] == 7 && memcmp(h.start[0], "RESPMOD", 7) == 0)
		c->method = ICAP_RESPMOD;
	else {
		free(head);
		icap_conn_fail(c, 405, "Method Not Allowed", "unknown method");
		return -1;
	}
	/* icap://authority/path[?query] */
	uri = h.start[1];
	ulen = h.start_len[1];
	if (ulen < 8 || strncasecmp(uri, "icap://", 7) != 0 ||
	    (path = memchr(uri + 7, '/', ulen - 7)) == NULL) {
		free(head);
		icap_conn_fail(c, 400, "Bad Request", "request URI");
		return -1;
	}
	end = memchr(path, '?', (size_t)(uri + ulen - path));
	if (end == NULL)
		end = uri + ulen;
	c->set = icap_service_set(c->srv, path, (size_t)(end - path),
	    c->set_name, sizeof c->set_name, &c->by_host);
	for (i = 0; i < h.nheaders; i++) {
		const struct waf_header *f = &h.headers[i];

#define NAME(s) (f->name_len == strlen(s) && strncasecmp(f->name, s, f->name_len) == 0)
		if (NAME("Encapsulated")) {
			if (have_encap++ ||
			    (c->method != ICAP_OPTIONS &&
			    icap_parse_encapsulated(c, f->value,
			    f->value_len) != 0))
				goto bad;
		} else if (NAME("Preview")) {
			if ((n = icap_number(f->value, f->value_len)) < 0 ||
			    c->preview != -1)
				goto bad;
			c->preview = (int)n;
		} else if (NAME("Allow")) {
			if (icap_has_token(f->value, f->value_len, "204"))
				c->allow_204 = 1;
		} else if (NAME("Connection")) {
			if (icap_has_token(f->value, f->value_len, "close"))
				c->close_after = 1;
		} else if (NAME("Host"))
			have_host = 1;
#undef NAME
	}
	(void)have_host;	/* RFC 3507 wants it; squid and c-icap send it */
	free(head);
	if (c->method != ICAP_OPTIONS && !have_encap)
		goto bad_noh;
	if (c->set == NULL) {
		icap_conn_fail(c, 404, "ICAP Service Not Found", "service");
		return -1;
	}
	if (c->method == ICAP_OPTIONS) {
		icap_reply_options(c);
		return 0;
	}
	if (c->preview >= 0)
		c->in_preview = 1;
	c->encap_len = c->body_off;
	icap_conn_enter_state(c, ICAP_ENCAPSULATED);
	return 0;
bad:
	free(head);
bad_noh:
	icap_conn_fail(c, 400, "Bad Request", "ICAP header");
	return -1;
}

/* Split one encapsulated head (offsets from, to) into h. */
static int
icap_encap_head(struct icap_conn *c, size_t from, size_t to,
    struct waf_head *h)
{
	if (from == SIZE_MAX)
		return 0;
	if (to < from + 4 || to > c->encap_len ||
	    memcmp(c->encap + to - 4, "\r\n\r\n", 4) != 0)
		return -1;
	return waf_parse_head(c->encap + from, to - from, h);
}

/* Is a response of this Content-Type worth reading (text the rules match)? */
static int
icap_inspectable(const struct waf_head *h)
{
	size_t	i;

	for (i = 0; i < h->nheaders; i++) {
		const struct waf_header *f = &h->headers[i];

		if (f->name_len != 12 || strncasecmp(f->name, "content-type",
		    12) != 0)
			continue;
		return f->value_len >= 5 && (strncasecmp(f->value, "text/", 5)
		    == 0 || memmem(f->value, f->value_len, "json", 4) != NULL ||
		    memmem(f->value, f->value_len, "xml", 3) != NULL ||
		    memmem(f->value, f->value_len, "javascript", 10) != NULL);
	}
	return 1;
}

/* Write a body as one chunk and the last chunk. */
static void
icap_add_chunked(struct evbuffer *out, const void *data, size_t len)
{
	if (len > 0) {
		evbuffer_add_printf(out, "%zx\r\n", len);
		evbuffer_add(out, data, len);
		evbuffer_add(out, "\r\n", 2);
	}
	evbuffer_add(out, "0\r\n\r\n", 5);
}

/* Replace the message with a 403 page naming the incident. */
static void
icap_reply_block(struct icap_conn *c, const struct waf_verdict *v,
    const struct waf_message *m)
{
	struct evbuffer	*out = c->out;
	char		 id[17], page[768], head[512], what[160];
	int		 plen, hlen;
	size_t		 i, n;

	waf_incident_id(id);
	/* The log line names the request without control bytes. */
	n = m->target_len < sizeof what - 1 ? m->target_len : sizeof what - 1;
	for (i = 0; i < n; i++)
		what[i] = isprint((unsigned char)m->target[i]) ? m->target[i] :
		    '?';
	what[n] = '\0';
	log_info("waf: blocked incident %s set %s rule %s (%s): %.*s %s",
	    id, waf_ruleset_name(c->set), v->rule_id, v->message,
	    (int)(m->method_len < 16 ? m->method_len : 16), m->method, what);
	icap_count("netcrave_waf_blocked_total",
	    "Messages the firewall blocked", "set", waf_ruleset_name(c->set));
	plen = snprintf(page, sizeof page, "<!DOCTYPE html>\n<html><head>"
	    "<title>403 Forbidden</title></head><body>\n<h1>Forbidden</h1>\n"
	    "<p>The web-application firewall refused this request.</p>\n"
	    "<p>Incident ID: %s</p>\n</body></html>\n", id);
	hlen = snprintf(head, sizeof head, "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %d\r\nCache-Control: no-store\r\n"
	    "X-Netcrave-Incident: %s\r\nConnection: close\r\n\r\n", plen, id);
	icap_reply_head(c, out, 200, "OK");
	evbuffer_add_printf(out, "Encapsulated: res-hdr=0, res-body=%d\r\n\r\n",
	    hlen);
	evbuffer_add(out, head, (size_t)hlen);
	icap_add_chunked(out, page, (size_t)plen);
}

/* Let the message through unchanged: 204, or the message echoed. */
static void
icap_reply_pass(struct icap_conn *c)
{
	struct evbuffer	*out = c->out;
	size_t		 from, len, blen;

	metrics_add(icap_can_204(c) ? c->srv->passed_204 : c->srv->passed_200,
	    1);
	if (icap_can_204(c)) {
		icap_reply_head(c, out, 204, "No Content");
		evbuffer_add_printf(out, "Encapsulated: null-body=0\r\n\r\n");
		return;
	}
	/* Echo: REQMOD gives back the request, RESPMOD the response. */
	from = c->method == ICAP_REQMOD ? c->req_hdr : c->res_hdr;
	len = c->body_off - from;
	icap_reply_head(c, out, 200, "OK");
	evbuffer_add_printf(out, "Encapsulated: %s=0, %s=%zu\r\n\r\n",
	    c->method == ICAP_REQMOD ? "req-hdr" : "res-hdr",
	    c->has_body ? (c->method == ICAP_REQMOD ? "req-body" : "res-body") :
	    "null-body", len);
	evbuffer_add(out, c->encap + from, len);
	if (c->has_body) {
		blen = evbuffer_get_length(c->body);
		icap_add_chunked(out, evbuffer_pullup(c->body, -1), blen);
	}
}

/* The length of a Host value without its port ("[v6]:port" too). */
static size_t
icap_host_len(const char *h, size_t len)
{
	const char	*colon;

	if (len > 0 && h[0] == '[') {
		colon = memchr(h, ']', len);
		return colon != NULL ? (size_t)(colon - h) + 1 : len;
	}
	colon = memchr(h, ':', len);
	return colon != NULL ? (size_t)(colon - h) : len;
}

const char *
icap_server_host_set(const struct icap_server *srv, const char *host,
    size_t len)
{
	const struct icap_host	*e;

	len = icap_host_len(host, len);
	for (e = srv->hosts; e != NULL; e = e->next)
		if (strlen(e->host) == len &&
		    strncasecmp(e->host, host, len) == 0 &&
		    icap_find_set(srv, e->set) != NULL)
			return e->set;
	return srv->default_set;
}

/* /waf-host: the set of the request's Host (the default set without one). */
static void
icap_host_set_name(struct icap_conn *c, const struct waf_head *req)
{
	const char	*set = c->srv->default_set;
	size_t		 i;

	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name_len == 4 &&
		    strncasecmp(req->headers[i].name, "host", 4) == 0) {
			set = icap_server_host_set(c->srv,
			    req->headers[i].value, req->headers[i].value_len);
			break;
		}
	snprintf(c->set_name, sizeof c->set_name, "%s", set);
}

void
icap_server_set_service(struct icap_server *srv, const char *container_id,
    const char *hosts, const char *set)
{
	struct icap_host	**pp, *e;
	const char		*p, *comma;
	size_t			 n, i;

	/* Forget what the container said before. */
	for (pp = &srv->hosts; *pp != NULL;) {
		e = *pp;
		if (strcmp(e->container_id, container_id) != 0) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		log_info("icap: host %s no longer judged by rule set %s "
		    "(container %.12s)", e->host, e->set, container_id);
		free(e->container_id);
		free(e->host);
		free(e->set);
		free(e);
	}
	if (set == NULL || hosts == NULL)
		return;
	for (p = hosts; *p != '\0'; p = comma != NULL ? comma + 1 : p + n) {
		while (*p == ' ')
			p++;
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0)
			continue;
		e = xcalloc(1, sizeof *e);
		e->container_id = xstrdup(container_id);
		e->host = xmalloc(n + 1);
		for (i = 0; i < n; i++)
			e->host[i] = (char)tolower((unsigned char)p[i]);
		e->host[icap_host_len(e->host, n)] = '\0';
		e->set = xstrdup(set);
		e->next = srv->hosts;
		srv->hosts = e;
		log_info("icap: host %s judged by rule set %s (container %.12s)",
		    e->host, set, container_id);
		if (icap_find_set(srv, set) == NULL)
			log_warnx("icap: container %.12s: host %s names rule set "
			    "\"%s\", which is not defined: the default set "
			    "judges it", container_id, e->host, set);
		if (comma == NULL)
			break;
	}
}

/*
 * Judge what has arrived.  final: the whole body is here (or there is none);
 * otherwise this is the end of a preview and the answer may be 100 Continue.
 */
static int
icap_judge(struct icap_conn *c, int final)
{
	struct waf_head		 req, res;
	struct waf_message	 m;
	struct waf_verdict	 v;
	const char		*body;
	size_t			 blen, req_end;

	memset(&req, 0, sizeof req);
	memset(&res, 0, sizeof res);
	req_end = c->res_hdr != SIZE_MAX ? c->res_hdr : c->body_off;
	if (icap_encap_head(c, c->req_hdr, req_end, &req) != 0 ||
	    icap_encap_head(c, c->res_hdr, c->body_off, &res) != 0 ||
	    (c->res_hdr != SIZE_MAX && res.start[0] == NULL)) {
		icap_conn_fail(c, 400, "Bad Request", "encapsulated HTTP head");
		return -1;
	}
	if (c->by_host)
		icap_host_set_name(c, &req);
	if ((c->set = icap_find_set(c->srv, c->set_name)) == NULL) {
		icap_conn_fail(c, 404, "ICAP Service Not Found",
		    "set gone after a reload");
		return -1;
	}
	if (!final && c->method == ICAP_RESPMOD &&
	    (!icap_inspectable(&res) ||
	    !waf_ruleset_reads(c->set, WAF_PART_RESPONSE))) {
		/* Images and the like, or a set without response rules: the
		 * request was judged in REQMOD and nothing here is read. */
		icap_reply_pass(c);
		return 1;
	}
	if (!final && c->method == ICAP_REQMOD &&
	    !waf_ruleset_reads(c->set, WAF_PART_REQUEST_BODY)) {
		/* No rule reads the body: judge the head now, 204 if clean. */
		final = 1;
	}
	if (!final) {
		evbuffer_add_printf(c->out,
		    "ICAP/1.0 100 Continue\r\n\r\n");
		c->continued = 1;
		return 0;
	}
	blen = evbuffer_get_length(c->body);
	body = blen ? (const char *)evbuffer_pullup(c->body, -1) : "";
	if (req.start[0] != NULL)
		waf_message_from_head(&m, &req);
	else {
		memset(&m, 0, sizeof m);
		/* RESPMOD without the request: judge the response alone. */
		m.method = "GET";
		m.method_len = 3;
		m.target = "/";
		m.target_len = 1;
		m.version = "HTTP/1.1";
		m.version_len = 8;
	}
	if (c->method == ICAP_REQMOD) {
		m.body = body;
		m.body_len = blen;
		m.body_truncated = c->truncated;
	} else {
		m.has_response = 1;
		m.status = (int)icap_number(res.start[1], res.start_len[1]);
		m.response_headers = res.headers;
		m.nresponse_headers = res.nheaders;
		m.response_body = body;
		m.response_body_len = blen;
	}
	waf_inspect(c->set, &m, &v);
	if (v.action == WAF_BLOCK)
		icap_reply_block(c, &v, &m);
	else
		icap_reply_pass(c);
	return 1;
}

/* The request is answered: next one, or close. */
static void
icap_request_done(struct icap_conn *c)
{
	icap_request_reset(c);
	if (c->close_after) {
		icap_conn_enter_state(c, ICAP_CLOSING);
		bufferevent_disable(c->bev, EV_READ);
		return;
	}
	icap_conn_enter_state(c, ICAP_HEAD);
}

/* The whole message is here: judge and answer it; -1 if the connection failed. */
static int
icap_finish(struct icap_conn *c)
{
	c->in_preview = 0;
	if (icap_judge(c, 1) < 0)
		return -1;
	icap_request_done(c);
	return 0;
}

/* Keep body bytes up to the cap; past it only a 204 can answer. */
static int
icap_keep_body(struct icap_conn *c, size_t n)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 have = evbuffer_get_length(c->body), keep = n;

	if (have + n > c->srv->limits.max_body_bytes) {
		if (!c->allow_204) {
			/* Past a 100 Continue only Allow: 204 permits it. */
			icap_conn_fail(c, 500, "Server Error",
			    "body over the cap and no 204 allowed");
			return -1;
		}
		keep = have < c->srv->limits.max_body_bytes ?
		    c->srv->limits.max_body_bytes - have : 0;
		c->truncated = 1;
	}
	evbuffer_remove_buffer(in, c->body, keep);
	evbuffer_drain(in, n - keep);
	return 0;
}

/* One chunk-size line: "1a3", "0; ieof", extensions otherwise ignored. */
static int
icap_read_chunk_size(struct icap_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 len, i;
	char		*line;
	unsigned long	 size = 0;
	int		 d, ndigits = 0;

	line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF_STRICT);
	if (line == NULL) {
		if (evbuffer_get_length(in) > ICAP_MAX_CHUNK_LINE) {
			icap_conn_fail(c, 400, "Bad Request", "chunk line");
			return -1;
		}
		return 1;
	}
	for (i = 0; i < len; i++) {
		d = isxdigit((unsigned char)line[i]) ? (isdigit((unsigned char)
		    line[i]) ? line[i] - '0' : (tolower((unsigned char)line[i]) -
		    'a' + 10)) : -1;
		if (d < 0)
			break;
		if (++ndigits > 8) {
			free(line);
			icap_conn_fail(c, 400, "Bad Request", "chunk size");
			return -1;
		}
		size = size * 16 + (unsigned long)d;
	}
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (ndigits == 0 || (i < len && line[i] != ';') || len > ICAP_MAX_CHUNK_LINE) {
		free(line);
		icap_conn_fail(c, 400, "Bad Request", "chunk size");
		return -1;
	}
	if (i < len && size == 0) {
		/* "; ieof": the preview was the whole body */
		for (i++; i < len && line[i] == ' '; i++)
			;
		if (len - i >= 4 && strncasecmp(line + i, "ieof", 4) == 0)
			c->ieof = 1;
	}
	free(line);
	c->chunk_left = size;
	icap_conn_enter_state(c, size == 0 ? ICAP_CHUNK_TRAILER :
	    ICAP_CHUNK_DATA);
	return 0;
}

static void	icap_conn_run(struct icap_conn *);

/*
 * Run the state machine, then write the answers straight to the socket: only
 * what it does not take goes through the bufferevent, which saves enabling
 * and disabling its write event (two epoll_ctl calls) for every answer.
 */
static void
icap_conn_process(struct icap_conn *c)
{
	struct evbuffer	*bout = bufferevent_get_output(c->bev);

	icap_conn_run(c);
	if (evbuffer_get_length(c->out) > 0) {
		if (evbuffer_get_length(bout) == 0)
			(void)evbuffer_write(c->out, bufferevent_getfd(c->bev));
		/* The rest (or all, after an error the bufferevent reports). */
		if (evbuffer_get_length(c->out) > 0)
			evbuffer_add_buffer(bout, c->out);
	}
	if (c->state == ICAP_CLOSING && evbuffer_get_length(bout) == 0)
		icap_conn_free(c);
}

/* Timer: the heads did not arrive whole in time, however steadily they came. */
static void
icap_conn_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct icap_conn	*c = arg;

	log_info("icap: request heads not whole in %u ms, dropped",
	    c->srv->limits.head_timeout_ms);
	icap_conn_fail(c, 408, "Request Timeout", "heads too slow");
	icap_conn_process(c);
}

/* The first byte of a request's heads starts their clock. */
static void
icap_conn_arm_deadline(struct icap_conn *c)
{
	struct timeval	 tv;
	unsigned int	 ms = c->srv->limits.head_timeout_ms;

	if (ms == 0 || evtimer_pending(c->deadline, NULL))
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->deadline, &tv);
}

/* Run the state machine over what has arrived. */
static void
icap_conn_run(struct icap_conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	size_t		 n;
	int		 rc;
	char		 crlf[2];

	for (;;) {
		switch (c->state) {
		case ICAP_HEAD:
			if (evbuffer_get_length(in) == 0)
				return;
			icap_conn_arm_deadline(c);
			if ((rc = icap_read_head(c)) != 0)
				return;
			if (c->method == ICAP_OPTIONS)
				icap_request_done(c);
			break;
		case ICAP_ENCAPSULATED:
			if (evbuffer_get_length(in) < c->encap_len)
				return;
			c->encap = xmalloc(c->encap_len + 1);
			evbuffer_remove(in, c->encap, c->encap_len);
			/* The heads are in; a body only has to keep moving. */
			evtimer_del(c->deadline);
			if (c->has_body) {
				icap_conn_enter_state(c, ICAP_CHUNK_SIZE);
				break;
			}
			if (icap_finish(c) != 0)
				return;
			break;
		case ICAP_CHUNK_SIZE:
			if (icap_read_chunk_size(c) != 0)
				return;
			break;
		case ICAP_CHUNK_DATA:
			if ((n = evbuffer_get_length(in)) == 0)
				return;
			if (n > c->chunk_left)
				n = c->chunk_left;
			if (icap_keep_body(c, n) != 0)
				return;
			c->chunk_left -= n;
			if (c->chunk_left == 0)
				icap_conn_enter_state(c, ICAP_CHUNK_CRLF);
			break;
		case ICAP_CHUNK_CRLF:
		case ICAP_CHUNK_TRAILER:
			if (evbuffer_get_length(in) < 2)
				return;
			evbuffer_remove(in, crlf, 2);
			if (crlf[0] != '\r' || crlf[1] != '\n') {
				icap_conn_fail(c, 400, "Bad Request",
				    "chunk framing");
				return;
			}
			if (c->state == ICAP_CHUNK_CRLF) {
				icap_conn_enter_state(c, ICAP_CHUNK_SIZE);
				break;
			}
			if (c->in_preview && !c->ieof) {
				/* End of the preview: answer or ask for more. */
				c->in_preview = 0;
				if ((rc = icap_judge(c, 0)) < 0)
					return;
				if (rc == 1)
					icap_request_done(c);
				else
					icap_conn_enter_state(c,
					    ICAP_CHUNK_SIZE);
				break;
			}
			if (icap_finish(c) != 0)
				return;
			break;
		case ICAP_CLOSING:
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
	}
}

static void
icap_conn_read_cb(struct bufferevent *bev, void *arg)
{
	icap_conn_process(arg);
}

static void
icap_conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct icap_conn	*c = arg;

	if (c->state == ICAP_CLOSING)
		icap_conn_free(c);
}

static void
icap_conn_event_cb(struct bufferevent *bev, short events, void *arg)
{
	struct icap_conn	*c = arg;

	if (events & BEV_EVENT_TIMEOUT)
		log_debug("icap: connection %p: idle timeout", (void *)c);
	icap_conn_free(c);
}

static void
icap_conn_free(struct icap_conn *c)
{
	struct icap_conn	**pp;

	for (pp = &c->srv->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->srv->nconns--;
	icap_request_reset(c);
	event_free(c->deadline);
	evbuffer_free(c->body);
	evbuffer_free(c->out);
	bufferevent_free(c->bev);
	free(c);
}

void
icap_server_adopt(struct icap_server *srv, int fd)
{
	struct icap_conn	*c;
	struct timeval		 tv;
	int			 one = 1;
	static const char	 busy[] = "ICAP/1.0 503 Service Unavailable\r\n"
	    "Encapsulated: null-body=0\r\nConnection: close\r\n\r\n";

	if (srv->nconns >= srv->limits.max_connections) {
		/* Over Max-Connections: say so and hang up. */
		(void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	/* Answers are whole writes; Nagle would only hold back the next one. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->body = evbuffer_new();
	c->out = evbuffer_new();
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(srv->base, icap_conn_deadline_cb, c);
	if (c->body == NULL || c->out == NULL || c->bev == NULL ||
	    c->deadline == NULL)
		fatalx("%s: out of memory", __func__);
	icap_request_reset(c);
	c->state = ICAP_HEAD;
	tv.tv_sec = srv->limits.idle_timeout_ms / 1000;
	tv.tv_usec = (srv->limits.idle_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_setcb(c->bev, icap_conn_read_cb, icap_conn_write_cb,
	    icap_conn_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = srv->conns;
	srv->conns = c;
	srv->nconns++;
}

static void
icap_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	icap_server_adopt(arg, fd);
}

struct icap_server *
icap_server_new(struct event_base *base, const struct icap_limits *limits)
{
	struct icap_server	*srv;

	srv = xcalloc(1, sizeof *srv);
	srv->base = base;
	srv->limits = *limits;
	srv->sets[0] = waf_ruleset_default();
	srv->nsets = 1;
	srv->default_set = xstrdup("default");
	waf_incident_id(srv->istag);
	srv->passed_204 = metrics_counter("netcrave_icap_passed_total",
	    "ICAP messages passed", "reply=\"204\"");
	srv->passed_200 = metrics_counter("netcrave_icap_passed_total",
	    "ICAP messages passed", "reply=\"200\"");
	return srv;
}

int
icap_server_listen(struct icap_server *srv, const char *addr, char *err,
    size_t errlen)
{
	struct sockaddr_storage	 ss;
	int			 sslen = sizeof ss;

	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &sslen) != 0) {
		snprintf(err, errlen, "%s: expected HOST:PORT", addr);
		return -1;
	}
	srv->listener = evconnlistener_new_bind(srv->base, icap_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, sslen);
	if (srv->listener == NULL) {
		snprintf(err, errlen, "listen on %s: %s", addr, strerror(errno));
		return -1;
	}
	return 0;
}

void
icap_server_set_rules(struct icap_server *srv, struct waf_ruleset **sets,
    size_t nsets, const char *default_set)
{
	size_t	i;

	for (i = 0; i < srv->nsets; i++)
		waf_ruleset_free(srv->sets[i]);
	for (i = 0; i < nsets && i < ICAP_MAX_SETS; i++)
		srv->sets[i] = sets[i];
	srv->nsets = i;
	free(srv->default_set);
	srv->default_set = xstrdup(default_set);
	/* Another ISTag tells squid its cached answers are stale.  Requests
	 * in flight find their set again by name when they are judged. */
	waf_incident_id(srv->istag);
}

void
icap_server_set_limits(struct icap_server *srv, const struct icap_limits *l)
{
	srv->limits = *l;
}

size_t
icap_server_connections(const struct icap_server *srv)
{
	return srv->nconns;
}

void
icap_server_free(struct icap_server *srv)
{
	size_t	i;

	if (srv == NULL)
		return;
	while (srv->conns != NULL)
		icap_conn_free(srv->conns);
	while (srv->hosts != NULL)
		icap_server_set_service(srv, srv->hosts->container_id, NULL,
		    NULL);
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	for (i = 0; i < srv->nsets; i++)
		waf_ruleset_free(srv->sets[i]);
	free(srv->default_set);
	free(srv);
}

/* The limits of the config. */
static void
icap_conf_limits(const struct conf *conf, struct icap_limits *l)
{
	l->max_body_bytes = conf->waf_max_body_bytes;
	l->preview_bytes = conf->waf_preview_bytes;
	l->idle_timeout_ms = conf->waf_idle_timeout_ms;
	l->max_connections = conf->waf_max_connections;
	l->head_timeout_ms = conf->http_header_timeout_ms;
}

/* The built-in set plus every rule file; -1 with err (nothing kept). */
static int
icap_conf_rules(const struct conf *conf, struct waf_ruleset **sets,
    size_t *nsets, char *err, size_t errlen)
{
	char	**f;
	size_t	 i, j;

	sets[0] = waf_ruleset_default();
	*nsets = 1;
	for (f = conf->waf_rule_files; f != NULL && *f != NULL; f++) {
		if (*nsets == ICAP_MAX_SETS)
			break;
		if ((sets[*nsets] = waf_ruleset_load(*f, err, errlen)) == NULL)
			goto fail;
		for (j = 0; j < *nsets; j++)
			if (strcmp(waf_ruleset_name(sets[j]),
			    waf_ruleset_name(sets[*nsets])) == 0) {
				snprintf(err, errlen, "%s: rule set \"%s\" is "
				    "defined twice", *f,
				    waf_ruleset_name(sets[*nsets]));
				(*nsets)++;
				goto fail;
			}
		(*nsets)++;
	}
	for (i = 0; i < *nsets; i++)
		if (strcmp(waf_ruleset_name(sets[i]), conf->waf_default_set) == 0)
			return 0;
	snprintf(err, errlen, "waf.default_set: no rule set \"%s\"",
	    conf->waf_default_set);
fail:
	for (i = 0; i < *nsets; i++)
		waf_ruleset_free(sets[i]);
	*nsets = 0;
	return -1;
}

/* The follower's news: labelled containers choose the set of their hosts. */
static void
icap_watch(enum dockerd_change change, const struct dockerd_container *ct,
    void *arg)
{
	const char	*hosts, *set;

	if (icap_main == NULL)
		return;
	hosts = dockerd_label(ct, "io.netcrave.ingress.host");
	set = dockerd_label(ct, "io.netcrave.waf");
	if (change == DOCKERD_CONTAINER_UP && ct->running && hosts != NULL &&
	    set != NULL)
		icap_server_set_service(icap_main, ct->id, hosts, set);
	else
		icap_server_set_service(icap_main, ct->id, NULL, NULL);
}

static int
icap_init(const struct server_env *env, char *err, size_t errlen)
{
	struct waf_ruleset	*sets[ICAP_MAX_SETS];
	struct icap_limits	 limits;
	size_t			 nsets;

	if (env->conf->waf_icap_listen[0] == '\0')
		return 0;
	if (icap_conf_rules(env->conf, sets, &nsets, err, errlen) != 0)
		return -1;
	icap_conf_limits(env->conf, &limits);
	icap_main = icap_server_new(env->base, &limits);
	icap_server_set_rules(icap_main, sets, nsets, env->conf->waf_default_set);
	if (icap_server_listen(icap_main, env->conf->waf_icap_listen, err,
	    errlen) != 0) {
		icap_server_free(icap_main);
		icap_main = NULL;
		return -1;
	}
	log_info("icap: listening on %s, %zu rule sets", env->conf->waf_icap_listen,
	    nsets);
	dockerd_watch(icap_watch, NULL);
	return 0;
}

static int
icap_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct waf_ruleset	*sets[ICAP_MAX_SETS];
	struct icap_limits	 limits;
	size_t			 nsets;

	if (strcmp(old->waf_icap_listen, new->waf_icap_listen) != 0) {
		snprintf(err, errlen, "waf.icap_listen changed, which needs a "
		    "restart");
		return -1;
	}
	if (icap_main == NULL)
		return 0;
	if (icap_conf_rules(new, sets, &nsets, err, errlen) != 0)
		return -1;
	icap_conf_limits(new, &limits);
	icap_server_set_limits(icap_main, &limits);
	icap_server_set_rules(icap_main, sets, nsets, new->waf_default_set);
	return 0;
}

static void
icap_shutdown(void)
{
	if (icap_main != NULL)
		dockerd_unwatch(icap_watch, NULL);
	icap_server_free(icap_main);
	icap_main = NULL;
}

const struct server icap_server_entry = {
	"icap", icap_init, icap_reload, icap_shutdown
};
