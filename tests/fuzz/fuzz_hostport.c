/* fuzz_hostport.c: libFuzzer target for util_hostport, which splits the
 * HOST:PORT of a WebDAV listener another host published in the shared store:
 * any input is refused or gives a non-empty host without brackets or NUL (and
 * without a colon unless it was bracketed) and a non-empty port that together
 * rebuild the input. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *host, *port, *again;

	s = xstrndup((const char *)data, size);
	if (util_hostport(s, &host, &port) == -1) {
		free(s);
		return (0);
	}
	if (*host == '\0' || *port == '\0' || strchr(host, '[') != NULL ||
	    strchr(host, ']') != NULL || strchr(port, ':') != NULL)
		abort();
	/* A colon in the host (IPv6) only between brackets. */
	if (s[0] != '[' && strchr(host, ':') != NULL)
		abort();
	if (s[0] == '[')
		xasprintf(&again, "[%s]:%s", host, port);
	else
		xasprintf(&again, "%s:%s", host, port);
	if (strcmp(again, s) != 0)
		abort();
	free(again);
	free(host);
	free(port);
	free(s);
	return (0);
}
