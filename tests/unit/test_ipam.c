/* test_ipam.c: the address allocators: pools (reserved addresses, exhaustion,
 * cursor, claims) and spaces (first free child, claims of any length), each
 * also checked against a plain reference model over many random operations. */
#include "config.h"

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipam.h"
#include "log.h"
#include "prefix.h"

/* A prefix from text, or the test fails. */
static struct prefix
pfx(const char *text)
{
	struct prefix	p;
	char		err[128];

	if (prefix_parse(text, 0, &p, err, sizeof err) == -1)
		fail_msg("%s", err);
	return (p);
}

/* A prefix as text, in a rotating set of buffers. */
static const char *
fmt(const struct prefix *p, int with_len)
{
	static char	buf[4][PREFIX_STRLEN];
	static int	n;

	n = (n + 1) % 4;
	return (prefix_format(p, with_len, buf[n], sizeof buf[n]));
}

/* Allocate from the pool and compare with the expected address. */
static void
expect_alloc(struct ipam_pool *pool, const char *want)
{
	struct prefix	out;

	assert_int_equal(ipam_pool_alloc(pool, &out), 0);
	assert_string_equal(fmt(&out, 0), want);
	assert_int_equal(out.len, prefix_bits(out.family));
}

/* Claim one address given as text. */
static int
claim(struct ipam_pool *pool, const char *text)
{
	struct prefix	p = pfx(text);

	return (ipam_pool_claim(pool, &p));
}

/* Release one address given as text. */
static int
release(struct ipam_pool *pool, const char *text)
{
	struct prefix	p = pfx(text);

	return (ipam_pool_release(pool, &p));
}

/* Allocate from the space and compare with the expected prefix. */
static void
expect_child(struct ipam_space *space, const char *want)
{
	struct prefix	out;

	assert_int_equal(ipam_space_alloc(space, &out), 0);
	assert_string_equal(fmt(&out, 1), want);
}

/* Claim a prefix of the space given as text. */
static int
space_claim(struct ipam_space *space, const char *text)
{
	struct prefix	p = pfx(text);

	return (ipam_space_claim(space, &p));
}

/* Release a prefix of the space given as text. */
static int
space_release(struct ipam_space *space, const char *text)
{
	struct prefix	p = pfx(text);

	return (ipam_space_release(space, &p));
}

/* prefix_next and prefix_addr_cmp, which the space walks with. */
static void
test_prefix_next(void **state)
{
	struct prefix	p, q;

	p = pfx("10.0.255.0/24");
	assert_int_equal(prefix_next(&p), 0);
	assert_string_equal(fmt(&p, 1), "10.1.0.0/24");
	p = pfx("10.0.0.128/25");
	assert_int_equal(prefix_next(&p), 0);
	assert_string_equal(fmt(&p, 1), "10.0.1.0/25");
	p = pfx("255.255.255.255");
	assert_int_equal(prefix_next(&p), -1);
	p = pfx("fd00:0:0:ffff::/64");
	assert_int_equal(prefix_next(&p), 0);
	assert_string_equal(fmt(&p, 1), "fd00:0:1::/64");
	p = pfx("::/0");
	assert_int_equal(prefix_next(&p), -1);
	p = pfx("10.0.0.1");
	q = pfx("10.0.0.2");
	assert_true(prefix_addr_cmp(&p, &q) < 0);
	assert_true(prefix_addr_cmp(&q, &p) > 0);
	q = pfx("10.0.0.1/32");
	assert_int_equal(prefix_addr_cmp(&p, &q), 0);
}

