/* plugin_network.c: Docker's NetworkDriver.  Each network is a Linux bridge in
 * netcrave's routing namespace holding the network's gateway addresses; each
 * endpoint a veth pair whose container end is made in dockerd's namespace (Docker
 * moves it into the container) and whose other end sits on that bridge.  State is
 * in the store (net.network, net.endpoint) before Docker hears of a change.  Also
 * the "network" server entry: routing namespace, reconcile at start, and leaving
 * every link in place at shutdown so containers keep their connectivity. */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "json.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "nft.h"
#include "plugin.h"
#include "plugin_private.h"
#include "prefix.h"
#include "schema.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "watch.h"
#include "xmalloc.h"

#define NET_KIND_NETWORK	"net.network"
#define NET_KIND_ENDPOINT	"net.endpoint"
#define NET_GENERIC		"com.docker.network.generic"
#define NET_TAG_OPTION		"netcrave.tag"
#define NET_IFNAMSIZ		16
#define NET_ID_CHARS		8	/* of a Docker ID, in link names */

TAILQ_HEAD(net_network_list, net_network);
TAILQ_HEAD(net_endpoint_list, net_endpoint);

static struct {
	struct store		*store;
	char			*instance;
	char			*link_prefix;
	char			*netns;		/* routing namespace */
	char			*docker_netns;	/* NULL: netcraved's own */
	char			*nft_table;
	int			 rns;		/* fd of the routing namespace */
	int			 dns;		/* fd of dockerd's namespace */
	struct nl_sock		*rsk;		/* rtnetlink in the routing namespace */
	struct nl_sock		*dsk;		/* ... in dockerd's */
	struct nl_sock		*hsk;		/* ... in netcraved's (the host) */
	char			*uplink_tag;
	char			*host_tag;
	struct prefix		 uplink_addr;	/* the routing end's address */
	char			 uplink_host[NET_IFNAMSIZ];	/* host end */
	char			 uplink[NET_IFNAMSIZ];		/* routing end */
	struct net_network_list	 networks;
	struct net_endpoint_list endpoints;
	char			 broken[256];	/* why networking is off, or "" */
	struct watch		*rwatch;	/* rtnetlink of the routing namespace */
	struct watch		*hwatch;	/* ... of the host (the uplink's end) */
	struct event		*repair;	/* rebuild after the kernel lost a part */
	struct event_base	*base;
} net = { .rns = -1, .dns = -1 };

/* A reply waiting for the store; undo runs if the store fails. */
struct net_pending {
	struct http_request	*req;		/* NULL once the client went away */
	char			*reply;
	void			(*undo)(void *);
	void			*undo_arg;
};

static int	net_unavailable(struct http_request *);
static void	(*net_change_hook)(void);	/* dns3: gateway listeners */
static int	net_kernel_start(void);

/* Find a network / an endpoint by Docker's ID. */
static struct net_network *
net_find_network(const char *id)
{
	struct net_network	*n;

	TAILQ_FOREACH(n, &net.networks, entry)
		if (strcmp(n->id, id) == 0)
			return (n);
	return (NULL);
}

static struct net_endpoint *
net_find_endpoint(const char *id)
{
	struct net_endpoint	*e;

	TAILQ_FOREACH(e, &net.endpoints, entry)
		if (strcmp(e->id, id) == 0)
			return (e);
	return (NULL);
}

/* A link name: the instance's prefix, a kind letter and the ID's first chars. */
static void
net_link_name(char *buf, size_t len, char kind, const char *id)
{
	snprintf(buf, len, "%s%c%.*s", net.link_prefix, kind, NET_ID_CHARS, id);
}

/* The alias of every link of object id: "netcrave:<instance>:<what>:<id>". */
static void
net_alias(char *buf, size_t len, const char *what, const char *id)
{
	snprintf(buf, len, "netcrave:%s:%s:%s", net.instance, what, id);
}

static void
net_network_free(struct net_network *n)
{
	free(n->id);
	free(n->tag);
	util_strv_free(n->egress);
	util_strv_free(n->ingress);
	free(n);
}

static void
net_endpoint_free(struct net_endpoint *e)
{
	free(e->id);
	free(e->network);
	free(e);
}

static void
net_pending_cleanup(struct http_request *req, void *arg)
{
	struct net_pending	*p = arg;

	p->req = NULL;
}

/* The store answered: reply (or undo and say why). */
static void
net_pending_done(const char *error, void *arg)
{
	struct net_pending	*p = arg;

	if (error != NULL) {
		log_warnx("network: store: %s", error);
		if (p->undo != NULL)
			p->undo(p->undo_arg);
		if (p->req != NULL) {
			http_request_set_cleanup(p->req, NULL, NULL);
			plugin_fail(p->req, 500,
			    "NetworkDriver: the state store failed: %s", error);
		}
	} else if (p->req != NULL) {
		http_request_set_cleanup(p->req, NULL, NULL);
		plugin_reply_json(p->req, p->reply);
	}
	free(p->reply);
	free(p);
}

static struct net_pending *
net_pending_new(struct http_request *req, const char *reply)
{
	struct net_pending	*p;

	p = xcalloc(1, sizeof *p);
	p->req = req;
	p->reply = xstrdup(reply);
	http_request_set_cleanup(req, net_pending_cleanup, p);
	return (p);
}

