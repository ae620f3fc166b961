/* ingress.c: the ingress server: containers labelled io.netcrave.ingress.*
 * (from the dockerd follower) become services, each a backend of haproxy;
 * haproxy is supervised in master-worker mode, reloaded (SIGUSR2) only when
 * the set of services changes, and told of every endpoint joining or leaving
 * through its runtime API at once. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>
#include <openssl/pem.h>

#include "acme.h"
#include "ca.h"
#include "conf.h"
#include "control.h"
#include "dockerd.h"
#include "ingress.h"
#include "json.h"
#include "log.h"
#include "plugin.h"
#include "prefix.h"
#include "schema.h"
#include "server.h"
#include "supervise.h"
#include "util.h"
#include "xmalloc.h"

#define INGRESS_CERT_DAYS	90

static struct {
	struct event_base	*base;
	char			*dir;		/* <run_dir>/ingress */
	char			*cfg_path;
	char			*socket;
	char			*crt_list;
	char			*host_tag;	/* the host's tag: ingress allowed */
	struct ingress_cfg	 cfg;
	struct ingress_service	*services;
	size_t			 nservices;
	struct child		*child;
	struct event		*sync;		/* write (and reload) on the loop */
	struct event		*resync;	/* push every slot after a reload */
	struct event		*renew;		/* daily certificate check */
	int			 structural;	/* services added: reload */
	int			 reload_pending; /* haproxy was not ready */
	int			 started;
	char			*kept[16];	/* the strings cfg points at */
	size_t			 nkept;
} ig;

static const struct timeval ingress_now = { 0, 0 };
/*
 * A push that reaches the old worker while a reload is under way is lost if
 * the new worker read the file before it was written: every used slot is
 * pushed again once the new worker has surely taken over.
 */
static const struct timeval ingress_resync_delay = { 2, 0 };
/* How often certificates are checked for renewal. */
static const struct timeval ingress_day = { 86400, 0 };

static void	ingress_push(const struct ingress_service *, size_t);

/* A copy of s that lives until shutdown (cfg's strings). */
static const char *
ingress_keep(const char *s)
{
	if (ig.nkept == sizeof ig.kept / sizeof ig.kept[0])
		fatalx("%s: too many strings", __func__);
	return (ig.kept[ig.nkept++] = xstrdup(s));
}

/* The service of host, or NULL. */
static struct ingress_service *
ingress_service_find(const char *host)
{
	size_t	i;

	for (i = 0; i < ig.nservices; i++)
		if (strcmp(ig.services[i].host, host) == 0)
			return (&ig.services[i]);
	return (NULL);
}

/*
 * Issue a certificate for names (the first is the CN) and write it, its CA
 * and its key as one PEM file, the form haproxy loads; the text goes to *pem
 * when pem is not NULL (caller frees).
 */
static int
ingress_pem_issue(const char *const *names, const char *path, char **pem,
    char *err, size_t errlen)
{
	EVP_PKEY	*key = NULL;
	X509		*cert = NULL;
	BIO		*bio = NULL;
	char		*data;
	long		 len;
	int		 rv = -1;

	if (ca_issue(names[0], names, 0, INGRESS_CERT_DAYS, &key, &cert, err,
	    errlen) != 0)
		return (-1);
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, cert) != 1 ||
	    PEM_write_bio_X509(bio, ca_certificate()) != 1 ||
	    PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (len = BIO_get_mem_data(bio, &data)) <= 0) {
		snprintf(err, errlen, "%s: PEM encoding failed", path);
		goto out;
	}
	if (util_write_atomic(path, data, (size_t)len, 0600, err, errlen) != 0)
		goto out;
	if (pem != NULL)
		*pem = xstrndup(data, (size_t)len);
	rv = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(key);
	X509_free(cert);
	return (rv);
}

/* The certificate file of host (caller frees). */
static char *
ingress_cert_path(const char *host)
{
	char	*path;

	xasprintf(&path, "%s/certs/%s.pem", ig.dir, host);
	return (path);
}

/*
 * Install a certificate in the running haproxy through the runtime API, no
 * reload: a new file gets "new ssl cert" and its crt-list line, and every
 * one "set ssl cert" with its PEM and "commit ssl cert".
 */
