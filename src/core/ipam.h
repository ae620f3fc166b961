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
 * length inside the scope).  Allocated prefixes never overlap.
 */
struct ipam_space *ipam_space_new(const struct prefix *scope, unsigned int child_len);
void		 ipam_space_free(struct ipam_space *);
/* Next free child prefix; -1 when the scope is exhausted. */
int		 ipam_space_alloc(struct ipam_space *, struct prefix *out);
/* Take exactly this prefix: -1 if outside the scope or overlapping one taken. */
int		 ipam_space_claim(struct ipam_space *, const struct prefix *);
/* Give a prefix back; -1 if it was not allocated (callers treat as done). */
int		 ipam_space_release(struct ipam_space *, const struct prefix *);
size_t		 ipam_space_count(const struct ipam_space *);
/* Whether any allocated prefix overlaps p (for reload checks). */
int		 ipam_space_overlaps(const struct ipam_space *, const struct prefix *);

/*
 * A Docker pool handing out host addresses.  IPv4: the network and broadcast
 * addresses are never handed out (except in /31 and /32); IPv6: the subnet-router
 * anycast address (all host bits zero) is never handed out.  Next-free allocation
 * starts after the last address handed out and wraps, so a released address is
 * not immediately reused.
 */
struct ipam_pool *ipam_pool_new(const struct prefix *pool);
void		 ipam_pool_free(struct ipam_pool *);
/* Next free address (out->len is 32 or 128); -1 when the pool is full. */
int		 ipam_pool_alloc(struct ipam_pool *, struct prefix *out);
/* Take exactly this address: -1 if outside the pool, reserved or in use. */
int		 ipam_pool_claim(struct ipam_pool *, const struct prefix *addr);
/* Give an address back; -1 if it was not allocated. */
int		 ipam_pool_release(struct ipam_pool *, const struct prefix *addr);
int		 ipam_pool_is_allocated(const struct ipam_pool *, const struct prefix *addr);
size_t		 ipam_pool_count(const struct ipam_pool *);
const struct prefix *ipam_pool_prefix(const struct ipam_pool *);

#endif
