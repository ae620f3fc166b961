/* waf.c: the rule engine: split a message into the pieces rules look at, decode
 * each piece with the rule's transforms, test it with the rule's operator. */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "crypto.h"
#include "json.h"
#include "log.h"
#include "waf.h"
#include "waf_private.h"
#include "xmalloc.h"

#define WAF_MAX_FILE		(4 * 1024 * 1024)
#define WAF_MATCH_LIMIT		200000	/* PCRE2 backtracking steps per match */
#define WAF_MAX_TARGETS		8	/* per condition */
#define WAF_MAX_TRANSFORMS	8	/* per condition */

enum waf_target {
	WAF_T_METHOD,
	WAF_T_URI,		/* request-target as sent */
	WAF_T_PATH,		/* its path, without scheme, authority and query */
	WAF_T_QUERY,		/* its query string, raw */
	WAF_T_VERSION,
	WAF_T_ARGS,		/* query, form, JSON and multipart field values */
	WAF_T_ARG_NAMES,
	WAF_T_FILENAMES,	/* multipart file names */
	WAF_T_HEADERS,		/* every request header value */
	WAF_T_HEADER_NAMES,
	WAF_T_HEADER,		/* the values of one named request header */
	WAF_T_COOKIES,
	WAF_T_COOKIE_NAMES,
	WAF_T_BODY,		/* the request body, raw */
	WAF_T_STATUS,
	WAF_T_RESPONSE_HEADER,	/* the values of one named response header */
	WAF_T_RESPONSE_BODY,
	WAF_T_COUNT
};

static const char *const waf_target_names[WAF_T_COUNT] = {
	"method", "uri", "path", "query", "version", "args", "arg_names",
	"filenames", "headers", "header_names", "header", "cookies",
	"cookie_names", "body", "status", "response_header", "response_body"
};

enum waf_transform {
	WAF_X_URL,
	WAF_X_HTML,
	WAF_X_LOWER,
	WAF_X_PATH,
	WAF_X_SPACE,
	WAF_X_COMMENTS
};

static const char *const waf_transform_names[] = {
	"url", "html", "lower", "path", "space", "comments", NULL
};

enum waf_op {
	WAF_OP_CONTAINS,
	WAF_OP_EQUALS,
	WAF_OP_PREFIX,
	WAF_OP_REGEX,
	WAF_OP_LENGTH_OVER,	/* a piece longer than number bytes */
	WAF_OP_COUNT_OVER,	/* more than number pieces */
	WAF_OP_PRESENT		/* at least one piece */
};

static const char *const waf_op_names[] = {
	"contains", "equals", "prefix", "regex", "length_over", "count_over",
	"present", NULL
};

static const char *const waf_action_names[] = { "allow", "log", "block", NULL };

struct waf_target_ref {
	enum waf_target	 target;
	char		*header;	/* WAF_T_HEADER, WAF_T_RESPONSE_HEADER */
};

struct waf_condition {
	struct waf_target_ref	 targets[WAF_MAX_TARGETS];
	size_t			 ntargets;
	enum waf_transform	 transforms[WAF_MAX_TRANSFORMS];
	size_t			 ntransforms;
	uint32_t		 chain;		/* the transforms as one key */
	enum waf_op		 op;
	char			*value;
	size_t			 value_len;
	unsigned long		 number;
	pcre2_code		*regex;
	int			 negate;
};

struct waf_rule {
	char			*id;
	char			*message;
	enum waf_action		 action;
	struct waf_condition	 conditions[WAF_MAX_CONDITIONS];
	size_t			 nconditions;
};

struct waf_ruleset {
	char		*name;
	struct waf_rule	*rules;
	size_t		 nrules;
};

/* One piece of a message: a pointer into it or into memory the split owns. */
struct waf_piece {
	const char	*data;
	size_t		 len;
};

struct waf_pieces {
	struct waf_piece	*v;
	size_t			 n;
	size_t			 cap;
};

/* A message split once per inspection; every rule reads these lists. */
struct waf_split {
	const struct waf_message *m;
	struct waf_piece	 path;
	struct waf_piece	 query;
	struct waf_pieces	 args;
	struct waf_pieces	 arg_names;
	struct waf_pieces	 filenames;
	struct waf_pieces	 cookies;
	struct waf_pieces	 cookie_names;
	char			 status[8];
	struct json		*json;		/* keeps JSON strings alive */
	/*
	 * Decoded pieces, so that each (piece, transform chain) is decoded
	 * once per message however many rules read it: an open-addressing
	 * table of offsets into one arena.
	 */
	struct waf_decoded	*decoded;
	size_t			 ndecoded;
	size_t			 decoded_cap;	/* a power of two, or 0 */
	char			*arena;
	size_t			 arena_len;
	size_t			 arena_cap;
};

struct waf_decoded {
	const char	*src;		/* NULL: empty slot */
	size_t		 src_len;
	uint32_t	 chain;
	size_t		 off;		/* into the arena */
	size_t		 len;
};

/*
 * The decoded table and arena of the last message, kept for the next one
 * (one loop, one inspection at a time) instead of allocated for each; a
 * table or arena a large message grew past these sizes is freed instead.
 */
#define WAF_KEEP_DECODED	256	/* slots */
#define WAF_KEEP_ARENA		(256 * 1024)
static struct waf_decoded	*waf_kept_decoded;
static size_t			 waf_kept_decoded_cap;
static char			*waf_kept_arena;
static size_t			 waf_kept_arena_cap;

static pcre2_match_context	*waf_match_ctx;
static pcre2_match_data		*waf_match_data;

