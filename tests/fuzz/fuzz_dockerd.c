/* fuzz_dockerd.c: libFuzzer target for the dockerd follower's parsers: the input
 * is an event stream, split at a point the first byte chooses (as reads fall);
 * each whole object is read as an event, as an inspection and as a list, and a
 * container read twice compares equal to itself, as does one written back
 * (dockerd_container_gen, what a cluster's hosts publish) and read again. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerd.h"
#include "dockerd_private.h"
#include "json.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A container written as the cluster's hosts publish it and read back. */
static struct dockerd_container *
fuzz_round_trip(const struct dockerd_container *c)
{
	struct dockerd_container	*d;
	struct json_error		 jerr;
	struct json			*doc;
	yajl_gen			 g = json_gen_new();
	const unsigned char		*text;
	size_t				 len;
	char				 err[256];

	dockerd_container_gen(g, c);
	yajl_gen_get_buf(g, &text, &len);
	doc = json_parse((const char *)text, len, 0, &jerr);
	yajl_gen_free(g);
	if (doc == NULL)
		return (NULL);
	d = dockerd_container_read(doc, err, sizeof err);
	json_free(doc);
	return (d);
}

/* Every reader on one whole object. */
static int
fuzz_object(const char *text, size_t len, void *arg)
{
	struct dockerd_container	*c, *d;
	struct dockerd_event		 ev;
	struct json_error		 jerr;
	struct json			*doc;
	char				 err[256], **tags;
	const char			*label;

	if ((doc = json_parse(text, len, 0, &jerr)) == NULL)
		return (0);
	if (dockerd_event_read(doc, &ev, err, sizeof err) == 0 &&
	    ev.kind != DOCKERD_EVENT_OTHER && strlen(ev.container) != 64)
		abort();
	if ((c = dockerd_container_read(doc, err, sizeof err)) != NULL) {
		d = dockerd_container_read(doc, err, sizeof err);
		if (d == NULL || !dockerd_container_equal(c, d))
			abort();
		dockerd_container_free(d);
		d = fuzz_round_trip(c);
		if (d == NULL || !dockerd_container_equal(c, d))
			abort();
		label = dockerd_label(c, DOCKERD_TAGS_LABEL);
		tags = dockerd_tags_split(label);
		util_strv_free(tags);
		dockerd_container_free(d);
		dockerd_container_free(c);
	}
	json_free(doc);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dockerd_splitter	 sp;
	struct json_error	 jerr;
	struct json		*doc;
	char			 err[256], **ids;
	size_t			 cut;

	if (size == 0)
		return (0);
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	memset(&sp, 0, sizeof sp);
	if (dockerd_split_feed(&sp, data, cut, fuzz_object, NULL, err,
	    sizeof err) == 0)
		dockerd_split_feed(&sp, data + cut, size - cut, fuzz_object, NULL,
		    err, sizeof err);
	dockerd_split_reset(&sp);

	/* GET /containers/json answers an array, which the splitter refuses. */
	if ((doc = json_parse((const char *)data, size, 0, &jerr)) != NULL) {
		if ((ids = dockerd_list_read(doc, err, sizeof err)) != NULL)
			util_strv_free(ids);
		json_free(doc);
	}
	return (0);
}
