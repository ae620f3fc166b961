/* dav_lock.c: WebDAV write locks (exclusive and shared, Depth 0 or infinity,
 * timeouts, refresh), kept per volume in a sealed file so they survive a
 * restart, and the If header evaluated against them and the etags. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "crypto.h"
#include "dav.h"
#include "dav_private.h"
#include "dav_xml.h"
#include "http.h"
#include "log.h"
#include "xmalloc.h"

#define DAV_LOCK_DEFAULT_TIMEOUT	3600

static struct dav_locks	 dav_locks = TAILQ_HEAD_INITIALIZER(dav_locks);
static unsigned int	 dav_nlocks;

/* Does lock l cover full (its root, or below it with Depth infinity)? */
static int
dav_lock_covers(const struct dav_lock *l, const char *full)
{
	size_t	 n = strlen(l->full);

	if (strcmp(l->full, full) == 0)
		return (1);
	return (l->infinite && strncmp(l->full, full, n) == 0 &&
	    (n == 0 || full[n] == '/'));
}

/* Is full at or below root? */
static int
dav_below(const char *root, const char *full)
{
	size_t	 n = strlen(root);

	return (strncmp(root, full, n) == 0 && (full[n] == '\0' ||
	    full[n] == '/'));
}

/* The volume part of a lock root. */
static char *
dav_lock_volname(const char *full)
{
	return (xstrndup(full, strcspn(full, "/")));
}

/* Write the lock table of one volume. */
static void
dav_locks_save(const char *volname)
{
	struct dav_volume	*vol;
	struct dav_lock		*l;
	struct evbuffer		*b;
	size_t			 n = strlen(volname);
	char			 err[256];
	const char		*rel;

	if ((vol = dav_volume_find(dav_server_store(), volname)) == NULL)
		return;
	b = evbuffer_new();
	TAILQ_FOREACH(l, &dav_locks, entry) {
		if (strncmp(l->full, volname, n) != 0 ||
		    (l->full[n] != '\0' && l->full[n] != '/'))
			continue;
		rel = l->full[n] == '/' ? l->full + n + 1 : "";
		evbuffer_add_printf(b, "%s%c%s%c%c%c%c%u%c%lld%c%s%c", l->token,
		    0, rel, 0, l->exclusive ? 'e' : 's', l->infinite ? 'i' : '0',
		    0, l->timeout, 0, (long long)l->expires, 0,
		    l->owner != NULL ? l->owner : "", 0);
	}
	if (dav_volume_locks_save(vol, evbuffer_pullup(b, -1),
	    evbuffer_get_length(b), err, sizeof err) == -1)
		log_warnx("dav: locks of volume %s not saved: %s", volname, err);
	evbuffer_free(b);
}

/* Free one lock. */
static void
dav_lock_free(struct dav_lock *l)
{
	TAILQ_REMOVE(&dav_locks, l, entry);
	dav_nlocks--;
	free(l->full);
	free(l->owner);
	free(l);
}

/* Drop expired locks (saving the volumes they were in). */
static void
dav_locks_expire(void)
{
	struct dav_lock	*l, *next;
	time_t		 now = time(NULL);
	char		*vol;

	for (l = TAILQ_FIRST(&dav_locks); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->timeout == 0 || l->expires > now)
			continue;
		vol = dav_lock_volname(l->full);
		log_debug("dav: lock on %s expired", l->full);
		dav_lock_free(l);
		dav_locks_save(vol);
		free(vol);
		next = TAILQ_FIRST(&dav_locks);	/* the list changed */
	}
}

/* Locks covering full, one at a time. */
struct dav_lock *
dav_lock_next_covering(const char *full, struct dav_lock *prev)
{
	struct dav_lock	*l;

	if (prev == NULL)
		dav_locks_expire();
	for (l = prev == NULL ? TAILQ_FIRST(&dav_locks) : TAILQ_NEXT(prev,
	    entry); l != NULL; l = TAILQ_NEXT(l, entry)) {
		if (dav_lock_covers(l, full))
			return (l);
	}
	return (NULL);
}