/* A /29 hands out exactly .1 to .6, never .0 or .7, then is full. */
static void
test_pool_v4_exhaustion(void **state)
{
	struct prefix		 p = pfx("192.168.8.0/29"), out;
	struct ipam_pool	*pool = ipam_pool_new(&p);
	char			 want[32];
	int			 i;

	assert_string_equal(fmt(ipam_pool_prefix(pool), 1), "192.168.8.0/29");
	for (i = 1; i <= 6; i++) {
		snprintf(want, sizeof want, "192.168.8.%d", i);
		expect_alloc(pool, want);
	}
	assert_int_equal(ipam_pool_count(pool), 6);
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	assert_int_equal(claim(pool, "192.168.8.0"), -1);
	assert_int_equal(claim(pool, "192.168.8.7"), -1);
	assert_false(ipam_pool_is_allocated(pool, &p));
	/* One back: exactly that one comes out again, then full again. */
	assert_int_equal(release(pool, "192.168.8.4"), 0);
	assert_int_equal(ipam_pool_count(pool), 5);
	expect_alloc(pool, "192.168.8.4");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	ipam_pool_free(pool);

	/* A pool given with host bits set is masked. */
	p = pfx("192.168.8.5/29");
	pool = ipam_pool_new(&p);
	assert_string_equal(fmt(ipam_pool_prefix(pool), 1), "192.168.8.0/29");
	expect_alloc(pool, "192.168.8.1");
	ipam_pool_free(pool);
}

/* /31 and /32: every address is usable. */
static void
test_pool_v4_small(void **state)
{
	struct prefix		 p, out;
	struct ipam_pool	*pool;

	p = pfx("10.9.9.4/31");
	pool = ipam_pool_new(&p);
	expect_alloc(pool, "10.9.9.4");
	expect_alloc(pool, "10.9.9.5");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	assert_int_equal(release(pool, "10.9.9.4"), 0);
	assert_int_equal(claim(pool, "10.9.9.4"), 0);
	assert_int_equal(claim(pool, "10.9.9.4"), -1);
	ipam_pool_free(pool);

	p = pfx("10.9.9.9/32");
	pool = ipam_pool_new(&p);
	expect_alloc(pool, "10.9.9.9");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	assert_int_equal(release(pool, "10.9.9.9"), 0);
	assert_int_equal(ipam_pool_count(pool), 0);
	expect_alloc(pool, "10.9.9.9");
	ipam_pool_free(pool);

	/* A /30 keeps two of its four. */
	p = pfx("10.9.9.8/30");
	pool = ipam_pool_new(&p);
	expect_alloc(pool, "10.9.9.9");
	expect_alloc(pool, "10.9.9.10");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	ipam_pool_free(pool);
}

/* IPv6: a /64 never hands out ::, and /127 and /128 use everything. */
static void
test_pool_v6(void **state)
{
	struct prefix		 p, out;
	struct ipam_pool	*pool;
	int			 i;

	p = pfx("fd00:1:2:3::/64");
	pool = ipam_pool_new(&p);
	expect_alloc(pool, "fd00:1:2:3::1");
	expect_alloc(pool, "fd00:1:2:3::2");
	assert_int_equal(claim(pool, "fd00:1:2:3::"), -1);
	/* The last address is fine in IPv6 (no broadcast). */
	assert_int_equal(claim(pool, "fd00:1:2:3:ffff:ffff:ffff:ffff"), 0);
	assert_int_equal(claim(pool, "fd00:1:2:3:ffff:ffff:ffff:ffff"), -1);
	assert_int_equal(claim(pool, "fd00:1:2:4::1"), -1);
	assert_int_equal(claim(pool, "10.0.0.1"), -1);
	for (i = 0; i < 1000; i++)
		assert_int_equal(ipam_pool_alloc(pool, &out), 0);
	assert_string_equal(fmt(&out, 0), "fd00:1:2:3::3ea");
	assert_int_equal(ipam_pool_count(pool), 1003);
	ipam_pool_free(pool);

	/* Pools longer than 64 host bits keep both halves apart. */
	p = pfx("fd00::/56");
	pool = ipam_pool_new(&p);
	assert_int_equal(claim(pool, "fd00::ffff:ffff:ffff:ffff"), 0);
	assert_int_equal(claim(pool, "fd00:0:0:1::"), 0);
	assert_int_equal(claim(pool, "fd00:0:0:1::"), -1);
	assert_int_equal(claim(pool, "fd00:0:0:ff:ffff:ffff:ffff:ffff"), 0);
	assert_int_equal(claim(pool, "fd00:0:0:100::1"), -1);
	assert_int_equal(release(pool, "fd00:0:0:2::"), -1);
	assert_int_equal(release(pool, "fd00:0:0:1::"), 0);
	assert_int_equal(release(pool, "fd00::ffff:ffff:ffff:ffff"), 0);
	assert_int_equal(ipam_pool_count(pool), 1);
	expect_alloc(pool, "fd00::1");
	ipam_pool_free(pool);

	p = pfx("fd00::/127");
	pool = ipam_pool_new(&p);
	expect_alloc(pool, "fd00::");
	expect_alloc(pool, "fd00::1");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	ipam_pool_free(pool);

	p = pfx("fd00::42/128");
	pool = ipam_pool_new(&p);
	expect_alloc(pool, "fd00::42");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	assert_int_equal(claim(pool, "fd00::42"), -1);
	assert_int_equal(release(pool, "fd00::42"), 0);
	assert_int_equal(claim(pool, "fd00::42"), 0);
	ipam_pool_free(pool);
}

