/* dns_share.c: in a cluster every host answers for every container: each
 * host puts its running containers in the shared store (one record per
 * container, key "host/id", in the shape of dockerd's inspection) and makes
 * the other hosts' records itself, with the follower's parser and
 * dns_container_set, as for its own containers, following the store's
 * change log.  A host publishes descriptions, never records: the names a
 * container may claim (io.netcrave.dns.records confined to its own names,
 * no SOA, NS or DNSSEC records) are checked by the host that serves them. */
#include "config.h"

#include <sys/queue.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dockerd.h"
#include "dockerd_private.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define DNS_KIND_CONTAINER	"dns.container"
/* What hosts before this one published (records as lines): their own are
 * deleted at start, the others' ignored. */
#define DNS_KIND_OLD		"dns.source"

/* Another host's container: kept to be replayed into a new db on reload, and
 * while its host is dead (see dns_share_host). */
struct dns_remote {
	char				*key;	/* "host/container id" */
	char				*host;	/* the key's host part */
	struct dockerd_container	*c;	/* its id is key */
	TAILQ_ENTRY(dns_remote)		 entry;
};
TAILQ_HEAD(dns_remote_list, dns_remote);

static struct {
	char			*host;		/* NULL: no cluster, no sharing */
	struct store		*store;
	struct dns_db		*(*db)(void);
	void			(*changed)(void);
	int			(*alive)(const char *host);
	struct dns_remote_list	 remote;
} share = { .remote = TAILQ_HEAD_INITIALIZER(share.remote) };

static struct dns_remote *
dns_share_find(const char *key)
{
	struct dns_remote	*r;

	TAILQ_FOREACH(r, &share.remote, entry)
		if (strcmp(r->key, key) == 0)
			return (r);
	return (NULL);
}

static void
dns_share_forget(struct dns_remote *r)
{
	TAILQ_REMOVE(&share.remote, r, entry);
	free(r->key);
	free(r->host);
	dockerd_container_free(r->c);
	free(r);
}

/* Whether key ("host/id") is this host's. */
static int
dns_share_ours(const char *key)
{
	size_t	n = strlen(share.host);

	return (strncmp(key, share.host, n) == 0 && key[n] == '/');
}

/* Whether key ("host/id") is another host's. */
static int
dns_share_theirs(const char *key)
{
	return (!dns_share_ours(key) && key[0] != '/' &&
	    strchr(key, '/') != NULL);
}

/* Whether r's host counts: alive, or nobody tells (no cluster server). */
static int
dns_share_alive(const struct dns_remote *r)
{
	return (share.alive == NULL || share.alive(r->host));
}

/*
 * Another host's container (value NULL: removed) into our zones.  Its
 * records are made here from its description; the source is named by the
 * store's key, so a host cannot replace another's (or our) container by
 * publishing its id.
 */
/* A name as dockerd allows it for containers, aliases and networks. */
static int
dns_share_name_ok(const char *s)
{
	size_t	i;

	if (s == NULL || !isalnum((unsigned char)s[0]) || strlen(s) > 253)
		return (0);
	for (i = 1; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) == NULL)
			return (0);
	return (1);
}

/*
 * What dockerd itself would never hand us, another host might: names and
 * addresses go into records as text, so anything but dockerd's own syntax is
 * refused (a name with a space and a record after it would be a record).
 */
static int
dns_share_valid(const struct dockerd_container *c, char *err, size_t errlen)
{
	const struct dockerd_endpoint	*e;
	struct in6_addr			 a6;
	struct in_addr			 a4;
	size_t				 i, k;

	if (!dns_share_name_ok(c->name)) {
		snprintf(err, errlen, "a container name dockerd would refuse");
		return (-1);
	}
	for (i = 0; i < c->nendpoints; i++) {
		e = &c->endpoints[i];
		if ((e->network_name != NULL &&
		    !dns_share_name_ok(e->network_name)) ||
		    (e->ipv4 != NULL && inet_pton(AF_INET, e->ipv4, &a4) != 1) ||
		    (e->ipv6 != NULL && inet_pton(AF_INET6, e->ipv6, &a6) != 1)) {
			snprintf(err, errlen, "a network name or address "
			    "dockerd would refuse");
			return (-1);
		}
		for (k = 0; e->aliases != NULL && e->aliases[k] != NULL; k++)
			if (!dns_share_name_ok(e->aliases[k])) {
				snprintf(err, errlen, "an alias dockerd would "
				    "refuse");
				return (-1);
			}
	}
	return (0);
}

