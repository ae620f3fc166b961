/* control.c: the operator's surfaces: the control socket that netcravectl speaks
 * to (HTTP+JSON over the one HTTP layer) and the Prometheus metrics endpoint. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "acme.h"
#include "cluster.h"
#include "conf.h"
#include "control.h"
#include "dns.h"
#include "dockerd.h"
#include "http.h"
#include "ingress.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "plugin.h"
#include "server.h"
#include "store.h"
#include "supervise.h"
#include "util.h"
#include "volume.h"
#include "xmalloc.h"

static struct http_server	*control_http;
static struct http_server	*metrics_http;
static const struct conf	*control_conf;
static struct store		*control_store;
static time_t			 control_started;

static void	control_status(struct http_request *, void *);
static void	control_version(struct http_request *, void *);
static void	control_scopes(struct http_request *, void *);
static void	control_pools(struct http_request *, void *);
static void	control_containers(struct http_request *, void *);
static void	control_networks(struct http_request *, void *);
static void	metrics_get(struct http_request *, void *);
static void	control_ingress(struct http_request *, void *);
static void	control_ingress_renew(struct http_request *, void *);
static void	control_records(struct http_request *, void *);	/* dns3 */
static void	control_certs(struct http_request *, void *);
/* netcravectl children (issue 11). */
static void	control_children(struct http_request *, void *);

static const struct http_route control_routes[] = {
	{ "GET", "/status", 0, control_status, NULL, NULL },
	{ "GET", "/version", 0, control_version, NULL, NULL },
	{ "GET", "/scopes", 0, control_scopes, NULL, NULL },
	{ "GET", "/pools", 0, control_pools, NULL, NULL },
	{ "GET", "/containers", 0, control_containers, NULL, NULL },
	{ "GET", "/volumes", 0, volume_control_volumes, NULL, NULL },
	{ "GET", "/certs", 0, control_certs, NULL, NULL },
	{ "GET", "/networks", 0, control_networks, NULL, NULL },
	{ "GET", "/endpoints", 0, control_networks, NULL, NULL },
	{ "GET", "/ingress", 0, control_ingress, NULL, NULL },
	{ "POST", "/ingress/renew", 0, control_ingress_renew, NULL, NULL },
	{ "GET", "/records", 0, control_records, NULL, NULL },	/* dns3 */
	/* netcravectl children (issue 11). */
	{ "GET", "/children", 0, control_children, NULL, NULL },
};

static const struct http_route metrics_routes[] = {
	{ "GET", "/metrics", 0, metrics_get, NULL, NULL },
};

/* Send a finished generator as the JSON reply. */
static void
control_reply_gen(struct http_request *req, int status, yajl_gen g)
{
	const unsigned char	*buf;
	size_t			 len;

	yajl_gen_get_buf(g, &buf, &len);
	http_reply(req, status, "application/json", buf, len);
	yajl_gen_free(g);
}

/* Errors of the control socket are JSON too, for netcravectl -j. */
static void
control_error(struct http_request *req, int status, const char *message, void *arg)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "error", message);
	yajl_gen_map_close(g);
	control_reply_gen(req, status, g);
}

/* GET /status: what runs, under which names, and the children's states. */
static void
control_status(struct http_request *req, void *arg)
{
	struct child	*c;
	yajl_gen	 g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "version", PACKAGE_VERSION);
	json_gen_string(g, "instance", control_conf->instance);
	json_gen_int(g, "pid", (long long)getpid());
	json_gen_int(g, "uptime_seconds",
	    (long long)(time(NULL) - control_started));
	json_gen_string(g, "config", control_conf->path);
	json_gen_string(g, "store", control_store != NULL ?
	    store_backend_name(control_store) : NULL);
	json_gen_string(g, "state_dir", control_conf->state_dir);
	json_gen_string(g, "plugin_socket", control_conf->plugin_socket);
	json_gen_string(g, "control_socket", control_conf->control_socket);
	json_gen_string(g, "metrics", control_conf->metrics_listen);
	json_gen_string(g, "netns", control_conf->netns);

	json_gen_key(g, "children");
	yajl_gen_array_open(g);
	for (c = supervise_first(); c != NULL; c = supervise_next(c)) {
		yajl_gen_map_open(g);
		json_gen_string(g, "role", supervise_role(c));
		json_gen_string(g, "state",
		    supervise_state_name(supervise_state(c)));
		json_gen_int(g, "pid", (long long)supervise_pid(c));
		json_gen_int(g, "restarts", supervise_restarts(c));
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	/* Clustering (issue 10): encryption between each pair of hosts. */
	cluster_status(g);
	yajl_gen_map_close(g);
	control_reply_gen(req, 200, g);
}

