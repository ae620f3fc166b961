/* dns.h: the authoritative DNS server: the zone model fed by the dockerd
 * follower and the config, the query path answering from a precomputed index,
 * and the server table entry listening on UDP and TCP on the loop. */
#ifndef NETCRAVE_DNS_H
#define NETCRAVE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>

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
 * zones are added.  stored: each zone's key comes from the keys module
 * ("dnssec:<apex>", made once, kept encrypted), else a fresh one in memory.
 * -1 with err when no key can be had. */
int		 dns_db_enable_dnssec(struct dns_db *, int stored, char *err,
		    size_t errlen);
/* Deny with NSEC3 (RFC 5155: SHA-1, no salt, no extra iterations, no
 * opt-out, as RFC 9276 advises) instead of NSEC. */
void		 dns_db_use_nsec3(struct dns_db *);
/* Take the keys and signatures of old's zones that db serves too (a reload
 * keeps them, so only what changed is signed again). */
void		 dns_db_adopt_keys(struct dns_db *, struct dns_db *old);
/* Signing work of the last commit: RRsets signed, and signatures reused. */
void		 dns_db_sign_stats(const struct dns_db *, size_t *nsigned,
		    size_t *reused);
/* Mark the zones changed when signatures near their half-life (a zone that
 * never changes is still re-signed in time); 1 when it did. */
int		 dns_db_sign_refresh(struct dns_db *);
/* The DNSKEY of zone i in presentation form (caller frees), or NULL. */
char		*dns_db_dnskey(const struct dns_db *, size_t);
/* Replace the operator's static records (zone-file lines, relative names
 * are under the zone); -1 with err on the first bad line, db unchanged. */
int		 dns_db_set_static(struct dns_db *, char *const *lines,
		    char *err, size_t errlen);
/* A container's records, replacing what it had; remove forgets them. */
void		 dns_container_set(struct dns_db *, const struct dockerd_container *);
void		 dns_container_remove(struct dns_db *, const char *id);
/*
 * dns_share.c: the cluster's hosts answer for each other's containers (host
 * NULL: no cluster, nothing shared).  alive (NULL: every host) tells whether
 * a host counts; dns_share_host is told when one dies or comes back.
 */
struct store;
struct server_record;
void		 dns_share_init(const char *host, struct store *,
		    const struct server_record *, size_t,
		    struct dns_db *(*db)(void), void (*changed)(void),
		    int (*alive)(const char *host));
void		 dns_share_publish(const struct dockerd_container *);
void		 dns_share_withdraw(const char *id);
void		 dns_share_replay(struct dns_db *);
void		 dns_share_host(const char *host, int alive);
void		 dns_share_shutdown(void);
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

/* Keep the differences of each commit for IXFR (when transfers are allowed
 * to someone; a reload hands them on with dns_db_adopt_keys). */
void		 dns_db_keep_journal(struct dns_db *);

/* Whether q is a well-formed AXFR or IXFR question (zone index in *zone). */
int		 dns_query_is_xfr(struct dns_db *, const uint8_t *q, size_t qlen,
		    size_t *zone);
/* The zone transfer of zone as a series of messages, each handed to emit:
 * for an IXFR whose serial the journal reaches, the differences since (RFC
 * 1995), else the whole zone. */
void		 dns_axfr(struct dns_db *, size_t zone, const uint8_t *q,
		    size_t qlen, void (*emit)(const uint8_t *, size_t, void *),
		    void *arg);
/* A NOTIFY for zone with this id, into out; returns its length. */
size_t		 dns_notify_message(struct dns_db *, size_t zone, uint16_t id,
		    uint8_t *out, size_t outlen);

/* An answer cut to its header and question with TC set (the client asks
 * again over TCP); returns the new length, 0 when it has no question. */
size_t		 dns_truncate(uint8_t *answer, size_t len);

/* Response rate limiting of UDP answers (dns_rrl.c): rate answers a second
 * per client network and kind of answer; every slip-th limited one goes out
 * truncated (0: none), the others are dropped. */
struct sockaddr;
struct dns_rrl;
enum dns_rrl_action { DNS_RRL_SEND, DNS_RRL_DROP, DNS_RRL_SLIP };
struct dns_rrl	*dns_rrl_new(unsigned int rate, unsigned int slip);
void		 dns_rrl_free(struct dns_rrl *);
/* Clients in p are never limited. */
void		 dns_rrl_exempt(struct dns_rrl *, const struct prefix *p);
/* What to do with answer (len bytes) to the client at sa, now in seconds. */
enum dns_rrl_action dns_rrl_check(struct dns_rrl *, const struct sockaddr *sa,
		    const uint8_t *answer, size_t len, int64_t now);

/* The records served, as {"serial": N, "records": [{"zone", "name", "ttl",
 * "type", "data"}...]} (RRSIGs left out): netcravectl records.  gen_records
 * is the running server's (an empty list when DNS is off). */
void		 dns_db_gen_records(struct dns_db *, yajl_gen);
void		 dns_gen_records(yajl_gen);

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