/* Add a lock to the table (no save). */
static struct dav_lock *
dav_lock_add(const char *token, const char *full, int exclusive, int infinite,
    const char *owner, unsigned int timeout, time_t expires)
{
	struct dav_lock	*l;

	l = xcalloc(1, sizeof *l);
	snprintf(l->token, sizeof l->token, "%s", token);
	l->full = xstrdup(full);
	l->exclusive = exclusive;
	l->infinite = infinite;
	l->owner = owner != NULL && *owner != '\0' ? xstrdup(owner) : NULL;
	l->timeout = timeout;
	l->expires = expires;
	TAILQ_INSERT_TAIL(&dav_locks, l, entry);
	dav_nlocks++;
	return (l);
}

/* Load the lock tables of every volume. */
int
dav_locks_init(char *err, size_t errlen)
{
	struct dav_volume	*vol;
	char			*data, *p, *end, *f[6], *full;
	size_t			 len;
	int			 i;

	for (vol = dav_volume_next(dav_server_store(), NULL); vol != NULL;
	    vol = dav_volume_next(dav_server_store(), vol)) {
		if (dav_volume_locks_load(vol, &data, &len, err, errlen) == -1)
			return (-1);
		if (data == NULL)
			continue;
		for (p = data, end = data + len; p < end;) {
			for (i = 0; i < 6 && p < end; i++) {
				f[i] = p;
				p += strnlen(p, end - p) + 1;
			}
			if (i < 6 || strlen(f[2]) != 2)
				break;
			if (*f[1] != '\0')
				xasprintf(&full, "%s/%s", dav_volume_name(vol),
				    f[1]);
			else
				full = xstrdup(dav_volume_name(vol));
			dav_lock_add(f[0], full, f[2][0] == 'e', f[2][1] == 'i',
			    f[5], (unsigned int)strtoul(f[3], NULL, 10),
			    (time_t)strtoll(f[4], NULL, 10));
			free(full);
		}
		free(data);
	}
	if (dav_nlocks > 0)
		log_info("dav: %u locks restored", dav_nlocks);
	return (0);
}

/* Forget every lock in memory (the files stay). */
void
dav_locks_shutdown(void)
{
	struct dav_lock	*l;

	while ((l = TAILQ_FIRST(&dav_locks)) != NULL)
		dav_lock_free(l);
}

/* Drop the locks rooted at full or below (resource gone). */
void
dav_locks_drop(const char *full)
{
	struct dav_lock	*l, *next;
	int		 changed = 0;
	char		*vol;

	for (l = TAILQ_FIRST(&dav_locks); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (dav_below(full, l->full)) {
			dav_lock_free(l);
			changed = 1;
		}
	}
	if (changed) {
		vol = dav_lock_volname(full);
		dav_locks_save(vol);
		free(vol);
	}
}

/* A volume went away with its lock file. */
void
dav_locks_volume_removed(const char *volname)
{
	struct dav_lock	*l, *next;

	for (l = TAILQ_FIRST(&dav_locks); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (dav_below(volname, l->full))
			dav_lock_free(l);
	}
}

/* Was this token submitted in the If header? */
static int
dav_token_submitted(struct dav_req *dr, const char *token)
{
	size_t	 i, j;

	if (!dr->has_if)
		return (0);
	for (i = 0; i < dr->ifh.nlists; i++) {
		for (j = 0; j < dr->ifh.lists[i].nconds; j++) {
			const struct dav_if_cond *c = &dr->ifh.lists[i].conds[j];

			if (!c->is_etag && !c->negate &&
			    strcmp(c->value, token) == 0)
				return (1);
		}
	}
	return (0);
}

static int	dav_if_true(struct dav_req *);

/* Does the If header hold any state token besides DAV: ones ("DAV:no-lock")? */
static int
dav_if_has_tokens(struct dav_req *dr)
{
	size_t	 i, j;

	for (i = 0; i < dr->ifh.nlists; i++) {
		for (j = 0; j < dr->ifh.lists[i].nconds; j++) {
			const struct dav_if_cond *c = &dr->ifh.lists[i].conds[j];

			if (!c->is_etag && strncmp(c->value, "DAV:", 4) != 0)
				return (1);
		}
	}
	return (0);
}

/*
 * 423 naming the lock root whose token is missing.  A request whose If header
 * offers no lock token at all and fails anyway gets the 412 its condition
 * earns: the lock was not what stopped it.
 */
