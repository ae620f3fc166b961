/* dns_journal.c: the differences between a zone's commits, kept for IXFR
 * (RFC 1995): after each commit every record of the zone but the SOA (the
 * signatures and NSEC records too) is taken in wire form, sorted, and merged
 * with the previous commit's to find what went and what came.  Only kept
 * when zone transfers are allowed to someone (the server says so). */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dns_private.h"
#include "util.h"
#include "xmalloc.h"

/* Differences kept per zone: this many, and this many bytes at most. */
#define DNS_JOURNAL_MAX		100
#define DNS_JOURNAL_BYTES	(16 * 1024 * 1024)

/* A growing buffer of records, each with its length in front. */
struct dns_recs {
	uint8_t		*buf;
	size_t		 len, cap;
	uint32_t	*offs;
	size_t		 n, ncap;
};

struct dns_diff {
	uint32_t	 from, to;	/* serials */
	struct dns_recs	 del, add;
};

struct dns_journal {
	struct dns_recs	 snap;		/* the zone as of the last commit */
	int		 have_snap;
	uint32_t	 snap_serial;
	struct dns_diff	*diffs;		/* oldest first */
	size_t		 ndiffs;
	size_t		 bytes;
};

static void
dns_recs_add(struct dns_recs *r, const uint8_t *a, size_t alen,
    const uint8_t *b, size_t blen)
{
	size_t	len = alen + blen;

	while (r->len + 2 + len > r->cap) {
		r->cap = r->cap == 0 ? 4096 : r->cap * 2;
		r->buf = xreallocarray(r->buf, r->cap, 1);
	}
	if (r->n == r->ncap) {
		r->ncap = r->ncap == 0 ? 256 : r->ncap * 2;
		r->offs = xreallocarray(r->offs, r->ncap, sizeof *r->offs);
	}
	r->offs[r->n++] = (uint32_t)r->len;
	util_put_be16(r->buf + r->len, (uint16_t)len);
	memcpy(r->buf + r->len + 2, a, alen);
	if (blen > 0)
		memcpy(r->buf + r->len + 2 + alen, b, blen);
	r->len += 2 + len;
}

static void
dns_recs_free(struct dns_recs *r)
{
	free(r->buf);
	free(r->offs);
	memset(r, 0, sizeof *r);
}

/* Record i of r and its length. */
static const uint8_t *
dns_recs_get(const struct dns_recs *r, size_t i, size_t *len)
{
	const uint8_t	*p = r->buf + r->offs[i];

	*len = util_get_be16(p);
	return (p + 2);
}

/* Any total order will do for the merge: bytes, then length; x and y have
 * their lengths in front. */
static int
dns_rec_cmp(const uint8_t *x, const uint8_t *y)
{
	size_t	xl = util_get_be16(x), yl = util_get_be16(y);
	int	c;

	if ((c = memcmp(x + 2, y + 2, xl < yl ? xl : yl)) != 0)
		return (c);
	return (xl < yl ? -1 : xl > yl);
}

static int
dns_recs_cmp_at(const struct dns_recs *ra, size_t a, const struct dns_recs *rb,
    size_t b)
{
	return (dns_rec_cmp(ra->buf + ra->offs[a], rb->buf + rb->offs[b]));
}

static const uint8_t *dns_sort_buf;

/* qsort of offsets into dns_sort_buf. */
static int
dns_recs_order(const void *a, const void *b)
{
	return (dns_rec_cmp(dns_sort_buf + *(const uint32_t *)a,
	    dns_sort_buf + *(const uint32_t *)b));
}

/* One record for dns_journal_take. */
static void
dns_journal_rec(const uint8_t *owner, size_t ownerlen, const uint8_t *tail,
    size_t taillen, uint32_t zone, void *arg)
{
	(void)zone;
	dns_recs_add(arg, owner, ownerlen, tail, taillen);
}

/* Every record of zone but the SOA, in wire form with full owners, sorted. */
static void
dns_journal_take(const struct dns_db *db, uint32_t zone, struct dns_recs *r)
{
	dns_db_foreach_rr(db, zone, DNS_EACH_SIGS, dns_journal_rec, r);
	if (r->n < 2)
		return;
	dns_sort_buf = r->buf;
	qsort(r->offs, r->n, sizeof *r->offs, dns_recs_order);
}

