/* schema.h: the address schema at run time: the configured scope tree with every
 * "auto" prefix resolved (and kept), each scope's allocator of network prefixes,
 * and lookup by tag or by prefix. */
#ifndef NETCRAVE_SCHEMA_H
#define NETCRAVE_SCHEMA_H

#include <stddef.h>

#include "prefix.h"

struct conf;
struct hostnet;
struct ipam_space;
struct schema;
struct schema_scope;

/*
 * Where "auto" choices are kept: lookup returns the prefix text chosen at an
 * earlier start (or NULL); record keeps a new choice.  key is "<path>:ipv4" or
 * "<path>:ipv6".
 */
struct schema_auto_store {
	const char	*(*lookup)(const char *key, void *arg);
	void		 (*record)(const char *key, const char *prefix, void *arg);
	void		  *arg;
};

/*
 * Build the run-time schema from a validated config.  Every prefix is checked
 * against what the host already routes (hostnet): an explicit scope that
 * collides is an error naming both; an auto one is chosen around them.
 */
struct schema	*schema_build(const struct conf *, const struct hostnet *,
		    const struct schema_auto_store *, char *err, size_t errlen);
void		 schema_free(struct schema *);

/* The scope a tag names, or NULL. */
struct schema_scope *schema_find_tag(const struct schema *, const char *tag);
/* The deepest scope handing out networks of p's family that contains p. */
struct schema_scope *schema_find_containing(const struct schema *,
		    const struct prefix *p);
/* Every tag the schema defines, comma-separated, for error messages. */
const char	*schema_tag_list(const struct schema *);

const char	*schema_scope_path(const struct schema_scope *);
/* The scope's prefix of this family (AF_INET/AF_INET6), or NULL. */
const struct prefix *schema_scope_prefix(const struct schema_scope *, int family);
/* Its allocator of network prefixes, or NULL when it hands out none. */
struct ipam_space *schema_scope_space(const struct schema_scope *, int family);
unsigned int	 schema_scope_network_len(const struct schema_scope *, int family);
/* NULL-terminated tag lists inherited by its networks. */
char *const	*schema_scope_tags(const struct schema_scope *);
char *const	*schema_scope_egress(const struct schema_scope *);
char *const	*schema_scope_ingress(const struct schema_scope *);
/* Walk every scope, parents before their children. */
struct schema_scope *schema_first(const struct schema *);
struct schema_scope *schema_next(const struct schema_scope *);

#endif