/* Prepare the shared PCRE2 match context and data once. */
static void
waf_pcre_init(void)
{
	if (waf_match_ctx != NULL)
		return;
	waf_match_ctx = pcre2_match_context_create(NULL);
	if (waf_match_ctx == NULL)
		fatalx("%s: pcre2_match_context_create", __func__);
	pcre2_set_match_limit(waf_match_ctx, WAF_MATCH_LIMIT);
	pcre2_set_depth_limit(waf_match_ctx, WAF_MATCH_LIMIT / 10);
	waf_match_data = pcre2_match_data_create(1, NULL);
	if (waf_match_data == NULL)
		fatalx("%s: pcre2_match_data_create", __func__);
}

/* Look a word up in a NULL-terminated name table; -1 when absent. */
static int
waf_lookup(const char *const *names, const char *word)
{
	int	i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], word) == 0)
			return i;
	return -1;
}

/* Hex digit value, or -1. */
static int
waf_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
waf_decode_url(char *buf, size_t len, int plus_is_space)
{
	size_t	i, o = 0;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (buf[i] == '%' && i + 2 < len &&
		    (hi = waf_hex((unsigned char)buf[i + 1])) >= 0 &&
		    (lo = waf_hex((unsigned char)buf[i + 2])) >= 0) {
			buf[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (buf[i] == '%' && i + 5 < len &&
		    (buf[i + 1] == 'u' || buf[i + 1] == 'U') &&
		    waf_hex((unsigned char)buf[i + 2]) == 0 &&
		    waf_hex((unsigned char)buf[i + 3]) == 0 &&
		    (hi = waf_hex((unsigned char)buf[i + 4])) >= 0 &&
		    (lo = waf_hex((unsigned char)buf[i + 5])) >= 0) {
			/* IIS-style %u00XX, an old evasion. */
			buf[o++] = (char)(hi * 16 + lo);
			i += 5;
		} else if (buf[i] == '+' && plus_is_space)
			buf[o++] = ' ';
		else
			buf[o++] = buf[i];
	}
	return o;
}

/* Write code point cp as UTF-8 at out; returns bytes written (0: invalid). */
static size_t
waf_utf8(char *out, unsigned long cp)
{
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t
waf_decode_html(char *buf, size_t len)
{
	static const struct {
		const char	*name;
		char		 c;
	} named[] = {
		{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' },
		{ "apos", '\'' }, { "nbsp", ' ' }, { "colon", ':' },
		{ "tab", '\t' }, { "newline", '\n' }, { "lpar", '(' },
		{ "rpar", ')' }, { "sol", '/' }, { "bsol", '\\' },
		{ "semi", ';' }, { "equals", '=' }, { "grave", '`' },
		{ NULL, 0 }
	};
	size_t		 i, o = 0, j, k, n;
	unsigned long	 cp;
	char		 tmp[4];
	int		 d, done;

	for (i = 0; i < len; i++) {
		done = 0;
		if (buf[i] == '&' && i + 2 < len && buf[i + 1] == '#') {
			j = i + 2;
			cp = 0;
			if (buf[j] == 'x' || buf[j] == 'X') {
				for (j++, k = j; j < len && j - k < 8 &&
				    (d = waf_hex((unsigned char)buf[j])) >= 0; j++)
					cp = cp * 16 + (unsigned long)d;
			} else {
				for (k = j; j < len && j - k < 9 &&
				    isdigit((unsigned char)buf[j]); j++)
					cp = cp * 10 + (unsigned long)(buf[j] - '0');
			}
			if (j > k && (n = waf_utf8(tmp, cp)) != 0 &&
			    n <= j - i + (j < len && buf[j] == ';')) {
				memcpy(buf + o, tmp, n);
				o += n;
				i = (j < len && buf[j] == ';') ? j : j - 1;
				done = 1;
			}
		} else if (buf[i] == '&') {
			for (k = 0; named[k].name != NULL; k++) {
				n = strlen(named[k].name);
				if (i + 1 + n <= len &&
				    strncasecmp(buf + i + 1, named[k].name, n) == 0) {
					buf[o++] = named[k].c;
					i += n;
					if (i + 1 < len && buf[i + 1] == ';')
						i++;
					done = 1;
					break;
				}
			}
		}
		if (!done)
			buf[o++] = buf[i];
	}
	return o;
}

size_t
waf_lowercase(char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)buf[i]);
	return len;
}

size_t
waf_normalise_path(char *buf, size_t len)
{
	size_t	i, o = 0, seg;

	for (i = 0; i < len; i++) {
		char c = buf[i] == '\\' ? '/' : buf[i];

		if (c == '/' && o > 0 && buf[o - 1] == '/')
			continue;
		buf[o++] = c;
		/* At a segment end, drop "." and pop for "..". */
		if (c != '/' && i + 1 < len && buf[i + 1] != '/' &&
		    buf[i + 1] != '\\')
			continue;
		if (c == '/')
			o--;
		seg = o;
		while (seg > 0 && buf[seg - 1] != '/')
			seg--;
		if (o - seg == 1 && buf[seg] == '.')
			o = seg;
		else if (o - seg == 2 && buf[seg] == '.' && buf[seg + 1] == '.') {
			o = seg > 0 ? seg - 1 : 0;
			while (o > 0 && buf[o - 1] != '/')
				o--;
		}
		if (c == '/' && (o == 0 || buf[o - 1] != '/'))
			buf[o++] = '/';
	}
	return o;
}

size_t
waf_compress_space(char *buf, size_t len)
{
	size_t	i, o = 0;
	int	space = 0;

	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)buf[i]) || buf[i] == '\0') {
			space = 1;
			continue;
		}
		if (space && o > 0)
			buf[o++] = ' ';
		space = 0;
		buf[o++] = buf[i];
	}
	if (space && o > 0)
		buf[o++] = ' ';
	return o;
}

size_t
waf_remove_comments(char *buf, size_t len)
{
	size_t	i, o = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '/' && i + 1 < len && buf[i + 1] == '*') {
			for (i += 2; i + 1 < len &&
			    !(buf[i] == '*' && buf[i + 1] == '/'); i++)
				;
			i = i + 1 < len ? i + 1 : len;
			buf[o++] = ' ';
			continue;
		}
		buf[o++] = buf[i];
	}
	return o;
}

