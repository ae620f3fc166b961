/* plugin.c: the Docker plugin API (NetworkDriver, IpamDriver, VolumeDriver) on the
 * plugin socket.  Every Docker endpoint has a row in plugin_routes; a method whose
 * capability has not been built yet answers 501 with netcrave's own words, so a user
 * sees them through `docker`, never a silent success. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <yajl/yajl_gen.h>

#include "conf.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "plugin.h"
#include "server.h"
#include "util.h"
#include "xmalloc.h"

/* Docker's plugin protocol media type (v1; dockerd accepts it for v1.2 clients). */
#define PLUGIN_CONTENT_TYPE	"application/vnd.docker.plugins.v1+json"

static struct http_server	*plugin_http;
static char			*plugin_socket_path;

static void	plugin_activate(struct http_request *, void *);
static void	plugin_network_capabilities(struct http_request *, void *);
static void	plugin_ipam_capabilities(struct http_request *, void *);
static void	plugin_volume_capabilities(struct http_request *, void *);
static void	plugin_not_implemented(struct http_request *, void *);

#define PLUGIN_ROUTE(path, fn)	{ "POST", path, 0, fn, NULL, NULL }

/* Every endpoint of the three Docker plugin APIs that netcrave implements. */
const struct http_route plugin_routes[] = {
	PLUGIN_ROUTE("/Plugin.Activate", plugin_activate),

	PLUGIN_ROUTE("/NetworkDriver.GetCapabilities", plugin_network_capabilities),
	PLUGIN_ROUTE("/NetworkDriver.CreateNetwork", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.AllocateNetwork", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.DeleteNetwork", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.FreeNetwork", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.CreateEndpoint", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.EndpointOperInfo", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.DeleteEndpoint", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.Join", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.Leave", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.DiscoverNew", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.DiscoverDelete", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.ProgramExternalConnectivity", plugin_not_implemented),
	PLUGIN_ROUTE("/NetworkDriver.RevokeExternalConnectivity", plugin_not_implemented),

	PLUGIN_ROUTE("/IpamDriver.GetCapabilities", plugin_ipam_capabilities),
	PLUGIN_ROUTE("/IpamDriver.GetDefaultAddressSpaces", plugin_not_implemented),
	PLUGIN_ROUTE("/IpamDriver.RequestPool", plugin_not_implemented),
	PLUGIN_ROUTE("/IpamDriver.ReleasePool", plugin_not_implemented),
	PLUGIN_ROUTE("/IpamDriver.RequestAddress", plugin_not_implemented),
	PLUGIN_ROUTE("/IpamDriver.ReleaseAddress", plugin_not_implemented),

	PLUGIN_ROUTE("/VolumeDriver.Capabilities", plugin_volume_capabilities),
	PLUGIN_ROUTE("/VolumeDriver.Create", plugin_not_implemented),
	PLUGIN_ROUTE("/VolumeDriver.Remove", plugin_not_implemented),
	PLUGIN_ROUTE("/VolumeDriver.Mount", plugin_not_implemented),
	PLUGIN_ROUTE("/VolumeDriver.Path", plugin_not_implemented),
	PLUGIN_ROUTE("/VolumeDriver.Unmount", plugin_not_implemented),
	PLUGIN_ROUTE("/VolumeDriver.Get", plugin_not_implemented),
	PLUGIN_ROUTE("/VolumeDriver.List", plugin_not_implemented),
};
const size_t plugin_nroutes = sizeof plugin_routes / sizeof plugin_routes[0];

/* The Docker method name of a request: its path without the leading slash. */
static const char *
plugin_method(struct http_request *req)
{
	const char	*path = http_request_path(req);

	return (path[0] == '/' ? path + 1 : path);
}

/* Send a yajl_gen document as the reply. */
static void
plugin_reply_gen(struct http_request *req, int status, yajl_gen g)
{
	const unsigned char	*buf;
	size_t			 len;

	yajl_gen_get_buf(g, &buf, &len);
	http_reply(req, status, PLUGIN_CONTENT_TYPE, buf, len);
	yajl_gen_free(g);
}

/* A new JSON generator for a reply object, opened. */
static yajl_gen
plugin_gen_begin(void)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		fatalx("%s: yajl_gen_alloc", __func__);
	yajl_gen_map_open(g);
	return (g);
}

