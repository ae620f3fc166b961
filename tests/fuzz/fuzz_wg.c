/* fuzz_wg.c: libFuzzer target for the answers of WG_CMD_GET_DEVICE as
 * wg_get_device reads them: the input is one netlink message, handed to
 * wg_parse_device in a buffer of its exact size.  What it accepts must hold
 * together: names end in NUL, prefixes fit their family.  The same bytes as
 * text go to wg_key_from_base64 (other hosts' records carry keys so), and as
 * another host's cluster.host and net.network records to their readers. */
#include "config.h"

#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "wg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_device	 d;
	void			*buf;
	char			 err[128];
	size_t			 i, j;

	/* malloc's alignment is what libnl's receive buffer has. */
	if ((buf = malloc(size + 1)) == NULL)
		return (0);
	memcpy(buf, data, size);
	memset(&d, 0, sizeof d);
	if (wg_parse_device(buf, size, &d, err, sizeof err) == 0) {
		if (memchr(d.name, '\0', sizeof d.name) == NULL)
			abort();
		for (i = 0; i < d.npeers; i++)
			for (j = 0; j < d.peers[i].nallowed; j++)
				if (d.peers[i].allowed[j].len >
				    prefix_bits(d.peers[i].allowed[j].family))
					abort();
	}
	wg_device_clear(&d);
	/* As text: a key accepted turns back into the same text. */
	((char *)buf)[size] = '\0';
	if (wg_key_from_base64(buf, d.public_key) == 0) {
		char	text[WG_KEY_B64_LEN + 1];

		wg_key_to_base64(d.public_key, text);
		if (strcmp(text, buf) != 0)
			abort();
	}
	{
		struct cluster_wg_peer	 p;
		struct prefix		 pfx[2];
		char			*host;
		size_t			 n;

		if (cluster_wg_parse_host(buf, size, &p) == 0 && p.port == 0)
			abort();
		n = cluster_wg_parse_network(buf, size, &host, pfx);
		if (n > 2 || (n > 0) != (host != NULL))
			abort();
		free(host);
	}
	free(buf);
	return (0);
}
