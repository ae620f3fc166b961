/* dav_xml.c: expat with namespaces into a small tree for WebDAV bodies; escaping
 * and self-contained serialising for replies and stored property values. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <expat.h>

#include "dav_xml.h"
#include "xmalloc.h"

/* Expat joins namespace and local name with this; attribute values are
 * normalised, so a namespace URI never holds one. */
#define DAV_XML_NS_SEP	'\n'

struct dav_xml_parse {
	XML_Parser	 parser;
	struct dav_xml	*root;
	struct dav_xml	*cur;
	size_t		 nodes;
	size_t		 depth;
	const char	*fail;		/* our own reason to stop */
};

/* A new node under parent (NULL: the root). */
static struct dav_xml *
dav_xml_node_new(struct dav_xml *parent, enum dav_xml_type type)
{
	struct dav_xml	*n;

	n = xcalloc(1, sizeof *n);
	n->type = type;
	n->parent = parent;
	if (parent != NULL) {
		if (parent->last != NULL)
			parent->last->next = n;
		else
			parent->first = n;
		parent->last = n;
	}
	return (n);
}

/* Split expat's "uri\nlocal" into its parts. */
static void
dav_xml_split(const char *qname, char **ns, char **name)
{
	const char	*sep;

	if ((sep = strrchr(qname, DAV_XML_NS_SEP)) != NULL) {
		*ns = xstrndup(qname, sep - qname);
		*name = xstrdup(sep + 1);
	} else {
		*ns = xstrdup("");
		*name = xstrdup(qname);
	}
}

/* Stop with a reason of ours (expat's own errors carry theirs). */
static void
dav_xml_stop(struct dav_xml_parse *p, const char *why)
{
	if (p->fail == NULL)
		p->fail = why;
	XML_StopParser(p->parser, XML_FALSE);
}

/* An element opens. */
static void
dav_xml_start(void *arg, const XML_Char *qname, const XML_Char **attrs)
{
	struct dav_xml_parse	*p = arg;
	struct dav_xml		*n;
	size_t			 i, count;

	if (p->fail != NULL)
		return;
	if (++p->nodes > DAV_XML_MAX_NODES) {
		dav_xml_stop(p, "too many XML nodes");
		return;
	}
	if (++p->depth > DAV_XML_MAX_DEPTH) {
		dav_xml_stop(p, "XML nested too deeply");
		return;
	}
	n = dav_xml_node_new(p->cur, DAV_XML_ELEMENT);
	dav_xml_split(qname, &n->ns, &n->name);
	for (count = 0; attrs[count] != NULL; count += 2)
		;
	count /= 2;
	if (count > 0) {
		n->attrs = xcalloc(count, sizeof *n->attrs);
		for (i = 0; i < count; i++) {
			dav_xml_split(attrs[2 * i], &n->attrs[i].ns,
			    &n->attrs[i].name);
			n->attrs[i].value = xstrdup(attrs[2 * i + 1]);
		}
		n->nattrs = count;
	}
	if (p->root == NULL)
		p->root = n;
	p->cur = n;
}

/* An element closes. */
static void
dav_xml_end(void *arg, const XML_Char *qname)
{
	struct dav_xml_parse	*p = arg;

	if (p->fail != NULL || p->cur == NULL)
		return;
	p->depth--;
	p->cur = p->cur->parent;
}

/* Characters: appended to the last text node or a new one. */
static void
dav_xml_chars(void *arg, const XML_Char *s, int len)
{
	struct dav_xml_parse	*p = arg;
	struct dav_xml		*n;
	size_t			 old;

	if (p->fail != NULL || p->cur == NULL || len <= 0)
		return;
	n = p->cur->last;
	if (n == NULL || n->type != DAV_XML_TEXT) {
		if (++p->nodes > DAV_XML_MAX_NODES) {
			dav_xml_stop(p, "too many XML nodes");
			return;
		}
		n = dav_xml_node_new(p->cur, DAV_XML_TEXT);
		n->text = xstrdup("");
	}
	old = strlen(n->text);
	n->text = xreallocarray(n->text, 1, old + len + 1);
	memcpy(n->text + old, s, len);
	n->text[old + len] = '\0';
}