/* A token character of RFC 9110 (field names, methods). */
static int
waf_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
waf_parse_head(const char *buf, size_t len, struct waf_head *h)
{
	const char	*p = buf, *end = buf + len, *eol, *line_end, *sp, *colon;
	const char	*v, *ve;
	size_t		 i;

	memset(h, 0, sizeof *h);
	for (i = 0; p < end; i++) {
		eol = memchr(p, '\n', (size_t)(end - p));
		line_end = eol != NULL ? eol : end;
		if (line_end > p && line_end[-1] == '\r')
			line_end--;
		if (line_end == p)	/* the empty line ends the head */
			return i == 0 ? -1 : 0;
		for (v = p; v < line_end; v++)
			if ((unsigned char)*v < 0x20 && *v != '\t')
				return -1;
		if (i == 0) {
			/* start line: three parts; the last may hold spaces */
			if ((sp = memchr(p, ' ', (size_t)(line_end - p))) == NULL ||
			    sp == p)
				return -1;
			h->start[0] = p;
			h->start_len[0] = (size_t)(sp - p);
			p = sp + 1;
			if ((sp = memchr(p, ' ', (size_t)(line_end - p))) == NULL ||
			    sp == p)
				return -1;
			h->start[1] = p;
			h->start_len[1] = (size_t)(sp - p);
			h->start[2] = sp + 1;
			h->start_len[2] = (size_t)(line_end - sp - 1);
			for (v = h->start[0]; v < h->start[0] + h->start_len[0];
			    v++)
				if (!waf_tchar((unsigned char)*v) && *v != '/')
					return -1;	/* a method or HTTP/1.1 */
		} else {
			if (*p == ' ' || *p == '\t')	/* obsolete folding */
				return -1;
			if (h->nheaders == WAF_MAX_HEADERS ||
			    (colon = memchr(p, ':', (size_t)(line_end - p))) ==
			    NULL || colon == p)
				return -1;
			for (v = p; v < colon; v++)
				if (!waf_tchar((unsigned char)*v))
					return -1;
			v = colon + 1;
			ve = line_end;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			h->headers[h->nheaders].name = p;
			h->headers[h->nheaders].name_len = (size_t)(colon - p);
			h->headers[h->nheaders].value = v;
			h->headers[h->nheaders].value_len = (size_t)(ve - v);
			h->nheaders++;
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return i == 0 && h->start[0] == NULL ? -1 : 0;
}

void
waf_message_from_head(struct waf_message *m, const struct waf_head *h)
{
	memset(m, 0, sizeof *m);
	m->method = h->start[0];
	m->method_len = h->start_len[0];
	m->target = h->start[1];
	m->target_len = h->start_len[1];
	m->version = h->start[2];
	m->version_len = h->start_len[2];
	m->headers = h->headers;
	m->nheaders = h->nheaders;
}

void
waf_incident_id(char out[17])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[8];
	size_t			 i;

	crypto_random(b, sizeof b);
	for (i = 0; i < sizeof b; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0xf];
	}
	out[16] = '\0';
}

/* Append a piece, up to WAF_MAX_VALUES (the rest of a hostile message is
 * still seen whole by the body and uri targets). */
static void
waf_pieces_add(struct waf_pieces *l, const char *data, size_t len)
{
	if (l->n >= WAF_MAX_VALUES)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n].data = data;
	l->v[l->n].len = len;
	l->n++;
}

/* Split "a=1&b=2" (sep '&') or "a=1; b=2" (sep ';') into names and values. */
static void
waf_split_pairs(const char *s, size_t len, char sep, struct waf_pieces *names,
    struct waf_pieces *values)
{
	size_t	i = 0, start, eq;

	while (i < len) {
		while (i < len && (s[i] == ' ' || (sep == ';' && s[i] == '\t')))
			i++;
		start = i;
		while (i < len && s[i] != sep)
			i++;
		if (i > start) {
			for (eq = start; eq < i && s[eq] != '='; eq++)
				;
			waf_pieces_add(names, s + start, eq - start);
			if (eq < i)
				waf_pieces_add(values, s + eq + 1, i - eq - 1);
		}
		i++;
	}
}

/* Case-insensitive search of needle in a bounded string. */
static const char *
waf_memcasemem(const char *hay, size_t hlen, const char *needle)
{
	size_t	nlen = strlen(needle), i;

	for (i = 0; nlen <= hlen && i <= hlen - nlen; i++)
		if (strncasecmp(hay + i, needle, nlen) == 0)
			return hay + i;
	return NULL;
}

/* The first value of header name, or NULL. */
static const struct waf_header *
waf_header_find(const struct waf_header *h, size_t n, const char *name)
{
	size_t	i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (h[i].name_len == len &&
		    strncasecmp(h[i].name, name, len) == 0)
			return &h[i];
	return NULL;
}

/* Walk a JSON tree: member names to arg_names, strings to args. */
static void
waf_split_json(struct waf_split *s, const struct json *j)
{
	size_t	i;

	if (j->key != NULL)
		waf_pieces_add(&s->arg_names, j->key, strlen(j->key));
	if (j->type == JSON_STRING)
		waf_pieces_add(&s->args, j->string, j->string_len);
	for (i = 0; i < j->nchildren; i++)
		waf_split_json(s, j->children[i]);
}

