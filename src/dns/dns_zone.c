/* dns_zone.c: the zone model: zones (the internal one and the reverse zones of
 * the schema), records by source (the config, each container), and the index
 * the query path answers from, rebuilt in one pass whenever something changed. */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dns_private.h"
#include "dockerd.h"
#include "ingress.h"
#include "json.h"
#include "log.h"
#include "prefix.h"
#include "util.h"
#include "xmalloc.h"

/* Reverse zones a single prefix may expand to (a /15 is two /16 zones). */

/* What dns_gen_record writes to. */
struct dns_gen {
	const struct dns_db	*db;
	yajl_gen		 g;
};
#define DNS_MAX_REVERSE_SPLIT	256

static void	dns_source_free(struct dns_source *);
static void	dns_recs_push(struct dns_rec ***, size_t *, size_t *,
		    struct dns_rec *);

/* Lower-case copy of a wire name; returns its length. */
static size_t
dns_lower(const uint8_t *name, size_t len, uint8_t *out)
{
	size_t	i;

	for (i = 0; i < len; i++)
		out[i] = (uint8_t)tolower(name[i]);
	return (len);
}

/* Whether the wire name (lower case) is at or below the zone's apex. */
static int
dns_in_zone(const uint8_t *name, size_t len, const struct dns_zone *z)
{
	size_t	pos = 0;

	while (pos < len) {
		if (len - pos == z->lapexlen &&
		    memcmp(name + pos, z->lapex, z->lapexlen) == 0)
			return (1);
		if (name[pos] == 0)
			break;
		pos += (size_t)name[pos] + 1;
	}
	return (0);
}

/* The zone holding a lower-case wire name, or -1. */
static int
dns_zone_of(const struct dns_db *db, const uint8_t *name, size_t len)
{
	size_t	i;

	for (i = 0; i < db->nzones; i++)
		if (dns_in_zone(name, len, &db->zones[i]))
			return ((int)i);
	return (-1);
}

/* Parse one record in presentation form; NULL with err on failure. */
static ldns_rr *
dns_rr_parse(const char *text, ldns_rdf *origin, uint32_t ttl, char *err,
    size_t errlen)
{
	ldns_rr		*rr = NULL;
	ldns_status	 st;

	st = ldns_rr_new_frm_str(&rr, text, ttl, origin, NULL);
	if (st != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s: %s", text, ldns_get_errorstr_by_id(st));
		return (NULL);
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		snprintf(err, errlen, "%s: only class IN is served", text);
		ldns_rr_free(rr);
		return (NULL);
	}
	return (rr);
}

/* A presentation name ("a.b.c.") into wire form; -1 when it is not a plain
 * name (escapes are not expected from dockerd's names). */
static int
dns_name_wire(const char *text, uint8_t *out, size_t *outlen)
{
	size_t	len = 0, label;
	const char *dot;

	while (*text != '\0') {
		if ((dot = strchr(text, '.')) == NULL)
			return (-1);		/* fully qualified only */
		label = (size_t)(dot - text);
		if (label == 0 || label > 63 || len + label + 2 > DNS_MAXNAME ||
		    memchr(text, '\\', label) != NULL)
			return (-1);
		out[len++] = (uint8_t)label;
		memcpy(out + len, text, label);
		len += label;
		text = dot + 1;
	}
	out[len++] = 0;
	*outlen = len;
	return (0);
}

/*
 * A record the zone model makes itself, from "OWNER TTL IN TYPE DATA" with
 * TYPE A, AAAA, PTR or SRV, straight into the compact form (ldns's text
 * parser is slow and heavy for ten thousand containers).  NULL, logged at
 * debug level, when a name or an address is no good.
 */