static void
ingress_cert_push(const char *host, const char *path, const char *pem,
    int is_new)
{
	char	*line;

	if (is_new) {
		xasprintf(&line, "new ssl cert %s", path);
		ingress_api_send(line);
		free(line);
	}
	/* The payload ends at an empty line: the API adds the last '\n'. */
	xasprintf(&line, "set ssl cert %s <<\n%s", path, pem);
	ingress_api_send(line);
	free(line);
	xasprintf(&line, "commit ssl cert %s", path);
	ingress_api_send(line);
	free(line);
	if (is_new) {
		xasprintf(&line, "add ssl crt-list %s <<\n%s %s\n", ig.crt_list,
		    path, host);
		ingress_api_send(line);
		free(line);
	}
}

/*
 * The ACME CA issued (or renewed) host's certificate: it replaces the file
 * (the internal CA's until then) and, with haproxy serving the host already,
 * goes into the running worker.  A failed order keeps what is there.  arg is
 * the service's host string: it stays put when ig.services is reallocated,
 * and the order is removed before it is freed.
 */
static void
ingress_acme_done(const char *error, const char *chain, size_t chainlen,
    const char *key, size_t keylen, void *arg)
{
	const char		*host = arg;
	struct ingress_service	*s;
	char			*path, *pem, err[256];
	size_t			 len;

	if (error != NULL) {
		log_warnx("ingress: ACME certificate for %s: %s (the current "
		    "one stays)", host, error);
		return;
	}
	if ((s = ingress_service_find(host)) == NULL)
		return;
	/* haproxy's form: the chain, then the key, in one file. */
	len = chainlen + keylen + 1;
	pem = xmalloc(len + 1);
	memcpy(pem, chain, chainlen);
	len = chainlen;
	if (chainlen > 0 && chain[chainlen - 1] != '\n')
		pem[len++] = '\n';
	memcpy(pem + len, key, keylen);
	len += keylen;
	pem[len] = '\0';
	path = ingress_cert_path(host);
	if (util_write_atomic(path, pem, len, 0600, err, sizeof err) != 0)
		log_warnx("ingress: ACME certificate for %s: %s", host, err);
	else {
		log_info("ingress: certificate for %s from the ACME CA", host);
		if (s->live && ig.child != NULL &&
		    supervise_state(ig.child) == CHILD_READY)
			ingress_cert_push(host, path, pem, 0);
	}
	freezero_secret(pem, len);
	free(path);
}

/* A host whose label asks for an ACME certificate: ordered and renewed by
 * the ACME client; the internal CA's serves until the first one comes. */
static void
ingress_acme_add(struct ingress_service *s)
{
	char	*names[2] = { s->host, NULL }, *label;

	if (!acme_running())
		log_warnx("ingress: %s asks for an ACME certificate, but no "
		    "acme section runs: the internal CA's serves", s->host);
	xasprintf(&label, "ingress %s", s->host);
	s->acme = acme_cert_add(label, names, 0, 0, ingress_acme_done,
	    s->host);
	free(label);
}

/*
 * The crt-list: the default certificate, then one line per host (SNI),
 * issuing the certificates of new hosts; with push set they are installed
 * in the running haproxy too.
 */
static int
ingress_write_crt_list(int push)
{
	FILE		*f;
	const char	*names[2];
	char		*text = NULL, *path, *pem, err[256];
	size_t		 len = 0, i;
	int		 rv;

	if ((f = open_memstream(&text, &len)) == NULL)
		return (-1);
	fprintf(f, "%s/certs/default.pem\n", ig.dir);
	for (i = 0; i < ig.nservices; i++) {
		path = ingress_cert_path(ig.services[i].host);
		if (access(path, R_OK) != 0) {
			names[0] = ig.services[i].host;
			names[1] = NULL;
			if (ingress_pem_issue(names, path, &pem, err,
			    sizeof err) != 0) {
				log_warnx("ingress: certificate for %s: %s",
				    names[0], err);
				free(path);
				continue;
			}
			log_info("ingress: certificate for %s from the "
			    "internal CA", names[0]);
			if (push)
				ingress_cert_push(names[0], path, pem, 1);
			freezero_secret(pem, strlen(pem));
		}
		fprintf(f, "%s %s\n", path, ig.services[i].host);
		free(path);
	}
	fclose(f);
	if ((rv = util_write_atomic(ig.crt_list, text, len, 0600, err,
	    sizeof err)) != 0)
		log_warnx("ingress: %s", err);
	free(text);
	return (rv);
}

/*
 * Issue host's certificate again, in place: the file is replaced and, with
 * haproxy up, "set ssl cert" and "commit ssl cert" swap it without a reload.
 */