/* A generator's text, freed generator. */
static char *
net_gen_text(yajl_gen g)
{
	const unsigned char	*buf;
	size_t			 len;
	char			*out;

	yajl_gen_get_buf(g, &buf, &len);
	out = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	return (out);
}

static void
net_gen_prefix(yajl_gen g, const char *key, int has, const struct prefix *p)
{
	char	buf[PREFIX_STRLEN];

	json_gen_string(g, key, has ? prefix_format(p, 1, buf, sizeof buf) :
	    NULL);
}

/* The stored form of a network (also what `netcravectl networks` shows). */
static void
net_network_gen(yajl_gen g, const struct net_network *n)
{
	yajl_gen_map_open(g);
	json_gen_string(g, "id", n->id);
	json_gen_string(g, "tag", n->tag);
	json_gen_string(g, "bridge", n->bridge);
	net_gen_prefix(g, "gateway", n->has4, &n->gw4);
	net_gen_prefix(g, "gateway6", n->has6, &n->gw6);
	json_gen_strv(g, "egress", n->egress);
	json_gen_strv(g, "ingress", n->ingress);
	yajl_gen_map_close(g);
}

static void
net_endpoint_gen(yajl_gen g, const struct net_endpoint *e)
{
	yajl_gen_map_open(g);
	json_gen_string(g, "id", e->id);
	json_gen_string(g, "network", e->network);
	json_gen_string(g, "mac", e->mac);
	net_gen_prefix(g, "address", e->has4, &e->addr4);
	net_gen_prefix(g, "address6", e->has6, &e->addr6);
	json_gen_string(g, "ifname", e->ifname);
	json_gen_string(g, "peer", e->peer);
	json_gen_bool(g, "linked", e->joined);
	yajl_gen_map_close(g);
}

static char *
net_network_record(const struct net_network *n)
{
	yajl_gen	g = json_gen_new();

	net_network_gen(g, n);
	return (net_gen_text(g));
}

static char *
net_endpoint_record(const struct net_endpoint *e)
{
	yajl_gen	g = json_gen_new();

	net_endpoint_gen(g, e);
	return (net_gen_text(g));
}

/*
 * "networks": [...] (or "endpoints": [...]) into an open map, for the control
 * socket's GET /networks and GET /endpoints.
 */
void
plugin_network_gen(yajl_gen g, int endpoints)
{
	struct net_network	*n;
	struct net_endpoint	*e;

	json_gen_key(g, endpoints ? "endpoints" : "networks");
	yajl_gen_array_open(g);
	if (endpoints) {
		TAILQ_FOREACH(e, &net.endpoints, entry)
			net_endpoint_gen(g, e);
	} else {
		TAILQ_FOREACH(n, &net.networks, entry)
			net_network_gen(g, n);
	}
	yajl_gen_array_close(g);
}

/* Recompute and apply the policy ruleset after any change of the model. */
static void
net_policy_apply(void)
{
	struct nft_model	 m;
	struct net_network	*n;
	char			*text, err[256];
	size_t			 i = 0;

	memset(&m, 0, sizeof m);
	m.table = net.nft_table;
	if (net.uplink[0] != '\0') {
		m.uplink = net.uplink;
		m.uplink_tag = net.uplink_tag;
		m.host_tag = net.host_tag;
	}
	TAILQ_FOREACH(n, &net.networks, entry)
		m.nnetworks++;
	m.networks = xcalloc(m.nnetworks + 1, sizeof *m.networks);
	TAILQ_FOREACH(n, &net.networks, entry)
		m.networks[i++] = n;
	text = nft_ruleset(&m);
	if (nft_apply(net.rns, text, err, sizeof err) == -1)
		log_warnx("network: nft: %s", err);
	free(text);
	free(m.networks);
	if (net_change_hook != NULL)
		net_change_hook();
}

/*
 * The host reaches a network whose ingress admits the host tag (HAProxy to its
 * backends): a route on the host to its IPv4 pool through the uplink.
 */
static void
net_host_route(const struct net_network *n, int add)
{
	char	err[256];
	int	idx;

	if (!n->has4 || net.uplink[0] == '\0' ||
	    !util_strv_has(n->ingress, net.host_tag))
		return;
	if (!add) {
		link_route_del(net.hsk, &n->pool4);
		return;
	}
	if ((idx = link_index(net.hsk, net.uplink_host)) == 0 ||
	    link_route_add(net.hsk, &n->pool4, &net.uplink_addr, idx, err,
	    sizeof err) == -1)
		log_warnx("network: host route to %.12s: %s", n->id,
		    idx == 0 ? "no uplink" : err);
}

/* Make the bridge of a network and its gateway addresses (idempotent). */
static int
net_network_build(const struct net_network *n, char *err, size_t errlen)
{
	char	alias[128];
	int	idx;

	net_alias(alias, sizeof alias, "net", n->id);
	if ((idx = link_bridge_ensure(net.rsk, n->bridge, alias, err,
	    errlen)) == -1)
		return (-1);
	if (n->has4 && link_addr_add(net.rsk, idx, &n->gw4, err, errlen) == -1)
		return (-1);
	if (n->has6 && link_addr_add(net.rsk, idx, &n->gw6, err, errlen) == -1)
		return (-1);
	net_host_route(n, 1);
	return (0);
}

