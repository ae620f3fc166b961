/* fuzz_vol_multistatus.c: libFuzzer target for the volume client's PROPFIND
 * reply parser: any input is refused or gives entries whose names are plain
 * path segments (no slash, no NUL, never "" ), never read past. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vol_util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vol_entry	*e;
	size_t			 n, i;

	if (vol_multistatus_parse((const char *)data, size, &e, &n) == -1)
		return (0);
	if (n == 0)
		abort();
	for (i = 0; i < n; i++) {
		if (e[i].name == NULL)
			continue;
		if (*e[i].name == '\0' || strchr(e[i].name, '/') != NULL)
			abort();
	}
	vol_entries_free(e, n);
	return (0);
}
