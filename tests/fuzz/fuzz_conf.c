/* fuzz_conf.c: libFuzzer target for the JSON reader and the configuration: any input
 * is refused with a placed message, or parses to a config that prints stably. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* conf_print into a string. */
static char *
fuzz_print(const struct conf *c, size_t *len)
{
	char	*out = NULL;
	FILE	*f;

	if ((f = open_memstream(&out, len)) == NULL)
		abort();
	conf_print(c, f);
	fclose(f);
	return (out);
}

/* Both readers on the input; a printed config must read back to itself. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_error	 jerr;
	struct json		*json;
	struct conf		*c, *again;
	char			 err[512], *out, *out2;
	size_t			 len, len2;

	/* The wire flavour: no comments, as for plugin request bodies. */
	json = json_parse((const char *)data, size, 0, &jerr);
	if (json == NULL && (jerr.line == 0 || jerr.column == 0 ||
	    jerr.message[0] == '\0'))
		abort();
	json_free(json);

	err[0] = '\0';
	c = conf_parse("fuzz", (const char *)data, size, err, sizeof err);
	if (c == NULL) {
		/* Every refusal says where. */
		if (strncmp(err, "fuzz:", 5) != 0)
			abort();
		return (0);
	}
	out = fuzz_print(c, &len);
	again = conf_parse("printed", out, len, err, sizeof err);
	if (again == NULL) {
		fprintf(stderr, "printed config refused: %s\n%s", err, out);
		abort();
	}
	out2 = fuzz_print(again, &len2);
	if (len != len2 || memcmp(out, out2, len) != 0) {
		fprintf(stderr, "print not stable:\n%s---\n%s", out, out2);
		abort();
	}
	free(out2);
	free(out);
	conf_free(again);
	conf_free(c);
	return (0);
}