/* A quoted or bare parameter value (name="x" or name=x) out of a header. */
static int
waf_header_param(const char *v, size_t len, const char *param,
    const char **out, size_t *outlen)
{
	const char	*p = v, *end = v + len;
	size_t		 plen = strlen(param);

	while ((p = waf_memcasemem(p, (size_t)(end - p), param)) != NULL) {
		if ((p == v || p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t') &&
		    p + plen < end && p[plen] == '=') {
			p += plen + 1;
			if (p < end && *p == '"') {
				*out = ++p;
				while (p < end && *p != '"')
					p++;
			} else {
				*out = p;
				while (p < end && *p != ';' && *p != ' ')
					p++;
			}
			*outlen = (size_t)(p - *out);
			return 0;
		}
		p += plen;
	}
	return -1;
}

/* Fields of a multipart/form-data body: text parts are args, file names are
 * filenames; file contents are not args (uploads may hold anything). */
static void
waf_split_multipart(struct waf_split *s, const char *body, size_t len,
    const char *boundary, size_t blen)
{
	const char	*p = body, *end = body + len, *next, *hdr_end, *cd;
	const char	*name, *fname;
	size_t		 name_len, fname_len;
	char		 delim[80];
	size_t		 dlen;

	if (blen == 0 || blen > 70)
		return;
	dlen = (size_t)snprintf(delim, sizeof delim, "--%.*s", (int)blen,
	    boundary);
	while ((p = memmem(p, (size_t)(end - p), delim, dlen)) != NULL) {
		p += dlen;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (hdr_end == NULL)
			break;
		next = memmem(hdr_end, (size_t)(end - hdr_end), delim, dlen);
		if (next == NULL)
			next = end;
		cd = waf_memcasemem(p, (size_t)(hdr_end - p),
		    "content-disposition:");
		if (cd != NULL) {
			size_t cdlen = (size_t)(hdr_end - cd);
			const char *eol = memmem(cd, cdlen, "\r\n", 2);

			if (eol != NULL)
				cdlen = (size_t)(eol - cd);
			if (waf_header_param(cd, cdlen, "filename", &fname,
			    &fname_len) == 0)
				waf_pieces_add(&s->filenames, fname, fname_len);
			else {
				const char *v = hdr_end + 4;
				size_t vlen = (size_t)(next - v);

				if (vlen >= 2 && v[vlen - 2] == '\r')
					vlen -= 2;
				waf_pieces_add(&s->args, v, vlen);
			}
			if (waf_header_param(cd, cdlen, "name", &name,
			    &name_len) == 0)
				waf_pieces_add(&s->arg_names, name, name_len);
		}
		p = next;
	}
}

/* Split the request body by its content type. */
static void
waf_split_body(struct waf_split *s)
{
	const struct waf_message	*m = s->m;
	const struct waf_header		*ct;
	struct json_error		 jerr;
	const char			*boundary;
	size_t				 blen;

	if (m->body_len == 0)
		return;
	ct = waf_header_find(m->headers, m->nheaders, "content-type");
	if (ct != NULL && waf_memcasemem(ct->value, ct->value_len,
	    "application/x-www-form-urlencoded") != NULL) {
		waf_split_pairs(m->body, m->body_len, '&', &s->arg_names,
		    &s->args);
		return;
	}
	if (ct != NULL && waf_memcasemem(ct->value, ct->value_len,
	    "multipart/form-data") != NULL) {
		if (waf_header_param(ct->value, ct->value_len, "boundary",
		    &boundary, &blen) == 0)
			waf_split_multipart(s, m->body, m->body_len, boundary,
			    blen);
		return;
	}
	if (ct != NULL && waf_memcasemem(ct->value, ct->value_len, "json")
	    != NULL && !m->body_truncated) {
		s->json = json_parse(m->body, m->body_len, 0, &jerr);
		if (s->json != NULL) {
			waf_split_json(s, s->json);
			return;
		}
	}
	/* Anything else textual (or unparsable JSON) is one argument. */
	if (ct == NULL || waf_memcasemem(ct->value, ct->value_len, "text/")
	    != NULL || waf_memcasemem(ct->value, ct->value_len, "xml") != NULL ||
	    waf_memcasemem(ct->value, ct->value_len, "json") != NULL)
		waf_pieces_add(&s->args, m->body, m->body_len);
}

/* Split the message into every list the rules read. */
static void
waf_split_message(struct waf_split *s, const struct waf_message *m)
{
	const char	*t = m->target, *end = m->target + m->target_len, *q;
	size_t		 i;

	memset(s, 0, sizeof *s);
	s->m = m;
	/* Take the kept table (all slots empty) and arena. */
	s->decoded = waf_kept_decoded;
	s->decoded_cap = waf_kept_decoded_cap;
	s->arena = waf_kept_arena;
	s->arena_cap = waf_kept_arena_cap;
	waf_kept_decoded = NULL;
	waf_kept_decoded_cap = 0;
	waf_kept_arena = NULL;
	waf_kept_arena_cap = 0;
	/* absolute-form (a forward proxy's request): skip scheme://authority */
	if (m->target_len > 3 && (q = memmem(t, m->target_len, "://", 3))
	    != NULL && memchr(t, '/', (size_t)(q - t)) == NULL) {
		t = q + 3;
		while (t < end && *t != '/' && *t != '?')
			t++;
	}
	q = memchr(t, '?', (size_t)(end - t));
	s->path.data = t;
	s->path.len = (size_t)((q != NULL ? q : end) - t);
	if (q != NULL) {
		s->query.data = q + 1;
		s->query.len = (size_t)(end - q - 1);
		waf_split_pairs(s->query.data, s->query.len, '&',
		    &s->arg_names, &s->args);
	}
	waf_split_body(s);
	for (i = 0; i < m->nheaders; i++)
		if (m->headers[i].name_len == 6 &&
		    strncasecmp(m->headers[i].name, "cookie", 6) == 0)
			waf_split_pairs(m->headers[i].value,
			    m->headers[i].value_len, ';', &s->cookie_names,
			    &s->cookies);
	if (m->has_response)
		snprintf(s->status, sizeof s->status, "%d", m->status);
}

static void
waf_split_free(struct waf_split *s)
{
	free(s->args.v);
	free(s->arg_names.v);
	free(s->filenames.v);
	free(s->cookies.v);
	free(s->cookie_names.v);
	json_free(s->json);
	if (s->decoded_cap <= WAF_KEEP_DECODED && waf_kept_decoded == NULL) {
		if (s->ndecoded > 0)
			memset(s->decoded, 0, s->decoded_cap *
			    sizeof *s->decoded);
		waf_kept_decoded = s->decoded;
		waf_kept_decoded_cap = s->decoded_cap;
	} else
		free(s->decoded);
	if (s->arena_cap <= WAF_KEEP_ARENA && waf_kept_arena == NULL) {
		waf_kept_arena = s->arena;
		waf_kept_arena_cap = s->arena_cap;
	} else
		free(s->arena);
}

/* The pieces one target names, into l (cleared first). */
static void
waf_target_pieces(struct waf_split *s, const struct waf_target_ref *t,
    struct waf_pieces *l)
{
	const struct waf_message	*m = s->m;
	const struct waf_pieces		*src = NULL;
	const struct waf_header		*h = m->headers;
	size_t				 i, nh = m->nheaders;

	l->n = 0;
	switch (t->target) {
	case WAF_T_METHOD:
		waf_pieces_add(l, m->method, m->method_len);
		break;
	case WAF_T_URI:
		waf_pieces_add(l, m->target, m->target_len);
		break;
	case WAF_T_PATH:
		waf_pieces_add(l, s->path.data, s->path.len);
		break;
	case WAF_T_QUERY:
		if (s->query.data != NULL)
			waf_pieces_add(l, s->query.data, s->query.len);
		break;
	case WAF_T_VERSION:
		waf_pieces_add(l, m->version, m->version_len);
		break;
	case WAF_T_ARGS:
		src = &s->args;
		break;
	case WAF_T_ARG_NAMES:
		src = &s->arg_names;
		break;
	case WAF_T_FILENAMES:
		src = &s->filenames;
		break;
	case WAF_T_COOKIES:
		src = &s->cookies;
		break;
	case WAF_T_COOKIE_NAMES:
		src = &s->cookie_names;
		break;
	case WAF_T_HEADERS:
		for (i = 0; i < nh; i++)
			waf_pieces_add(l, h[i].value, h[i].value_len);
		break;
	case WAF_T_HEADER_NAMES:
		for (i = 0; i < nh; i++)
			waf_pieces_add(l, h[i].name, h[i].name_len);
		break;
	case WAF_T_RESPONSE_HEADER:
		h = m->response_headers;
		nh = m->has_response ? m->nresponse_headers : 0;
		/* FALLTHROUGH */
	case WAF_T_HEADER:
		for (i = 0; i < nh; i++)
			if (h[i].name_len == strlen(t->header) &&
			    strncasecmp(h[i].name, t->header,
			    h[i].name_len) == 0)
				waf_pieces_add(l, h[i].value, h[i].value_len);
		break;
	case WAF_T_BODY:
		if (m->body_len > 0)
			waf_pieces_add(l, m->body, m->body_len);
		break;
	case WAF_T_STATUS:
		if (m->has_response)
			waf_pieces_add(l, s->status, strlen(s->status));
		break;
	case WAF_T_RESPONSE_BODY:
		if (m->has_response && m->response_body_len > 0)
			waf_pieces_add(l, m->response_body,
			    m->response_body_len);
		break;
	case WAF_T_COUNT:
		break;
	}
	if (src != NULL)
		for (i = 0; i < src->n; i++)
			waf_pieces_add(l, src->v[i].data, src->v[i].len);
}

/* Does one (already transformed) piece satisfy the operator? */
static int
waf_op_test(const struct waf_condition *c, const char *v, size_t len)
{
	int	rc;

	switch (c->op) {
	case WAF_OP_CONTAINS:
		return memmem(v, len, c->value, c->value_len) != NULL;
	case WAF_OP_EQUALS:
		return len == c->value_len && memcmp(v, c->value, len) == 0;
	case WAF_OP_PREFIX:
		return len >= c->value_len && memcmp(v, c->value,
		    c->value_len) == 0;
	case WAF_OP_REGEX:
		rc = pcre2_match(c->regex, (PCRE2_SPTR)v, len, 0, 0,
		    waf_match_data, waf_match_ctx);
		if (rc >= 0)
			return 1;
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		/* A match limit hit on hostile input: fail closed. */
		log_warnx("waf: regex error %d, treated as a match", rc);
		return 1;
	case WAF_OP_LENGTH_OVER:
		return len > c->number;
	default:
		return 0;
	}
}

/* The slot of (src, len, chain) in the decoded table: its entry or the empty
 * slot where it belongs. */
static struct waf_decoded *
waf_decoded_slot(struct waf_decoded *tab, size_t cap, const char *src,
    size_t len, uint32_t chain)
{
	size_t	h;

	h = ((size_t)(uintptr_t)src * 31 + len) * 31 + chain;
	h ^= h >> 17;
	for (h &= cap - 1;; h = (h + 1) & (cap - 1))
		if (tab[h].src == NULL || (tab[h].src == src &&
		    tab[h].src_len == len && tab[h].chain == chain))
			return &tab[h];
}

/* Double the decoded table (kept at most half full). */
static void
waf_decoded_grow(struct waf_split *s)
{
	struct waf_decoded	*old = s->decoded, *e;
	size_t			 oldcap = s->decoded_cap, i;

	s->decoded_cap = oldcap ? oldcap * 2 : 64;
	s->decoded = xcalloc(s->decoded_cap, sizeof *s->decoded);
	for (i = 0; i < oldcap; i++) {
		if (old[i].src == NULL)
			continue;
		e = waf_decoded_slot(s->decoded, s->decoded_cap, old[i].src,
		    old[i].src_len, old[i].chain);
		*e = old[i];
	}
	free(old);
}

/*
 * The piece after the condition's transforms, decoded once per message and
 * chain.  The pointer is good until the next call (the arena may move).
 */
static const char *
waf_transform(struct waf_split *s, const struct waf_condition *c,
    const char *v, size_t *len)
{
	struct waf_decoded	*e;
	char			*buf;
	size_t			 i, n = *len;

	if (c->ntransforms == 0)
		return v;
	if (2 * (s->ndecoded + 1) > s->decoded_cap)
		waf_decoded_grow(s);
	e = waf_decoded_slot(s->decoded, s->decoded_cap, v, n, c->chain);
	if (e->src != NULL) {
		*len = e->len;
		return s->arena + e->off;
	}
	if (s->arena_cap - s->arena_len < n + 1) {
		s->arena_cap = s->arena_cap * 2 > s->arena_len + n + 1 ?
		    s->arena_cap * 2 : s->arena_len + n + 1 + 4096;
		s->arena = xreallocarray(s->arena, s->arena_cap, 1);
	}
	buf = s->arena + s->arena_len;
	memcpy(buf, v, n);
	for (i = 0; i < c->ntransforms; i++) {
		switch (c->transforms[i]) {
		case WAF_X_URL:
			n = waf_decode_url(buf, n, 1);
			break;
		case WAF_X_HTML:
			n = waf_decode_html(buf, n);
			break;
		case WAF_X_LOWER:
			n = waf_lowercase(buf, n);
			break;
		case WAF_X_PATH:
			n = waf_normalise_path(buf, n);
			break;
		case WAF_X_SPACE:
			n = waf_compress_space(buf, n);
			break;
		case WAF_X_COMMENTS:
			n = waf_remove_comments(buf, n);
			break;
		}
	}
	e->src = v;
	e->src_len = *len;
	e->chain = c->chain;
	e->off = s->arena_len;
	e->len = n;
	s->ndecoded++;
	s->arena_len += n;
	*len = n;
	return buf;
}

/* Does the condition hold for this message? */
static int
waf_condition_holds(struct waf_split *s, const struct waf_condition *c,
    struct waf_pieces *l)
{
	size_t		 t, i, len, count = 0;
	const char	*v;
	int		 hit = 0;

	for (t = 0; t < c->ntargets && !hit; t++) {
		waf_target_pieces(s, &c->targets[t], l);
		count += l->n;
		if (c->op == WAF_OP_PRESENT || c->op == WAF_OP_COUNT_OVER)
			continue;
		for (i = 0; i < l->n && !hit; i++) {
			len = l->v[i].len;
			v = waf_transform(s, c, l->v[i].data, &len);
			hit = waf_op_test(c, v, len);
		}
	}
	if (c->op == WAF_OP_PRESENT)
		hit = count > 0;
	else if (c->op == WAF_OP_COUNT_OVER)
		hit = count > c->number;
	return c->negate ? !hit : hit;
}

void
waf_inspect(const struct waf_ruleset *set, const struct waf_message *m,
    struct waf_verdict *verdict)
{
	struct waf_split	 s;
	struct waf_pieces	 l = { NULL, 0, 0 };
	const struct waf_rule	*r;
	size_t			 i, j;

	memset(verdict, 0, sizeof *verdict);
	verdict->action = WAF_ALLOW;
	waf_pcre_init();
	waf_split_message(&s, m);
	for (i = 0; i < set->nrules; i++) {
		r = &set->rules[i];
		for (j = 0; j < r->nconditions; j++)
			if (!waf_condition_holds(&s, &r->conditions[j], &l))
				break;
		if (j < r->nconditions)
			continue;
		if (r->action == WAF_LOG) {
			verdict->logged++;
			log_info("waf: set %s rule %s matched (log): %s",
			    set->name, r->id, r->message);
			continue;
		}
		verdict->action = r->action;
		snprintf(verdict->rule_id, sizeof verdict->rule_id, "%s", r->id);
		snprintf(verdict->message, sizeof verdict->message, "%s",
		    r->message);
		break;
	}
	free(l.v);
	waf_split_free(&s);
}

/* Set up one condition from its words; -1 with err when one is wrong. */
static int
waf_condition_init(struct waf_condition *c, char *const *targets,
    size_t ntargets, char *const *transforms, size_t ntransforms,
    const char *op, const char *value, int negate, char *err, size_t errlen)
{
	int		 k, errcode;
	PCRE2_SIZE	 erroff;
	char		 msg[128], *end;
	const char	*colon;

	memset(c, 0, sizeof *c);
	c->negate = negate;
	if (ntargets == 0 || ntargets > WAF_MAX_TARGETS) {
		snprintf(err, errlen, "1 to %d targets", WAF_MAX_TARGETS);
		return -1;
	}
	for (; c->ntargets < ntargets; c->ntargets++) {
		const char *t = targets[c->ntargets];
		struct waf_target_ref *ref = &c->targets[c->ntargets];

		if ((colon = strchr(t, ':')) != NULL &&
		    (strncmp(t, "header:", 7) == 0 ||
		    strncmp(t, "response_header:", 16) == 0) && colon[1] != '\0') {
			ref->target = t[0] == 'h' ? WAF_T_HEADER :
			    WAF_T_RESPONSE_HEADER;
			ref->header = xstrdup(colon + 1);
			continue;
		}
		for (k = 0; k < WAF_T_COUNT; k++)
			if (k != WAF_T_HEADER && k != WAF_T_RESPONSE_HEADER &&
			    strcmp(waf_target_names[k], t) == 0)
				break;
		if (k == WAF_T_COUNT) {
			snprintf(err, errlen, "unknown target \"%s\"", t);
			return -1;
		}
		ref->target = (enum waf_target)k;
	}
	if (ntransforms > WAF_MAX_TRANSFORMS) {
		snprintf(err, errlen, "at most %d transforms",
		    WAF_MAX_TRANSFORMS);
		return -1;
	}
	for (; c->ntransforms < ntransforms; c->ntransforms++) {
		k = waf_lookup(waf_transform_names,
		    transforms[c->ntransforms]);
		if (k < 0) {
			snprintf(err, errlen, "unknown transform \"%s\"",
			    transforms[c->ntransforms]);
			return -1;
		}
		c->transforms[c->ntransforms] = (enum waf_transform)k;
		/* base 8 digits after a leading 1: distinct per chain */
		c->chain = (c->chain ? c->chain : 1) * 8 + (uint32_t)k;
	}
	if ((k = waf_lookup(waf_op_names, op)) < 0) {
		snprintf(err, errlen, "unknown op \"%s\"", op);
		return -1;
	}
	c->op = (enum waf_op)k;
	if (c->op == WAF_OP_PRESENT)
		return 0;
	if (value == NULL) {
		snprintf(err, errlen, "op %s needs a value", op);
		return -1;
	}
	c->value = xstrdup(value);
	c->value_len = strlen(value);
	switch (c->op) {
	case WAF_OP_LENGTH_OVER:
	case WAF_OP_COUNT_OVER:
		errno = 0;
		c->number = strtoul(value, &end, 10);
		if (*value == '\0' || *end != '\0' || errno != 0) {
			snprintf(err, errlen, "op %s needs a number", op);
			return -1;
		}
		break;
	case WAF_OP_REGEX:
		c->regex = pcre2_compile((PCRE2_SPTR)value, PCRE2_ZERO_TERMINATED,
		    PCRE2_DOTALL, &errcode, &erroff, NULL);
		if (c->regex == NULL) {
			pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg,
			    sizeof msg);
			snprintf(err, errlen, "regex at offset %zu: %s",
			    (size_t)erroff, msg);
			return -1;
		}
		/* JIT where the machine has it; the interpreter otherwise. */
		(void)pcre2_jit_compile(c->regex, PCRE2_JIT_COMPLETE);
		break;
	default:
		break;
	}
	return 0;
}

