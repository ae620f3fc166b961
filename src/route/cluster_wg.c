/* cluster_wg.c: WireGuard between the hosts of a cluster.  A wg-<instance>
 * link in the routing namespace with a key pair of the keys module; this
 * host's public key and endpoint in its cluster.host record; one peer per
 * other host whose allowed IPs are that host's network prefixes (its
 * net.network records); routes to those prefixes over the link in a table of
 * their own, looked up before main, so BGP's routes over the underlay stay
 * as the fallback and FRR never sees (or redistributes) ours. */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cluster.h"
#include "conf.h"
#include "json.h"
#include "keys.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "prefix.h"
#include "server.h"
#include "util.h"
#include "wg.h"
#include "xmalloc.h"

/*
 * Keys-module name of the private key, "wireguard:<host_address>": the hosts
 * of a cluster share one key directory (the store is sealed with it), and
 * each needs a key pair of its own.
 */
#define CWG_KEY_PREFIX	"wireguard:"
/* Our routes' table: below the l3mdev VRFs' (1000000 up). */
#define CWG_TABLE	999000u
/* After the VRFs' l3mdev rule (1000), before main (32766). */
#define CWG_RULE_PRIO	32000u
/* A peer behind NAT keeps its mapping open; harmless on a LAN. */
#define CWG_KEEPALIVE	25

/* Another host: its record's key and WireGuard fields. */
struct cwg_host {
	TAILQ_ENTRY(cwg_host)	 entry;
	char			*addr;		/* underlay address */
	struct prefix		 endpoint;
	uint16_t		 port;
	int			 has_key;
	uint8_t			 key[WG_KEY_BYTES];
};

/* Another host's network: the prefixes its peer may send from. */
struct cwg_net {
	TAILQ_ENTRY(cwg_net)	 entry;
	char			*id;
	char			*host;
	struct prefix		 pfx[2];
	size_t			 npfx;
};

TAILQ_HEAD(cwg_hosts, cwg_host);
TAILQ_HEAD(cwg_nets, cwg_net);

static struct {
	int			 active;
	char			 name[WG_NAME_MAX];
	char			*self;		/* this host's underlay address */
	int			 nsfd;
	struct nl_sock		*rsk;		/* rtnetlink, routing namespace */
	struct nl_sock		*gsk;		/* generic netlink, same */
	int			 family;	/* wireguard genl id */
	int			 ifindex;
	uint16_t		 port;
	uint8_t			 priv[WG_KEY_BYTES];
	uint8_t			 pub[WG_KEY_BYTES];
	struct cwg_hosts	 hosts;
	struct cwg_nets		 nets;
	struct prefix		*routed;	/* routes in CWG_TABLE now */
	size_t			 nrouted;
} cwg = { .nsfd = -1 };

static struct cwg_host *
cwg_host_find(const char *addr)
{
	struct cwg_host	*h;

	TAILQ_FOREACH(h, &cwg.hosts, entry)
		if (strcmp(h->addr, addr) == 0)
			return (h);
	return (NULL);
}

static struct cwg_net *
cwg_net_find(const char *id)
{
	struct cwg_net	*n;

	TAILQ_FOREACH(n, &cwg.nets, entry)
		if (strcmp(n->id, id) == 0)
			return (n);
	return (NULL);
}

/*
 * The peers of the device from what the records say: every other host with
 * a key, its networks' prefixes as allowed IPs.  REPLACE_PEERS drops the
 * hosts that left.
 */
