/* dns_query.c: the query path: a bounds-checked reading of the question and
 * its EDNS OPT record, then an answer copied from the precomputed index, with
 * no allocation per query.  Also zone transfers and NOTIFY messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dns_private.h"
#include "util.h"

#define DNS_HEADER	12
#define DNS_OPT_LEN	11	/* root owner, type, class, TTL, RDLENGTH */

/* Header flags (second and third bytes as one 16-bit word). */
#define DNS_QR		0x8000
#define DNS_AA		0x0400
#define DNS_TC		0x0200
#define DNS_RD		0x0100
#define DNS_CD		0x0010

#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_FORMERR	1
#define DNS_RCODE_NXDOMAIN	3
#define DNS_RCODE_NOTIMP	4
#define DNS_RCODE_REFUSED	5
#define DNS_EXT_BADVERS		1	/* extended RCODE 16, upper bits */

/* What the reading of a query found. */
struct dns_question {
	size_t		 qend;		/* end of the question section */
	uint8_t		 lname[DNS_MAXNAME];
	size_t		 namelen;
	uint16_t	 qtype, qclass;
	int		 edns;		/* an OPT record came */
	int		 edns_version;
	int		 dnssec_ok;	/* the DO bit */
	uint16_t	 payload;	/* the client's */
	int		 has_serial;	/* IXFR: the client's SOA came */
	uint32_t	 serial;
};

/*
 * Read the question and additional section.  Returns -1 when the message is
 * not worth an answer, else an RCODE (NOERROR when the question is usable;
 * qend is then valid and, for FORMERR, 0 when the question itself is bad).
 */