/* Add "key": "value" to an open object. */
static void
plugin_gen_string(yajl_gen g, const char *key, const char *value)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_string(g, (const unsigned char *)value, strlen(value));
}

/* Add "key": true|false to an open object. */
static void
plugin_gen_bool(yajl_gen g, const char *key, int value)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_bool(g, value);
}

/*
 * Render an error as Docker expects it: a non-200 status and {"Err": "..."}.  Docker
 * prints Err after the method name, so the message carries netcrave's name.
 */
void
plugin_error(struct http_request *req, int status, const char *message, void *arg)
{
	yajl_gen	 g;
	char		*text;

	xasprintf(&text, "netcrave: %s", message);
	g = plugin_gen_begin();
	plugin_gen_string(g, "Err", text);
	yajl_gen_map_close(g);
	free(text);
	plugin_reply_gen(req, status, g);
}

/*
 * Parse the request body, if any.  Docker sends empty bodies on Activate and
 * GetCapabilities and JSON objects elsewhere.  On malformed JSON the request is
 * answered 400 and NULL returned with *failed set.
 */
static struct json *
plugin_body(struct http_request *req, int *failed)
{
	struct evbuffer		*body = http_request_body(req);
	struct json		*doc;
	struct json_error	 jerr;
	size_t			 len;
	const char		*text;
	char			*msg;

	*failed = 0;
	len = body != NULL ? evbuffer_get_length(body) : 0;
	if (len == 0)
		return (NULL);
	text = (const char *)evbuffer_pullup(body, -1);
	if ((doc = json_parse(text, len, 0, &jerr)) == NULL) {
		xasprintf(&msg, "%s: malformed JSON at %u:%u: %s",
		    plugin_method(req), jerr.line, jerr.column, jerr.message);
		log_warnx("plugin: %s", msg);
		plugin_error(req, 400, msg, NULL);
		free(msg);
		*failed = 1;
		return (NULL);
	}
	if (doc->type != JSON_OBJECT) {
		xasprintf(&msg, "%s: request body must be a JSON object, not %s",
		    plugin_method(req), json_type_name(doc->type));
		log_warnx("plugin: %s", msg);
		plugin_error(req, 400, msg, NULL);
		free(msg);
		json_free(doc);
		*failed = 1;
		return (NULL);
	}
	return (doc);
}

/* Plugin.Activate: which of Docker's plugin APIs netcrave implements. */
static void
plugin_activate(struct http_request *req, void *arg)
{
	struct json	*doc;
	yajl_gen	 g;
	int		 failed;

	doc = plugin_body(req, &failed);
	if (failed)
		return;
	json_free(doc);
	log_info("plugin: activated (NetworkDriver, IpamDriver, VolumeDriver)");
	g = plugin_gen_begin();
	yajl_gen_string(g, (const unsigned char *)"Implements", 10);
	yajl_gen_array_open(g);
	yajl_gen_string(g, (const unsigned char *)"NetworkDriver", 13);
	yajl_gen_string(g, (const unsigned char *)"IpamDriver", 10);
	yajl_gen_string(g, (const unsigned char *)"VolumeDriver", 12);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	plugin_reply_gen(req, 200, g);
}

/* NetworkDriver.GetCapabilities: networks are local to this host for now. */
static void
plugin_network_capabilities(struct http_request *req, void *arg)
{
	struct json	*doc;
	yajl_gen	 g;
	int		 failed;

	doc = plugin_body(req, &failed);
	if (failed)
		return;
	json_free(doc);
	g = plugin_gen_begin();
	plugin_gen_string(g, "Scope", "local");
	plugin_gen_string(g, "ConnectivityScope", "local");
	yajl_gen_map_close(g);
	plugin_reply_gen(req, 200, g);
}

