/* volume.c: Docker's VolumeDriver for netcrave.  A volume is an encrypted
 * collection of the dav store; mounting it starts one FUSE mount (vfs.c)
 * shared by every container that uses it, counted by Docker's mount IDs.
 * Volumes ("vol.volume") and mount IDs ("vol.mount", key "<name>/<id>") are
 * kept in the store, and each reply is sent once the change is durable, so a
 * restart of netcraved or dockerd finds them again.
 *
 * With cluster.host_address set and a shared store, a volume belongs to the
 * host that created it (its data is in that host's WebDAV store): its record
 * names the owner and the owner's WebDAV listener with mutual TLS, and every
 * host publishes that listener ("vol.host").  Another host lists such a
 * volume and mounts it with the FUSE client speaking to the owner over TLS
 * with a client certificate of the shared internal CA.  Only the owner
 * removes it (elsewhere Remove is refused), and not while any host holds a
 * mount ID of it. */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "ca.h"
#include "ingress.h"
#include "conf.h"
#include "control.h"
#include "dav.h"
#include "dav_store.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "plugin_private.h"
#include "server.h"
#include "store.h"
#include "util.h"
#include "vfs.h"
#include "acme.h"
#include "vol_certs.h"
#include "vol_util.h"
#include "volume.h"
#include "xmalloc.h"

#define VOL_KIND_VOLUME		"vol.volume"
#define VOL_KIND_MOUNT		"vol.mount"
#define VOL_KIND_HOST		"vol.host"	/* key host, {"dav": HOST:PORT} */
#define VOL_WRITEBACK_BYTES	(8 * 1024 * 1024)

struct volume {
	char			*name;
	enum vol_type		 type;
	char			*created;	/* RFC 3339 */
	char			*names;		/* certs: DNS names */
	char			**ids;		/* Docker mount IDs holding it */
	size_t			 nids;
	char			**rids;		/* ... on other hosts (owner) */
	size_t			 nrids;
	char			*owner;		/* another host's; NULL: ours */
	char			*owner_dav;	/* its WebDAV when created */
	int			 inserting;	/* first record not yet stored */
	char			*heard;		/* ... and another host's came */
	size_t			 heardlen;
	struct vfs		*vfs;
	time_t			 not_before;	/* certs: the current certificate */
	time_t			 not_after;
	struct event		*renew;
	int			 acme;		/* certs: issuer=acme */
	struct acme_order	*order;		/* its certificate with the CA */
	struct vol_pending	*creating;	/* Create waiting for the first */
	TAILQ_ENTRY(volume)	 entry;
};
TAILQ_HEAD(volumes, volume);

/* Another host's WebDAV listener, from its "vol.host" record. */
struct vol_host {
	char			*host;
	char			*dav;		/* HOST:PORT */
	TAILQ_ENTRY(vol_host)	 entry;
};
TAILQ_HEAD(vol_hosts, vol_host);

/* A reply waiting for the store. */
struct vol_pending {
	struct http_request	*req;		/* NULL once the client went away */
	char			*reply;
};

static void	vol_acme_register(struct volume *);
static void	vol_creating_fail(struct volume *, const char *);
static void	vol_pending_done(const char *, void *);
static void	vol_store_new(struct volume *, struct vol_pending *);
static void	vol_load_volume(const char *, const void *, size_t, int);

static struct {
	struct event_base	*base;
	struct store		*store;
	struct volumes		 list;
	char			*mount_dir;
	char			*dav_socket;
	char			*ca_dir;
	char			*instance;
	unsigned int		 cert_lifetime;	/* seconds (volume.cert_lifetime) */
	/* volume.dav_remote: the WebDAV server over mutual TLS instead of
	 * dav.socket (NULL host: the socket). */
	char			*dav_host;
	char			*dav_port;
	SSL_CTX			*dav_ssl;	/* also for other hosts' volumes */
	/* cluster.host_address (NULL: no cluster) and this host's WebDAV
	 * listener with mutual TLS as the others reach it (NULL: none). */
	char			*host;
	char			*dav_tls;
	struct vol_hosts	 hosts;		/* the others' listeners */
} vol;

static void	vol_renew_schedule(struct volume *);

static struct volume *
vol_find(const char *name)
{
	struct volume	*v;

	TAILQ_FOREACH(v, &vol.list, entry)
		if (strcmp(v->name, name) == 0)
			return (v);
	return (NULL);
}

static struct volume *
vol_add(const char *name, enum vol_type type, const char *created,
    const char *names)
{
	struct volume	*v, *at;

	v = xcalloc(1, sizeof *v);
	v->name = xstrdup(name);
	v->type = type;
	v->created = xstrdup(created);
	v->names = names != NULL ? xstrdup(names) : NULL;
	TAILQ_FOREACH(at, &vol.list, entry)
		if (strcmp(at->name, name) > 0)
			break;
	if (at != NULL)
		TAILQ_INSERT_BEFORE(at, v, entry);
	else
		TAILQ_INSERT_TAIL(&vol.list, v, entry);
	return (v);
}

static void
vol_free(struct volume *v)
{
	size_t	i;

	TAILQ_REMOVE(&vol.list, v, entry);
	acme_cert_remove(v->order);
	if (v->creating != NULL)
		vol_creating_fail(v, "the volume was removed");
	vfs_unmount(v->vfs);
	if (v->renew != NULL)
		event_free(v->renew);
	for (i = 0; i < v->nids; i++)
		free(v->ids[i]);
	free(v->ids);
	for (i = 0; i < v->nrids; i++)
		free(v->rids[i]);
	free(v->rids);
	free(v->owner);
	free(v->owner_dav);
	free(v->heard);
	free(v->name);
	free(v->created);
	free(v->names);
	free(v);
}