static int
cwg_sync_peers(char *err, size_t errlen)
{
	struct wg_device	 d;
	struct cwg_host		*h;
	struct cwg_net		*n;
	size_t			 np = 0, i;
	int			 rc;

	memset(&d, 0, sizeof d);
	snprintf(d.name, sizeof d.name, "%s", cwg.name);
	d.has_private_key = 1;
	memcpy(d.private_key, cwg.priv, WG_KEY_BYTES);
	d.listen_port = cwg.port;
	d.replace_peers = 1;
	TAILQ_FOREACH(h, &cwg.hosts, entry)
		np++;
	d.peers = xcalloc(np + 1, sizeof *d.peers);
	TAILQ_FOREACH(h, &cwg.hosts, entry) {
		struct wg_peer	*p = &d.peers[d.npeers];

		if (!h->has_key)
			continue;
		memcpy(p->public_key, h->key, WG_KEY_BYTES);
		p->endpoint = h->endpoint;
		p->endpoint_port = h->port;
		p->keepalive = CWG_KEEPALIVE;
		TAILQ_FOREACH(n, &cwg.nets, entry) {
			if (strcmp(n->host, h->addr) != 0)
				continue;
			p->allowed = xreallocarray(p->allowed,
			    p->nallowed + n->npfx, sizeof *p->allowed);
			for (i = 0; i < n->npfx; i++)
				p->allowed[p->nallowed++] = n->pfx[i];
		}
		d.npeers++;
	}
	rc = wg_set_device(cwg.gsk, cwg.family, &d, err, errlen);
	for (i = 0; i < d.npeers; i++)
		free(d.peers[i].allowed);
	free(d.peers);
	explicit_bzero(&d, sizeof d);
	return (rc);
}

/* Whether p is one of the prefixes a keyed peer carries. */
static int
cwg_carried(const struct prefix *p)
{
	struct cwg_net	*n;
	struct cwg_host	*h;
	size_t		 i;

	TAILQ_FOREACH(n, &cwg.nets, entry) {
		if ((h = cwg_host_find(n->host)) == NULL || !h->has_key)
			continue;
		for (i = 0; i < n->npfx; i++)
			if (prefix_equal(&n->pfx[i], p))
				return (1);
	}
	return (0);
}

/* The routes over the link: one per prefix a keyed peer carries. */
static void
cwg_sync_routes(void)
{
	struct cwg_net	*n;
	struct cwg_host	*h;
	struct prefix	*next = NULL;
	size_t		 nnext = 0, i, j;
	char		 err[256], buf[PREFIX_STRLEN];

	TAILQ_FOREACH(n, &cwg.nets, entry) {
		if ((h = cwg_host_find(n->host)) == NULL || !h->has_key)
			continue;
		for (i = 0; i < n->npfx; i++) {
			next = xreallocarray(next, nnext + 1, sizeof *next);
			next[nnext++] = n->pfx[i];
			if (link_route_add_dev(cwg.rsk, &n->pfx[i],
			    cwg.ifindex, CWG_TABLE, err, sizeof err) == -1)
				log_warnx("cluster: wireguard: %s %s", prefix_format(
				    &n->pfx[i], 1, buf, sizeof buf), err);
		}
	}
	for (i = 0; i < cwg.nrouted; i++) {
		for (j = 0; j < nnext; j++)
			if (prefix_equal(&cwg.routed[i], &next[j]))
				break;
		if (j == nnext && !cwg_carried(&cwg.routed[i]))
			link_route_del_dev(cwg.rsk, &cwg.routed[i], cwg.ifindex,
			    CWG_TABLE);
	}
	free(cwg.routed);
	cwg.routed = next;
	cwg.nrouted = nnext;
}

int
cluster_wg_parse_host(const void *value, size_t len, struct cluster_wg_peer *p)
{
	struct json		*doc;
	struct json_error	 jerr;
	const struct json	*w, *port;
	const char		*key, *ep;
	int64_t			 n;
	int			 rc = -2;
	char			 err[128];

	memset(p, 0, sizeof *p);
	if ((doc = json_parse(value, len, 0, &jerr)) == NULL)
		return (-2);
	if ((w = json_get(doc, "wireguard")) == NULL) {
		json_free(doc);
		return (-1);
	}
	if (w->type != JSON_OBJECT)
		goto out;
	key = json_get_string(w, "public_key");
	ep = json_get_string(w, "address");
	port = json_get(w, "port");
	/* The endpoint is an address, not a prefix: "198.18.61.2", no "/". */
	if (key == NULL || wg_key_from_base64(key, p->key) == -1 ||
	    ep == NULL || strchr(ep, '/') != NULL ||
	    prefix_parse(ep, 1, &p->endpoint, err, sizeof err) == -1 ||
	    port == NULL || json_number_int64(port, 1, 65535, &n) == -1)
		goto out;
	p->port = (uint16_t)n;
	rc = 0;
out:
	json_free(doc);
	if (rc != 0)
		memset(p, 0, sizeof *p);
	return (rc);
}