static void
waf_condition_free(struct waf_condition *c)
{
	size_t	i;

	for (i = 0; i < c->ntargets; i++)
		free(c->targets[i].header);
	free(c->value);
	pcre2_code_free(c->regex);
}

void
waf_ruleset_free(struct waf_ruleset *set)
{
	size_t	i, j;

	if (set == NULL)
		return;
	for (i = 0; i < set->nrules; i++) {
		for (j = 0; j < set->rules[i].nconditions; j++)
			waf_condition_free(&set->rules[i].conditions[j]);
		free(set->rules[i].id);
		free(set->rules[i].message);
	}
	free(set->rules);
	free(set->name);
	free(set);
}

const char *
waf_ruleset_name(const struct waf_ruleset *set)
{
	return set->name;
}

size_t
waf_ruleset_count(const struct waf_ruleset *set)
{
	return set->nrules;
}

int
waf_ruleset_reads(const struct waf_ruleset *set, enum waf_part part)
{
	const struct waf_condition	*c;
	size_t				 i, j, k;
	enum waf_target			 t;

	for (i = 0; i < set->nrules; i++)
		for (j = 0; j < set->rules[i].nconditions; j++) {
			c = &set->rules[i].conditions[j];
			for (k = 0; k < c->ntargets; k++) {
				t = c->targets[k].target;
				if (part == WAF_PART_REQUEST_BODY &&
				    (t == WAF_T_ARGS || t == WAF_T_ARG_NAMES ||
				    t == WAF_T_FILENAMES || t == WAF_T_BODY))
					return 1;
				if (part == WAF_PART_RESPONSE &&
				    (t == WAF_T_STATUS ||
				    t == WAF_T_RESPONSE_HEADER ||
				    t == WAF_T_RESPONSE_BODY))
					return 1;
			}
		}
	return 0;
}

