/* dns_sign.c: DNSSEC for the zones, signed online at every commit: one ECDSA
 * P-256 key per zone (a combined signing key, DNSKEY flags 257), an NSEC chain
 * in canonical order for denial, and an RRSIG for every RRset, all ready in
 * the arena so that the query path only copies.  Signatures are kept by a
 * digest of what they sign: a commit signs only the RRsets that changed (a
 * container's names, their NSEC neighbours, the SOA), and reuses the rest
 * until they pass half their validity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dns.h"
#include "dns_private.h"
#include "keys.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* Signatures are valid from an hour ago for a week; one past half of that is
 * made again at the next commit. */
#define DNS_SIG_BEFORE	3600
#define DNS_SIG_VALID	(7 * 86400)
#define DNS_SIG_RENEW	(DNS_SIG_VALID / 2)

#define DNS_DIGEST	32	/* SHA-256 */

/* A signature made, by the digest of the RRset it signs. */
struct dns_sig {
	uint8_t		 digest[DNS_DIGEST];
	struct dns_rec	*sig;
	uint32_t	 expire;
	uint32_t	 gen;		/* the last commit that used it */
};

struct dns_sigcache {
	struct dns_sig	*sigs;
	size_t		 nsigs, cap;
	uint32_t	*table;		/* index + 1; 0: empty */
	size_t		 mask;
	uint32_t	 gen;
	size_t		 nsigned, reused;	/* in the last commit */
};

/*
 * The zone's key: with stored, the private scalar is the 32-byte secret
 * "dnssec:<apex>" of the keys module (made once, kept wrapped by the master
 * key), read by ldns from its private-key text; else a fresh key.
 */
static ldns_key *
dns_sign_key(const struct dns_zone *z, int stored, char *err, size_t errlen)
{
	unsigned char	 secret[KEYS_KEY_BYTES];
	char		 name[DNS_MAXNAME * 4 + 16], text[256], *apex;
	char		 b64[(KEYS_KEY_BYTES + 2) / 3 * 4 + 1];
	ldns_key	*key = NULL;
	ldns_status	 st;
	FILE		*f;

	if (!stored) {
		if ((key = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256,
		    256)) == NULL)
			snprintf(err, errlen, "dns: cannot make an ECDSA P-256 "
			    "key");
		return (key);
	}
	if ((apex = ldns_rdf2str(z->apex)) == NULL) {
		snprintf(err, errlen, "dns: a zone without a name");
		return (NULL);
	}
	snprintf(name, sizeof name, "dnssec:%s", apex);
	free(apex);
	if (keys_get(name, secret, 1, err, errlen) == -1)
		return (NULL);
	EVP_EncodeBlock((unsigned char *)b64, secret, sizeof secret);
	snprintf(text, sizeof text, "Private-key-format: v1.2\n"
	    "Algorithm: 13 (ECDSAP256SHA256)\nPrivateKey: %s\n", b64);
	if ((f = fmemopen(text, strlen(text), "r")) == NULL) {
		snprintf(err, errlen, "%s: fmemopen failed", name);
		goto out;
	}
	st = ldns_key_new_frm_fp(&key, f);
	fclose(f);
	if (st != LDNS_STATUS_OK) {
		/* 32 random bytes at or above the group order: 1 in 2^32. */
		snprintf(err, errlen, "%s: not a P-256 key: %s", name,
		    ldns_get_errorstr_by_id(st));
		key = NULL;
	}
out:
	OPENSSL_cleanse(secret, sizeof secret);
	OPENSSL_cleanse(text, sizeof text);
	OPENSSL_cleanse(b64, sizeof b64);
	return (key);
}

int
dns_sign_zone_init(struct dns_zone *z, int stored, char *err, size_t errlen)
{
	ldns_key	*key;
	ldns_rr		*rr;

	if ((key = dns_sign_key(z, stored, err, errlen)) == NULL)
		return (-1);
	ldns_key_set_pubkey_owner(key, ldns_rdf_clone(z->apex));
	ldns_key_set_flags(key, LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY);
	/* The key tag names the key in every RRSIG. */
	rr = ldns_key2rr(key);
	ldns_key_set_keytag(key, ldns_calc_keytag(rr));
	ldns_rr_free(rr);
	z->keys = ldns_key_list_new();
	ldns_key_list_push_key(z->keys, key);
	return (0);
}

