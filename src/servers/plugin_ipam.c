/* plugin_ipam.c: Docker's IpamDriver: pools handed out from the address schema by
 * tag (or an explicit --subnet inside a scope), addresses from those pools; every
 * allocation is durable in the store before Docker hears of it.  Also the "ipam"
 * server entry, which builds the schema at start and reloads pools from the store.
 *
 * Swarm: a manager allocates a swarm network's pool and every address in it, and
 * each node's dockerd then asks for that same pool (explicitly, in the local
 * space) and those same addresses again to build its part.  On a manager node
 * both go to this one daemon, so an explicit pool equal to a pool asked for in
 * the global space is granted again as a twin: a PoolID of its own with
 * addresses of its own, the prefix claimed in the scope while any twin holds it.
 * (A second swarm network whose --subnet names a swarm pool gets a twin too;
 * NetworkDriver.AllocateNetwork refuses that network.)  A swarm pool has one
 * twin in the local space, its node's: a later local --subnet naming it is an
 * overlap (409) like any other. */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "conf.h"
#include "crypto.h"
#include "hostnet.h"
#include "http.h"
#include "ipam.h"
#include "json.h"
#include "log.h"
#include "plugin.h"
#include "plugin_private.h"
#include "prefix.h"
#include "schema.h"
#include "server.h"
#include "store.h"
#include "xmalloc.h"

#define IPAM_KIND_AUTO		"schema.auto"
#define IPAM_KIND_POOL		"ipam.pool"
#define IPAM_KIND_ADDRESS	"ipam.address"
#define IPAM_KIND_NET		"ipam.net"	/* prefix -> PoolID: one owner */
/*
 * A network named with the IPAM option netcrave.network is one pool across the
 * cluster: "<name>/<4|6>" -> its PoolID and tag, and one reference per host
 * that created it ("<name>/<4|6> <host>" -> how many of its networks use the
 * pool there); the last host to release it frees it.
 */
#define IPAM_KIND_SHARED	"net.shared"
#define IPAM_KIND_SHARED_REF	"net.shared.ref"
#define IPAM_NETWORK_OPTION	"netcrave.network"
#define IPAM_SHARED_WAIT_MS	100	/* for another host's record to arrive */
#define IPAM_SHARED_WAITS	50
#define IPAM_DROP_BACKOFF_MIN	1	/* s, a failed pool delete's retry */
#define IPAM_DROP_BACKOFF_MAX	30
#define IPAM_SPACE_LOCAL	"netcrave-local"
#define IPAM_SPACE_GLOBAL	"netcrave-global"
#define IPAM_RESOLV_CONF	"/etc/resolv.conf"

/* A pool handed to Docker: a network prefix (and maybe a --ip-range). */
struct ipam_pool_entry {
	char			*id;		/* PoolID: "<prefix>[,<range>]#<nonce>" */
	char			*scope_path;	/* where it came from (may be gone) */
	struct schema_scope	*scope;		/* NULL if the scope no longer exists */
	struct prefix		 prefix;
	struct ipam_pool	*pool;		/* every address of the prefix */
	struct ipam_pool	*range;		/* next-free addresses: --ip-range, or NULL */
	int			 global;	/* asked for in the global space */
	TAILQ_ENTRY(ipam_pool_entry) entry;
};
TAILQ_HEAD(ipam_pool_list, ipam_pool_entry);

/* A cluster-wide named pool as the store holds it (followed from other hosts). */
struct ipam_shared {
	char			*key;		/* "<name>/<4|6>" */
	char			*pool_id;	/* NULL until its record arrives */
	char			*tag;
	char			**hosts;	/* hosts holding a reference */
	size_t			 nhosts;
	unsigned int		 nlocal;	/* this host's networks on it */
	int			 dropping;	/* its last release here runs */
	TAILQ_ENTRY(ipam_shared) entry;
};
TAILQ_HEAD(ipam_shared_list, ipam_shared);

/* A reply waiting for the store to say the change is durable. */
struct ipam_pending {
	struct plugin_pending	 base;		/* first: plugin_pending_* use it */
	struct ipam_pool_entry	*pool;		/* for undo */
	struct prefix		 addr;		/* for undo */
	int			 claimed_range;
	int			 automatic;	/* next free, not asked for */
	char			*shared_key;	/* a named pool: its key */
	char			*shared_tag;
	struct prefix		 shared_want;	/* an explicit --subnet, or len 0 */
	struct event		*wait;		/* for another host's record */
	int			 waits;
	int			 restart;	/* waited out a drop: ask afresh */
	char			*made_id;	/* the new named pool's PoolID */
};

/* An "auto" prefix choice: "<scope path>:ipv4" -> "10.42.0.0/16". */
struct ipam_auto {
	char	*key;
	char	*prefix;
};

static struct {
	struct store		*store;
	struct event_base	*base;
	struct schema		*schema;
	struct ipam_pool_list	 pools;
	struct ipam_shared_list	 shared;
	char			*host;		/* this host's reference name */
	char			*default_tag;
	struct ipam_auto	*autos;		/* kept choices, as in the store */
	size_t			 nautos;
	struct ipam_auto	*new_autos;	/* made by a build not yet applied */
	size_t			 nnew_autos;
} ipam;

/* Find a pool by its ID. */
static struct ipam_pool_entry *
ipam_pool_find(const char *id)
{
	struct ipam_pool_entry	*p;

	TAILQ_FOREACH(p, &ipam.pools, entry)
		if (strcmp(p->id, id) == 0)
			return (p);
	return (NULL);
}

/* Another pool of the same prefix (a swarm twin, see above), or NULL. */
static struct ipam_pool_entry *
ipam_pool_twin(const struct ipam_pool_entry *p)
{
	struct ipam_pool_entry	*t;

	TAILQ_FOREACH(t, &ipam.pools, entry)
		if (t != p && prefix_equal(&t->prefix, &p->prefix))
			return (t);
	return (NULL);
}

/* The pool asked for in the local space on a swarm pool's prefix, or NULL. */
static struct ipam_pool_entry *
ipam_local_twin(const struct ipam_pool_entry *p)
{
	struct ipam_pool_entry	*t;

	TAILQ_FOREACH(t, &ipam.pools, entry)
		if (t != p && !t->global && prefix_equal(&t->prefix, &p->prefix))
			return (t);
	return (NULL);
}

/*
 * Unlink a pool; its prefix goes back to the scope (and, unless from_store, its
 * claim from the store) only when no twin still holds it.
 */
static void
ipam_pool_unlink(struct ipam_pool_entry *p, int from_store)
{
	char	pbuf[PREFIX_STRLEN];

	TAILQ_REMOVE(&ipam.pools, p, entry);
	if (ipam_pool_twin(p) != NULL)
		return;
	if (p->scope != NULL)
		ipam_space_release(schema_scope_space(p->scope, p->prefix.family),
		    &p->prefix);
	if (from_store)
		store_del(ipam.store, IPAM_KIND_NET, prefix_format(&p->prefix, 1,
		    pbuf, sizeof pbuf), NULL, NULL);
}

/* Free a pool entry (already unlinked). */
static void
ipam_pool_entry_free(struct ipam_pool_entry *p)
{
	ipam_pool_free(p->pool);
	if (p->range != NULL)
		ipam_pool_free(p->range);
	free(p->id);
	free(p->scope_path);
	free(p);
}

/* A pending reply for req, answered once the store is durable. */
static struct ipam_pending *
ipam_pending_new(struct http_request *req, char *reply)
{
	return ((struct ipam_pending *)plugin_pending_new(req, "IpamDriver",
	    reply, sizeof(struct ipam_pending)));
}

/* The stored form of a pool. */
static char *
ipam_pool_record(const struct ipam_pool_entry *p)
{
	const unsigned char	*buf;
	char			 pbuf[PREFIX_STRLEN], *out;
	size_t			 len;
	yajl_gen		 g;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "scope", p->scope_path);
	json_gen_string(g, "pool", prefix_format(&p->prefix, 1, pbuf, sizeof pbuf));
	json_gen_string(g, "range", p->range != NULL ? prefix_format(
	    ipam_pool_prefix(p->range), 1, pbuf, sizeof pbuf) : NULL);
	if (p->global)
		json_gen_bool(g, "global", 1);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	return (out);
}

/* A new pool entry for prefix (and range), not yet linked. */
static struct ipam_pool_entry *
ipam_pool_entry_new(struct schema_scope *scope, const char *scope_path,
    const struct prefix *prefix, const struct prefix *range)
{
	struct ipam_pool_entry	*p;
	char			 pbuf[PREFIX_STRLEN], rbuf[PREFIX_STRLEN];
	uint32_t		 nonce;

	p = xcalloc(1, sizeof *p);
	p->scope = scope;
	p->scope_path = xstrdup(scope_path);
	p->prefix = *prefix;
	p->pool = ipam_pool_new(prefix);
	/*
	 * The nonce keeps IDs unique over time: a prefix released and handed out
	 * again is a new pool, and records of the old one never attach to it.
	 */
	crypto_random(&nonce, sizeof nonce);
	prefix_format(prefix, 1, pbuf, sizeof pbuf);
	if (range != NULL) {
		/* Only what the network reserves is held back in its range. */
		if ((p->range = ipam_pool_new_range(range, prefix)) == NULL)
			fatalx("%s: range outside its pool", __func__);
		xasprintf(&p->id, "%s,%s#%08x", pbuf,
		    prefix_format(range, 1, rbuf, sizeof rbuf), nonce);
	} else
		xasprintf(&p->id, "%s#%08x", pbuf, nonce);
	return (p);
}

