/* fuzz_ingress.c: libFuzzer target for what containers hand ingress: a label
 * value taken as the host is either refused or, once accepted, yields a
 * haproxy.cfg whose lines it cannot break (no new line, word or block). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingress.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Lines of text that start with prefix. */
static size_t
fuzz_count_lines(const char *text, const char *prefix)
{
	const char	*p;
	size_t		 n = 0;

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return (n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingress_slot	 slot = { NULL, NULL, 80 };
	struct ingress_service	 s;
	struct ingress_cfg	 cfg = {
		.http_listen = "127.0.0.1:80", .https_listen = "127.0.0.1:443",
		.socket = "/run/x/haproxy.sock", .crt_list = "/run/x/crt-list",
		.ca_file = "/run/x/ca.crt", .resolver = "127.0.0.1:53",
		.zone = "netcrave.internal.", .acme_address = "",
		.waf_address = "", .waf_return_listen = "127.0.0.1:81",
		.hold_valid_ms = 1000, .hold_obsolete_ms = 1000, .slots = 1,
	};
	char			*host, *text;
	size_t			 i;

	host = malloc(size + 1);
	memcpy(host, data, size);
	host[size] = '\0';
	if (!ingress_host_ok(host)) {
		free(host);
		return (0);
	}
	for (i = 0; host[i] != '\0'; i++)
		if (strchr(" \t\r\n{}#;\\\"'", host[i]) != NULL)
			abort();
	memset(&s, 0, sizeof s);
	s.host = host;
	s.backend = ingress_backend_name(host);
	s.slots = &slot;
	s.nslots = 1;
	if ((text = ingress_cfg_text(&cfg, &s, 1)) == NULL)
		abort();
	/* One route per frontend (http, https, waf_return), one backend. */
	if (fuzz_count_lines(text, "\tuse_backend ") != 3 ||
	    fuzz_count_lines(text, "backend ") != 1 ||
	    fuzz_count_lines(text, "\tserver ") != 1)
		abort();
	free(text);
	free(s.backend);
	free(host);
	return (0);
}