/* GET /version. */
static void
control_version(struct http_request *req, void *arg)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "version", PACKAGE_VERSION);
	yajl_gen_map_close(g);
	control_reply_gen(req, 200, g);
}

/* GET /scopes: the address schema as it runs (auto prefixes resolved). */
static void
control_scopes(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_gen_key(g, "scopes");
	plugin_ipam_gen_scopes(g);
	yajl_gen_map_close(g);
	control_reply_gen(req, 200, g);
}

/* GET /pools: the pools handed to Docker. */
static void
control_pools(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_gen_key(g, "pools");
	plugin_ipam_gen_pools(g);
	yajl_gen_map_close(g);
	control_reply_gen(req, 200, g);
}

/* GET /containers: what the dockerd follower knows. */
static void
control_containers(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();

	dockerd_gen_containers(g);
	control_reply_gen(req, 200, g);
}

/* GET /networks, GET /endpoints: the NetworkDriver's model. */
static void
control_networks(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	plugin_network_gen(g, strcmp(http_request_path(req), "/endpoints") == 0);
	yajl_gen_map_close(g);
	control_reply_gen(req, 200, g);
}

/* GET /ingress: services and servers of ingress (src/ingress). */
static void
control_ingress(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();

	ingress_gen(g);
	control_reply_gen(req, 200, g);
}

/* POST /ingress/renew: host certificates issued again, in place. */
static void
control_ingress_renew(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();
	int		n = ingress_renew_all();

	yajl_gen_map_open(g);
	if (n < 0)
		json_gen_string(g, "error", "ingress has no TLS frontend");
	else
		json_gen_int(g, "renewed", n);
	yajl_gen_map_close(g);
	control_reply_gen(req, n < 0 ? 409 : 200, g);
}

/* dns3: GET /records: what the DNS server answers with. */
static void
control_records(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();

	dns_gen_records(g);
	control_reply_gen(req, 200, g);
}

/* One entry of GET /certs; times as RFC 3339 UTC, "-" before the first
 * certificate. */
void
control_cert_entry(yajl_gen g, const struct control_cert *c)
{
	char	when[32];

	yajl_gen_map_open(g);
	json_gen_string(g, "volume", c->volume);
	json_gen_string(g, "names", c->names);
	json_gen_string(g, "issuer", c->issuer);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ",
	    gmtime(&c->not_before));
	json_gen_string(g, "not_before", c->not_before != 0 ? when : "-");
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ",
	    gmtime(&c->not_after));
	json_gen_string(g, "not_after", c->not_after != 0 ? when : "-");
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ",
	    gmtime(&c->renew_at));
	json_gen_string(g, "renew_at", c->renew_at != 0 ? when : "-");
	if (c->error != NULL)
		json_gen_string(g, "error", c->error);
	yajl_gen_map_close(g);
}

/*
 * GET /certs: every certificate netcraved keeps, asked of each holder:
 * certificate volumes, the names of acme.names, the ingress hosts.
 */