static char *
vol_mountpoint(const struct volume *v)
{
	char	*p;

	xasprintf(&p, "%s/%s", vol.mount_dir, v->name);
	return (p);
}

static const char *
vol_type_name(enum vol_type t)
{
	return (t == VOL_TYPE_CERTS ? "certs" : "data");
}

/* Mount IDs: this host's (ids) or the other hosts' (rids) of a volume. */
static int
vol_has_id(char **ids, size_t n, const char *id)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return (1);
	return (0);
}

static void
vol_add_id(char ***ids, size_t *n, const char *id)
{
	if (vol_has_id(*ids, *n, id))
		return;
	*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
	(*ids)[(*n)++] = xstrdup(id);
}

static void
vol_del_id(char **ids, size_t *n, const char *id)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp(ids[i], id) == 0) {
			free(ids[i]);
			ids[i] = ids[--*n];
			return;
		}
}

/* --- volumes of other hosts -------------------------------------------- */

/* The client certificate of the internal CA, made once for every target. */
static SSL_CTX *
vol_client_ssl(char *err, size_t errlen)
{
	if (vol.dav_ssl != NULL)
		return (vol.dav_ssl);
	if (ca_open(vol.ca_dir, vol.instance, err, errlen) == -1)
		return (NULL);
	vol.dav_ssl = ca_client_context("volumes", err, errlen);
	return (vol.dav_ssl);
}

static struct vol_host *
vol_host_find(const char *host)
{
	struct vol_host	*h;

	TAILQ_FOREACH(h, &vol.hosts, entry)
		if (strcmp(h->host, host) == 0)
			return (h);
	return (NULL);
}

/* Another host's listener learnt (dav NULL: the host left). */
static void
vol_host_set(const char *host, const char *dav)
{
	struct vol_host	*h;

	if ((h = vol_host_find(host)) == NULL) {
		if (dav == NULL)
			return;
		h = xcalloc(1, sizeof *h);
		h->host = xstrdup(host);
		TAILQ_INSERT_TAIL(&vol.hosts, h, entry);
	}
	free(h->dav);
	if (dav != NULL) {
		h->dav = xstrdup(dav);
		return;
	}
	TAILQ_REMOVE(&vol.hosts, h, entry);
	free(h->host);
	free(h);
}

/* Where the owner of a volume serves it now: its published listener, or
 * the one its record names. */
static const char *
vol_owner_dav(const struct volume *v)
{
	struct vol_host	*h;

	if ((h = vol_host_find(v->owner)) != NULL)
		return (h->dav);
	return (v->owner_dav);
}

/* Whether a stored record names this host (no owner: from before clusters,
 * or no cluster at all). */
static int
vol_is_ours(const char *owner)
{
	return (owner == NULL || (vol.host != NULL &&
	    strcmp(owner, vol.host) == 0));
}

/* The record of a mount ID: the host holding it, for the owner to count. */
static char *
vol_mount_record(void)
{
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;
	char			*rec;

	g = json_gen_new();
	yajl_gen_map_open(g);
	if (vol.host != NULL)
		json_gen_string(g, "host", vol.host);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	rec = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	return (rec);
}

/* Start the FUSE mount if none runs. */
static int
vol_mount(struct volume *v, char *err, size_t errlen)
{
	struct vfs_params	 p;
	const char		*dav;
	char			*mp, *host = NULL, *port = NULL;

	if (v->vfs != NULL)
		return (0);
	memset(&p, 0, sizeof p);
	p.dav_socket = vol.dav_socket;
	p.dav_host = vol.dav_host;
	p.dav_port = vol.dav_port;
	p.dav_ssl = vol.dav_ssl;
	if (v->owner != NULL) {
		/* The owner's WebDAV, whatever volume.dav_remote says. */
		if ((dav = vol_owner_dav(v)) == NULL) {
			snprintf(err, errlen, "its owner %s publishes no "
			    "WebDAV listener with mutual TLS (dav.listen)",
			    v->owner);
			return (-1);
		}
		if (util_hostport(dav, &host, &port) == -1) {
			snprintf(err, errlen, "its owner %s publishes %s, not "
			    "HOST:PORT", v->owner, dav);
			return (-1);
		}
		p.dav_host = host;
		p.dav_port = port;
		if ((p.dav_ssl = vol_client_ssl(err, errlen)) == NULL)
			goto out;
	} else if (*vol.dav_socket == '\0' && vol.dav_host == NULL) {
		snprintf(err, errlen, "dav.socket is off: the FUSE client "
		    "speaks WebDAV on it");
		return (-1);
	}
	mp = vol_mountpoint(v);
	if (util_mkdir_p(mp, 0755, err, errlen) == -1) {
		free(mp);
		goto out;
	}
	p.volume = v->name;
	p.mountpoint = mp;
	p.writeback_bytes = VOL_WRITEBACK_BYTES;
	p.read_only = v->type == VOL_TYPE_CERTS;
	v->vfs = vfs_mount(vol.base, &p, err, errlen);
	if (v->vfs != NULL && v->owner != NULL)
		log_info("volume %s: mounted from its owner %s at %s:%s",
		    v->name, v->owner, host, port);
	free(mp);
out:
	free(host);
	free(port);
	return (v->vfs == NULL ? -1 : 0);
}

/* The stored record of a volume. */
static char *
vol_record(const struct volume *v)
{
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;
	char			*rec;

	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "type", vol_type_name(v->type));
	json_gen_string(g, "created", v->created);
	if (vol.host != NULL) {
		json_gen_string(g, "owner", vol.host);
		if (vol.dav_tls != NULL)
			json_gen_string(g, "dav", vol.dav_tls);
	}
	if (v->names != NULL) {
		json_gen_string(g, "names", v->names);
		if (v->acme)
			json_gen_string(g, "issuer", "acme");
		json_gen_int(g, "not_before", (long long)v->not_before);
		json_gen_int(g, "not_after", (long long)v->not_after);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	rec = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	return (rec);
}