/* An empty set to fill. */
static struct waf_ruleset *
waf_ruleset_new(const char *name, size_t nrules)
{
	struct waf_ruleset	*set;

	set = xcalloc(1, sizeof *set);
	set->name = xstrdup(name);
	set->rules = xcalloc(nrules ? nrules : 1, sizeof *set->rules);
	return set;
}

/* Split "a|b|c" into at most max words (in place); returns the count. */
static size_t
waf_words(char *s, char **out, size_t max)
{
	size_t	n = 0;
	char	*w;

	while ((w = strsep(&s, "|")) != NULL && n < max + 1)
		if (*w != '\0')
			out[n++] = w;
	return n;
}

struct waf_ruleset *
waf_ruleset_default(void)
{
	struct waf_ruleset		*set;
	const struct waf_builtin_rule	*b;
	struct waf_rule			*r;
	char				 tbuf[256], xbuf[128], err[256];
	char				*targets[WAF_MAX_TARGETS + 1];
	char				*transforms[WAF_MAX_TRANSFORMS + 1];
	size_t				 n, i, nt, nx;

	for (n = 0; waf_builtin_rules[n].id != NULL; n++)
		;
	set = waf_ruleset_new("default", n);
	for (i = 0; i < n; i++) {
		b = &waf_builtin_rules[i];
		r = &set->rules[i];
		r->id = xstrdup(b->id);
		r->message = xstrdup(b->message);
		r->action = b->action;
		for (; r->nconditions < WAF_MAX_CONDITIONS &&
		    b->conditions[r->nconditions].targets != NULL;
		    r->nconditions++) {
			const struct waf_builtin_condition *bc =
			    &b->conditions[r->nconditions];

			snprintf(tbuf, sizeof tbuf, "%s", bc->targets);
			snprintf(xbuf, sizeof xbuf, "%s",
			    bc->transforms ? bc->transforms : "");
			nt = waf_words(tbuf, targets, WAF_MAX_TARGETS);
			nx = waf_words(xbuf, transforms, WAF_MAX_TRANSFORMS);
			if (waf_condition_init(&r->conditions[r->nconditions],
			    targets, nt, transforms, nx, bc->op, bc->value,
			    bc->negate, err, sizeof err) != 0)
				fatalx("%s: built-in rule %s: %s", __func__,
				    b->id, err);
		}
		set->nrules++;
	}
	return set;
}

