/* fuzz_rtnl.c: libFuzzer target for rtnetlink messages as the watcher reads
 * them: the input is one datagram, handed to watch_parse (the parse the
 * watcher's read callback runs) in a buffer aligned as recv fills it.  Every
 * event it reports must carry a name and an alias that are C strings. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "watch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_cb(enum watch_what what, const char *name, const char *alias, void *arg)
{
	size_t	*events = arg;

	if (name == NULL || alias == NULL)
		abort();
	if (what != WATCH_LINK_NEW && what != WATCH_LINK_DEL &&
	    what != WATCH_ADDR_DEL)
		abort();
	/* Touch every byte: a string running off its buffer shows under ASan. */
	*events += strlen(name) + strlen(alias) + 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void	*buf;
	size_t	 events = 0;

	/* malloc's alignment is what the watcher's receive buffer has. */
	if ((buf = malloc(size + 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	(void)watch_parse(buf, size, fuzz_cb, &events);
	free(buf);
	return (0);
}