static void
vol_rfc3339(time_t t, char *buf, size_t len)
{
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

/* --- certificate volumes ----------------------------------------------- */

static void
vol_renew_stored(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("volume: storing a renewed certificate: %s", error);
}

/* Issue the volume's certificate (again) into its files. */
static int
vol_certs_refresh(struct volume *v, char *err, size_t errlen)
{
	struct dav_store	*ds;
	struct dav_volume	*dv;

	if (ca_open(vol.ca_dir, vol.instance, err, errlen) == -1)
		return (-1);
	if ((ds = dav_server_store()) == NULL ||
	    (dv = dav_volume_find(ds, v->name)) == NULL) {
		snprintf(err, errlen, "the WebDAV store has no volume %s",
		    v->name);
		return (-1);
	}
	return (vol_certs_issue(dv, v->names, vol.cert_lifetime,
	    &v->not_before, &v->not_after, err, errlen));
}

static void
vol_renew(evutil_socket_t fd, short what, void *arg)
{
	struct volume	*v = arg;
	char		 err[256], *rec, when[32];

	if (vol_certs_refresh(v, err, sizeof err) == -1) {
		/* Try again in an hour; the old certificate is still valid. */
		log_warnx("volume %s: certificate renewal failed: %s", v->name,
		    err);
		v->not_before = time(NULL) - 2 * 3600;
		v->not_after = time(NULL) + 3600;
	} else {
		vol_rfc3339(v->not_after, when, sizeof when);
		log_info("volume %s: certificate renewed, valid until %s",
		    v->name, when);
		rec = vol_record(v);
		store_put(vol.store, VOL_KIND_VOLUME, v->name, rec, strlen(rec),
		    vol_renew_stored, NULL);
		free(rec);
	}
	vol_renew_schedule(v);
}

/* Renew at two thirds of the certificate's lifetime (now if past). */
static void
vol_renew_schedule(struct volume *v)
{
	struct timeval	tv;
	time_t		at, now = time(NULL);

	if (v->type != VOL_TYPE_CERTS || v->acme || v->owner != NULL)
		return;
	if (v->renew == NULL)
		v->renew = evtimer_new(vol.base, vol_renew, v);
	at = v->not_before + (v->not_after - v->not_before) * 2 / 3;
	tv.tv_sec = at > now ? at - now : 0;
	tv.tv_usec = 0;
	evtimer_add(v->renew, &tv);
}

/* --- certificates from the ACME CA ------------------------------------- */

/* The first order failed: Docker is told why and the volume goes. */
static void
vol_creating_fail(struct volume *v, const char *error)
{
	struct vol_pending	*pending = v->creating;

	v->creating = NULL;
	if (pending->req != NULL) {
		http_request_set_cleanup(pending->req, NULL, NULL);
		plugin_fail(pending->req, 502, "volume %s: the ACME CA issued "
		    "no certificate: %s", v->name, error);
	}
	free(pending->reply);
	free(pending);
}

static void
vol_acme_done(const char *error, const char *chain, size_t len,
    const char *key, size_t keylen, void *arg)
{
	struct volume		*v = arg;
	struct dav_store	*ds;
	struct dav_volume	*dv;
	struct vol_pending	*pending;
	char			 err[256], *rec, when[32];

	if (error == NULL) {
		if ((ds = dav_server_store()) == NULL ||
		    (dv = dav_volume_find(ds, v->name)) == NULL) {
			snprintf(err, sizeof err, "the WebDAV store has no "
			    "volume %s", v->name);
			error = err;
		} else if (vol_certs_install(dv, chain, len, key, keylen,
		    acme_issuer_root(), &v->not_before, &v->not_after, err,
		    sizeof err) == -1)
			error = err;
	}
	if (error != NULL && v->creating == NULL) {
		/* A renewal: the client retries; the files stay. */
		log_warnx("volume %s: ACME renewal failed: %s", v->name, error);
		return;
	}
	if (error != NULL) {
		log_warnx("volume %s: ACME: %s", v->name, error);
		vol_creating_fail(v, error);
		if ((ds = dav_server_store()) != NULL &&
		    dav_volume_find(ds, v->name) != NULL)
			dav_volume_remove(ds, v->name, err, sizeof err);
		vol_free(v);
		return;
	}
	vol_rfc3339(v->not_after, when, sizeof when);
	log_info("volume %s: ACME certificate in place, valid until %s",
	    v->name, when);
	pending = v->creating;
	v->creating = NULL;
	if (pending != NULL) {
		vol_store_new(v, pending);
		return;
	}
	rec = vol_record(v);
	store_put(vol.store, VOL_KIND_VOLUME, v->name, rec, strlen(rec),
	    vol_renew_stored, NULL);
	free(rec);
}

static void
vol_acme_register(struct volume *v)
{
	char	**names, err[256];

	if ((names = vol_certs_names(v->names, err, sizeof err)) == NULL) {
		log_warnx("volume %s: %s", v->name, err);
		return;
	}
	v->order = acme_cert_add(v->name, names, v->not_before, v->not_after,
	    vol_acme_done, v);
	util_strv_free(names);
}

/* --- replies after the store ------------------------------------------- */

static void
vol_pending_cleanup(struct http_request *req, void *arg)
{
	struct vol_pending	*pending = arg;

	pending->req = NULL;
}

static void
vol_pending_done(const char *error, void *arg)
{
	struct vol_pending	*pending = arg;

	if (pending->req != NULL) {
		http_request_set_cleanup(pending->req, NULL, NULL);
		if (error != NULL)
			plugin_fail(pending->req, 500, "the state store failed: "
			    "%s", error);
		else
			plugin_reply_json(pending->req, pending->reply);
	}
	free(pending->reply);
	free(pending);
}

static struct vol_pending *
vol_pending_new(struct http_request *req, const char *reply)
{
	struct vol_pending	*pending;

	pending = xcalloc(1, sizeof *pending);
	pending->req = req;
	pending->reply = xstrdup(reply);
	http_request_set_cleanup(req, vol_pending_cleanup, pending);
	return (pending);
}

/* A new volume's first record, stored. */
struct vol_insert {
	char			*name;
	struct vol_pending	*pending;
};

static void
vol_inserted(const char *error, void *arg)
{
	struct vol_insert	*in = arg;
	struct vol_pending	*pending = in->pending;
	struct dav_store	*ds;
	struct volume		*v;
	char			*heard = NULL, err[256];
	size_t			 heardlen = 0;

	if ((v = vol_find(in->name)) != NULL && v->owner == NULL)
		v->inserting = 0;
	if (!store_error_exists(error) || v == NULL || v->owner != NULL) {
		vol_pending_done(error, pending);
		goto out;
	}
	/* Another host created one by that name first: the name is its. */
	log_warnx("volume %s: another host created it at the same time and "
	    "stored it first; this host's copy is dropped", in->name);
	heard = v->heard;
	heardlen = v->heardlen;
	v->heard = NULL;
	vol_free(v);
	if ((ds = dav_server_store()) != NULL &&
	    dav_volume_find(ds, in->name) != NULL &&
	    dav_volume_remove(ds, in->name, err, sizeof err) == -1)
		log_warnx("volume %s: %s", in->name, err);
	if (heard != NULL)
		vol_load_volume(in->name, heard, heardlen, 1);
	free(heard);
	if (pending->req != NULL) {
		http_request_set_cleanup(pending->req, NULL, NULL);
		plugin_fail(pending->req, 409, "volume %s was created on "
		    "another host at the same time, which owns it", in->name);
	}
	free(pending->reply);
	free(pending);
out:
	free(in->name);
	free(in);
}

/*
 * On a shared store two hosts may create a volume by the same name at once:
 * only the first record goes in (store_insert), and the other host drops its
 * copy.  Without a cluster, store_put as ever.
 */
static void
vol_store_new(struct volume *v, struct vol_pending *pending)
{
	struct vol_insert	*in;
	char			*rec;

	rec = vol_record(v);
	if (vol.host == NULL) {
		store_put(vol.store, VOL_KIND_VOLUME, v->name, rec, strlen(rec),
		    vol_pending_done, pending);
		free(rec);
		return;
	}
	in = xcalloc(1, sizeof *in);
	in->name = xstrdup(v->name);
	in->pending = pending;
	store_insert(vol.store, VOL_KIND_VOLUME, v->name, rec, strlen(rec),
	    vol_inserted, in);
	free(rec);
}

/* The body's Name, checked; NULL when answered already (doc freed). */
static const char *
vol_body_name(struct http_request *req, struct json **doc)
{
	const char	*name;

	if (plugin_body(req, doc) == -1)
		return (NULL);
	if (*doc == NULL || (name = json_get_string(*doc, "Name")) == NULL) {
		plugin_bad_request(req, "Name is required");
		json_free(*doc);
		return (NULL);
	}
	if (!dav_volume_name_ok(name)) {
		plugin_bad_request(req, "volume name %s: use letters, digits, "
		    "'_', '.' and '-' (at most 64)", name);
		json_free(*doc);
		return (NULL);
	}
	return (name);
}

static struct dav_store *
vol_dav(struct http_request *req)
{
	struct dav_store	*ds;

	if ((ds = dav_server_store()) == NULL)
		plugin_fail(req, 503, "the WebDAV server is not running: "
		    "volumes need it");
	return (ds);
}

/* --- VolumeDriver ------------------------------------------------------ */

void
volume_create(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct dav_store	*ds;
	struct vol_opts		 o;
	struct volume		*v;
	const char		*name;
	char			 err[256], created[32], **names = NULL;
	time_t			 now;

	if ((name = vol_body_name(req, &doc)) == NULL)
		return;
	if (vol_opts_parse(json_get(doc, "Opts"), &o, err, sizeof err) == -1) {
		plugin_fail(req, 400, "volume %s: %s", name, err);
		json_free(doc);
		return;
	}
	if ((v = vol_find(name)) != NULL) {
		/* Docker creates again what it forgot: same type is fine. */
		if (v->type != o.type)
			plugin_fail(req, 409, "volume %s exists with type=%s",
			    name, vol_type_name(v->type));
		else
			plugin_reply_json(req, "{}");
		goto out;
	}
	if (o.type == VOL_TYPE_CERTS &&
	    (names = vol_certs_names(o.names, err, sizeof err)) == NULL) {
		plugin_fail(req, 400, "volume %s: %s", name, err);
		goto out;
	}
	util_strv_free(names);
	if (o.acme && !acme_running()) {
		plugin_fail(req, 400, "volume %s: issuer=acme needs the acme "
		    "section (acme.directory) in netcraved.conf", name);
		goto out;
	}
	if ((ds = vol_dav(req)) == NULL)
		goto out;
	if (dav_volume_find(ds, name) == NULL &&
	    dav_volume_create(ds, name, err, sizeof err) == -1) {
		plugin_fail(req, 500, "volume %s: %s", name, err);
		goto out;
	}
	now = time(NULL);
	vol_rfc3339(now, created, sizeof created);
	v = vol_add(name, o.type, created, o.names);
	/* Another host's record by this name meanwhile waits for ours. */
	v->inserting = vol.host != NULL;
	if (o.acme) {
		/* Docker hears of the volume once its first certificate is
		 * in it (or of the CA's reason why not): a volume that
		 * exists is one a container can use. */
		v->acme = 1;
		v->creating = vol_pending_new(req, "{}");
		log_info("volume %s: ordering its certificate from the ACME CA",
		    name);
		vol_acme_register(v);
		goto out;
	}
	if (o.type == VOL_TYPE_CERTS) {
		if (vol_certs_refresh(v, err, sizeof err) == -1) {
			plugin_fail(req, 500, "volume %s: certificate: %s",
			    name, err);
			vol_free(v);
			dav_volume_remove(ds, name, err, sizeof err);
			goto out;
		}
		vol_renew_schedule(v);
	}
	log_info("volume %s: created (type=%s)", name, vol_type_name(o.type));
	vol_store_new(v, vol_pending_new(req, "{}"));
out:
	vol_opts_clear(&o);
	json_free(doc);
}

void
volume_remove(struct http_request *req, void *arg)
{
	struct json		*doc;
	struct dav_store	*ds;
	struct volume		*v;
	const char		*name;
	char			 err[256];

	if ((name = vol_body_name(req, &doc)) == NULL)
		return;
	if ((v = vol_find(name)) == NULL) {
		plugin_fail(req, 404, "no volume %s", name);
		goto out;
	}
	if (v->owner != NULL) {
		/* Its data is on the owner: removing it is the owner's. */
		plugin_fail(req, 409, "volume %s belongs to host %s: remove it "
		    "there", name, v->owner);
		goto out;
	}
	if (v->nids > 0) {
		plugin_fail(req, 409, "volume %s is mounted by %zu container(s): "
		    "stop them first", name, v->nids);
		goto out;
	}
	if (v->nrids > 0) {
		plugin_fail(req, 409, "volume %s is mounted by %zu container(s) "
		    "on other hosts: stop them first", name, v->nrids);
		goto out;
	}
	if ((ds = vol_dav(req)) == NULL)
		goto out;
	if (dav_volume_find(ds, name) != NULL &&
	    dav_volume_remove(ds, name, err, sizeof err) == -1) {
		plugin_fail(req, 500, "volume %s: %s", name, err);
		goto out;
	}
	vol_free(v);
	log_info("volume %s: removed", name);
	store_del(vol.store, VOL_KIND_VOLUME, name, vol_pending_done,
	    vol_pending_new(req, "{}"));
out:
	json_free(doc);
}

/* {"Mountpoint": ...} of a volume, "" when not mounted. */
static char *
vol_mountpoint_reply(const struct volume *v, int mounted)
{
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;
	char			*mp, *out;

	mp = mounted ? vol_mountpoint(v) : xstrdup("");
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "Mountpoint", mp);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	free(mp);
	return (out);
}