/* Undo a RequestPool whose record did not become durable. */
static void
ipam_undo_pool(struct plugin_pending *base)
{
	struct ipam_pending	*pending = (struct ipam_pending *)base;
	struct ipam_pool_entry	*p = pending->pool;

	ipam_pool_unlink(p, 0);
	ipam_pool_entry_free(p);
}

/* Before the schema is built (or after shutdown) nothing can be allocated. */
static int
ipam_not_ready(struct http_request *req)
{
	if (ipam.schema != NULL)
		return (0);
	plugin_fail(req, 503, "the address schema is not loaded");
	return (1);
}

/*
 * Parse a body that names a PoolID.  NULL when the request was answered
 * already (schema not loaded, bad body, no PoolID); *doc is then NULL too.
 */
static const char *
ipam_body_pool_id(struct http_request *req, struct json **doc)
{
	const char	*id;

	*doc = NULL;
	if (ipam_not_ready(req) || plugin_body(req, doc) == -1)
		return (NULL);
	if (*doc == NULL || (id = json_get_string(*doc, "PoolID")) == NULL) {
		plugin_bad_request(req, "PoolID missing");
		json_free(*doc);
		*doc = NULL;
		return (NULL);
	}
	return (id);
}

/* IpamDriver.GetDefaultAddressSpaces: netcrave's own address spaces. */
void
plugin_ipam_address_spaces(struct http_request *req, void *arg)
{
	plugin_reply_fixed(req, "{\"LocalDefaultAddressSpace\":\""
	    IPAM_SPACE_LOCAL "\",\"GlobalDefaultAddressSpace\":\""
	    IPAM_SPACE_GLOBAL "\"}");
}

/* The named pool with this key, or NULL; made (empty) when create is set. */
static struct ipam_shared *
ipam_shared_get(const char *key, int create)
{
	struct ipam_shared	*sh;

	TAILQ_FOREACH(sh, &ipam.shared, entry)
		if (strcmp(sh->key, key) == 0)
			return (sh);
	if (!create)
		return (NULL);
	sh = xcalloc(1, sizeof *sh);
	sh->key = xstrdup(key);
	TAILQ_INSERT_TAIL(&ipam.shared, sh, entry);
	return (sh);
}

/* The named pool a PoolID belongs to, or NULL. */
static struct ipam_shared *
ipam_shared_by_pool(const char *id)
{
	struct ipam_shared	*sh;

	TAILQ_FOREACH(sh, &ipam.shared, entry)
		if (sh->pool_id != NULL && strcmp(sh->pool_id, id) == 0)
			return (sh);
	return (NULL);
}

/* Forget a named pool (its record is gone). */
static void
ipam_shared_free(struct ipam_shared *sh)
{
	size_t	i;

	TAILQ_REMOVE(&ipam.shared, sh, entry);
	for (i = 0; i < sh->nhosts; i++)
		free(sh->hosts[i]);
	free(sh->hosts);
	free(sh->key);
	free(sh->pool_id);
	free(sh->tag);
	free(sh);
}

/* Record a host's reference (once). */
static void
ipam_shared_add_host(struct ipam_shared *sh, const char *host)
{
	size_t	i;

	for (i = 0; i < sh->nhosts; i++)
		if (strcmp(sh->hosts[i], host) == 0)
			return;
	sh->hosts = xreallocarray(sh->hosts, sh->nhosts + 1, sizeof *sh->hosts);
	sh->hosts[sh->nhosts++] = xstrdup(host);
}

/* Drop a host's reference, if held. */
static void
ipam_shared_del_host(struct ipam_shared *sh, const char *host)
{
	size_t	i;

	for (i = 0; i < sh->nhosts; i++) {
		if (strcmp(sh->hosts[i], host) != 0)
			continue;
		free(sh->hosts[i]);
		sh->hosts[i] = sh->hosts[--sh->nhosts];
		return;
	}
}

/* Fill a named pool from its stored record {"pool":..., "tag":...}. */
static void
ipam_shared_set(const char *key, const void *value, size_t len)
{
	struct ipam_shared	*sh;
	struct json		*doc;
	struct json_error	 jerr;
	const char		*id, *tag;

	doc = json_parse(value, len, 0, &jerr);
	if (doc == NULL || (id = json_get_string(doc, "pool")) == NULL) {
		log_warnx("ipam: named pool %s is unreadable; ignored", key);
		json_free(doc);
		return;
	}
	tag = json_get_string(doc, "tag");
	sh = ipam_shared_get(key, 1);
	free(sh->pool_id);
	free(sh->tag);
	sh->pool_id = xstrdup(id);
	sh->tag = xstrdup(tag != NULL ? tag : "");
	json_free(doc);
}

/*
 * Follow a reference record "<key> <host>" (value NULL: dropped); this
 * host's own (read at start) also says how many of its networks use the pool.
 */
static void
ipam_shared_ref(const char *refkey, const void *value, size_t len)
{
	struct ipam_shared	*sh;
	const char		*space;
	char			*key, count[16];

	if ((space = strrchr(refkey, ' ')) == NULL)
		return;
	key = xstrndup(refkey, space - refkey);
	if ((sh = ipam_shared_get(key, value != NULL)) != NULL) {
		if (value != NULL)
			ipam_shared_add_host(sh, space + 1);
		else
			ipam_shared_del_host(sh, space + 1);
		if (value != NULL && strcmp(space + 1, ipam.host) == 0) {
			snprintf(count, sizeof count, "%.*s", (int)(len <
			    sizeof count ? len : sizeof count - 1),
			    (const char *)value);
			sh->nlocal = (unsigned int)strtoul(count, NULL, 10);
			if (sh->nlocal == 0)
				sh->nlocal = 1;
		}
	}
	free(key);
}

/* Write this host's reference to the named pool key with count. */
static void
ipam_shared_put_count(const char *skey, unsigned int n, store_done_cb cb,
    void *arg)
{
	char	*key, count[16];

	snprintf(count, sizeof count, "%u", n);
	xasprintf(&key, "%s %s", skey, ipam.host);
	store_put(ipam.store, IPAM_KIND_SHARED_REF, key, count, strlen(count),
	    cb, arg);
	free(key);
}

/* Write this host's reference with its count (nlocal, at least 1). */
static void
ipam_shared_put_ref(struct ipam_shared *sh, store_done_cb cb, void *arg)
{
	ipam_shared_put_count(sh->key, sh->nlocal, cb, arg);
}

/* A named pool's request is over: free what it kept, then reply. */
static void
ipam_shared_done(const char *error, void *arg)
{
	struct ipam_pending	*pending = arg;

	free(pending->shared_key);
	free(pending->shared_tag);
	free(pending->made_id);
	if (pending->wait != NULL)
		event_free(pending->wait);
	pending->shared_key = pending->shared_tag = pending->made_id = NULL;
	pending->wait = NULL;
	plugin_pending_done(error, arg);
}

/* The same, refused. */
static void
ipam_shared_fail(struct ipam_pending *pending, int code, const char *msg)
{
	free(pending->shared_key);
	free(pending->shared_tag);
	free(pending->made_id);
	if (pending->wait != NULL)
		event_free(pending->wait);
	plugin_pending_fail(&pending->base, code, msg);
}

/*
 * Letting go of a named pool, in the order that never leaves a name without
 * its pool: this host's reference goes first; then the name, unless another
 * host's reference remains (store_del_unless: of hosts racing, exactly one
 * deletes it); then the pool record and its prefix claim, by that host only.
 * Used by a host's last ReleasePool of the pool, and to undo a RequestPool
 * that failed once its pool record may be in the store.
 *
 * Why not treat a name whose pool is missing as free instead: another host's
 * name record may arrive before its pool record (they are separate changes),
 * so a host seeing the name alone cannot tell a dangling name from one whose
 * pool is on its way, and re-making it would give one name two pools.
 */
enum ipam_drop_step {
	IPAM_DROP_REF,		/* delete this host's reference first */
	IPAM_DROP_NAME,		/* the name, unless referenced */
	IPAM_DROP_POOL		/* the pool record (no name was made for it) */
};

struct ipam_drop {
	struct ipam_pending	*pending;	/* answered when done */
	char			*key;		/* "<name>/<4|6>" */
	char			*pool_id;
	char			*error;		/* the failure undone, or NULL */
	int			 name_ours;	/* the name was this pool's */
	struct event		*retry;		/* the pool's delete, again */
	int			 backoff;	/* seconds until then */
};

static void	ipam_drop_ref_deleted(const char *, void *);
static void	ipam_drop_name(struct ipam_drop *);
static void	ipam_drop_name_done(const char *, void *);
static void	ipam_drop_pool(struct ipam_drop *);
static void	ipam_drop_pool_deleted(const char *, void *);

/* The named pool being dropped, or NULL once forgotten. */
static struct ipam_shared *
ipam_drop_shared(struct ipam_drop *drop)
{
	struct ipam_shared	*sh;

	if ((sh = ipam_shared_get(drop->key, 0)) != NULL &&
	    sh->pool_id != NULL && strcmp(sh->pool_id, drop->pool_id) == 0)
		return (sh);
	return (NULL);
}