/* The first IPAM data of a family: its pool and gateway ("a.b.c.d/len"). */
static int
net_ipam_data(struct http_request *req, const struct json *doc,
    const char *key, int family, struct prefix *pool, struct prefix *gw)
{
	const struct json	*arr = json_get(doc, key), *d;
	const char		*s;

	if (arr == NULL || arr->type != JSON_ARRAY || arr->nchildren == 0)
		return (0);
	d = arr->children[0];
	if ((s = json_get_string(d, "Pool")) == NULL ||
	    prefix_parse(s, 0, pool, NULL, 0) == -1 || pool->family != family) {
		plugin_bad_request(req, "%s: Pool is missing or not a prefix",
		    key);
		return (-1);
	}
	if ((s = json_get_string(d, "Gateway")) == NULL ||
	    prefix_parse(s, 0, gw, NULL, 0) == -1 || gw->family != family) {
		plugin_bad_request(req, "%s: Gateway is missing or not an "
		    "address with its prefix length", key);
		return (-1);
	}
	return (1);
}

static void
net_undo_network(void *arg)
{
	struct net_network	*n = arg;

	TAILQ_REMOVE(&net.networks, n, entry);
	net_host_route(n, 0);
	link_delete(net.rsk, n->bridge);
	net_network_free(n);
	net_policy_apply();
}

/* NetworkDriver.CreateNetwork: a bridge with the gateways, tagged from the pool. */
void
plugin_network_create(struct http_request *req, void *arg)
{
	const struct schema	*schema = plugin_ipam_schema();
	struct schema_scope	*scope;
	struct json		*doc;
	const struct json	*generic;
	struct net_network	*n;
	struct net_pending	*p;
	struct prefix		 pool4, pool6, gw4, gw6;
	const char		*id, *opt_tag;
	char			*record, err[256], buf[PREFIX_STRLEN];
	int			 has4, has6;

	if (plugin_body(req, &doc) == -1)
		return;
	if (doc == NULL || (id = json_get_string(doc, "NetworkID")) == NULL ||
	    *id == '\0') {
		plugin_bad_request(req, "NetworkID is missing");
		goto out;
	}
	if (net_find_network(id) != NULL) {
		plugin_reply_json(req, "{}");
		goto out;
	}
	if ((has4 = net_ipam_data(req, doc, "IPv4Data", AF_INET, &pool4,
	    &gw4)) == -1 || (has6 = net_ipam_data(req, doc, "IPv6Data",
	    AF_INET6, &pool6, &gw6)) == -1)
		goto out;
	if (!has4 && !has6) {
		plugin_bad_request(req, "neither IPv4Data nor IPv6Data");
		goto out;
	}
	scope = schema != NULL ? schema_find_containing(schema,
	    has4 ? &pool4 : &pool6) : NULL;
	if (scope == NULL) {
		plugin_fail(req, 400, "pool %s is not from netcrave's address "
		    "schema: create the network with --ipam-driver %s",
		    prefix_format(has4 ? &pool4 : &pool6, 1, buf, sizeof buf),
		    net.instance);
		goto out;
	}
	opt_tag = NULL;
	if ((generic = json_get(json_get(doc, "Options"), NET_GENERIC)) != NULL)
		opt_tag = json_get_string(generic, NET_TAG_OPTION);
	if (opt_tag != NULL && !util_strv_has(schema_scope_tags(scope),
	    opt_tag)) {
		plugin_fail(req, 400, "-o %s=%s disagrees with the pool %s, "
		    "which is from scope %s", NET_TAG_OPTION, opt_tag,
		    prefix_format(has4 ? &pool4 : &pool6, 1, buf, sizeof buf),
		    schema_scope_path(scope));
		goto out;
	}
	/* Checked last, so the body's checks above are reached (and fuzzed). */
	if (net_unavailable(req))
		goto out;

	n = xcalloc(1, sizeof *n);
	n->id = xstrdup(id);
	if (opt_tag != NULL)
		n->tag = xstrdup(opt_tag);
	else if (schema_scope_tags(scope) != NULL &&
	    schema_scope_tags(scope)[0] != NULL)
		n->tag = xstrdup(schema_scope_tags(scope)[0]);
	else
		n->tag = xstrdup(schema_scope_path(scope));
	n->egress = util_strv_copy(schema_scope_egress(scope));
	n->ingress = util_strv_copy(schema_scope_ingress(scope));
	n->has4 = has4;
	n->has6 = has6;
	if (has4) {
		n->gw4 = gw4;
		n->pool4 = pool4;
	}
	if (has6) {
		n->gw6 = gw6;
		n->pool6 = pool6;
	}
	net_link_name(n->bridge, sizeof n->bridge, 'b', id);
	if (net_network_build(n, err, sizeof err) == -1) {
		link_delete(net.rsk, n->bridge);
		net_network_free(n);
		plugin_fail(req, 500, "cannot build network %.12s: %s", id, err);
		goto out;
	}
	TAILQ_INSERT_TAIL(&net.networks, n, entry);
	net_policy_apply();
	log_info("network: %.12s tag %s bridge %s", id, n->tag, n->bridge);

	p = net_pending_new(req, "{}");
	p->undo = net_undo_network;
	p->undo_arg = n;
	record = net_network_record(n);
	store_put(net.store, NET_KIND_NETWORK, n->id, record, strlen(record),
	    net_pending_done, p);
	free(record);
out:
	json_free(doc);
}