/* Name and ID of Mount and Unmount; NULL when answered already. */
static struct volume *
vol_body_mount(struct http_request *req, struct json **doc, const char **id)
{
	struct volume	*v;
	const char	*name;

	if ((name = vol_body_name(req, doc)) == NULL)
		return (NULL);
	if ((*id = json_get_string(*doc, "ID")) == NULL || **id == '\0' ||
	    strchr(*id, '/') != NULL || strlen(*id) > 128) {
		plugin_bad_request(req, "ID is required (at most 128 bytes, "
		    "no '/')");
		json_free(*doc);
		return (NULL);
	}
	if ((v = vol_find(name)) == NULL) {
		plugin_fail(req, 404, "no volume %s", name);
		json_free(*doc);
		return (NULL);
	}
	return (v);
}

void
volume_mount(struct http_request *req, void *arg)
{
	struct json	*doc;
	struct volume	*v;
	const char	*id;
	char		 err[256], *key, *reply, *rec;

	if ((v = vol_body_mount(req, &doc, &id)) == NULL)
		return;
	if (vol_mount(v, err, sizeof err) == -1) {
		plugin_fail(req, 500, "volume %s: %s", v->name, err);
		json_free(doc);
		return;
	}
	reply = vol_mountpoint_reply(v, 1);
	if (vol_has_id(v->ids, v->nids, id)) {
		plugin_reply_json(req, reply);
		free(reply);
		json_free(doc);
		return;
	}
	vol_add_id(&v->ids, &v->nids, id);
	xasprintf(&key, "%s/%s", v->name, id);
	rec = vol_mount_record();
	store_put(vol.store, VOL_KIND_MOUNT, key, rec, strlen(rec),
	    vol_pending_done, vol_pending_new(req, reply));
	free(rec);
	free(key);
	free(reply);
	json_free(doc);
}