/* Answer the drop's request (the failure undone, if any), once. */
static void
ipam_drop_answer(struct ipam_drop *drop, const char *error)
{
	if (drop->pending == NULL)
		return;
	if (drop->error != NULL)
		error = drop->error;
	ipam_shared_done(error, drop->pending);
	drop->pending = NULL;
}

/* The drop is over: answer, let joins of the name go on, free it. */
static void
ipam_drop_finish(struct ipam_drop *drop, const char *error)
{
	struct ipam_shared	*sh;

	ipam_drop_answer(drop, error);
	if ((sh = ipam_drop_shared(drop)) != NULL)
		sh->dropping = 0;
	if (drop->retry != NULL)
		event_free(drop->retry);
	free(drop->key);
	free(drop->pool_id);
	free(drop->error);
	free(drop);
}

/* Forget the pool (and its name) here; from_store: delete its prefix claim. */
static void
ipam_drop_forget(struct ipam_drop *drop, int from_store)
{
	struct ipam_pool_entry	*p;
	struct ipam_shared	*sh;

	if ((p = ipam_pool_find(drop->pool_id)) != NULL) {
		ipam_pool_unlink(p, from_store);
		ipam_pool_entry_free(p);
	}
	if ((sh = ipam_shared_get(drop->key, 0)) != NULL &&
	    sh->pool_id != NULL && strcmp(sh->pool_id, drop->pool_id) == 0)
		ipam_shared_free(sh);
}

/* Start dropping pool_id (named key) at step; error: the failure undone. */
static void
ipam_drop_start(struct ipam_pending *pending, const char *key,
    const char *pool_id, const char *error, enum ipam_drop_step step,
    int name_ours)
{
	struct ipam_drop	*drop;
	struct ipam_shared	*sh;
	char			*refkey;

	drop = xcalloc(1, sizeof *drop);
	drop->pending = pending;
	drop->key = xstrdup(key);
	drop->pool_id = xstrdup(pool_id);
	drop->error = error != NULL ? xstrdup(error) : NULL;
	drop->name_ours = name_ours;
	/* A RequestPool of the name waits for the end (ipam_shared_wait). */
	if ((sh = ipam_drop_shared(drop)) != NULL)
		sh->dropping = 1;
	/* What is left is undone here, not by plugin_pending_done. */
	pending->base.undo = NULL;
	pending->pool = NULL;
	if (error != NULL)
		log_warnx("ipam: network %s: store: %s; undoing pool %s", key,
		    error, pool_id);
	switch (step) {
	case IPAM_DROP_REF:
		xasprintf(&refkey, "%s %s", key, ipam.host);
		store_del(ipam.store, IPAM_KIND_SHARED_REF, refkey,
		    ipam_drop_ref_deleted, drop);
		free(refkey);
		break;
	case IPAM_DROP_NAME:
		ipam_drop_name(drop);
		break;
	case IPAM_DROP_POOL:
		ipam_drop_pool(drop);
		break;
	}
}

/* This host's reference is gone: the name next, unless referenced. */
static void
ipam_drop_ref_deleted(const char *error, void *arg)
{
	struct ipam_drop	*drop = arg;
	struct ipam_shared	*sh;

	if (error != NULL) {
		/*
		 * The reference may still be there: keep everything, and a
		 * ReleasePool that fails so counts again for Docker's retry.
		 */
		if (drop->error == NULL &&
		    (sh = ipam_shared_get(drop->key, 0)) != NULL &&
		    sh->pool_id != NULL && strcmp(sh->pool_id, drop->pool_id) == 0 &&
		    sh->nlocal == 0) {
			sh->nlocal = 1;
			ipam_shared_add_host(sh, ipam.host);
		}
		ipam_drop_finish(drop, error);
		return;
	}
	ipam_drop_name(drop);
}

/* Delete the name unless a host's reference remains. */
static void
ipam_drop_name(struct ipam_drop *drop)
{
	char	*prefix;

	xasprintf(&prefix, "%s ", drop->key);
	/*
	 * A name whose insert failed may or may not have been written; if
	 * another host wrote it (after our insert failed), it is theirs and
	 * stays (mine).
	 */
	store_del_unless(ipam.store, IPAM_KIND_SHARED, drop->key,
	    IPAM_KIND_SHARED_REF, prefix, !drop->name_ours, ipam_drop_name_done,
	    drop);
	free(prefix);
}

/*
 * The name's answer.  Deleted by us: the pool record goes next.  Another
 * host's reference remains: they keep the pool (and so does this host's
 * view).  Already gone: another host deleted it and deletes the pool, unless
 * the name was never this pool's (its insert failed), when the pool is ours
 * alone to delete.
 */
static void
ipam_drop_name_done(const char *error, void *arg)
{
	struct ipam_drop	*drop = arg;
	struct ipam_shared	*sh;

	if (error == NULL || (store_error_absent(error) && !drop->name_ours)) {
		if (error == NULL)
			log_info("ipam: network %s: the last reference went; "
			    "pool %s goes", drop->key, drop->pool_id);
		ipam_drop_pool(drop);
		return;
	}
	if (store_error_exists(error)) {
		log_info("ipam: network %s let go here; other host(s) keep "
		    "pool %s", drop->key, drop->pool_id);
		if (!drop->name_ours &&
		    (sh = ipam_shared_get(drop->key, 1))->pool_id == NULL) {
			/* Our failed insert was written after all, and
			 * joined: this host must know the name is this pool. */
			sh->pool_id = xstrdup(drop->pool_id);
			free(sh->tag);
			sh->tag = xstrdup(drop->pending->shared_tag != NULL ?
			    drop->pending->shared_tag : "");
		}
		ipam_drop_finish(drop, NULL);
		return;
	}
	if (store_error_absent(error)) {
		log_info("ipam: network %s: another host released it last",
		    drop->key);
		ipam_drop_forget(drop, 0);
		ipam_drop_finish(drop, NULL);
		return;
	}
	/* Unknown: the name may still be there, and so stays its pool. */
	ipam_drop_finish(drop, error);
}

/* Delete the pool record (harmless when repeated: its PoolID is unique). */
static void
ipam_drop_pool(struct ipam_drop *drop)
{
	store_del(ipam.store, IPAM_KIND_POOL, drop->pool_id,
	    ipam_drop_pool_deleted, drop);
}

/* Time to try the pool record's delete again. */
static void
ipam_drop_pool_retry(evutil_socket_t fd, short events, void *arg)
{
	ipam_drop_pool(arg);
}

/*
 * The pool record is gone (addresses without it are ignored): its prefix is
 * free again, in the store too.  Failed: no name holds the pool any more and
 * no ReleasePool will come for it (Docker had its answer), so the delete is
 * tried again, 1 s then doubling to 30 s, until it is done; the request is
 * answered now (a release's name is gone: it is done as far as Docker goes).
 */
static void
ipam_drop_pool_deleted(const char *error, void *arg)
{
	struct ipam_drop	*drop = arg;
	struct timeval		 tv;

	if (error != NULL) {
		drop->backoff = drop->backoff == 0 ? IPAM_DROP_BACKOFF_MIN :
		    drop->backoff * 2;
		if (drop->backoff > IPAM_DROP_BACKOFF_MAX)
			drop->backoff = IPAM_DROP_BACKOFF_MAX;
		log_warnx("ipam: pool %s: store: %s; deleting it again in %d s",
		    drop->pool_id, error, drop->backoff);
		ipam_drop_answer(drop, NULL);
		if (drop->retry == NULL)
			drop->retry = evtimer_new(ipam.base,
			    ipam_drop_pool_retry, drop);
		tv.tv_sec = drop->backoff;
		tv.tv_usec = 0;
		evtimer_add(drop->retry, &tv);
		return;
	}
	log_info("ipam: pool %s released", drop->pool_id);
	ipam_drop_forget(drop, 1);
	ipam_drop_finish(drop, NULL);
}

static void	ipam_shared_wait(struct ipam_pending *);

/*
 * A join's reference answered.  Failed: Docker never uses the pool, so this
 * host's count goes back, and with its last network the reference too.
 */
static void
ipam_shared_joined(const char *error, void *arg)
{
	struct ipam_pending	*pending = arg;
	struct ipam_shared	*sh;

	if (error == NULL || (sh = ipam_shared_get(pending->shared_key, 0)) ==
	    NULL || sh->pool_id == NULL || sh->nlocal == 0) {
		ipam_shared_done(error, arg);
		return;
	}
	if (--sh->nlocal > 0) {
		ipam_shared_put_ref(sh, NULL, NULL);
		ipam_shared_done(error, arg);
		return;
	}
	ipam_shared_del_host(sh, ipam.host);
	ipam_drop_start(pending, sh->key, sh->pool_id, error, IPAM_DROP_REF, 1);
}

/*
 * Join a named pool that exists: same tag (and the same subnet when one is
 * asked for), then this host's reference, and Docker gets the same pool.
 */