/*
 * Start the kernel part if it is not running; if it cannot (no root, no
 * namespaces), say so with 503.
 */
static int
net_unavailable(struct http_request *req)
{
	if (net_kernel_start() == 0)
		return (0);
	plugin_fail(req, 503, "networking is unavailable: %s", net.broken[0] !=
	    '\0' ? net.broken : "the network server has not started");
	return (1);
}

/* The ID member of a body, or NULL after answering 400. */
static const char *
net_body_id(struct http_request *req, struct json **doc, const char *key)
{
	const char	*id;

	if (plugin_body(req, doc) == -1)
		return (NULL);
	if (*doc == NULL || (id = json_get_string(*doc, key)) == NULL ||
	    *id == '\0') {
		plugin_bad_request(req, "%s is missing", key);
		return (NULL);
	}
	return (id);
}

/* NetworkDriver.DeleteNetwork: the bridge goes, then the record; idempotent. */
void
plugin_network_delete(struct http_request *req, void *arg)
{
	struct json		*doc = NULL;
	struct net_network	*n;
	const char		*id;

	if ((id = net_body_id(req, &doc, "NetworkID")) == NULL)
		goto out;
	if ((n = net_find_network(id)) == NULL) {
		plugin_reply_json(req, "{}");
		goto out;
	}
	TAILQ_REMOVE(&net.networks, n, entry);
	net_host_route(n, 0);
	link_delete(net.rsk, n->bridge);
	net_policy_apply();
	log_info("network: %.12s deleted", n->id);
	store_del(net.store, NET_KIND_NETWORK, n->id, net_pending_done,
	    net_pending_new(req, "{}"));
	net_network_free(n);
out:
	json_free(doc);
}

static void
net_undo_endpoint(void *arg)
{
	struct net_endpoint	*e = arg;

	TAILQ_REMOVE(&net.endpoints, e, entry);
	net_endpoint_free(e);
}

/* An address member "a.b.c.d/len" of Interface, if set. */
static int
net_iface_addr(struct http_request *req, const struct json *iface,
    const char *key, int family, struct prefix *out)
{
	const char	*s = json_get_string(iface, key);

	if (s == NULL || *s == '\0')
		return (0);
	if (prefix_parse(s, 0, out, NULL, 0) == -1 || out->family != family) {
		plugin_bad_request(req, "Interface.%s is not an address with "
		    "its prefix length", key);
		return (-1);
	}
	return (1);
}

/* NetworkDriver.CreateEndpoint: record it; a MAC only when Docker left none. */
void
plugin_network_create_endpoint(struct http_request *req, void *arg)
{
	struct json		*doc = NULL;
	const struct json	*iface;
	struct net_network	*n;
	struct net_endpoint	*e;
	struct net_pending	*p;
	const char		*id, *netid, *mac;
	unsigned char		 hw[6];
	char			*record, reply[96];

	if ((id = net_body_id(req, &doc, "EndpointID")) == NULL)
		goto out;
	if ((netid = json_get_string(doc, "NetworkID")) == NULL ||
	    (n = net_find_network(netid)) == NULL) {
		plugin_fail(req, 404, "no such network %.12s",
		    netid != NULL ? netid : "(none)");
		goto out;
	}
	if ((e = net_find_endpoint(id)) != NULL) {
		plugin_reply_json(req, "{}");
		goto out;
	}
	e = xcalloc(1, sizeof *e);
	iface = json_get(doc, "Interface");
	if ((e->has4 = net_iface_addr(req, iface, "Address", AF_INET,
	    &e->addr4)) == -1 || (e->has6 = net_iface_addr(req, iface,
	    "AddressIPv6", AF_INET6, &e->addr6)) == -1) {
		free(e);
		goto out;
	}
	mac = json_get_string(iface, "MacAddress");
	if (mac != NULL && *mac != '\0') {
		snprintf(e->mac, sizeof e->mac, "%s", mac);
		snprintf(reply, sizeof reply, "{}");
	} else {
		/* Locally administered, unicast. */
		crypto_random(hw, sizeof hw);
		hw[0] = (hw[0] & 0xfe) | 0x02;
		snprintf(e->mac, sizeof e->mac,
		    "%02x:%02x:%02x:%02x:%02x:%02x", hw[0], hw[1], hw[2], hw[3],
		    hw[4], hw[5]);
		snprintf(reply, sizeof reply,
		    "{\"Interface\":{\"MacAddress\":\"%s\"}}", e->mac);
	}
	e->id = xstrdup(id);
	e->network = xstrdup(n->id);
	net_link_name(e->ifname, sizeof e->ifname, 'c', id);
	net_link_name(e->peer, sizeof e->peer, 'v', id);
	TAILQ_INSERT_TAIL(&net.endpoints, e, entry);

	p = net_pending_new(req, reply);
	p->undo = net_undo_endpoint;
	p->undo_arg = e;
	record = net_endpoint_record(e);
	store_put(net.store, NET_KIND_ENDPOINT, e->id, record, strlen(record),
	    net_pending_done, p);
	free(record);
out:
	json_free(doc);
}