void
dns_sign_zone_free(struct dns_zone *z)
{
	if (z->keys != NULL)
		ldns_key_list_free(z->keys);
	z->keys = NULL;
	free(z->dnskey_rec);
	z->dnskey_rec = NULL;
}

/* Canonical order of two lower-case wire names (RFC 4034 6.1): label by
 * label from the right. */
static int
dns_canon_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t	 la[128], lb[128], na = 0, nb = 0, pos, x, y, n;
	int	 c;

	for (pos = 0; pos < alen && a[pos] != 0 && na < 128; pos += a[pos] + 1)
		la[na++] = pos;
	for (pos = 0; pos < blen && b[pos] != 0 && nb < 128; pos += b[pos] + 1)
		lb[nb++] = pos;
	while (na > 0 && nb > 0) {
		x = la[--na];
		y = lb[--nb];
		n = a[x] < b[y] ? a[x] : b[y];
		if ((c = memcmp(a + x + 1, b + y + 1, n)) != 0)
			return (c);
		if (a[x] != b[y])
			return (a[x] < b[y] ? -1 : 1);
	}
	return (na > 0 ? 1 : nb > 0 ? -1 : 0);
}

static const struct dns_db *dns_sort_db;

/* qsort: by zone, then canonical name. */
static int
dns_canon_order(const void *x, const void *y)
{
	const struct dns_node	*a = &dns_sort_db->nodes[*(const uint32_t *)x];
	const struct dns_node	*b = &dns_sort_db->nodes[*(const uint32_t *)y];

	if (a->zone != b->zone)
		return (a->zone < b->zone ? -1 : 1);
	return (dns_canon_cmp(dns_sort_db->arena + a->name_off, a->namelen,
	    dns_sort_db->arena + b->name_off, b->namelen));
}

/* An ldns record from a compact one. */
static ldns_rr *
dns_rec_ldns(const struct dns_rec *rec)
{
	uint8_t		 wire[DNS_MAXNAME + 10 + 65535];
	size_t		 pos = 0;
	ldns_rr		*rr = NULL;

	memcpy(wire, rec->data, rec->ownerlen);
	pos = rec->ownerlen;
	wire[pos++] = (uint8_t)(rec->type >> 8);
	wire[pos++] = (uint8_t)rec->type;
	wire[pos++] = 0;
	wire[pos++] = LDNS_RR_CLASS_IN;
	wire[pos++] = (uint8_t)(rec->ttl >> 24);
	wire[pos++] = (uint8_t)(rec->ttl >> 16);
	wire[pos++] = (uint8_t)(rec->ttl >> 8);
	wire[pos++] = (uint8_t)rec->ttl;
	wire[pos++] = (uint8_t)(rec->rdlen >> 8);
	wire[pos++] = (uint8_t)rec->rdlen;
	memcpy(wire + pos, rec->data + rec->ownerlen, rec->rdlen);
	pos += rec->rdlen;
	{
		size_t at = 0;

		if (ldns_wire2rr(&rr, wire, pos, &at, LDNS_SECTION_ANSWER) !=
		    LDNS_STATUS_OK)
			return (NULL);
	}
	return (rr);
}

void
dns_sign_clear(struct dns_db *db)
{
	size_t	i;

	for (i = 0; i < db->nnsec; i++)
		free(db->nsec[i]);
	free(db->nsec);
	db->nsec = NULL;
	db->nnsec = 0;
	free(db->canon);
	db->canon = NULL;
	free(db->n3);
	db->n3 = NULL;
	db->nn3 = 0;
}

/* The types at node, once each (at most 60: room for RRSIG and NSEC). */
static size_t
dns_node_types(const struct dns_node *node, ldns_rr_type *types)
{
	size_t	j, k, ntypes = 0;

	for (j = 0; j < node->nrrs && ntypes < 60; j++) {
		for (k = 0; k < ntypes; k++)
			if (types[k] == node->rrs[j]->type)
				break;
		if (k == ntypes)
			types[ntypes++] = node->rrs[j]->type;
	}
	return (ntypes);
}

