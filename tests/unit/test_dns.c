/* test_dns.c: unit tests of the DNS zone model and query path: container
 * records (names, aliases, PTR, SRV with additional addresses, label records
 * confined to the container's names), and the protocol rules (NXDOMAIN vs
 * NODATA with the SOA, REFUSED, case echoed, EDNS, BADVERS, FORMERR, TC, ANY,
 * AXFR, NOTIFY), with queries and answers made and read by ldns; signing
 * only what changed, IXFR from the journal, rate limiting and the truncated
 * answers it slips. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "dns.h"
#include "dockerd.h"
#include "dockerd_private.h"
#include "json.h"
#include "prefix.h"
#include "util.h"
#include "xmalloc.h"

#define ZONE	"netcrave.internal."

static uint8_t	out[DNS_MAX_MESSAGE + 16];

/* A db with the zone and the reverse zones of 198.18.0.0/15 and a ULA /48. */
static struct dns_db *
db_new(void)
{
	struct dns_db	*db;
	struct prefix	 p;
	char		 err[256];

	db = dns_db_new(ZONE, 10, err, sizeof err);
	assert_non_null(db);
	assert_int_equal(prefix_parse("198.18.0.0/15", 1, &p, err, sizeof err), 0);
	assert_int_equal(dns_db_add_reverse(db, &p, err, sizeof err), 0);
	assert_int_equal(prefix_parse("fd6e:7e1a:2b3c::/48", 1, &p, err,
	    sizeof err), 0);
	assert_int_equal(dns_db_add_reverse(db, &p, err, sizeof err), 0);
	return (db);
}

static int	ask_do;		/* set the DO bit in ask's queries */