static struct dns_rec *
dns_rec_text(const struct dns_db *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static struct dns_rec *
dns_rec_text(const struct dns_db *db, const char *fmt, ...)
{
	va_list		 ap;
	char		 text[1024], owner[1024], type[8], data[1024];
	uint8_t		 ownerw[DNS_MAXNAME], rdata[DNS_MAXNAME + 6];
	size_t		 ownerlen, rdlen = 0, namelen;
	unsigned int	 ttl, port;
	uint16_t	 t;

	(void)db;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (sscanf(text, "%1023s %u IN %7s %1023[^\n]", owner, &ttl, type,
	    data) != 4 || dns_name_wire(owner, ownerw, &ownerlen) != 0)
		goto bad;
	if (strcmp(type, "A") == 0) {
		t = LDNS_RR_TYPE_A;
		if (inet_pton(AF_INET, data, rdata) != 1)
			goto bad;
		rdlen = 4;
	} else if (strcmp(type, "AAAA") == 0) {
		t = LDNS_RR_TYPE_AAAA;
		if (inet_pton(AF_INET6, data, rdata) != 1)
			goto bad;
		rdlen = 16;
	} else if (strcmp(type, "PTR") == 0) {
		t = LDNS_RR_TYPE_PTR;
		if (dns_name_wire(data, rdata, &rdlen) != 0)
			goto bad;
	} else if (strcmp(type, "SRV") == 0) {
		t = LDNS_RR_TYPE_SRV;
		if (sscanf(data, "0 0 %u %1023s", &port, owner) != 2 ||
		    port > 65535 || dns_name_wire(owner, rdata + 6, &namelen) != 0)
			goto bad;
		memset(rdata, 0, 4);
		util_put_be16(rdata + 4, (uint16_t)port);
		rdlen = 6 + namelen;
	} else
		goto bad;
	return (dns_rec_make(ownerw, ownerlen, t, ttl, rdata, rdlen));
bad:
	log_debug("%s: %s: not made", __func__, text);
	return (NULL);
}

/* A record from its parts in wire form. */
struct dns_rec *
dns_rec_make(const uint8_t *owner, size_t ownerlen, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct dns_rec	*rec;

	rec = xmalloc(sizeof *rec + ownerlen + rdlen);
	rec->ttl = ttl;
	rec->type = type;
	rec->rdlen = (uint16_t)rdlen;
	rec->ownerlen = (uint8_t)ownerlen;
	memcpy(rec->data, owner, ownerlen);
	memcpy(rec->data + ownerlen, rdata, rdlen);
	return (rec);
}

/* Add a zone by its apex; its SOA and NS come with it. */
static int
dns_db_add_zone(struct dns_db *db, const char *apex, char *err, size_t errlen)
{
	struct dns_zone	*z;
	ldns_rdf	*rdf;
	size_t		 i;
	char		 text[1024];

	if (ldns_str2rdf_dname(&rdf, apex) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s: not a domain name", apex);
		return (-1);
	}
	ldns_dname2canonical(rdf);
	for (i = 0; i < db->nzones; i++) {
		if (ldns_dname_compare(rdf, db->zones[i].apex) == 0 ||
		    ldns_dname_is_subdomain(rdf, db->zones[i].apex)) {
			ldns_rdf_deep_free(rdf);	/* already served */
			return (0);
		}
	}
	db->zones = xreallocarray(db->zones, db->nzones + 1, sizeof *db->zones);
	z = &db->zones[db->nzones];
	memset(z, 0, sizeof *z);
	z->apex = rdf;
	z->lapexlen = dns_lower(ldns_rdf_data(rdf), ldns_rdf_size(rdf), z->lapex);
	snprintf(text, sizeof text, "%s %u IN SOA ns.%s hostmaster.%s %u 3600 600 "
	    "86400 %u", apex, db->ttl, db->zone_text, db->zone_text, db->serial,
	    db->ttl);
	if ((z->soa = dns_rr_parse(text, NULL, db->ttl, err, errlen)) == NULL)
		goto fail;
	snprintf(text, sizeof text, "%s %u IN NS ns.%s", apex, db->ttl,
	    db->zone_text);
	if ((z->ns = dns_rr_parse(text, NULL, db->ttl, err, errlen)) == NULL)
		goto fail;
	if (db->dnssec && dns_sign_zone_init(z, db->stored_keys, err,
	    errlen) != 0)
		goto fail;
	db->nzones++;
	db->dirty = 1;
	return (0);
fail:
	ldns_rr_free(z->soa);
	ldns_rdf_deep_free(z->apex);
	return (-1);
}

/* A db serving zone, with an empty source for the config's records. */
struct dns_db *
dns_db_new(const char *zone, uint32_t ttl, char *err, size_t errlen)
{
	struct dns_db	*db;
	size_t		 len;

	db = xcalloc(1, sizeof *db);
	len = strlen(zone);
	if (len > 0 && zone[len - 1] == '.')
		db->zone_text = xstrdup(zone);
	else
		xasprintf(&db->zone_text, "%s.", zone);
	db->ttl = ttl;
	/* Time-based, so a restarted daemon's serial is still larger. */
	db->serial = (uint32_t)time(NULL);
	if (dns_db_add_zone(db, db->zone_text, err, errlen) != 0) {
		dns_db_free(db);
		return (NULL);
	}
	db->sources_cap = 16;
	db->sources = xcalloc(db->sources_cap, sizeof *db->sources);
	db->sources[0].id = xstrdup("");
	db->nsources = 1;
	return (db);
}

/* Forget the index (the arrays are kept for the next build). */
static void
dns_index_clear(struct dns_db *db)
{
	size_t	i;

	for (i = 0; i < db->nnodes; i++)
		free(db->nodes[i].rrs);
	db->nnodes = 0;
	db->nsets = 0;
	db->arena_len = 0;
	if (db->table != NULL)
		memset(db->table, 0, (db->table_mask + 1) * sizeof *db->table);
}

void
dns_db_free(struct dns_db *db)
{
	size_t	i;

	if (db == NULL)
		return;
	dns_index_clear(db);
	for (i = 0; i < db->nzones; i++) {
		ldns_rdf_deep_free(db->zones[i].apex);
		ldns_rr_free(db->zones[i].soa);
		ldns_rr_free(db->zones[i].ns);
		free(db->zones[i].soa_rec);
		free(db->zones[i].ns_rec);
		dns_sign_zone_free(&db->zones[i]);
		dns_journal_free(db->zones[i].journal);
	}
	dns_sign_clear(db);
	dns_sigcache_free(db->sigcache);
	for (i = 0; i < db->nsources; i++)
		dns_source_free(&db->sources[i]);
	free(db->sources);
	free(db->zones);
	free(db->arena);
	free(db->nodes);
	free(db->table);
	free(db->sets);
	free(db->zone_text);
	free(db);
}

/* The reverse zone of an address prefix whose length is on a label boundary. */
static void
dns_reverse_name(const struct prefix *p, char *out, size_t outlen)
{
	size_t		 i, n, off = 0;
	unsigned int	 nibble;

	out[0] = '\0';
	if (p->family == AF_INET) {
		n = p->len / 8;
		for (i = n; i > 0; i--)
			off += (size_t)snprintf(out + off, outlen - off, "%u.",
			    p->addr[i - 1]);
		snprintf(out + off, outlen - off, "in-addr.arpa.");
	} else {
		n = p->len / 4;
		for (i = n; i > 0; i--) {
			nibble = (i - 1) % 2 == 0 ? p->addr[(i - 1) / 2] >> 4 :
			    p->addr[(i - 1) / 2] & 0xf;
			off += (size_t)snprintf(out + off, outlen - off, "%x.",
			    nibble);
		}
		snprintf(out + off, outlen - off, "ip6.arpa.");
	}
}

int
dns_db_add_reverse(struct dns_db *db, const struct prefix *p, char *err,
    size_t errlen)
{
	struct prefix	 q = *p;
	unsigned int	 step, len, count, i;
	char		 name[128];

	/* Round the length up to a label boundary: one zone per piece. */
	step = p->family == AF_INET ? 8 : 4;
	len = (p->len + step - 1) / step * step;
	if (len - p->len > 8 || (count = 1U << (len - p->len)) >
	    DNS_MAX_REVERSE_SPLIT) {
		snprintf(err, errlen, "reverse zones of a /%u: too many", p->len);
		return (-1);
	}
	q.len = len;
	prefix_mask(&q);
	for (i = 0; i < count; i++) {
		dns_reverse_name(&q, name, sizeof name);
		if (dns_db_add_zone(db, name, err, errlen) != 0)
			return (-1);
		if (i + 1 < count)
			prefix_next(&q);
	}
	return (0);
}

uint32_t
dns_db_serial(const struct dns_db *db)
{
	return (db->serial);
}

int
dns_db_enable_dnssec(struct dns_db *db, int stored, char *err, size_t errlen)
{
	size_t	i;

	db->stored_keys = stored;
	for (i = 0; i < db->nzones; i++)
		if (db->zones[i].keys == NULL &&
		    dns_sign_zone_init(&db->zones[i], stored, err, errlen) != 0)
			return (-1);
	db->dnssec = 1;
	db->dirty = 1;
	return (0);
}

void
dns_db_adopt_keys(struct dns_db *db, struct dns_db *old)
{
	ldns_key_list	*keys;
	size_t		 i, j;

	for (i = 0; i < db->nzones; i++) {
		for (j = 0; j < old->nzones; j++) {
			if (db->zones[i].keys == NULL ||
			    old->zones[j].keys == NULL ||
			    ldns_dname_compare(db->zones[i].apex,
			    old->zones[j].apex) != 0)
				continue;
			keys = db->zones[i].keys;
			db->zones[i].keys = old->zones[j].keys;
			old->zones[j].keys = keys;
			db->dirty = 1;
		}
	}
	/* The journals go on from the old zones' last commit. */
	for (i = 0; i < db->nzones && db->journal; i++) {
		for (j = 0; j < old->nzones; j++) {
			if (db->zones[i].journal != NULL ||
			    ldns_dname_compare(db->zones[i].apex,
			    old->zones[j].apex) != 0)
				continue;
			db->zones[i].journal = old->zones[j].journal;
			old->zones[j].journal = NULL;
		}
	}
	/* The signatures name their key: those of other keys never match. */
	if (db->dnssec && old->sigcache != NULL) {
		dns_sigcache_free(db->sigcache);
		db->sigcache = old->sigcache;
		old->sigcache = NULL;
	}
}

char *
dns_db_dnskey(const struct dns_db *db, size_t i)
{
	ldns_rr	*rr;
	char	*s;

	if (i >= db->nzones || db->zones[i].keys == NULL)
		return (NULL);
	rr = ldns_key2rr(ldns_key_list_key(db->zones[i].keys, 0));
	ldns_rr_set_ttl(rr, db->ttl);
	s = ldns_rr2str(rr);
	ldns_rr_free(rr);
	return (s);
}

void
dns_db_use_nsec3(struct dns_db *db)
{
	db->nsec3 = 1;
	db->dirty = 1;
}

void
dns_db_keep_journal(struct dns_db *db)
{
	db->journal = 1;
}

void
dns_db_follow_serial(struct dns_db *db, uint32_t serial)
{
	if ((int32_t)(serial - db->serial) > 0)
		db->serial = serial;
	db->dirty = 1;
}

const char *
dns_db_zone(const struct dns_db *db)
{
	return (db->zone_text);
}

size_t
dns_db_nzones(const struct dns_db *db)
{
	return (db->nzones);
}

const char *
dns_db_apex(const struct dns_db *db, size_t i)
{
	static char	 buf[DNS_MAXNAME * 4 + 2];
	char		*s;

	if ((s = ldns_rdf2str(db->zones[i].apex)) == NULL)
		return ("?");
	snprintf(buf, sizeof buf, "%s", s);
	free(s);
	return (buf);
}

/* Free what a source owns. */
static void
dns_source_free(struct dns_source *s)
{
	size_t	i;

	for (i = 0; i < s->nrrs; i++)
		free(s->rrs[i]);
	free(s->rrs);
	free(s->id);
	s->rrs = NULL;
	s->nrrs = 0;
}

/* The source of id, or where it would go (*found 0). */
static size_t
dns_source_find(const struct dns_db *db, const char *id, int *found)
{
	size_t	lo = 0, hi = db->nsources, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strcmp(db->sources[mid].id, id);
		if (c == 0) {
			*found = 1;
			return (mid);
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return (lo);
}

/* Hand rrs to the source id (created when needed). */
void
dns_source_replace(struct dns_db *db, const char *id, struct dns_rec **rrs,
    size_t nrrs)
{
	struct dns_source	*s;
	size_t			 at;
	int			 found;

	at = dns_source_find(db, id, &found);
	if (!found) {
		/* Doubling: growing by one moved the array at every container
		 * and left the heap full of holes. */
		if (db->nsources == db->sources_cap) {
			db->sources_cap *= 2;
			db->sources = xreallocarray(db->sources, db->sources_cap,
			    sizeof *db->sources);
		}
		memmove(&db->sources[at + 1], &db->sources[at],
		    (db->nsources - at) * sizeof *db->sources);
		db->nsources++;
		s = &db->sources[at];
		memset(s, 0, sizeof *s);
	} else {
		s = &db->sources[at];
		dns_source_free(s);
	}
	s->id = xstrdup(id);
	s->rrs = rrs;
	s->nrrs = nrrs;
	db->dirty = 1;
}

/* The compact form of rr (owner as written). */
struct dns_rec *
dns_rec_new(ldns_rr *rr)
{
	static ldns_buffer	*buf;
	struct dns_rec		*rec;
	ldns_rdf		*owner = ldns_rr_owner(rr);
	size_t			 rdlen;

	if (buf == NULL)
		buf = ldns_buffer_new(512);
	ldns_buffer_clear(buf);
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK)
		return (NULL);
	rdlen = ldns_buffer_position(buf);
	if (rdlen > UINT16_MAX || ldns_rdf_size(owner) > DNS_MAXNAME)
		return (NULL);
	rec = xmalloc(sizeof *rec + ldns_rdf_size(owner) + rdlen);
	rec->ttl = ldns_rr_ttl(rr);
	rec->type = (uint16_t)ldns_rr_get_type(rr);
	rec->rdlen = (uint16_t)rdlen;
	rec->ownerlen = (uint8_t)ldns_rdf_size(owner);
	memcpy(rec->data, ldns_rdf_data(owner), rec->ownerlen);
	memcpy(rec->data + rec->ownerlen, ldns_buffer_begin(buf), rdlen);
	return (rec);
}

/* Append a record to a growing list; records are pushed compact and the ldns
 * record is freed (NULL records are skipped). */
void
dns_rrs_push(struct dns_rec ***rrs, size_t *n, size_t *cap, ldns_rr *rr)
{
	struct dns_rec	*rec;

	if (rr == NULL)
		return;
	rec = dns_rec_new(rr);
	ldns_rr_free(rr);
	dns_recs_push(rrs, n, cap, rec);
}

/* Append a compact record (NULL is skipped). */
static void
dns_recs_push(struct dns_rec ***rrs, size_t *n, size_t *cap,
    struct dns_rec *rec)
{
	if (rec == NULL)
		return;
	if (*n == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		*rrs = xreallocarray(*rrs, *cap, sizeof **rrs);
	}
	(*rrs)[(*n)++] = rec;
}

/* Free a list of records. */
static void
dns_rrs_free(struct dns_rec **rrs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(rrs[i]);
	free(rrs);
}

/* Types nobody may add: the zone's own structure and its signatures. */
static int
dns_type_reserved(ldns_rr_type t)
{
	return (t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_NS ||
	    t == LDNS_RR_TYPE_DS || t == LDNS_RR_TYPE_DNSKEY ||
	    t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
	    t == LDNS_RR_TYPE_NSEC3 || t == LDNS_RR_TYPE_NSEC3PARAM);
}

/*
 * Presentation lines into records of the zones served, the SOA and RRSIG
 * netcraved makes refused.
 */
static int
dns_lines_parse(struct dns_db *db, char *const *lines,
    struct dns_rec ***rrsp, size_t *np, char *err, size_t errlen)
{
	struct dns_rec	**rrs = NULL;
	ldns_rr		 *rr;
	ldns_rdf	*origin = NULL;
	size_t		  n = 0, cap = 0, i;
	uint8_t		  lname[DNS_MAXNAME];
	ldns_rdf	 *owner;
	ldns_rr_type	  t;

	if (ldns_str2rdf_dname(&origin, db->zone_text) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "%s: not a domain name", db->zone_text);
		return (-1);
	}
	for (i = 0; lines != NULL && lines[i] != NULL; i++) {
		if ((rr = dns_rr_parse(lines[i], origin, db->ttl, err,
		    errlen)) == NULL)
			goto fail;
		owner = ldns_rr_owner(rr);
		dns_lower(ldns_rdf_data(owner), ldns_rdf_size(owner), lname);
		if (dns_zone_of(db, lname, ldns_rdf_size(owner)) < 0) {
			snprintf(err, errlen, "%s: outside the zones served",
			    lines[i]);
			ldns_rr_free(rr);
			goto fail;
		}
		t = ldns_rr_get_type(rr);
		if (t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_RRSIG) {
			snprintf(err, errlen, "%s: SOA and RRSIG records are "
			    "made by netcraved", lines[i]);
			ldns_rr_free(rr);
			goto fail;
		}
		dns_rrs_push(&rrs, &n, &cap, rr);
	}
	ldns_rdf_deep_free(origin);
	*rrsp = rrs;
	*np = n;
	return (0);
fail:
	ldns_rdf_deep_free(origin);
	dns_rrs_free(rrs, n);
	return (-1);
}

