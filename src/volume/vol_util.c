/* vol_util.c: the volume client's pure helpers (see vol_util.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "vol_util.h"
#include "xmalloc.h"

char *
vol_path_join(const char *dir, const char *name)
{
	char	*p;

	if (*dir == '\0')
		return (xstrdup(name));
	xasprintf(&p, "%s/%s", dir, name);
	return (p);
}

/* Percent-encode s onto out (which has room for 3 bytes per input byte). */
static char *
vol_encode(char *out, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~' || c == '/')
			*out++ = c;
		else {
			*out++ = '%';
			*out++ = hex[c >> 4];
			*out++ = hex[c & 15];
		}
	}
	return (out);
}

char *
vol_url(const char *volume, const char *path)
{
	char	*url, *p;

	url = xmalloc(3 * (strlen(volume) + strlen(path)) + 3);
	p = url;
	*p++ = '/';
	p = vol_encode(p, volume);
	if (*path != '\0') {
		*p++ = '/';
		p = vol_encode(p, path);
	}
	*p = '\0';
	return (url);
}

static int
vol_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

char *
vol_href_name(const char *href)
{
	const char	*end, *start;
	char		*name, *o;
	int		 hi, lo;

	end = href + strlen(href);
	if (end > href && end[-1] == '/')
		end--;
	for (start = end; start > href && start[-1] != '/'; start--)
		;
	if (start == end)
		return (NULL);
	name = o = xmalloc(end - start + 1);
	for (; start < end; start++) {
		if (*start != '%') {
			*o++ = *start;
			continue;
		}
		if (end - start < 3 || (hi = vol_hexval(start[1])) == -1 ||
		    (lo = vol_hexval(start[2])) == -1 || (hi == 0 && lo == 0) ||
		    (hi << 4 | lo) == '/') {
			free(name);
			return (NULL);
		}
		*o++ = (char)(hi << 4 | lo);
		start += 2;
	}
	*o = '\0';
	return (name);
}

int
vol_status_errno(int status)
{
	switch (status) {
	case 200: case 201: case 204: case 206: case 207:
		return (0);
	case 404:
	case 409:		/* a missing parent */
		return (ENOENT);
	case 403:
		return (EACCES);
	case 405:		/* MKCOL on an existing resource */
	case 412:		/* Overwrite: F, If-None-Match: * */
		return (EEXIST);
	case 413:
		return (EFBIG);
	case 414:
		return (ENAMETOOLONG);
	case 423:
		return (EBUSY);
	case 507:
		return (ENOSPC);
	default:
		return (EIO);
	}
}

/* Grow buf to hold need bytes: doubling, never past cap. */
static void
vol_extent_grow(struct vol_extent *x, size_t need)
{
	size_t	n;

	if (need <= x->alloc)
		return;
	n = x->alloc == 0 ? 65536 : x->alloc;
	while (n < need)
		n *= 2;
	if (n > x->cap)
		n = x->cap;
	x->buf = xreallocarray(x->buf, 1, n);
	x->alloc = n;
}

int
vol_extent_add(struct vol_extent *x, uint64_t off, const void *data, size_t n)
{
	uint64_t	end;

	if (x->len == 0) {
		if (n > x->cap)
			return (-1);
		vol_extent_grow(x, n);
		x->start = off;
		memcpy(x->buf, data, n);
		x->len = n;
		return (0);
	}
	if (off < x->start || off > x->start + x->len)
		return (-1);
	end = off + n;
	if (end - x->start > x->cap)
		return (-1);
	vol_extent_grow(x, end - x->start);
	memcpy(x->buf + (off - x->start), data, n);
	if (end - x->start > x->len)
		x->len = end - x->start;
	return (0);
}

int
vol_extent_full(const struct vol_extent *x)
{
	return (x->len == x->cap);
}

/* Drop the buffer (the extent must be empty or abandoned). */
void
vol_extent_free(struct vol_extent *x)
{
	free(x->buf);
	x->buf = NULL;
	x->alloc = 0;
	x->len = 0;
}

int
vol_opts_parse(const struct json *opts, struct vol_opts *o, char *err,
    size_t errlen)
{
	const struct json	*v;
	size_t			 i;

	memset(o, 0, sizeof *o);
	o->type = VOL_TYPE_DATA;
	if (opts == NULL || opts->type == JSON_NULL)
		return (0);
	if (opts->type != JSON_OBJECT) {
		snprintf(err, errlen, "Opts must be an object");
		return (-1);
	}
	for (i = 0; i < opts->nchildren; i++) {
		v = opts->children[i];
		if (v->type != JSON_STRING || strlen(v->string) != v->string_len) {
			snprintf(err, errlen, "option %s must be a string", v->key);
			goto fail;
		}
		if (strcmp(v->key, "type") == 0) {
			if (strcmp(v->string, "data") == 0)
				o->type = VOL_TYPE_DATA;
			else if (strcmp(v->string, "certs") == 0)
				o->type = VOL_TYPE_CERTS;
			else {
				snprintf(err, errlen, "type=%s: use type=data "
				    "or type=certs", v->string);
				goto fail;
			}
		} else if (strcmp(v->key, "names") == 0) {
			free(o->names);
			o->names = xstrdup(v->string);
		} else if (strcmp(v->key, "issuer") == 0) {
			o->acme = strcmp(v->string, "acme") == 0;
			if (o->acme || strcmp(v->string, "internal") == 0)
				continue;
			snprintf(err, errlen, "issuer=%s: unknown issuer (acme "
			    "or internal)", v->string);
			goto fail;
		} else {
			snprintf(err, errlen, "unknown option %s (known: type, "
			    "names, issuer)", v->key);
			goto fail;
		}
	}
	if (o->type == VOL_TYPE_CERTS && (o->names == NULL ||
	    *o->names == '\0')) {
		snprintf(err, errlen, "type=certs needs names=NAME[,NAME...]");
		goto fail;
	}
	if (o->type == VOL_TYPE_DATA && o->names != NULL) {
		snprintf(err, errlen, "names= is for type=certs only");
		goto fail;
	}
	return (0);
fail:
	vol_opts_clear(o);
	return (-1);
}

void
vol_opts_clear(struct vol_opts *o)
{
	free(o->names);
	o->names = NULL;
}