size_t
cluster_wg_parse_network(const void *value, size_t len, char **host,
    struct prefix pfx[2])
{
	struct json		*doc;
	struct json_error	 jerr;
	const char		*h, *gw;
	const char		*keys[] = { "gateway", "gateway6" };
	struct prefix		 p;
	char			 err[128];
	size_t			 i, n = 0;

	*host = NULL;
	if ((doc = json_parse(value, len, 0, &jerr)) == NULL)
		return (0);
	/*
	 * A network spanning hosts by name has the same prefix on every host
	 * and is routed per address: WireGuard gives an allowed IP to one peer
	 * only, so such a network is not carried (it stays on the underlay).
	 */
	if ((h = json_get_string(doc, "host")) == NULL ||
	    json_get_string(doc, "name") != NULL) {
		json_free(doc);
		return (0);
	}
	/* "198.18.62.1/28": the gateway with its pool's length. */
	for (i = 0; i < 2; i++) {
		if ((gw = json_get_string(doc, keys[i])) == NULL ||
		    prefix_parse(gw, 0, &p, err, sizeof err) == -1 ||
		    p.family != (i == 0 ? AF_INET : AF_INET6) ||
		    p.len < (i == 0 ? 8 : 16))	/* never a default route */
			continue;
		prefix_mask(&p);
		pfx[n++] = p;
	}
	if (n > 0)
		*host = xstrdup(h);
	json_free(doc);
	return (n);
}

/*
 * A host's record: {"wireguard": {"public_key", "address", "port"}}.  1 when
 * the peer changed, 0 when not: each host rewrites its record every quarter
 * of cluster.dead_after, and setting the peers again each time would drop
 * every session.
 */
static int
cwg_on_host(const char *addr, const void *value, size_t len)
{
	struct cwg_host		*h;
	struct cluster_wg_peer	 p;
	int			 rc, had_key;

	if (strcmp(addr, cwg.self) == 0)
		return (0);
	if ((h = cwg_host_find(addr)) == NULL) {
		if (value == NULL)
			return (0);
		h = xcalloc(1, sizeof *h);
		h->addr = xstrdup(addr);
		TAILQ_INSERT_TAIL(&cwg.hosts, h, entry);
	}
	if (value == NULL) {
		TAILQ_REMOVE(&cwg.hosts, h, entry);
		free(h->addr);
		free(h);
		return (1);
	}
	had_key = h->has_key;
	rc = cluster_wg_parse_host(value, len, &p);
	if (rc == 0 && had_key && memcmp(h->key, p.key, WG_KEY_BYTES) == 0 &&
	    prefix_equal(&h->endpoint, &p.endpoint) && h->port == p.port)
		return (0);
	h->has_key = 0;
	if (rc == -1) {
		if (had_key)
			log_warnx("cluster: host %s has no WireGuard: traffic "
			    "to it is not encrypted", addr);
		return (had_key);
	}
	if (rc != 0) {
		log_warnx("cluster: host %s: its WireGuard key or endpoint is "
		    "malformed", addr);
		return (had_key);
	}
	memcpy(h->key, p.key, WG_KEY_BYTES);
	h->endpoint = p.endpoint;
	h->port = p.port;
	h->has_key = 1;
	log_info("cluster: wireguard peer %s port %u", addr, h->port);
	return (1);
}

/* A network's record: its host and gateways ("198.18.62.1/28").  1 when
 * what the peers carry changed. */
