/* schema.c: the address schema at run time: the configured scope tree with every
 * "auto" prefix resolved (and kept), each scope's allocator of network prefixes,
 * and lookup by tag or by prefix. */
#include "config.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "conf.h"
#include "crypto.h"
#include "hostnet.h"
#include "ipam.h"
#include "log.h"
#include "prefix.h"
#include "schema.h"
#include "util.h"
#include "xmalloc.h"

#define FAMILY_INDEX(af)	((af) == AF_INET ? 0 : 1)
/* Candidates tried for one auto prefix before giving up. */
#define SCHEMA_AUTO_TRIES	(1u << 20)

struct schema_scope {
	char			 *path;
	struct prefix		  prefix[2];	/* [0] IPv4, [1] IPv6 */
	int			  has[2];
	unsigned int		  network_len[2];
	struct ipam_space	 *space[2];
	char			**tags;
	char			**egress;
	char			**ingress;
	struct schema_scope	 *parent;
	const struct schema	 *schema;
	size_t			  index;	/* in schema->scopes */
};

struct schema {
	struct schema_scope	**scopes;	/* parents before their children */
	size_t			  nscopes;
	char			 *tag_list;
};

struct schema_build {
	struct schema			*schema;
	const struct hostnet		*host;
	const struct schema_auto_store	*store;
	char				*err;
	size_t				 errlen;
};

/* The i-th child prefix of length len inside parent. */
static void
schema_nth_child(const struct prefix *parent, unsigned int len, uint64_t i,
    struct prefix *out)
{
	unsigned int	bit;

	*out = *parent;
	out->len = len;
	prefix_mask(out);
	for (bit = len; bit-- > parent->len && i != 0; i >>= 1)
		prefix_set_bit(out, bit, (int)(i & 1));
}

/*
 * Whether candidate collides with the host or with a sibling already placed
 * (siblings: the scopes of the schema with the same parent).  Fills why.
 */
static int
schema_collides(struct schema_build *b, const struct schema_scope *parent,
    const struct schema_scope *self, int fi, const struct prefix *p,
    char *why, size_t whylen)
{
	const struct hostnet_entry	*e;
	const struct schema_scope	*s;
	char				 buf[PREFIX_STRLEN];
	size_t				 i;

	if ((e = hostnet_collision(b->host, p)) != NULL) {
		snprintf(why, whylen, "it overlaps the host's %s", e->what);
		return (1);
	}
	for (i = 0; i < b->schema->nscopes; i++) {
		s = b->schema->scopes[i];
		if (s == self || s->parent != parent || !s->has[fi])
			continue;
		if (prefix_overlaps(&s->prefix[fi], p)) {
			snprintf(why, whylen, "it overlaps scope %s (%s)", s->path,
			    prefix_format(&s->prefix[fi], 1, buf, sizeof buf));
			return (1);
		}
	}
	return (0);
}

/* Pick a top-level auto prefix: a random ULA, or a random private IPv4 block. */
static int
schema_auto_top(struct schema_build *b, struct schema_scope *s, int fi,
    unsigned int len, struct prefix *out)
{
	static const char *const v4_blocks[] = { "10.0.0.0/8", "172.16.0.0/12" };
	struct prefix	 block;
	uint64_t	 r;
	unsigned int	 tries, k;
	char		 why[160], err[64];

	for (k = 0; k < (fi == 0 ? 2u : 1u); k++) {
		if (fi == 0)
			prefix_parse(v4_blocks[k], 1, &block, err, sizeof err);
		else
			prefix_parse("fd00::/8", 1, &block, err, sizeof err);
		if (len < block.len)
			continue;
		for (tries = 0; tries < 256; tries++) {
			crypto_random(&r, sizeof r);
			if (len - block.len < 64)
				r &= (UINT64_C(1) << (len - block.len)) - 1;
			schema_nth_child(&block, len, r, out);
			if (!schema_collides(b, NULL, s, fi, out, why, sizeof why))
				return (0);
		}
	}
	snprintf(b->err, b->errlen, "scope %s: no free %s /%u found for \"auto\"",
	    s->path, fi == 0 ? "private IPv4" : "ULA", len);
	return (-1);
}

/* Pick an auto prefix below a parent: the first free one in address order. */
static int
schema_auto_child(struct schema_build *b, struct schema_scope *s, int fi,
    unsigned int len, struct prefix *out)
{
	const struct prefix	*parent = &s->parent->prefix[fi];
	uint64_t		 i, count;
	char			 why[160], buf[PREFIX_STRLEN];

	count = len - parent->len >= 64 ? UINT64_MAX :
	    UINT64_C(1) << (len - parent->len);
	for (i = 0; i < count && i < SCHEMA_AUTO_TRIES; i++) {
		schema_nth_child(parent, len, i, out);
		if (!schema_collides(b, s->parent, s, fi, out, why, sizeof why))
			return (0);
	}
	snprintf(b->err, b->errlen, "scope %s: no free /%u left inside %s for "
	    "\"auto\"", s->path, len, prefix_format(parent, 1, buf, sizeof buf));
	return (-1);
}

