/* ipam.c: address allocators, pure logic: child prefixes inside a scope
 * (ipam_space, a sorted array of what is taken) and host addresses inside a
 * pool (ipam_pool, a hash set of taken addresses and a next-free cursor), so
 * memory follows what is allocated, never the size of the prefix. */
#include "config.h"

#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "log.h"
#include "prefix.h"
#include "xmalloc.h"

/*
 * A host address as its offset inside the pool, a 128-bit number in two
 * halves (no __int128: 32-bit targets run Docker too).
 */
struct ipam_offset {
	uint64_t	hi;
	uint64_t	lo;
};

/*
 * Open-addressing hash set of offsets: linear probing, deletion by shifting
 * later entries back (no tombstones, so lookups stay short after churn).  The
 * table doubles above 3/4 full and halves below 1/8, so its size follows the
 * number of entries both ways.
 */
struct ipam_set {
	struct ipam_offset	*keys;
	uint64_t		*used;		/* one bit per slot */
	size_t			 size;		/* slots, a power of two, or 0 */
	size_t			 count;
};

#define IPAM_SET_MIN	16

struct ipam_pool {
	struct prefix		prefix;		/* host bits zero */
	struct ipam_offset	host_mask;	/* all host bits set */
	struct ipam_offset	cursor;		/* where the next search starts */
	uint64_t		capacity;	/* usable addresses, UINT64_MAX if more */
	int			reserve_first;	/* offset 0 is never handed out */
	int			reserve_last;	/* nor the all-ones offset */
	struct ipam_set		set;
};

struct ipam_space {
	struct prefix	 scope;			/* host bits zero */
	unsigned int	 child_len;
	struct prefix	*taken;			/* sorted by address, disjoint */
	size_t		 ntaken;
	size_t		 cap;
};

/* Mix both halves into one well-spread hash (the splitmix64 finaliser). */
static uint64_t
ipam_offset_hash(const struct ipam_offset *o)
{
	uint64_t	x;

	x = o->lo ^ (o->hi * 0x9e3779b97f4a7c15ULL);
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (x);
}

/* Whether two offsets are the same. */
static int
ipam_offset_equal(const struct ipam_offset *a, const struct ipam_offset *b)
{
	return (a->hi == b->hi && a->lo == b->lo);
}

/* Whether slot i holds an entry. */
static int
ipam_set_slot_used(const struct ipam_set *s, size_t i)
{
	return ((s->used[i / 64] >> (i % 64)) & 1);
}

/* Mark slot i as holding an entry or not. */
static void
ipam_set_slot_mark(struct ipam_set *s, size_t i, int v)
{
	if (v)
		s->used[i / 64] |= 1ULL << (i % 64);
	else
		s->used[i / 64] &= ~(1ULL << (i % 64));
}

/* Slot of o, or the empty slot where it would go. */
static size_t
ipam_set_find(const struct ipam_set *s, const struct ipam_offset *o)
{
	size_t	mask = s->size - 1, i;

	i = ipam_offset_hash(o) & mask;
	while (ipam_set_slot_used(s, i) && !ipam_offset_equal(&s->keys[i], o))
		i = (i + 1) & mask;
	return (i);
}

/* Rebuild the table with size slots (a power of two, at least the minimum). */
static void
ipam_set_resize(struct ipam_set *s, size_t size)
{
	struct ipam_set	old = *s;
	size_t		i, j;

	s->keys = xreallocarray(NULL, size, sizeof *s->keys);
	s->used = xcalloc((size + 63) / 64, sizeof *s->used);
	s->size = size;
	for (i = 0; i < old.size; i++) {
		if (!ipam_set_slot_used(&old, i))
			continue;
		j = ipam_set_find(s, &old.keys[i]);
		s->keys[j] = old.keys[i];
		ipam_set_slot_mark(s, j, 1);
	}
	free(old.keys);
	free(old.used);
}

/* Whether o is in the set. */
static int
ipam_set_has(const struct ipam_set *s, const struct ipam_offset *o)
{
	if (s->count == 0)
		return (0);
	return (ipam_set_slot_used(s, ipam_set_find(s, o)));
}

/* Add o, which the caller knows is not there yet. */
static void
ipam_set_add(struct ipam_set *s, const struct ipam_offset *o)
{
	size_t	i;

	if (s->size == 0)
		ipam_set_resize(s, IPAM_SET_MIN);
	else if ((s->count + 1) > s->size / 4 * 3)
		ipam_set_resize(s, s->size * 2);
	i = ipam_set_find(s, o);
	s->keys[i] = *o;
	ipam_set_slot_mark(s, i, 1);
	s->count++;
}

/*
 * Remove o; -1 if it is not there.  Later entries of the same run move back
 * into the hole when the hole lies between their home slot and where they sit,
 * so every entry stays reachable from its home without tombstones.
 */