static int
cwg_on_network(const char *id, const void *value, size_t len)
{
	struct cwg_net		*n;
	struct prefix		 pfx[2];
	char			*host = NULL;
	size_t			 npfx = 0;
	int			 had;

	if (value != NULL)
		npfx = cluster_wg_parse_network(value, len, &host, pfx);
	if (npfx > 0 && strcmp(host, cwg.self) == 0)
		npfx = 0;	/* ours: nothing to carry */
	if ((n = cwg_net_find(id)) != NULL && npfx > 0 &&
	    strcmp(n->host, host) == 0 && n->npfx == npfx &&
	    prefix_equal(&n->pfx[0], &pfx[0]) &&
	    (npfx == 1 || prefix_equal(&n->pfx[1], &pfx[1]))) {
		free(host);
		return (0);
	}
	had = n != NULL;
	if (n != NULL) {
		TAILQ_REMOVE(&cwg.nets, n, entry);
		free(n->id);
		free(n->host);
		free(n);
	}
	/* Gone, ours, or without a prefix: nothing to carry. */
	if (npfx == 0) {
		free(host);
		return (had);
	}
	n = xcalloc(1, sizeof *n);
	n->id = xstrdup(id);
	n->host = host;
	memcpy(n->pfx, pfx, sizeof n->pfx);
	n->npfx = npfx;
	TAILQ_INSERT_TAIL(&cwg.nets, n, entry);
	return (1);
}

void
cluster_wg_change(const char *kind, const char *key, const void *value,
    size_t len)
{
	char	err[256];
	int	changed = 0;

	if (!cwg.active)
		return;
	if (strcmp(kind, CLUSTER_KIND_HOST) == 0)
		changed = cwg_on_host(key, value, len);
	else if (strcmp(kind, CLUSTER_KIND_NETWORK) == 0)
		changed = cwg_on_network(key, value, len);
	if (!changed)
		return;
	if (cwg_sync_peers(err, sizeof err) == -1)
		log_warnx("cluster: wireguard: %s", err);
	cwg_sync_routes();
}

int
cluster_wg_active(void)
{
	return (cwg.active);
}

void
cluster_wg_record(yajl_gen g)
{
	char	b64[WG_KEY_B64_LEN + 1];

	if (!cwg.active)
		return;
	wg_key_to_base64(cwg.pub, b64);
	json_gen_key(g, "wireguard");
	yajl_gen_map_open(g);
	json_gen_string(g, "public_key", b64);
	json_gen_string(g, "address", cwg.self);
	json_gen_int(g, "port", cwg.port);
	yajl_gen_map_close(g);
}

/*
 * Whether the pair with host addr can shake hands: the kernel's device (read
 * back, not our intent) has a private key and a peer with that host's key
 * and an endpoint (its keepalive starts the handshake; allowed IPs only say
 * what may pass once it is done).
 */
int
cluster_wg_pair(const char *addr)
{
	struct wg_device	 d;
	struct cwg_host		*h;
	size_t			 i;
	int			 ok = 0;
	char			 err[256];

	if (!cwg.active || (h = cwg_host_find(addr)) == NULL || !h->has_key)
		return (0);
	memset(&d, 0, sizeof d);
	if (wg_get_device(cwg.gsk, cwg.family, cwg.name, &d, err,
	    sizeof err) == -1) {
		log_warnx("cluster: wireguard: %s", err);
		wg_device_clear(&d);
		return (0);
	}
	for (i = 0; d.has_private_key && i < d.npeers; i++)
		if (memcmp(d.peers[i].public_key, h->key, WG_KEY_BYTES) == 0 &&
		    d.peers[i].endpoint.family != 0)
			ok = 1;
	wg_device_clear(&d);
	return (ok);
}