int
dns_db_set_static(struct dns_db *db, char *const *lines, char *err,
    size_t errlen)
{
	struct dns_rec	**rrs;
	size_t		  n;

	if (dns_lines_parse(db, lines, &rrs, &n, err, errlen) == -1)
		return (-1);
	dns_source_replace(db, "", rrs, n);
	return (0);
}

/* Whether owner is one of the names, or below one. */
static int
dns_owner_allowed(ldns_rdf *owner, ldns_rdf **names, size_t nnames)
{
	size_t	i;

	for (i = 0; i < nnames; i++)
		if (ldns_dname_compare(owner, names[i]) == 0 ||
		    ldns_dname_is_subdomain(owner, names[i]))
			return (1);
	return (0);
}

/* Append the name in text, lower-cased, to a growing list (bad names are
 * skipped: dockerd's names are checked there already). */
static void
dns_names_push(ldns_rdf ***names, size_t *n, size_t *cap, const char *text)
{
	ldns_rdf	*rdf;

	if (ldns_str2rdf_dname(&rdf, text) != LDNS_STATUS_OK)
		return;
	ldns_dname2canonical(rdf);
	if (*n == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		*names = xreallocarray(*names, *cap, sizeof **names);
	}
	(*names)[(*n)++] = rdf;
}