static int
ingress_cert_renew(const char *host)
{
	const char	*names[2] = { host, NULL };
	char		*path, *pem, err[256];
	int		 rv = -1;

	path = ingress_cert_path(host);
	if (ingress_pem_issue(names, path, &pem, err, sizeof err) != 0)
		log_warnx("ingress: renewing the certificate of %s: %s", host,
		    err);
	else {
		log_info("ingress: certificate of %s renewed", host);
		if (ig.child != NULL &&
		    supervise_state(ig.child) == CHILD_READY)
			ingress_cert_push(host, path, pem, 0);
		freezero_secret(pem, strlen(pem));
		rv = 0;
	}
	free(path);
	return (rv);
}

/* Whether host's certificate file ends within seconds (or is unreadable). */
static int
ingress_cert_expiring(const char *host, time_t within)
{
	X509	*cert;
	FILE	*f;
	char	*path;
	time_t	 t = time(NULL) + within;
	int	 rv = 1;

	path = ingress_cert_path(host);
	if ((f = fopen(path, "r")) != NULL) {
		if ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
			rv = X509_cmp_time(X509_get0_notAfter(cert), &t) <= 0;
			X509_free(cert);
		}
		fclose(f);
	}
	free(path);
	return (rv);
}

/* Daily: renew what ends within a third of its lifetime. */
static void
ingress_renew_timer(evutil_socket_t fd, short what, void *arg)
{
	size_t	i;

	if (ig.cfg.https_listen[0] != '\0')
		for (i = 0; i < ig.nservices; i++)
			if (ig.services[i].acme == NULL &&
			    ingress_cert_expiring(ig.services[i].host,
			    INGRESS_CERT_DAYS * 86400 / 3))
				ingress_cert_renew(ig.services[i].host);
	evtimer_add(ig.renew, &ingress_day);
}

/* Every service is in the file haproxy reads next. */
static void
ingress_set_live(void)
{
	size_t	i;

	for (i = 0; i < ig.nservices; i++)
		ig.services[i].live = 1;
}

/* SIGUSR2 to haproxy's master: it starts a worker on the file as written. */
static void
ingress_reload_now(void *arg)
{
	pid_t	pid;

	if (ig.child == NULL || supervise_state(ig.child) != CHILD_READY) {
		ig.reload_pending = 1;
		return;
	}
	pid = supervise_pid(ig.child);
	log_info("ingress: services changed, reloading haproxy (pid %ld)",
	    (long)pid);
	if (pid > 0 && kill(pid, SIGUSR2) == -1)
		log_warn("ingress: reload haproxy");
	ingress_set_live();
	evtimer_add(ig.resync, &ingress_resync_delay);
}

/* Write haproxy.cfg from the model; reload haproxy when services changed. */
static void
ingress_sync(evutil_socket_t fd, short what, void *arg)
{
	char	*text, err[256];
	int	 ready;

	ready = ig.child != NULL && supervise_state(ig.child) == CHILD_READY;
	if (ig.cfg.https_listen[0] != '\0' && ig.structural)
		ingress_write_crt_list(ready);
	if ((text = ingress_cfg_text(&ig.cfg, ig.services,
	    ig.nservices)) == NULL) {
		log_warnx("ingress: haproxy.cfg: out of memory");
		return;
	}
	if (util_write_atomic(ig.cfg_path, text, strlen(text), 0600, err,
	    sizeof err) != 0)
		log_warnx("ingress: %s", err);
	free(text);
	if (!ig.structural)
		return;
	ig.structural = 0;
	if (ig.child == NULL) {
		ingress_set_live();
		return;
	}
	/* Before its signal handlers exist SIGUSR2 would kill the master;
	 * a haproxy starting (or not yet started) reads this file anyway. */
	if (!ready) {
		ig.reload_pending = 1;
		ingress_set_live();
		return;
	}
	/* After the certificates: the new hosts' TLS works from the first
	 * request, served by the old worker until the new one takes over. */
	ingress_api_then(ingress_reload_now, NULL);
}

/* Push every used slot again (idempotent commands). */
static void
ingress_resync(evutil_socket_t fd, short what, void *arg)
{
	size_t	i, j;

	for (i = 0; i < ig.nservices; i++)
		for (j = 0; j < ig.services[i].nslots; j++)
			if (ig.services[i].slots[j].container_id != NULL)
				ingress_push(&ig.services[i], j);
}

