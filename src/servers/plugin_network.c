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

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "cluster.h"
#include "conf.h"
#include "crypto.h"
#include "dockerd.h"
#include "hostnet.h"
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
#include "vrf.h"
#include "watch.h"
#include "xmalloc.h"

#define NET_KIND_NETWORK	"net.network"
#define NET_KIND_ENDPOINT	"net.endpoint"
#define NET_KIND_UPLINK		"net.uplink"	/* key "0": {"index": N} */
#define NET_KIND_SWARM		"net.swarm"	/* AllocateNetwork: ID -> pools */
#define NET_GENERIC		"com.docker.network.generic"
#define NET_TAG_OPTION		"netcrave.tag"
#define NET_NAME_OPTION		"netcrave.network"
#define NET_IFNAMSIZ		16
#define NET_ID_CHARS		8	/* of a Docker ID, in link names */

TAILQ_HEAD(net_network_list, net_network);
TAILQ_HEAD(net_endpoint_list, net_endpoint);
TAILQ_HEAD(net_vrf_list, vrf);

/* A swarm network a manager allocated here (AllocateNetwork), by its pools. */
struct net_swarm {
	char			*id;
	struct prefix		 pool4, pool6;
	int			 has4, has6;
	TAILQ_ENTRY(net_swarm)	 entry;
};
TAILQ_HEAD(net_swarm_list, net_swarm);

static struct {
	struct store		*store;
	char			*instance;
	char			*link_prefix;
	char			*netns;		/* routing namespace */
	char			*docker_netns;	/* NULL: netcraved's own */
	char			*nft_table;
	int			 rns;		/* fd of the routing namespace */
	int			 dns;		/* fd of dockerd's namespace */
	int			 docker_in_routing; /* dockerd runs in the routing
						   namespace (supervised) */
	struct nl_sock		*rsk;		/* rtnetlink in the routing namespace */
	struct nl_sock		*dsk;		/* ... in dockerd's */
	struct nl_sock		*hsk;		/* ... in netcraved's (the host) */
	char			*uplink_tag;
	char			*host_tag;
	struct prefix		 uplink_addr;	/* the routing end's address */
	struct prefix		 uplink_addr6;	/* ... its IPv6 address */
	int			 uplink_index;	/* N of 169.254.N.0/30, 0: none yet */
	char			 uplink_host_addr[16]; /* the host end's, IPv4 */
	char			 uplink_host_addr6[PREFIX_STRLEN]; /* ... IPv6 */
	char			*proxy_tag;	/* waf.egress_tag; NULL: none */
	int			 proxy_port;	/* squid's forward-proxy port */
	int			 gateway_dns_port; /* dns.gateway_port */
	char			 uplink_host[NET_IFNAMSIZ];	/* host end */
	char			 uplink[NET_IFNAMSIZ];		/* routing end */
	struct net_network_list	 networks;
	struct net_network_list	 remote;	/* other hosts' (cluster) */
	char			*host_id;	/* this host in a cluster: its
						   underlay address; NULL: none */
	struct net_endpoint_list endpoints;
	char			 broken[256];	/* why networking is off, or "" */
	struct watch		*rwatch;	/* rtnetlink of the routing namespace */
	struct watch		*hwatch;	/* ... of the host (the uplink's end) */
	struct event		*repair;	/* rebuild after the kernel lost a part */
	struct event		*sweep;		/* stale endpoints, now and then */
	struct event_base	*base;
	int			 vrf_want;	/* network.vrf_backend */
	struct vrf_env		 venv;		/* the VRFs' shared part */
	struct net_vrf_list	 vrfs;		/* one per tag with networks */
	struct net_swarm_list	 swarm;		/* allocated swarm networks */
} net = { .rns = -1, .dns = -1, .swarm = TAILQ_HEAD_INITIALIZER(net.swarm) };

static int	net_unavailable(struct http_request *);
static void	(*net_change_hook)(void);	/* dns3: gateway listeners */
static int	net_kernel_start(void);

/* Find a network / an endpoint by Docker's ID. */
static struct net_network *
net_find_in(struct net_network_list *list, const char *id)
{
	struct net_network	*n;

	TAILQ_FOREACH(n, list, entry)
		if (strcmp(n->id, id) == 0)
			return (n);
	return (NULL);
}