static void
ipam_shared_join(struct ipam_pending *pending, struct ipam_shared *sh)
{
	struct ipam_pool_entry	*p;
	char			 pbuf[PREFIX_STRLEN], *msg;

	if ((p = ipam_pool_find(sh->pool_id)) == NULL) {
		/* The record came first; its pool follows on the same poll. */
		ipam_shared_wait(pending);
		return;
	}
	prefix_format(&p->prefix, 1, pbuf, sizeof pbuf);
	if (strcmp(sh->tag, pending->shared_tag) != 0 ||
	    (pending->shared_want.len != 0 &&
	    !prefix_equal(&pending->shared_want, &p->prefix))) {
		xasprintf(&msg, "IpamDriver: network %s exists in the cluster "
		    "with tag \"%s\" and subnet %s, not as asked", sh->key,
		    sh->tag, pbuf);
		ipam_shared_fail(pending, 409, msg);
		free(msg);
		return;
	}
	free(pending->base.reply);
	xasprintf(&pending->base.reply, "{\"PoolID\":\"%s\",\"Pool\":\"%s\","
	    "\"Data\":{}}", p->id, pbuf);
	log_info("ipam: pool %s joined as network %s", p->id, sh->key);
	ipam_shared_add_host(sh, ipam.host);
	sh->nlocal++;
	ipam_shared_put_ref(sh, ipam_shared_joined, pending);
}

/*
 * A drop of the name has ended while this RequestPool waited: ask again from
 * the start (the name may be gone, kept by other hosts, or kept here), with
 * the request as Docker sent it.
 */
static void
ipam_shared_restart(struct ipam_pending *pending)
{
	struct http_request	*req = pending->base.req;

	free(pending->shared_key);
	free(pending->shared_tag);
	free(pending->made_id);
	if (pending->wait != NULL)
		event_free(pending->wait);
	free(pending->base.reply);
	free(pending);
	if (req == NULL)
		return;		/* Docker went away meanwhile */
	http_request_set_cleanup(req, NULL, NULL);
	log_debug("ipam: a named pool's drop ended; asking again");
	plugin_ipam_request_pool(req, NULL);
}

/* Time to look again for another host's named pool. */
static void
ipam_shared_retry(evutil_socket_t fd, short events, void *arg)
{
	struct ipam_pending	*pending = arg;
	struct ipam_shared	*sh;

	sh = ipam_shared_get(pending->shared_key, 0);
	if (sh != NULL && sh->dropping)
		ipam_shared_wait(pending);
	else if (pending->restart)
		ipam_shared_restart(pending);
	else if (sh != NULL && sh->pool_id != NULL)
		ipam_shared_join(pending, sh);
	else
		ipam_shared_wait(pending);
}

/*
 * Another host holds the name, but its records have not reached this host
 * yet (they come with the store's next poll or notification): wait a little.
 */
static void
ipam_shared_wait(struct ipam_pending *pending)
{
	struct timeval	tv = { 0, IPAM_SHARED_WAIT_MS * 1000 };
	char		*msg;

	if (pending->waits++ >= IPAM_SHARED_WAITS) {
		xasprintf(&msg, "IpamDriver: network %s belongs to another host "
		    "whose pool has not reached this one", pending->shared_key);
		ipam_shared_fail(pending, 503, msg);
		free(msg);
		return;
	}
	if (pending->wait == NULL)
		pending->wait = evtimer_new(ipam.base, ipam_shared_retry,
		    pending);
	evtimer_add(pending->wait, &tv);
}

/* Whether a pool entry is still in the list (it may be released meanwhile). */
static int
ipam_pool_live(const struct ipam_pool_entry *p)
{
	struct ipam_pool_entry	*q;

	TAILQ_FOREACH(q, &ipam.pools, entry)
		if (q == p)
			return (1);
	return (0);
}

/*
 * The name record answered.  Ours: the pool is the name's, and this host's
 * reference (written first) holds it.  Another host won the name meanwhile:
 * give our prefix back and join theirs.  Failed: the name may or may not have
 * been written, so our reference goes, then the name unless referenced, then
 * the pool record.
 */
static void
ipam_shared_inserted(const char *error, void *arg)
{
	struct ipam_pending	*pending = arg;
	struct ipam_pool_entry	*p = pending->pool;
	struct ipam_shared	*sh;
	char			*refkey;

	if (error == NULL && !ipam_pool_live(p)) {
		/*
		 * Cannot happen while our reference holds the name, but if it
		 * does the PoolID is dead: no success with it, and nothing of
		 * ours left behind (the entry is gone, so no undo either).
		 */
		pending->base.undo = NULL;
		pending->pool = NULL;
		ipam_drop_start(pending, pending->shared_key, pending->made_id,
		    "the pool went while it was named", IPAM_DROP_REF, 1);
		return;
	}
	if (error == NULL) {
		sh = ipam_shared_get(pending->shared_key, 1);
		free(sh->pool_id);
		free(sh->tag);
		sh->pool_id = xstrdup(p->id);
		sh->tag = xstrdup(pending->shared_tag);
		ipam_shared_add_host(sh, ipam.host);
		sh->nlocal++;
		ipam_shared_done(NULL, pending);
		return;
	}
	if (!store_error_exists(error)) {
		ipam_drop_start(pending, pending->shared_key, p->id, error,
		    IPAM_DROP_REF, 0);
		return;
	}
	log_info("ipam: network %s was created by another host first; joining",
	    pending->shared_key);
	store_del(ipam.store, IPAM_KIND_POOL, p->id, NULL, NULL);
	/* The prefix goes back (and its claim) unless a swarm twin holds it. */
	ipam_pool_unlink(p, 1);
	ipam_pool_entry_free(p);
	pending->pool = NULL;
	pending->base.undo = NULL;
	sh = ipam_shared_get(pending->shared_key, 0);
	if (sh == NULL || sh->nlocal == 0) {
		/* The reference written for our pool goes; a join writes one. */
		xasprintf(&refkey, "%s %s", pending->shared_key, ipam.host);
		store_del(ipam.store, IPAM_KIND_SHARED_REF, refkey, NULL, NULL);
		free(refkey);
	}
	if (sh != NULL && sh->pool_id != NULL)
		ipam_shared_join(pending, sh);
	else
		ipam_shared_wait(pending);
}

/*
 * This host's reference to the name it makes answered (written before the
 * name, so the name never exists unreferenced: another host's last release
 * cannot delete it under us).  Now claim the name.  Failed: the reference
 * goes again, then the pool record (the name was never tried).
 */
static void
ipam_shared_ref_first(const char *error, void *arg)
{
	struct ipam_pending	*pending = arg;
	const unsigned char	*buf;
	size_t			 len;
	yajl_gen		 g;

	/* Nobody else knows the pool yet, but should it go, it is not named. */
	if (error == NULL && !ipam_pool_live(pending->pool))
		error = "the pool went before it was named";
	if (error != NULL) {
		ipam_drop_start(pending, pending->shared_key, pending->made_id,
		    error, IPAM_DROP_REF, 0);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "pool", pending->made_id);
	json_gen_string(g, "tag", pending->shared_tag);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	store_insert(ipam.store, IPAM_KIND_SHARED, pending->shared_key, buf,
	    len, ipam_shared_inserted, pending);
	yajl_gen_free(g);
}

/* A new named pool's record is durable: this host's reference, then the name. */
static void
ipam_shared_pool_stored(const char *error, void *arg)
{
	struct ipam_pending	*pending = arg;
	struct ipam_shared	*sh;

	if (error != NULL) {
		/* The record may have been written all the same. */
		ipam_drop_start(pending, pending->shared_key, pending->pool->id,
		    error, IPAM_DROP_POOL, 0);
		return;
	}
	free(pending->made_id);
	pending->made_id = xstrdup(pending->pool->id);
	sh = ipam_shared_get(pending->shared_key, 0);
	ipam_shared_put_count(pending->shared_key, (sh != NULL ? sh->nlocal :
	    0) + 1, ipam_shared_ref_first, pending);
}

static void	ipam_pool_claimed(const char *, void *);

/* The reply a pending RequestPool gives once p is durable. */
static void
ipam_pool_reply(struct ipam_pending *pending, struct ipam_pool_entry *p)
{
	char	pbuf[PREFIX_STRLEN];

	free(pending->base.reply);
	xasprintf(&pending->base.reply, "{\"PoolID\":\"%s\",\"Pool\":\"%s\","
	    "\"Data\":{}}", p->id, prefix_format(&p->prefix, 1, pbuf,
	    sizeof pbuf));
	pending->pool = p;
}

/* Record a pool (its prefix claimed already), then reply. */
static void
ipam_pool_store(struct ipam_pending *pending, struct ipam_pool_entry *p)
{
	char	*record;

	record = ipam_pool_record(p);
	store_put(ipam.store, IPAM_KIND_POOL, p->id, record, strlen(record),
	    pending->shared_key != NULL ? ipam_shared_pool_stored :
	    plugin_pending_done, pending);
	free(record);
}

/*
 * Claim a new pool's prefix with store_insert before recording the pool: with
 * a store shared by several hosts, only one of them gets a prefix.
 */
static void
ipam_pool_claim_prefix(struct ipam_pending *pending, struct ipam_pool_entry *p)
{
	char	pbuf[PREFIX_STRLEN];

	ipam_pool_reply(pending, p);
	prefix_format(&p->prefix, 1, pbuf, sizeof pbuf);
	store_insert(ipam.store, IPAM_KIND_NET, pbuf, p->id, strlen(p->id),
	    ipam_pool_claimed, pending);
}

/*
 * The prefix claim answered.  Ours: record the pool, then reply.  Another
 * host's: the prefix stays taken in the scope here, and a pool asked for by
 * tag moves on to the next free one; an explicit subnet is refused.
 */