static int
ipam_set_remove(struct ipam_set *s, const struct ipam_offset *o)
{
	size_t	mask = s->size - 1, hole, i, home;

	if (s->count == 0)
		return (-1);
	hole = ipam_set_find(s, o);
	if (!ipam_set_slot_used(s, hole))
		return (-1);
	i = hole;
	for (;;) {
		i = (i + 1) & mask;
		if (!ipam_set_slot_used(s, i))
			break;
		home = ipam_offset_hash(&s->keys[i]) & mask;
		/* Stays if its home is cyclically in (hole, i]. */
		if (hole <= i ? (home > hole && home <= i) :
		    (home > hole || home <= i))
			continue;
		s->keys[hole] = s->keys[i];
		hole = i;
	}
	ipam_set_slot_mark(s, hole, 0);
	s->count--;
	if (s->size > IPAM_SET_MIN && s->count < s->size / 8)
		ipam_set_resize(s, s->size / 2);
	return (0);
}

/* Free the table. */
static void
ipam_set_clear(struct ipam_set *s)
{
	free(s->keys);
	free(s->used);
	memset(s, 0, sizeof *s);
}

/* Read n (at most 8) big-endian bytes as a number. */
static uint64_t
ipam_load64(const uint8_t *b, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return (v);
}

/* Write a number as n big-endian bytes. */
static void
ipam_store64(uint8_t *b, size_t n, uint64_t v)
{
	while (n-- > 0) {
		b[n] = v & 0xff;
		v >>= 8;
	}
}

/* An address of the pool's family as a 128-bit number (IPv4 low bits). */
static void
ipam_pool_to_number(const struct ipam_pool *pool, const struct prefix *addr,
    struct ipam_offset *o)
{
	if (pool->prefix.family == AF_INET) {
		o->hi = 0;
		o->lo = ipam_load64(addr->addr, 4);
	} else {
		o->hi = ipam_load64(addr->addr, 8);
		o->lo = ipam_load64(addr->addr + 8, 8);
	}
}

/* The address at offset o of the pool, as a host prefix. */
static void
ipam_pool_address(const struct ipam_pool *pool, const struct ipam_offset *o,
    struct prefix *out)
{
	struct ipam_offset	a;

	ipam_pool_to_number(pool, &pool->prefix, &a);
	a.hi |= o->hi;
	a.lo |= o->lo;
	memset(out, 0, sizeof *out);
	out->family = pool->prefix.family;
	out->len = prefix_bits(out->family);
	if (out->family == AF_INET)
		ipam_store64(out->addr, 4, a.lo);
	else {
		ipam_store64(out->addr, 8, a.hi);
		ipam_store64(out->addr + 8, 8, a.lo);
	}
}

/* Offset of addr inside the pool; -1 if addr is not inside it. */
static int
ipam_pool_offset(const struct ipam_pool *pool, const struct prefix *addr,
    struct ipam_offset *o)
{
	struct prefix	host = *addr;

	/* Only the address counts: a caller may pass "10.0.0.5/24". */
	host.len = prefix_bits(host.family);
	if (!prefix_contains(&pool->prefix, &host))
		return (-1);
	ipam_pool_to_number(pool, &host, o);
	o->hi &= pool->host_mask.hi;
	o->lo &= pool->host_mask.lo;
	return (0);
}

/* Whether offset o is one never handed out. */
static int
ipam_pool_reserved(const struct ipam_pool *pool, const struct ipam_offset *o)
{
	if (pool->reserve_first && o->hi == 0 && o->lo == 0)
		return (1);
	if (pool->reserve_last && ipam_offset_equal(o, &pool->host_mask))
		return (1);
	return (0);
}

/* The offset after o, wrapping to 0 past the last one. */
static void
ipam_pool_step(const struct ipam_pool *pool, struct ipam_offset *o)
{
	if (++o->lo == 0)
		o->hi++;
	o->hi &= pool->host_mask.hi;
	o->lo &= pool->host_mask.lo;
}

/* Whether a prefix of this family and length keeps its first and last. */
static void
ipam_pool_reserves(int family, unsigned int len, int *first, int *last)
{
	unsigned int	bits = prefix_bits(family);

	/* /31, /32, /127, /128: point-to-point or single host, all usable. */
	*first = len + 2 <= bits;
	*last = *first && family == AF_INET;
}