static int
dav_locked(struct dav_req *dr, const char *root)
{
	struct evbuffer	*b;

	if (dr->has_if && !dav_if_has_tokens(dr) && !dav_if_true(dr)) {
		dav_error(dr, 412, NULL, "no list of the If header holds");
		return (412);
	}
	b = evbuffer_new();
	if (strcmp(dr->method, "DELETE") == 0 && dav_below(dr->t.full, root) &&
	    strcmp(dr->t.full, root) != 0) {
		/* A locked member: the multistatus names it (RFC 4918 9.6.1);
		 * nothing was deleted. */
		dav_multistatus_begin(b);
		evbuffer_add_printf(b, "<D:response><D:href>");
		dav_href(b, root, 0);
		evbuffer_add_printf(b, "</D:href><D:status>HTTP/1.1 423 Locked"
		    "</D:status><D:error><D:lock-token-submitted><D:href>");
		dav_href(b, root, 0);
		evbuffer_add_printf(b, "</D:href></D:lock-token-submitted>"
		    "</D:error></D:response>\n");
		dav_multistatus_end(b);
		dav_finish_buffer(dr, 207, b);
		return (207);
	}
	evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted><D:href>");
	dav_href(b, root, 0);
	evbuffer_add_printf(b, "</D:href></D:lock-token-submitted>"
	    "<D:responsedescription>locked: submit its lock token in the If "
	    "header</D:responsedescription></D:error>\n");
	log_debug("dav: %s %s: 423, lock on %s", dr->method, dr->t.full, root);
	dav_finish_buffer(dr, 423, b);
	return (423);
}

/* Is resource full (covered by some lock) unlocked by a submitted token? */
static const char *
dav_lock_blocker(struct dav_req *dr, const char *full)
{
	struct dav_lock	*l = NULL;
	const char	*root = NULL;

	while ((l = dav_lock_next_covering(full, l)) != NULL) {
		if (dav_token_submitted(dr, l->token))
			return (NULL);
		root = l->full;
	}
	return (root);
}

/* May the request change full (and its members, and its parent's membership)? */
int
dav_lock_check(struct dav_req *dr, const char *full, int recursive,
    int membership)
{
	struct dav_lock	*l;
	const char	*root, *slash;
	char		*parent;

	if ((root = dav_lock_blocker(dr, full)) != NULL)
		return (dav_locked(dr, root));
	if (recursive) {
		TAILQ_FOREACH(l, &dav_locks, entry) {
			if (strcmp(l->full, full) != 0 &&
			    dav_below(full, l->full) &&
			    !dav_token_submitted(dr, l->token))
				return (dav_locked(dr, l->full));
		}
	}
	if (membership && (slash = strrchr(full, '/')) != NULL) {
		parent = xstrndup(full, slash - full);
		root = dav_lock_blocker(dr, parent);
		if (root != NULL) {
			char	*copy = xstrdup(root);
			int	 rv;

			free(parent);
			rv = dav_locked(dr, copy);
			free(copy);
			return (rv);
		}
		free(parent);
	}
	return (0);
}

/* A tag or coded URL as a "vol/rel" key; NULL if it is not one of ours. */
static char *
dav_if_resource(struct dav_req *dr, const char *uri)
{
	struct dav_target	 t;
	const char		*p = uri, *why;
	size_t			 n;
	char			*full;

	if ((n = strcspn(p, ":/")) > 0 && strncmp(p + n, "://", 3) == 0) {
		p += n + 3;
		p += strcspn(p, "/");
		if (*p == '\0')
			p = "/";
	}
	if (dav_target_parse(p, &t, &why) == -1)
		return (NULL);
	full = xstrdup(t.full);
	dav_target_clear(&t);
	return (full);
}

/* Does one condition hold for resource full? */
static int
dav_if_cond_true(const struct dav_if_cond *c, const char *full)
{
	struct dav_lock	*l = NULL;
	char		 etag[64];
	const char	*v = c->value;
	int		 r = 0;

	if (c->is_etag) {
		if (strncmp(v, "W/", 2) == 0)
			v += 2;
		r = dav_full_etag(full, etag, sizeof etag) &&
		    strcmp(etag, v) == 0;
	} else {
		while ((l = dav_lock_next_covering(full, l)) != NULL) {
			if (strcmp(l->token, v) == 0) {
				r = 1;
				break;
			}
		}
	}
	return (c->negate ? !r : r);
}