static void
ipam_pool_claimed(const char *error, void *arg)
{
	struct ipam_pending	*pending = arg;
	struct ipam_pool_entry	*p = pending->pool, *next;
	struct ipam_space	*space = NULL;
	struct prefix		 want;
	char			*msg = NULL, pbuf[PREFIX_STRLEN];
	int			 code = 409;

	if (error == NULL) {
		ipam_pool_store(pending, p);
		return;
	}
	if (!store_error_exists(error)) {
		ipam_shared_done(error, arg);
		return;
	}
	prefix_format(&p->prefix, 1, pbuf, sizeof pbuf);
	TAILQ_REMOVE(&ipam.pools, p, entry);
	if (p->scope != NULL)
		space = schema_scope_space(p->scope, p->prefix.family);
	if (pending->automatic && pending->base.req != NULL && space != NULL &&
	    ipam_space_alloc(space, &want) == 0) {
		log_info("ipam: %s went to another host first; trying the next",
		    pbuf);
		next = ipam_pool_entry_new(p->scope, p->scope_path, &want, NULL);
		next->global = p->global;
		TAILQ_INSERT_TAIL(&ipam.pools, next, entry);
		ipam_pool_entry_free(p);
		ipam_pool_claim_prefix(pending, next);
		return;
	}
	if (pending->automatic) {
		code = 507;
		xasprintf(&msg, "IpamDriver: scope %s is exhausted: every network "
		    "in it is allocated (the last by another host)", p->scope_path);
	} else
		xasprintf(&msg, "IpamDriver: %s overlaps a network another host "
		    "allocated in scope %s", pbuf, p->scope_path);
	ipam_shared_fail(pending, code, msg);
	ipam_pool_entry_free(p);
	free(msg);
}

/*
 * IpamDriver.RequestPool: by tag (IPAM option netcrave.tag), else the scope
 * holding an explicit Pool, else the default tag's scope.  With the IPAM option
 * netcrave.network=NAME the pool is NAME's across the cluster: the one another
 * host made for NAME (same tag) is joined, else a new one is made and named.
 */
void
plugin_ipam_request_pool(struct http_request *req, void *arg)
{
	struct json		*doc;
	const struct json	*options;
	struct schema_scope	*scope = NULL;
	struct ipam_space	*space;
	struct ipam_pool_entry	*p, *twin = NULL;
	struct ipam_pending	*pending;
	struct prefix		 want, range, *rangep = NULL;
	struct ipam_shared	*sh;
	const char		*tag, *pool_text, *range_text, *name, *space_name;
	char			 perr[160], pbuf[PREFIX_STRLEN], *skey = NULL;
	int			 v6 = 0, family, explicit, global;
	const struct prefix	*scope_prefix;

	if (ipam_not_ready(req))
		return;

	if (plugin_body(req, &doc) == -1)
		return;
	if (doc == NULL) {
		plugin_bad_request(req, "empty request");
		return;
	}
	json_get_bool(doc, "V6", &v6);
	family = v6 ? AF_INET6 : AF_INET;
	options = json_get(doc, "Options");
	tag = options != NULL ? json_get_string(options, "netcrave.tag") : NULL;
	name = options != NULL ? json_get_string(options, IPAM_NETWORK_OPTION) :
	    NULL;
	pool_text = json_get_string(doc, "Pool");
	range_text = json_get_string(doc, "SubPool");
	explicit = pool_text != NULL && *pool_text != '\0';
	space_name = json_get_string(doc, "AddressSpace");
	global = space_name != NULL && strcmp(space_name, IPAM_SPACE_GLOBAL) == 0;

	if (explicit) {
		if (prefix_parse(pool_text, 1, &want, perr, sizeof perr) == -1) {
			plugin_fail(req, 400, "Pool %s",
			    perr);
			goto out;
		}
		if (want.family != family) {
			plugin_fail(req, 400, "%s is not "
			    "an IPv%d prefix", pool_text, v6 ? 6 : 4);
			goto out;
		}
	}
	if (range_text != NULL && *range_text != '\0') {
		if (!explicit) {
			plugin_fail(req, 400, "an "
			    "--ip-range needs an explicit --subnet");
			goto out;
		}
		if (prefix_parse(range_text, 1, &range, perr, sizeof perr) == -1 ||
		    !prefix_contains(&want, &range)) {
			plugin_fail(req, 400, "the "
			    "--ip-range %s must be a prefix inside %s", range_text,
			    pool_text);
			goto out;
		}
		rangep = &range;
	}

	if (tag != NULL && *tag != '\0') {
		if ((scope = schema_find_tag(ipam.schema, tag)) == NULL) {
			plugin_fail(req, 404, "unknown "
			    "tag \"%s\": the schema defines %s", tag,
			    schema_tag_list(ipam.schema));
			goto out;
		}
	} else if (explicit) {
		if ((scope = schema_find_containing(ipam.schema, &want)) == NULL) {
			plugin_fail(req, 403, "%s is "
			    "outside the address schema: no scope hands out "
			    "networks there", pool_text);
			goto out;
		}
	} else if ((scope = schema_find_tag(ipam.schema, ipam.default_tag)) ==
	    NULL) {
		plugin_fail(req, 404, "no tag given and "
		    "the default tag \"%s\" names no scope", ipam.default_tag);
		goto out;
	}
	if ((space = schema_scope_space(scope, family)) == NULL) {
		plugin_fail(req, 403, "scope %s hands out "
		    "no IPv%d networks", schema_scope_path(scope), v6 ? 6 : 4);
		goto out;
	}
	if (name != NULL && *name != '\0' && global) {
		/* A swarm network spans the swarm already; and each node asks
		 * for the manager's pool again, which must become its twin. */
		plugin_fail(req, 400, "%s is for networks spanning hosts without "
		    "swarm; a swarm network needs no name", IPAM_NETWORK_OPTION);
		goto out;
	}
	if (name != NULL && *name != '\0') {
		if (strlen(name) > 255) {
			plugin_fail(req, 400, "network name too long");
			goto out;
		}
		xasprintf(&skey, "%s/%d", name, v6 ? 6 : 4);
		if ((sh = ipam_shared_get(skey, 0)) != NULL && sh->pool_id != NULL) {
			pending = ipam_pending_new(req, NULL);
			pending->shared_key = skey;
			pending->shared_tag = xstrdup(tag != NULL ? tag :
			    explicit ? "" : ipam.default_tag);
			if (explicit)
				pending->shared_want = want;
			skey = NULL;
			if (sh->dropping) {
				/* Its last release here runs: wait for the
				 * outcome, then ask afresh (ipam_shared_retry). */
				pending->restart = 1;
				ipam_shared_wait(pending);
			} else
				ipam_shared_join(pending, sh);
			goto out;
		}
	}
	scope_prefix = schema_scope_prefix(scope, family);
	if (explicit) {
		if (!prefix_contains(scope_prefix, &want)) {
			plugin_fail(req, 403, "%s is not "
			    "inside scope %s (%s)", pool_text,
			    schema_scope_path(scope),
			    prefix_format(scope_prefix, 1, pbuf, sizeof pbuf));
			goto out;
		}
		/* A swarm node's own request comes in the local space. */
		TAILQ_FOREACH(twin, &ipam.pools, entry)
			if (twin->global && prefix_equal(&twin->prefix, &want))
				break;
		/*
		 * This host's dockerd builds a swarm network once, so a swarm
		 * pool has at most one local twin: a later local request is a
		 * local network's --subnet naming the swarm pool, refused as
		 * any overlap is.  (A request in the global space is the
		 * manager's again, after its restart: still a twin.)
		 */
		if (twin != NULL && !global && ipam_local_twin(twin) != NULL)
			twin = NULL;
		if (twin == NULL && ipam_space_claim(space, &want) == -1) {
			plugin_fail(req, 409, "%s overlaps "
			    "a network already allocated in scope %s", pool_text,
			    schema_scope_path(scope));
			goto out;
		}
	} else if (ipam_space_alloc(space, &want) == -1) {
		plugin_fail(req, 507, "scope %s (%s) is "
		    "exhausted: every /%u network in it is allocated",
		    schema_scope_path(scope),
		    prefix_format(scope_prefix, 1, pbuf, sizeof pbuf),
		    schema_scope_network_len(scope, family));
		goto out;
	}

	p = ipam_pool_entry_new(scope, schema_scope_path(scope), &want, rangep);
	p->global = global;
	TAILQ_INSERT_TAIL(&ipam.pools, p, entry);
	pending = ipam_pending_new(req, NULL);
	pending->base.undo = ipam_undo_pool;
	pending->automatic = !explicit;
	if (skey != NULL) {
		pending->shared_key = skey;
		pending->shared_tag = xstrdup(tag != NULL ? tag : explicit ? "" :
		    ipam.default_tag);
		if (explicit)
			pending->shared_want = want;
		skey = NULL;
	}
	if (twin != NULL) {
		/* The prefix is claimed already (in the store too): record. */
		log_info("ipam: pool %s, twin of swarm pool %s", p->id, twin->id);
		ipam_pool_reply(pending, p);
		ipam_pool_store(pending, p);
		goto out;
	}
	log_info("ipam: pool %s from scope %s%s%s%s", p->id, p->scope_path,
	    tag != NULL ? " for tag " : "", tag != NULL ? tag : "",
	    global ? " (global)" : "");
	ipam_pool_claim_prefix(pending, p);
out:
	free(skey);
	json_free(doc);
}

/* The store key of an address record: "<PoolID> <address>". */
static char *
ipam_address_key(const struct ipam_pool_entry *p, const struct prefix *addr)
{
	char	 buf[PREFIX_STRLEN], *key;

	xasprintf(&key, "%s %s", p->id, prefix_format(addr, 0, buf, sizeof buf));
	return (key);
}

