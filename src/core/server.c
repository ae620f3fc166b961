/* server.c: what the servers of the table share. */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "http.h"
#include "server.h"

/* The HTTP limits every local socket (plugin, control, metrics) gets from conf. */
void
server_http_limits(const struct conf *conf, struct http_limits *limits)
{
	memset(limits, 0, sizeof *limits);
	limits->max_header_bytes = conf->http_max_header_bytes;
	limits->max_body_bytes = conf->http_max_body_bytes;
	limits->idle_timeout_ms = conf->http_idle_timeout_ms;
	limits->max_connections = conf->http_max_connections;
}