/* The container's names: <name>.<zone> first (relative names in its label
 * are under it), <name>.<network>.<zone>, and its aliases under both. */
static void
dns_container_names(const struct dns_db *db, const struct dockerd_container *c,
    ldns_rdf ***names, size_t *n)
{
	const struct dockerd_endpoint	*ep;
	size_t				 cap = 0, i, j;
	char				 text[1024];

	*names = NULL;
	*n = 0;
	snprintf(text, sizeof text, "%s.%s", c->name, db->zone_text);
	dns_names_push(names, n, &cap, text);
	for (i = 0; i < c->nendpoints; i++) {
		ep = &c->endpoints[i];
		if (ep->network_name != NULL) {
			snprintf(text, sizeof text, "%s.%s.%s", c->name,
			    ep->network_name, db->zone_text);
			dns_names_push(names, n, &cap, text);
		}
		for (j = 0; ep->aliases != NULL && ep->aliases[j] != NULL; j++) {
			snprintf(text, sizeof text, "%s.%s", ep->aliases[j],
			    db->zone_text);
			dns_names_push(names, n, &cap, text);
			if (ep->network_name == NULL)
				continue;
			snprintf(text, sizeof text, "%s.%s.%s", ep->aliases[j],
			    ep->network_name, db->zone_text);
			dns_names_push(names, n, &cap, text);
		}
	}
}