/*
 * NSEC3 (RFC 5155) as RFC 9276 advises: SHA-1, no salt, no extra
 * iterations, no opt-out.  The hash of a lower-case wire name.
 */
static void
dns_nsec3_hash(const uint8_t *name, size_t len, uint8_t hash[DNS_NSEC3_HASH])
{
	EVP_Digest(name, len, hash, NULL, EVP_sha1(), NULL);
}

/* By zone, then hash. */
static int
dns_nsec3_order(const void *x, const void *y)
{
	const struct dns_n3	*a = x, *b = y;

	if (a->zone != b->zone)
		return (a->zone < b->zone ? -1 : 1);
	return (memcmp(a->hash, b->hash, DNS_NSEC3_HASH));
}

/* NSEC3PARAM at every apex, then an NSEC3 record for every name, chained
 * in hash order within its zone. */
static void
dns_nsec3_add(struct dns_db *db)
{
	static const char	 b32[] = "0123456789abcdefghijklmnopqrstuv";
	static const uint8_t	 param[5] = { 1, 0, 0, 0, 0 };
	const struct dns_zone	*z;
	const struct dns_node	*node, *found;
	const struct dns_n3	*next;
	struct dns_rec		*rec;
	ldns_rr_type		 types[64];
	ldns_rdf		*bitmap;
	uint8_t			 owner[DNS_MAXNAME], rdata[2048];
	size_t			 i, j, n, ntypes, first, len, bit;

	db->nsec = xcalloc(db->nnodes * 2 + db->nzones + 1, sizeof *db->nsec);
	for (i = 0; i < db->nzones; i++) {
		z = &db->zones[i];
		rec = dns_rec_make(z->lapex, z->lapexlen,
		    LDNS_RR_TYPE_NSEC3PARAM, 0, param, sizeof param);
		db->nsec[db->nnsec++] = rec;
		dns_index_add(db, rec);
	}
	/* The names there are now; their NSEC3 owners come next. */
	n = db->nnodes;
	db->n3 = xcalloc(n + 1, sizeof *db->n3);
	for (i = 0; i < n; i++) {
		node = &db->nodes[i];
		db->n3[i].zone = node->zone;
		db->n3[i].node = (uint32_t)i;
		dns_nsec3_hash(db->arena + node->name_off, node->namelen,
		    db->n3[i].hash);
	}
	db->nn3 = n;
	qsort(db->n3, n, sizeof *db->n3, dns_nsec3_order);
	for (i = 0, first = 0; i < n; i++) {
		if (i > 0 && db->n3[i - 1].zone != db->n3[i].zone)
			first = i;
		next = i + 1 < n && db->n3[i + 1].zone == db->n3[i].zone ?
		    &db->n3[i + 1] : &db->n3[first];
		z = &db->zones[db->n3[i].zone];
		/* Owner: the hash in base32hex, under the apex. */
		owner[0] = 32;
		for (j = 0; j < 32; j++) {
			bit = j * 5;
			owner[1 + j] = (uint8_t)b32[((db->n3[i].hash[bit / 8] << 8 |
			    (bit / 8 + 1 < DNS_NSEC3_HASH ?
			    db->n3[i].hash[bit / 8 + 1] : 0)) >> (11 - bit % 8)) &
			    0x1f];
		}
		memcpy(owner + 33, z->lapex, z->lapexlen);
		/* Algorithm, flags, iterations, salt length, then the next
		 * hash and the types of the name (none for an empty one). */
		memcpy(rdata, param, sizeof param);
		rdata[5] = DNS_NSEC3_HASH;
		memcpy(rdata + 6, next->hash, DNS_NSEC3_HASH);
		len = 6 + DNS_NSEC3_HASH;
		ntypes = dns_node_types(&db->nodes[db->n3[i].node], types);
		if (ntypes > 0) {
			types[ntypes++] = LDNS_RR_TYPE_RRSIG;
			bitmap = ldns_dnssec_create_nsec_bitmap(types, ntypes,
			    LDNS_RR_TYPE_NSEC3);
			memcpy(rdata + len, ldns_rdf_data(bitmap),
			    ldns_rdf_size(bitmap));
			len += ldns_rdf_size(bitmap);
			ldns_rdf_deep_free(bitmap);
		}
		rec = dns_rec_make(owner, 33 + z->lapexlen, LDNS_RR_TYPE_NSEC3,
		    db->ttl, rdata, len);
		db->nsec[db->nnsec++] = rec;
		dns_index_add(db, rec);
		found = dns_db_lookup(db, owner, 33 + z->lapexlen);
		db->n3[i].owner = found != NULL ? (uint32_t)(found -
		    db->nodes) : UINT32_MAX;
	}
}

