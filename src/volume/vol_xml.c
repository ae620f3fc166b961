/* vol_xml.c: the PROPFIND multistatus replies the volume client reads,
 * parsed by expat as a stream: listings of 10,000s of members are far past
 * what a request-body tree (dav_xml.c) should ever hold, and only four
 * properties matter here. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>

#include "vol_util.h"
#include "xmalloc.h"

/* Elements by their "DAV:" local names (expat joins URI and name with ' '). */
enum vol_xml_el {
	EL_OTHER,
	EL_RESPONSE,
	EL_HREF,
	EL_PROPSTAT,
	EL_STATUS,
	EL_COLLECTION,
	EL_LENGTH,
	EL_MODIFIED
};

#define VOL_XML_TEXT_MAX	8192

struct vol_xml_state {
	XML_Parser	 p;
	struct vol_entry *e;
	size_t		 n;
	int		 in_response;
	int		 failed;
	enum vol_xml_el	 text_el;	/* element whose text is being gathered */
	char		 text[VOL_XML_TEXT_MAX];
	size_t		 textlen;
	/* Properties of the current propstat, applied if its status is 200. */
	int		 ps_dir;
	uint64_t	 ps_size;
	time_t		 ps_mtime;
	int		 ps_ok;
};

static enum vol_xml_el
vol_xml_el(const char *name)
{
	static const struct {
		const char	*name;
		enum vol_xml_el	 el;
	} els[] = {
		{ "DAV: response", EL_RESPONSE },
		{ "DAV: href", EL_HREF },
		{ "DAV: propstat", EL_PROPSTAT },
		{ "DAV: status", EL_STATUS },
		{ "DAV: collection", EL_COLLECTION },
		{ "DAV: getcontentlength", EL_LENGTH },
		{ "DAV: getlastmodified", EL_MODIFIED },
	};
	size_t	i;

	for (i = 0; i < sizeof els / sizeof els[0]; i++)
		if (strcmp(name, els[i].name) == 0)
			return (els[i].el);
	return (EL_OTHER);
}

static void
vol_xml_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct vol_xml_state	*s = arg;
	enum vol_xml_el		 el = vol_xml_el(name);

	switch (el) {
	case EL_RESPONSE:
		s->e = xreallocarray(s->e, s->n + 1, sizeof *s->e);
		memset(&s->e[s->n], 0, sizeof s->e[s->n]);
		s->n++;
		s->in_response = 1;
		break;
	case EL_PROPSTAT:
		s->ps_dir = 0;
		s->ps_size = 0;
		s->ps_mtime = 0;
		s->ps_ok = 0;
		break;
	case EL_COLLECTION:
		s->ps_dir = 1;
		break;
	case EL_HREF:
	case EL_STATUS:
	case EL_LENGTH:
	case EL_MODIFIED:
		s->text_el = el;
		s->textlen = 0;
		break;
	default:
		break;
	}
}

static void
vol_xml_end(void *arg, const XML_Char *name)
{
	struct vol_xml_state	*s = arg;
	enum vol_xml_el		 el = vol_xml_el(name);
	struct vol_entry	*e;
	struct tm		 tm;

	if (!s->in_response)
		return;
	e = &s->e[s->n - 1];
	if (el == s->text_el && el != EL_OTHER) {
		s->text[s->textlen] = '\0';
		s->text_el = EL_OTHER;
	}
	switch (el) {
	case EL_RESPONSE:
		s->in_response = 0;
		break;
	case EL_HREF:
		if (e->name == NULL && !e->bad) {
			e->name = vol_href_name(s->text);
			if (e->name == NULL)
				e->bad = 1;
		}
		break;
	case EL_STATUS:
		s->ps_ok = strstr(s->text, " 200") != NULL;
		break;
	case EL_LENGTH:
		s->ps_size = strtoull(s->text, NULL, 10);
		break;
	case EL_MODIFIED:
		memset(&tm, 0, sizeof tm);
		if (strptime(s->text, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL)
			s->ps_mtime = timegm(&tm);
		break;
	case EL_PROPSTAT:
		if (s->ps_ok) {
			e->is_dir |= s->ps_dir;
			if (s->ps_size != 0)
				e->size = s->ps_size;
			if (s->ps_mtime != 0)
				e->mtime = s->ps_mtime;
		}
		break;
	default:
		break;
	}
}

static void
vol_xml_text(void *arg, const XML_Char *text, int len)
{
	struct vol_xml_state	*s = arg;

	if (s->text_el == EL_OTHER)
		return;
	if (s->textlen + len >= VOL_XML_TEXT_MAX) {
		s->failed = 1;
		XML_StopParser(s->p, XML_FALSE);
		return;
	}
	memcpy(s->text + s->textlen, text, len);
	s->textlen += len;
}

/* No DOCTYPE, so no entity can expand. */
static void
vol_xml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	struct vol_xml_state	*s = arg;

	s->failed = 1;
	XML_StopParser(s->p, XML_FALSE);
}

int
vol_multistatus_parse(const char *buf, size_t len, struct vol_entry **out,
    size_t *nout)
{
	struct vol_xml_state	*s;
	int			 rv = -1;

	*out = NULL;
	*nout = 0;
	s = xcalloc(1, sizeof *s);
	if ((s->p = XML_ParserCreateNS(NULL, ' ')) == NULL) {
		free(s);
		return (-1);
	}
	XML_SetUserData(s->p, s);
	XML_SetElementHandler(s->p, vol_xml_start, vol_xml_end);
	XML_SetCharacterDataHandler(s->p, vol_xml_text);
	XML_SetStartDoctypeDeclHandler(s->p, vol_xml_doctype);
	if (len <= INT_MAX && XML_Parse(s->p, buf, (int)len, XML_TRUE) ==
	    XML_STATUS_OK && !s->failed && s->n > 0)
		rv = 0;
	XML_ParserFree(s->p);
	if (rv == 0) {
		*out = s->e;
		*nout = s->n;
	} else
		vol_entries_free(s->e, s->n);
	free(s);
	return (rv);
}

void
vol_entries_free(struct vol_entry *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}
