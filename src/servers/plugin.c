/* plugin.c: the Docker plugin API (NetworkDriver, IpamDriver, VolumeDriver) on the
 * plugin socket.  Every Docker endpoint has a row in plugin_routes; failures answer
 * with netcrave's own words, so a user sees them through `docker`, never a silent
 * success. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cluster.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "plugin.h"
#include "plugin_private.h"
#include "server.h"
#include "util.h"
#include "volume.h"
#include "xmalloc.h"

/* Docker's plugin protocol media type (v1; dockerd accepts it for v1.2 clients). */
#define PLUGIN_CONTENT_TYPE	"application/vnd.docker.plugins.v1+json"

static struct http_server	*plugin_http;
static char			*plugin_socket_path;
static int			 plugin_scope;	/* plugin.scope */

static void	plugin_activate(struct http_request *, void *);
static void	plugin_network_capabilities(struct http_request *, void *);
static void	plugin_ipam_capabilities(struct http_request *, void *);
static void	plugin_volume_capabilities(struct http_request *, void *);

#define PLUGIN_ROUTE(path, fn)	{ "POST", path, 0, fn, NULL, NULL }

/* Every endpoint of the three Docker plugin APIs that netcrave implements. */
const struct http_route plugin_routes[] = {
	PLUGIN_ROUTE("/Plugin.Activate", plugin_activate),

	PLUGIN_ROUTE("/NetworkDriver.GetCapabilities", plugin_network_capabilities),
	PLUGIN_ROUTE("/NetworkDriver.CreateNetwork",
	    plugin_network_create),
	PLUGIN_ROUTE("/NetworkDriver.AllocateNetwork",
	    plugin_network_allocate),
	PLUGIN_ROUTE("/NetworkDriver.DeleteNetwork",
	    plugin_network_delete),
	PLUGIN_ROUTE("/NetworkDriver.FreeNetwork",
	    plugin_network_free),
	PLUGIN_ROUTE("/NetworkDriver.CreateEndpoint",
	    plugin_network_create_endpoint),
	PLUGIN_ROUTE("/NetworkDriver.EndpointOperInfo",
	    plugin_network_endpoint_info),
	PLUGIN_ROUTE("/NetworkDriver.DeleteEndpoint",
	    plugin_network_delete_endpoint),
	PLUGIN_ROUTE("/NetworkDriver.Join",
	    plugin_network_join),
	PLUGIN_ROUTE("/NetworkDriver.Leave",
	    plugin_network_leave),
	PLUGIN_ROUTE("/NetworkDriver.DiscoverNew",
	    plugin_network_nothing),
	PLUGIN_ROUTE("/NetworkDriver.DiscoverDelete",
	    plugin_network_nothing),
	PLUGIN_ROUTE("/NetworkDriver.ProgramExternalConnectivity",
	    plugin_network_nothing),
	PLUGIN_ROUTE("/NetworkDriver.RevokeExternalConnectivity",
	    plugin_network_nothing),

	PLUGIN_ROUTE("/IpamDriver.GetCapabilities", plugin_ipam_capabilities),
	PLUGIN_ROUTE("/IpamDriver.GetDefaultAddressSpaces",
	    plugin_ipam_address_spaces),
	PLUGIN_ROUTE("/IpamDriver.RequestPool", plugin_ipam_request_pool),
	PLUGIN_ROUTE("/IpamDriver.ReleasePool", plugin_ipam_release_pool),
	PLUGIN_ROUTE("/IpamDriver.RequestAddress", plugin_ipam_request_address),
	PLUGIN_ROUTE("/IpamDriver.ReleaseAddress", plugin_ipam_release_address),

	PLUGIN_ROUTE("/VolumeDriver.Capabilities", plugin_volume_capabilities),
	PLUGIN_ROUTE("/VolumeDriver.Create", volume_create),
	PLUGIN_ROUTE("/VolumeDriver.Remove", volume_remove),
	PLUGIN_ROUTE("/VolumeDriver.Mount", volume_mount),
	PLUGIN_ROUTE("/VolumeDriver.Path", volume_path),
	PLUGIN_ROUTE("/VolumeDriver.Unmount", volume_unmount),
	PLUGIN_ROUTE("/VolumeDriver.Get", volume_get),
	PLUGIN_ROUTE("/VolumeDriver.List", volume_list),
};
const size_t plugin_nroutes = sizeof plugin_routes / sizeof plugin_routes[0];

/* The Docker method name of a request: its path without the leading slash. */
static const char *
plugin_method(struct http_request *req)
{
	const char	*path = http_request_path(req);

	return (path[0] == '/' ? path + 1 : path);
}

/*
 * Render an error as Docker expects it: a non-200 status and {"Err": "..."}.  Docker
 * prints Err after the method name, so the message carries netcrave's name.
 */
void
plugin_error(struct http_request *req, int status, const char *message, void *arg)
{
	const unsigned char	*buf;
	size_t			 len;
	yajl_gen		 g;
	char			*text;

	xasprintf(&text, "netcrave: %s", message);
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "Err", text);
	yajl_gen_map_close(g);
	free(text);
	yajl_gen_get_buf(g, &buf, &len);
	http_reply(req, status, PLUGIN_CONTENT_TYPE, buf, len);
	yajl_gen_free(g);
}