/* The entry of zone whose hash is h (match), or that covers h. */
static const struct dns_n3 *
dns_nsec3_find(const struct dns_db *db, uint32_t zone, const uint8_t *h,
    int match)
{
	size_t			 lo = 0, hi = db->nn3, mid, first, last;
	const struct dns_n3	*e;
	int			 c;

	/* The zone's run. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (db->n3[mid].zone < zone)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	for (hi = db->nn3; lo < hi; ) {
		mid = (lo + hi) / 2;
		if (db->n3[mid].zone <= zone)
			lo = mid + 1;
		else
			hi = mid;
	}
	last = lo;
	if (first == last)
		return (NULL);
	/* The last entry not after h. */
	lo = first;
	hi = last;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (memcmp(db->n3[mid].hash, h, DNS_NSEC3_HASH) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	e = lo > first ? &db->n3[lo - 1] : NULL;
	c = e != NULL ? memcmp(e->hash, h, DNS_NSEC3_HASH) : 1;
	if (match)
		return (c == 0 ? e : NULL);
	if (c == 0)
		return (NULL);		/* it exists: nothing covers it */
	/* Before the first hash: the last one wraps around to cover it. */
	return (e != NULL ? e : &db->n3[last - 1]);
}

/* The node holding an entry's NSEC3, or NULL. */
static const struct dns_node *
dns_nsec3_node(const struct dns_db *db, const struct dns_n3 *e)
{
	if (e == NULL || e->owner == UINT32_MAX)
		return (NULL);
	return (&db->nodes[e->owner]);
}

size_t
dns_nsec3_denial(const struct dns_db *db, uint32_t zone,
    const struct dns_node *node, const struct dns_node *encloser,
    const uint8_t *name, size_t len, const struct dns_node **out)
{
	uint8_t			 h[DNS_NSEC3_HASH], wild[DNS_MAXNAME];
	const struct dns_node	*n[3];
	size_t			 i, j, count = 0, pos = 0;

	if (node != NULL) {
		/* NODATA: the NSEC3 of the name itself. */
		dns_nsec3_hash(name, len, h);
		n[count++] = dns_nsec3_node(db, dns_nsec3_find(db, zone, h, 1));
	} else if (encloser != NULL) {
		/* NXDOMAIN: the closest encloser exists, the next closer name
		 * does not, nor does a wildcard at the closest encloser. */
		dns_nsec3_hash(db->arena + encloser->name_off,
		    encloser->namelen, h);
		n[count++] = dns_nsec3_node(db, dns_nsec3_find(db, zone, h, 1));
		while (pos < len && len - (pos + name[pos] + 1U) >
		    encloser->namelen)
			pos += (size_t)name[pos] + 1;
		dns_nsec3_hash(name + pos, len - pos, h);
		n[count++] = dns_nsec3_node(db, dns_nsec3_find(db, zone, h, 0));
		if (encloser->namelen + 2 <= DNS_MAXNAME) {
			wild[0] = 1;
			wild[1] = '*';
			memcpy(wild + 2, db->arena + encloser->name_off,
			    encloser->namelen);
			dns_nsec3_hash(wild, encloser->namelen + 2, h);
			n[count++] = dns_nsec3_node(db, dns_nsec3_find(db, zone,
			    h, 0));
		}
	}
	/* Each once. */
	for (i = 0, j = 0; i < count; i++) {
		if (n[i] == NULL || (j > 0 && out[0] == n[i]) ||
		    (j > 1 && out[1] == n[i]))
			continue;
		out[j++] = n[i];
	}
	return (j);
}

void
dns_sign_add(struct dns_db *db)
{
	struct dns_zone		*z;
	struct dns_node		*node, *next;
	ldns_rr			*rr, *nsec;
	ldns_rdf		*owner, *nextname;
	ldns_rr_type		 types[64];
	size_t			 i, ntypes, first;

	dns_sign_clear(db);
	for (i = 0; i < db->nzones; i++) {
		z = &db->zones[i];
		free(z->dnskey_rec);
		rr = ldns_key2rr(ldns_key_list_key(z->keys, 0));
		ldns_rr_set_ttl(rr, db->ttl);
		z->dnskey_rec = dns_rec_new(rr);
		ldns_rr_free(rr);
		dns_index_add(db, z->dnskey_rec);
	}
	if (db->nsec3) {
		dns_nsec3_add(db);
		return;
	}
	db->canon = xcalloc(db->nnodes + 1, sizeof *db->canon);
	for (i = 0; i < db->nnodes; i++)
		db->canon[i] = (uint32_t)i;
	dns_sort_db = db;
	qsort(db->canon, db->nnodes, sizeof *db->canon, dns_canon_order);
	db->nsec = xcalloc(db->nnodes + 1, sizeof *db->nsec);
	for (i = 0, first = 0; i < db->nnodes; i++) {
		node = &db->nodes[db->canon[i]];
		if (i > 0 && db->nodes[db->canon[i - 1]].zone != node->zone)
			first = i;
		/* The last name of a zone points back at its apex. */
		if (i + 1 < db->nnodes && db->nodes[db->canon[i + 1]].zone ==
		    node->zone)
			next = &db->nodes[db->canon[i + 1]];
		else
			next = &db->nodes[db->canon[first]];
		ntypes = dns_node_types(node, types);
		types[ntypes++] = LDNS_RR_TYPE_RRSIG;
		types[ntypes++] = LDNS_RR_TYPE_NSEC;
		owner = ldns_dname_new_frm_data((uint16_t)node->namelen,
		    db->arena + node->name_off);
		nextname = ldns_dname_new_frm_data((uint16_t)next->namelen,
		    db->arena + next->name_off);
		nsec = ldns_rr_new();
		ldns_rr_set_type(nsec, LDNS_RR_TYPE_NSEC);
		ldns_rr_set_owner(nsec, owner);
		ldns_rr_set_ttl(nsec, db->ttl);
		ldns_rr_set_class(nsec, LDNS_RR_CLASS_IN);
		ldns_rr_push_rdf(nsec, nextname);
		ldns_rr_push_rdf(nsec, ldns_dnssec_create_nsec_bitmap(types,
		    ntypes, LDNS_RR_TYPE_NSEC));
		db->nsec[db->nnsec] = dns_rec_new(nsec);
		ldns_rr_free(nsec);
		if (db->nsec[db->nnsec] != NULL)
			dns_index_add(db, db->nsec[db->nnsec++]);
	}
}

/* The digest of what an RRSIG of this RRset covers: key tag, owner, type,
 * TTL and every record's data (duplicates once), as filed in node order. */
static void
dns_sign_digest(const struct dns_db *db, const struct dns_node *node,
    uint16_t type, uint8_t digest[DNS_DIGEST])
{
	static EVP_MD_CTX	*ctx;
	const struct dns_rec	*rec, *prev = NULL;
	ldns_key		*key;
	uint8_t			 fixed[8];
	size_t			 i;

	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: EVP_MD_CTX_new", __func__);
	key = ldns_key_list_key(db->zones[node->zone].keys, 0);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	util_put_be16(fixed, ldns_key_keytag(key));
	util_put_be16(fixed + 2, type);
	EVP_DigestUpdate(ctx, fixed, 4);
	EVP_DigestUpdate(ctx, db->arena + node->name_off, node->namelen);
	for (i = 0; i < node->nrrs; i++) {
		rec = node->rrs[i];
		if (rec->type != type || (prev != NULL && prev->rdlen ==
		    rec->rdlen && memcmp(prev->data + prev->ownerlen, rec->data +
		    rec->ownerlen, rec->rdlen) == 0))
			continue;
		prev = rec;
		util_put_be32(fixed, rec->ttl);
		util_put_be16(fixed + 4, rec->rdlen);
		EVP_DigestUpdate(ctx, fixed, 6);
		EVP_DigestUpdate(ctx, rec->data + rec->ownerlen, rec->rdlen);
	}
	EVP_DigestFinal_ex(ctx, digest, NULL);
}

/* The cached signature of digest, or where a new one goes (*slot). */
static struct dns_sig *
dns_sigcache_find(struct dns_sigcache *c, const uint8_t *digest, size_t *slot)
{
	size_t		i;
	uint32_t	h;

	if (c->table == NULL)
		return (NULL);
	memcpy(&h, digest, sizeof h);
	for (i = h & c->mask; c->table[i] != 0; i = (i + 1) & c->mask)
		if (memcmp(c->sigs[c->table[i] - 1].digest, digest,
		    DNS_DIGEST) == 0)
			return (&c->sigs[c->table[i] - 1]);
	*slot = i;
	return (NULL);
}

/* Rebuild the table for the signatures there are (at most half full). */
static void
dns_sigcache_rehash(struct dns_sigcache *c)
{
	size_t		size = 1024, i, j;
	uint32_t	h;

	while (size < c->nsigs * 2 + 2)
		size *= 2;
	free(c->table);
	c->table = xcalloc(size, sizeof *c->table);
	c->mask = size - 1;
	for (i = 0; i < c->nsigs; i++) {
		memcpy(&h, c->sigs[i].digest, sizeof h);
		for (j = h & c->mask; c->table[j] != 0; j = (j + 1) & c->mask)
			;
		c->table[j] = (uint32_t)i + 1;
	}
}

void
dns_sigcache_free(struct dns_sigcache *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsigs; i++)
		free(c->sigs[i].sig);
	free(c->sigs);
	free(c->table);
	free(c);
}