/* A pool over p with the given addresses reserved. */
static struct ipam_pool *
ipam_pool_create(const struct prefix *p, int reserve_first, int reserve_last)
{
	struct ipam_pool	*pool;
	unsigned int		 host_bits;

	pool = xcalloc(1, sizeof *pool);
	pool->prefix = *p;
	prefix_mask(&pool->prefix);
	host_bits = prefix_bits(p->family) - p->len;
	if (host_bits >= 64) {
		pool->host_mask.lo = UINT64_MAX;
		pool->host_mask.hi = host_bits == 128 ? UINT64_MAX :
		    (1ULL << (host_bits - 64)) - 1;
	} else
		pool->host_mask.lo = (1ULL << host_bits) - 1;
	/* In a /32 or /128 first and last are one address: count it once. */
	pool->reserve_first = reserve_first || (reserve_last && host_bits == 0);
	pool->reserve_last = reserve_last && host_bits > 0;
	if (host_bits >= 64)
		pool->capacity = UINT64_MAX;	/* more than memory can hold */
	else {
		pool->capacity = pool->host_mask.lo + 1;
		pool->capacity -= pool->reserve_first + pool->reserve_last;
	}
	return (pool);
}

/* A pool over prefix p; see ipam.h for what is reserved. */
struct ipam_pool *
ipam_pool_new(const struct prefix *p)
{
	int	first, last;

	if ((p->family != AF_INET && p->family != AF_INET6) ||
	    p->len > prefix_bits(p->family))
		fatalx("%s: bad prefix (family %d, length %u)", __func__,
		    p->family, p->len);
	ipam_pool_reserves(p->family, p->len, &first, &last);
	return (ipam_pool_create(p, first, last));
}

/* A pool over range, reserving only what network reserves inside it. */
struct ipam_pool *
ipam_pool_new_range(const struct prefix *range, const struct prefix *network)
{
	struct prefix	r = *range, n = *network, r_last, n_last;
	unsigned int	i, bits;
	int		first, last;

	if ((network->family != AF_INET && network->family != AF_INET6) ||
	    network->len > prefix_bits(network->family) ||
	    !prefix_contains(network, range))
		return (NULL);
	prefix_mask(&r);
	prefix_mask(&n);
	ipam_pool_reserves(n.family, n.len, &first, &last);
	/* The range's first and last addresses against the network's. */
	bits = prefix_bits(n.family);
	r_last = r;
	n_last = n;
	for (i = r.len; i < bits; i++)
		prefix_set_bit(&r_last, i, 1);
	for (i = n.len; i < bits; i++)
		prefix_set_bit(&n_last, i, 1);
	first = first && prefix_addr_cmp(&r, &n) == 0;
	last = last && prefix_addr_cmp(&r_last, &n_last) == 0;
	return (ipam_pool_create(&r, first, last));
}

/* Free a pool and its table. */
void
ipam_pool_free(struct ipam_pool *pool)
{
	if (pool == NULL)
		return;
	ipam_set_clear(&pool->set);
	free(pool);
}

/*
 * Next free address at or after the cursor.  The count says at once whether
 * the pool is full; otherwise each step past a taken address is one lookup,
 * so a search costs at most (allocated + reserved + 1) lookups and usually one:
 * the cursor moves past whatever it skipped, so a run of taken addresses is
 * walked again only after the cursor has gone round the whole pool.
 */
int
ipam_pool_alloc(struct ipam_pool *pool, struct prefix *out)
{
	struct ipam_offset	o = pool->cursor;

	if (pool->set.count >= pool->capacity)
		return (-1);
	while (ipam_pool_reserved(pool, &o) || ipam_set_has(&pool->set, &o))
		ipam_pool_step(pool, &o);
	ipam_set_add(&pool->set, &o);
	ipam_pool_address(pool, &o, out);
	ipam_pool_step(pool, &o);
	pool->cursor = o;
	return (0);
}

/* Take exactly addr; the cursor stays where it is. */
int
ipam_pool_claim(struct ipam_pool *pool, const struct prefix *addr)
{
	struct ipam_offset	o;

	if (ipam_pool_offset(pool, addr, &o) == -1 ||
	    ipam_pool_reserved(pool, &o) || ipam_set_has(&pool->set, &o))
		return (-1);
	ipam_set_add(&pool->set, &o);
	return (0);
}

/* Give addr back. */
int
ipam_pool_release(struct ipam_pool *pool, const struct prefix *addr)
{
	struct ipam_offset	o;

	if (ipam_pool_offset(pool, addr, &o) == -1)
		return (-1);
	return (ipam_set_remove(&pool->set, &o));
}

/* Whether addr is taken (0 if it is outside the pool). */
int
ipam_pool_is_allocated(const struct ipam_pool *pool, const struct prefix *addr)
{
	struct ipam_offset	o;

	if (ipam_pool_offset(pool, addr, &o) == -1)
		return (0);
	return (ipam_set_has(&pool->set, &o));
}

/* Addresses taken. */
size_t
ipam_pool_count(const struct ipam_pool *pool)
{
	return (pool->set.count);
}

/* The pool's prefix (host bits zero). */
const struct prefix *
ipam_pool_prefix(const struct ipam_pool *pool)
{
	return (&pool->prefix);
}