/* No DTDs: no entities, no expansion bombs, nothing external. */
static void
dav_xml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal)
{
	dav_xml_stop(arg, "DOCTYPE not allowed");
}

/* Parse a body into a tree. */
struct dav_xml *
dav_xml_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct dav_xml_parse	 p;
	enum XML_Status		 st;

	memset(&p, 0, sizeof p);
	if ((p.parser = XML_ParserCreateNS("UTF-8", DAV_XML_NS_SEP)) == NULL) {
		snprintf(err, errlen, "cannot make an XML parser");
		return (NULL);
	}
	XML_SetUserData(p.parser, &p);
	XML_SetElementHandler(p.parser, dav_xml_start, dav_xml_end);
	XML_SetCharacterDataHandler(p.parser, dav_xml_chars);
	XML_SetStartDoctypeDeclHandler(p.parser, dav_xml_doctype);
	if (len > (size_t)INT32_MAX)
		len = INT32_MAX;	/* callers cap bodies far below */
	st = XML_Parse(p.parser, buf, (int)len, XML_TRUE);
	if (st != XML_STATUS_OK || p.fail != NULL || p.root == NULL) {
		snprintf(err, errlen, "XML %lu:%lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(p.parser),
		    (unsigned long)XML_GetCurrentColumnNumber(p.parser) + 1,
		    p.fail != NULL ? p.fail : p.root == NULL && st ==
		    XML_STATUS_OK ? "no element" :
		    XML_ErrorString(XML_GetErrorCode(p.parser)));
		XML_ParserFree(p.parser);
		dav_xml_free(p.root);
		return (NULL);
	}
	XML_ParserFree(p.parser);
	return (p.root);
}

/* Free a tree (iteratively over siblings, recursively over depth <= 64). */
void
dav_xml_free(struct dav_xml *n)
{
	struct dav_xml	*c, *next;
	size_t		 i;

	if (n == NULL)
		return;
	for (c = n->first; c != NULL; c = next) {
		next = c->next;
		dav_xml_free(c);
	}
	for (i = 0; i < n->nattrs; i++) {
		free(n->attrs[i].ns);
		free(n->attrs[i].name);
		free(n->attrs[i].value);
	}
	free(n->attrs);
	free(n->ns);
	free(n->name);
	free(n->text);
	free(n);
}

/* Is n the element {ns}name? */
int
dav_xml_is(const struct dav_xml *n, const char *ns, const char *name)
{
	return (n != NULL && n->type == DAV_XML_ELEMENT &&
	    strcmp(n->ns, ns) == 0 && strcmp(n->name, name) == 0);
}

/* First child element {ns}name. */
struct dav_xml *
dav_xml_child(const struct dav_xml *n, const char *ns, const char *name)
{
	struct dav_xml	*c;

	for (c = n->first; c != NULL; c = c->next) {
		if (dav_xml_is(c, ns, name))
			return (c);
	}
	return (NULL);
}

/* First child that is an element. */
struct dav_xml *
dav_xml_first_element(const struct dav_xml *n)
{
	struct dav_xml	*c;

	for (c = n->first; c != NULL; c = c->next) {
		if (c->type == DAV_XML_ELEMENT)
			return (c);
	}
	return (NULL);
}

/* Next sibling that is an element. */
struct dav_xml *
dav_xml_next_element(const struct dav_xml *n)
{
	struct dav_xml	*c;

	for (c = n->next; c != NULL; c = c->next) {
		if (c->type == DAV_XML_ELEMENT)
			return (c);
	}
	return (NULL);
}

