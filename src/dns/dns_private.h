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
	uint32_t		*canon;		/* node indexes by zone, then in
						   canonical order (NSEC chain) */
	struct dns_rec		**nsec;		/* this commit's NSEC records */
	size_t			 nnsec;
};

/* dns_zone.c */
struct dns_rec		*dns_rec_new(ldns_rr *);
void			 dns_arena_put(struct dns_db *, const void *, size_t);
void			 dns_arena_put_rr_tail(struct dns_db *,
			    const struct dns_rec *);
void			 dns_index_add(struct dns_db *, struct dns_rec *);
void			 dns_arena_put_rr_full(struct dns_db *,
			    const struct dns_rec *);

/* dns_sign.c */
int			 dns_sign_zone_init(struct dns_zone *, char *, size_t);
void			 dns_sign_zone_free(struct dns_zone *);
/* After the records are filed, before RRsets are built: DNSKEY, NSEC. */
void			 dns_sign_add(struct dns_db *);
/* After RRsets are built: an RRSIG for each. */
void			 dns_sign_sets(struct dns_db *);
void			 dns_sign_clear(struct dns_db *);
/* The node whose NSEC covers name (lower-case wire) in zone, or NULL. */
const struct dns_node	*dns_sign_cover(const struct dns_db *, uint32_t zone,
			    const uint8_t *, size_t);
/* The node of a lower-case wire name, or NULL. */
const struct dns_node	*dns_db_lookup(const struct dns_db *, const uint8_t *,
			    size_t);

/* dns_zone.c, for dns_challenge.c (ACME dns-01 records as a source). */
void			 dns_source_replace(struct dns_db *, const char *,
			    struct dns_rec **, size_t);
void			 dns_rrs_push(struct dns_rec ***, size_t *, size_t *,
			    ldns_rr *);

#endif