void
dns_sigcache_sweep(struct dns_db *db)
{
	struct dns_sigcache	*c = db->sigcache;
	size_t			 i, kept = 0;

	if (c == NULL)
		return;
	for (i = 0; i < c->nsigs; i++) {
		if (c->sigs[i].gen != c->gen) {
			free(c->sigs[i].sig);
			continue;
		}
		c->sigs[kept++] = c->sigs[i];
	}
	c->nsigs = kept;
	dns_sigcache_rehash(c);
}

/* A new signature of node's RRset of type, or NULL. */
static struct dns_rec *
dns_sign_make(struct dns_db *db, struct dns_node *node, uint16_t type,
    uint32_t now)
{
	ldns_rr_list		*list = ldns_rr_list_new(), *sigs;
	ldns_key		*key;
	struct dns_rec		*sig = NULL;
	ldns_rr			*rr;
	size_t			 i;

	for (i = 0; i < node->nrrs; i++) {
		if (node->rrs[i]->type != type)
			continue;
		if ((rr = dns_rec_ldns(node->rrs[i])) != NULL)
			ldns_rr_list_push_rr(list, rr);
	}
	key = ldns_key_list_key(db->zones[node->zone].keys, 0);
	ldns_key_set_inception(key, now - DNS_SIG_BEFORE);
	ldns_key_set_expiration(key, now + DNS_SIG_VALID);
	sigs = ldns_rr_list_rr_count(list) > 0 ?
	    ldns_sign_public(list, db->zones[node->zone].keys) : NULL;
	if (sigs != NULL && ldns_rr_list_rr_count(sigs) > 0)
		sig = dns_rec_new(ldns_rr_list_rr(sigs, 0));
	if (sigs != NULL)
		ldns_rr_list_deep_free(sigs);
	ldns_rr_list_deep_free(list);
	return (sig);
}