/* Strings of a JSON string-or-array member into out (pointers into j). */
static int
waf_json_strings(const struct json *j, const char *key, char **out, size_t max,
    size_t *n, char *err, size_t errlen)
{
	const struct json	*v = json_get(j, key);
	size_t			 i;

	*n = 0;
	if (v == NULL)
		return 0;
	if (v->type == JSON_STRING && strlen(v->string) == v->string_len) {
		out[(*n)++] = v->string;
		return 0;
	}
	if (v->type != JSON_ARRAY || v->nchildren > max) {
		snprintf(err, errlen, "%u:%u: %s: a string or an array of at "
		    "most %zu strings", v->line, v->column, key, max);
		return -1;
	}
	for (i = 0; i < v->nchildren; i++) {
		if (v->children[i]->type != JSON_STRING || strlen(
		    v->children[i]->string) != v->children[i]->string_len) {
			snprintf(err, errlen, "%u:%u: %s: strings only",
			    v->children[i]->line, v->children[i]->column, key);
			return -1;
		}
		out[(*n)++] = v->children[i]->string;
	}
	return 0;
}

/* One condition object of a rule. */
static int
waf_condition_from_json(struct waf_condition *c, const struct json *j,
    char *err, size_t errlen)
{
	char		*targets[WAF_MAX_TARGETS], *transforms[WAF_MAX_TRANSFORMS];
	size_t		 nt, nx;
	const char	*op, *value;
	int		 negate = 0;
	char		 why[192];

	if (j->type != JSON_OBJECT) {
		snprintf(err, errlen, "%u:%u: a condition is an object",
		    j->line, j->column);
		return -1;
	}
	if (waf_json_strings(j, "target", targets, WAF_MAX_TARGETS, &nt,
	    err, errlen) != 0 || waf_json_strings(j, "transforms", transforms,
	    WAF_MAX_TRANSFORMS, &nx, err, errlen) != 0)
		return -1;
	if ((op = json_get_string(j, "op")) == NULL) {
		snprintf(err, errlen, "%u:%u: op: a string is required",
		    j->line, j->column);
		return -1;
	}
	value = json_get_string(j, "value");
	if (json_get(j, "negate") != NULL &&
	    json_get_bool(j, "negate", &negate) != 0) {
		snprintf(err, errlen, "%u:%u: negate: true or false",
		    j->line, j->column);
		return -1;
	}
	if (waf_condition_init(c, targets, nt, transforms, nx, op, value,
	    negate, why, sizeof why) != 0) {
		snprintf(err, errlen, "%u:%u: %s", j->line, j->column, why);
		return -1;
	}
	return 0;
}

