/* fuzz_dav_xml.c: libFuzzer target for WebDAV XML bodies: any input parses
 * into a tree or is refused with a message; a parsed tree's serialisation (as
 * stored for dead properties) must parse again inside a wrapper and give the
 * same text back. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "dav_xml.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The serialised children of n as a string. */
static char *
fuzz_serialize(const struct dav_xml *n)
{
	struct evbuffer	*b = evbuffer_new();
	char		*s;
	size_t		 len;

	dav_xml_serialize_children(b, n);
	len = evbuffer_get_length(b);
	s = malloc(len + 1);
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	return (s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dav_xml	*x, *again;
	char		 err[256], *text, *wrapped, *text2;
	int		 n;

	if ((x = dav_xml_parse((const char *)data, size, err, sizeof err)) ==
	    NULL) {
		if (err[0] == '\0')
			abort();	/* a refusal always says why */
		return (0);
	}
	(void)dav_xml_has_content(x);
	free(dav_xml_text(x));
	text = fuzz_serialize(x);
	n = asprintf(&wrapped, "<w:r xmlns:w=\"urn:w\">%s</w:r>", text);
	if (n == -1)
		abort();
	if ((again = dav_xml_parse(wrapped, n, err, sizeof err)) == NULL) {
		fprintf(stderr, "serialised value does not parse: %s\n%s\n", err,
		    wrapped);
		abort();
	}
	text2 = fuzz_serialize(again);
	if (strcmp(text, text2) != 0) {
		fprintf(stderr, "not a fixed point:\n%s\n%s\n", text, text2);
		abort();
	}
	free(text2);
	dav_xml_free(again);
	free(wrapped);
	free(text);
	dav_xml_free(x);
	return (0);
}