static int
dns_read_query(const uint8_t *q, size_t len, struct dns_question *out)
{
	size_t		pos = DNS_HEADER, i, label, rdlen;
	uint16_t	flags, qd, an, ns, ar, type;
	uint8_t		c;

	/* Not the whole struct: the name buffer is written as it is read
	 * (this runs for every query). */
	out->qend = out->namelen = 0;
	out->qtype = out->qclass = out->payload = 0;
	out->edns = out->edns_version = out->dnssec_ok = out->has_serial = 0;
	out->serial = 0;
	if (len < DNS_HEADER)
		return (-1);
	flags = util_get_be16(q + 2);
	if (flags & DNS_QR)
		return (-1);		/* never answer an answer */
	qd = util_get_be16(q + 4);
	an = util_get_be16(q + 6);
	ns = util_get_be16(q + 8);
	ar = util_get_be16(q + 10);
	if (qd != 1)
		return (DNS_RCODE_FORMERR);
	/* The name, label by label: no pointers in a question. */
	for (;;) {
		if (pos >= len)
			return (DNS_RCODE_FORMERR);
		label = q[pos];
		if (label > 63)
			return (DNS_RCODE_FORMERR);
		if (out->namelen + label + 1 > DNS_MAXNAME ||
		    pos + label + 1 > len)
			return (DNS_RCODE_FORMERR);
		out->lname[out->namelen++] = (uint8_t)label;
		/* ASCII only (RFC 4343): copied, then the upper case letters
		 * lowered, without tolower's call per byte. */
		memcpy(out->lname + out->namelen, q + pos + 1, label);
		for (i = 0; i < label; i++) {
			c = out->lname[out->namelen + i];
			if ((uint8_t)(c - 'A') < 26)
				out->lname[out->namelen + i] = c | 0x20;
		}
		out->namelen += label;
		pos += label + 1;
		if (label == 0)
			break;
	}
	if (pos + 4 > len)
		return (DNS_RCODE_FORMERR);
	out->qtype = util_get_be16(q + pos);
	out->qclass = util_get_be16(q + pos + 2);
	pos += 4;
	out->qend = pos;
	if ((flags >> 11 & 0xf) != 0)
		return (DNS_RCODE_NOTIMP);
	if (an != 0 || (ns != 0 && (ns != 1 ||
	    out->qtype != LDNS_RR_TYPE_IXFR)) || ar > 1) {
		out->qend = 0;
		return (DNS_RCODE_FORMERR);
	}
	if (ns == 1) {
		/* IXFR: the client's SOA; its serial is 20 bytes from the
		 * end of the RDATA, after two names. */
		for (;;) {
			if (pos >= len)
				return (DNS_RCODE_FORMERR);
			if ((q[pos] & 0xc0) == 0xc0) {
				pos += 2;
				break;
			}
			if (q[pos] > 63)
				return (DNS_RCODE_FORMERR);
			if (q[pos] == 0) {
				pos++;
				break;
			}
			pos += (size_t)q[pos] + 1;
		}
		if (pos + 10 > len)
			return (DNS_RCODE_FORMERR);
		type = util_get_be16(q + pos);
		rdlen = util_get_be16(q + pos + 8);
		if (type != LDNS_RR_TYPE_SOA || rdlen < 22 ||
		    pos + 10 + rdlen > len)
			return (DNS_RCODE_FORMERR);
		out->serial = util_get_be32(q + pos + 10 + rdlen - 20);
		out->has_serial = 1;
		pos += 10 + rdlen;
	}
	if (ar == 1) {
		/* Only OPT is understood here; anything else (TSIG) is refused
		 * by the FORMERR below as a malformed query for us. */
		if (pos + DNS_OPT_LEN > len || q[pos] != 0)
			return (DNS_RCODE_FORMERR);
		type = util_get_be16(q + pos + 1);
		rdlen = util_get_be16(q + pos + 9);
		if (type != LDNS_RR_TYPE_OPT || pos + DNS_OPT_LEN + rdlen != len)
			return (DNS_RCODE_FORMERR);
		out->edns = 1;
		out->payload = util_get_be16(q + pos + 3);
		out->edns_version = q[pos + 6];
		out->dnssec_ok = (q[pos + 7] & 0x80) != 0;
		pos += DNS_OPT_LEN + rdlen;
	}
	if (pos != len)
		return (DNS_RCODE_FORMERR);
	/* Meta types are no questions (AXFR and IXFR come by their own way). */
	if (out->qtype == LDNS_RR_TYPE_OPT || out->qtype == 0)
		return (DNS_RCODE_FORMERR);
	return (DNS_RCODE_NOERROR);
}

/* Our OPT record: payload size, extended RCODE, DO echoed when we sign. */
static size_t
dns_put_opt(uint8_t *p, uint16_t payload, uint8_t ext_rcode, int dnssec_ok)
{
	p[0] = 0;
	util_put_be16(p + 1, LDNS_RR_TYPE_OPT);
	util_put_be16(p + 3, payload);
	p[5] = ext_rcode;
	p[6] = 0;		/* version */
	p[7] = dnssec_ok ? 0x80 : 0;
	p[8] = 0;
	util_put_be16(p + 9, 0);
	return (DNS_OPT_LEN);
}

/* Header of an answer to q: id, RD and CD kept, our flags and counts. */
static void
dns_put_header(uint8_t *out, const uint8_t *q, uint16_t flags, int rcode,
    uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	uint16_t	asked = util_get_be16(q + 2);

	out[0] = q[0];
	out[1] = q[1];
	util_put_be16(out + 2, (uint16_t)(DNS_QR | flags | (asked & (DNS_RD |
	    DNS_CD)) | (rcode & 0xf)));
	util_put_be16(out + 4, qd);
	util_put_be16(out + 6, an);
	util_put_be16(out + 8, ns);
	util_put_be16(out + 10, ar);
}

/* The RRset of type at node, or NULL. */
static const struct dns_rrset *
dns_node_rrset(const struct dns_db *db, const struct dns_node *node,
    uint16_t type)
{
	size_t	i;

	for (i = 0; i < node->nsets; i++)
		if (db->sets[node->set_first + i].type == type)
			return (&db->sets[node->set_first + i]);
	return (NULL);
}

