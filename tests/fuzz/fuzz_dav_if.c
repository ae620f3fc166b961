/* fuzz_dav_if.c: libFuzzer target for the WebDAV If header parser: any
 * input is parsed into lists or refused with a message, never read past. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dav_if.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dav_if	 h;
	char		*s, err[256];
	size_t		 i, j;

	/* A header value is a string: stop at the first NUL as HTTP would. */
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (dav_if_parse(s, &h, err, sizeof err) == -1) {
		if (err[0] == '\0')
			abort();
		free(s);
		return (0);
	}
	if (h.nlists == 0)
		abort();
	for (i = 0; i < h.nlists; i++) {
		if (h.lists[i].nconds == 0)
			abort();
		for (j = 0; j < h.lists[i].nconds; j++) {
			if (h.lists[i].conds[j].value == NULL)
				abort();
		}
	}
	dav_if_free(&h);
	free(s);
	return (0);
}
