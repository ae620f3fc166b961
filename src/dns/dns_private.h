/* dns_private.h: the zone model's index, shared by the model (dns_zone.c) and
 * the query path (dns_query.c); nothing outside src/dns sees it. */
#ifndef NETCRAVE_DNS_PRIVATE_H
#define NETCRAVE_DNS_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#define DNS_MAXNAME	255

/* A record kept compact (ldns records cost over a kilobyte each): the owner
 * as written, then the RDATA, both in wire form. */
struct dns_rec {
	uint32_t	 ttl;
	uint16_t	 type;
	uint16_t	 rdlen;
	uint8_t		 ownerlen;
	uint8_t		 data[];
};

/* What a container or the config contributes; the db owns the records. */
struct dns_source {
	char		 *id;		/* container id; "" for dns.records */
	struct dns_rec	**rrs;
	size_t		  nrrs;
};

struct dns_zone {
	ldns_rdf	*apex;
	uint8_t		 lapex[DNS_MAXNAME];	/* lower-case wire form */
	size_t		 lapexlen;
	ldns_rr		*soa;
	ldns_rr		*ns;
	struct dns_rec	*soa_rec, *ns_rec;	/* as of the last commit */
	ldns_key_list	*keys;			/* DNSSEC: one ECDSA P-256 key */
	struct dns_rec	*dnskey_rec;
	uint32_t	 soa_off, soa_len;	/* SOA with its full owner, in arena */
	struct dns_journal *journal;		/* IXFR: differences by serial */
};

/* One RRset ready to send: the answer wire names its owner by a pointer to
 * the question (offset 12), so the query's case comes back as asked. */
struct dns_rrset {
	uint16_t	 type;
	uint16_t	 count;
	uint16_t	 acount;	/* additional records (SRV targets) */
	uint32_t	 off, len;
	uint32_t	 aoff, alen;
	/* DNSSEC: the RRSIG with its owner as a pointer to the question, and
	 * the RRset and its RRSIG with owners in full (authority section). */
	uint16_t	 sigcount;
	uint32_t	 sigoff, siglen;
	uint32_t	 foff, flen;
	uint32_t	 fsigoff, fsiglen;
};

struct dns_node {
	uint32_t	 name_off;	/* lower-case wire name in arena */
	uint32_t	 namelen;
	uint32_t	 zone;
	uint32_t	 set_first;
	uint32_t	 nsets;
	/* While building only. */
	struct dns_rec	**rrs;
	size_t		  nrrs, rrcap;
};

struct dns_db {
	char			*zone_text;
	uint32_t		 ttl;
	uint32_t		 serial;
	int			 dirty;

	struct dns_zone		*zones;
	size_t			 nzones;

	struct dns_source	*sources;	/* sorted by id */
	size_t			 nsources, sources_cap;

	/* The index, rebuilt by dns_db_commit. */
	uint8_t			*arena;
	size_t			 arena_len, arena_cap;
	struct dns_node		*nodes;
	size_t			 nnodes, nodes_cap;
	uint32_t		*table;		/* node index + 1; 0: empty */
	size_t			 table_mask;
	struct dns_rrset	*sets;
	size_t			 nsets, sets_cap;

	/* DNSSEC (dns_sign.c). */
	int			 dnssec;
	int			 stored_keys;	/* keys from the keys module */
	struct dns_sigcache	*sigcache;	/* RRSIGs by what they sign */
	int			 journal;	/* keep differences for IXFR */
	uint32_t		*canon;		/* node indexes by zone, then in
						   canonical order (NSEC chain) */
	struct dns_rec		**nsec;		/* this commit's NSEC records */
	size_t			 nnsec;
	int			 nsec3;		/* NSEC3 instead of NSEC */
	struct dns_n3		*n3;		/* hashes by zone, in order */
	size_t			 nn3;
};

/* NSEC3: a name's hash, the node it was made for and the node of its
 * NSEC3 record. */