/* Schedule a sync on the loop: changes of one turn share it. */
static void
ingress_changed(int structural)
{
	ig.structural |= structural;
	if (ig.sync != NULL && !evtimer_pending(ig.sync, NULL))
		evtimer_add(ig.sync, &ingress_now);
}

/* Tell haproxy what a slot holds now. */
static void
ingress_push(const struct ingress_service *s, size_t i)
{
	const struct ingress_slot	*slot = &s->slots[i];
	char				*line;

	/* A backend haproxy does not have yet comes with the reload. */
	if (s->dns_only || !s->live)
		return;
	if (slot->container_id != NULL)
		xasprintf(&line, "set server %s/s%zu addr %s port %u; "
		    "set server %s/s%zu state ready", s->backend, i + 1,
		    slot->addr, slot->port, s->backend, i + 1);
	else
		xasprintf(&line, "set server %s/s%zu state maint", s->backend,
		    i + 1);
	ingress_api_send(line);
	free(line);
}

/* Free the slot container id holds, wherever it is; 1 if it held one. */
static int
ingress_slot_release(const char *id, const struct ingress_service *keep)
{
	struct ingress_service	*s;
	size_t			 i, j;
	int			 found = 0;

	for (i = 0; i < ig.nservices; i++) {
		s = &ig.services[i];
		for (j = 0; j < s->nslots; j++) {
			if (s->slots[j].container_id == NULL ||
			    strcmp(s->slots[j].container_id, id) != 0 ||
			    s == keep)
				continue;
			free(s->slots[j].container_id);
			free(s->slots[j].addr);
			s->slots[j].container_id = NULL;
			s->slots[j].addr = NULL;
			ingress_push(s, j);
			found = 1;
		}
	}
	return (found);
}

/*
 * Whether the network of this address admits ingress: its scope's ingress
 * list must name the host's tag (haproxy runs on the host).  reason is set
 * when it does not.
 */
static int
ingress_admitted(const char *addr, const char **reason)
{
	const struct schema	*schema = plugin_ipam_schema();
	struct schema_scope	*scope;
	struct prefix		 p;
	char			 err[128];

	if (schema == NULL)
		return (1);
	if (prefix_parse(addr, 1, &p, err, sizeof err) != 0) {
		*reason = "an address netcraved cannot read";
		return (0);
	}
	if ((scope = schema_find_containing(schema, &p)) == NULL)
		return (1);	/* not netcrave's: Docker's own pools */
	if (!util_strv_has(schema_scope_ingress(scope), ig.host_tag)) {
		*reason = schema_scope_path(scope);
		return (0);
	}
	return (1);
}

/*
 * The endpoint ingress reaches a container at: the first address (IPv4
 * before IPv6) on a network admitting ingress; NULL if none, with reason
 * naming the scope that refused when one did.
 */
static const struct dockerd_endpoint *
ingress_endpoint(const struct dockerd_container *c, const char **addr,
    const char **reason)
{
	const char	*a;
	size_t		 i, j;

	*reason = NULL;
	for (i = 0; i < c->nendpoints; i++) {
		for (j = 0; j < 2; j++) {
			a = j == 0 ? c->endpoints[i].ipv4 : c->endpoints[i].ipv6;
			if (a == NULL || *a == '\0' ||
			    !ingress_admitted(a, reason))
				continue;
			*addr = a;
			return (&c->endpoints[i]);
		}
	}
	return (NULL);
}

const char *
ingress_srv_network(const struct dockerd_container *c)
{
	const struct dockerd_endpoint	*ep;
	const char			*addr, *reason;

	if (!ig.started)
		return (NULL);
	if ((ep = ingress_endpoint(c, &addr, &reason)) == NULL ||
	    ep->network_name == NULL)
		return (NULL);
	return (ep->network_name);
}