/* NetworkDriver.EndpointOperInfo: what netcrave knows of the endpoint. */
void
plugin_network_endpoint_info(struct http_request *req, void *arg)
{
	struct json		*doc = NULL;
	struct net_endpoint	*e;
	const char		*id;
	yajl_gen		 g;
	char			*text;

	if ((id = net_body_id(req, &doc, "EndpointID")) == NULL)
		goto out;
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "Value");
	if ((e = net_find_endpoint(id)) != NULL)
		net_endpoint_gen(g, e);
	else {
		yajl_gen_map_open(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	text = net_gen_text(g);
	plugin_reply_json(req, text);
	free(text);
out:
	json_free(doc);
}

/* NetworkDriver.DeleteEndpoint: its links and its record; idempotent. */
void
plugin_network_delete_endpoint(struct http_request *req, void *arg)
{
	struct json		*doc = NULL;
	struct net_endpoint	*e;
	const char		*id;

	if ((id = net_body_id(req, &doc, "EndpointID")) == NULL)
		goto out;
	if ((e = net_find_endpoint(id)) == NULL) {
		plugin_reply_json(req, "{}");
		goto out;
	}
	TAILQ_REMOVE(&net.endpoints, e, entry);
	link_delete(net.rsk, e->peer);
	link_delete(net.dsk, e->ifname);
	store_del(net.store, NET_KIND_ENDPOINT, e->id, net_pending_done,
	    net_pending_new(req, "{}"));
	net_endpoint_free(e);
out:
	json_free(doc);
}

/* NetworkDriver.Join: the veth pair; Docker moves SrcName into the container. */
void
plugin_network_join(struct http_request *req, void *arg)
{
	struct json		*doc = NULL;
	struct net_endpoint	*e;
	struct net_network	*n;
	const char		*id;
	char			 alias[128], err[256], buf[PREFIX_STRLEN];
	int			 master;
	yajl_gen		 g;
	char			*text;

	if ((id = net_body_id(req, &doc, "EndpointID")) == NULL)
		goto out;
	if ((e = net_find_endpoint(id)) == NULL ||
	    (n = net_find_network(e->network)) == NULL) {
		plugin_fail(req, 404, "no such endpoint %.12s", id);
		goto out;
	}
	if ((master = link_index(net.rsk, n->bridge)) == 0) {
		plugin_fail(req, 500, "network %.12s has lost its bridge %s",
		    n->id, n->bridge);
		goto out;
	}
	/* A Join retried after a failure finds the old pair: start afresh. */
	link_delete(net.rsk, e->peer);
	link_delete(net.dsk, e->ifname);
	net_alias(alias, sizeof alias, "ep", e->id);
	if (link_veth_create(net.dsk, e->ifname, e->mac, net.rsk, net.rns,
	    e->peer, master, alias, err, sizeof err) == -1) {
		plugin_fail(req, 500, "cannot join endpoint %.12s: %s", id, err);
		goto out;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "InterfaceName");
	yajl_gen_map_open(g);
	json_gen_string(g, "SrcName", e->ifname);
	json_gen_string(g, "DstPrefix", "eth");
	yajl_gen_map_close(g);
	if (n->has4)
		json_gen_string(g, "Gateway", prefix_format(&n->gw4, 0, buf,
		    sizeof buf));
	if (n->has6 && e->has6)
		json_gen_string(g, "GatewayIPv6", prefix_format(&n->gw6, 0, buf,
		    sizeof buf));
	json_gen_bool(g, "DisableGatewayService", 0);
	yajl_gen_map_close(g);
	text = net_gen_text(g);
	e->joined = 1;
	log_info("network: endpoint %.12s joined %s", e->id, n->bridge);
	plugin_reply_json(req, text);
	free(text);
out:
	json_free(doc);
}

/* NetworkDriver.Leave: the veth pair goes (one end takes the other). */
void
plugin_network_leave(struct http_request *req, void *arg)
{
	struct json		*doc = NULL;
	struct net_endpoint	*e;
	const char		*id;

	if ((id = net_body_id(req, &doc, "EndpointID")) == NULL)
		goto out;
	if ((e = net_find_endpoint(id)) != NULL) {
		e->joined = 0;
		link_delete(net.rsk, e->peer);
		link_delete(net.dsk, e->ifname);
	}
	plugin_reply_json(req, "{}");
out:
	json_free(doc);
}

/*
 * Program/RevokeExternalConnectivity (port publishing) and DiscoverNew/Delete
 * (cluster peers): nothing to do for a local driver whose egress is policy.
 */
void
plugin_network_nothing(struct http_request *req, void *arg)
{
	plugin_reply_fixed(req, "{}");
}

/* ------------------------------------------------------------- the server */

static void
net_load_network(const struct server_record *r)
{
	struct json		*doc;
	struct json_error	 jerr;
	struct net_network	*n;
	const struct json	*a;
	const char		*s;
	size_t			 i, k;

	if ((doc = json_parse(r->value, r->len, 0, &jerr)) == NULL) {
		log_warnx("network: record %s: %s", r->key, jerr.message);
		return;
	}
	n = xcalloc(1, sizeof *n);
	n->id = xstrdup(r->key);
	n->tag = xstrdup((s = json_get_string(doc, "tag")) != NULL ? s : "");
	snprintf(n->bridge, sizeof n->bridge, "%s",
	    (s = json_get_string(doc, "bridge")) != NULL ? s : "");
	if ((s = json_get_string(doc, "gateway")) != NULL &&
	    prefix_parse(s, 0, &n->gw4, NULL, 0) == 0) {
		n->has4 = 1;
		n->pool4 = n->gw4;
		prefix_mask(&n->pool4);
	}
	if ((s = json_get_string(doc, "gateway6")) != NULL &&
	    prefix_parse(s, 0, &n->gw6, NULL, 0) == 0) {
		n->has6 = 1;
		n->pool6 = n->gw6;
		prefix_mask(&n->pool6);
	}
	for (k = 0; k < 2; k++) {
		a = json_get(doc, k == 0 ? "egress" : "ingress");
		if (a == NULL || a->type != JSON_ARRAY)
			continue;
		char **v = xcalloc(a->nchildren + 1, sizeof *v);
		for (i = 0; i < a->nchildren; i++)
			v[i] = xstrdup(a->children[i]->string != NULL ?
			    a->children[i]->string : "");
		if (k == 0)
			n->egress = v;
		else
			n->ingress = v;
	}
	json_free(doc);
	TAILQ_INSERT_TAIL(&net.networks, n, entry);
}

static void
net_load_endpoint(const struct server_record *r)
{
	struct json		*doc;
	struct json_error	 jerr;
	struct net_endpoint	*e;
	const char		*s;

	if ((doc = json_parse(r->value, r->len, 0, &jerr)) == NULL) {
		log_warnx("network: record %s: %s", r->key, jerr.message);
		return;
	}
	e = xcalloc(1, sizeof *e);
	e->id = xstrdup(r->key);
	e->network = xstrdup((s = json_get_string(doc, "network")) != NULL ?
	    s : "");
	snprintf(e->mac, sizeof e->mac, "%s",
	    (s = json_get_string(doc, "mac")) != NULL ? s : "");
	if ((s = json_get_string(doc, "address")) != NULL &&
	    prefix_parse(s, 0, &e->addr4, NULL, 0) == 0)
		e->has4 = 1;
	if ((s = json_get_string(doc, "address6")) != NULL &&
	    prefix_parse(s, 0, &e->addr6, NULL, 0) == 0)
		e->has6 = 1;
	net_link_name(e->ifname, sizeof e->ifname, 'c', e->id);
	net_link_name(e->peer, sizeof e->peer, 'v', e->id);
	json_free(doc);
	TAILQ_INSERT_TAIL(&net.endpoints, e, entry);
}

/* A link of ours in the kernel: remove it if no record owns it. */
static void
net_orphan_cb(const char *name, const char *alias, void *arg)
{
	struct nl_sock	*sk = arg;
	const char	*kind, *id;
	size_t		 plen;
	char		 want[128];

	snprintf(want, sizeof want, "netcrave:%s:", net.instance);
	plen = strlen(want);
	if (strncmp(alias, want, plen) != 0)
		return;
	kind = alias + plen;
	if (strncmp(kind, "net:", 4) == 0) {
		id = kind + 4;
		if (net_find_network(id) != NULL)
			return;
	} else if (strncmp(kind, "uplink:", 7) == 0) {
		return;
	} else if (strncmp(kind, "ep:", 3) == 0) {
		id = kind + 3;
		if (net_find_endpoint(id) != NULL)
			return;
	}
	log_info("network: removing orphan link %s (%s)", name, alias);
	link_delete(sk, name);
}

/*
 * The uplink: a veth pair between the routing namespace and the host, on a
 * link-local /30 chosen from the instance name (169.254.N.0/30), with the
 * routing namespace's default route through it.  Only networks whose egress
 * names the uplink tag may use it (nft), IPv4 masqueraded to its address.
 */
static int
net_uplink_build(char *err, size_t errlen)
{
	struct prefix	 host, route, host6, route6;
	const char	*c;
	char		 alias[128];
	unsigned int	 h = 5381;
	int		 idx;

	for (c = net.instance; *c != '\0'; c++)
		h = h * 33 + (unsigned char)*c;
	memset(&host, 0, sizeof host);
	host.family = AF_INET;
	host.len = 30;
	host.addr[0] = 169;
	host.addr[1] = 254;
	host.addr[2] = 1 + h % 254;
	route = host;
	host.addr[3] = 1;
	route.addr[3] = 2;
	net.uplink_addr = route;
	net.uplink_addr.len = 32;
	/* IPv6: fd6e:6372:<hash>::/64 ("ncr"), ::1 the host, ::2 ours. */
	memset(&host6, 0, sizeof host6);
	host6.family = AF_INET6;
	host6.len = 64;
	memcpy(host6.addr, "\xfd\x6e\x63\x72", 4);
	host6.addr[4] = (h >> 8) & 0xff;
	host6.addr[5] = h & 0xff;
	route6 = host6;
	host6.addr[15] = 1;
	route6.addr[15] = 2;

	snprintf(net.uplink_host, sizeof net.uplink_host, "%suh",
	    net.link_prefix);
	snprintf(net.uplink, sizeof net.uplink, "%sur", net.link_prefix);
	net_alias(alias, sizeof alias, "uplink", "0");
	if (link_index(net.rsk, net.uplink) == 0 ||
	    link_index(net.hsk, net.uplink_host) == 0) {
		link_delete(net.rsk, net.uplink);
		link_delete(net.hsk, net.uplink_host);
		if (link_veth_create(net.hsk, net.uplink_host, NULL, net.rsk,
		    net.rns, net.uplink, 0, alias, err, errlen) == -1)
			return (-1);
	}
	link_set_up(net.hsk, net.uplink_host);
	if ((idx = link_index(net.hsk, net.uplink_host)) == 0 ||
	    link_addr_add(net.hsk, idx, &host, err, errlen) == -1 ||
	    link_addr_add(net.hsk, idx, &host6, err, errlen) == -1)
		return (-1);
	if ((idx = link_index(net.rsk, net.uplink)) == 0 ||
	    link_addr_add(net.rsk, idx, &route, err, errlen) == -1 ||
	    link_addr_add(net.rsk, idx, &route6, err, errlen) == -1)
		return (-1);
	if (link_route_add(net.rsk, NULL, &host, idx, err, errlen) == -1 ||
	    link_route_add(net.rsk, NULL, &host6, idx, err, errlen) == -1)
		return (-1);
	/* The host forwards what leaves through the uplink, as dockerd does. */
	link_sysctl(netns_self(), "net/ipv4/ip_forward", "1");
	return (0);
}

/* Make the kernel match the records: missing bridges back, orphans gone. */
static void
net_reconcile(void)
{
	struct net_network	*n;
	struct net_endpoint	*e;
	char			 err[256], prefix[128];
	int			 master;

	TAILQ_FOREACH(n, &net.networks, entry)
		if (net_network_build(n, err, sizeof err) == -1)
			log_warnx("network: %.12s: %s", n->id, err);
	/* A bridge made again takes back the live endpoints' ends. */
	TAILQ_FOREACH(e, &net.endpoints, entry) {
		if ((n = net_find_network(e->network)) == NULL)
			continue;
		if ((master = link_index(net.rsk, n->bridge)) != 0 &&
		    link_set_master(net.rsk, e->peer, master) == 0 &&
		    (e->joined = 1))
			log_debug("network: endpoint %.12s on %s", e->id,
			    n->bridge);
	}
	snprintf(prefix, sizeof prefix, "netcrave:%s:", net.instance);
	link_foreach_alias(net.rsk, prefix, net_orphan_cb, net.rsk);
	link_foreach_alias(net.dsk, prefix, net_orphan_cb, net.dsk);
	net_policy_apply();
}

/* The watcher saw a part go: rebuild what the records say should exist. */
static void
net_repair(evutil_socket_t fd, short events, void *arg)
{
	char	err[256];

	if (net.uplink[0] != '\0' && net_uplink_build(err, sizeof err) == -1)
		log_warnx("network: uplink: %s", err);
	net_reconcile();
}

static void
net_schedule_repair(void)
{
	struct timeval	tv = { 0, 100000 };

	/* A moment later: one repair for a burst of events. */
	if (!evtimer_pending(net.repair, NULL))
		evtimer_add(net.repair, &tv);
}

/*
 * An rtnetlink event.  A bridge, the uplink or a gateway address that vanished
 * is made again; a joined endpoint's link that vanished is logged and the
 * endpoint marked unlinked; a link with our alias that nobody owns is removed.
 */
static void
net_watch_cb(enum watch_what what, const char *name, const char *alias,
    void *arg)
{
	struct nl_sock		*sk = arg;
	struct net_endpoint	*e;
	char			 mine[128];
	const char		*kind;

	if (what == WATCH_LOST || (what == WATCH_ADDR_DEL && sk == net.rsk)) {
		net_schedule_repair();
		return;
	}
	if (what == WATCH_ADDR_DEL)
		return;
	snprintf(mine, sizeof mine, "netcrave:%s:", net.instance);
	if (strncmp(alias, mine, strlen(mine)) != 0)
		return;
	kind = alias + strlen(mine);
	if (what == WATCH_LINK_NEW) {
		net_orphan_cb(name, alias, sk);
		return;
	}
	if (strncmp(kind, "net:", 4) == 0 && net_find_network(kind + 4)) {
		log_warnx("network: bridge %s vanished: making it again", name);
		net_schedule_repair();
	} else if (strncmp(kind, "uplink:", 7) == 0) {
		log_warnx("network: uplink %s vanished: making it again", name);
		net_schedule_repair();
	} else if (strncmp(kind, "ep:", 3) == 0 && sk == net.rsk &&
	    (e = net_find_endpoint(kind + 3)) != NULL && e->joined) {
		log_warnx("network: the link %s of endpoint %.12s vanished",
		    name, e->id);
		e->joined = 0;
	}
}

/*
 * Make (or open) the routing namespace, the uplink and the watchers, then make
 * the kernel match the records.  Done at start when there is anything to keep,
 * else at the first CreateNetwork: a netcraved without networks leaves the
 * kernel alone.  Failing (not root, no namespaces), the reason is kept and
 * CreateNetwork answers 503 with it; the rest of netcraved still serves.
 */
static int
net_kernel_start(void)
{
	char	err[256];

	if (net.rsk != NULL)
		return (0);
	net.broken[0] = '\0';
	if ((net.rns = netns_open(net.netns, 1, net.broken,
	    sizeof net.broken)) == -1 ||
	    (net.dns = netns_open(net.docker_netns, 0, net.broken,
	    sizeof net.broken)) == -1 ||
	    (net.rsk = link_sock_open(net.rns, net.broken,
	    sizeof net.broken)) == NULL ||
	    (net.dsk = link_sock_open(net.dns, net.broken,
	    sizeof net.broken)) == NULL ||
	    (net.hsk = link_sock_open(netns_self(), net.broken,
	    sizeof net.broken)) == NULL) {
		log_warnx("network: networking is unavailable: %s", net.broken);
		link_sock_close(net.rsk);
		link_sock_close(net.dsk);
		net.rsk = net.dsk = NULL;
		if (net.rns != -1)
			close(net.rns);
		if (net.dns != -1)
			close(net.dns);
		net.rns = net.dns = -1;
		return (-1);
	}
	/* The routing namespace routes between networks (and to the uplink). */
	link_sysctl(net.rns, "net/ipv4/ip_forward", "1");
	link_sysctl(net.rns, "net/ipv6/conf/all/forwarding", "1");
	link_set_up(net.rsk, "lo");
	if (net_uplink_build(err, sizeof err) == -1) {
		log_warnx("network: no uplink: %s", err);
		net.uplink[0] = '\0';
	}
	net_reconcile();
	if ((net.rwatch = watch_open(net.base, net.rns, net_watch_cb, net.rsk,
	    err, sizeof err)) == NULL ||
	    (net.hwatch = watch_open(net.base, netns_self(), net_watch_cb,
	    net.hsk, err, sizeof err)) == NULL)
		log_warnx("network: no rtnetlink watcher: %s", err);
	log_info("network: routing namespace %s, links in %s", net.netns,
	    net.docker_netns != NULL ? net.docker_netns : "netcraved's namespace");
	return (0);
}

static int
net_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*c = env->conf;
	char			 path[512];
	size_t			 i;

	TAILQ_INIT(&net.networks);
	TAILQ_INIT(&net.endpoints);
	net.base = env->base;
	net.store = env->store;
	net.instance = xstrdup(c->instance);
	net.link_prefix = xstrdup(c->link_prefix);
	net.netns = xstrdup(c->netns);
	net.nft_table = xstrdup(c->nft_table);
	net.uplink_tag = xstrdup(c->uplink_tag);
	net.host_tag = xstrdup(c->host_tag);
	net.docker_netns = c->runtime_netns != NULL ?
	    xstrdup(c->runtime_netns) : NULL;
	net.repair = evtimer_new(env->base, net_repair, NULL);
	if (netns_init(err, errlen) == -1)
		return (-1);
	for (i = 0; i < env->nrecords; i++) {
		if (strcmp(env->records[i].kind, NET_KIND_NETWORK) == 0)
			net_load_network(&env->records[i]);
		else if (strcmp(env->records[i].kind, NET_KIND_ENDPOINT) == 0)
			net_load_endpoint(&env->records[i]);
	}
	/* Something to keep (records, or a namespace an earlier run made). */
	snprintf(path, sizeof path, "/run/netns/%s", net.netns);
	if (!TAILQ_EMPTY(&net.networks) || access(path, F_OK) == 0)
		(void)net_kernel_start();
	return (0);
}