/*
 * IpamDriver.ReleasePool: forget the pool and its addresses; idempotent.  A
 * named pool only loses this host's reference while other hosts hold one.
 */
void
plugin_ipam_release_pool(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct ipam_pool_entry	*p;
	struct ipam_shared	*sh;
	const char		*id;

	if ((id = ipam_body_pool_id(req, &doc)) == NULL)
		return;
	if ((p = ipam_pool_find(id)) == NULL) {
		/* dockerd releases pools it made before a restart: done. */
		log_debug("ipam: release of unknown pool %s", id);
		plugin_reply_json(req, "{}");
		json_free(doc);
		return;
	}
	if ((sh = ipam_shared_by_pool(p->id)) != NULL) {
		/* A named pool: this host's reference goes first. */
		if (sh->nlocal == 0) {
			/* Not this host's (or being dropped already). */
			plugin_reply_json(req, "{}");
			json_free(doc);
			return;
		}
		if (sh->nlocal > 1) {
			/* Another network of this host still uses it. */
			sh->nlocal--;
			ipam_shared_put_ref(sh, plugin_pending_done,
			    ipam_pending_new(req, xstrdup("{}")));
			json_free(doc);
			return;
		}
		/*
		 * Its last network here: the reference goes, then, unless
		 * another host's remains (asked of the store, not of what
		 * this host heard: two hosts releasing at once each still
		 * hear of the other's), the name and the pool.
		 */
		sh->nlocal = 0;
		ipam_shared_del_host(sh, ipam.host);
		ipam_drop_start(ipam_pending_new(req, xstrdup("{}")), sh->key,
		    p->id, NULL, IPAM_DROP_REF, 1);
		json_free(doc);
		return;
	}
	log_info("ipam: pool %s released", p->id);
	/* The pool record goes first: addresses without it are ignored. */
	store_del(ipam.store, IPAM_KIND_POOL, p->id, plugin_pending_done,
	    ipam_pending_new(req, xstrdup("{}")));
	/* Then the prefix is free for every host again (once no twin holds it). */
	ipam_pool_unlink(p, 1);
	ipam_pool_entry_free(p);
	json_free(doc);
}

/* Undo a RequestAddress whose record did not become durable. */
static void
ipam_undo_address(struct plugin_pending *base)
{
	struct ipam_pending	*pending = (struct ipam_pending *)base;
	struct ipam_pool_entry	*p;

	/* The pool may have been released meanwhile. */
	TAILQ_FOREACH(p, &ipam.pools, entry) {
		if (p != pending->pool)
			continue;
		ipam_pool_release(p->pool, &pending->addr);
		if (p->range != NULL)
			ipam_pool_release(p->range, &pending->addr);
	}
}

static int	ipam_next_own_address(struct ipam_pool_entry *, struct prefix *);

/* Whether a swarm twin of p holds addr. */
static int
ipam_twin_holds(const struct ipam_pool_entry *p, const struct prefix *addr)
{
	struct ipam_pool_entry	*t;

	TAILQ_FOREACH(t, &ipam.pools, entry)
		if (t != p && prefix_equal(&t->prefix, &p->prefix) &&
		    ipam_pool_is_allocated(t->pool, addr))
			return (1);
	return (0);
}

/*
 * Next free address of a pool, also free in its swarm twins (a manager asking
 * for a new task's address must not get one a node holds).  Addresses a twin
 * holds are taken here while looking, then given back.
 */
static int
ipam_next_address(struct ipam_pool_entry *p, struct prefix *out)
{
	struct prefix	*skipped = NULL;
	size_t		 nskipped = 0, i;
	int		 rc;

	if (ipam_pool_twin(p) == NULL)
		return (ipam_next_own_address(p, out));
	while ((rc = ipam_next_own_address(p, out)) == 0 &&
	    ipam_twin_holds(p, out)) {
		skipped = xreallocarray(skipped, nskipped + 1, sizeof *skipped);
		skipped[nskipped++] = *out;
	}
	for (i = 0; i < nskipped; i++) {
		ipam_pool_release(p->pool, &skipped[i]);
		if (p->range != NULL)
			ipam_pool_release(p->range, &skipped[i]);
	}
	free(skipped);
	return (rc);
}

/* Next free address of a pool, from its --ip-range when it has one. */
static int
ipam_next_own_address(struct ipam_pool_entry *p, struct prefix *out)
{
	size_t	tries;

	if (p->range == NULL)
		return (ipam_pool_alloc(p->pool, out));
	for (tries = ipam_pool_count(p->range) + 1; tries > 0; tries--) {
		if (ipam_pool_alloc(p->range, out) == -1)
			return (-1);
		/* Taken exactly (--ip, --gateway) before: stays taken in range. */
		if (ipam_pool_claim(p->pool, out) == 0)
			return (0);
	}
	return (-1);
}

static void	ipam_address_done(const char *, void *);

/*
 * Record an address (already taken in memory) with store_insert: with a store
 * shared by several hosts, the database decides who gets an address, and a
 * loser learns it through ipam_address_done.
 */
static void
ipam_address_insert(struct ipam_pending *pending, const struct prefix *addr)
{
	struct prefix	 shown = *addr;
	char		 buf[PREFIX_STRLEN], *key;

	shown.len = pending->pool->prefix.len;
	free(pending->base.reply);
	xasprintf(&pending->base.reply, "{\"Address\":\"%s\",\"Data\":{}}",
	    prefix_format(&shown, 1, buf, sizeof buf));
	pending->addr = *addr;
	pending->addr.len = prefix_bits(addr->family);
	key = ipam_address_key(pending->pool, &pending->addr);
	log_debug("ipam: address %s", key);
	store_insert(ipam.store, IPAM_KIND_ADDRESS, key, "{}", 2,
	    ipam_address_done, pending);
	free(key);
}

/*
 * The store answered an address insert.  "Exists" means another host took
 * the address first: it stays taken here too, and a next-free request moves
 * on to the next address; an explicit one is refused like any taken address.
 */
static void
ipam_address_done(const char *error, void *arg)
{
	struct ipam_pending	*pending = arg;
	struct ipam_pool_entry	*p = pending->pool;
	struct prefix		 addr;
	char			 buf[PREFIX_STRLEN], *msg = NULL;
	int			 code = 409;

	if (!store_error_exists(error)) {
		plugin_pending_done(error, arg);
		return;
	}
	if (!ipam_pool_live(p))
		xasprintf(&msg, "IpamDriver: the pool was released meanwhile");
	else if (!pending->automatic)
		xasprintf(&msg, "IpamDriver: address %s is already in use (by "
		    "another host) in pool %s", prefix_format(&pending->addr, 0,
		    buf, sizeof buf), p->id);
	else if (pending->base.req != NULL && ipam_next_address(p, &addr) == -1) {
		code = 507;
		xasprintf(&msg, "IpamDriver: pool %s is full", p->id);
	} else if (pending->base.req != NULL) {
		log_info("ipam: %s in pool %s went to another host first; "
		    "trying the next", prefix_format(&pending->addr, 0, buf,
		    sizeof buf), p->id);
		ipam_address_insert(pending, &addr);
		return;
	}
	plugin_pending_fail(&pending->base, code, msg);
	free(msg);
}

/* IpamDriver.RequestAddress: the exact address asked for, or the next free. */
void
plugin_ipam_request_address(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct ipam_pool_entry	*p;
	struct ipam_pending	*pending;
	struct prefix		 addr;
	const char		*id, *want;
	char			 perr[160], pbuf[PREFIX_STRLEN];

	if ((id = ipam_body_pool_id(req, &doc)) == NULL)
		return;
	if ((p = ipam_pool_find(id)) == NULL) {
		plugin_fail(req, 404, "unknown pool %s", id);
		goto out;
	}
	want = json_get_string(doc, "Address");
	if (want != NULL && *want != '\0') {
		if (prefix_parse(want, 0, &addr, perr, sizeof perr) == -1 ||
		    addr.len != prefix_bits(addr.family)) {
			plugin_fail(req, 400, "%s is "
			    "not an address", want);
			goto out;
		}
		if (!prefix_contains(&p->prefix, &addr)) {
			plugin_fail(req, 403, "%s is "
			    "not inside pool %s", want,
			    prefix_format(&p->prefix, 1, pbuf, sizeof pbuf));
			goto out;
		}
		if (ipam_pool_claim(p->pool, &addr) == -1) {
			plugin_fail(req, 409, "address "
			    "%s is already in use (or reserved) in pool %s", want,
			    prefix_format(&p->prefix, 1, pbuf, sizeof pbuf));
			goto out;
		}
		if (p->range != NULL && prefix_contains(ipam_pool_prefix(p->range),
		    &addr))
			ipam_pool_claim(p->range, &addr);
	} else if (ipam_next_address(p, &addr) == -1) {
		plugin_fail(req, 507, "pool %s is full",
		    p->id);
		goto out;
	}

	pending = ipam_pending_new(req, NULL);
	pending->base.undo = ipam_undo_address;
	pending->pool = p;
	pending->automatic = want == NULL || *want == '\0';
	ipam_address_insert(pending, &addr);
out:
	json_free(doc);
}