/* A service for host, made on first use. */
static struct ingress_service *
ingress_service_get(const struct dockerd_container *c, const char *host)
{
	struct ingress_service	*s;
	const char		*mode, *tls, *waf, *cert;

	if ((s = ingress_service_find(host)) != NULL)
		return (s);
	mode = dockerd_label(c, INGRESS_MODE_LABEL);
	tls = dockerd_label(c, INGRESS_TLS_LABEL);
	waf = dockerd_label(c, INGRESS_WAF_LABEL);
	cert = dockerd_label(c, INGRESS_CERT_LABEL);
	ig.services = xreallocarray(ig.services, ig.nservices + 1,
	    sizeof *ig.services);
	s = &ig.services[ig.nservices++];
	memset(s, 0, sizeof *s);
	s->host = xstrdup(host);
	s->backend = ingress_backend_name(host);
	s->dns_only = mode != NULL && strcmp(mode, "dns") == 0;
	s->tls = tls != NULL && strcmp(tls, "true") == 0;
	if (waf != NULL && *waf != '\0') {
		s->waf_set = xstrdup(waf);
		if (ig.cfg.waf_address[0] == '\0')
			log_warnx("ingress: %s asks for the WAF set %s but "
			    "ingress.waf_address is empty: served directly",
			    host, waf);
	}
	s->nslots = ig.cfg.slots;
	s->slots = xcalloc(s->nslots, sizeof *s->slots);
	if (cert != NULL && strcmp(cert, "acme") == 0 &&
	    ig.cfg.https_listen[0] != '\0')
		ingress_acme_add(s);
	else if (cert != NULL && strcmp(cert, "internal") != 0)
		log_warnx("ingress: %s: %s=%s: acme or internal; the internal "
		    "CA's certificate serves", host, INGRESS_CERT_LABEL, cert);
	log_info("ingress: new service %s (backend %s%s%s)", host, s->backend,
	    s->dns_only ? ", DNS only" : "", s->tls ? ", TLS" : "");
	ingress_changed(1);
	return (s);
}

/* A container (re)appeared: give it a slot of its host's backend. */
static void
ingress_container_set(const struct dockerd_container *c)
{
	struct ingress_service	*s;
	struct ingress_slot	*slot;
	const char		*host, *port_text, *addr = NULL, *reason = NULL;
	char			*end;
	unsigned long		 port = 80;
	size_t			 i, free_at;

	if ((host = dockerd_label(c, INGRESS_HOST_LABEL)) == NULL) {
		if (ingress_slot_release(c->id, NULL))
			ingress_changed(0);
		return;
	}
	if (!ingress_host_ok(host)) {
		log_warnx("container %s: %s: \"%s\" is not a lower-case host "
		    "name", c->name, INGRESS_HOST_LABEL, host);
		return;
	}
	if ((port_text = dockerd_label(c, INGRESS_PORT_LABEL)) != NULL) {
		errno = 0;
		port = strtoul(port_text, &end, 10);
		if (errno != 0 || *end != '\0' || port == 0 || port > 65535) {
			log_warnx("container %s: %s: \"%s\" is not a port",
			    c->name, INGRESS_PORT_LABEL, port_text);
			return;
		}
	}
	if (ingress_endpoint(c, &addr, &reason) == NULL) {
		if (reason != NULL)
			log_warnx("container %s: %s refused: its network's "
			    "scope %s does not admit ingress from tag %s",
			    c->name, INGRESS_HOST_LABEL, reason, ig.host_tag);
		if (ingress_slot_release(c->id, NULL))
			ingress_changed(0);
		return;
	}
	s = ingress_service_get(c, host);
	ingress_slot_release(c->id, s);
	free_at = s->nslots;
	for (i = 0; i < s->nslots; i++) {
		slot = &s->slots[i];
		if (slot->container_id != NULL &&
		    strcmp(slot->container_id, c->id) == 0)
			break;
		if (slot->container_id == NULL && free_at == s->nslots)
			free_at = i;
	}
	if (i == s->nslots) {
		if ((i = free_at) == s->nslots) {
			log_warnx("ingress: %s: all %zu slots in use; container "
			    "%s is reached through DNS only", host, s->nslots,
			    c->name);
			return;
		}
		s->slots[i].container_id = xstrdup(c->id);
	} else if (strcmp(s->slots[i].addr, addr) == 0 &&
	    s->slots[i].port == port)
		return;
	slot = &s->slots[i];
	free(slot->addr);
	slot->addr = xstrdup(addr);
	slot->port = (unsigned int)port;
	log_debug("ingress: %s/s%zu <- %s %s:%u", s->backend, i + 1, c->name,
	    addr, slot->port);
	ingress_push(s, i);
	ingress_changed(0);
}

/* The follower's news. */
static void
ingress_watch(enum dockerd_change change, const struct dockerd_container *c,
    void *arg)
{
	if (change == DOCKERD_CONTAINER_UP && c->running)
		ingress_container_set(c);
	else if (ingress_slot_release(c->id, NULL))
		ingress_changed(0);
}