/* Claims: exact, refused twice, refused outside; next-free skips them. */
static void
test_pool_claim(void **state)
{
	struct prefix		 p = pfx("172.20.0.0/24"), a;
	struct ipam_pool	*pool = ipam_pool_new(&p);

	assert_int_equal(claim(pool, "172.20.0.1"), 0);
	assert_int_equal(claim(pool, "172.20.0.1"), -1);
	assert_int_equal(claim(pool, "172.20.0.3"), 0);
	assert_int_equal(claim(pool, "172.20.1.3"), -1);
	assert_int_equal(claim(pool, "fd00::3"), -1);
	/* Only the address counts, not the length it is given with. */
	assert_int_equal(claim(pool, "172.20.0.9/24"), 0);
	a = pfx("172.20.0.9");
	assert_true(ipam_pool_is_allocated(pool, &a));
	a = pfx("172.20.0.10");
	assert_false(ipam_pool_is_allocated(pool, &a));
	a = pfx("172.21.0.9");
	assert_false(ipam_pool_is_allocated(pool, &a));
	expect_alloc(pool, "172.20.0.2");
	expect_alloc(pool, "172.20.0.4");
	assert_int_equal(ipam_pool_count(pool), 5);
	ipam_pool_free(pool);
}

/* A released address is not handed out again at once; the cursor wraps. */
static void
test_pool_cursor_wrap(void **state)
{
	struct prefix		 p = pfx("10.1.1.0/29"), out;
	struct ipam_pool	*pool = ipam_pool_new(&p);

	expect_alloc(pool, "10.1.1.1");
	expect_alloc(pool, "10.1.1.2");
	expect_alloc(pool, "10.1.1.3");
	assert_int_equal(release(pool, "10.1.1.2"), 0);
	expect_alloc(pool, "10.1.1.4");
	assert_int_equal(release(pool, "10.1.1.1"), 0);
	expect_alloc(pool, "10.1.1.5");
	expect_alloc(pool, "10.1.1.6");
	/* Past .6 (and the broadcast, .0): back to the freed ones. */
	expect_alloc(pool, "10.1.1.1");
	expect_alloc(pool, "10.1.1.2");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	/* Claims do not move the cursor. */
	assert_int_equal(release(pool, "10.1.1.5"), 0);
	assert_int_equal(release(pool, "10.1.1.6"), 0);
	assert_int_equal(claim(pool, "10.1.1.6"), 0);
	expect_alloc(pool, "10.1.1.5");
	ipam_pool_free(pool);
}

/* Releasing what is not allocated says so and changes nothing. */
static void
test_pool_release_unknown(void **state)
{
	struct prefix		 p = pfx("10.2.0.0/16");
	struct ipam_pool	*pool = ipam_pool_new(&p);

	assert_int_equal(release(pool, "10.2.0.1"), -1);
	expect_alloc(pool, "10.2.0.1");
	assert_int_equal(release(pool, "10.2.0.2"), -1);
	assert_int_equal(release(pool, "10.3.0.1"), -1);
	assert_int_equal(release(pool, "fd00::1"), -1);
	assert_int_equal(release(pool, "10.2.0.0"), -1);
	assert_int_equal(ipam_pool_count(pool), 1);
	assert_int_equal(release(pool, "10.2.0.1"), 0);
	assert_int_equal(release(pool, "10.2.0.1"), -1);
	assert_int_equal(ipam_pool_count(pool), 0);
	ipam_pool_free(pool);
}