/* SRV records of io.netcrave.srv: "_http._tcp.web:80,_dns._udp.x:53". */
static void
dns_container_srv(const struct dns_db *db, const struct dockerd_container *c,
    const char *value, struct dns_rec ***rrs, size_t *n, size_t *cap)
{
	char		*copy, *item, *save = NULL, *colon;
	unsigned long	 port;
	char		*end;

	copy = xstrdup(value);
	for (item = strtok_r(copy, ", \t\n", &save); item != NULL;
	    item = strtok_r(NULL, ", \t\n", &save)) {
		if ((colon = strrchr(item, ':')) == NULL) {
			log_warnx("container %s: %s: \"%s\": expected "
			    "_service._proto.name:port", c->name, DNS_SRV_LABEL,
			    item);
			continue;
		}
		*colon = '\0';
		port = strtoul(colon + 1, &end, 10);
		/* Service names only: a label cannot claim a host's name. */
		if (*end != '\0' || port == 0 || port > 65535 ||
		    item[0] != '_' || strchr(item, '.') == NULL ||
		    strchr(item, '.')[1] != '_' ||
		    item[strlen(item) - 1] == '.') {
			log_warnx("container %s: %s: \"%s\": expected "
			    "_service._proto.name:port", c->name, DNS_SRV_LABEL,
			    item);
			continue;
		}
		dns_recs_push(rrs, n, cap, dns_rec_text(db, "%s.%s %u IN SRV 0 0 "
		    "%lu %s.%s", item, db->zone_text, db->ttl, port, c->name,
		    db->zone_text));
	}
	free(copy);
}

/*
 * The SRV record of an ingress service (src/ingress): a container labelled
 * io.netcrave.ingress.host=H (port io.netcrave.ingress.port, 80 by default)
 * is a target of "_ingress._tcp.H.<zone>", haproxy's server-template name,
 * by its name on the network ingress admits (ingress_srv_network: none when
 * ingress is off or refuses every network of the container).
 * Weight 256, not 0: haproxy turns the SRV weight into the server's own
 * (weight / 256 here), and a server of weight 0 gets no traffic.
 * Bad values are logged by the ingress server; they make no record here.
 */
static void
dns_container_ingress(const struct dns_db *db,
    const struct dockerd_container *c, struct dns_rec ***rrs, size_t *n,
    size_t *cap)
{
	const char	*host, *port_text, *network;
	unsigned long	 port = 80;
	char		*end, text[1024], err[1200];
	ldns_rr		*rr;

	if ((host = dockerd_label(c, INGRESS_HOST_LABEL)) == NULL ||
	    !ingress_host_ok(host) ||
	    (network = ingress_srv_network(c)) == NULL)
		return;
	if ((port_text = dockerd_label(c, INGRESS_PORT_LABEL)) != NULL) {
		port = strtoul(port_text, &end, 10);
		if (*port_text == '\0' || *end != '\0' || port == 0 ||
		    port > 65535)
			return;
	}
	/* Through ldns: the compact form takes no weight. */
	snprintf(text, sizeof text, "%s.%s.%s %u IN SRV 0 256 %lu %s.%s.%s",
	    INGRESS_SRV_PREFIX, host, db->zone_text, db->ttl, port, c->name,
	    network, db->zone_text);
	if ((rr = dns_rr_parse(text, NULL, db->ttl, err, sizeof err)) == NULL) {
		log_warnx("container %s: %s", c->name, err);
		return;
	}
	ldns_dname2canonical(ldns_rr_owner(rr));
	dns_rrs_push(rrs, n, cap, rr);
}

/* io.netcrave.dns.records: zone-file lines confined to the container's names. */
static void
dns_container_extra(const struct dns_db *db, const struct dockerd_container *c,
    const char *value, ldns_rdf **names, size_t nnames, struct dns_rec ***rrs,
    size_t *n, size_t *cap)
{
	char		*copy, *line, *save = NULL, err[1200];
	ldns_rr		*rr;

	if (nnames == 0)
		return;
	copy = xstrdup(value);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (*line == '\0' || *line == ';')
			continue;
		/* Relative names are under the container's first name. */
		if ((rr = dns_rr_parse(line, names[0], db->ttl, err,
		    sizeof err)) == NULL) {
			log_warnx("container %s: %s: %s", c->name,
			    DNS_RECORDS_LABEL, err);
			continue;
		}
		ldns_dname2canonical(ldns_rr_owner(rr));
		if (dns_type_reserved(ldns_rr_get_type(rr)) ||
		    !dns_owner_allowed(ldns_rr_owner(rr), names, nnames)) {
			log_warnx("container %s: %s: \"%s\": only the "
			    "container's own names, and no SOA, NS or DNSSEC "
			    "records", c->name, DNS_RECORDS_LABEL, line);
			ldns_rr_free(rr);
			continue;
		}
		dns_rrs_push(rrs, n, cap, rr);
	}
	free(copy);
}