/* No upload left in flight on a volume's mount: unmount it if unused. */
static void
vol_drained(void *arg)
{
	struct volume	*v = arg;

	if (v->nids > 0 || v->vfs == NULL)
		return;
	vfs_unmount(v->vfs);
	v->vfs = NULL;
}

void
volume_unmount(struct http_request *req, void *arg)
{
	struct json	*doc;
	struct volume	*v;
	const char	*id;
	char		*key;

	if ((v = vol_body_mount(req, &doc, &id)) == NULL)
		return;
	if (!vol_has_id(v->ids, v->nids, id)) {
		plugin_fail(req, 404, "volume %s is not mounted for %s",
		    v->name, id);
		json_free(doc);
		return;
	}
	vol_del_id(v->ids, &v->nids, id);
	/* The last user gone: unmount once what its close(2)s started is
	 * stored (a Mount meanwhile keeps the mount). */
	if (v->nids == 0 && v->vfs != NULL)
		vfs_drain(v->vfs, vol_drained, v);
	xasprintf(&key, "%s/%s", v->name, id);
	store_del(vol.store, VOL_KIND_MOUNT, key, vol_pending_done,
	    vol_pending_new(req, "{}"));
	free(key);
	json_free(doc);
}

void
volume_path(struct http_request *req, void *arg)
{
	struct json	*doc;
	struct volume	*v;
	const char	*name;
	char		*reply;

	if ((name = vol_body_name(req, &doc)) == NULL)
		return;
	if ((v = vol_find(name)) == NULL)
		plugin_fail(req, 404, "no volume %s", name);
	else {
		reply = vol_mountpoint_reply(v, v->vfs != NULL);
		plugin_reply_json(req, reply);
		free(reply);
	}
	json_free(doc);
}