/* The zone of a name that has no node: the closest enclosing node's (kept in
 * *encloser); -1 when the name is in none of our zones. */
static int
dns_closest_zone(const struct dns_db *db, const uint8_t *name, size_t len,
    const struct dns_node **encloser)
{
	const struct dns_node	*node;
	size_t			 pos = 0;

	while (pos < len && name[pos] != 0) {
		pos += (size_t)name[pos] + 1;
		if ((node = dns_db_lookup(db, name + pos, len - pos)) != NULL) {
			*encloser = node;
			return ((int)node->zone);
		}
	}
	return (-1);
}

size_t
dns_answer(struct dns_db *db, const uint8_t *q, size_t qlen,
    const struct dns_query_ctx *ctx, uint8_t *out)
{
	struct dns_question	 qs;
	const struct dns_node	*node, *encloser = NULL, *denial[3];
	const struct dns_rrset	*set = NULL, *cname, *soa, *nsec;
	const struct dns_zone	*zone;
	uint8_t			 wild[DNS_MAXNAME];
	size_t			 limit, pos, optlen, start, ndenial, i;
	uint16_t		 flags = 0, an = 0, ns = 0, ar = 0;
	int			 rcode, z, do_sign = 0;

	if ((rcode = dns_read_query(q, qlen, &qs)) < 0)
		return (0);
	if (db->dirty && !ctx->stale_ok)
		dns_db_commit(db);
	/* The question goes back as it came: the asker's case. */
	pos = DNS_HEADER;
	if (qs.qend > 0) {
		memcpy(out + pos, q + pos, qs.qend - pos);
		pos = qs.qend;
	}
	optlen = qs.edns && rcode != DNS_RCODE_FORMERR ? DNS_OPT_LEN : 0;
	if (rcode != DNS_RCODE_NOERROR)
		goto header_only;
	if (qs.edns && qs.edns_version != 0) {
		dns_put_header(out, q, 0, 0, 1, 0, 0, 1);
		return (pos + dns_put_opt(out + pos, ctx->max_payload,
		    DNS_EXT_BADVERS, 0));
	}
	if (ctx->tcp)
		limit = DNS_MAX_MESSAGE;
	else if (qs.edns)
		limit = qs.payload < 512 ? 512 : qs.payload > ctx->max_payload ?
		    ctx->max_payload : qs.payload;
	else
		limit = 512;
	if (qs.qclass != LDNS_RR_CLASS_IN && qs.qclass != LDNS_RR_CLASS_ANY) {
		rcode = DNS_RCODE_REFUSED;
		goto header_only;
	}
	if ((node = dns_db_lookup(db, qs.lname, qs.namelen)) != NULL)
		z = (int)node->zone;
	else if ((z = dns_closest_zone(db, qs.lname, qs.namelen,
	    &encloser)) < 0) {
		rcode = DNS_RCODE_REFUSED;
		goto header_only;
	}
	/* Transfers need TCP and an allowed address: the server sees to that. */
	if (qs.qtype == LDNS_RR_TYPE_AXFR || qs.qtype == LDNS_RR_TYPE_IXFR) {
		rcode = DNS_RCODE_REFUSED;
		goto header_only;
	}
	zone = &db->zones[z];
	flags = DNS_AA;
	if (node == NULL)
		rcode = DNS_RCODE_NXDOMAIN;
	else if (qs.qtype == LDNS_RR_TYPE_ANY) {
		/* RFC 8482: one RRset is enough. */
		if (node->nsets > 0)
			set = &db->sets[node->set_first];
	} else if ((set = dns_node_rrset(db, node, qs.qtype)) == NULL &&
	    (cname = dns_node_rrset(db, node, LDNS_RR_TYPE_CNAME)) != NULL)
		set = cname;
	do_sign = qs.dnssec_ok && db->dnssec;
	if (set != NULL) {
		if (pos + set->len + (do_sign ? set->siglen : 0) + optlen >
		    limit) {
			flags |= DNS_TC;
			goto header_only;
		}
		memcpy(out + pos, db->arena + set->off, set->len);
		pos += set->len;
		an = set->count;
		if (do_sign && set->sigcount > 0) {
			memcpy(out + pos, db->arena + set->sigoff, set->siglen);
			pos += set->siglen;
			an += set->sigcount;
		}
		/* Additional records only when they fit whole. */
		if (set->acount > 0 && pos + set->alen + optlen <= limit) {
			memcpy(out + pos, db->arena + set->aoff, set->alen);
			pos += set->alen;
			ar = set->acount;
		}
	} else {
		/* NXDOMAIN or NODATA: the SOA says for how long. */
		start = pos;
		if (pos + zone->soa_len + optlen > limit) {
			flags |= DNS_TC;
			goto header_only;
		}
		memcpy(out + pos, db->arena + zone->soa_off, zone->soa_len);
		pos += zone->soa_len;
		ns = 1;
		if (do_sign) {
			/* The SOA's RRSIG, then the NSEC records that prove
			 * the name or the type away, with theirs. */
			denial[0] = dns_db_lookup(db, zone->lapex,
			    zone->lapexlen);
			soa = denial[0] != NULL ? dns_node_rrset(db, denial[0],
			    LDNS_RR_TYPE_SOA) : NULL;
			if (soa != NULL && soa->sigcount > 0 &&
			    pos + soa->fsiglen + optlen <= limit) {
				memcpy(out + pos, db->arena + soa->fsigoff,
				    soa->fsiglen);
				pos += soa->fsiglen;
				ns++;
			}
			ndenial = 0;
			if (db->nsec3)
				ndenial = dns_nsec3_denial(db, (uint32_t)z,
				    node, encloser, qs.lname, qs.namelen,
				    denial);
			else if (node != NULL)
				denial[ndenial++] = node;
			else {
				denial[ndenial++] = dns_sign_cover(db,
				    (uint32_t)z, qs.lname, qs.namelen);
				/* No wildcard at the closest encloser. */
				if (encloser != NULL && encloser->namelen + 2 <=
				    DNS_MAXNAME) {
					wild[0] = 1;
					wild[1] = '*';
					memcpy(wild + 2, db->arena +
					    encloser->name_off,
					    encloser->namelen);
					denial[ndenial] = dns_sign_cover(db,
					    (uint32_t)z, wild,
					    encloser->namelen + 2);
					if (denial[ndenial] != denial[0])
						ndenial++;
				}
			}
			for (i = 0; i < ndenial; i++) {
				nsec = denial[i] != NULL ? dns_node_rrset(db,
				    denial[i], db->nsec3 ? LDNS_RR_TYPE_NSEC3 :
				    LDNS_RR_TYPE_NSEC) : NULL;
				if (nsec == NULL)
					continue;
				if (pos + nsec->flen + nsec->fsiglen + optlen >
				    limit) {
					pos = start;
					flags |= DNS_TC;
					goto header_only;
				}
				memcpy(out + pos, db->arena + nsec->foff,
				    nsec->flen);
				pos += nsec->flen;
				memcpy(out + pos, db->arena + nsec->fsigoff,
				    nsec->fsiglen);
				pos += nsec->fsiglen;
				ns += nsec->count + nsec->sigcount;
			}
		}
	}
	if (optlen > 0) {
		pos += dns_put_opt(out + pos, ctx->max_payload, 0, do_sign);
		ar++;
	}
	dns_put_header(out, q, flags, rcode, 1, an, ns, ar);
	return (pos);

header_only:
	if (optlen > 0)
		pos += dns_put_opt(out + pos, ctx->max_payload, 0, do_sign);
	dns_put_header(out, q, flags, rcode, qs.qend > 0 ? 1 : 0, 0, 0,
	    optlen > 0 ? 1 : 0);
	return (pos);
}