void
dns_container_set(struct dns_db *db, const struct dockerd_container *c)
{
	const struct dockerd_endpoint	*ep;
	struct dns_rec			**rrs = NULL;
	ldns_rdf			**names, *addr, *rev;
	size_t				  n = 0, cap = 0, nnames, i, j;
	const char			 *value;
	char				 *revtext;
	int				  has_address = 0;

	if (c->name == NULL || c->id == NULL)
		return;
	for (i = 0; i < c->nendpoints; i++) {
		ep = &c->endpoints[i];
		for (j = 0; j < 2; j++) {
			const char *a = j == 0 ? ep->ipv4 : ep->ipv6;
			const char *type = j == 0 ? "A" : "AAAA";
			size_t k;

			if (a == NULL || *a == '\0')
				continue;
			has_address = 1;
			dns_recs_push(&rrs, &n, &cap, dns_rec_text(db, "%s.%s %u IN "
			    "%s %s", c->name, db->zone_text, db->ttl, type, a));
			if (ep->network_name != NULL)
				dns_recs_push(&rrs, &n, &cap, dns_rec_text(db,
				    "%s.%s.%s %u IN %s %s", c->name,
				    ep->network_name, db->zone_text, db->ttl,
				    type, a));
			for (k = 0; ep->aliases != NULL && ep->aliases[k] !=
			    NULL; k++) {
				if (strcmp(ep->aliases[k], c->name) == 0)
					continue;
				dns_recs_push(&rrs, &n, &cap, dns_rec_text(db,
				    "%s.%s %u IN %s %s", ep->aliases[k],
				    db->zone_text, db->ttl, type, a));
				if (ep->network_name != NULL)
					dns_recs_push(&rrs, &n, &cap,
					    dns_rec_text(db, "%s.%s.%s %u IN "
					    "%s %s", ep->aliases[k],
					    ep->network_name, db->zone_text,
					    db->ttl, type, a));
			}
			/* PTR: the address names the container on its network. */
			if (j == 0 ? ldns_str2rdf_a(&addr, a) : ldns_str2rdf_aaaa(
			    &addr, a))
				continue;
			rev = ldns_rdf_address_reverse(addr);
			ldns_rdf_deep_free(addr);
			if (rev == NULL)
				continue;
			revtext = ldns_rdf2str(rev);
			ldns_rdf_deep_free(rev);
			if (revtext == NULL)
				continue;
			if (ep->network_name != NULL)
				dns_recs_push(&rrs, &n, &cap, dns_rec_text(db, "%s %u "
				    "IN PTR %s.%s.%s", revtext, db->ttl, c->name,
				    ep->network_name, db->zone_text));
			else
				dns_recs_push(&rrs, &n, &cap, dns_rec_text(db, "%s %u "
				    "IN PTR %s.%s", revtext, db->ttl, c->name,
				    db->zone_text));
			free(revtext);
		}
	}
	if (has_address && (value = dockerd_label(c, DNS_SRV_LABEL)) != NULL)
		dns_container_srv(db, c, value, &rrs, &n, &cap);
	if (has_address)
		dns_container_ingress(db, c, &rrs, &n, &cap);
	if ((value = dockerd_label(c, DNS_RECORDS_LABEL)) != NULL) {
		dns_container_names(db, c, &names, &nnames);
		dns_container_extra(db, c, value, names, nnames, &rrs, &n, &cap);
		for (i = 0; i < nnames; i++)
			ldns_rdf_deep_free(names[i]);
		free(names);
	}
	dns_source_replace(db, c->id, rrs, n);
}

void
dns_container_remove(struct dns_db *db, const char *id)
{
	size_t	at;
	int	found;

	if (*id == '\0')
		return;
	at = dns_source_find(db, id, &found);
	if (!found)
		return;
	dns_source_free(&db->sources[at]);
	memmove(&db->sources[at], &db->sources[at + 1],
	    (db->nsources - at - 1) * sizeof *db->sources);
	db->nsources--;
	db->dirty = 1;
}

/* FNV-1a over a lower-case wire name. */
static uint32_t
dns_hash(const uint8_t *name, size_t len)
{
	uint32_t	h = 2166136261U;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= name[i];
		h *= 16777619U;
	}
	return (h);
}

const struct dns_node *
dns_db_lookup(const struct dns_db *db, const uint8_t *name, size_t len)
{
	const struct dns_node	*node;
	size_t			 i;
	uint32_t		 slot;

	if (db->table == NULL)
		return (NULL);
	i = dns_hash(name, len) & db->table_mask;
	while ((slot = db->table[i]) != 0) {
		node = &db->nodes[slot - 1];
		if (node->namelen == len &&
		    memcmp(db->arena + node->name_off, name, len) == 0)
			return (node);
		i = (i + 1) & db->table_mask;
	}
	return (NULL);
}

/* Room for n more bytes in the arena; returns the offset they go at. */
static uint32_t
dns_arena_reserve(struct dns_db *db, size_t n)
{
	while (db->arena_len + n > db->arena_cap) {
		db->arena_cap = db->arena_cap == 0 ? 65536 : db->arena_cap * 2;
		db->arena = xreallocarray(db->arena, db->arena_cap, 1);
	}
	return ((uint32_t)db->arena_len);
}

/* Append bytes to the arena. */
void
dns_arena_put(struct dns_db *db, const void *p, size_t n)
{
	dns_arena_reserve(db, n);
	memcpy(db->arena + db->arena_len, p, n);
	db->arena_len += n;
}

/* Grow the hash table to keep it at most half full. */
static void
dns_table_grow(struct dns_db *db)
{
	size_t		 size, i, j;
	struct dns_node	*node;

	size = db->table == NULL ? 1024 : (db->table_mask + 1) * 2;
	free(db->table);
	db->table = xcalloc(size, sizeof *db->table);
	db->table_mask = size - 1;
	for (i = 0; i < db->nnodes; i++) {
		node = &db->nodes[i];
		j = dns_hash(db->arena + node->name_off, node->namelen) &
		    db->table_mask;
		while (db->table[j] != 0)
			j = (j + 1) & db->table_mask;
		db->table[j] = (uint32_t)i + 1;
	}
}

/* The node of a lower-case name, created (with its empty ancestors up to the
 * apex, so they answer NODATA rather than NXDOMAIN) when missing. */
static struct dns_node *
dns_node_get(struct dns_db *db, const uint8_t *name, size_t len, uint32_t zone)
{
	const struct dns_node	*found;
	struct dns_node		*node;
	size_t			 i, index;

	if ((found = dns_db_lookup(db, name, len)) != NULL)
		return (&db->nodes[found - db->nodes]);
	if (len > db->zones[zone].lapexlen)
		dns_node_get(db, name + name[0] + 1, len - name[0] - 1, zone);
	if ((db->nnodes + 1) * 2 > db->table_mask + 1 || db->table == NULL)
		dns_table_grow(db);
	if (db->nnodes == db->nodes_cap) {
		db->nodes_cap = db->nodes_cap == 0 ? 1024 : db->nodes_cap * 2;
		db->nodes = xreallocarray(db->nodes, db->nodes_cap,
		    sizeof *db->nodes);
	}
	index = db->nnodes++;
	node = &db->nodes[index];
	memset(node, 0, sizeof *node);
	node->name_off = dns_arena_reserve(db, len);
	dns_arena_put(db, name, len);
	node->namelen = (uint32_t)len;
	node->zone = zone;
	i = dns_hash(name, len) & db->table_mask;
	while (db->table[i] != 0)
		i = (i + 1) & db->table_mask;
	db->table[i] = (uint32_t)index + 1;
	return (node);
}