static int
net_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	return (0);
}

/* Leave every link in place: containers keep their connectivity. */
static void
net_shutdown(void)
{
	struct net_network	*n;
	struct net_endpoint	*e;

	watch_close(net.rwatch);
	watch_close(net.hwatch);
	if (net.repair != NULL)
		event_free(net.repair);
	while ((e = TAILQ_FIRST(&net.endpoints)) != NULL) {
		TAILQ_REMOVE(&net.endpoints, e, entry);
		net_endpoint_free(e);
	}
	while ((n = TAILQ_FIRST(&net.networks)) != NULL) {
		TAILQ_REMOVE(&net.networks, n, entry);
		net_network_free(n);
	}
	link_sock_close(net.rsk);
	link_sock_close(net.dsk);
	link_sock_close(net.hsk);
	net.rsk = net.dsk = net.hsk = NULL;
	if (net.rns != -1)
		close(net.rns);
	if (net.dns != -1)
		close(net.dns);
	net.rns = net.dns = -1;
	free(net.instance);
	free(net.link_prefix);
	free(net.netns);
	free(net.nft_table);
	free(net.uplink_tag);
	free(net.host_tag);
	free(net.docker_netns);
	memset(&net, 0, sizeof net);
	net.rns = net.dns = -1;
}

const struct server network_server = {
	"network", net_init, net_reload, net_shutdown
};

/* dns3: the gateways, for listeners inside the routing namespace. */
void
plugin_network_gateways(void (*fn)(const char *, const struct prefix *, void *),
    void *arg)
{
	struct net_network	*n;

	if (net.rns == -1 || net.netns == NULL)
		return;
	TAILQ_FOREACH(n, &net.networks, entry) {
		if (n->has4)
			fn(net.netns, &n->gw4, arg);
		if (n->has6)
			fn(net.netns, &n->gw6, arg);
	}
}

void
plugin_network_on_change(void (*hook)(void))
{
	net_change_hook = hook;
}
