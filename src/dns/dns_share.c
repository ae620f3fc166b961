/* dns_share.c: in a cluster every host answers for every container: each
 * host puts its containers' records in the shared store (one record per
 * container, its DNS records as presentation lines) and serves the other
 * hosts' as sources of their own, following the store's change log. */
#include "config.h"

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "xmalloc.h"

#define DNS_KIND_SOURCE		"dns.source"

/* Another host's container: kept to be replayed into a new db on reload. */
struct dns_remote {
	char			*key;		/* "host/container id" */
	char			**lines;
	TAILQ_ENTRY(dns_remote)	 entry;
};
TAILQ_HEAD(dns_remote_list, dns_remote);

static struct {
	char			*host;		/* NULL: no cluster, no sharing */
	struct store		*store;
	struct dns_db		*(*db)(void);
	void			(*changed)(void);
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
	util_strv_free(r->lines);
	free(r);
}

/* Whether key ("host/id") is another host's. */
static int
dns_share_theirs(const char *key)
{
	size_t	n = strlen(share.host);

	return (!(strncmp(key, share.host, n) == 0 && key[n] == '/') &&
	    strchr(key, '/') != NULL);
}

/* Another host's records (value NULL: removed) into our zones. */
static void
dns_share_take(const char *key, const void *value, size_t len)
{
	struct dns_remote	*r;
	struct json		*doc;
	struct json_error	 jerr;
	const struct json	*a;
	char			**lines, err[256];
	size_t			  i;

	if ((r = dns_share_find(key)) != NULL)
		dns_share_forget(r);
	if (value == NULL) {
		dns_container_remove(share.db(), key);
		return;
	}
	if ((doc = json_parse(value, len, 0, &jerr)) == NULL) {
		log_warnx("dns: records of %s: %s", key, jerr.message);
		return;
	}
	a = json_get(doc, "records");
	if (a == NULL || a->type != JSON_ARRAY) {
		log_warnx("dns: records of %s: no \"records\" array", key);
		json_free(doc);
		return;
	}
	lines = xcalloc(a->nchildren + 1, sizeof *lines);
	for (i = 0; i < a->nchildren; i++)
		lines[i] = xstrdup(a->children[i]->type == JSON_STRING ?
		    a->children[i]->string : "");
	json_free(doc);
	if (dns_db_set_source_lines(share.db(), key, lines, err,
	    sizeof err) == -1) {
		log_warnx("dns: records of %s refused: %s", key, err);
		util_strv_free(lines);
		dns_container_remove(share.db(), key);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->key = xstrdup(key);
	r->lines = lines;
	TAILQ_INSERT_TAIL(&share.remote, r, entry);
}

static void
dns_share_on_change(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	if (strcmp(kind, DNS_KIND_SOURCE) != 0 || !dns_share_theirs(key))
		return;
	dns_share_take(key, value, len);
	share.changed();
}

static void
dns_share_stored(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("dns: sharing records: %s", error);
}

void
dns_share_init(const char *host, struct store *store,
    const struct server_record *records, size_t nrecords,
    struct dns_db *(*db)(void), void (*changed)(void))
{
	size_t	 i;

	if (host == NULL)
		return;
	share.host = xstrdup(host);
	share.store = store;
	share.db = db;
	share.changed = changed;
	for (i = 0; i < nrecords; i++) {
		if (strcmp(records[i].kind, DNS_KIND_SOURCE) != 0)
			continue;
		if (dns_share_theirs(records[i].key))
			dns_share_take(records[i].key, records[i].value,
			    records[i].len);
		else {
			/* Ours from an earlier run: dockerd's containers are
			 * published again as the follower reports them. */
			store_del(store, DNS_KIND_SOURCE, records[i].key,
			    dns_share_stored, NULL);
		}
	}
	if (store_watch(store, dns_share_on_change, NULL) == -1)
		log_warnx("dns: cannot follow the other hosts' records");
}

/* A container's records as they are now in db, for the other hosts. */
void
dns_share_publish(struct dns_db *db, const char *id)
{
	yajl_gen		 g;
	const unsigned char	*text;
	char			**lines, *key;
	size_t			  len;

	if (share.host == NULL)
		return;
	if ((lines = dns_source_lines(db, id)) == NULL) {
		dns_share_withdraw(id);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "host", share.host);
	json_gen_strv(g, "records", lines);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	xasprintf(&key, "%s/%s", share.host, id);
	store_put(share.store, DNS_KIND_SOURCE, key, text, len,
	    dns_share_stored, NULL);
	free(key);
	yajl_gen_free(g);
	util_strv_free(lines);
}

void
dns_share_withdraw(const char *id)
{
	char	*key;

	if (share.host == NULL)
		return;
	xasprintf(&key, "%s/%s", share.host, id);
	store_del(share.store, DNS_KIND_SOURCE, key, dns_share_stored, NULL);
	free(key);
}

/* The other hosts' records into a new db (reload). */
void
dns_share_replay(struct dns_db *db)
{
	struct dns_remote	*r;
	char			 err[256];

	TAILQ_FOREACH(r, &share.remote, entry)
		if (dns_db_set_source_lines(db, r->key, r->lines, err,
		    sizeof err) == -1)
			log_warnx("dns: records of %s: %s", r->key, err);
}

void
dns_share_shutdown(void)
{
	struct dns_remote	*r;

	while ((r = TAILQ_FIRST(&share.remote)) != NULL)
		dns_share_forget(r);
	free(share.host);
	share.host = NULL;
}