struct waf_ruleset *
waf_ruleset_from_json(const char *name, const struct json *root, char *err,
    size_t errlen)
{
	struct waf_ruleset	*set;
	const struct json	*rules, *rj, *conds;
	struct waf_rule		*r;
	const char		*id, *action, *msg;
	size_t			 i, k;
	int			 a;

	rules = json_get(root, "rules");
	if (rules == NULL || rules->type != JSON_ARRAY ||
	    rules->nchildren > WAF_MAX_RULES) {
		snprintf(err, errlen, "rules: an array of at most %d rules",
		    WAF_MAX_RULES);
		return NULL;
	}
	set = waf_ruleset_new(name, rules->nchildren);
	for (i = 0; i < rules->nchildren; i++) {
		rj = rules->children[i];
		r = &set->rules[i];
		id = json_get_string(rj, "id");
		action = json_get_string(rj, "action");
		msg = json_get_string(rj, "msg");
		conds = json_get(rj, "if");
		if (id == NULL || action == NULL ||
		    (a = waf_lookup(waf_action_names, action)) < 0) {
			snprintf(err, errlen, "%u:%u: a rule needs \"id\" and "
			    "\"action\" (allow, log or block)", rj->line,
			    rj->column);
			goto fail;
		}
		if (conds == NULL || conds->type != JSON_ARRAY ||
		    conds->nchildren == 0 ||
		    conds->nchildren > WAF_MAX_CONDITIONS) {
			snprintf(err, errlen, "%u:%u: rule %s: \"if\" is an "
			    "array of 1 to %d conditions", rj->line, rj->column,
			    id, WAF_MAX_CONDITIONS);
			goto fail;
		}
		r->id = xstrdup(id);
		r->message = xstrdup(msg != NULL ? msg : id);
		r->action = (enum waf_action)a;
		set->nrules++;
		for (k = 0; k < conds->nchildren; k++) {
			if (waf_condition_from_json(&r->conditions[k],
			    conds->children[k], err, errlen) != 0) {
				waf_condition_free(&r->conditions[k]);
				goto fail;
			}
			r->nconditions++;
		}
	}
	return set;
fail:
	waf_ruleset_free(set);
	return NULL;
}

struct waf_ruleset *
waf_ruleset_load(const char *path, char *err, size_t errlen)
{
	struct waf_ruleset	*set = NULL;
	struct json		*root;
	struct json_error	 jerr;
	struct stat		 st;
	const char		*name;
	char			*text, why[256];
	ssize_t			 n;
	size_t			 off = 0;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > WAF_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, WAF_MAX_FILE);
		close(fd);
		return NULL;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size &&
	    (n = read(fd, text + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	root = json_parse(text, off, 1, &jerr);
	free(text);
	if (root == NULL) {
		snprintf(err, errlen, "%s:%u:%u: %s", path, jerr.line,
		    jerr.column, jerr.message);
		return NULL;
	}
	if ((name = json_get_string(root, "name")) == NULL ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
	    strlen(name) || *name == '\0' || strlen(name) > 64)
		snprintf(err, errlen, "%s: \"name\": [a-z0-9_-]{1,64} is "
		    "required", path);
	else if ((set = waf_ruleset_from_json(name, root, why,
	    sizeof why)) == NULL)
		snprintf(err, errlen, "%s:%s", path, why);
	json_free(root);
	return set;
}