/* IpamDriver.GetCapabilities: no MAC address needed, no replay on restart. */
static void
plugin_ipam_capabilities(struct http_request *req, void *arg)
{
	struct json	*doc;
	yajl_gen	 g;
	int		 failed;

	doc = plugin_body(req, &failed);
	if (failed)
		return;
	json_free(doc);
	g = plugin_gen_begin();
	plugin_gen_bool(g, "RequiresMACAddress", 0);
	plugin_gen_bool(g, "RequiresRequestReplay", 0);
	yajl_gen_map_close(g);
	plugin_reply_gen(req, 200, g);
}

/* VolumeDriver.Capabilities: volumes are local to this host for now. */
static void
plugin_volume_capabilities(struct http_request *req, void *arg)
{
	struct json	*doc;
	yajl_gen	 g;
	int		 failed;

	doc = plugin_body(req, &failed);
	if (failed)
		return;
	json_free(doc);
	g = plugin_gen_begin();
	yajl_gen_string(g, (const unsigned char *)"Capabilities", 12);
	yajl_gen_map_open(g);
	plugin_gen_string(g, "Scope", "local");
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	plugin_reply_gen(req, 200, g);
}

/* A Docker method whose capability is not built yet: say so, with 501. */
static void
plugin_not_implemented(struct http_request *req, void *arg)
{
	struct json	*doc;
	char		*msg;
	int		 failed;

	doc = plugin_body(req, &failed);
	if (failed)
		return;
	json_free(doc);
	xasprintf(&msg, "%s is not implemented yet", plugin_method(req));
	log_warnx("plugin: %s", msg);
	plugin_error(req, 501, msg, NULL);
	free(msg);
}

/* Limits of the plugin socket from the config. */
static void
plugin_limits(const struct conf *conf, struct http_limits *limits)
{
	memset(limits, 0, sizeof *limits);
	limits->max_header_bytes = conf->http_max_header_bytes;
	limits->max_body_bytes = conf->http_max_body_bytes;
	limits->idle_timeout_ms = conf->http_idle_timeout_ms;
	limits->max_connections = conf->http_max_connections;
}

/* Listen on the plugin socket: mode 0600, only root (dockerd) may speak to it. */
static int
plugin_init(const struct server_env *env, char *err, size_t errlen)
{
	struct http_limits	limits;

	plugin_limits(env->conf, &limits);
	if (util_mkdir_parent(env->conf->plugin_socket, 0755, err, errlen) == -1)
		return (-1);
	plugin_http = http_server_new(env->base, "plugin", &limits, plugin_routes,
	    plugin_nroutes, plugin_error, NULL);
	if (http_server_listen_unix(plugin_http, env->conf->plugin_socket, 0600,
	    err, errlen) == -1) {
		http_server_free(plugin_http);
		plugin_http = NULL;
		return (-1);
	}
	plugin_socket_path = xstrdup(env->conf->plugin_socket);
	log_info("plugin: listening on %s (driver name \"%s\")",
	    plugin_socket_path, env->conf->instance);
	return (0);
}

/* Apply new HTTP limits; the socket path cannot change without a restart. */
static int
plugin_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct http_limits	limits;

	plugin_limits(new, &limits);
	http_server_set_limits(plugin_http, &limits);
	return (0);
}

/* Close the plugin socket (and remove it) and every connection. */
static void
plugin_shutdown(void)
{
	if (plugin_http != NULL)
		http_server_free(plugin_http);
	plugin_http = NULL;
	free(plugin_socket_path);
	plugin_socket_path = NULL;
}

const struct server plugin_server = {
	"plugin", plugin_init, plugin_reload, plugin_shutdown
};