/* File a record under its owner's node; records outside every zone are
 * dropped (a container on a network no reverse zone covers). */
void
dns_index_add(struct dns_db *db, struct dns_rec *rec)
{
	uint8_t		 lname[DNS_MAXNAME];
	size_t		 len, cap;
	int		 zone;
	struct dns_node	*node;

	len = dns_lower(rec->data, rec->ownerlen, lname);
	if ((zone = dns_zone_of(db, lname, len)) < 0)
		return;
	node = dns_node_get(db, lname, len, (uint32_t)zone);
	if (node->nrrs == node->rrcap) {
		cap = node->rrcap == 0 ? 4 : node->rrcap * 2;
		node->rrs = xreallocarray(node->rrs, cap, sizeof *node->rrs);
		node->rrcap = cap;
	}
	node->rrs[node->nrrs++] = rec;
}

/* Whether two records of one owner carry the same data. */
static int
dns_rec_same(const struct dns_rec *x, const struct dns_rec *y)
{
	return (x->type == y->type && x->rdlen == y->rdlen &&
	    memcmp(x->data + x->ownerlen, y->data + y->ownerlen, x->rdlen) == 0);
}

/* Order records by type, then content, so RRsets are runs and duplicates
 * neighbours. */
static int
dns_rr_order(const void *a, const void *b)
{
	const struct dns_rec	*x = *(struct dns_rec *const *)a;
	const struct dns_rec	*y = *(struct dns_rec *const *)b;

	if (x->type != y->type)
		return (x->type < y->type ? -1 : 1);
	if (x->rdlen != y->rdlen)
		return (x->rdlen < y->rdlen ? -1 : 1);
	return (memcmp(x->data + x->ownerlen, y->data + y->ownerlen, x->rdlen));
}

/* type, class, TTL, RDLENGTH and RDATA of a record into the arena. */
void
dns_arena_put_rr_tail(struct dns_db *db, const struct dns_rec *rec)
{
	uint8_t	fixed[10];

	util_put_be16(fixed, rec->type);
	util_put_be16(fixed + 2, LDNS_RR_CLASS_IN);
	util_put_be32(fixed + 4, rec->ttl);
	util_put_be16(fixed + 8, rec->rdlen);
	dns_arena_put(db, fixed, sizeof fixed);
	dns_arena_put(db, rec->data + rec->ownerlen, rec->rdlen);
}

/* A whole record, owner written out in full (authority, additional). */
void
dns_arena_put_rr_full(struct dns_db *db, const struct dns_rec *rec)
{
	dns_arena_put(db, rec->data, rec->ownerlen);
	dns_arena_put_rr_tail(db, rec);
}

/* Turn a node's records into ready RRsets. */
static void
dns_node_build(struct dns_db *db, struct dns_node *node)
{
	struct dns_rrset	*set = NULL;
	static const uint8_t	 ptr[2] = { 0xc0, 0x0c };
	size_t			 i;

	if (node->nrrs > 1)	/* empty non-terminals have none */
		qsort(node->rrs, node->nrrs, sizeof *node->rrs, dns_rr_order);
	node->set_first = (uint32_t)db->nsets;
	for (i = 0; i < node->nrrs; i++) {
		if (i > 0 && dns_rec_same(node->rrs[i - 1], node->rrs[i]))
			continue;	/* the same record from two sources */
		if (set == NULL || set->type != node->rrs[i]->type) {
			if (db->nsets == db->sets_cap) {
				db->sets_cap = db->sets_cap == 0 ? 1024 :
				    db->sets_cap * 2;
				db->sets = xreallocarray(db->sets, db->sets_cap,
				    sizeof *db->sets);
			}
			set = &db->sets[db->nsets++];
			memset(set, 0, sizeof *set);
			set->type = node->rrs[i]->type;
			set->off = (uint32_t)db->arena_len;
			node->nsets++;
		}
		if (set->count == UINT16_MAX)
			continue;
		dns_arena_put(db, ptr, sizeof ptr);
		dns_arena_put_rr_tail(db, node->rrs[i]);
		set->count++;
		set->len = (uint32_t)db->arena_len - set->off;
	}
}

/* The A and AAAA records of each SRV target, for the additional section. */
static void
dns_node_build_additional(struct dns_db *db, struct dns_node *node)
{
	struct dns_rrset	*set;
	const struct dns_node	*target;
	const struct dns_rec	*srv, *rec;
	uint8_t			 lname[DNS_MAXNAME];
	size_t			 i, j, k, len;

	for (i = 0; i < node->nsets; i++) {
		set = &db->sets[node->set_first + i];
		if (set->type != LDNS_RR_TYPE_SRV)
			continue;
		set->aoff = (uint32_t)db->arena_len;
		for (j = 0; j < node->nrrs; j++) {
			srv = node->rrs[j];
			/* Priority, weight, port, then the target's name. */
			if (srv->type != LDNS_RR_TYPE_SRV || srv->rdlen <= 6 ||
			    (j > 0 && dns_rec_same(node->rrs[j - 1], srv)))
				continue;
			len = dns_lower(srv->data + srv->ownerlen + 6,
			    (size_t)srv->rdlen - 6, lname);
			if ((target = dns_db_lookup(db, lname, len)) == NULL)
				continue;
			for (k = 0; k < target->nrrs; k++) {
				rec = target->rrs[k];
				if ((rec->type != LDNS_RR_TYPE_A &&
				    rec->type != LDNS_RR_TYPE_AAAA) ||
				    (k > 0 && dns_rec_same(target->rrs[k - 1],
				    rec)) || set->acount == UINT16_MAX)
					continue;
				dns_arena_put_rr_full(db, rec);
				set->acount++;
			}
		}
		set->alen = (uint32_t)db->arena_len - set->aoff;
	}
}