/*
 * Resolve one family of a scope: explicit, auto (kept from an earlier start, or
 * chosen now and recorded), or none.
 */
static int
schema_resolve(struct schema_build *b, struct schema_scope *s, int fi,
    const char *text)
{
	struct prefix	 p;
	const char	*kept;
	char		 key[512], why[160], perr[160], buf[PREFIX_STRLEN];
	unsigned int	 len;
	char		*end;

	if (text == NULL)
		return (0);
	snprintf(key, sizeof key, "%s:%s", s->path, fi == 0 ? "ipv4" : "ipv6");
	if (strncmp(text, "auto/", 5) != 0) {
		if (prefix_parse(text, 1, &p, perr, sizeof perr) == -1) {
			snprintf(b->err, b->errlen, "scope %s: %s", s->path, perr);
			return (-1);
		}
		if (schema_collides(b, s->parent, s, fi, &p, why, sizeof why)) {
			snprintf(b->err, b->errlen, "scope %s: %s: %s; change the "
			    "schema so container traffic cannot leave the machine "
			    "by mistake", s->path, text, why);
			return (-1);
		}
		s->prefix[fi] = p;
		s->has[fi] = 1;
		return (0);
	}

	len = (unsigned int)strtoul(text + 5, &end, 10);
	kept = b->store != NULL ? b->store->lookup(key, b->store->arg) : NULL;
	if (kept != NULL) {
		if (prefix_parse(kept, 1, &p, perr, sizeof perr) == -1 ||
		    p.len != len || (fi == 0) != (p.family == AF_INET) ||
		    (s->parent != NULL &&
		    !prefix_contains(&s->parent->prefix[fi], &p))) {
			log_warnx("schema: %s: the kept choice %s no longer fits "
			    "%s; choosing again", s->path, kept, text);
		} else if (schema_collides(b, s->parent, s, fi, &p, why,
		    sizeof why)) {
			snprintf(b->err, b->errlen, "scope %s: %s, chosen for "
			    "\"%s\" at an earlier start: %s", s->path, kept, text,
			    why);
			return (-1);
		} else {
			s->prefix[fi] = p;
			s->has[fi] = 1;
			return (0);
		}
	}
	if (s->parent == NULL) {
		if (schema_auto_top(b, s, fi, len, &p) == -1)
			return (-1);
	} else if (schema_auto_child(b, s, fi, len, &p) == -1)
		return (-1);
	s->prefix[fi] = p;
	s->has[fi] = 1;
	prefix_format(&p, 1, buf, sizeof buf);
	log_info("schema: %s: chose %s for \"%s\"", s->path, buf, text);
	if (b->store != NULL)
		b->store->record(key, buf, b->store->arg);
	return (0);
}

/* Add a scope for c (and, recursively, its children). */
static struct schema_scope *
schema_add(struct schema_build *b, const struct conf_scope *c,
    struct schema_scope *parent)
{
	struct schema_scope	*s;

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(c->path);
	s->parent = parent;
	s->schema = b->schema;
	s->network_len[0] = c->ipv4_prefix_length;
	s->network_len[1] = c->ipv6_prefix_length;
	s->tags = util_strv_copy(c->tags);
	s->egress = util_strv_copy(c->egress);
	s->ingress = util_strv_copy(c->ingress);
	s->index = b->schema->nscopes;
	b->schema->scopes = xreallocarray(b->schema->scopes,
	    b->schema->nscopes + 1, sizeof *b->schema->scopes);
	b->schema->scopes[b->schema->nscopes++] = s;
	return (s);
}

/*
 * Place the children of one parent: explicit prefixes first, so that auto ones
 * are chosen around them, then auto ones in declaration order; then recurse.
 */
static int
schema_place(struct schema_build *b, const struct conf_scope *children,
    size_t n, struct schema_scope *parent)
{
	struct schema_scope	**made;
	size_t			  i;
	int			  pass, rv = -1;

	made = xcalloc(n + 1, sizeof *made);
	for (i = 0; i < n; i++)
		made[i] = schema_add(b, &children[i], parent);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			const char *v4 = children[i].ipv4_network;
			const char *v6 = children[i].ipv6_network;
			int auto4 = v4 != NULL && strncmp(v4, "auto/", 5) == 0;
			int auto6 = v6 != NULL && strncmp(v6, "auto/", 5) == 0;

			/* Pass 0 places explicit prefixes, pass 1 auto ones. */
			if (auto4 == (pass == 1) &&
			    schema_resolve(b, made[i], 0, v4) == -1)
				goto out;
			if (auto6 == (pass == 1) &&
			    schema_resolve(b, made[i], 1, v6) == -1)
				goto out;
		}
	}
	for (i = 0; i < n; i++)
		if (schema_place(b, children[i].children, children[i].nchildren,
		    made[i]) == -1)
			goto out;
	rv = 0;
