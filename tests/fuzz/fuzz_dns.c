/* fuzz_dns.c: libFuzzer target for the DNS query path: any bytes as a query,
 * over UDP and TCP, against a zone with container records (signed, denial by
 * NSEC, and over UDP by NSEC3 too); an answer is never
 * longer than allowed and always reads back as DNS, and so does its truncated
 * form; rate limiting reads any bytes as an answer. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dockerd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct dns_db	*db, *db3;	/* denial with NSEC, with NSEC3 */
static struct dns_rrl	*rrl;
static uint8_t		 out[DNS_MAX_MESSAGE + 16];

/* One zone with a container and some static records, made once. */
static struct dns_db *
fuzz_db(int nsec3)
{
	static char	*labels[] = { "io.netcrave.srv=_http._tcp.web:80", NULL };
	static char	*aliases[] = { "front", NULL };
	static struct dockerd_endpoint ep = { "n", "blue", "e", "198.18.0.5",
			    "fd6e:7e1a:2b3c::5", aliases };
	static struct dockerd_container c = { "id", "web", labels, &ep, 1, 1 };
	char		*lines[] = { "mail MX 10 web", "t TXT \"x\"", NULL };
	char		 err[256];
	struct dns_db	*db;

	if ((db = dns_db_new("netcrave.internal.", 10, err, sizeof err)) == NULL)
		abort();
	if (nsec3)
		dns_db_use_nsec3(db);
	if (dns_db_set_static(db, lines, err, sizeof err) != 0)
		abort();
	/* Signed: queries with DO take the DNSSEC paths too. */
	if (dns_db_enable_dnssec(db, 0, err, sizeof err) != 0)
		abort();
	dns_container_set(db, &c);
	dns_db_commit(db);
	return (db);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_query_ctx	 ctx;
	ldns_pkt		*p = NULL;
	struct sockaddr_in	 sin;
	size_t			 len, zone;
	int			 pass;
	static int64_t		 now;

	if (db == NULL) {
		db = fuzz_db(0);
		db3 = fuzz_db(1);
	}
	if (rrl == NULL)
		rrl = dns_rrl_new(5, 2);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0xc6120001);
	(void)dns_rrl_check(rrl, (struct sockaddr *)&sin, data, size, now++ / 64);
	if (size > DNS_MAX_MESSAGE)
		return (0);
	for (pass = 0; pass < 3; pass++) {
		ctx.tcp = pass == 1;
		ctx.max_payload = 1232;
		ctx.stale_ok = 0;
		/* UDP and TCP with NSEC, UDP with NSEC3. */
		len = dns_answer(pass < 2 ? db : db3, data, size, &ctx, out);
		if (!ctx.tcp && len > 1232 && len > size + 11)
			abort();
		if (len > 0) {
			if (ldns_wire2pkt(&p, out, len) != LDNS_STATUS_OK)
				abort();
			ldns_pkt_free(p);
			p = NULL;
			/* What rate limiting slips: header and question. */
			if ((len = dns_truncate(out, len)) > 0) {
				if (ldns_wire2pkt(&p, out, len) !=
				    LDNS_STATUS_OK)
					abort();
				ldns_pkt_free(p);
				p = NULL;
			}
		}
	}
	(void)dns_query_is_xfr(db, data, size, &zone);
	return (0);
}