size_t
dns_truncate(uint8_t *answer, size_t len)
{
	size_t	pos = DNS_HEADER;

	if (len < DNS_HEADER || util_get_be16(answer + 4) != 1)
		return (0);
	while (pos < len && answer[pos] != 0) {
		if (answer[pos] > 63)
			return (0);
		pos += (size_t)answer[pos] + 1;
	}
	if (pos + 5 > len)
		return (0);
	util_put_be16(answer + 2, util_get_be16(answer + 2) | DNS_TC);
	memset(answer + 6, 0, 6);	/* no answer, authority, additional */
	return (pos + 5);
}

int
dns_query_is_xfr(struct dns_db *db, const uint8_t *q, size_t qlen,
    size_t *zone)
{
	struct dns_question	 qs;
	size_t			 i;

	if (dns_read_query(q, qlen, &qs) != DNS_RCODE_NOERROR)
		return (0);
	if (qs.qtype != LDNS_RR_TYPE_AXFR && qs.qtype != LDNS_RR_TYPE_IXFR)
		return (0);
	if (db->dirty)
		dns_db_commit(db);
	for (i = 0; i < db->nzones; i++) {
		if (db->zones[i].lapexlen == qs.namelen &&
		    memcmp(db->zones[i].lapex, qs.lname, qs.namelen) == 0) {
			*zone = i;
			return (1);
		}
	}
	return (0);
}