/* IpamDriver.ReleaseAddress: give an address back; idempotent. */
void
plugin_ipam_release_address(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct ipam_pool_entry	*p;
	struct prefix		 addr;
	const char		*id, *text;
	char			 perr[160], *key;

	if ((id = ipam_body_pool_id(req, &doc)) == NULL)
		return;
	if ((text = json_get_string(doc, "Address")) == NULL) {
		plugin_bad_request(req, "Address missing");
		json_free(doc);
		return;
	}
	if (prefix_parse(text, 0, &addr, perr, sizeof perr) == -1) {
		plugin_fail(req, 400, "%s", perr);
		json_free(doc);
		return;
	}
	addr.len = prefix_bits(addr.family);
	if ((p = ipam_pool_find(id)) == NULL ||
	    !ipam_pool_is_allocated(p->pool, &addr)) {
		plugin_reply_json(req, "{}");
		json_free(doc);
		return;
	}
	ipam_pool_release(p->pool, &addr);
	if (p->range != NULL)
		ipam_pool_release(p->range, &addr);
	key = ipam_address_key(p, &addr);
	store_del(ipam.store, IPAM_KIND_ADDRESS, key, plugin_pending_done,
	    ipam_pending_new(req, xstrdup("{}")));
	free(key);
	json_free(doc);
}

/* Add a choice to a list. */
static void
ipam_auto_add(struct ipam_auto **list, size_t *n, const char *key,
    const char *prefix)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[*n].key = xstrdup(key);
	(*list)[*n].prefix = xstrdup(prefix);
	(*n)++;
}

/* Free a list of choices. */
static void
ipam_auto_free(struct ipam_auto **list, size_t *n)
{
	size_t	i;

	for (i = 0; i < *n; i++) {
		free((*list)[i].key);
		free((*list)[i].prefix);
	}
	free(*list);
	*list = NULL;
	*n = 0;
}

/* A kept "auto" choice, or NULL. */
static const char *
ipam_auto_lookup(const char *key, void *arg)
{
	size_t	i;

	for (i = 0; i < ipam.nautos; i++)
		if (strcmp(ipam.autos[i].key, key) == 0)
			return (ipam.autos[i].prefix);
	return (NULL);
}

/* Report a failed write of an auto choice: it would be chosen anew next time. */
static void
ipam_auto_stored(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("ipam: keeping an auto prefix failed: %s", error);
}

/* A new choice: kept once the schema that made it is applied. */
static void
ipam_auto_record(const char *key, const char *prefix, void *arg)
{
	ipam_auto_add(&ipam.new_autos, &ipam.nnew_autos, key, prefix);
}

/* The schema that made the new choices is live: keep them, in memory and store. */
static void
ipam_auto_commit(void)
{
	size_t	i;

	for (i = 0; i < ipam.nnew_autos; i++) {
		ipam_auto_add(&ipam.autos, &ipam.nautos, ipam.new_autos[i].key,
		    ipam.new_autos[i].prefix);
		store_put(ipam.store, IPAM_KIND_AUTO, ipam.new_autos[i].key,
		    ipam.new_autos[i].prefix, strlen(ipam.new_autos[i].prefix),
		    ipam_auto_stored, NULL);
	}
	ipam_auto_free(&ipam.new_autos, &ipam.nnew_autos);
}

/* The scope with this path, or NULL. */
static struct schema_scope *
ipam_find_path(const struct schema *schema, const char *path)
{
	struct schema_scope	*s;

	for (s = schema_first(schema); s != NULL; s = schema_next(s))
		if (strcmp(schema_scope_path(s), path) == 0)
			return (s);
	return (NULL);
}

/*
 * Build a schema for conf, checked against the host as it is now (less the
 * pools netcrave handed out, which may sit on host bridges).
 */
static struct schema *
ipam_build(const struct conf *conf, char *err, size_t errlen)
{
	struct schema_auto_store	 autos;
	struct hostnet			 host;
	struct ipam_pool_entry		*p;
	struct schema			*schema;

	if (hostnet_load(&host, IPAM_RESOLV_CONF, err, errlen) == -1)
		return (NULL);
	TAILQ_FOREACH(p, &ipam.pools, entry)
		hostnet_forget(&host, &p->prefix);
	autos.lookup = ipam_auto_lookup;
	autos.record = ipam_auto_record;
	autos.arg = NULL;
	schema = schema_build(conf, &host, &autos, err, errlen);
	hostnet_free(&host);
	if (schema == NULL)
		ipam_auto_free(&ipam.new_autos, &ipam.nnew_autos);
	return (schema);
}

/* Reload one stored pool; its scope claim and addresses follow. */
static void
ipam_load_pool(const char *key, const void *value, size_t len)
{
	struct json		*doc;
	struct json_error	 jerr;
	struct ipam_pool_entry	*p;
	struct prefix		 prefix, range;
	const char		*scope_path, *pool_text, *range_text;
	char			 perr[160];

	doc = json_parse(value, len, 0, &jerr);
	if (doc == NULL || (scope_path = json_get_string(doc, "scope")) == NULL ||
	    (pool_text = json_get_string(doc, "pool")) == NULL ||
	    prefix_parse(pool_text, 1, &prefix, perr, sizeof perr) == -1) {
		log_warnx("ipam: stored pool %s is unreadable; ignored", key);
		json_free(doc);
		return;
	}
	range_text = json_get_string(doc, "range");
	if (range_text != NULL &&
	    (prefix_parse(range_text, 1, &range, perr, sizeof perr) == -1 ||
	    !prefix_contains(&prefix, &range)))
		range_text = NULL;
	p = ipam_pool_entry_new(NULL, scope_path, &prefix,
	    range_text != NULL ? &range : NULL);
	free(p->id);
	p->id = xstrdup(key);
	if (json_get_bool(doc, "global", &p->global) == -1)
		p->global = 0;
	p->scope = schema_find_containing(ipam.schema, &prefix);
	/* A swarm twin's prefix is claimed once, by whichever came first. */
	if (p->scope == NULL || strcmp(schema_scope_path(p->scope),
	    scope_path) != 0 || (ipam_pool_twin(p) == NULL &&
	    ipam_space_claim(schema_scope_space(p->scope, prefix.family),
	    &prefix) == -1)) {
		log_warnx("ipam: pool %s no longer fits scope %s; it stays in use "
		    "for Docker's existing network", p->id, scope_path);
		p->scope = NULL;
	}
	TAILQ_INSERT_TAIL(&ipam.pools, p, entry);
	json_free(doc);
}

/* Split an address record's key "<PoolID> <address>"; -1 if malformed. */
static int
ipam_address_parse(const char *key, struct ipam_pool_entry **pp,
    struct prefix *addr)
{
	const char	*space;
	char		*id, perr[160];

	if ((space = strrchr(key, ' ')) == NULL ||
	    prefix_parse(space + 1, 0, addr, perr, sizeof perr) == -1)
		return (-1);
	id = xstrndup(key, space - key);
	*pp = ipam_pool_find(id);
	free(id);
	return (0);
}

/* Reload one stored address into its pool. */
static void
ipam_load_address(const struct server_record *r)
{
	struct ipam_pool_entry	*p;
	struct prefix		 addr;

	if (ipam_address_parse(r->key, &p, &addr) == -1)
		return;
	if (p == NULL) {
		/* Its pool was released before the address record went. */
		store_del(ipam.store, IPAM_KIND_ADDRESS, r->key, NULL, NULL);
		return;
	}
	if (ipam_pool_claim(p->pool, &addr) == -1) {
		log_warnx("ipam: stored address %s cannot be claimed", r->key);
		return;
	}
	if (p->range != NULL && prefix_contains(ipam_pool_prefix(p->range), &addr))
		ipam_pool_claim(p->range, &addr);
}

/*
 * Another host (sharing the store) changed a pool or an address: follow it, so
 * this host hands out what is really free.  Uniqueness never depends on this
 * being timely: store_insert decides (ipam_address_done).
 */
static void
ipam_on_change(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	struct ipam_pool_entry	*p;
	struct ipam_shared	*sh;
	struct prefix		 addr;

	if (strcmp(kind, IPAM_KIND_ADDRESS) == 0) {
		if (ipam_address_parse(key, &p, &addr) == -1 || p == NULL)
			return;
		if (value != NULL) {
			ipam_pool_claim(p->pool, &addr);
			if (p->range != NULL && prefix_contains(
			    ipam_pool_prefix(p->range), &addr))
				ipam_pool_claim(p->range, &addr);
		} else {
			ipam_pool_release(p->pool, &addr);
			if (p->range != NULL)
				ipam_pool_release(p->range, &addr);
		}
	} else if (strcmp(kind, IPAM_KIND_SHARED) == 0) {
		if (value != NULL)
			ipam_shared_set(key, value, len);
		else if ((sh = ipam_shared_get(key, 0)) != NULL)
			ipam_shared_free(sh);
	} else if (strcmp(kind, IPAM_KIND_SHARED_REF) == 0) {
		ipam_shared_ref(key, value, len);
	} else if (strcmp(kind, IPAM_KIND_POOL) == 0) {
		p = ipam_pool_find(key);
		if (value != NULL && p == NULL) {
			ipam_load_pool(key, value, len);
			log_info("ipam: pool %s from another host", key);
		} else if (value == NULL && p != NULL) {
			log_info("ipam: pool %s released by another host", key);
			ipam_pool_unlink(p, 0);
			ipam_pool_entry_free(p);
		}
	}
}