/* Text directly inside n. */
char *
dav_xml_text(const struct dav_xml *n)
{
	struct dav_xml	*c;
	char		*s, *t;

	s = xstrdup("");
	for (c = n->first; c != NULL; c = c->next) {
		if (c->type != DAV_XML_TEXT)
			continue;
		xasprintf(&t, "%s%s", s, c->text);
		free(s);
		s = t;
	}
	return (s);
}

/* Anything but whitespace inside? */
int
dav_xml_has_content(const struct dav_xml *n)
{
	struct dav_xml	*c;

	for (c = n->first; c != NULL; c = c->next) {
		if (c->type == DAV_XML_ELEMENT)
			return (1);
		if (c->text[strspn(c->text, " \t\r\n")] != '\0')
			return (1);
	}
	return (0);
}

/* Escape for element content and attribute values alike. */
void
dav_xml_escape(struct evbuffer *out, const char *s)
{
	const char	*p;
	size_t		 n;

	for (p = s; *p != '\0'; p += n) {
		n = strcspn(p, "&<>\"'\r");
		evbuffer_add(out, p, n);
		if (p[n] == '\0')
			break;
		switch (p[n]) {
		case '&': evbuffer_add(out, "&amp;", 5); break;
		case '<': evbuffer_add(out, "&lt;", 4); break;
		case '>': evbuffer_add(out, "&gt;", 4); break;
		case '"': evbuffer_add(out, "&quot;", 6); break;
		case '\'': evbuffer_add(out, "&apos;", 6); break;
		case '\r': evbuffer_add(out, "&#13;", 5); break;
		}
		n++;
	}
}

/* One element with its own namespace declarations, then its children. */
static void
dav_xml_serialize_element(struct evbuffer *out, const struct dav_xml *n,
    unsigned int depth)
{
	size_t	 i;

	if (strcmp(n->ns, DAV_XML_XML_NS) == 0)
		evbuffer_add_printf(out, "<xml:%s", n->name);
	else if (n->ns[0] != '\0') {
		evbuffer_add_printf(out, "<e%u:%s xmlns:e%u=\"", depth, n->name,
		    depth);
		dav_xml_escape(out, n->ns);
		evbuffer_add(out, "\"", 1);
	} else
		evbuffer_add_printf(out, "<%s xmlns=\"\"", n->name);
	for (i = 0; i < n->nattrs; i++) {
		if (strcmp(n->attrs[i].ns, DAV_XML_XML_NS) == 0)
			evbuffer_add_printf(out, " xml:%s=\"", n->attrs[i].name);
		else if (n->attrs[i].ns[0] != '\0') {
			evbuffer_add_printf(out, " xmlns:a%zu=\"", i);
			dav_xml_escape(out, n->attrs[i].ns);
			evbuffer_add_printf(out, "\" a%zu:%s=\"", i,
			    n->attrs[i].name);
		} else
			evbuffer_add_printf(out, " %s=\"", n->attrs[i].name);
		dav_xml_escape(out, n->attrs[i].value);
		evbuffer_add(out, "\"", 1);
	}
	if (n->first == NULL) {
		evbuffer_add(out, "/>", 2);
		return;
	}
	evbuffer_add(out, ">", 1);
	dav_xml_serialize_children(out, n);
	if (strcmp(n->ns, DAV_XML_XML_NS) == 0)
		evbuffer_add_printf(out, "</xml:%s>", n->name);
	else if (n->ns[0] != '\0')
		evbuffer_add_printf(out, "</e%u:%s>", depth, n->name);
	else
		evbuffer_add_printf(out, "</%s>", n->name);
}

/* The content of n as self-contained XML text. */
void
dav_xml_serialize_children(struct evbuffer *out, const struct dav_xml *n)
{
	const struct dav_xml	*c, *up;
	unsigned int		 depth = 0;

	for (up = n; up != NULL; up = up->parent)
		depth++;
	for (c = n->first; c != NULL; c = c->next) {
		if (c->type == DAV_XML_TEXT)
			dav_xml_escape(out, c->text);
		else
			dav_xml_serialize_element(out, c, depth);
	}
}