int
cluster_wg_start(const struct conf *conf, const struct server_env *env,
    char *err, size_t errlen)
{
	uint8_t		 key[KEYS_KEY_BYTES];
	char		 alias[128], kname[128];
	size_t		 i;

	TAILQ_INIT(&cwg.hosts);
	TAILQ_INIT(&cwg.nets);
	if (strlen(conf->instance) + 3 >= sizeof cwg.name)
		log_warnx("cluster: wireguard: wg-%s is longer than a link "
		    "name: cut to %zu characters", conf->instance,
		    sizeof cwg.name - 1);
	snprintf(cwg.name, sizeof cwg.name, "wg-%s", conf->instance);
	/*
	 * Any 32 random bytes are an X25519 private key: the keys module
	 * makes them once and keeps them sealed under the master key.
	 */
	snprintf(kname, sizeof kname, "%s%s", CWG_KEY_PREFIX,
	    conf->cluster_host_address);
	if (keys_get(kname, key, 1, err, errlen) == -1)
		return (-1);
	memcpy(cwg.priv, key, WG_KEY_BYTES);
	OPENSSL_cleanse(key, sizeof key);
	if (wg_public_key(cwg.priv, cwg.pub) == -1) {
		snprintf(err, errlen, "X25519 public key: OpenSSL refused");
		goto fail;
	}
	/* The routing namespace: FRR's, where the underlay is. */
	if ((cwg.nsfd = netns_open(conf->netns, 1, err, errlen)) == -1)
		goto fail;
	if ((cwg.rsk = link_sock_open(cwg.nsfd, err, errlen)) == NULL ||
	    (cwg.gsk = wg_sock_open(cwg.nsfd, &cwg.family, err,
	    errlen)) == NULL)
		goto fail;
	/* Not "netcrave:<instance>:": the network server sweeps those. */
	snprintf(alias, sizeof alias, "netcrave-cluster:%s:wg", conf->instance);
	if ((cwg.ifindex = link_wireguard_ensure(cwg.rsk, cwg.name, alias, err,
	    errlen)) == -1)
		goto fail;
	if (link_rule_table(cwg.rsk, AF_INET, CWG_TABLE, CWG_RULE_PRIO, 1, err,
	    errlen) == -1 || link_rule_table(cwg.rsk, AF_INET6, CWG_TABLE,
	    CWG_RULE_PRIO, 1, err, errlen) == -1)
		goto fail;
	cwg.self = xstrdup(conf->cluster_host_address);
	cwg.port = (uint16_t)conf->cluster_wireguard_port;
	cwg.active = 1;
	/* The hosts and networks already recorded, then the device at once. */
	for (i = 0; i < env->nrecords; i++) {
		if (strcmp(env->records[i].kind, CLUSTER_KIND_HOST) == 0)
			cwg_on_host(env->records[i].key,
			    env->records[i].value, env->records[i].len);
		else if (strcmp(env->records[i].kind,
		    CLUSTER_KIND_NETWORK) == 0)
			cwg_on_network(env->records[i].key,
			    env->records[i].value, env->records[i].len);
	}
	if (cwg_sync_peers(err, errlen) == -1)
		goto fail;
	cwg_sync_routes();
	log_info("cluster: wireguard on %s, port %u", cwg.name, cwg.port);
	return (0);
fail:
	cluster_wg_stop();
	return (-1);
}

/* The link goes with its peers and routes; the rules are ours alone. */
void
cluster_wg_stop(void)
{
	struct cwg_host	*h;
	struct cwg_net	*n;
	char		 err[256];

	if (cwg.rsk != NULL && cwg.ifindex > 0) {
		link_delete(cwg.rsk, cwg.name);
		if (link_rule_table(cwg.rsk, AF_INET, CWG_TABLE, CWG_RULE_PRIO,
		    0, err, sizeof err) == -1 || link_rule_table(cwg.rsk,
		    AF_INET6, CWG_TABLE, CWG_RULE_PRIO, 0, err, sizeof err) == -1)
			log_warnx("cluster: wireguard: %s", err);
	}
	while ((h = TAILQ_FIRST(&cwg.hosts)) != NULL) {
		TAILQ_REMOVE(&cwg.hosts, h, entry);
		free(h->addr);
		free(h);
	}
	while ((n = TAILQ_FIRST(&cwg.nets)) != NULL) {
		TAILQ_REMOVE(&cwg.nets, n, entry);
		free(n->id);
		free(n->host);
		free(n);
	}
	link_sock_close(cwg.rsk);
	wg_sock_close(cwg.gsk);
	if (cwg.nsfd != -1)
		close(cwg.nsfd);
	free(cwg.self);
	free(cwg.routed);
	explicit_bzero(&cwg, sizeof cwg);
	cwg.nsfd = -1;
}