/* A space handing out /child_len prefixes of scope. */
struct ipam_space *
ipam_space_new(const struct prefix *scope, unsigned int child_len)
{
	struct ipam_space	*space;

	if (scope->family != AF_INET && scope->family != AF_INET6)
		fatalx("%s: address family %d", __func__, scope->family);
	space = xcalloc(1, sizeof *space);
	space->scope = *scope;
	prefix_mask(&space->scope);
	space->child_len = child_len;
	return (space);
}

/* Free a space. */
void
ipam_space_free(struct ipam_space *space)
{
	if (space == NULL)
		return;
	free(space->taken);
	free(space);
}

/* Index of the first taken prefix starting after p's address. */
static size_t
ipam_space_upper(const struct ipam_space *space, const struct prefix *p)
{
	size_t	lo = 0, hi = space->ntaken, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (prefix_addr_cmp(&space->taken[mid], p) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/*
 * Whether p overlaps a taken prefix; *at is where p would be inserted.
 * Taken prefixes are disjoint and sorted, so only the one starting at or
 * before p (which may contain p) and the next one (which may start inside p)
 * can overlap it.
 */
static int
ipam_space_find_overlap(const struct ipam_space *space, const struct prefix *p,
    size_t *at)
{
	size_t	i;

	i = ipam_space_upper(space, p);
	if (at != NULL)
		*at = i;
	if (i > 0 && prefix_overlaps(&space->taken[i - 1], p))
		return (1);
	if (i < space->ntaken && prefix_overlaps(&space->taken[i], p))
		return (1);
	return (0);
}

/* Put p at index at, keeping the array sorted. */
static void
ipam_space_insert(struct ipam_space *space, size_t at, const struct prefix *p)
{
	if (space->ntaken == space->cap) {
		space->cap = space->cap == 0 ? 16 : space->cap * 2;
		space->taken = xreallocarray(space->taken, space->cap,
		    sizeof *space->taken);
	}
	memmove(&space->taken[at + 1], &space->taken[at],
	    (space->ntaken - at) * sizeof *space->taken);
	space->taken[at] = *p;
	space->ntaken++;
}

/*
 * First free child in address order: walk the taken prefixes (sorted) with a
 * candidate child, moving it past each one it overlaps.  O(taken) per call.
 */
int
ipam_space_alloc(struct ipam_space *space, struct prefix *out)
{
	struct prefix	child;
	size_t		i;

	if (space->child_len < space->scope.len ||
	    space->child_len > prefix_bits(space->scope.family))
		return (-1);
	child = space->scope;
	child.len = space->child_len;
	for (i = 0; i < space->ntaken; i++) {
		const struct prefix	*t = &space->taken[i];

		if (!prefix_overlaps(t, &child)) {
			if (prefix_addr_cmp(t, &child) > 0)
				break;		/* starts after: child is free */
			continue;
		}
		/*
		 * A taken prefix as large as a child or larger: the next child
		 * starts right after it (it is aligned at least as coarsely).
		 * A smaller one sits inside the child: take the next child.
		 */
		if (t->len <= child.len) {
			child = *t;
			if (prefix_next(&child) == -1)
				return (-1);
			child.len = space->child_len;
		} else if (prefix_next(&child) == -1)
			return (-1);
		if (!prefix_contains(&space->scope, &child))
			return (-1);
	}
	ipam_space_insert(space, i, &child);
	*out = child;
	return (0);
}

/* Take exactly p. */
int
ipam_space_claim(struct ipam_space *space, const struct prefix *p)
{
	struct prefix	masked = *p;
	size_t		at;

	prefix_mask(&masked);
	if (!prefix_equal(&masked, p) || !prefix_contains(&space->scope, p))
		return (-1);
	if (ipam_space_find_overlap(space, p, &at))
		return (-1);
	ipam_space_insert(space, at, p);
	return (0);
}

/* Give p back: it must be exactly a taken prefix. */
int
ipam_space_release(struct ipam_space *space, const struct prefix *p)
{
	size_t	i;

	if (p->family != space->scope.family)
		return (-1);
	i = ipam_space_upper(space, p);
	if (i == 0 || !prefix_equal(&space->taken[i - 1], p))
		return (-1);
	i--;
	memmove(&space->taken[i], &space->taken[i + 1],
	    (space->ntaken - i - 1) * sizeof *space->taken);
	space->ntaken--;
	return (0);
}

/* Prefixes taken. */
size_t
ipam_space_count(const struct ipam_space *space)
{
	return (space->ntaken);
}

/* Whether any taken prefix overlaps p. */
int
ipam_space_overlaps(const struct ipam_space *space, const struct prefix *p)
{
	if (p->family != space->scope.family)
		return (0);
	return (ipam_space_find_overlap(space, p, NULL));
}