/* haproxy's state: the runtime API queue waits while it is not ready. */
static void
ingress_child_state(struct child *ch, enum child_state old,
    enum child_state new, void *arg)
{
	ingress_api_set_up(new == CHILD_READY);
	if (new == CHILD_READY && ig.reload_pending) {
		ig.reload_pending = 0;
		ig.structural = 1;
		ingress_changed(1);
	} else if (new == CHILD_READY)
		ig.reload_pending = 0;
}

/*
 * Forget the certificates of an earlier run: every start issues fresh ones
 * (valid INGRESS_CERT_DAYS), so a restart renews them all.
 */
static void
ingress_forget_certs(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		*path;
	size_t		 len;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".pem") != 0)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		if (unlink(path) == -1)
			log_warn("ingress: %s", path);
		free(path);
	}
	closedir(d);
}

/* The default certificate: haproxy needs one before any host exists. */
static int
ingress_default_cert(const struct conf *conf, char *err, size_t errlen)
{
	const char	*names[3] = { conf->instance, "localhost", NULL };
	char		*dir, *path;
	int		 rv = -1;

	xasprintf(&dir, "%s/ca", conf->state_dir);
	xasprintf(&path, "%s/certs/default.pem", ig.dir);
	if (ca_open(dir, conf->instance, err, errlen) != 0)
		goto out;
	free(dir);
	xasprintf(&dir, "%s/certs", ig.dir);
	ingress_forget_certs(dir);
	if (util_mkdir_p(dir, 0700, err, errlen) != 0 ||
	    ingress_pem_issue(names, path, NULL, err, errlen) != 0)
		goto out;
	rv = 0;
out:
	free(dir);
	free(path);
	return (rv);
}

/* Whether "HOST:PORT" is on a loopback address. */
static int
ingress_loopback(const char *listen)
{
	struct sockaddr_storage	 ss;
	int			 len = sizeof ss;

	if (evutil_parse_sockaddr_port(listen, (struct sockaddr *)&ss,
	    &len) != 0)
		return (0);
	if (ss.ss_family == AF_INET)
		return ((ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >>
		    24) == 127);
	if (ss.ss_family == AF_INET6)
		return (IN6_IS_ADDR_LOOPBACK(
		    &((struct sockaddr_in6 *)&ss)->sin6_addr));
	return (0);
}

/* Each container the follower knows already. */
static void
ingress_initial(const struct dockerd_container *c, void *arg)
{
	if (c->running)
		ingress_container_set(c);
}

