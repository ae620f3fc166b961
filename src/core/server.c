/* server.c: what the servers of the table share. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "http.h"
#include "server.h"
#include "util.h"
#include "xmalloc.h"

/* The HTTP limits every local socket (plugin, control, metrics) gets from conf. */
void
server_http_limits(const struct conf *conf, struct http_limits *limits)
{
	memset(limits, 0, sizeof *limits);
	limits->max_header_bytes = conf->http_max_header_bytes;
	limits->max_body_bytes = conf->http_max_body_bytes;
	limits->idle_timeout_ms = conf->http_idle_timeout_ms;
	limits->max_connections = conf->http_max_connections;
	limits->header_timeout_ms = conf->http_header_timeout_ms;
	limits->body_timeout_ms = conf->http_body_timeout_ms;
	limits->body_min_rate = conf->http_body_min_rate;
}

/*
 * Listen where a config string says: "unix:PATH" (0660, parent made) or
 * "HOST:PORT" / "[V6]:PORT" (TLS when ssl is set).
 */
int
server_http_listen(struct http_server *srv, const char *listen, SSL_CTX *ssl,
    char *err, size_t errlen)
{
	char	*host, *port;
	int	 rv;

	if (strncmp(listen, "unix:", 5) == 0) {
		if (util_mkdir_parent(listen + 5, 0755, err, errlen) == -1)
			return (-1);
		return (http_server_listen_unix(srv, listen + 5, 0660, err,
		    errlen));
	}
	if (util_hostport(listen, &host, &port) == -1) {
		snprintf(err, errlen, "%s: expected unix:PATH, HOST:PORT or "
		    "[V6]:PORT", listen);
		return (-1);
	}
	rv = http_server_listen_tcp(srv, host, port, ssl, err, errlen);
	free(port);
	free(host);
	return (rv);
}
