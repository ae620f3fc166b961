/* fuzz_icap.c: arbitrary bytes as an ICAP client's stream into one server
 * connection (over a socketpair): heads, Encapsulated offsets, chunked bodies,
 * previews, and the firewall rules run on whatever HTTP heads come through. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "icap.h"
#include "log.h"

static struct event_base	*base;
static struct icap_server	*srv;

static void
fuzz_init(void)
{
	struct icap_limits	l = { 4096, 64, 60000, 16, 0 };

	signal(SIGPIPE, SIG_IGN);
	log_init(1, LOG_LEVEL_INFO, "fuzz_icap");
	base = event_base_new();
	srv = icap_server_new(base, &l);
	/* Hosts for /waf-host: a known one, one with a port, an unknown set. */
	icap_server_set_service(srv, "c1", "shop.test, [::1]:8080", "default");
	icap_server_set_service(srv, "c2", "other.test", "nope");
}

/* Read and drop whatever the server answered. */
static void
fuzz_drain(int fd)
{
	char	buf[65536];

	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 sv[2], i;
	size_t	 off = 0;
	ssize_t	 n;

	if (base == NULL)
		fuzz_init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	icap_server_adopt(srv, sv[0]);
	for (i = 0; i < 1000 && off < size; i++) {
		n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n == -1 && errno != EAGAIN)
			break;
		event_base_loop(base, EVLOOP_NONBLOCK);
		fuzz_drain(sv[1]);
	}
	for (i = 0; i < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		fuzz_drain(sv[1]);
	}
	close(sv[1]);
	for (i = 0; i < 1000 && icap_server_connections(srv) > 0; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (icap_server_connections(srv) > 0)
		abort();	/* a connection outlived its peer */
	return 0;
}