/* Build the schema (checked against the host) and reload pools and addresses. */
static int
ipam_init(const struct server_env *env, char *err, size_t errlen)
{
	struct json		*doc;
	struct json_error	 jerr;
	const char		*text;
	struct prefix		 prefix;
	struct ipam_pool_entry	*p;
	char			 perr[160];
	size_t			 i;

	TAILQ_INIT(&ipam.pools);
	TAILQ_INIT(&ipam.shared);
	ipam.store = env->store;
	ipam.base = env->base;
	ipam.host = xstrdup(env->conf->cluster_enabled &&
	    env->conf->cluster_host_address != NULL ?
	    env->conf->cluster_host_address : "local");
	ipam.default_tag = xstrdup(env->conf->default_tag != NULL ?
	    env->conf->default_tag : "default");
	for (i = 0; i < env->nrecords; i++)
		if (strcmp(env->records[i].kind, IPAM_KIND_AUTO) == 0)
			ipam_auto_add(&ipam.autos, &ipam.nautos,
			    env->records[i].key, env->records[i].value);
	/*
	 * Pools go in first, unattached, so that the host check knows them: Docker's
	 * own bridge driver puts their gateways on the host.
	 */
	for (i = 0; i < env->nrecords; i++) {
		if (strcmp(env->records[i].kind, IPAM_KIND_POOL) != 0)
			continue;
		doc = json_parse(env->records[i].value, env->records[i].len, 0,
		    &jerr);
		if (doc != NULL && (text = json_get_string(doc, "pool")) != NULL &&
		    prefix_parse(text, 1, &prefix, perr, sizeof perr) == 0) {
			p = ipam_pool_entry_new(NULL, "", &prefix, NULL);
			TAILQ_INSERT_TAIL(&ipam.pools, p, entry);
		}
		json_free(doc);
	}
	ipam.schema = ipam_build(env->conf, err, errlen);
	while ((p = TAILQ_FIRST(&ipam.pools)) != NULL) {
		TAILQ_REMOVE(&ipam.pools, p, entry);
		ipam_pool_entry_free(p);
	}
	if (ipam.schema == NULL)
		return (-1);
	ipam_auto_commit();
	for (i = 0; i < env->nrecords; i++)
		if (strcmp(env->records[i].kind, IPAM_KIND_POOL) == 0)
			ipam_load_pool(env->records[i].key,
			    env->records[i].value, env->records[i].len);
	for (i = 0; i < env->nrecords; i++)
		if (strcmp(env->records[i].kind, IPAM_KIND_ADDRESS) == 0)
			ipam_load_address(&env->records[i]);
	for (i = 0; i < env->nrecords; i++)
		if (strcmp(env->records[i].kind, IPAM_KIND_SHARED) == 0)
			ipam_shared_set(env->records[i].key,
			    env->records[i].value, env->records[i].len);
	for (i = 0; i < env->nrecords; i++)
		if (strcmp(env->records[i].kind, IPAM_KIND_SHARED_REF) == 0)
			ipam_shared_ref(env->records[i].key,
			    env->records[i].value, env->records[i].len);
	if (store_watch(ipam.store, ipam_on_change, NULL) == -1)
		fatalx("%s: store_watch", __func__);
	log_info("ipam: schema of %s; default tag %s",
	    schema_tag_list(ipam.schema), ipam.default_tag);
	return (0);
}

/* The live schema, for the dockerd follower. */
const struct schema *
plugin_ipam_schema(void)
{
	return (ipam.schema);
}

/* The name of a named pool by its prefix (for CreateNetwork). */
int
plugin_ipam_shared_name(const struct prefix *pool, char *buf, size_t len)
{
	struct ipam_shared	*sh;
	struct ipam_pool_entry	*p;
	const char		*slash;
	struct prefix		 want = *pool;

	prefix_mask(&want);
	TAILQ_FOREACH(sh, &ipam.shared, entry) {
		if (sh->pool_id == NULL || (p = ipam_pool_find(sh->pool_id)) ==
		    NULL || !prefix_equal(&p->prefix, &want))
			continue;
		if ((slash = strrchr(sh->key, '/')) == NULL)
			continue;
		snprintf(buf, len, "%.*s", (int)(slash - sh->key), sh->key);
		return (0);
	}
	return (-1);
}

/* Every scope with its resolved prefixes, tags and how many networks it gave. */
void
plugin_ipam_gen_scopes(yajl_gen g)
{
	struct schema_scope	*s;
	const struct prefix	*p;
	struct ipam_space	*space;
	char			 buf[PREFIX_STRLEN];
	size_t			 networks;

	yajl_gen_array_open(g);
	for (s = ipam.schema != NULL ? schema_first(ipam.schema) : NULL;
	    s != NULL; s = schema_next(s)) {
		yajl_gen_map_open(g);
		json_gen_string(g, "path", schema_scope_path(s));
		p = schema_scope_prefix(s, AF_INET);
		json_gen_string(g, "ipv4", p != NULL ?
		    prefix_format(p, 1, buf, sizeof buf) : NULL);
		p = schema_scope_prefix(s, AF_INET6);
		json_gen_string(g, "ipv6", p != NULL ?
		    prefix_format(p, 1, buf, sizeof buf) : NULL);
		json_gen_strv(g, "tags", schema_scope_tags(s));
		json_gen_strv(g, "egress", schema_scope_egress(s));
		json_gen_strv(g, "ingress", schema_scope_ingress(s));
		networks = 0;
		if ((space = schema_scope_space(s, AF_INET)) != NULL)
			networks += ipam_space_count(space);
		if ((space = schema_scope_space(s, AF_INET6)) != NULL)
			networks += ipam_space_count(space);
		json_gen_int(g, "networks", (long long)networks);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

/* Every pool handed to Docker with its scope and how many addresses it gave. */
void
plugin_ipam_gen_pools(yajl_gen g)
{
	struct ipam_pool_entry	*p;
	char			 buf[PREFIX_STRLEN];

	yajl_gen_array_open(g);
	if (ipam.schema != NULL) {
		TAILQ_FOREACH(p, &ipam.pools, entry) {
			yajl_gen_map_open(g);
			json_gen_string(g, "id", p->id);
			json_gen_string(g, "pool", prefix_format(&p->prefix, 1,
			    buf, sizeof buf));
			json_gen_string(g, "range", p->range != NULL ?
			    prefix_format(ipam_pool_prefix(p->range), 1, buf,
			    sizeof buf) : NULL);
			json_gen_string(g, "scope", p->scope_path);
			json_gen_int(g, "addresses",
			    (long long)ipam_pool_count(p->pool));
			yajl_gen_map_close(g);
		}
	}
	yajl_gen_array_close(g);
}

/*
 * SIGHUP: a new schema applies live when every pool handed out still fits the
 * scope it came from (same path, inside its prefix, no overlap); otherwise the
 * reload is refused with the first pool that does not, and the old schema stays.
 */
static int
ipam_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct schema		*schema;
	struct schema_scope	*s, **scopes;
	struct ipam_space	*space;
	struct ipam_pool_entry	*p;
	char			 buf[PREFIX_STRLEN];
	size_t			 n = 0, i;

	if ((schema = ipam_build(new, err, errlen)) == NULL)
		return (-1);
	TAILQ_FOREACH(p, &ipam.pools, entry)
		n++;
	scopes = xcalloc(n + 1, sizeof *scopes);
	i = 0;
	TAILQ_FOREACH(p, &ipam.pools, entry) {
		prefix_format(&p->prefix, 1, buf, sizeof buf);
		s = ipam_find_path(schema, p->scope_path);
		if (s == NULL && p->scope != NULL) {
			snprintf(err, errlen, "scope %s cannot be removed: pool "
			    "%s is allocated in it", p->scope_path, buf);
			goto refuse;
		}
		if (s != NULL) {
			space = schema_scope_space(s, p->prefix.family);
			if (space == NULL || ipam_space_claim(space,
			    &p->prefix) == -1) {
				snprintf(err, errlen, "scope %s cannot shrink or "
				    "change: pool %s is allocated in it and would "
				    "no longer fit", p->scope_path, buf);
				goto refuse;
			}
		}
		scopes[i++] = s;
	}
	i = 0;
	TAILQ_FOREACH(p, &ipam.pools, entry)
		p->scope = scopes[i++];
	free(scopes);
	schema_free(ipam.schema);
	ipam.schema = schema;
	ipam_auto_commit();
	free(ipam.default_tag);
	ipam.default_tag = xstrdup(new->default_tag != NULL ? new->default_tag :
	    "default");
	log_info("ipam: schema reloaded: %s; default tag %s",
	    schema_tag_list(ipam.schema), ipam.default_tag);
	return (0);
refuse:
	free(scopes);
	schema_free(schema);
	ipam_auto_free(&ipam.new_autos, &ipam.nnew_autos);
	return (-1);
}

/* Drop pools and the schema. */
static void
ipam_shutdown(void)
{
	struct ipam_pool_entry	*p;

	while ((p = TAILQ_FIRST(&ipam.pools)) != NULL) {
		TAILQ_REMOVE(&ipam.pools, p, entry);
		ipam_pool_entry_free(p);
	}
	while (!TAILQ_EMPTY(&ipam.shared))
		ipam_shared_free(TAILQ_FIRST(&ipam.shared));
	free(ipam.host);
	ipam.host = NULL;
	schema_free(ipam.schema);
	ipam.schema = NULL;
	free(ipam.default_tag);
	ipam.default_tag = NULL;
	ipam_auto_free(&ipam.autos, &ipam.nautos);
}

const struct server ipam_server = {
	"ipam", ipam_init, ipam_reload, ipam_shutdown
};
