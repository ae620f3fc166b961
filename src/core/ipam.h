/* ipam.h: address allocators, pure logic: child prefixes inside a scope
 * (ipam_space) and host addresses inside a Docker pool (ipam_pool).  Memory is
 * proportional to what is allocated, never to the size of the prefix. */
#ifndef NETCRAVE_IPAM_H
#define NETCRAVE_IPAM_H

#include <stddef.h>

#include "prefix.h"

struct ipam_space;
struct ipam_pool;

/*
 * A scope's prefix, handing out child prefixes of child_len in address order
 * (first free one), or exact prefixes asked for (an explicit --subnet of any
 * length inside the scope).  Allocated prefixes never overlap.  Kept as a
 * sorted array: alloc is O(allocated), claim and release O(log n) to find plus
 * O(n) to move (scopes hold a few hundred networks).  A child_len shorter than
 * the scope or longer than the family's bits makes every alloc fail.
 */
struct ipam_space *ipam_space_new(const struct prefix *scope, unsigned int child_len);
void		 ipam_space_free(struct ipam_space *);
/* First free child prefix in address order (skipping any that overlaps a
 * prefix taken, of whatever length); -1 when the scope is exhausted. */
int		 ipam_space_alloc(struct ipam_space *, struct prefix *out);
/* Take exactly this prefix: -1 if outside the scope, overlapping one taken,
 * or with host bits set. */
int		 ipam_space_claim(struct ipam_space *, const struct prefix *);
/* Give a prefix back (exactly as taken); -1 if it was not allocated (callers
 * treat as done). */
int		 ipam_space_release(struct ipam_space *, const struct prefix *);
/* Prefixes taken. */
size_t		 ipam_space_count(const struct ipam_space *);
/* Whether any allocated prefix overlaps p (for reload checks). */
int		 ipam_space_overlaps(const struct ipam_space *, const struct prefix *);

/*
 * A Docker pool handing out host addresses.  IPv4: the network and broadcast
 * addresses are never handed out (except in /31 and /32); IPv6: the subnet-router
 * anycast address (all host bits zero) is never handed out (except in /127, as
 * RFC 6164 says, and /128).  Next-free allocation starts after the last address
 * handed out and wraps, so a released address is not immediately reused.
 *
 * Taken addresses live in a hash set of 16-byte slots, doubled above 3/4 full
 * and halved below 1/8: 21 to 43 bytes per address while a pool fills (33 at
 * a million), at most 128 after many releases, whatever the prefix (a /64
 * works).  A full pool is known from its count at once; otherwise alloc
 * probes one address per step from the cursor, at most allocated + 2 steps,
 * and in practice one: the cursor moves past what it skipped, so a run of
 * taken addresses is walked again only after the cursor went round the whole
 * pool (which matters only for a small, nearly full pool: a /16 with 8 free
 * addresses costs 60 to 90 us an alloc).  Claim, release and is_allocated are
 * O(1).  Addresses are given as prefixes whose len is ignored: only the
 * address counts.  A pool prefix with host bits set is masked.
 */
struct ipam_pool *ipam_pool_new(const struct prefix *pool);
/*
 * A pool over a --ip-range inside a network: only the addresses the network
 * reserves (its network, broadcast or all-zero host address) are kept back
 * when they fall inside the range, not the range's own first and last.
 * NULL if range is not inside network.
 */
struct ipam_pool *ipam_pool_new_range(const struct prefix *range,
		    const struct prefix *network);
void		 ipam_pool_free(struct ipam_pool *);
/* Next free address from the cursor (out->len is 32 or 128); -1 when the
 * pool is full.  The cursor then points after it. */
int		 ipam_pool_alloc(struct ipam_pool *, struct prefix *out);
/* Take exactly this address (the cursor stays): -1 if outside the pool,
 * reserved or in use. */
int		 ipam_pool_claim(struct ipam_pool *, const struct prefix *addr);
/* Give an address back; -1 if it was not allocated (or is outside). */
int		 ipam_pool_release(struct ipam_pool *, const struct prefix *addr);
/* Whether the address is taken; 0 if it is outside the pool. */
int		 ipam_pool_is_allocated(const struct ipam_pool *, const struct prefix *addr);
/* Addresses taken (by alloc or claim). */
size_t		 ipam_pool_count(const struct ipam_pool *);
/* The pool's prefix, host bits zero. */
const struct prefix *ipam_pool_prefix(const struct ipam_pool *);

#endif