static struct net_network *
net_find_network(const char *id)
{
	return (net_find_in(&net.networks, id));
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

/* The VRF of a tag, or NULL. */
static struct vrf *
net_vrf_find(const char *tag)
{
	struct vrf	*v;

	TAILQ_FOREACH(v, &net.vrfs, entry)
		if (strcmp(v->tag, tag) == 0)
			return (v);
	return (NULL);
}

static void	net_watch_cb(enum watch_what, const char *, const char *,
		    void *);

/* The VRF of a tag, opened (made when missing) with its watcher. */
static struct vrf *
net_vrf_get(const char *tag, char *err, size_t errlen)
{
	struct vrf	*v;
	char		 werr[256];

	if ((v = net_vrf_find(tag)) != NULL)
		return (v);
	if ((v = vrf_open(&net.venv, tag, err, errlen)) == NULL)
		return (NULL);
	if (v->ns[0] != '\0' && (v->watch = watch_open(net.base, v->nsfd,
	    net_watch_cb, v->sk, werr, sizeof werr)) == NULL)
		log_warnx("network: no rtnetlink watcher in %s: %s", v->ns,
		    werr);
	TAILQ_INSERT_TAIL(&net.vrfs, v, entry);
	log_info("network: vrf of tag %s: %s", tag, v->ns[0] != '\0' ? v->ns :
	    v->link);
	return (v);
}

/* The last network of a tag went: so does its VRF. */
static void
net_vrf_release(const char *tag)
{
	struct net_network	*n;
	struct vrf		*v;

	TAILQ_FOREACH(n, &net.networks, entry)
		if (strcmp(n->tag, tag) == 0)
			return;
	if ((v = net_vrf_find(tag)) == NULL)
		return;
	TAILQ_REMOVE(&net.vrfs, v, entry);
	vrf_destroy(&net.venv, v);
}

/* rtnetlink where a network's bridge lives (its VRF's), or NULL. */
static struct nl_sock *
net_network_sk(const struct net_network *n)
{
	struct vrf	*v;

	return ((v = net_vrf_find(n->tag)) != NULL ? v->sk : NULL);
}

/* The same for an endpoint's bridge end. */
static struct vrf *
net_endpoint_vrf(const struct net_endpoint *e)
{
	struct net_network	*n;

	TAILQ_FOREACH(n, &net.networks, entry)
		if (strcmp(n->id, e->network) == 0)
			return (net_vrf_find(n->tag));
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
	free(n->host);
	free(n->name);
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

/* A reply sent once the store has the change. */
static struct plugin_pending *
net_pending_new(struct http_request *req, const char *reply)
{
	return (plugin_pending_new(req, "NetworkDriver", xstrdup(reply), 0));
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
	if (n->host != NULL)
		json_gen_string(g, "host", n->host);
	if (n->name != NULL)
		json_gen_string(g, "name", n->name);
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
	if (net.host_id != NULL)
		json_gen_string(g, "host", net.host_id);
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

/*
 * Each VRF namespace's own ruleset: between its networks the same tag policy;
 * what crosses its link was decided in the routing namespace.
 */
static void
net_policy_apply_vrfs(const struct nft_model *all)
{
	struct nft_model	 m;
	struct vrf		*v;
	char			*text, err[256];
	size_t			 i;

	TAILQ_FOREACH(v, &net.vrfs, entry) {
		memset(&m, 0, sizeof m);
		m.table = all->table;
		m.transit = v->peer;
		/* WAF egress: the DNAT to squid happens at the gateways. */
		m.proxy_tag = all->proxy_tag;
		m.proxy_addr = all->proxy_addr;
		m.proxy_addr6 = all->proxy_addr6;
		m.proxy_port = all->proxy_port;
		m.dns_port = all->dns_port;
		m.networks = xcalloc(all->nnetworks + 1, sizeof *m.networks);
		for (i = 0; i < all->nnetworks; i++)
			if (strcmp(all->networks[i]->tag, v->tag) == 0)
				m.networks[m.nnetworks++] = all->networks[i];
		text = nft_ruleset(&m);
		if (nft_apply(v->nsfd, text, err, sizeof err) == -1)
			log_warnx("network: nft in %s: %s", v->ns, err);
		free(text);
		free(m.networks);
	}
}

int
plugin_network_socket(const char *network_id, int domain, int type,
    int protocol)
{
	struct net_network	*n;
	struct vrf		*v;

	if ((n = net_find_network(network_id)) == NULL ||
	    (v = net_vrf_find(n->tag)) == NULL) {
		errno = ENOENT;
		return (-1);
	}
	return (netns_socket(v->ns[0] != '\0' ? v->ns : net.netns, domain,
	    type, protocol));
}

/* How many networks a list holds. */
static size_t
net_count(const struct net_network_list *list)
{
	const struct net_network	*n;
	size_t				 count = 0;

	TAILQ_FOREACH(n, list, entry)
		count++;
	return (count);
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
	m.dns_port = net.gateway_dns_port;
	if (net.uplink[0] != '\0') {
		m.uplink = net.uplink;
		m.uplink_tag = net.uplink_tag;
		m.host_tag = net.host_tag;
		m.proxy_tag = net.proxy_tag;
		m.proxy_addr = net.uplink_host_addr;
		m.proxy_addr6 = net.uplink_host_addr6;
		m.proxy_port = net.proxy_port;
	}
	TAILQ_FOREACH(n, &net.networks, entry)
		m.nnetworks++;
	m.networks = xcalloc(m.nnetworks + 1, sizeof *m.networks);
	TAILQ_FOREACH(n, &net.networks, entry)
		m.networks[i++] = n;
	/* A dead host's networks are out until it refreshes its record. */
	m.remote = xcalloc(net_count(&net.remote) + 1, sizeof *m.remote);
	TAILQ_FOREACH(n, &net.remote, entry)
		if (cluster_host_alive(n->host))
			m.remote[m.nremote++] = n;
	m.by_link = net.venv.backend != NULL &&
	    net.venv.backend->own_namespace;
	m.by_pool = net.venv.backend != NULL &&
	    !net.venv.backend->own_namespace;
	text = nft_ruleset(&m);
	if (nft_apply(net.rns, text, err, sizeof err) == -1)
		log_warnx("network: nft: %s", err);
	free(text);
	if (m.by_link)
		net_policy_apply_vrfs(&m);
	free(m.networks);
	free(m.remote);
	if (net_change_hook != NULL)
		net_change_hook();
}

/* Whether an IPv6 prefix is unique local (fc00::/7): those leave with NAT66. */
static int
net_is_ula(const struct prefix *p)
{
	return ((p->addr[0] & 0xfe) == 0xfc);
}

/*
 * Routes on the host to a network's pools through the uplink: to its IPv4 and
 * IPv6 pools when its ingress admits the host tag (HAProxy to its backends),
 * and to a routed (non-ULA) IPv6 pool that egresses, for the replies.
 */
static void
net_host_route(const struct net_network *n, int add)
{
	const struct prefix	*pool[2], *via[2];
	char			 err[256];
	int			 idx = 0, i, host, out6;

	if (net.uplink[0] == '\0')
		return;
	host = util_strv_has(n->ingress, net.host_tag);
	out6 = util_strv_has(n->egress, net.uplink_tag) && n->has6 &&
	    !net_is_ula(&n->pool6);
	pool[0] = n->has4 && host ? &n->pool4 : NULL;
	pool[1] = n->has6 && (host || out6) ? &n->pool6 : NULL;
	via[0] = &net.uplink_addr;
	via[1] = &net.uplink_addr6;
	for (i = 0; i < 2; i++) {
		if (pool[i] == NULL)
			continue;
		if (!add) {
			link_route_del(net.hsk, pool[i]);
			continue;
		}
		if ((idx == 0 && (idx = link_index(net.hsk,
		    net.uplink_host)) == 0) || link_route_add(net.hsk, pool[i],
		    via[i], idx, err, sizeof err) == -1)
			log_warnx("network: host route to %.12s: %s", n->id,
			    idx == 0 ? "no uplink" : err);
	}
}

/* Make the bridge of a network and its gateway addresses (idempotent). */
static int
net_network_build(struct net_network *n, char *err, size_t errlen)
{
	struct vrf	*v;
	struct prefix	 gw;
	char		 alias[128], key[128];
	int		 idx;

	if ((v = net_vrf_get(n->tag, err, errlen)) == NULL)
		return (-1);
	if (net.venv.backend->own_namespace)
		snprintf(n->vrf_link, sizeof n->vrf_link, "%s", v->link);
	net_alias(alias, sizeof alias, "net", n->id);
	if ((idx = link_bridge_ensure(v->sk, n->bridge, alias, err,
	    errlen)) == -1)
		return (-1);
	/* Before the addresses: enslaving to a vrf device cycles the link,
	   which drops IPv6 addresses. */
	if (vrf_attach(&net.venv, v, n->bridge, err, errlen) == -1)
		return (-1);
	if (n->has4 && n->name != NULL) {
		/*
		 * A network spanning hosts: its prefix is not on-link here, only
		 * the addresses of this host's endpoints are (routes of their
		 * own, announced over BGP).  The gateway without its prefix
		 * route, and the bridge answering ARP for addresses routed
		 * elsewhere (the other hosts' containers), at once.
		 */
		gw = n->gw4;
		gw.len = 32;
		if (link_addr_add(v->sk, idx, &gw, err, errlen) == -1)
			return (-1);
		snprintf(key, sizeof key, "net/ipv4/conf/%s/proxy_arp",
		    n->bridge);
		link_sysctl(v->nsfd, key, "1");
		snprintf(key, sizeof key, "net/ipv4/neigh/%s/proxy_delay",
		    n->bridge);
		link_sysctl(v->nsfd, key, "0");
	} else if (n->has4 && link_addr_add(v->sk, idx, &n->gw4, err,
	    errlen) == -1)
		return (-1);
	if (n->has6 && link_addr_add(v->sk, idx, &n->gw6, err, errlen) == -1)
		return (-1);
	if (n->has4 && vrf_route(&net.venv, v, &n->pool4, idx, 1, err,
	    errlen) == -1)
		return (-1);
	if (n->has6 && vrf_route(&net.venv, v, &n->pool6, idx, 1, err,
	    errlen) == -1)
		return (-1);
	net_host_route(n, 1);
	return (0);
}

/*
 * The route to an endpoint's own IPv4 address on its bridge, for a network
 * spanning hosts (add 0: remove it).  In the routing namespace's main table it
 * is a kernel route inside cluster.announce, so bgpd announces it and the other
 * hosts route that one address here; with the netns backend the VRF's
 * namespace needs it too, having no prefix route to the bridge.
 */
static void
net_endpoint_route(const struct net_endpoint *e, int add)
{
	struct net_network	*n;
	struct vrf		*v;
	struct prefix		 host;
	char			 err[256];
	int			 idx;

	if (!e->has4 || (n = net_find_network(e->network)) == NULL ||
	    n->name == NULL || (v = net_vrf_find(n->tag)) == NULL ||
	    (idx = link_index(v->sk, n->bridge)) == 0)
		return;
	host = e->addr4;
	host.len = 32;
	if (!add) {
		vrf_route(&net.venv, v, &host, idx, 0, NULL, 0);
		if (net.venv.backend->own_namespace)
			link_route_del(v->sk, &host);
		return;
	}
	if (vrf_route(&net.venv, v, &host, idx, 1, err, sizeof err) == -1 ||
	    (net.venv.backend->own_namespace && link_route_add_dev(v->sk,
	    &host, idx, 0, err, sizeof err) == -1))
		log_warnx("network: route to endpoint %.12s: %s", e->id, err);
}

/* Take a network's parts out of the kernel (its VRF too when it was the last). */
static void
net_network_unbuild(struct net_network *n)
{
	struct vrf	*v;

	net_host_route(n, 0);
	if ((v = net_vrf_find(n->tag)) != NULL) {
		if (n->has4)
			vrf_route(&net.venv, v, &n->pool4, 0, 0, NULL, 0);
		if (n->has6)
			vrf_route(&net.venv, v, &n->pool6, 0, 0, NULL, 0);
		link_delete(v->sk, n->bridge);
	}
	net_vrf_release(n->tag);
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
net_undo_network(struct plugin_pending *p)
{
	struct net_network	*n = p->arg;

	TAILQ_REMOVE(&net.networks, n, entry);
	net_network_unbuild(n);
	net_network_free(n);
	net_policy_apply();
}

/* What a network's body says: its pools and gateways, their scope and tag. */
struct net_spec {
	struct prefix		 pool4, pool6, gw4, gw6;
	int			 has4, has6;
	struct schema_scope	*scope;
	const char		*tag;	/* -o netcrave.tag or the scope's */
};

/*
 * Read the IPAM data and options of a CreateNetwork or AllocateNetwork body into
 * *spec; answer 400 and return -1 when they are not netcrave's.  The tag option is
 * under com.docker.network.generic for CreateNetwork, and directly in Options for
 * AllocateNetwork (swarm's manager passes the -o options as they are).
 */
static int
net_spec_read(struct http_request *req, const struct json *doc,
    struct net_spec *spec)
{
	const struct schema	*schema = plugin_ipam_schema();
	const struct json	*opts, *generic;
	const struct prefix	*pool;
	const char		*opt_tag;
	char			 buf[PREFIX_STRLEN];

	memset(spec, 0, sizeof *spec);
	if ((spec->has4 = net_ipam_data(req, doc, "IPv4Data", AF_INET,
	    &spec->pool4, &spec->gw4)) == -1 || (spec->has6 = net_ipam_data(req,
	    doc, "IPv6Data", AF_INET6, &spec->pool6, &spec->gw6)) == -1)
		return (-1);
	if (!spec->has4 && !spec->has6) {
		plugin_bad_request(req, "neither IPv4Data nor IPv6Data");
		return (-1);
	}
	pool = spec->has4 ? &spec->pool4 : &spec->pool6;
	spec->scope = schema != NULL ? schema_find_containing(schema, pool) :
	    NULL;
	if (spec->scope == NULL) {
		plugin_fail(req, 400, "pool %s is not from netcrave's address "
		    "schema: create the network with --ipam-driver %s",
		    prefix_format(pool, 1, buf, sizeof buf), net.instance);
		return (-1);
	}
	opts = json_get(doc, "Options");
	if ((generic = json_get(opts, NET_GENERIC)) != NULL)
		opt_tag = json_get_string(generic, NET_TAG_OPTION);
	else
		opt_tag = json_get_string(opts, NET_TAG_OPTION);
	if (opt_tag != NULL && !util_strv_has(schema_scope_tags(spec->scope),
	    opt_tag)) {
		plugin_fail(req, 400, "-o %s=%s disagrees with the pool %s, "
		    "which is from scope %s", NET_TAG_OPTION, opt_tag,
		    prefix_format(pool, 1, buf, sizeof buf),
		    schema_scope_path(spec->scope));
		return (-1);
	}
	if (opt_tag != NULL)
		spec->tag = opt_tag;
	else if (schema_scope_tags(spec->scope) != NULL &&
	    schema_scope_tags(spec->scope)[0] != NULL)
		spec->tag = schema_scope_tags(spec->scope)[0];
	else
		spec->tag = schema_scope_path(spec->scope);
	return (0);
}

/* NetworkDriver.CreateNetwork: a bridge with the gateways, tagged from the pool. */
void
plugin_network_create(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct net_network	*n;
	struct net_spec		 spec;
	struct plugin_pending	*p;
	const struct json	*generic;
	const char		*id, *opt_name;
	char			*record, err[256], buf[PREFIX_STRLEN], name[256];

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
	if (net_spec_read(req, doc, &spec) == -1)
		goto out;
	/*
	 * A pool the IPAM driver handed out under a name spanning the cluster
	 * makes this network that name's member here; -o netcrave.network,
	 * when given, must name the same.
	 */
	generic = json_get(json_get(doc, "Options"), NET_GENERIC);
	opt_name = generic != NULL ? json_get_string(generic, NET_NAME_OPTION) :
	    NULL;
	if (!spec.has4 || plugin_ipam_shared_name(&spec.pool4, name,
	    sizeof name) == -1)
		name[0] = '\0';
	if (opt_name != NULL && *opt_name != '\0' && strcmp(opt_name, name) !=
	    0) {
		plugin_fail(req, 400, "-o %s=%s: the IPv4 pool %s %s%s; create "
		    "the network with --ipam-opt %s=%s too", NET_NAME_OPTION,
		    opt_name, prefix_format(spec.has4 ? &spec.pool4 : &spec.pool6,
		    1, buf, sizeof buf), name[0] != '\0' ? "belongs to network " :
		    "is not a named pool", name, NET_NAME_OPTION, opt_name);
		goto out;
	}
	/* Checked last, so the body's checks above are reached (and fuzzed). */
	if (net_unavailable(req))
		goto out;

	n = xcalloc(1, sizeof *n);
	n->host = net.host_id != NULL ? xstrdup(net.host_id) : NULL;
	n->id = xstrdup(id);
	if (name[0] != '\0')
		n->name = xstrdup(name);
	n->tag = xstrdup(spec.tag);
	n->egress = util_strv_copy(schema_scope_egress(spec.scope));
	n->ingress = util_strv_copy(schema_scope_ingress(spec.scope));
	n->has4 = spec.has4;
	n->has6 = spec.has6;
	if (spec.has4) {
		n->gw4 = spec.gw4;
		n->pool4 = spec.pool4;
	}
	if (spec.has6) {
		n->gw6 = spec.gw6;
		n->pool6 = spec.pool6;
	}
	net_link_name(n->bridge, sizeof n->bridge, 'b', id);
	TAILQ_INSERT_TAIL(&net.networks, n, entry);
	if (net_network_build(n, err, sizeof err) == -1) {
		TAILQ_REMOVE(&net.networks, n, entry);
		net_network_unbuild(n);
		net_network_free(n);
		plugin_fail(req, 500, "cannot build network %.12s: %s", id, err);
		goto out;
	}
	net_policy_apply();
	log_info("network: %.12s tag %s bridge %s%s%s", id, n->tag, n->bridge,
	    n->name != NULL ? " member of cluster network " : "",
	    n->name != NULL ? n->name : "");

	p = net_pending_new(req, "{}");
	p->undo = net_undo_network;
	p->arg = n;
	record = net_network_record(n);
	store_put(net.store, NET_KIND_NETWORK, n->id, record, strlen(record),
	    plugin_pending_done, p);
	free(record);
out:
	json_free(doc);
}

/* A swarm network's record: its pools. */
static char *
net_swarm_record(const struct net_swarm *w)
{
	yajl_gen	g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	net_gen_prefix(g, "pool4", w->has4, &w->pool4);
	net_gen_prefix(g, "pool6", w->has6, &w->pool6);
	yajl_gen_map_close(g);
	return (net_gen_text(g));
}

static struct net_swarm *
net_swarm_find(const char *id)
{
	struct net_swarm	*w;

	TAILQ_FOREACH(w, &net.swarm, entry)
		if (strcmp(w->id, id) == 0)
			return (w);
	return (NULL);
}

static void
net_swarm_free(struct net_swarm *w)
{
	free(w->id);
	free(w);
}

/* Another swarm network whose pools overlap spec's, or NULL. */
static struct net_swarm *
net_swarm_overlap(const char *id, const struct net_spec *spec)
{
	struct net_swarm	*w;

	TAILQ_FOREACH(w, &net.swarm, entry) {
		if (strcmp(w->id, id) == 0)
			continue;
		if ((spec->has4 && w->has4 && prefix_overlaps(&spec->pool4,
		    &w->pool4)) || (spec->has6 && w->has6 &&
		    prefix_overlaps(&spec->pool6, &w->pool6)))
			return (w);
	}
	return (NULL);
}

static void
net_undo_swarm(struct plugin_pending *p)
{
	struct net_swarm	*w = p->arg;

	TAILQ_REMOVE(&net.swarm, w, entry);
	net_swarm_free(w);
}

/*
 * NetworkDriver.AllocateNetwork: a swarm manager allocates a swarm network
 * (global scope only).  Nothing is built here: every node's CreateNetwork does
 * that.  The pool must be netcrave's, so a wrong --ipam-driver fails the
 * allocation with netcrave's words; and no other swarm network's, because the
 * IPAM driver cannot tell a node's request for the manager's pool (which it
 * grants as a twin) from a second network's --subnet naming it.  The tag
 * chosen here is handed back as an option, which swarm passes to every node's
 * CreateNetwork, so all nodes agree on it.
 */
void
plugin_network_allocate(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct net_spec		 spec;
	struct net_swarm	*w;
	struct plugin_pending	*p;
	yajl_gen		 g;
	const char		*id;
	char			*reply, *record, buf[PREFIX_STRLEN];

	if (plugin_body(req, &doc) == -1)
		return;
	if (doc == NULL || (id = json_get_string(doc, "NetworkID")) == NULL ||
	    *id == '\0') {
		plugin_bad_request(req, "NetworkID is missing");
		goto out;
	}
	if (net_spec_read(req, doc, &spec) == -1)
		goto out;
	if ((w = net_swarm_overlap(id, &spec)) != NULL) {
		plugin_fail(req, 409, "pool %s overlaps swarm network %.12s's: "
		    "choose another --subnet", prefix_format(spec.has4 ?
		    &spec.pool4 : &spec.pool6, 1, buf, sizeof buf), w->id);
		goto out;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "Options");
	yajl_gen_map_open(g);
	json_gen_string(g, NET_TAG_OPTION, spec.tag);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	reply = net_gen_text(g);
	log_info("network: allocated swarm network %.12s, tag %s", id, spec.tag);
	if ((w = net_swarm_find(id)) != NULL) {
		/* Allocated again (a manager's restart): same network. */
		plugin_reply_json(req, reply);
		free(reply);
		goto out;
	}
	w = xcalloc(1, sizeof *w);
	w->id = xstrdup(id);
	w->has4 = spec.has4;
	w->pool4 = spec.pool4;
	w->has6 = spec.has6;
	w->pool6 = spec.pool6;
	TAILQ_INSERT_TAIL(&net.swarm, w, entry);
	p = net_pending_new(req, reply);
	p->undo = net_undo_swarm;
	p->arg = w;
	record = net_swarm_record(w);
	store_put(net.store, NET_KIND_SWARM, w->id, record, strlen(record),
	    plugin_pending_done, p);
	free(record);
	free(reply);
out:
	json_free(doc);
}

/* NetworkDriver.FreeNetwork: forget the swarm network's pools; idempotent. */
void
plugin_network_free(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct net_swarm	*w;
	const char		*id;

	if (plugin_body(req, &doc) == -1)
		return;
	if (doc == NULL || (id = json_get_string(doc, "NetworkID")) == NULL ||
	    *id == '\0') {
		plugin_bad_request(req, "NetworkID is missing");
		goto out;
	}
	log_info("network: freed swarm network %.12s", id);
	if ((w = net_swarm_find(id)) == NULL) {
		plugin_reply_json(req, "{}");
		goto out;
	}
	TAILQ_REMOVE(&net.swarm, w, entry);
	store_del(net.store, NET_KIND_SWARM, w->id, plugin_pending_done,
	    net_pending_new(req, "{}"));
	net_swarm_free(w);
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
	net_network_unbuild(n);
	net_policy_apply();
	log_info("network: %.12s deleted", n->id);
	store_del(net.store, NET_KIND_NETWORK, n->id, plugin_pending_done,
	    net_pending_new(req, "{}"));
	net_network_free(n);
out:
	json_free(doc);
}

static void
net_undo_endpoint(struct plugin_pending *p)
{
	struct net_endpoint	*e = p->arg;

	net_endpoint_route(e, 0);
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
	struct plugin_pending	*p;
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
	e->born = util_monotonic_sec();
	TAILQ_INSERT_TAIL(&net.endpoints, e, entry);
	net_endpoint_route(e, 1);

	p = net_pending_new(req, reply);
	p->undo = net_undo_endpoint;
	p->arg = e;
	record = net_endpoint_record(e);
	store_put(net.store, NET_KIND_ENDPOINT, e->id, record, strlen(record),
	    plugin_pending_done, p);
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
	struct vrf		*v;
	const char		*id;

	if ((id = net_body_id(req, &doc, "EndpointID")) == NULL)
		goto out;
	if ((e = net_find_endpoint(id)) == NULL) {
		plugin_reply_json(req, "{}");
		goto out;
	}
	v = net_endpoint_vrf(e);
	net_endpoint_route(e, 0);
	TAILQ_REMOVE(&net.endpoints, e, entry);
	link_delete(v != NULL ? v->sk : NULL, e->peer);
	link_delete(net.dsk, e->ifname);
	store_del(net.store, NET_KIND_ENDPOINT, e->id, plugin_pending_done,
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
	struct vrf		*v;
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
	if ((v = net_vrf_find(n->tag)) == NULL ||
	    (master = link_index(v->sk, n->bridge)) == 0) {
		plugin_fail(req, 500, "network %.12s has lost its bridge %s",
		    n->id, n->bridge);
		goto out;
	}
	/* A Join retried after a failure finds the old pair: start afresh. */
	link_delete(v->sk, e->peer);
	link_delete(net.dsk, e->ifname);
	net_alias(alias, sizeof alias, "ep", e->id);
	if (link_veth_create(net.dsk, e->ifname, e->mac, v->sk, v->nsfd,
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
	struct vrf		*v;
	const char		*id;

	if ((id = net_body_id(req, &doc, "EndpointID")) == NULL)
		goto out;
	if ((e = net_find_endpoint(id)) != NULL) {
		e->joined = 0;
		v = net_endpoint_vrf(e);
		link_delete(v != NULL ? v->sk : NULL, e->peer);
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

/* A network record into a network (NULL if it does not parse). */
static struct net_network *
net_network_parse(const char *key, const char *value, size_t len)
{
	struct json		*doc;
	struct json_error	 jerr;
	struct net_network	*n;
	const struct json	*a;
	const char		*s;
	size_t			 i, k;

	if ((doc = json_parse(value, len, 0, &jerr)) == NULL) {
		log_warnx("network: record %s: %s", key, jerr.message);
		return (NULL);
	}
	n = xcalloc(1, sizeof *n);
	n->id = xstrdup(key);
	if ((s = json_get_string(doc, "host")) != NULL && *s != '\0')
		n->host = xstrdup(s);
	n->tag = xstrdup((s = json_get_string(doc, "tag")) != NULL ? s : "");
	if ((s = json_get_string(doc, "name")) != NULL && *s != '\0')
		n->name = xstrdup(s);
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
	return (n);
}

/*
 * A host of the cluster died (no refresh of its record for
 * cluster.dead_after) or came back: the policy again, without or with its
 * networks, which stay in the list (and the store) meanwhile.
 */
static void
net_host_changed(const char *host, int alive)
{
	const struct net_network	*n;
	size_t				 count = 0;

	TAILQ_FOREACH(n, &net.remote, entry)
		if (n->host != NULL && strcmp(n->host, host) == 0)
			count++;
	if (count == 0)
		return;
	log_info("network: host %s %s: its %zu networks %s the tag policy",
	    host, alive ? "back" : "dead", count, alive ? "back in" :
	    "out of");
	if (net.rsk != NULL)
		net_policy_apply();
}

/* Made by another host of the cluster: only its pools and tags matter here. */
static int
net_network_is_remote(const struct net_network *n)
{
	return (n->host != NULL && net.host_id != NULL &&
	    strcmp(n->host, net.host_id) != 0);
}

static void
net_load_network(const struct server_record *r)
{
	struct net_network	*n;

	if ((n = net_network_parse(r->key, r->value, r->len)) == NULL)
		return;
	if (net_network_is_remote(n))
		TAILQ_INSERT_TAIL(&net.remote, n, entry);
	else
		TAILQ_INSERT_TAIL(&net.networks, n, entry);
}

/*
 * Another host of the cluster made, changed or removed a network: the tag
 * policy admits its pools as it admits local networks of its tag.  Nothing
 * is built for it here: its routes come from BGP.
 */
static void
net_on_change(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	struct net_network	*n, *old;

	if (strcmp(kind, NET_KIND_NETWORK) != 0)
		return;
	if ((old = net_find_in(&net.remote, key)) != NULL) {
		TAILQ_REMOVE(&net.remote, old, entry);
		net_network_free(old);
	}
	if (value != NULL) {
		if ((n = net_network_parse(key, value, len)) == NULL)
			return;
		if (!net_network_is_remote(n)) {
			net_network_free(n);
			return;
		}
		TAILQ_INSERT_TAIL(&net.remote, n, entry);
		log_info("network: %.12s tag %s on host %s", n->id, n->tag,
		    n->host);
	} else if (old == NULL)
		return;
	if (net.rsk != NULL)
		net_policy_apply();
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
	/* Another host's endpoint (cluster): its links are not here. */
	if ((s = json_get_string(doc, "host")) != NULL && net.host_id != NULL &&
	    strcmp(s, net.host_id) != 0) {
		json_free(doc);
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
	e->born = util_monotonic_sec();
	TAILQ_INSERT_TAIL(&net.endpoints, e, entry);
}

static void
net_load_uplink(const struct server_record *r)
{
	struct json		*doc;
	struct json_error	 jerr;
	int64_t			 n;

	if ((doc = json_parse(r->value, r->len, 0, &jerr)) == NULL) {
		log_warnx("network: record %s: %s", r->key, jerr.message);
		return;
	}
	if (json_number_int64(json_get(doc, "index"), 1, 254, &n) == 0)
		net.uplink_index = (int)n;
	json_free(doc);
}

/* A swarm network's record (AllocateNetwork) into the list. */
static void
net_load_swarm(const struct server_record *r)
{
	struct json		*doc;
	struct json_error	 jerr;
	struct net_swarm	*w;
	const char		*s4, *s6;

	if ((doc = json_parse(r->value, r->len, 0, &jerr)) == NULL) {
		log_warnx("network: record %s: %s", r->key, jerr.message);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->id = xstrdup(r->key);
	s4 = json_get_string(doc, "pool4");
	s6 = json_get_string(doc, "pool6");
	w->has4 = s4 != NULL && prefix_parse(s4, 1, &w->pool4, NULL, 0) == 0;
	w->has6 = s6 != NULL && prefix_parse(s6, 1, &w->pool6, NULL, 0) == 0;
	TAILQ_INSERT_TAIL(&net.swarm, w, entry);
	json_free(doc);
}

/* Whether links seen on sk live in dockerd's namespace (the container ends). */
static int
net_sk_docker(struct nl_sock *sk)
{
	return (sk == net.dsk || (net.docker_in_routing && sk == net.rsk));
}

/* A link of ours in the kernel: remove it if no record owns it. */
static void
net_orphan_cb(const char *name, const char *alias, void *arg)
{
	struct nl_sock		*sk = arg;
	struct net_network	*n;
	struct net_endpoint	*e;
	struct vrf		*v;
	const char		*kind, *id;
	size_t			 plen;
	char			 want[128];

	snprintf(want, sizeof want, "netcrave:%s:", net.instance);
	plen = strlen(want);
	if (strncmp(alias, want, plen) != 0)
		return;
	kind = alias + plen;
	/* Known, and in the namespace where it belongs (a bridge of a network
	   whose VRF moved is an orphan where it was). */
	if (strncmp(kind, "net:", 4) == 0) {
		id = kind + 4;
		if ((n = net_find_network(id)) != NULL && net_network_sk(n) == sk)
			return;
	} else if (strncmp(kind, "uplink:", 7) == 0) {
		return;
	} else if (strncmp(kind, "vrf:", 4) == 0) {
		if ((v = net_vrf_find(kind + 4)) != NULL &&
		    (sk == net.rsk || sk == v->sk))
			return;
	} else if (strncmp(kind, "ep:", 3) == 0) {
		id = kind + 3;
		if ((e = net_find_endpoint(id)) != NULL && (net_sk_docker(sk) ||
		    ((v = net_endpoint_vrf(e)) != NULL && v->sk == sk)))
			return;
	}
	log_info("network: removing orphan link %s (%s)", name, alias);
	link_delete(sk, name);
}

static void
net_uplink_stored(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("network: storing the uplink's prefix: %s", error);
}

/*
 * The uplink's prefixes from its index N: 169.254.N.0/30 and fd6e:6372:N::/64
 * ("ncr"), .1 and ::1 the host's end, .2 and ::2 the routing namespace's.
 */
static void
net_uplink_prefixes(int n, struct prefix *v4, struct prefix *v6)
{
	memset(v4, 0, sizeof *v4);
	v4->family = AF_INET;
	v4->len = 30;
	v4->addr[0] = 169;
	v4->addr[1] = 254;
	v4->addr[2] = n;
	memset(v6, 0, sizeof *v6);
	v6->family = AF_INET6;
	v6->len = 64;
	memcpy(v6->addr, "\xfd\x6e\x63\x72", 4);
	v6->addr[5] = n;
}

/*
 * The uplink's index, chosen once and kept in the store: the first N (from a
 * hash of the instance name on) whose prefixes the host neither has nor routes,
 * so two instances on one host never share one.  Host prefixes shorter than
 * /24 (a link-local /16 of zeroconf) are no conflict: ours is more specific.
 * 169.254.0.0/24 is left out (the VRF links' addresses).
 */
static int
net_uplink_choose(char *err, size_t errlen)
{
	struct hostnet	 host;
	struct prefix	 v4, v6;
	const char	*c;
	char		 record[64];
	unsigned int	 h = 5381;
	size_t		 i;
	int		 k, n, taken;

	if (net.uplink_index != 0)
		return (net.uplink_index);
	/* An uplink of an earlier run that did not store its choice goes. */
	link_delete(net.hsk, net.uplink_host);
	memset(&host, 0, sizeof host);
	if (hostnet_load(&host, NULL, err, errlen) == -1)
		return (-1);
	for (c = net.instance; *c != '\0'; c++)
		h = h * 33 + (unsigned char)*c;
	for (k = 0, n = 0; k < 254 && n == 0; k++) {
		n = 1 + (h + k) % 254;
		net_uplink_prefixes(n, &v4, &v6);
		for (i = 0, taken = 0; i < host.nentries && !taken; i++) {
			const struct prefix *p = &host.entries[i].prefix;

			if (p->len >= (p->family == AF_INET ? 24 : 48) &&
			    (prefix_overlaps(p, &v4) || prefix_overlaps(p, &v6)))
				taken = 1;
		}
		if (taken)
			n = 0;
	}
	hostnet_free(&host);
	if (n == 0) {
		snprintf(err, errlen, "every 169.254.N.0/30 is in use on the host");
		return (-1);
	}
	net.uplink_index = n;
	snprintf(record, sizeof record, "{\"index\":%d}", n);
	store_put(net.store, NET_KIND_UPLINK, "0", record, strlen(record),
	    net_uplink_stored, NULL);
	log_info("network: uplink on 169.254.%d.0/30 (free on the host)", n);
	return (n);
}

/*
 * The uplink: a veth pair between the routing namespace and the host, on a
 * link-local /30 and a ULA /64 free on the host (net_uplink_choose), with the
 * routing namespace's default routes through it.  Only networks whose egress
 * names the uplink tag may use it (nft), IPv4 masqueraded to its address.
 */
static int
net_uplink_build(char *err, size_t errlen)
{
	struct prefix	 host, route, host6, route6;
	char		 alias[128];
	int		 idx, n;

	snprintf(net.uplink_host, sizeof net.uplink_host, "%suh",
	    net.link_prefix);
	if ((n = net_uplink_choose(err, errlen)) == -1)
		return (-1);
	net_uplink_prefixes(n, &host, &host6);
	route = host;
	host.addr[3] = 1;
	route.addr[3] = 2;
	net.uplink_addr = route;
	net.uplink_addr.len = 32;
	snprintf(net.uplink_host_addr, sizeof net.uplink_host_addr,
	    "169.254.%u.1", host.addr[2]);
	route6 = host6;
	host6.addr[15] = 1;
	route6.addr[15] = 2;
	net.uplink_addr6 = route6;
	net.uplink_addr6.len = 128;
	prefix_format(&host6, 0, net.uplink_host_addr6,
	    sizeof net.uplink_host_addr6);

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

/* VRF namespaces of tags without networks (an earlier run's) are removed. */
static void
net_vrf_sweep(void)
{
	DIR		*d;
	struct dirent	*de;
	char		 prefix[96];
	size_t		 plen;

	vrf_ns_prefix(&net.venv, prefix, sizeof prefix);
	plen = strlen(prefix);
	if ((d = opendir("/run/netns")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0 ||
		    net_vrf_find(de->d_name + plen) != NULL)
			continue;
		log_info("network: removing orphan namespace %s", de->d_name);
		netns_delete(de->d_name);
	}
	closedir(d);
}

/* Make the kernel match the records: missing bridges back, orphans gone. */
static void
net_reconcile(void)
{
	struct net_network	*n;
	struct net_endpoint	*e;
	struct vrf		*v;
	char			 err[256], prefix[128];
	int			 master;

	TAILQ_FOREACH(v, &net.vrfs, entry)
		if (vrf_build(&net.venv, v, err, sizeof err) == -1)
			log_warnx("network: vrf of tag %s: %s", v->tag, err);
	TAILQ_FOREACH(n, &net.networks, entry)
		if (net_network_build(n, err, sizeof err) == -1)
			log_warnx("network: %.12s: %s", n->id, err);
	/* A bridge made again takes back the live endpoints' ends. */
	TAILQ_FOREACH(e, &net.endpoints, entry) {
		if ((n = net_find_network(e->network)) == NULL ||
		    (v = net_vrf_find(n->tag)) == NULL)
			continue;
		net_endpoint_route(e, 1);
		if ((master = link_index(v->sk, n->bridge)) != 0 &&
		    link_set_master(v->sk, e->peer, master) == 0 &&
		    (e->joined = 1))
			log_debug("network: endpoint %.12s on %s", e->id,
			    n->bridge);
	}
	net_vrf_sweep();
	snprintf(prefix, sizeof prefix, "netcrave:%s:", net.instance);
	link_foreach_alias(net.rsk, prefix, net_orphan_cb, net.rsk);
	link_foreach_alias(net.dsk, prefix, net_orphan_cb, net.dsk);
	TAILQ_FOREACH(v, &net.vrfs, entry)
		if (v->sk != net.rsk)
			link_foreach_alias(v->sk, prefix, net_orphan_cb, v->sk);
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

	/* Routing and VRF namespaces hold gateways and the VRFs' links. */
	if (what == WATCH_LOST || (what == WATCH_ADDR_DEL && !net_sk_docker(sk) &&
	    sk != net.hsk)) {
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
	} else if (strncmp(kind, "vrf:", 4) == 0 && net_vrf_find(kind + 4)) {
		log_warnx("network: vrf link %s vanished: making it again",
		    name);
		net_schedule_repair();
	} else if (strncmp(kind, "ep:", 3) == 0 && !net_sk_docker(sk) &&
	    sk != net.hsk &&
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
	/* Supervised, dockerd may share the routing namespace: the container
	 * ends then appear there too, and are dockerd's, not orphans. */
	net.docker_in_routing = netns_same(net.rns, net.dns);
	/* The routing namespace routes between networks (and to the uplink). */
	link_sysctl(net.rns, "net/ipv4/ip_forward", "1");
	link_sysctl(net.rns, "net/ipv6/conf/all/forwarding", "1");
	link_set_up(net.rsk, "lo");
	net.venv.instance = net.instance;
	net.venv.link_prefix = net.link_prefix;
	net.venv.netns = net.netns;
	net.venv.rns = net.rns;
	net.venv.rsk = net.rsk;
	if (vrf_choose(&net.venv, net.vrf_want, err, sizeof err) == -1) {
		log_warnx("network: %s", err);
		snprintf(net.broken, sizeof net.broken, "%s", err);
		link_sock_close(net.rsk);
		link_sock_close(net.dsk);
		link_sock_close(net.hsk);
		net.rsk = net.dsk = net.hsk = NULL;
		close(net.rns);
		close(net.dns);
		net.rns = net.dns = -1;
		return (-1);
	}
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

/* WAF egress (issue 9): squid's forward-proxy port, offered at the gateway of
 * networks whose egress names waf.egress_tag. */
static void
net_proxy_conf(const struct conf *c)
{
	char		*host, *port;
	uint16_t	 p;
	int		 ok;

	if (!c->waf_squid_enabled || c->waf_egress_tag[0] == '\0' ||
	    util_hostport(c->waf_squid_listen, &host, &port) == -1)
		return;
	ok = util_port(port, &p) == 0;
	free(host);
	free(port);
	if (!ok)
		return;
	net.proxy_tag = xstrdup(c->waf_egress_tag);
	net.proxy_port = p;
}

/* Squid must bind there at its start: with an egress tag the routing
 * namespace and the uplink are made then, not at the first CreateNetwork. */
const char *
plugin_network_uplink_host(void)
{
	if (net.instance == NULL || net_kernel_start() == -1)
		return (NULL);
	return (net.uplink[0] != '\0' && net.uplink_host_addr[0] != '\0' ?
	    net.uplink_host_addr : NULL);
}

/* The same, IPv6: the egress port of dual-stack and IPv6 networks. */
const char *
plugin_network_uplink_host6(void)
{
	if (plugin_network_uplink_host() == NULL)
		return (NULL);
	return (net.uplink_host_addr6[0] != '\0' ? net.uplink_host_addr6 :
	    NULL);
}

/*
 * An endpoint dockerd gave up on: a SIGKILL in the middle of CreateEndpoint
 * leaves our record while dockerd, whose retry of the call failed, counts the
 * container as failed and never deletes it.  Such an endpoint was never
 * joined, and after NET_STALE_ENDPOINT_SECS the follower, in step with dockerd,
 * knows no container for it: its links and its record go.  Without the
 * follower nothing is swept (nothing tells a slow start from a lost one).
 */
#define NET_STALE_ENDPOINT_SECS	30
#define NET_SWEEP_SECS		10

static void
net_swept_stored(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("network: forgetting a stale endpoint: %s", error);
}

static void
net_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct timeval		 tv = { NET_SWEEP_SECS, 0 };
	struct net_endpoint	*e, *next;
	struct vrf		*v;
	long long		 now = util_monotonic_sec();

	evtimer_add(net.sweep, &tv);
	if (!dockerd_following())
		return;
	for (e = TAILQ_FIRST(&net.endpoints); e != NULL; e = next) {
		next = TAILQ_NEXT(e, entry);
		if (e->joined || now - e->born < NET_STALE_ENDPOINT_SECS ||
		    dockerd_container_by_endpoint(e->id) != NULL)
			continue;
		log_info("network: endpoint %.12s: never joined and dockerd "
		    "has no container for it after %d s: removed", e->id,
		    NET_STALE_ENDPOINT_SECS);
		v = net_endpoint_vrf(e);
		TAILQ_REMOVE(&net.endpoints, e, entry);
		if (net.rsk != NULL) {
			link_delete(v != NULL ? v->sk : NULL, e->peer);
			link_delete(net.dsk, e->ifname);
		}
		store_del(net.store, NET_KIND_ENDPOINT, e->id, net_swept_stored,
		    NULL);
		net_endpoint_free(e);
	}
}

static int
net_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*c = env->conf;
	char			 path[512];
	size_t			 i;

	/* Before any sysctl: may a read-only /proc/sys be remounted? */
	link_set_managed_plugin(c->plugin_managed);
	TAILQ_INIT(&net.networks);
	TAILQ_INIT(&net.remote);
	TAILQ_INIT(&net.endpoints);
	TAILQ_INIT(&net.swarm);
	if (c->cluster_enabled && c->cluster_host_address != NULL)
		net.host_id = xstrdup(c->cluster_host_address);
	TAILQ_INIT(&net.vrfs);
	net.vrf_want = c->network_vrf_backend;
	net.base = env->base;
	net.store = env->store;
	net.instance = xstrdup(c->instance);
	net.link_prefix = xstrdup(c->link_prefix);
	net.netns = xstrdup(c->netns);
	net.nft_table = xstrdup(c->nft_table);
	net.uplink_tag = xstrdup(c->uplink_tag);
	net.host_tag = xstrdup(c->host_tag);
	net_proxy_conf(c);
	net.gateway_dns_port = c->dns_gateway_port;
	net.docker_netns = c->runtime_netns != NULL ?
	    xstrdup(c->runtime_netns) : NULL;
	net.repair = evtimer_new(env->base, net_repair, NULL);
	net.sweep = evtimer_new(env->base, net_sweep, NULL);
	{
		struct timeval	tv = { NET_SWEEP_SECS, 0 };

		evtimer_add(net.sweep, &tv);
	}
	if (netns_init(err, errlen) == -1)
		return (-1);
	for (i = 0; i < env->nrecords; i++) {
		if (strcmp(env->records[i].kind, NET_KIND_NETWORK) == 0)
			net_load_network(&env->records[i]);
		else if (strcmp(env->records[i].kind, NET_KIND_ENDPOINT) == 0)
			net_load_endpoint(&env->records[i]);
		else if (strcmp(env->records[i].kind, NET_KIND_UPLINK) == 0)
			net_load_uplink(&env->records[i]);
		else if (strcmp(env->records[i].kind, NET_KIND_SWARM) == 0)
			net_load_swarm(&env->records[i]);
	}
	/* Other hosts' networks as they come and go (shared stores only),
	 * and as their hosts die and come back. */
	if (net.host_id != NULL && store_watch(net.store, net_on_change,
	    NULL) == -1)
		log_warnx("network: cannot follow other hosts' networks");
	if (net.host_id != NULL)
		cluster_watch_hosts(net_host_changed);
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
	link_set_managed_plugin(new->plugin_managed);
	/* The gateways' input chain admits the DNS port that is served. */
	if (new->dns_gateway_port != (unsigned int)net.gateway_dns_port) {
		net.gateway_dns_port = new->dns_gateway_port;
		if (net.rsk != NULL)
			net_policy_apply();
	}
	return (0);
}

/* Leave every link in place: containers keep their connectivity. */
static void
net_shutdown(void)
{
	struct net_network	*n;
	struct net_endpoint	*e;
	struct net_swarm	*w;
	struct vrf		*v;

	watch_close(net.rwatch);
	watch_close(net.hwatch);
	if (net.repair != NULL)
		event_free(net.repair);
	if (net.sweep != NULL)
		event_free(net.sweep);
	net.sweep = NULL;
	while ((e = TAILQ_FIRST(&net.endpoints)) != NULL) {
		TAILQ_REMOVE(&net.endpoints, e, entry);
		net_endpoint_free(e);
	}
	while ((n = TAILQ_FIRST(&net.networks)) != NULL) {
		TAILQ_REMOVE(&net.networks, n, entry);
		net_network_free(n);
	}
	while ((n = TAILQ_FIRST(&net.remote)) != NULL) {
		TAILQ_REMOVE(&net.remote, n, entry);
		net_network_free(n);
	}
	while ((w = TAILQ_FIRST(&net.swarm)) != NULL) {
		TAILQ_REMOVE(&net.swarm, w, entry);
		net_swarm_free(w);
	}
	free(net.host_id);
	/* VRFs stay in the kernel, like every link: only fds are closed. */
	while ((v = TAILQ_FIRST(&net.vrfs)) != NULL) {
		TAILQ_REMOVE(&net.vrfs, v, entry);
		vrf_close(v);
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
	free(net.proxy_tag);
	net.proxy_tag = NULL;
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
	struct vrf		*v;
	const char		*ns;

	if (net.rns == -1 || net.netns == NULL)
		return;
	TAILQ_FOREACH(n, &net.networks, entry) {
		/* The gateway lives in its VRF's namespace (netns backend). */
		v = net_vrf_find(n->tag);
		ns = v != NULL && v->ns[0] != '\0' ? v->ns : net.netns;
		if (n->has4)
			fn(ns, &n->gw4, arg);
		if (n->has6)
			fn(ns, &n->gw6, arg);
	}
}

void
plugin_network_on_change(void (*hook)(void))
{
	net_change_hook = hook;
}