/* Records of a transfer go out in messages of about this size. */
#define DNS_XFR_CHUNK	16384

struct dns_xfr {
	uint8_t		*msg;
	size_t		 len, qend;
	uint16_t	 count;
	const uint8_t	*q;
	void		(*emit)(const uint8_t *, size_t, void *);
	void		*arg;
	const uint8_t	*soa;		/* IXFR: the current SOA, whole */
	size_t		 soa_len;
};

/* Send the message being filled, if it holds records. */
static void
dns_xfr_flush(struct dns_xfr *x)
{
	if (x->count == 0)
		return;
	dns_put_header(x->msg, x->q, DNS_AA, 0, 1, x->count, 0, 0);
	x->emit(x->msg, x->len, x->arg);
	x->len = x->qend;
	x->count = 0;
}

/* Add one whole record (node by node: the index holds the zone's data). */
static void
dns_xfr_add(struct dns_xfr *x, const uint8_t *owner, size_t ownerlen,
    const uint8_t *tail, size_t taillen)
{
	if (x->len + ownerlen + taillen > DNS_XFR_CHUNK)
		dns_xfr_flush(x);
	memcpy(x->msg + x->len, owner, ownerlen);
	memcpy(x->msg + x->len + ownerlen, tail, taillen);
	x->len += ownerlen + taillen;
	x->count++;
}

/* The SOA of z with another serial, whole (the serial is the first of the
 * five numbers that end its RDATA). */
static void
dns_ixfr_soa(struct dns_xfr *x, uint32_t serial)
{
	uint8_t	soa[DNS_MAXNAME * 3 + 40];

	if (x->soa_len > sizeof soa || x->soa_len < 20)
		return;
	memcpy(soa, x->soa, x->soa_len);
	util_put_be32(soa + x->soa_len - 20, serial);
	dns_xfr_add(x, soa, x->soa_len, soa, 0);
}

static void
dns_ixfr_step(uint32_t serial, int added, void *arg)
{
	(void)added;
	dns_ixfr_soa(arg, serial);
}

static void
dns_ixfr_rec(const uint8_t *rec, size_t len, void *arg)
{
	dns_xfr_add(arg, rec, len, rec, 0);
}

/* One record of the zone, for AXFR. */
static void
dns_xfr_rec(const uint8_t *owner, size_t ownerlen, const uint8_t *tail,
    size_t taillen, uint32_t zone, void *arg)
{
	(void)zone;
	dns_xfr_add(arg, owner, ownerlen, tail, taillen);
}

