/* dav_if.c: parser of the WebDAV If header: No-tag-list or Tagged-list forms,
 * never mixed; conditions are <coded-URL> or [entity-tag], optionally "Not". */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dav_if.h"
#include "xmalloc.h"

/* Skip linear white space. */
static const char *
dav_if_skip(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return (p);
}

/* Text from p up to the closing character, which must come before the end. */
static const char *
dav_if_until(const char *p, char close, char **out)
{
	const char	*e;

	if ((e = strchr(p, close)) == NULL)
		return (NULL);
	*out = xstrndup(p, e - p);
	return (e + 1);
}

/* One parenthesised list of conditions. */
static const char *
dav_if_list(const char *p, struct dav_if_list *l, const char **why)
{
	struct dav_if_cond	*c;
	char			*v;

	p = dav_if_skip(p + 1);	/* past '(' */
	for (;;) {
		p = dav_if_skip(p);
		if (*p == ')')
			break;
		if (l->nconds >= DAV_IF_MAX_CONDS) {
			*why = "too many conditions in a list";
			return (NULL);
		}
		l->conds = xreallocarray(l->conds, l->nconds + 1,
		    sizeof *l->conds);
		c = &l->conds[l->nconds];
		memset(c, 0, sizeof *c);
		if (strncasecmp(p, "Not", 3) == 0) {
			c->negate = 1;
			p = dav_if_skip(p + 3);
		}
		if (*p == '<') {
			if ((p = dav_if_until(p + 1, '>', &v)) == NULL) {
				*why = "unterminated state token";
				return (NULL);
			}
			if (*v == '\0' || strpbrk(v, " \t<") != NULL) {
				free(v);
				*why = "malformed state token";
				return (NULL);
			}
		} else if (*p == '[') {
			if ((p = dav_if_until(p + 1, ']', &v)) == NULL) {
				*why = "unterminated entity tag";
				return (NULL);
			}
			c->is_etag = 1;
		} else {
			*why = *p == '\0' ? "unterminated list" :
			    "expected <state-token> or [etag]";
			return (NULL);
		}
		c->value = v;
		l->nconds++;
	}
	if (l->nconds == 0) {
		*why = "empty list";
		return (NULL);
	}
	return (p + 1);
}

/* Parse the whole header. */
int
dav_if_parse(const char *value, struct dav_if *h, char *err, size_t errlen)
{
	const char		*p = value, *why = NULL, *start;
	char			*tag = NULL;
	int			 tagged = -1;	/* unknown until the first item */
	struct dav_if_list	*l;

	memset(h, 0, sizeof *h);
	for (;;) {
		p = dav_if_skip(p);
		if (*p == '\0')
			break;
		start = p;
		if (*p == '<') {
			if (tagged == 0) {
				why = "tagged list after untagged ones";
				break;
			}
			tagged = 1;
			free(tag);
			if ((p = dav_if_until(p + 1, '>', &tag)) == NULL) {
				tag = NULL;
				p = start;
				why = "unterminated resource tag";
				break;
			}
			p = dav_if_skip(p);
			if (*p != '(') {
				why = "resource tag without a list";
				break;
			}
			continue;
		}
		if (*p != '(') {
			why = "expected '(' or '<'";
			break;
		}
		if (tagged == -1)
			tagged = 0;
		if (h->nlists >= DAV_IF_MAX_LISTS) {
			why = "too many lists";
			break;
		}
		h->lists = xreallocarray(h->lists, h->nlists + 1,
		    sizeof *h->lists);
		l = &h->lists[h->nlists++];
		memset(l, 0, sizeof *l);
		if (tagged == 1)
			l->tag = xstrdup(tag);
		if ((p = dav_if_list(p, l, &why)) == NULL) {
			p = start;
			break;
		}
	}
	free(tag);
	if (why == NULL && h->nlists == 0)
		why = "no list";
	if (why != NULL) {
		snprintf(err, errlen, "If header at offset %zu: %s",
		    (size_t)(p - value), why);
		dav_if_free(h);
		return (-1);
	}
	return (0);
}

/* Free what dav_if_parse made. */
void
dav_if_free(struct dav_if *h)
{
	size_t	 i, j;

	for (i = 0; i < h->nlists; i++) {
		for (j = 0; j < h->lists[i].nconds; j++)
			free(h->lists[i].conds[j].value);
		free(h->lists[i].conds);
		free(h->lists[i].tag);
	}
	free(h->lists);
	memset(h, 0, sizeof *h);
}