#define DNS_NSEC3_HASH	20	/* SHA-1 */
struct dns_n3 {
	uint32_t	 zone;
	uint8_t		 hash[DNS_NSEC3_HASH];
	uint32_t	 node;
	uint32_t	 owner;
};

/* dns_zone.c */
struct dns_rec		*dns_rec_new(ldns_rr *);
struct dns_rec		*dns_rec_make(const uint8_t *owner, size_t ownerlen,
			    uint16_t type, uint32_t ttl, const uint8_t *rdata,
			    size_t rdlen);
void			 dns_arena_put(struct dns_db *, const void *, size_t);
void			 dns_arena_put_rr_tail(struct dns_db *,
			    const struct dns_rec *);
void			 dns_index_add(struct dns_db *, struct dns_rec *);
void			 dns_arena_put_rr_full(struct dns_db *,
			    const struct dns_rec *);

/* Every record of zone (DNS_ALL_ZONES: of all) as its owner in full and the
 * rest in wire form, in index order; the SOA records with DNS_EACH_SOA, and
 * each RRset's RRSIG (whole, as the owner part) with DNS_EACH_SIGS. */
#define DNS_ALL_ZONES	UINT32_MAX
#define DNS_EACH_SOA	0x1
#define DNS_EACH_SIGS	0x2
void			 dns_db_foreach_rr(const struct dns_db *, uint32_t zone,
			    int flags, void (*)(const uint8_t *, size_t,
			    const uint8_t *, size_t, uint32_t, void *), void *);

/* dns_sign.c */
int			 dns_sign_zone_init(struct dns_zone *, int stored,
			    char *, size_t);
void			 dns_sigcache_free(struct dns_sigcache *);
/* After signing: forget the signatures of RRsets that are gone. */
void			 dns_sigcache_sweep(struct dns_db *);
void			 dns_sign_zone_free(struct dns_zone *);
/* After the records are filed, before RRsets are built: DNSKEY, NSEC. */
void			 dns_sign_add(struct dns_db *);
/* After RRsets are built: an RRSIG for each. */
void			 dns_sign_sets(struct dns_db *);
void			 dns_sign_clear(struct dns_db *);
/* The node whose NSEC covers name (lower-case wire) in zone, or NULL. */
const struct dns_node	*dns_sign_cover(const struct dns_db *, uint32_t zone,
			    const uint8_t *, size_t);
/* NSEC3 denial: the nodes whose NSEC3 records prove name away (node NULL,
 * closest encloser given) or its type (node given); up to 3 into out. */
size_t			 dns_nsec3_denial(const struct dns_db *, uint32_t zone,
			    const struct dns_node *node,
			    const struct dns_node *encloser, const uint8_t *name,
			    size_t len, const struct dns_node **out);
/* The node of a lower-case wire name, or NULL. */
const struct dns_node	*dns_db_lookup(const struct dns_db *, const uint8_t *,
			    size_t);

/* dns_journal.c */
struct dns_journal;
/* After a commit: each zone's differences since the one before. */
void			 dns_journal_commit(struct dns_db *);
void			 dns_journal_free(struct dns_journal *);
/* Whether the differences from serial up to current are all kept. */
int			 dns_journal_has(const struct dns_journal *,
			    uint32_t serial, uint32_t current);
/* The differences from serial up to current, oldest first: step(serial, 0)
 * before what went, step(serial, 1) before what came, rec for each record
 * (wire form, full owner).  -1 (nothing called) when the chain is not kept. */
int			 dns_journal_walk(const struct dns_journal *,
			    uint32_t serial, uint32_t current,
			    void (*step)(uint32_t, int, void *),
			    void (*rec)(const uint8_t *, size_t, void *), void *);
/* dns_zone.c, for dns_challenge.c (ACME dns-01 records as a source). */
void			 dns_source_replace(struct dns_db *, const char *,
			    struct dns_rec **, size_t);
void			 dns_rrs_push(struct dns_rec ***, size_t *, size_t *,
			    ldns_rr *);

#endif