/* Does any list of the If header hold? */
static int
dav_if_true(struct dav_req *dr)
{
	const struct dav_if_list	*l;
	char				*full;
	size_t				 i, j;
	int				 ok;

	for (i = 0; i < dr->ifh.nlists; i++) {
		l = &dr->ifh.lists[i];
		if (l->tag != NULL) {
			if ((full = dav_if_resource(dr, l->tag)) == NULL)
				continue;
		} else
			full = xstrdup(dr->t.full);
		ok = 1;
		for (j = 0; j < l->nconds && ok; j++)
			ok = dav_if_cond_true(&l->conds[j], full);
		free(full);
		if (ok)
			return (1);
	}
	return (0);
}

/* The If header: true when any list holds; otherwise 412. */
int
dav_if_check(struct dav_req *dr)
{
	if (!dr->has_if || dav_if_true(dr))
		return (0);
	dav_error(dr, 412, NULL, "no list of the If header holds");
	return (412);
}

/* Timeout header: the first value we understand, capped. */
static unsigned int
dav_lock_timeout(struct dav_req *dr)
{
	const char	*h = http_request_header(dr->req, "Timeout"), *p;
	unsigned long	 v;
	unsigned int	 max = dav_caps.max_lock_timeout;

	if (h == NULL)
		return (DAV_LOCK_DEFAULT_TIMEOUT < max ? DAV_LOCK_DEFAULT_TIMEOUT :
		    max);
	for (p = h; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, "Infinite", 8) == 0)
			return (max);
		if (strncasecmp(p, "Second-", 7) == 0) {
			v = strtoul(p + 7, NULL, 10);
			if (v == 0)
				v = 1;
			return (v < max ? (unsigned int)v : max);
		}
		p += strcspn(p, ",");
	}
	return (DAV_LOCK_DEFAULT_TIMEOUT < max ? DAV_LOCK_DEFAULT_TIMEOUT : max);
}

/* The reply to LOCK: lockdiscovery of one lock. */
static void
dav_lock_reply(struct dav_req *dr, struct dav_lock *l, int status)
{
	struct evbuffer	*b;
	char		*hdr;

	b = evbuffer_new();
	evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>");
	dav_activelock(b, l);
	evbuffer_add_printf(b, "</D:lockdiscovery></D:prop>\n");
	xasprintf(&hdr, "<%s>", l->token);
	http_reply_header(dr->req, "Lock-Token", hdr);
	free(hdr);
	dav_finish_buffer(dr, status, b);
}