/* RFC 1995: the new SOA, then for each difference since serial the old SOA
 * with what went and the new SOA with what came, then the new SOA again; a
 * client up to date gets the SOA alone.  -1 when the journal does not
 * reach back to serial (the caller sends the whole zone). */
static int
dns_ixfr(struct dns_db *db, const struct dns_zone *z, struct dns_xfr *x,
    uint32_t serial)
{
	x->soa = db->arena + z->soa_off;
	x->soa_len = z->soa_len;
	if (serial == db->serial || (int32_t)(serial - db->serial) > 0) {
		dns_ixfr_soa(x, db->serial);
		return (0);
	}
	if (!dns_journal_has(z->journal, serial, db->serial))
		return (-1);
	dns_ixfr_soa(x, db->serial);
	dns_journal_walk(z->journal, serial, db->serial, dns_ixfr_step,
	    dns_ixfr_rec, x);
	dns_ixfr_soa(x, db->serial);
	return (0);
}

void
dns_axfr(struct dns_db *db, size_t zone, const uint8_t *q, size_t qlen,
    void (*emit)(const uint8_t *, size_t, void *), void *arg)
{
	struct dns_question	 qs;
	const struct dns_zone	*z = &db->zones[zone];
	struct dns_xfr		 x;
	const uint8_t		*owner;
	size_t			 apexlen;

	if (dns_read_query(q, qlen, &qs) != DNS_RCODE_NOERROR)
		return;
	memset(&x, 0, sizeof x);
	x.msg = malloc(DNS_XFR_CHUNK + DNS_MAX_MESSAGE);
	if (x.msg == NULL)
		return;
	x.q = q;
	x.emit = emit;
	x.arg = arg;
	memcpy(x.msg + DNS_HEADER, q + DNS_HEADER, qs.qend - DNS_HEADER);
	x.qend = x.len = qs.qend;
	/* SOA first and last; in between every other RRset of the zone. */
	apexlen = ldns_rdf_size(ldns_rr_owner(z->soa));
	owner = ldns_rdf_data(ldns_rr_owner(z->soa));
	if (qs.qtype == LDNS_RR_TYPE_IXFR && qs.has_serial &&
	    dns_ixfr(db, z, &x, qs.serial) == 0) {
		dns_xfr_flush(&x);
		free(x.msg);
		return;
	}
	dns_xfr_add(&x, owner, apexlen, db->arena + z->soa_off + apexlen,
	    z->soa_len - apexlen);
	dns_db_foreach_rr(db, (uint32_t)zone, DNS_EACH_SIGS, dns_xfr_rec, &x);
	dns_xfr_add(&x, owner, apexlen, db->arena + z->soa_off + apexlen,
	    z->soa_len - apexlen);
	dns_xfr_flush(&x);
	free(x.msg);
}

size_t
dns_notify_message(struct dns_db *db, size_t zone, uint16_t id, uint8_t *out,
    size_t outlen)
{
	const struct dns_zone	*z = &db->zones[zone];
	size_t			 pos = DNS_HEADER;

	if (db->dirty)
		dns_db_commit(db);
	if (outlen < DNS_HEADER + z->lapexlen + 4 + z->soa_len)
		return (0);
	memset(out, 0, DNS_HEADER);
	util_put_be16(out, id);
	util_put_be16(out + 2, (uint16_t)(LDNS_PACKET_NOTIFY << 11 | DNS_AA));
	util_put_be16(out + 4, 1);
	util_put_be16(out + 6, 1);	/* the new SOA, as a hint */
	memcpy(out + pos, ldns_rdf_data(z->apex), z->lapexlen);
	pos += z->lapexlen;
	util_put_be16(out + pos, LDNS_RR_TYPE_SOA);
	util_put_be16(out + pos + 2, LDNS_RR_CLASS_IN);
	pos += 4;
	memcpy(out + pos, db->arena + z->soa_off, z->soa_len);
	return (pos + z->soa_len);
}