/* Plaintext bytes held by a collection, counted from the store. */
static uint64_t
vol_size(struct dav_volume *dv, const char *path, int depth)
{
	struct dav_stat	 st;
	char		**names, *p, err[256];
	uint64_t	 total = 0;
	size_t		 i;

	if (depth > 64 || (names = dav_list(dv, path, err, sizeof err)) == NULL)
		return (0);
	for (i = 0; names[i] != NULL; i++) {
		p = vol_path_join(path, names[i]);
		if (dav_stat(dv, p, &st, err, sizeof err) == 0 && st.exists)
			total += st.is_dir ? vol_size(dv, p, depth + 1) :
			    st.size;
		free(p);
	}
	util_strv_free(names);
	return (total);
}

static void
vol_gen_volume(yajl_gen g, const struct volume *v, int status)
{
	struct dav_store	*ds;
	struct dav_volume	*dv;
	char			*mp, when[32];

	yajl_gen_map_open(g);
	json_gen_string(g, "Name", v->name);
	mp = v->vfs != NULL ? vol_mountpoint(v) : xstrdup("");
	json_gen_string(g, "Mountpoint", mp);
	free(mp);
	json_gen_string(g, "CreatedAt", v->created);
	if (status) {
		json_gen_key(g, "Status");
		yajl_gen_map_open(g);
		json_gen_string(g, "type", vol_type_name(v->type));
		json_gen_string(g, "encryption", "AES-256-GCM, 4 KiB blocks, "
		    "per-volume key");
		if ((ds = dav_server_store()) != NULL &&
		    (dv = dav_volume_find(ds, v->name)) != NULL)
			json_gen_int(g, "size", (long long)vol_size(dv, "", 0));
		json_gen_int(g, "mounts", (long long)v->nids);
		if (v->nrids > 0)
			json_gen_int(g, "mounts_elsewhere", (long long)v->nrids);
		if (v->owner != NULL)
			json_gen_string(g, "owner", v->owner);
		else if (vol.host != NULL)
			json_gen_string(g, "owner", vol.host);
		if (v->names != NULL) {
			json_gen_string(g, "names", v->names);
			vol_rfc3339(v->not_after, when, sizeof when);
			json_gen_string(g, "not_after", when);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

static void
vol_reply_gen(struct http_request *req, yajl_gen g)
{
	const unsigned char	*buf;
	size_t			 len;

	yajl_gen_get_buf(g, &buf, &len);
	http_reply(req, 200, "application/vnd.docker.plugins.v1+json", buf, len);
	yajl_gen_free(g);
}

void
volume_get(struct http_request *req, void *arg)
{
	struct json	*doc;
	struct volume	*v;
	const char	*name;
	yajl_gen	 g;

	if ((name = vol_body_name(req, &doc)) == NULL)
		return;
	if ((v = vol_find(name)) == NULL) {
		plugin_fail(req, 404, "no volume %s", name);
		json_free(doc);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "Volume");
	vol_gen_volume(g, v, 1);
	yajl_gen_map_close(g);
	vol_reply_gen(req, g);
	json_free(doc);
}

void
volume_list(struct http_request *req, void *arg)
{
	struct volume	*v;
	yajl_gen	 g;

	if (plugin_body(req, NULL) == -1)
		return;
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_key(g, "Volumes");
	yajl_gen_array_open(g);
	TAILQ_FOREACH(v, &vol.list, entry)
		vol_gen_volume(g, v, 0);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	vol_reply_gen(req, g);
}

/* The control socket's view (GET /volumes): every volume with its status. */
char *
volume_status_json(void)
{
	struct volume		*v;
	yajl_gen		 g;
	const unsigned char	*buf;
	size_t			 len;
	char			*out;

	g = json_gen_new();
	yajl_gen_array_open(g);
	TAILQ_FOREACH(v, &vol.list, entry)
		vol_gen_volume(g, v, 1);
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	return (out);
}

/* The certificate volumes as GET /certs entries, into the array open in g. */
void
volume_certs_json(yajl_gen g)
{
	struct volume		*v;
	struct control_cert	 c;

	TAILQ_FOREACH(v, &vol.list, entry) {
		if (v->type != VOL_TYPE_CERTS)
			continue;
		memset(&c, 0, sizeof c);
		c.volume = v->name;
		c.names = v->names;
		c.issuer = v->acme ? "acme" : "internal";
		c.not_before = v->not_before;
		c.not_after = v->not_after;
		c.renew_at = acme_cert_renew_next(v->order, v->not_before,
		    v->not_after, &c.error);
		control_cert_entry(g, &c);
	}
}

/* Control socket GET /volumes: {"volumes": [...]}. */
void
volume_control_volumes(struct http_request *req, void *arg)
{
	char	*array, *body;

	array = volume_status_json();
	xasprintf(&body, "{\"volumes\":%s}", array);
	http_reply(req, 200, "application/json", body, strlen(body));
	free(body);
	free(array);
}

/* --- the server -------------------------------------------------------- */

/* A stored volume record: new, or changed by its owner on another host. */
static void
vol_load_volume(const char *key, const void *value, size_t len, int watched)
{
	struct json		*doc;
	struct json_error	 jerr;
	const struct json	*x;
	struct volume		*v;
	const char		*type, *created, *owner;
	enum vol_type		 t;
	int64_t			 n;

	doc = json_parse(value, len, 0, &jerr);
	if (doc == NULL || (type = json_get_string(doc, "type")) == NULL ||
	    (created = json_get_string(doc, "created")) == NULL) {
		log_warnx("volume: bad stored record %s ignored", key);
		json_free(doc);
		return;
	}
	t = strcmp(type, "certs") == 0 ? VOL_TYPE_CERTS : VOL_TYPE_DATA;
	owner = json_get_string(doc, "owner");
	if ((v = vol_find(key)) != NULL) {
		if (v->owner == NULL && v->inserting) {
			/* Decided when our record is stored or refused. */
			free(v->heard);
			v->heard = xmalloc(len);
			memcpy(v->heard, value, len);
			v->heardlen = len;
			json_free(doc);
			return;
		}
		if (v->owner == NULL || vol_is_ours(owner)) {
			/* Ours, stored: the store refused the other host's
			 * copy, or the record is from before owners. */
			log_warnx("volume %s: host %s wrote a record of it; this "
			    "host keeps its own", key, owner != NULL ? owner :
			    "?");
			json_free(doc);
			return;
		}
		if (strcmp(v->owner, owner) != 0) {
			/* Removed and made again elsewhere meanwhile: the next
			 * mount goes to the new owner. */
			free(v->owner);
			v->owner = xstrdup(owner);
		}
		free(v->owner_dav);
		v->owner_dav = json_get_string(doc, "dav") != NULL ?
		    xstrdup(json_get_string(doc, "dav")) : NULL;
		free(v->names);
		v->names = json_get_string(doc, "names") != NULL ?
		    xstrdup(json_get_string(doc, "names")) : NULL;
	} else {
		v = vol_add(key, t, created, json_get_string(doc, "names"));
		if (!vol_is_ours(owner)) {
			v->owner = xstrdup(owner);
			if (json_get_string(doc, "dav") != NULL)
				v->owner_dav = xstrdup(json_get_string(doc,
				    "dav"));
		}
		if (watched)
			log_info("volume %s: created on host %s", key,
			    v->owner != NULL ? v->owner : "?");
	}
	if ((x = json_get(doc, "not_before")) != NULL &&
	    json_number_int64(x, 0, INT64_MAX, &n) == 0)
		v->not_before = n;
	if ((x = json_get(doc, "not_after")) != NULL &&
	    json_number_int64(x, 0, INT64_MAX, &n) == 0)
		v->not_after = n;
	if (json_get_string(doc, "issuer") != NULL &&
	    strcmp(json_get_string(doc, "issuer"), "acme") == 0) {
		v->acme = 1;
		/* Only the owner orders its certificates. */
		if (v->owner == NULL && v->order == NULL)
			vol_acme_register(v);
	}
	json_free(doc);
}

/* A mount ID record "<name>/<id>": this host's, or another's to count. */
static void
vol_load_mount(const char *key, const void *value, size_t len)
{
	struct json		*doc;
	struct json_error	 jerr;
	struct volume		*v;
	const char		*slash, *host = NULL;
	char			*name;

	if ((slash = strchr(key, '/')) == NULL)
		return;
	name = xstrndup(key, slash - key);
	v = vol_find(name);
	free(name);
	if (v == NULL)
		return;
	if (value == NULL) {
		/* Deleted by another host: one of its IDs. */
		vol_del_id(v->rids, &v->nrids, slash + 1);
		return;
	}
	doc = json_parse(value, len, 0, &jerr);
	if (doc != NULL)
		host = json_get_string(doc, "host");
	if (vol_is_ours(host))
		vol_add_id(&v->ids, &v->nids, slash + 1);
	else
		vol_add_id(&v->rids, &v->nrids, slash + 1);
	json_free(doc);
}

/* Another host's "vol.host" record (value NULL: deleted). */
static void
vol_load_host(const char *key, const void *value, size_t len)
{
	struct json		*doc;
	struct json_error	 jerr;

	if (vol.host != NULL && strcmp(key, vol.host) == 0)
		return;
	if (value == NULL) {
		vol_host_set(key, NULL);
		return;
	}
	doc = json_parse(value, len, 0, &jerr);
	vol_host_set(key, doc != NULL ? json_get_string(doc, "dav") : NULL);
	json_free(doc);
}

/* Another host changed a record of ours (a shared store). */
static void
vol_on_change(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	struct volume	*v;

	if (strcmp(kind, VOL_KIND_HOST) == 0)
		vol_load_host(key, value, len);
	else if (strcmp(kind, VOL_KIND_MOUNT) == 0)
		vol_load_mount(key, value, len);
	else if (strcmp(kind, VOL_KIND_VOLUME) != 0)
		return;
	else if (value != NULL)
		vol_load_volume(key, value, len, 1);
	else if ((v = vol_find(key)) != NULL && v->owner != NULL) {
		if (v->nids > 0)
			log_warnx("volume %s: removed by its owner %s while "
			    "mounted here", key, v->owner);
		log_info("volume %s: removed on host %s", key, v->owner);
		vol_free(v);
	}
}

/*
 * This host's WebDAV listener with mutual TLS as the others reach it: the
 * first dav.listen without tls:// (a wildcard address becomes
 * cluster.host_address).  NULL when there is none.
 */
static char *
vol_dav_tls(const struct conf *conf)
{
	char		*host, *port, *out = NULL;
	const char	*l;
	size_t		 i;

	for (i = 0; conf->dav_listen != NULL && conf->dav_listen[i] != NULL;
	    i++) {
		l = conf->dav_listen[i];
		if (strncmp(l, "tls://", 6) == 0)
			continue;
		if (strncmp(l, "mtls://", 7) == 0)
			l += 7;
		if (util_hostport(l, &host, &port) == -1)
			continue;
		if (*host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
		    strcmp(host, "::") == 0 || strcmp(host, "*") == 0) {
			free(host);
			host = xstrdup(vol.host);
		}
		if (strchr(host, ':') != NULL)
			xasprintf(&out, "[%s]:%s", host, port);
		else
			xasprintf(&out, "%s:%s", host, port);
		free(host);
		free(port);
		break;
	}
	return (out);
}

static void
vol_published(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("volume: publishing this host's WebDAV listener: %s",
		    error);
}

/* Tell the other hosts where this one serves its volumes. */
static void
vol_publish(const struct server_env *env)
{
	char	*rec;
	size_t	 i;

	if (vol.dav_tls != NULL) {
		xasprintf(&rec, "{\"dav\":\"%s\"}", vol.dav_tls);
		store_put(vol.store, VOL_KIND_HOST, vol.host, rec, strlen(rec),
		    vol_published, NULL);
		free(rec);
		log_info("volume: this host (%s) serves its volumes to the "
		    "others at %s", vol.host, vol.dav_tls);
		return;
	}
	log_info("volume: dav.listen has no listener with mutual TLS: other "
	    "hosts cannot mount this host's volumes");
	for (i = 0; i < env->nrecords; i++)
		if (strcmp(env->records[i].kind, VOL_KIND_HOST) == 0 &&
		    strcmp(env->records[i].key, vol.host) == 0)
			store_del(vol.store, VOL_KIND_HOST, vol.host,
			    vol_published, NULL);
}

/*
 * The FUSE client reaches the WebDAV server at HOST:PORT ([v6]:PORT) over
 * TLS with a client certificate of the internal CA, as it would on another
 * host; the server's certificate must come from the same CA.
 */
static int
vol_remote_init(const char *remote, char *err, size_t errlen)
{
	char	*host, *port;

	if (util_hostport(remote, &host, &port) == -1) {
		snprintf(err, errlen, "volume.dav_remote: %s is not HOST:PORT",
		    remote);
		return (-1);
	}
	if (vol_client_ssl(err, errlen) == NULL) {
		free(host);
		free(port);
		return (-1);
	}
	vol.dav_port = port;
	vol.dav_host = host;
	log_info("volume: mounts speak WebDAV to %s over mutual TLS", remote);
	return (0);
}

static int
volume_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct server_record	*r;
	struct volume			*v;
	char				*name, e[256];
	size_t				 i;

	vol.base = env->base;
	vol.store = env->store;
	TAILQ_INIT(&vol.list);
	TAILQ_INIT(&vol.hosts);
	xasprintf(&vol.mount_dir, "%s/volumes", env->conf->run_dir);
	vol.dav_socket = xstrdup(env->conf->dav_socket);
	xasprintf(&vol.ca_dir, "%s/ca", env->conf->state_dir);
	vol.instance = xstrdup(env->conf->instance);
	vol.cert_lifetime = env->conf->volume_cert_lifetime;
	if (env->conf->cluster_host_address != NULL) {
		vol.host = xstrdup(env->conf->cluster_host_address);
		vol.dav_tls = vol_dav_tls(env->conf);
	}
	if (*env->conf->volume_dav_remote != '\0' &&
	    vol_remote_init(env->conf->volume_dav_remote, err, errlen) == -1)
		return (-1);
	for (i = 0; i < env->nrecords; i++) {
		r = &env->records[i];
		if (strcmp(r->kind, VOL_KIND_VOLUME) == 0)
			vol_load_volume(r->key, r->value, r->len, 0);
		else if (strcmp(r->kind, VOL_KIND_HOST) == 0)
			vol_load_host(r->key, r->value, r->len);
	}
	for (i = 0; i < env->nrecords; i++) {
		r = &env->records[i];
		if (strcmp(r->kind, VOL_KIND_MOUNT) == 0)
			vol_load_mount(r->key, r->value, r->len);
	}
	if (vol.host != NULL) {
		vol_publish(env);
		if (store_watch(vol.store, vol_on_change, NULL) == -1) {
			snprintf(err, errlen, "volume: cannot follow the "
			    "store's changes");
			return (-1);
		}
	}
	/*
	 * Mounts of the previous run are dead (ENOTCONN): detach them and mount
	 * afresh where Docker still holds mount IDs.  Containers that kept the
	 * old mount see ENOTCONN until they restart (see netcraved(8)).
	 */
	TAILQ_FOREACH(v, &vol.list, entry) {
		name = vol_mountpoint(v);
		vfs_stale_cleanup(name);
		free(name);
		if (v->nids > 0 && (*vol.dav_socket != '\0' ||
		    v->owner != NULL) && vol_mount(v, e, sizeof e) == -1)
			log_warnx("volume %s: %s", v->name, e);
		vol_renew_schedule(v);
	}
	return (0);
}

static void
volume_shutdown(void)
{
	struct volume	*v;
	struct vol_host	*h;

	while ((v = TAILQ_FIRST(&vol.list)) != NULL)
		vol_free(v);
	while ((h = TAILQ_FIRST(&vol.hosts)) != NULL)
		vol_host_set(h->host, NULL);
	free(vol.mount_dir);
	free(vol.dav_socket);
	free(vol.ca_dir);
	free(vol.dav_host);
	free(vol.dav_port);
	SSL_CTX_free(vol.dav_ssl);
	vol.dav_host = vol.dav_port = NULL;
	vol.dav_ssl = NULL;
	free(vol.instance);
	free(vol.host);
	free(vol.dav_tls);
	vol.host = vol.dav_tls = NULL;
	vol.mount_dir = vol.dav_socket = vol.ca_dir = vol.instance = NULL;
}

const struct server volume_server = {
	"volume", volume_init, NULL, volume_shutdown
};