out:
	free(made);
	return (rv);
}

/* Build the run-time schema from a validated config. */
struct schema *
schema_build(const struct conf *conf, const struct hostnet *host,
    const struct schema_auto_store *store, char *err, size_t errlen)
{
	struct schema_build	 b;
	struct schema		*schema;
	struct schema_scope	*s;
	size_t			 i, len = 0;
	char			*t;
	int			 fi;

	schema = xcalloc(1, sizeof *schema);
	memset(&b, 0, sizeof b);
	b.schema = schema;
	b.host = host;
	b.store = store;
	b.err = err;
	b.errlen = errlen;
	if (schema_place(&b, conf->scopes, conf->nscopes, NULL) == -1) {
		schema_free(schema);
		return (NULL);
	}
	for (i = 0; i < schema->nscopes; i++) {
		s = schema->scopes[i];
		for (fi = 0; fi < 2; fi++) {
			if (!s->has[fi] || s->network_len[fi] == 0)
				continue;
			s->space[fi] = ipam_space_new(&s->prefix[fi],
			    s->network_len[fi]);
		}
	}
	schema->tag_list = xstrdup("");
	for (i = 0; i < schema->nscopes; i++) {
		char **tag;

		for (tag = schema->scopes[i]->tags; *tag != NULL; tag++) {
			xasprintf(&t, "%s%s%s", schema->tag_list,
			    len > 0 ? ", " : "", *tag);
			free(schema->tag_list);
			schema->tag_list = t;
			len++;
		}
	}
	return (schema);
}

/* Free the schema and every allocator in it. */
void
schema_free(struct schema *schema)
{
	struct schema_scope	*s;
	size_t			 i;

	if (schema == NULL)
		return;
	for (i = 0; i < schema->nscopes; i++) {
		s = schema->scopes[i];
		if (s->space[0] != NULL)
			ipam_space_free(s->space[0]);
		if (s->space[1] != NULL)
			ipam_space_free(s->space[1]);
		util_strv_free(s->tags);
		util_strv_free(s->egress);
		util_strv_free(s->ingress);
		free(s->path);
		free(s);
	}
	free(schema->scopes);
	free(schema->tag_list);
	free(schema);
}

/* The scope a tag names, or NULL. */
struct schema_scope *
schema_find_tag(const struct schema *schema, const char *tag)
{
	char	**t;
	size_t	  i;

	for (i = 0; i < schema->nscopes; i++)
		for (t = schema->scopes[i]->tags; *t != NULL; t++)
			if (strcmp(*t, tag) == 0)
				return (schema->scopes[i]);
	return (NULL);
}

/* The deepest scope handing out networks of p's family that contains p. */
struct schema_scope *
schema_find_containing(const struct schema *schema, const struct prefix *p)
{
	struct schema_scope	*s, *best = NULL;
	size_t			 i;
	int			 fi = FAMILY_INDEX(p->family);

	for (i = 0; i < schema->nscopes; i++) {
		s = schema->scopes[i];
		if (s->space[fi] == NULL || !prefix_contains(&s->prefix[fi], p))
			continue;
		if (best == NULL || s->prefix[fi].len > best->prefix[fi].len)
			best = s;
	}
	return (best);
}

/* Every tag the schema defines, for error messages. */
const char *
schema_tag_list(const struct schema *schema)
{
	return (schema->tag_list);
}

/* The scope's path, e.g. "netcrave/default". */
const char *
schema_scope_path(const struct schema_scope *s)
{
	return (s->path);
}

/* The scope's prefix of this family, or NULL. */
const struct prefix *
schema_scope_prefix(const struct schema_scope *s, int family)
{
	int	fi = FAMILY_INDEX(family);

	return (s->has[fi] ? &s->prefix[fi] : NULL);
}

/* The scope's allocator of network prefixes, or NULL. */
struct ipam_space *
schema_scope_space(const struct schema_scope *s, int family)
{
	return (s->space[FAMILY_INDEX(family)]);
}

/* The prefix length of the networks the scope hands out (0: none). */
unsigned int
schema_scope_network_len(const struct schema_scope *s, int family)
{
	return (s->network_len[FAMILY_INDEX(family)]);
}

/* Tags of the scope. */
char *const *
schema_scope_tags(const struct schema_scope *s)
{
	return (s->tags);
}

/* Tags the scope may reach. */
char *const *
schema_scope_egress(const struct schema_scope *s)
{
	return (s->egress);
}

/* Tags allowed to reach the scope. */
char *const *
schema_scope_ingress(const struct schema_scope *s)
{
	return (s->ingress);
}

/* First scope (parents come before their children). */
struct schema_scope *
schema_first(const struct schema *schema)
{
	return (schema->nscopes > 0 ? schema->scopes[0] : NULL);
}

/* Next scope. */
struct schema_scope *
schema_next(const struct schema_scope *s)
{
	if (s->index + 1 >= s->schema->nscopes)
		return (NULL);
	return (s->schema->scopes[s->index + 1]);
}