static void
dns_share_take(const char *key, const void *value, size_t len)
{
	struct dns_remote		*r;
	struct dockerd_container	*c;
	struct json			*doc;
	struct json_error		 jerr;
	char				 err[256];

	if ((r = dns_share_find(key)) != NULL)
		dns_share_forget(r);
	dns_container_remove(share.db(), key);
	if (value == NULL)
		return;
	if ((doc = json_parse(value, len, 0, &jerr)) == NULL) {
		log_warnx("dns: container %s: %s", key, jerr.message);
		return;
	}
	c = dockerd_container_read(doc, err, sizeof err);
	json_free(doc);
	if (c != NULL && dns_share_valid(c, err, sizeof err) == -1) {
		dockerd_container_free(c);
		c = NULL;
	}
	if (c == NULL) {
		log_warnx("dns: container %s: %s", key, err);
		return;
	}
	free(c->id);
	c->id = xstrdup(key);
	r = xcalloc(1, sizeof *r);
	r->key = xstrdup(key);
	r->host = xstrndup(key, strcspn(key, "/"));
	r->c = c;
	TAILQ_INSERT_TAIL(&share.remote, r, entry);
	if (c->running && dns_share_alive(r))
		dns_container_set(share.db(), c);
}

static void
dns_share_on_change(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	if (strcmp(kind, DNS_KIND_CONTAINER) != 0 || !dns_share_theirs(key))
		return;
	dns_share_take(key, value, len);
	share.changed();
}

static void
dns_share_stored(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("dns: sharing containers: %s", error);
}

void
dns_share_init(const char *host, struct store *store,
    const struct server_record *records, size_t nrecords,
    struct dns_db *(*db)(void), void (*changed)(void),
    int (*alive)(const char *))
{
	size_t	 i;

	if (host == NULL)
		return;
	share.host = xstrdup(host);
	share.store = store;
	share.db = db;
	share.changed = changed;
	share.alive = alive;
	for (i = 0; i < nrecords; i++) {
		if (strcmp(records[i].kind, DNS_KIND_CONTAINER) == 0 &&
		    dns_share_theirs(records[i].key))
			dns_share_take(records[i].key, records[i].value,
			    records[i].len);
		else if (dns_share_ours(records[i].key) &&
		    (strcmp(records[i].kind, DNS_KIND_CONTAINER) == 0 ||
		    strcmp(records[i].kind, DNS_KIND_OLD) == 0)) {
			/* Ours from an earlier run: dockerd's containers are
			 * published again as the follower reports them. */
			store_del(store, records[i].kind, records[i].key,
			    dns_share_stored, NULL);
		}
	}
	if (store_watch(store, dns_share_on_change, NULL) == -1)
		log_warnx("dns: cannot follow the other hosts' containers");
}

/* A container of ours as it is now (running or not), for the other hosts. */
void
dns_share_publish(const struct dockerd_container *c)
{
	yajl_gen		 g;
	const unsigned char	*text;
	char			*key;
	size_t			 len;

	if (share.host == NULL)
		return;
	if (!c->running) {
		dns_share_withdraw(c->id);
		return;
	}
	g = json_gen_new();
	dockerd_container_gen(g, c);
	yajl_gen_get_buf(g, &text, &len);
	xasprintf(&key, "%s/%s", share.host, c->id);
	store_put(share.store, DNS_KIND_CONTAINER, key, text, len,
	    dns_share_stored, NULL);
	free(key);
	yajl_gen_free(g);
}

void
dns_share_withdraw(const char *id)
{
	char	*key;

	if (share.host == NULL)
		return;
	xasprintf(&key, "%s/%s", share.host, id);
	store_del(share.store, DNS_KIND_CONTAINER, key, dns_share_stored,
	    NULL);
	free(key);
}

/* The other hosts' running containers (of hosts alive) into db (reload). */
void
dns_share_replay(struct dns_db *db)
{
	struct dns_remote	*r;

	TAILQ_FOREACH(r, &share.remote, entry)
		if (r->c->running && dns_share_alive(r))
			dns_container_set(db, r->c);
}

/*
 * host died (alive 0: no refresh of its cluster record for cluster.dead_after
 * seconds) or came back: its containers leave the zones or return.  What it
 * published stays in the store and here.
 */
void
dns_share_host(const char *host, int alive)
{
	struct dns_remote	*r;
	size_t			 n = 0;

	if (share.host == NULL)
		return;
	TAILQ_FOREACH(r, &share.remote, entry) {
		if (strcmp(r->host, host) != 0)
			continue;
		if (alive && r->c->running)
			dns_container_set(share.db(), r->c);
		else
			dns_container_remove(share.db(), r->key);
		n++;
	}
	if (n == 0)
		return;
	log_info("dns: host %s %s: %zu containers %s", host, alive ? "back" :
	    "dead", n, alive ? "served again" : "no longer served");
	share.changed();
}

void
dns_share_shutdown(void)
{
	struct dns_remote	*r;

	while ((r = TAILQ_FIRST(&share.remote)) != NULL)
		dns_share_forget(r);
	free(share.host);
	share.host = NULL;
	share.alive = NULL;
}