/* LOCK: a new lock, or a refresh when there is no body. */
void
dav_lock(struct dav_req *dr)
{
	struct dav_xml	*x, *scope, *type, *owner;
	struct dav_lock	*l = NULL, *nl;
	struct evbuffer	*ob;
	struct dav_writer *w;
	char		 err[256], token[64], *o = NULL, *vol;
	unsigned char	 u[16];
	int		 depth, exclusive, infinite, status = 200;
	size_t		 i;

	if (dr->t.is_root || dr->t.vol == NULL) {
		dav_error(dr, dr->t.is_root ? 403 : 409, NULL,
		    dr->t.is_root ? "the root cannot be locked" :
		    "no such volume");
		return;
	}
	depth = dav_depth(dr, -1);
	if (depth == -2 || depth == 1) {
		dav_error(dr, 400, NULL, "LOCK takes Depth 0 or infinity");
		return;
	}
	if (evbuffer_get_length(dr->body) == 0) {
		/* Refresh: the If header names a lock of this resource. */
		if (!dr->has_if) {
			dav_error(dr, 400, NULL, "LOCK without a body refreshes "
			    "and needs an If header with the token");
			return;
		}
		while ((l = dav_lock_next_covering(dr->t.full, l)) != NULL) {
			if (dav_token_submitted(dr, l->token))
				break;
		}
		if (l == NULL) {
			dav_error(dr, 412, "lock-token-matches-request-uri",
			    "no lock of this resource was submitted");
			return;
		}
		l->timeout = dav_lock_timeout(dr);
		l->expires = time(NULL) + l->timeout;
		vol = dav_lock_volname(l->full);
		dav_locks_save(vol);
		free(vol);
		dav_lock_reply(dr, l, 200);
		return;
	}
	if ((x = dav_xml_parse((const char *)evbuffer_pullup(dr->body, -1),
	    evbuffer_get_length(dr->body), err, sizeof err)) == NULL) {
		dav_error(dr, 400, NULL, "malformed request body: %s", err);
		return;
	}
	scope = dav_xml_child(x, DAV_NS, "lockscope");
	type = dav_xml_child(x, DAV_NS, "locktype");
	if (!dav_xml_is(x, DAV_NS, "lockinfo") || scope == NULL || type == NULL ||
	    dav_xml_child(type, DAV_NS, "write") == NULL ||
	    (dav_xml_child(scope, DAV_NS, "exclusive") == NULL &&
	    dav_xml_child(scope, DAV_NS, "shared") == NULL)) {
		dav_xml_free(x);
		dav_error(dr, 400, NULL, "expected DAV:lockinfo with a write "
		    "locktype and an exclusive or shared lockscope");
		return;
	}
	exclusive = dav_xml_child(scope, DAV_NS, "exclusive") != NULL;
	infinite = depth == -1;
	if ((owner = dav_xml_child(x, DAV_NS, "owner")) != NULL) {
		ob = evbuffer_new();
		dav_xml_serialize_children(ob, owner);
		evbuffer_add(ob, "", 1);
		o = xstrdup((const char *)evbuffer_pullup(ob, -1));
		evbuffer_free(ob);
	}
	dav_xml_free(x);
	dav_locks_expire();
	TAILQ_FOREACH(l, &dav_locks, entry) {
		if (!dav_lock_covers(l, dr->t.full) && !(infinite &&
		    dav_below(dr->t.full, l->full)))
			continue;
		if (l->exclusive || exclusive) {
			struct evbuffer	*b = evbuffer_new();

			free(o);
			evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding="
			    "\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\">"
			    "<D:no-conflicting-lock><D:href>");
			dav_href(b, l->full, 0);
			evbuffer_add_printf(b, "</D:href></D:no-conflicting-lock>"
			    "</D:error>\n");
			dav_finish_buffer(dr, 423, b);
			return;
		}
	}
	if (dav_if_check(dr) != 0) {
		free(o);
		return;
	}
	if (dav_nlocks >= dav_caps.max_locks) {
		free(o);
		dav_error(dr, 503, NULL, "lock table full (%u locks)",
		    dav_caps.max_locks);
		return;
	}
	if (!dr->t.st.exists) {
		/* An unmapped URL: an empty file is made and locked (201). */
		if (dav_lock_check(dr, dr->t.full, 0, 1) != 0) {
			free(o);
			return;
		}
		if ((w = dav_writer_new(dr->t.vol, err, sizeof err)) == NULL ||
		    dav_writer_commit(w, dr->t.rel, err, sizeof err) == -1) {
			free(o);
			dav_error(dr, dav_errno_status(errno) == 500 ? 500 : 409,
			    NULL, "%s", err);
			return;
		}
		status = 201;
	}
	crypto_random(u, sizeof u);
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	i = (size_t)snprintf(token, sizeof token, "urn:uuid:");
	for (int k = 0; k < 16; k++) {
		i += snprintf(token + i, sizeof token - i, "%02x%s", u[k],
		    k == 3 || k == 5 || k == 7 || k == 9 ? "-" : "");
	}
	nl = dav_lock_add(token, dr->t.full, exclusive, infinite, o,
	    dav_lock_timeout(dr), 0);
	nl->expires = time(NULL) + nl->timeout;
	free(o);
	vol = dav_lock_volname(nl->full);
	dav_locks_save(vol);
	free(vol);
	dav_lock_reply(dr, nl, status);
}

/* UNLOCK: the token must name a lock covering the request URI. */
void
dav_unlock(struct dav_req *dr)
{
	struct dav_lock	*l = NULL;
	const char	*h;
	char		*tok, *vol;
	size_t		 n;

	if ((h = http_request_header(dr->req, "Lock-Token")) == NULL ||
	    (n = strlen(h)) < 3 || h[0] != '<' || h[n - 1] != '>') {
		dav_error(dr, 400, NULL, "UNLOCK needs Lock-Token: <token>");
		return;
	}
	tok = xstrndup(h + 1, n - 2);
	while ((l = dav_lock_next_covering(dr->t.full, l)) != NULL) {
		if (strcmp(l->token, tok) == 0)
			break;
	}
	free(tok);
	if (l == NULL) {
		dav_error(dr, 409, "lock-token-matches-request-uri",
		    "that token locks no resource at this URL");
		return;
	}
	vol = dav_lock_volname(l->full);
	dav_lock_free(l);
	dav_locks_save(vol);
	free(vol);
	dav_finish(dr, 204, NULL, NULL, 0);
}