/* Set a zone's SOA serial. */
static void
dns_zone_set_serial(struct dns_zone *z, uint32_t serial)
{
	ldns_rdf	*old;

	old = ldns_rr_set_rdf(z->soa, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32,
	    serial), 2);
	ldns_rdf_deep_free(old);
}

int
dns_db_commit(struct dns_db *db)
{
	struct dns_zone	*z;
	size_t		 i, j;
	uint32_t	 now;

	if (!db->dirty)
		return (0);
	/* Up by one at least, and never behind the clock (restarts). */
	now = (uint32_t)time(NULL);
	db->serial = (int32_t)(now - db->serial) > 0 ? now : db->serial + 1;
	dns_index_clear(db);
	for (i = 0; i < db->nzones; i++) {
		z = &db->zones[i];
		dns_zone_set_serial(z, db->serial);
		free(z->soa_rec);
		free(z->ns_rec);
		z->soa_rec = dns_rec_new(z->soa);
		z->ns_rec = dns_rec_new(z->ns);
		dns_index_add(db, z->soa_rec);
		dns_index_add(db, z->ns_rec);
		z->soa_off = (uint32_t)db->arena_len;
		dns_arena_put_rr_full(db, z->soa_rec);
		z->soa_len = (uint32_t)db->arena_len - z->soa_off;
	}
	for (i = 0; i < db->nsources; i++)
		for (j = 0; j < db->sources[i].nrrs; j++)
			dns_index_add(db, db->sources[i].rrs[j]);
	if (db->dnssec)
		dns_sign_add(db);
	for (i = 0; i < db->nnodes; i++)
		dns_node_build(db, &db->nodes[i]);
	for (i = 0; i < db->nnodes; i++)
		dns_node_build_additional(db, &db->nodes[i]);
	if (db->dnssec) {
		dns_sign_sets(db);
		dns_sigcache_sweep(db);
	}
	for (i = 0; i < db->nnodes; i++) {
		free(db->nodes[i].rrs);
		db->nodes[i].rrs = NULL;
		db->nodes[i].nrrs = db->nodes[i].rrcap = 0;
	}
	if (db->journal)
		dns_journal_commit(db);
	db->dirty = 0;
	return (1);
}

/* One record in presentation form, for dns_db_gen_records. */
static void
dns_gen_record(const uint8_t *owner, size_t ownerlen, const uint8_t *tail,
    size_t taillen, uint32_t zone, void *arg)
{
	struct dns_gen	*gen = arg;
	uint8_t		 wire[DNS_MAXNAME + 10 + 65535];
	size_t		 at = 0, i, len;
	ldns_rr		*rr = NULL;
	char		*s;
	ldns_buffer	*buf;

	memcpy(wire, owner, ownerlen);
	memcpy(wire + ownerlen, tail, taillen);
	if (ldns_wire2rr(&rr, wire, ownerlen + taillen, &at,
	    LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return;
	buf = ldns_buffer_new(256);
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0)
			ldns_buffer_printf(buf, " ");
		ldns_rdf2buffer_str(buf, ldns_rr_rdf(rr, i));
	}
	yajl_gen_map_open(gen->g);
	s = ldns_rdf2str(gen->db->zones[zone].apex);
	json_gen_string(gen->g, "zone", s);
	free(s);
	s = ldns_rdf2str(ldns_rr_owner(rr));
	json_gen_string(gen->g, "name", s);
	free(s);
	json_gen_int(gen->g, "ttl", ldns_rr_ttl(rr));
	s = ldns_rr_type2str(ldns_rr_get_type(rr));
	json_gen_string(gen->g, "type", s);
	free(s);
	len = ldns_buffer_position(buf);
	s = xmalloc(len + 1);
	memcpy(s, ldns_buffer_begin(buf), len);
	s[len] = '\0';
	json_gen_string(gen->g, "data", s);
	free(s);
	yajl_gen_map_close(gen->g);
	ldns_buffer_free(buf);
	ldns_rr_free(rr);
}

void
dns_db_gen_records(struct dns_db *db, yajl_gen g)
{
	struct dns_gen	gen = { db, g };

	if (db->dirty)
		dns_db_commit(db);
	yajl_gen_map_open(g);
	json_gen_int(g, "serial", db->serial);
	json_gen_key(g, "records");
	yajl_gen_array_open(g);
	dns_db_foreach_rr(db, DNS_ALL_ZONES, DNS_EACH_SOA, dns_gen_record, &gen);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

void
dns_db_foreach_rr(const struct dns_db *db, uint32_t zone, int flags,
    void (*fn)(const uint8_t *, size_t, const uint8_t *, size_t, uint32_t,
    void *), void *arg)
{
	const struct dns_node	*node;
	const struct dns_rrset	*set;
	const uint8_t		*p;
	size_t			 i, j, k, rdlen;

	for (i = 0; i < db->nnodes; i++) {
		node = &db->nodes[i];
		if (zone != DNS_ALL_ZONES && node->zone != zone)
			continue;
		for (j = 0; j < node->nsets; j++) {
			set = &db->sets[node->set_first + j];
			/* Each record: a pointer to the question, then the
			 * rest (see dns_node_build); the owner is the node's. */
			p = db->arena + set->off;
			for (k = 0; k < set->count && (set->type !=
			    LDNS_RR_TYPE_SOA || (flags & DNS_EACH_SOA)); k++) {
				rdlen = util_get_be16(p + 10);
				fn(db->arena + node->name_off, node->namelen,
				    p + 2, 10 + rdlen, node->zone, arg);
				p += 12 + rdlen;
			}
			/* Its RRSIG, already with the owner in full. */
			if ((flags & DNS_EACH_SIGS) && set->sigcount > 0)
				fn(db->arena + set->fsigoff, set->fsiglen,
				    db->arena + set->fsigoff, 0, node->zone, arg);
		}
	}
}