static int
ingress_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*conf = env->conf;
	struct conf_child	 spec;
	static char		 role[] = "haproxy", master[] = "-W";
	static char		 foreground[] = "-db", file[] = "-f";
	char			*argv[6], *envv[1] = { NULL };

	if (!conf->ingress_enabled)
		return (0);
	memset(&ig, 0, sizeof ig);
	ig.base = env->base;
	xasprintf(&ig.dir, "%s/ingress", conf->run_dir);
	xasprintf(&ig.cfg_path, "%s/haproxy.cfg", ig.dir);
	xasprintf(&ig.socket, "%s/haproxy.sock", ig.dir);
	xasprintf(&ig.crt_list, "%s/crt-list", ig.dir);
	ig.host_tag = xstrdup(conf->host_tag);
	ig.cfg.http_listen = ingress_keep(conf->ingress_http_listen);
	ig.cfg.https_listen = ingress_keep(conf->ingress_https_listen);
	ig.cfg.socket = ig.socket;
	ig.cfg.crt_list = ig.crt_list;
	ig.cfg.resolver = ingress_keep(conf->ingress_resolver[0] != '\0' ?
	    conf->ingress_resolver : conf->dns_listen != NULL &&
	    conf->dns_listen[0] != NULL ? conf->dns_listen[0] : "");
	ig.cfg.zone = ingress_keep(conf->dns_zone);
	ig.cfg.acme_address = ingress_keep(conf->ingress_acme_address);
	ig.cfg.waf_address = ingress_keep(conf->ingress_waf_address);
	ig.cfg.waf_return_listen = ingress_keep(conf->ingress_waf_return_listen);
	ig.cfg.hold_valid_ms = conf->ingress_hold_valid_ms;
	ig.cfg.hold_obsolete_ms = conf->ingress_hold_obsolete_ms;
	ig.cfg.slots = conf->ingress_slots;
	if (ig.cfg.http_listen[0] == '\0') {
		snprintf(err, errlen, "ingress.http_listen is empty");
		return (-1);
	}
	/* Said once here rather than by a child failing exec forever. */
	if (access(conf->ingress_program, X_OK) != 0) {
		snprintf(err, errlen, "ingress.program: %s: %s (Debian package "
		    "haproxy)", conf->ingress_program, strerror(errno));
		return (-1);
	}
	/* Squid's way back skips the firewall: never off the machine. */
	if (ig.cfg.waf_return_listen[0] != '\0' &&
	    !ingress_loopback(ig.cfg.waf_return_listen)) {
		snprintf(err, errlen, "ingress.waf_return_listen: %s: expected "
		    "a loopback address", ig.cfg.waf_return_listen);
		return (-1);
	}
	if (ingress_default_cert(conf, err, errlen) != 0)
		return (-1);
	ig.cfg.ca_file = ingress_keep(ca_certificate_path());
	if (ig.cfg.resolver[0] == '\0')
		log_warnx("ingress: no DNS listener: backends are pushed only, "
		    "without the SRV fallback");
	ig.sync = evtimer_new(env->base, ingress_sync, NULL);
	ig.resync = evtimer_new(env->base, ingress_resync, NULL);
	ig.renew = evtimer_new(env->base, ingress_renew_timer, NULL);
	evtimer_add(ig.renew, &ingress_day);
	ingress_api_init(env->base, ig.socket);
	/* The first config, with whatever the follower already knows. */
	dockerd_foreach(ingress_initial, NULL);
	ig.structural = 1;
	ingress_sync(-1, 0, NULL);
	dockerd_watch(ingress_watch, NULL);

	memset(&spec, 0, sizeof spec);
	spec.role = role;
	argv[0] = conf->ingress_program;
	argv[1] = master;	/* master-worker: SIGUSR2 reloads */
	argv[2] = foreground;	/* stay in the foreground: we supervise */
	argv[3] = file;
	argv[4] = ig.cfg_path;
	argv[5] = NULL;
	spec.argv = argv;
	spec.env = envv;
	spec.restart = CONF_RESTART_ALWAYS;
	spec.backoff_initial_ms = 100;
	spec.backoff_max_ms = 10000;
	spec.ready_socket = ig.socket;	/* ready once the runtime API answers */
	spec.ready_timeout_ms = 30000;
	spec.stop_order = 5;	/* before squid, which it sends traffic to */
	spec.stop_timeout_ms = 3000;
	/* start_after stays unset: no child must be up first (DNS is ours,
	 * and squid only serves WAF services; their backend waits for it). */
	if ((ig.child = supervise_add(&spec, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "a child called \"haproxy\" exists already");
		return (-1);
	}
	supervise_set_state_cb(ig.child, ingress_child_state, NULL);
	ig.started = 1;
	log_info("ingress: haproxy on %s%s%s, runtime API %s",
	    ig.cfg.http_listen, ig.cfg.https_listen[0] != '\0' ? " and " : "",
	    ig.cfg.https_listen, ig.socket);
	return (0);
}

/* A changed string key of this section. */
static int
ingress_differs(const char *a, const char *b)
{
	return (strcmp(a, b) != 0);
}

static int
ingress_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	if (old->ingress_enabled != new->ingress_enabled ||
	    ingress_differs(old->ingress_program, new->ingress_program) ||
	    ingress_differs(old->ingress_http_listen,
	    new->ingress_http_listen) ||
	    ingress_differs(old->ingress_https_listen,
	    new->ingress_https_listen) ||
	    ingress_differs(old->ingress_resolver, new->ingress_resolver) ||
	    ingress_differs(old->ingress_acme_address,
	    new->ingress_acme_address) ||
	    ingress_differs(old->ingress_waf_address,
	    new->ingress_waf_address) ||
	    ingress_differs(old->ingress_waf_return_listen,
	    new->ingress_waf_return_listen) ||
	    old->ingress_hold_valid_ms != new->ingress_hold_valid_ms ||
	    old->ingress_hold_obsolete_ms != new->ingress_hold_obsolete_ms ||
	    old->ingress_slots != new->ingress_slots) {
		snprintf(err, errlen, "ingress changed, which needs a restart");
		return (-1);
	}
	return (0);
}

