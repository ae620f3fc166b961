/* fuzz_plugin.c: arbitrary JSON bodies to every Docker plugin endpoint through the
 * real HTTP layer, with the IPAM server up on the default schema and a real store
 * in a temporary directory.  The first input byte picks the endpoint, the rest is
 * the body.  Oracle: every request gets one answer, a JSON object, with "Err" and
 * a known status on failure. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "http.h"
#include "http_private.h"
#include "json.h"
#include "log.h"
#include "plugin.h"
#include "plugin_private.h"
#include "server.h"
#include "store.h"

static struct event_base	*base;
static struct http_server	*srv;
static struct conf		*conf;
static struct store		*store;

/* The IPAM server on the default schema, its store under the working dir. */
static void
fuzz_init_ipam(void)
{
	static const unsigned char	 key[32] = { 1 };
	struct store_params		 params;
	struct server_env		 env;
	char				 dir[] = "fuzz_plugin.state.XXXXXX", err[512];

	if ((conf = conf_parse("fuzz", "{}", 2, err, sizeof err)) == NULL)
		abort();
	if (mkdtemp(dir) == NULL)
		abort();
	memset(&params, 0, sizeof params);
	params.backend = "file";
	params.dir = dir;
	params.compact_bytes = conf->store_compact_bytes;
	params.key = key;
	if ((store = store_open(base, &params, NULL, NULL, err, sizeof err)) == NULL)
		abort();
	memset(&env, 0, sizeof env);
	env.base = base;
	env.conf = conf;
	env.store = store;
	if (ipam_server.init(&env, err, sizeof err) == -1)
		abort();
}

/* Make the server once. */
static void
fuzz_init(void)
{
	struct http_limits	 l = { 16384, 1 << 20, 60000, 16, 0, 0, 0 };

	signal(SIGPIPE, SIG_IGN);
	/* Not to stderr: libFuzzer reports there.  Without syslogd this is quiet. */
	log_init(0, LOG_LEVEL_INFO, "fuzz_plugin");
	base = event_base_new();
	srv = http_server_new(base, "plugin", &l, plugin_routes, plugin_nroutes,
	    plugin_error, NULL);
	fuzz_init_ipam();
}

/* Check one complete answer: status and a JSON object body. */
static void
fuzz_check_answer(const char *resp, size_t len)
{
	struct json_error	 jerr;
	struct json		*doc;
	const char		*body;
	int			 status;

	if (sscanf(resp, "HTTP/1.1 %d ", &status) != 1)
		abort();
	switch (status) {
	case 200: case 400: case 403: case 404: case 409: case 501: case 507:
	/* Servers this harness does not start (networks, volumes) answer 503
	 * with the reason; a failure inside one is a 500 with the reason. */
	case 500: case 503:
		break;
	default:
		abort();
	}
	if ((body = memmem(resp, len, "\r\n\r\n", 4)) == NULL)
		abort();
	body += 4;
	doc = json_parse(body, len - (body - resp), 0, &jerr);
	if (doc == NULL || doc->type != JSON_OBJECT)
		abort();
	if (status != 200 && json_get_string(doc, "Err") == NULL)
		abort();
	json_free(doc);
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 head[256], resp[65536];
	size_t	 off = 0, got = 0, hlen;
	ssize_t	 n;
	int	 sv[2], i;

	if (size < 1)
		return (0);
	if (base == NULL)
		fuzz_init();
	hlen = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n",
	    plugin_routes[data[0] % plugin_nroutes].path, size - 1);
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	http_server_adopt(srv, sv[0]);
	if (send(sv[1], head, hlen, MSG_NOSIGNAL) != (ssize_t)hlen)
		abort();
	for (i = 0; i < 10000; i++) {
		if (off < size) {
			n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
			if (n > 0)
				off += n;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		n = recv(sv[1], resp + got, sizeof resp - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;			/* server closed: answer complete */
		if (n > 0)
			got += n;
		else if (errno != EAGAIN)
			abort();
	}
	if (got == 0)
		abort();			/* every request gets an answer */
	resp[got] = '\0';
	fuzz_check_answer(resp, got);
	close(sv[1]);
	for (i = 0; i < 1000 && http_server_connections(srv) > 0; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (http_server_connections(srv) > 0)
		abort();
	return (0);
}