/* A --ip-range keeps back only what its network keeps back. */
static void
test_pool_range(void **state)
{
	struct prefix		 n = pfx("10.5.0.0/24"), r, out;
	struct ipam_pool	*pool;
	int			 i;

	/* The upper half: .128 and .254 usable, only .255 kept. */
	r = pfx("10.5.0.128/25");
	pool = ipam_pool_new_range(&r, &n);
	assert_non_null(pool);
	assert_string_equal(fmt(ipam_pool_prefix(pool), 1), "10.5.0.128/25");
	expect_alloc(pool, "10.5.0.128");
	for (i = 0; i < 126; i++)
		assert_int_equal(ipam_pool_alloc(pool, &out), 0);
	assert_string_equal(fmt(&out, 0), "10.5.0.254");
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	assert_int_equal(claim(pool, "10.5.0.255"), -1);
	ipam_pool_free(pool);

	/* The lower half: .0 kept, .127 usable. */
	r = pfx("10.5.0.0/25");
	pool = ipam_pool_new_range(&r, &n);
	assert_int_equal(claim(pool, "10.5.0.0"), -1);
	assert_int_equal(claim(pool, "10.5.0.127"), 0);
	expect_alloc(pool, "10.5.0.1");
	ipam_pool_free(pool);

	/* A range of one address: the broadcast, so nothing. */
	r = pfx("10.5.0.255/32");
	pool = ipam_pool_new_range(&r, &n);
	assert_int_equal(ipam_pool_alloc(pool, &out), -1);
	ipam_pool_free(pool);
	r = pfx("10.5.0.7/32");
	pool = ipam_pool_new_range(&r, &n);
	expect_alloc(pool, "10.5.0.7");
	ipam_pool_free(pool);

	/* IPv6: only the network's all-zero host. */
	n = pfx("fd00:5::/64");
	r = pfx("fd00:5::8000:0:0:0/65");
	pool = ipam_pool_new_range(&r, &n);
	expect_alloc(pool, "fd00:5:0:0:8000::");
	ipam_pool_free(pool);
	r = pfx("fd00:5::/120");
	pool = ipam_pool_new_range(&r, &n);
	expect_alloc(pool, "fd00:5::1");
	assert_int_equal(claim(pool, "fd00:5::ff"), 0);
	ipam_pool_free(pool);

	/* Not inside: refused. */
	r = pfx("10.6.0.0/25");
	n = pfx("10.5.0.0/24");
	assert_null(ipam_pool_new_range(&r, &n));
	r = pfx("10.5.0.0/23");
	assert_null(ipam_pool_new_range(&r, &n));
}

/* A small deterministic generator, so a failure can be replayed. */
static uint64_t
rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* Offset of an IPv4 address inside a pool starting at base. */
static uint32_t
v4_offset(const struct prefix *a, uint32_t base)
{
	return (((uint32_t)a->addr[0] << 24 | (uint32_t)a->addr[1] << 16 |
	    (uint32_t)a->addr[2] << 8 | a->addr[3]) - base);
}

/* The IPv4 address at offset off of a pool starting at base. */
static struct prefix
v4_address(uint32_t base, uint32_t off)
{
	struct prefix	a;
	uint32_t	v = base + off;

	memset(&a, 0, sizeof a);
	a.family = AF_INET;
	a.len = 32;
	a.addr[0] = v >> 24;
	a.addr[1] = v >> 16;
	a.addr[2] = v >> 8;
	a.addr[3] = v;
	return (a);
}

/*
 * 100,000 random allocs, claims and releases on a /22, each checked against a
 * bitmap: alloc must return exactly the first free address from the model's
 * cursor, claim and release must succeed exactly when the model says so.
 */