/* Answer 400 for a bad body, naming the method. */
void
plugin_bad_request(struct http_request *req, const char *fmt, ...)
{
	va_list	 ap;
	char	*reason, *msg;

	va_start(ap, fmt);
	if (vasprintf(&reason, fmt, ap) == -1)
		fatalx("%s: vasprintf", __func__);
	va_end(ap);
	xasprintf(&msg, "%s: %s", plugin_method(req), reason);
	log_warnx("plugin: %s", msg);
	plugin_error(req, 400, msg, NULL);
	free(msg);
	free(reason);
}

/*
 * Parse the request body into *doc (NULL when empty: Docker sends empty bodies
 * on Activate and GetCapabilities, JSON objects elsewhere).  A bad body is
 * answered 400 here and -1 returned.  doc may be NULL to only check the body.
 */
int
plugin_body(struct http_request *req, struct json **doc)
{
	struct evbuffer		*body = http_request_body(req);
	struct json		*parsed;
	struct json_error	 jerr;
	size_t			 len;

	if (doc != NULL)
		*doc = NULL;
	len = body != NULL ? evbuffer_get_length(body) : 0;
	if (len == 0)
		return (0);
	parsed = json_parse((const char *)evbuffer_pullup(body, -1), len, 0,
	    &jerr);
	if (parsed == NULL) {
		plugin_bad_request(req, "malformed JSON at %u:%u: %s", jerr.line,
		    jerr.column, jerr.message);
		return (-1);
	}
	if (parsed->type != JSON_OBJECT) {
		plugin_bad_request(req, "request body must be a JSON object, "
		    "not %s", json_type_name(parsed->type));
		json_free(parsed);
		return (-1);
	}
	if (doc != NULL)
		*doc = parsed;
	else
		json_free(parsed);
	return (0);
}

/* Answer 200 with a JSON text. */
void
plugin_reply_json(struct http_request *req, const char *json)
{
	http_reply(req, 200, PLUGIN_CONTENT_TYPE, json, strlen(json));
}

/* Answer a request whose reply does not depend on its (checked) body. */
void
plugin_reply_fixed(struct http_request *req, const char *json)
{
	if (plugin_body(req, NULL) == -1)
		return;
	plugin_reply_json(req, json);
}

/* Answer a failure in a sentence Docker shows the user (never with 200). */
void
plugin_fail(struct http_request *req, int status, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("%s: vasprintf", __func__);
	va_end(ap);
	log_warnx("plugin: %s: %s", plugin_method(req), msg);
	plugin_error(req, status, msg, NULL);
	free(msg);
}

/* Plugin.Activate: which of Docker's plugin APIs netcrave implements. */
static void
plugin_activate(struct http_request *req, void *arg)
{
	log_info("plugin: activated (NetworkDriver, IpamDriver, VolumeDriver)");
	plugin_reply_fixed(req, "{\"Implements\":"
	    "[\"NetworkDriver\",\"IpamDriver\",\"VolumeDriver\"]}");
}

/*
 * NetworkDriver.GetCapabilities.  Scope is plugin.scope: "local" by default
 * (dockerd keeps no cluster store for us; each host's netcraved shares ours);
 * "global" when netcrave runs as a managed plugin in a swarm, so its networks
 * are swarm networks (and dockerd without a swarm would demand a cluster
 * store).  With clustering on, containers reach each other across hosts, so
 * connectivity is global.
 */
static void
plugin_network_capabilities(struct http_request *req, void *arg)
{
	char	 reply[128];

	(void)snprintf(reply, sizeof reply, "{\"Scope\":\"%s\","
	    "\"ConnectivityScope\":\"%s\"}", plugin_scope ==
	    CONF_PLUGIN_SCOPE_GLOBAL ? "global" : "local",
	    cluster_is_enabled() ? "global" : "local");
	plugin_reply_fixed(req, reply);
}

/* IpamDriver.GetCapabilities: no MAC address needed, no replay on restart. */
static void
plugin_ipam_capabilities(struct http_request *req, void *arg)
{
	plugin_reply_fixed(req, "{\"RequiresMACAddress\":false,"
	    "\"RequiresRequestReplay\":false}");
}

/* VolumeDriver.Capabilities: volumes are local to this host for now. */
static void
plugin_volume_capabilities(struct http_request *req, void *arg)
{
	plugin_reply_fixed(req, "{\"Capabilities\":{\"Scope\":\"local\"}}");
}

/* Listen on the plugin socket: mode 0600, only root (dockerd) may speak to it. */
static int
plugin_init(const struct server_env *env, char *err, size_t errlen)
{
	struct http_limits	limits;

	server_http_limits(env->conf, &limits);
	if (util_mkdir_parent(env->conf->plugin_socket, 0755, err, errlen) == -1)
		return (-1);
	plugin_http = http_server_new(env->base, "plugin", &limits, plugin_routes,
	    plugin_nroutes, plugin_error, NULL);
	http_server_set_priority(plugin_http, NC_EV_PRIO_URGENT);
	if (http_server_listen_unix(plugin_http, env->conf->plugin_socket, 0600,
	    err, errlen) == -1) {
		http_server_free(plugin_http);
		plugin_http = NULL;
		return (-1);
	}
	plugin_socket_path = xstrdup(env->conf->plugin_socket);
	plugin_scope = env->conf->plugin_scope;
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

	server_http_limits(new, &limits);
	http_server_set_limits(plugin_http, &limits);
	/* dockerd asks again only when it loads the plugin. */
	if (new->plugin_scope != plugin_scope)
		log_info("plugin: scope now %s; dockerd sees it once it reloads "
		    "the plugin", new->plugin_scope == CONF_PLUGIN_SCOPE_GLOBAL ?
		    "global" : "local");
	plugin_scope = new->plugin_scope;
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