static void
ingress_shutdown(void)
{
	size_t	i, j;

	if (!ig.started)
		return;
	dockerd_unwatch(ingress_watch, NULL);
	ingress_api_shutdown();
	/* supervise_stop_all has run: haproxy is stopped and may go. */
	if (ig.child != NULL && supervise_remove(ig.child) == 0)
		ig.child = NULL;
	if (ig.sync != NULL)
		event_free(ig.sync);
	if (ig.resync != NULL)
		event_free(ig.resync);
	if (ig.renew != NULL)
		event_free(ig.renew);
	for (i = 0; i < ig.nservices; i++) {
		for (j = 0; j < ig.services[i].nslots; j++) {
			free(ig.services[i].slots[j].container_id);
			free(ig.services[i].slots[j].addr);
		}
		free(ig.services[i].slots);
		/* Before the host, the callback's argument, goes. */
		if (ig.services[i].acme != NULL)
			acme_cert_remove(ig.services[i].acme);
		free(ig.services[i].host);
		free(ig.services[i].backend);
		free(ig.services[i].waf_set);
	}
	free(ig.services);
	for (i = 0; i < ig.nkept; i++)
		free(ig.kept[i]);
	free(ig.dir);
	free(ig.cfg_path);
	free(ig.socket);
	free(ig.crt_list);
	free(ig.host_tag);
	memset(&ig, 0, sizeof ig);
}

void
ingress_gen(yajl_gen g)
{
	const struct ingress_service	*s;
	const struct ingress_slot	*slot;
	size_t				 i, j;

	yajl_gen_map_open(g);
	json_gen_bool(g, "enabled", ig.started);
	json_gen_string(g, "haproxy", ig.child != NULL ?
	    supervise_state_name(supervise_state(ig.child)) : NULL);
	json_gen_int(g, "api_pending", (long long)ingress_api_pending());
	json_gen_key(g, "services");
	yajl_gen_array_open(g);
	for (i = 0; i < ig.nservices; i++) {
		s = &ig.services[i];
		yajl_gen_map_open(g);
		json_gen_string(g, "host", s->host);
		json_gen_string(g, "backend", s->backend);
		json_gen_string(g, "mode", s->dns_only ? "dns" : "push");
		json_gen_bool(g, "tls", s->tls);
		json_gen_string(g, "waf", s->waf_set);
		json_gen_string(g, "cert", s->acme != NULL ? "acme" : "internal");
		json_gen_key(g, "servers");
		yajl_gen_array_open(g);
		for (j = 0; j < s->nslots; j++) {
			slot = &s->slots[j];
			if (slot->container_id == NULL)
				continue;
			yajl_gen_map_open(g);
			json_gen_int(g, "slot", (long long)j + 1);
			json_gen_string(g, "container", slot->container_id);
			json_gen_string(g, "address", slot->addr);
			json_gen_int(g, "port", slot->port);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

/*
 * The ingress hosts' certificates for GET /certs: issuer, expiry, next
 * renewal and the last ACME error, read from the files haproxy loads.
 */
void
ingress_certs_json(yajl_gen g)
{
	const struct ingress_service	*s;
	struct control_cert		 c;
	X509				*cert;
	FILE				*f;
	char				*path;
	time_t				 not_before, not_after;
	size_t				 i;

	if (!ig.started || ig.cfg.https_listen[0] == '\0')
		return;
	for (i = 0; i < ig.nservices; i++) {
		s = &ig.services[i];
		not_before = not_after = 0;
		path = ingress_cert_path(s->host);
		if ((f = fopen(path, "r")) != NULL) {
			if ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
				not_before = ca_time(X509_get0_notBefore(cert));
				not_after = ca_time(X509_get0_notAfter(cert));
				X509_free(cert);
			}
			fclose(f);
		}
		free(path);
		memset(&c, 0, sizeof c);
		c.volume = "-";
		c.names = s->host;
		c.issuer = s->acme != NULL ? "acme" : "internal";
		c.not_before = not_before;
		c.not_after = not_after;
		c.renew_at = acme_cert_renew_next(s->acme, not_before,
		    not_after, &c.error);
		control_cert_entry(g, &c);
	}
}

int
ingress_renew_all(void)
{
	size_t	i;
	int	n = 0;

	if (!ig.started || ig.cfg.https_listen[0] == '\0')
		return (-1);
	for (i = 0; i < ig.nservices; i++)
		if (ig.services[i].acme == NULL &&
		    ingress_cert_renew(ig.services[i].host) == 0)
			n++;
	return (n);
}

const struct server ingress_server = {
	"ingress", ingress_init, ingress_reload, ingress_shutdown
};
