/* dav_xml.h: WebDAV request bodies read by expat (namespaces resolved) into a
 * small tree, and the escaping and serialising that replies and dead
 * properties need. */
#ifndef NETCRAVE_DAV_XML_H
#define NETCRAVE_DAV_XML_H

#include <stddef.h>

struct evbuffer;

#define DAV_NS		"DAV:"
/* Bound to the prefix "xml" by definition; declaring it again is an error. */
#define DAV_XML_XML_NS	"http://www.w3.org/XML/1998/namespace"
#define DAV_XML_MAX_NODES	20000	/* elements and text runs per body */
#define DAV_XML_MAX_DEPTH	64

enum dav_xml_type {
	DAV_XML_ELEMENT,
	DAV_XML_TEXT
};

struct dav_xml_attr {
	char		*ns;		/* "" when none */
	char		*name;
	char		*value;
};

struct dav_xml {
	enum dav_xml_type	 type;
	char			*ns;	/* element: namespace URI, "" when none */
	char			*name;	/* element: local name */
	char			*text;	/* text node: the characters */
	struct dav_xml_attr	*attrs;
	size_t			 nattrs;
	struct dav_xml		*parent;
	struct dav_xml		*first;	/* children in document order */
	struct dav_xml		*last;
	struct dav_xml		*next;
};

/*
 * Parse a whole body.  A DOCTYPE (and with it every entity declaration) is
 * refused, as are more than DAV_XML_MAX_NODES nodes or deeper nesting than
 * DAV_XML_MAX_DEPTH.  Returns the root element, or NULL with "line:column:
 * reason" in err.
 */
struct dav_xml	*dav_xml_parse(const char *buf, size_t len, char *err, size_t errlen);
void		 dav_xml_free(struct dav_xml *);

/* Is node the element {ns}name? */
int		 dav_xml_is(const struct dav_xml *, const char *ns, const char *name);
/* First child element {ns}name, or NULL; next sibling element of any name. */
struct dav_xml	*dav_xml_child(const struct dav_xml *, const char *ns, const char *name);
struct dav_xml	*dav_xml_first_element(const struct dav_xml *);
struct dav_xml	*dav_xml_next_element(const struct dav_xml *);
/* The concatenated text directly inside an element (caller frees). */
char		*dav_xml_text(const struct dav_xml *);
/* Does the element hold anything but whitespace text? */
int		 dav_xml_has_content(const struct dav_xml *);

/*
 * Serialise the children of an element so that the text stands alone: every
 * element declares the namespace it uses, so it can be pasted inside any other
 * document (dead property values, lock owners).
 */
void		 dav_xml_serialize_children(struct evbuffer *, const struct dav_xml *);

/* Append s with &, <, >, " and ' escaped. */
void		 dav_xml_escape(struct evbuffer *, const char *s);

#endif