/* The RRSIG of one RRset of node, made or reused, into the arena in both
 * forms. */
static void
dns_sign_set(struct dns_db *db, struct dns_node *node, struct dns_rrset *set,
    uint32_t now)
{
	static const uint8_t	 ptr[2] = { 0xc0, 0x0c };
	struct dns_sigcache	*c = db->sigcache;
	struct dns_sig		*s;
	struct dns_rec		*sig;
	uint8_t			 digest[DNS_DIGEST];
	size_t			 i, slot = 0;

	dns_sign_digest(db, node, set->type, digest);
	if ((s = dns_sigcache_find(c, digest, &slot)) != NULL &&
	    (int32_t)(s->expire - now) > DNS_SIG_RENEW) {
		c->reused++;
		s->gen = c->gen;
		sig = s->sig;
	} else if ((sig = dns_sign_make(db, node, set->type, now)) != NULL) {
		c->nsigned++;
		if (s == NULL) {
			if (c->nsigs == c->cap) {
				c->cap = c->cap == 0 ? 1024 : c->cap * 2;
				c->sigs = xreallocarray(c->sigs, c->cap,
				    sizeof *c->sigs);
			}
			s = &c->sigs[c->nsigs++];
			memset(s, 0, sizeof *s);
			memcpy(s->digest, digest, DNS_DIGEST);
			/* At most half full, so that probes stay short. */
			if (c->table == NULL || c->nsigs * 2 > c->mask + 1)
				dns_sigcache_rehash(c);
			else
				c->table[slot] = (uint32_t)c->nsigs;
		} else
			free(s->sig);
		s->sig = sig;
		s->expire = now + DNS_SIG_VALID;
		s->gen = c->gen;
	}
	if (sig != NULL) {
		set->sigoff = (uint32_t)db->arena_len;
		dns_arena_put(db, ptr, sizeof ptr);
		dns_arena_put_rr_tail(db, sig);
		set->siglen = (uint32_t)db->arena_len - set->sigoff;
		set->fsigoff = (uint32_t)db->arena_len;
		dns_arena_put_rr_full(db, sig);
		set->fsiglen = (uint32_t)db->arena_len - set->fsigoff;
		set->sigcount = 1;
	}
	/* The RRset with full owners, for the authority section. */
	if (set->type == LDNS_RR_TYPE_NSEC || set->type == LDNS_RR_TYPE_NSEC3) {
		set->foff = (uint32_t)db->arena_len;
		for (i = 0; i < node->nrrs; i++)
			if (node->rrs[i]->type == set->type)
				dns_arena_put_rr_full(db, node->rrs[i]);
		set->flen = (uint32_t)db->arena_len - set->foff;
	}
}