static void
test_pool_random(void **state)
{
	enum { SIZE = 1024, OPS = 100000 };
	struct prefix		 p = pfx("10.40.4.0/22"), a;
	struct ipam_pool	*pool = ipam_pool_new(&p);
	uint8_t			 taken[SIZE];
	uint32_t		 base = 0x0a280400, cursor = 0, off, expect;
	uint64_t		 seed = 0x9e3779b97f4a7c15ULL, r;
	size_t			 count = 0, fulls = 0, i;
	int			 rc, n, fill;

	memset(taken, 0, sizeof taken);
	for (i = 0; i < OPS; i++) {
		r = rng_next(&seed);
		/* Alternate filling (to full, often) and draining phases. */
		fill = (i / 5000) % 2 == 0;
		n = (int)(r % 100);
		if (n < (fill ? 70 : 20)) {
			expect = UINT32_MAX;
			for (off = cursor; count < SIZE - 2; off = (off + 1) % SIZE) {
				if (off != 0 && off != SIZE - 1 && !taken[off]) {
					expect = off;
					break;
				}
			}
			rc = ipam_pool_alloc(pool, &a);
			if (expect == UINT32_MAX) {
				assert_int_equal(rc, -1);
				fulls++;
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(v4_offset(&a, base), expect);
			taken[expect] = 1;
			count++;
			cursor = (expect + 1) % SIZE;
		} else if (n < (fill ? 85 : 30)) {
			off = (uint32_t)((r >> 16) % SIZE);
			a = v4_address(base, off);
			rc = ipam_pool_claim(pool, &a);
			if (off == 0 || off == SIZE - 1 || taken[off])
				assert_int_equal(rc, -1);
			else {
				assert_int_equal(rc, 0);
				taken[off] = 1;
				count++;
			}
		} else {
			off = (uint32_t)((r >> 16) % SIZE);
			a = v4_address(base, off);
			rc = ipam_pool_release(pool, &a);
			assert_int_equal(rc, taken[off] ? 0 : -1);
			if (taken[off]) {
				taken[off] = 0;
				count--;
			}
		}
		assert_int_equal(ipam_pool_count(pool), count);
		if (i % 997 == 0) {
			off = (uint32_t)((r >> 32) % SIZE);
			a = v4_address(base, off);
			assert_int_equal(ipam_pool_is_allocated(pool, &a),
			    taken[off]);
		}
	}
	/* Everything the model holds is held, nothing else. */
	for (off = 0; off < SIZE; off++) {
		a = v4_address(base, off);
		assert_int_equal(ipam_pool_is_allocated(pool, &a), taken[off]);
	}
	print_message("pool random: %d ops, %zu left allocated, %zu full\n",
	    OPS, count, fulls);
	ipam_pool_free(pool);
}

/*
 * The hash set through growth and shrinking: 200,000 addresses of a /64 in,
 * every other one out, the rest checked, all out.
 */
static void
test_pool_v6_many(void **state)
{
	enum { N = 200000 };
	struct prefix		 p = pfx("fd00:aa::/64"), *all;
	struct ipam_pool	*pool = ipam_pool_new(&p);
	size_t			 i;

	all = calloc(N, sizeof *all);
	assert_non_null(all);
	for (i = 0; i < N; i++)
		assert_int_equal(ipam_pool_alloc(pool, &all[i]), 0);
	assert_int_equal(ipam_pool_count(pool), N);
	assert_string_equal(fmt(&all[N - 1], 0), "fd00:aa::3:d40");
	for (i = 0; i < N; i += 2)
		assert_int_equal(ipam_pool_release(pool, &all[i]), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(ipam_pool_is_allocated(pool, &all[i]), i % 2);
	for (i = 1; i < N; i += 2)
		assert_int_equal(ipam_pool_release(pool, &all[i]), 0);
	assert_int_equal(ipam_pool_count(pool), 0);
	/* The cursor carries on after the last one handed out. */
	expect_alloc(pool, "fd00:aa::3:d41");
	free(all);
	ipam_pool_free(pool);
}

/* A /16 scope with /24 children: 256 of them, in order, then exhausted. */
static void
test_space_exhaustion(void **state)
{
	struct prefix		 s = pfx("10.20.0.0/16"), out;
	struct ipam_space	*space = ipam_space_new(&s, 24);
	char			 want[32];
	int			 i;

	for (i = 0; i < 256; i++) {
		snprintf(want, sizeof want, "10.20.%d.0/24", i);
		expect_child(space, want);
	}
	assert_int_equal(ipam_space_count(space), 256);
	assert_int_equal(ipam_space_alloc(space, &out), -1);
	/* Releases make holes, filled first-free in address order. */
	assert_int_equal(space_release(space, "10.20.200.0/24"), 0);
	assert_int_equal(space_release(space, "10.20.7.0/24"), 0);
	assert_int_equal(space_release(space, "10.20.7.0/24"), -1);
	assert_int_equal(space_release(space, "10.20.8.0/23"), -1);
	assert_int_equal(space_release(space, "10.21.0.0/24"), -1);
	expect_child(space, "10.20.7.0/24");
	expect_child(space, "10.20.200.0/24");
	assert_int_equal(ipam_space_alloc(space, &out), -1);
	ipam_space_free(space);
}

/* Claims of other lengths block every child they overlap. */
static void
test_space_claim(void **state)
{
	struct prefix		 s = pfx("10.30.0.0/16"), p;
	struct ipam_space	*space = ipam_space_new(&s, 24);

	/* A /23 at the start takes two /24s. */
	assert_int_equal(space_claim(space, "10.30.0.0/23"), 0);
	expect_child(space, "10.30.2.0/24");
	/* A /26 inside the next /24 blocks all of it. */
	assert_int_equal(space_claim(space, "10.30.3.64/26"), 0);
	expect_child(space, "10.30.4.0/24");
	/* A /20 further on is skipped whole. */
	assert_int_equal(space_claim(space, "10.30.5.0/24"), 0);
	assert_int_equal(space_claim(space, "10.30.16.0/20"), 0);
	assert_int_equal(space_claim(space, "10.30.6.0/23"), 0);
	expect_child(space, "10.30.8.0/24");
	assert_int_equal(ipam_space_count(space), 8);

	/* Refused: outside, overlapping either way, host bits, other family. */
	assert_int_equal(space_claim(space, "10.31.0.0/24"), -1);
	assert_int_equal(space_claim(space, "10.0.0.0/8"), -1);
	assert_int_equal(space_claim(space, "10.30.0.0/16"), -1);
	assert_int_equal(space_claim(space, "10.30.1.0/24"), -1);
	assert_int_equal(space_claim(space, "10.30.3.0/25"), -1);
	assert_int_equal(space_claim(space, "10.30.16.0/21"), -1);
	assert_int_equal(space_claim(space, "10.30.24.0/24"), -1);
	assert_int_equal(space_claim(space, "10.30.8.0/22"), -1);
	assert_int_equal(space_claim(space, "10.30.9.1/24"), -1);
	assert_int_equal(space_claim(space, "fd00::/64"), -1);
	assert_int_equal(ipam_space_count(space), 8);
	/* The other half of the /26's /24 is free for exact claims. */
	assert_int_equal(space_claim(space, "10.30.3.0/26"), 0);
	assert_int_equal(space_claim(space, "10.30.3.128/25"), 0);

	p = pfx("10.30.17.0/24");
	assert_true(ipam_space_overlaps(space, &p));
	p = pfx("10.30.0.0/16");
	assert_true(ipam_space_overlaps(space, &p));
	p = pfx("10.30.9.0/24");
	assert_false(ipam_space_overlaps(space, &p));
	p = pfx("10.31.0.0/16");
	assert_false(ipam_space_overlaps(space, &p));
	p = pfx("fd00::/8");
	assert_false(ipam_space_overlaps(space, &p));

	/* Release the /23: its two /24s come back first. */
	assert_int_equal(space_release(space, "10.30.0.0/24"), -1);
	assert_int_equal(space_release(space, "10.30.0.0/23"), 0);
	expect_child(space, "10.30.0.0/24");
	expect_child(space, "10.30.1.0/24");
	expect_child(space, "10.30.9.0/24");
	ipam_space_free(space);
}

/* A claim that covers the rest of the scope exhausts it. */
static void
test_space_claim_end(void **state)
{
	struct prefix		 s = pfx("192.168.0.0/22"), out;
	struct ipam_space	*space = ipam_space_new(&s, 24);

	assert_int_equal(space_claim(space, "192.168.2.0/23"), 0);
	expect_child(space, "192.168.0.0/24");
	expect_child(space, "192.168.1.0/24");
	assert_int_equal(ipam_space_alloc(space, &out), -1);
	ipam_space_free(space);

	/* A child length shorter than the scope hands out nothing. */
	space = ipam_space_new(&s, 20);
	assert_int_equal(ipam_space_alloc(space, &out), -1);
	ipam_space_free(space);

	/* The scope itself as the child length: exactly one. */
	space = ipam_space_new(&s, 22);
	expect_child(space, "192.168.0.0/22");
	assert_int_equal(ipam_space_alloc(space, &out), -1);
	ipam_space_free(space);

	/* The last scope of the address space ends without wrapping. */
	s = pfx("255.255.255.0/24");
	space = ipam_space_new(&s, 25);
	expect_child(space, "255.255.255.0/25");
	expect_child(space, "255.255.255.128/25");
	assert_int_equal(ipam_space_alloc(space, &out), -1);
	ipam_space_free(space);
}

/* IPv6: a /48 scope with /64 children. */
static void
test_space_v6(void **state)
{
	struct prefix		 s = pfx("fd12:3456:789a::/48"), out;
	struct ipam_space	*space = ipam_space_new(&s, 64);
	int			 i;

	expect_child(space, "fd12:3456:789a::/64");
	expect_child(space, "fd12:3456:789a:1::/64");
	assert_int_equal(space_claim(space, "fd12:3456:789a:2::/63"), 0);
	expect_child(space, "fd12:3456:789a:4::/64");
	assert_int_equal(space_claim(space, "fd12:3456:789a:5::/80"), 0);
	expect_child(space, "fd12:3456:789a:6::/64");
	assert_int_equal(space_claim(space, "fd12:3456:789b::/64"), -1);
	assert_int_equal(space_claim(space, "fd12:3456:789a:3::/64"), -1);
	for (i = 0; i < 300; i++)
		assert_int_equal(ipam_space_alloc(space, &out), 0);
	assert_string_equal(fmt(&out, 1), "fd12:3456:789a:132::/64");
	assert_int_equal(space_release(space, "fd12:3456:789a:1::/64"), 0);
	assert_int_equal(space_release(space, "fd12:3456:789a:4::/64"), 0);
	expect_child(space, "fd12:3456:789a:1::/64");
	expect_child(space, "fd12:3456:789a:4::/64");
	expect_child(space, "fd12:3456:789a:133::/64");
	ipam_space_free(space);

	/* The last /64 of a /48 that ends the address space. */
	s = pfx("ffff:ffff:ffff::/48");
	space = ipam_space_new(&s, 64);
	assert_int_equal(space_claim(space, "ffff:ffff:ffff::/49"), 0);
	assert_int_equal(space_claim(space, "ffff:ffff:ffff:8000::/50"), 0);
	assert_int_equal(space_claim(space, "ffff:ffff:ffff:c000::/51"), 0);
	assert_int_equal(space_claim(space, "ffff:ffff:ffff:e000::/52"), 0);
	for (i = 0; i < 4096; i++)
		assert_int_equal(ipam_space_alloc(space, &out), 0);
	assert_string_equal(fmt(&out, 1), "ffff:ffff:ffff:ffff::/64");
	assert_int_equal(ipam_space_alloc(space, &out), -1);
	ipam_space_free(space);
}

/* The space model: which held prefix (index + 1) owns each address. */
struct space_model {
	uint16_t	owner[65536];
	uint16_t	block_used[256];	/* addresses held in each /24 */
};

/* Whether any of size addresses from start is held. */
static int
space_model_busy(const struct space_model *m, uint32_t start, uint32_t size)
{
	uint32_t	a;

	for (a = start; a < start + size; a++)
		if (m->owner[a] != 0)
			return (1);
	return (0);
}

/* Give size addresses from start to owner (0: free them). */
static void
space_model_mark(struct space_model *m, uint32_t start, uint32_t size,
    uint16_t owner)
{
	uint32_t	a;

	for (a = start; a < start + size; a++) {
		if (owner != 0 && m->owner[a] == 0)
			m->block_used[a / 256]++;
		else if (owner == 0 && m->owner[a] != 0)
			m->block_used[a / 256]--;
		m->owner[a] = owner;
	}
}

/* Offset of a prefix of 10.50.0.0/16. */
static uint32_t
space_model_offset(const struct prefix *p)
{
	return ((uint32_t)p->addr[2] << 8 | p->addr[3]);
}

/*
 * 20,000 random allocs, claims (lengths /20 to /28) and releases on a /16
 * space with /24 children, against a map of which prefix holds each address:
 * alloc must return the first /24 with no address held, claims succeed
 * exactly when none of their addresses is held.
 */
static void
test_space_random(void **state)
{
	enum { OPS = 20000, MAXHELD = 4096 };
	struct prefix		 s = pfx("10.50.0.0/16"), p, held[MAXHELD];
	struct ipam_space	*space = ipam_space_new(&s, 24);
	struct space_model	*m;
	uint64_t		 seed = 0x2545f4914f6cdd1dULL, r;
	uint32_t		 start, size, block;
	size_t			 nheld = 0, exhausted = 0, i, k;
	int			 rc, n, fill;

	m = calloc(1, sizeof *m);
	assert_non_null(m);
	for (i = 0; i < OPS; i++) {
		r = rng_next(&seed);
		fill = (i / 2000) % 2 == 0;
		n = (int)(r % 100);
		if (n < (fill ? 40 : 15)) {
			for (block = 0; block < 256; block++)
				if (m->block_used[block] == 0)
					break;
			rc = ipam_space_alloc(space, &p);
			if (block == 256) {
				assert_int_equal(rc, -1);
				exhausted++;
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(p.len, 24);
			assert_int_equal(space_model_offset(&p), block * 256);
			start = block * 256;
			size = 256;
		} else if (n < (fill ? 75 : 30)) {
			p = s;
			p.len = 20 + (unsigned int)((r >> 8) % 9);
			size = 1U << (32 - p.len);
			start = (uint32_t)((r >> 16) % 65536) & ~(size - 1);
			p.addr[2] = start >> 8;
			p.addr[3] = start & 0xff;
			rc = ipam_space_claim(space, &p);
			assert_int_equal(rc, space_model_busy(m, start, size) ?
			    -1 : 0);
			assert_int_equal(ipam_space_overlaps(space, &p), 1);
			if (rc == -1)
				continue;
		} else {
			if (nheld == 0)
				continue;
			k = (size_t)((r >> 16) % nheld);
			assert_int_equal(ipam_space_release(space, &held[k]), 0);
			assert_int_equal(ipam_space_release(space, &held[k]), -1);
			assert_int_equal(ipam_space_overlaps(space, &held[k]), 0);
			space_model_mark(m, space_model_offset(&held[k]),
			    1U << (32 - held[k].len), 0);
			held[k] = held[--nheld];
			/* The moved one's addresses now name its new index. */
			if (k < nheld)
				space_model_mark(m, space_model_offset(&held[k]),
				    1U << (32 - held[k].len), (uint16_t)(k + 1));
			assert_int_equal(ipam_space_count(space), nheld);
			continue;
		}
		/* A successful alloc or claim: it must not overlap anything. */
		assert_true(nheld < MAXHELD);
		assert_false(space_model_busy(m, start, size));
		held[nheld++] = p;
		space_model_mark(m, start, size, (uint16_t)nheld);
		assert_int_equal(ipam_space_count(space), nheld);
	}
	print_message("space random: %d ops, %zu left allocated, %zu exhausted\n",
	    OPS, nheld, exhausted);
	free(m);
	ipam_space_free(space);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_next),
		cmocka_unit_test(test_pool_v4_exhaustion),
		cmocka_unit_test(test_pool_v4_small),
		cmocka_unit_test(test_pool_v6),
		cmocka_unit_test(test_pool_claim),
		cmocka_unit_test(test_pool_cursor_wrap),
		cmocka_unit_test(test_pool_release_unknown),
		cmocka_unit_test(test_pool_range),
		cmocka_unit_test(test_pool_random),
		cmocka_unit_test(test_pool_v6_many),
		cmocka_unit_test(test_space_exhaustion),
		cmocka_unit_test(test_space_claim),
		cmocka_unit_test(test_space_claim_end),
		cmocka_unit_test(test_space_v6),
		cmocka_unit_test(test_space_random),
	};

	log_init(1, LOG_LEVEL_INFO, "test_ipam");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
