/* dns.h: the authoritative DNS server: the zone model fed by the dockerd
 * follower and the config, the query path answering from a precomputed index,
 * and the server table entry listening on UDP and TCP on the loop. */
#ifndef NETCRAVE_DNS_H
#define NETCRAVE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

struct dockerd_container;
struct prefix;

/* Labels a container may carry. */
#define DNS_SRV_LABEL		"io.netcrave.srv"
#define DNS_RECORDS_LABEL	"io.netcrave.dns.records"

/* The largest answer over TCP, and what the stack buffers hold. */
#define DNS_MAX_MESSAGE		65535

/* The zones and their records; one per server, several in tests. */
struct dns_db;

/* A db for zone (e.g. "netcrave.internal."), records living ttl seconds. */
struct dns_db	*dns_db_new(const char *zone, uint32_t ttl, char *err,
		    size_t errlen);
void		 dns_db_free(struct dns_db *);
/* Serve the reverse zones covering prefix (rounded to label boundaries). */
int		 dns_db_add_reverse(struct dns_db *, const struct prefix *,
		    char *err, size_t errlen);
/* Sign the zones from now on (DNSSEC: ECDSA P-256, NSEC); call after the
 * zones are added.  -1 with err when no key can be made. */
int		 dns_db_enable_dnssec(struct dns_db *, char *err, size_t errlen);
/* Take the keys of old's zones that db serves too (a reload keeps them). */
void		 dns_db_adopt_keys(struct dns_db *, struct dns_db *old);
/* The DNSKEY of zone i in presentation form (caller frees), or NULL. */
char		*dns_db_dnskey(const struct dns_db *, size_t);
/* Replace the operator's static records (zone-file lines, relative names
 * are under the zone); -1 with err on the first bad line, db unchanged. */
int		 dns_db_set_static(struct dns_db *, char *const *lines,
		    char *err, size_t errlen);
/* A container's records, replacing what it had; remove forgets them. */
void		 dns_container_set(struct dns_db *, const struct dockerd_container *);
void		 dns_container_remove(struct dns_db *, const char *id);
/* Rebuild the answer index if anything changed (the serial goes up then);
 * returns 1 when it did.  The query path calls it itself when needed. */
int		 dns_db_commit(struct dns_db *);
uint32_t	 dns_db_serial(const struct dns_db *);
/* Start above serial (a db replacing another on reload). */
void		 dns_db_follow_serial(struct dns_db *, uint32_t serial);
const char	*dns_db_zone(const struct dns_db *);
/* Number of zones, and the i-th apex in presentation form (static buffer). */
size_t		 dns_db_nzones(const struct dns_db *);
const char	*dns_db_apex(const struct dns_db *, size_t);

/* How a query came in. */
struct dns_query_ctx {
	int		 tcp;
	uint16_t	 max_payload;	/* EDNS payload we offer (dns.edns_payload) */
	int		 stale_ok;	/* answer from the last commit even if
					   changes wait (the server commits on a
					   timer, so queries never pay for it) */
};

/*
 * Answer the query in q into out; returns the answer's length, or 0 when
 * nothing should be sent (not a query at all).  The answer is never longer
 * than the transport allows (512, the EDNS payload up to max_payload, or
 * DNS_MAX_MESSAGE over TCP) or than qlen + 11 when only the header, question
 * and OPT go back: out must hold the larger of the two.
 */
size_t		 dns_answer(struct dns_db *, const uint8_t *q, size_t qlen,
		    const struct dns_query_ctx *, uint8_t *out);

/* Whether q is a well-formed AXFR or IXFR question (zone index in *zone). */
int		 dns_query_is_xfr(struct dns_db *, const uint8_t *q, size_t qlen,
		    size_t *zone);
/* The zone transfer of zone as a series of messages, each handed to emit. */
void		 dns_axfr(struct dns_db *, size_t zone, const uint8_t *q,
		    size_t qlen, void (*emit)(const uint8_t *, size_t, void *),
		    void *arg);
/* A NOTIFY for zone with this id, into out; returns its length. */
size_t		 dns_notify_message(struct dns_db *, size_t zone, uint16_t id,
		    uint8_t *out, size_t outlen);

/* The server table entry. */
extern const struct server dns_server;

/* ACME dns-01 (dns_challenge.c): the TXT record _acme-challenge.<name>
 * carrying value, served until removed; -1 with err when name lies outside
 * the zones served or DNS is off. */
struct dns_db	*dns_server_db(void);
int		 dns_challenge_add(const char *name, const char *value,
		    char *err, size_t errlen);
void		 dns_challenge_remove(const char *name);

#endif