/* Forget the oldest differences beyond the limits. */
static void
dns_journal_trim(struct dns_journal *j)
{
	size_t	drop = 0;

	while (j->ndiffs - drop > 0 && (j->ndiffs - drop > DNS_JOURNAL_MAX ||
	    j->bytes > DNS_JOURNAL_BYTES)) {
		j->bytes -= j->diffs[drop].del.len + j->diffs[drop].add.len;
		dns_recs_free(&j->diffs[drop].del);
		dns_recs_free(&j->diffs[drop].add);
		drop++;
	}
	if (drop == 0)
		return;
	memmove(j->diffs, j->diffs + drop, (j->ndiffs - drop) * sizeof *j->diffs);
	j->ndiffs -= drop;
}

void
dns_journal_commit(struct dns_db *db)
{
	struct dns_zone	*z;
	struct dns_journal *j;
	struct dns_recs	 now;
	struct dns_diff	*d;
	const uint8_t	*rec;
	size_t		 i, a, b, len;
	int		 c;

	for (i = 0; i < db->nzones; i++) {
		z = &db->zones[i];
		if (z->journal == NULL)
			z->journal = xcalloc(1, sizeof *z->journal);
		j = z->journal;
		memset(&now, 0, sizeof now);
		dns_journal_take(db, (uint32_t)i, &now);
		if (!j->have_snap) {
			j->snap = now;
			j->snap_serial = db->serial;
			j->have_snap = 1;
			continue;
		}
		j->diffs = xreallocarray(j->diffs, j->ndiffs + 1,
		    sizeof *j->diffs);
		d = &j->diffs[j->ndiffs++];
		memset(d, 0, sizeof *d);
		/* From the last commit's serial: a reload's new db starts
		 * from its own clock, the journal from the old zone's. */
		d->from = j->snap_serial;
		d->to = db->serial;
		/* Both sorted: one merge finds what went and what came. */
		for (a = 0, b = 0; a < j->snap.n || b < now.n; ) {
			if (a == j->snap.n)
				c = 1;
			else if (b == now.n)
				c = -1;
			else
				c = dns_recs_cmp_at(&j->snap, a, &now, b);
			if (c < 0) {
				rec = dns_recs_get(&j->snap, a++, &len);
				dns_recs_add(&d->del, rec, len, NULL, 0);
			} else if (c > 0) {
				rec = dns_recs_get(&now, b++, &len);
				dns_recs_add(&d->add, rec, len, NULL, 0);
			} else {
				a++;
				b++;
			}
		}
		j->bytes += d->del.len + d->add.len;
		dns_recs_free(&j->snap);
		j->snap = now;
		j->snap_serial = db->serial;
		dns_journal_trim(j);
	}
}

void
dns_journal_free(struct dns_journal *j)
{
	size_t	i;

	if (j == NULL)
		return;
	dns_recs_free(&j->snap);
	for (i = 0; i < j->ndiffs; i++) {
		dns_recs_free(&j->diffs[i].del);
		dns_recs_free(&j->diffs[i].add);
	}
	free(j->diffs);
	free(j);
}

/* The first difference of the chain from serial to current, or -1. */
static ssize_t
dns_journal_first(const struct dns_journal *j, uint32_t serial,
    uint32_t current)
{
	size_t	first, i;

	if (j == NULL || j->ndiffs == 0)
		return (-1);
	for (first = 0; first < j->ndiffs; first++)
		if (j->diffs[first].from == serial)
			break;
	if (first == j->ndiffs || j->diffs[j->ndiffs - 1].to != current)
		return (-1);
	for (i = first; i + 1 < j->ndiffs; i++)
		if (j->diffs[i].to != j->diffs[i + 1].from)
			return (-1);
	return ((ssize_t)first);
}

int
dns_journal_has(const struct dns_journal *j, uint32_t serial,
    uint32_t current)
{
	return (dns_journal_first(j, serial, current) != -1);
}

int
dns_journal_walk(const struct dns_journal *j, uint32_t serial,
    uint32_t current, void (*step)(uint32_t, int, void *),
    void (*rec)(const uint8_t *, size_t, void *), void *arg)
{
	const struct dns_diff	*d;
	const uint8_t		*p;
	ssize_t			 first;
	size_t			 i, k, len;

	if ((first = dns_journal_first(j, serial, current)) == -1)
		return (-1);
	for (i = (size_t)first; i < j->ndiffs; i++) {
		d = &j->diffs[i];
		/* Old SOA, what went, new SOA, what came. */
		step(d->from, 0, arg);
		for (k = 0; k < d->del.n; k++) {
			p = dns_recs_get(&d->del, k, &len);
			rec(p, len, arg);
		}
		step(d->to, 1, arg);
		for (k = 0; k < d->add.n; k++) {
			p = dns_recs_get(&d->add, k, &len);
			rec(p, len, arg);
		}
	}
	return (0);
}