/* Ask name/type (with EDNS version edns, -1 for none) and read the answer. */
static ldns_pkt *
ask(struct dns_db *db, const char *name, ldns_rr_type type, int edns, int tcp)
{
	struct dns_query_ctx	 ctx = { tcp, 1232, 0 };
	ldns_pkt		*q, *a = NULL;
	uint8_t			*wire;
	size_t			 wlen, len;
	ldns_rdf		*owner;

	assert_int_equal(ldns_str2rdf_dname(&owner, name), LDNS_STATUS_OK);
	q = ldns_pkt_query_new(owner, type, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt_set_id(q, 4242);
	if (edns >= 0) {
		ldns_pkt_set_edns_udp_size(q, 1232);
		ldns_pkt_set_edns_version(q, (uint8_t)edns);
		ldns_pkt_set_edns_do(q, ask_do);
		ldns_pkt_set_edns_data(q, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, ""));
	}
	assert_int_equal(ldns_pkt2wire(&wire, q, &wlen), LDNS_STATUS_OK);
	len = dns_answer(db, wire, wlen, &ctx, out);
	assert_true(len > 0);
	assert_int_equal(ldns_wire2pkt(&a, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(a), 4242);
	assert_true(ldns_pkt_qr(a));
	assert_false(ldns_pkt_ra(a));
	free(wire);
	ldns_pkt_free(q);
	return (a);
}

/* The presentation form of the answer's section, records sorted. */
static char *
section(ldns_pkt *a, ldns_pkt_section s)
{
	ldns_rr_list	*l;
	char		*text;

	switch (s) {
	case LDNS_SECTION_ANSWER:
		l = ldns_rr_list_clone(ldns_pkt_answer(a));
		break;
	case LDNS_SECTION_AUTHORITY:
		l = ldns_rr_list_clone(ldns_pkt_authority(a));
		break;
	default:
		l = ldns_rr_list_clone(ldns_pkt_additional(a));
		break;
	}
	ldns_rr_list_sort(l);
	text = ldns_rr_list2str(l);
	ldns_rr_list_deep_free(l);
	return (text);
}

/* Assert a section's text. */
static void
expect(ldns_pkt *a, ldns_pkt_section s, const char *want)
{
	char	*got = section(a, s);

	assert_string_equal(got, want);
	free(got);
}

/* The test container; char arrays, as the follower's strings are not const. */
static char	l_srv[] = "io.netcrave.srv=_http._tcp.web:80";
static char	l_records[] = "io.netcrave.dns.records=@ TXT \"hello\"\n"
		    "www CNAME @\n"
		    "other.netcrave.internal. A 198.18.9.9\n"
		    "@ NS evil.example.\n";
static char	*web_labels[] = { l_srv, l_records, NULL };
static char	s_frontend[] = "frontend";
static char	*web_aliases[] = { s_frontend, NULL };
static char	s_net1[] = "net1", s_blue[] = "blue", s_ep1[] = "ep1";
static char	s_v4[] = "198.18.0.5", s_v6[] = "fd6e:7e1a:2b3c::5";
static char	s_id[] = "aaaa", s_web[] = "web";
static struct dockerd_endpoint web_ep = {
	s_net1, s_blue, s_ep1, s_v4, s_v6, web_aliases
};
static struct dockerd_container web = {
	s_id, s_web, web_labels, &web_ep, 1, 1
};

/* A, AAAA and aliases under the zone and the network; PTR for both. */
static void
test_container_records(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a;

	(void)state;
	dns_container_set(db, &web);
	a = ask(db, "web.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(a));
	assert_true(ldns_pkt_rd(a));
	expect(a, LDNS_SECTION_ANSWER,
	    "web.netcrave.internal.\t10\tIN\tA\t198.18.0.5\n");
	ldns_pkt_free(a);
	a = ask(db, "web.blue.netcrave.internal.", LDNS_RR_TYPE_AAAA, -1, 0);
	expect(a, LDNS_SECTION_ANSWER,
	    "web.blue.netcrave.internal.\t10\tIN\tAAAA\tfd6e:7e1a:2b3c::5\n");
	ldns_pkt_free(a);
	a = ask(db, "frontend.blue.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	expect(a, LDNS_SECTION_ANSWER,
	    "frontend.blue.netcrave.internal.\t10\tIN\tA\t198.18.0.5\n");
	ldns_pkt_free(a);
	a = ask(db, "5.0.18.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, -1, 0);
	expect(a, LDNS_SECTION_ANSWER, "5.0.18.198.in-addr.arpa.\t10\tIN\tPTR\t"
	    "web.blue.netcrave.internal.\n");
	ldns_pkt_free(a);
	a = ask(db, "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.3.b.2.a.1.e.7."
	    "e.6.d.f.ip6.arpa.", LDNS_RR_TYPE_PTR, -1, 0);
	assert_int_equal(ldns_pkt_ancount(a), 1);
	ldns_pkt_free(a);
	dns_db_free(db);
}

/*
 * Clustering: a container as another host publishes it (dockerd's inspection
 * shape, dockerd_container_gen) is read back with the follower's parser and
 * set under the store's key: it answers as it does on its own host, and what
 * its label claims beyond its own names is refused here as there.
 */
static void
test_shared_container(void **state)
{
	struct dns_db			*other = db_new();
	struct dockerd_container	 mine = web, *c;
	struct json			*doc;
	struct json_error		 jerr;
	yajl_gen			 g;
	const unsigned char		*text;
	size_t				 len;
	char				 id[65], err[256];
	ldns_pkt			*a;

	(void)state;
	memset(id, 'a', 64);
	id[64] = '\0';
	mine.id = id;
	g = json_gen_new();
	dockerd_container_gen(g, &mine);
	yajl_gen_get_buf(g, &text, &len);
	doc = json_parse((const char *)text, len, 0, &jerr);
	assert_non_null(doc);
	c = dockerd_container_read(doc, err, sizeof err);
	json_free(doc);
	yajl_gen_free(g);
	assert_non_null(c);
	assert_true(dockerd_container_equal(c, &mine));
	free(c->id);
	c->id = xstrdup("198.18.61.1/aaaa");
	dns_container_set(other, c);
	a = ask(other, "web.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	expect(a, LDNS_SECTION_ANSWER,
	    "web.netcrave.internal.\t10\tIN\tA\t198.18.0.5\n");
	ldns_pkt_free(a);
	a = ask(other, "5.0.18.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, -1, 0);
	expect(a, LDNS_SECTION_ANSWER, "5.0.18.198.in-addr.arpa.\t10\tIN\tPTR\t"
	    "web.blue.netcrave.internal.\n");
	ldns_pkt_free(a);
	a = ask(other, "web.netcrave.internal.", LDNS_RR_TYPE_TXT, -1, 0);
	expect(a, LDNS_SECTION_ANSWER,
	    "web.netcrave.internal.\t10\tIN\tTXT\t\"hello\"\n");
	ldns_pkt_free(a);
	a = ask(other, "other.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(a);
	a = ask(other, "web.netcrave.internal.", LDNS_RR_TYPE_NS, -1, 0);
	assert_int_equal(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);
	/* Gone from the other host: gone here. */
	dns_container_remove(other, "198.18.61.1/aaaa");
	a = ask(other, "web.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(a);
	dockerd_container_free(c);
	dns_db_free(other);
}

/* SRV from the label, its target's addresses in the additional section. */
static void
test_container_srv(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a;

	(void)state;
	dns_container_set(db, &web);
	a = ask(db, "_http._tcp.web.netcrave.internal.", LDNS_RR_TYPE_SRV, 0, 0);
	expect(a, LDNS_SECTION_ANSWER, "_http._tcp.web.netcrave.internal.\t10\t"
	    "IN\tSRV\t0 0 80 web.netcrave.internal.\n");
	expect(a, LDNS_SECTION_ADDITIONAL,
	    "web.netcrave.internal.\t10\tIN\tA\t198.18.0.5\n"
	    "web.netcrave.internal.\t10\tIN\tAAAA\tfd6e:7e1a:2b3c::5\n");
	ldns_pkt_free(a);
	dns_db_free(db);
}

/* Label records: the container's own names only, no NS. */
static void
test_label_confinement(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a;

	(void)state;
	dns_container_set(db, &web);
	a = ask(db, "web.netcrave.internal.", LDNS_RR_TYPE_TXT, -1, 0);
	expect(a, LDNS_SECTION_ANSWER,
	    "web.netcrave.internal.\t10\tIN\tTXT\t\"hello\"\n");
	ldns_pkt_free(a);
	a = ask(db, "www.web.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	expect(a, LDNS_SECTION_ANSWER, "www.web.netcrave.internal.\t10\tIN\t"
	    "CNAME\tweb.netcrave.internal.\n");
	ldns_pkt_free(a);
	/* Another name is not the container's to claim. */
	a = ask(db, "other.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(a);
	a = ask(db, "web.netcrave.internal.", LDNS_RR_TYPE_NS, -1, 0);
	assert_int_equal(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);
	dns_db_free(db);
}

/* Removal forgets the records; every change moves the serial up. */
static void
test_container_remove(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a;
	uint32_t	 s1, s2, s3;

	(void)state;
	dns_db_commit(db);
	s1 = dns_db_serial(db);
	dns_container_set(db, &web);
	assert_int_equal(dns_db_commit(db), 1);
	s2 = dns_db_serial(db);
	assert_true((int32_t)(s2 - s1) > 0);
	assert_int_equal(dns_db_commit(db), 0);
	dns_container_remove(db, "aaaa");
	a = ask(db, "web.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	s3 = dns_db_serial(db);
	assert_true((int32_t)(s3 - s2) > 0);
	ldns_pkt_free(a);
	a = ask(db, "5.0.18.198.in-addr.arpa.", LDNS_RR_TYPE_PTR, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(a);
	dns_db_free(db);
}

/* The server's queries answer from the last commit; the commit brings the
 * change in. */
static void
test_stale_until_commit(void **state)
{
	struct dns_db		*db = db_new();
	struct dns_query_ctx	 ctx = { 0, 1232, 1 };
	ldns_pkt		*q, *a = NULL;
	ldns_rdf		*owner;
	uint8_t			*wire;
	size_t			 wlen, len;

	(void)state;
	dns_db_commit(db);
	dns_container_set(db, &web);
	ldns_str2rdf_dname(&owner, "web.netcrave.internal.");
	q = ldns_pkt_query_new(owner, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	assert_int_equal(ldns_pkt2wire(&wire, q, &wlen), LDNS_STATUS_OK);
	len = dns_answer(db, wire, wlen, &ctx, out);
	assert_int_equal(ldns_wire2pkt(&a, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(a);
	assert_int_equal(dns_db_commit(db), 1);
	len = dns_answer(db, wire, wlen, &ctx, out);
	assert_int_equal(ldns_wire2pkt(&a, out, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_ancount(a), 1);
	ldns_pkt_free(a);
	free(wire);
	ldns_pkt_free(q);
	dns_db_free(db);
}

/* NXDOMAIN and NODATA carry the SOA; REFUSED outside; the case is echoed. */
static void
test_negative_answers(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a;
	char		*q;

	(void)state;
	dns_container_set(db, &web);
	a = ask(db, "nope.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_nscount(a), 1);
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(a),
	    0)), LDNS_RR_TYPE_SOA);
	ldns_pkt_free(a);
	a = ask(db, "web.netcrave.internal.", LDNS_RR_TYPE_MX, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(a), 0);
	assert_int_equal(ldns_pkt_nscount(a), 1);
	ldns_pkt_free(a);
	/* An empty non-terminal is NODATA too. */
	a = ask(db, "blue.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_nscount(a), 1);
	ldns_pkt_free(a);
	a = ask(db, "example.com.", LDNS_RR_TYPE_A, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_REFUSED);
	assert_false(ldns_pkt_aa(a));
	ldns_pkt_free(a);
	a = ask(db, "WeB.NetCrave.INTERNAL.", LDNS_RR_TYPE_A, -1, 0);
	q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(a), 0)));
	assert_string_equal(q, "WeB.NetCrave.INTERNAL.");
	free(q);
	q = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(a), 0)));
	assert_string_equal(q, "WeB.NetCrave.INTERNAL.");
	free(q);
	ldns_pkt_free(a);
	/* SOA and NS at the apex. */
	a = ask(db, ZONE, LDNS_RR_TYPE_NS, -1, 0);
	expect(a, LDNS_SECTION_ANSWER,
	    "netcrave.internal.\t10\tIN\tNS\tns.netcrave.internal.\n");
	ldns_pkt_free(a);
	a = ask(db, "18.198.in-addr.arpa.", LDNS_RR_TYPE_SOA, -1, 0);
	assert_int_equal(ldns_pkt_ancount(a), 1);
	ldns_pkt_free(a);
	a = ask(db, "19.198.in-addr.arpa.", LDNS_RR_TYPE_SOA, -1, 0);
	assert_int_equal(ldns_pkt_ancount(a), 1);
	ldns_pkt_free(a);
	a = ask(db, "20.198.in-addr.arpa.", LDNS_RR_TYPE_SOA, -1, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_REFUSED);
	ldns_pkt_free(a);
	dns_db_free(db);
}

/* EDNS answered with our payload; an unknown version is BADVERS. */
static void
test_edns(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a;

	(void)state;
	a = ask(db, ZONE, LDNS_RR_TYPE_SOA, 0, 0);
	assert_int_equal(ldns_pkt_edns_udp_size(a), 1232);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NOERROR);
	ldns_pkt_free(a);
	a = ask(db, ZONE, LDNS_RR_TYPE_SOA, 1, 0);
	assert_int_equal(ldns_pkt_edns_extended_rcode(a), 1);	/* BADVERS */
	assert_int_equal(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);
	dns_db_free(db);
}

/* Malformed queries: FORMERR; answers and short headers: no reply. */
static void
test_formerr(void **state)
{
	struct dns_db		*db = db_new();
	struct dns_query_ctx	 ctx = { 0, 1232, 0 };
	uint8_t			 q[64] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x02 };
	uint8_t			 trunc[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01,
				    0, 0, 0, 0, 0, 0, 5, 'a', 'b' };
	size_t			 len;

	(void)state;
	len = dns_answer(db, q, 12, &ctx, out);
	assert_int_equal(len, 12);
	assert_int_equal(out[3] & 0xf, LDNS_RCODE_FORMERR);
	assert_int_equal(out[0], 0x12);
	len = dns_answer(db, trunc, sizeof trunc, &ctx, out);
	assert_int_equal(len, 12);
	assert_int_equal(out[3] & 0xf, LDNS_RCODE_FORMERR);
	assert_int_equal(dns_answer(db, q, 5, &ctx, out), 0);
	q[2] = 0x81;	/* QR: an answer */
	assert_int_equal(dns_answer(db, q, 12, &ctx, out), 0);
	dns_db_free(db);
}

/* Too big for UDP: TC and nothing else; over TCP all of it. */
static void
test_truncation(void **state)
{
	struct dns_db	*db = db_new();
	char		*lines[51], err[256];
	ldns_pkt	*a;
	int		 i;

	(void)state;
	for (i = 0; i < 50; i++)
		assert_true(asprintf(&lines[i], "big 60 IN A 198.18.1.%d", i) > 0);
	lines[50] = NULL;
	assert_int_equal(dns_db_set_static(db, lines, err, sizeof err), 0);
	a = ask(db, "big.netcrave.internal.", LDNS_RR_TYPE_A, -1, 0);
	assert_true(ldns_pkt_tc(a));
	assert_int_equal(ldns_pkt_ancount(a), 0);
	ldns_pkt_free(a);
	a = ask(db, "big.netcrave.internal.", LDNS_RR_TYPE_A, 0, 0);
	assert_false(ldns_pkt_tc(a));	/* 50 A fit in 1232 */
	assert_int_equal(ldns_pkt_ancount(a), 50);
	ldns_pkt_free(a);
	a = ask(db, "big.netcrave.internal.", LDNS_RR_TYPE_A, -1, 1);
	assert_false(ldns_pkt_tc(a));
	assert_int_equal(ldns_pkt_ancount(a), 50);
	ldns_pkt_free(a);
	/* ANY: one RRset only. */
	a = ask(db, ZONE, LDNS_RR_TYPE_ANY, -1, 0);
	assert_int_equal(ldns_pkt_ancount(a), 1);
	ldns_pkt_free(a);
	for (i = 0; i < 50; i++)
		free(lines[i]);
	dns_db_free(db);
}

/* Static records: out-of-zone lines and SOA refused, db unchanged. */
static void
test_static_records(void **state)
{
	struct dns_db	*db = db_new();
	char		 l1[] = "mail 300 IN MX 10 mx.example.";
	char		 l2[] = "x.example.com. A 198.18.0.1";
	char		 l3[] = "@ SOA a. b. 1 2 3 4 5";
	char		 l4[] = "x IN A not-an-address";
	char		*good[] = { l1, NULL }, *outside[] = { l2, NULL };
	char		*soa[] = { l3, NULL }, *junk[] = { l4, NULL };
	char		 err[256];
	ldns_pkt	*a;

	(void)state;
	assert_int_equal(dns_db_set_static(db, good, err, sizeof err), 0);
	assert_int_equal(dns_db_set_static(db, outside, err, sizeof err), -1);
	assert_non_null(strstr(err, "outside"));
	assert_int_equal(dns_db_set_static(db, soa, err, sizeof err), -1);
	assert_int_equal(dns_db_set_static(db, junk, err, sizeof err), -1);
	a = ask(db, "mail.netcrave.internal.", LDNS_RR_TYPE_MX, -1, 0);
	expect(a, LDNS_SECTION_ANSWER,
	    "mail.netcrave.internal.\t300\tIN\tMX\t10 mx.example.\n");
	ldns_pkt_free(a);
	dns_db_free(db);
}

/* DNSSEC: RRSIGs with DO only; denial by NSEC; every signature verifies with
 * the zone's DNSKEY. */
/* Ask name/A with DO: the answer has one RRSIG, and it verifies with keys. */
static void
expect_signed_a(struct dns_db *db, const char *name, ldns_rr_list *keys)
{
	ldns_pkt	*a;
	ldns_rr_list	*rrset, *sigs, *good;

	a = ask(db, name, LDNS_RR_TYPE_A, 0, 0);
	assert_true(ldns_pkt_edns_do(a));
	rrset = ldns_pkt_rr_list_by_type(a, LDNS_RR_TYPE_A, LDNS_SECTION_ANSWER);
	sigs = ldns_pkt_rr_list_by_type(a, LDNS_RR_TYPE_RRSIG,
	    LDNS_SECTION_ANSWER);
	assert_int_equal(ldns_rr_list_rr_count(sigs), 1);
	good = ldns_rr_list_new();
	assert_int_equal(ldns_verify(rrset, sigs, keys, good), LDNS_STATUS_OK);
	ldns_rr_list_free(good);
	ldns_rr_list_deep_free(rrset);
	ldns_rr_list_deep_free(sigs);
	ldns_pkt_free(a);
}

static void
test_dnssec(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a, *k;
	ldns_rr_list	*keys;
	char		 err[256];
	size_t		 i;

	(void)state;
	assert_int_equal(dns_db_enable_dnssec(db, 0, err, sizeof err), 0);
	dns_container_set(db, &web);
	ask_do = 1;
	k = ask(db, ZONE, LDNS_RR_TYPE_DNSKEY, 0, 1);
	keys = ldns_pkt_rr_list_by_type(k, LDNS_RR_TYPE_DNSKEY,
	    LDNS_SECTION_ANSWER);
	assert_int_equal(ldns_rr_list_rr_count(keys), 1);
	expect_signed_a(db, "web.netcrave.internal.", keys);
	/* NXDOMAIN: SOA, NSEC, both signed. */
	a = ask(db, "nope.netcrave.internal.", LDNS_RR_TYPE_A, 0, 0);
	assert_int_equal(ldns_pkt_get_rcode(a), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_nscount(a) >= 4);
	for (i = 0; i < ldns_pkt_nscount(a); i++) {
		ldns_rr_type t = ldns_rr_get_type(ldns_rr_list_rr(
		    ldns_pkt_authority(a), i));
		assert_true(t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_NSEC ||
		    t == LDNS_RR_TYPE_RRSIG);
	}
	ldns_pkt_free(a);
	/* Without DO: no signatures. */
	ask_do = 0;
	a = ask(db, "web.netcrave.internal.", LDNS_RR_TYPE_A, 0, 0);
	assert_int_equal(ldns_pkt_ancount(a), 1);
	ldns_pkt_free(a);
	ldns_rr_list_deep_free(keys);
	ldns_pkt_free(k);
	dns_db_free(db);
}

struct xfr {
	int	messages;
	int	soas;
	int	records;
};

/* Count what a transfer sends. */
static void
xfr_emit(const uint8_t *msg, size_t len, void *arg)
{
	struct xfr	*x = arg;
	ldns_pkt	*p = NULL;
	size_t		 i;

	assert_int_equal(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
	x->messages++;
	for (i = 0; i < ldns_pkt_ancount(p); i++) {
		x->records++;
		if (ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), i)) ==
		    LDNS_RR_TYPE_SOA)
			x->soas++;
	}
	ldns_pkt_free(p);
}

/* AXFR: SOA, every record, SOA; NOTIFY names the zone with its SOA. */
static void
test_axfr_notify(void **state)
{
	struct dns_db	*db = db_new();
	struct xfr	 x = { 0, 0, 0 };
	ldns_pkt	*q, *p = NULL;
	ldns_rdf	*owner;
	uint8_t		*wire, msg[1024];
	size_t		 wlen, zone, len;

	(void)state;
	dns_container_set(db, &web);
	ldns_str2rdf_dname(&owner, ZONE);
	q = ldns_pkt_query_new(owner, LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0);
	assert_int_equal(ldns_pkt2wire(&wire, q, &wlen), LDNS_STATUS_OK);
	assert_true(dns_query_is_xfr(db, wire, wlen, &zone));
	assert_int_equal(zone, 0);
	dns_axfr(db, zone, wire, wlen, xfr_emit, &x);
	assert_int_equal(x.messages, 1);
	assert_int_equal(x.soas, 2);
	/* SOA, NS, A+AAAA for web, web.blue, frontend, frontend.blue, TXT,
	 * SRV, CNAME, SOA. */
	assert_int_equal(x.records, 14);
	free(wire);
	ldns_pkt_free(q);
	len = dns_notify_message(db, 0, 7, msg, sizeof msg);
	assert_true(len > 0);
	assert_int_equal(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_NOTIFY);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	dns_db_free(db);
}

/* A second container, for changes. */
static char	s_id2[] = "bbbb", s_db[] = "db", s_v4b[] = "198.18.0.6";
static char	s_ep2[] = "ep2", s_v6b[] = "fd6e:7e1a:2b3c::6";
static char	*no_labels[] = { NULL };
static char	*no_aliases[] = { NULL };
static struct dockerd_endpoint db_ep = {
	s_net1, s_blue, s_ep2, s_v4b, s_v6b, no_aliases
};
static struct dockerd_container dbc = {
	s_id2, s_db, no_labels, &db_ep, 1, 1
};

/* A change signs only what it touched; the answers still verify. */
static void
test_dnssec_incremental(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*k;
	ldns_rr_list	*keys;
	size_t		 nsigned, reused, total;
	char		 err[256];

	(void)state;
	assert_int_equal(dns_db_enable_dnssec(db, 0, err, sizeof err), 0);
	dns_container_set(db, &web);
	assert_int_equal(dns_db_commit(db), 1);
	dns_db_sign_stats(db, &nsigned, &reused);
	assert_int_equal(reused, 0);
	total = nsigned;
	assert_true(total > 20);
	dns_container_set(db, &dbc);
	assert_int_equal(dns_db_commit(db), 1);
	dns_db_sign_stats(db, &nsigned, &reused);
	/* db's names, their NSEC records and their neighbours', the SOAs. */
	assert_true(nsigned > 0 && nsigned < 20);
	assert_true(reused > total - 10);
	/* A commit without a change signs nothing. */
	assert_int_equal(dns_db_commit(db), 0);
	assert_int_equal(dns_db_sign_refresh(db), 0);
	ask_do = 1;
	k = ask(db, ZONE, LDNS_RR_TYPE_DNSKEY, 0, 1);
	keys = ldns_pkt_rr_list_by_type(k, LDNS_RR_TYPE_DNSKEY,
	    LDNS_SECTION_ANSWER);
	/* An RRset signed in the first commit and one in the second. */
	expect_signed_a(db, "web.netcrave.internal.", keys);
	expect_signed_a(db, "db.netcrave.internal.", keys);
	ask_do = 0;
	ldns_rr_list_deep_free(keys);
	ldns_pkt_free(k);
	dns_db_free(db);
}

/* NSEC3: NXDOMAIN and NODATA carry the NSEC3 records of their proofs
 * (closest encloser, next closer covered, no wildcard; the name's own), all
 * signed, and no NSEC. */
static void
test_nsec3(void **state)
{
	struct dns_db	*db = db_new();
	ldns_pkt	*a;
	ldns_rr_list	*nsec3s, *sigs;
	char		 err[256];
	size_t		 i;
	static const struct {
		const char	*name;
		ldns_rr_type	 type;
		ldns_pkt_rcode	 rcode;
	} cases[] = {
		{ "nope.netcrave.internal.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN },
		{ "a.b.nope.netcrave.internal.", LDNS_RR_TYPE_A,
		    LDNS_RCODE_NXDOMAIN },
		{ "web.netcrave.internal.", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR },
		{ "blue.netcrave.internal.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR },
	};

	(void)state;
	dns_db_use_nsec3(db);
	assert_int_equal(dns_db_enable_dnssec(db, 0, err, sizeof err), 0);
	dns_container_set(db, &web);
	ask_do = 1;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		a = ask(db, cases[i].name, cases[i].type, 0, 0);
		assert_int_equal(ldns_pkt_get_rcode(a), cases[i].rcode);
		assert_int_equal(ldns_pkt_ancount(a), 0);
		nsec3s = ldns_pkt_rr_list_by_type(a, LDNS_RR_TYPE_NSEC3,
		    LDNS_SECTION_AUTHORITY);
		sigs = ldns_pkt_rr_list_by_type(a, LDNS_RR_TYPE_RRSIG,
		    LDNS_SECTION_AUTHORITY);
		assert_non_null(nsec3s);
		assert_null(ldns_pkt_rr_list_by_type(a, LDNS_RR_TYPE_NSEC,
		    LDNS_SECTION_AUTHORITY));
		/* NXDOMAIN: closest encloser, next closer, wildcard; NODATA:
		 * the name's own; each signed, and the SOA.  (ldns's check of
		 * the proofs leaks, in ldns_nsec3_hash_name: dns.sh has delv
		 * validate them.) */
		assert_int_equal(ldns_rr_list_rr_count(nsec3s),
		    cases[i].rcode == LDNS_RCODE_NXDOMAIN ? 3 : 1);
		assert_int_equal(ldns_rr_list_rr_count(sigs),
		    ldns_rr_list_rr_count(nsec3s) + 1);
		ldns_rr_list_deep_free(nsec3s);
		ldns_rr_list_deep_free(sigs);
		ldns_pkt_free(a);
	}
	ask_do = 0;
	dns_db_free(db);
}

/* An IXFR question for ZONE with the client's serial. */
static uint8_t *
ixfr_query(uint32_t serial, size_t *len)
{
	ldns_pkt	*q;
	ldns_rr		*soa;
	ldns_rdf	*owner;
	uint8_t		*wire;
	char		 text[256];

	ldns_str2rdf_dname(&owner, ZONE);
	q = ldns_pkt_query_new(owner, LDNS_RR_TYPE_IXFR, LDNS_RR_CLASS_IN, 0);
	snprintf(text, sizeof text, "%s 10 IN SOA ns.%s hostmaster.%s %u 3600 "
	    "600 86400 10", ZONE, ZONE, ZONE, serial);
	assert_int_equal(ldns_rr_new_frm_str(&soa, text, 10, NULL, NULL),
	    LDNS_STATUS_OK);
	ldns_pkt_push_rr(q, LDNS_SECTION_AUTHORITY, soa);
	assert_int_equal(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	return (wire);
}

/* IXFR: the difference since a serial the journal holds; the SOA alone when
 * up to date; the whole zone from further back. */
static void
test_ixfr(void **state)
{
	struct dns_db	*db = db_new();
	struct xfr	 x = { 0, 0, 0 };
	uint8_t		*wire;
	size_t		 wlen, zone;
	uint32_t	 s1, s2;

	(void)state;
	dns_db_keep_journal(db);
	dns_container_set(db, &web);
	dns_db_commit(db);
	s1 = dns_db_serial(db);
	dns_container_set(db, &dbc);
	dns_db_commit(db);
	s2 = dns_db_serial(db);
	assert_true(s2 != s1);
	wire = ixfr_query(s1, &wlen);
	assert_true(dns_query_is_xfr(db, wire, wlen, &zone));
	assert_int_equal(zone, 0);
	dns_axfr(db, zone, wire, wlen, xfr_emit, &x);
	free(wire);
	/* SOA s2, SOA s1, (nothing gone), SOA s2, db: A, AAAA under the zone
	 * and the network (4), SOA s2. */
	assert_int_equal(x.soas, 4);
	assert_int_equal(x.records, 8);
	memset(&x, 0, sizeof x);
	wire = ixfr_query(s2, &wlen);
	dns_axfr(db, zone, wire, wlen, xfr_emit, &x);
	free(wire);
	assert_int_equal(x.records, 1);
	memset(&x, 0, sizeof x);
	wire = ixfr_query(1, &wlen);
	dns_axfr(db, zone, wire, wlen, xfr_emit, &x);
	free(wire);
	assert_int_equal(x.soas, 2);
	assert_int_equal(x.records, 18);	/* the AXFR above, and db's 4 */
	/* Removal: what went comes in the deleted part. */
	dns_container_remove(db, s_id2);
	dns_db_commit(db);
	memset(&x, 0, sizeof x);
	wire = ixfr_query(s2, &wlen);
	dns_axfr(db, zone, wire, wlen, xfr_emit, &x);
	free(wire);
	assert_int_equal(x.soas, 4);
	assert_int_equal(x.records, 8);
	dns_db_free(db);
}

/* The answer to name/A, as it would go out, into out; its length. */
static size_t
answer_wire(struct dns_db *db, const char *name)
{
	struct dns_query_ctx	 ctx = { 0, 1232, 0 };
	uint8_t			*wire;
	size_t			 wlen, len;
	ldns_rdf		*owner;
	ldns_pkt		*q;

	assert_int_equal(ldns_str2rdf_dname(&owner, name), LDNS_STATUS_OK);
	q = ldns_pkt_query_new(owner, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0);
	assert_int_equal(ldns_pkt2wire(&wire, q, &wlen), LDNS_STATUS_OK);
	len = dns_answer(db, wire, wlen, &ctx, out);
	free(wire);
	ldns_pkt_free(q);
	return (len);
}

/* Rate limiting: rate answers a second per network and kind, every second
 * limited one slipped, others' untouched, the next second refilled. */
static void
test_rrl(void **state)
{
	struct dns_rrl		*rrl = dns_rrl_new(5, 2);
	struct sockaddr_in	 a, b;
	struct prefix		 ex;
	ldns_pkt		*p;
	int			 i, sent = 0, slipped = 0, dropped = 0;
	size_t			 len;
	char			 err[256];
	struct dns_db		*db = db_new();

	(void)state;
	dns_container_set(db, &web);
	len = answer_wire(db, "web.netcrave.internal.");
	assert_true(len > 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0xc6120101);		/* 198.18.1.1 */
	b = a;
	b.sin_addr.s_addr = htonl(0xc6120201);		/* 198.18.2.1 */
	for (i = 0; i < 25; i++) {
		switch (dns_rrl_check(rrl, (struct sockaddr *)&a, out, len,
		    100)) {
		case DNS_RRL_SEND:
			sent++;
			break;
		case DNS_RRL_SLIP:
			slipped++;
			break;
		case DNS_RRL_DROP:
			dropped++;
			break;
		}
	}
	assert_int_equal(sent, 5);
	assert_int_equal(slipped, 10);
	assert_int_equal(dropped, 10);
	/* Another /24: its own bucket. */
	assert_int_equal(dns_rrl_check(rrl, (struct sockaddr *)&b, out, len,
	    100), DNS_RRL_SEND);
	/* A second later: the rate again. */
	assert_int_equal(dns_rrl_check(rrl, (struct sockaddr *)&a, out, len,
	    101), DNS_RRL_SEND);
	/* Exempt. */
	assert_int_equal(prefix_parse("198.18.1.0/24", 0, &ex, err, sizeof err),
	    0);
	dns_rrl_exempt(rrl, &ex);
	for (i = 0; i < 20; i++)
		assert_int_equal(dns_rrl_check(rrl, (struct sockaddr *)&a, out,
		    len, 101), DNS_RRL_SEND);
	/* What slips: header and question, TC, no records. */
	len = dns_truncate(out, len);
	assert_true(len > 12);
	assert_int_equal(ldns_wire2pkt(&p, out, len), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	assert_int_equal(ldns_pkt_ancount(p) + ldns_pkt_nscount(p) +
	    ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);
	assert_int_equal(dns_truncate(out, 5), 0);
	dns_rrl_free(rrl);
	dns_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_container_records),
		cmocka_unit_test(test_container_srv),
		cmocka_unit_test(test_shared_container),
		cmocka_unit_test(test_label_confinement),
		cmocka_unit_test(test_container_remove),
		cmocka_unit_test(test_stale_until_commit),
		cmocka_unit_test(test_negative_answers),
		cmocka_unit_test(test_edns),
		cmocka_unit_test(test_formerr),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_static_records),
		cmocka_unit_test(test_axfr_notify),
		cmocka_unit_test(test_dnssec),
		cmocka_unit_test(test_dnssec_incremental),
		cmocka_unit_test(test_nsec3),
		cmocka_unit_test(test_ixfr),
		cmocka_unit_test(test_rrl),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