static void
control_certs(struct http_request *req, void *arg)
{
	yajl_gen	g = json_gen_new();

	yajl_gen_map_open(g);
	json_gen_key(g, "certs");
	yajl_gen_array_open(g);
	volume_certs_json(g);
	acme_certs_json(g);
	ingress_certs_json(g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	control_reply_gen(req, 200, g);
}

/*
 * GET /children: the supervised children in the table's order (the start
 * order), each with its state, pid (-1: none runs), restarts and the seconds
 * its process has run (-1: none runs).
 */
static void
control_children(struct http_request *req, void *arg)
{
	struct child	*c;
	yajl_gen	 g;
	long long	 up;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "children");
	yajl_gen_array_open(g);
	for (c = supervise_first(); c != NULL; c = supervise_next(c)) {
		up = supervise_uptime_ms(c);
		yajl_gen_map_open(g);
		json_gen_string(g, "name", supervise_role(c));
		json_gen_int(g, "pid", (long long)supervise_pid(c));
		json_gen_string(g, "state",
		    supervise_state_name(supervise_state(c)));
		json_gen_int(g, "restarts", supervise_restarts(c));
		json_gen_int(g, "uptime_seconds", up == -1 ? -1 : up / 1000);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	control_reply_gen(req, 200, g);
}

/* Listen on the control socket, 0600: it tells about the whole host. */
static int
control_init(const struct server_env *env, char *err, size_t errlen)
{
	struct http_limits	limits;

	control_conf = env->conf;
	control_store = env->store;
	control_started = time(NULL);
	server_http_limits(env->conf, &limits);
	if (util_mkdir_parent(env->conf->control_socket, 0755, err, errlen) == -1)
		return (-1);
	control_http = http_server_new(env->base, "control", &limits,
	    control_routes, sizeof control_routes / sizeof control_routes[0],
	    control_error, NULL);
	if (http_server_listen_unix(control_http, env->conf->control_socket, 0600,
	    err, errlen) == -1) {
		http_server_free(control_http);
		control_http = NULL;
		return (-1);
	}
	log_info("control: listening on %s", env->conf->control_socket);
	return (0);
}

/* Take the new config (its paths equal the old ones: netcraved checked). */
static int
control_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct http_limits	limits;

	control_conf = new;
	server_http_limits(new, &limits);
	http_server_set_limits(control_http, &limits);
	return (0);
}

/* Close the control socket. */
static void
control_shutdown(void)
{
	if (control_http != NULL)
		http_server_free(control_http);
	control_http = NULL;
}

const struct server control_server = {
	"control", control_init, control_reload, control_shutdown
};

/* GET /metrics: the whole registry in Prometheus text format. */
static void
metrics_get(struct http_request *req, void *arg)
{
	struct evbuffer	*out;

	if ((out = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	metrics_render(out);
	http_reply_buffer(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    out);
	evbuffer_free(out);
}

/*
 * Listen where metrics.listen says: "unix:PATH" (0660) or "HOST:PORT" /
 * "[V6]:PORT"; the empty string disables the endpoint.
 */
static int
metrics_init(const struct server_env *env, char *err, size_t errlen)
{
	struct http_limits	 limits;
	const char		*listen = env->conf->metrics_listen;
	int			 rv;

	if (listen == NULL || *listen == '\0')
		return (0);
	server_http_limits(env->conf, &limits);
	metrics_http = http_server_new(env->base, "metrics", &limits,
	    metrics_routes, sizeof metrics_routes / sizeof metrics_routes[0],
	    NULL, NULL);
	rv = server_http_listen(metrics_http, listen, NULL, err, errlen);
	if (rv == -1) {
		http_server_free(metrics_http);
		metrics_http = NULL;
		return (-1);
	}
	log_info("metrics: listening on %s", listen);
	return (0);
}

/* New limits; the listen address needs a restart (netcraved checked). */
static int
metrics_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct http_limits	limits;

	if (metrics_http == NULL)
		return (0);
	server_http_limits(new, &limits);
	http_server_set_limits(metrics_http, &limits);
	return (0);
}

/* Close the metrics endpoint. */
static void
metrics_shutdown(void)
{
	if (metrics_http != NULL)
		http_server_free(metrics_http);
	metrics_http = NULL;
}

const struct server metrics_server = {
	"metrics", metrics_init, metrics_reload, metrics_shutdown
};