void
dns_sign_sets(struct dns_db *db)
{
	struct dns_node	*node;
	size_t		 i, j;
	uint32_t	 now = (uint32_t)time(NULL);

	if (db->sigcache == NULL)
		db->sigcache = xcalloc(1, sizeof *db->sigcache);
	db->sigcache->gen++;
	db->sigcache->nsigned = db->sigcache->reused = 0;
	for (i = 0; i < db->nnodes; i++) {
		node = &db->nodes[i];
		for (j = 0; j < node->nsets; j++)
			dns_sign_set(db, node, &db->sets[node->set_first + j],
			    now);
	}
}

const struct dns_node *
dns_sign_cover(const struct dns_db *db, uint32_t zone, const uint8_t *name,
    size_t len)
{
	size_t			 lo = 0, hi = db->nnodes, mid;
	const struct dns_node	*node, *best = NULL;
	int			 c;

	if (db->canon == NULL)
		return (NULL);
	/* The last node of the zone not after name. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		node = &db->nodes[db->canon[mid]];
		if (node->zone < zone)
			c = -1;
		else if (node->zone > zone)
			c = 1;
		else
			c = dns_canon_cmp(db->arena + node->name_off,
			    node->namelen, name, len);
		if (c <= 0) {
			if (node->zone == zone)
				best = node;
			lo = mid + 1;
		} else
			hi = mid;
	}
	return (best);
}

void
dns_db_sign_stats(const struct dns_db *db, size_t *nsigned, size_t *reused)
{
	*nsigned = db->sigcache != NULL ? db->sigcache->nsigned : 0;
	*reused = db->sigcache != NULL ? db->sigcache->reused : 0;
}

int
dns_db_sign_refresh(struct dns_db *db)
{
	struct dns_sigcache	*c = db->sigcache;
	uint32_t		 now = (uint32_t)time(NULL);
	size_t			 i;

	if (!db->dnssec || c == NULL)
		return (0);
	for (i = 0; i < c->nsigs; i++) {
		if ((int32_t)(c->sigs[i].expire - now) <= DNS_SIG_RENEW) {
			db->dirty = 1;
			return (1);
		}
	}
	return (0);
}
