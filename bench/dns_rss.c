/* dns_rss.c: the DNS zone model with N containers' records (A, AAAA, PTR,
 * SRV, names under the zone and the network): peak RSS, the time of one full
 * rebuild, and of one container's change in a zone of N; with "dnssec" as
 * the second argument, the zones signed. */
#include "config.h"

#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "dockerd.h"
#include "prefix.h"

/* Seconds since an arbitrary start. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Resident set now, in kB. */
static long
rss_kb(void)
{
	FILE	*f = fopen("/proc/self/status", "r");
	char	 line[256];
	long	 kb = -1;

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	if (f != NULL)
		fclose(f);
	return (kb);
}

int
main(int argc, char **argv)
{
	struct dns_db		*db;
	struct prefix		 p;
	struct dockerd_container c;
	struct dockerd_endpoint	 ep;
	char			 err[256], id[80], name[32], v4[32], v6[64];
	char			 net[] = "blue", netid[] = "n", epid[] = "e";
	char			 srv[64], *labels[2] = { srv, NULL }, *aliases[1] = { NULL };
	int			 i, n = argc > 1 ? atoi(argv[1]) : 10000;
	int			 dnssec = argc > 2 && strcmp(argv[2], "dnssec") == 0;
	long			 before;
	double			 t0, t1, t2;
	size_t			 nsigned, reused;

	before = rss_kb();
	if ((db = dns_db_new("netcrave.internal.", 10, err, sizeof err)) == NULL)
		return (1);
	prefix_parse("198.18.0.0/15", 1, &p, err, sizeof err);
	dns_db_add_reverse(db, &p, err, sizeof err);
	prefix_parse("fd6e:7e1a:2b3c::/48", 1, &p, err, sizeof err);
	dns_db_add_reverse(db, &p, err, sizeof err);
	if (dnssec && dns_db_enable_dnssec(db, 0, err, sizeof err) != 0)
		return (1);
	memset(&ep, 0, sizeof ep);
	ep.network_id = netid;
	ep.network_name = net;
	ep.endpoint_id = epid;
	ep.ipv4 = v4;
	ep.ipv6 = v6;
	ep.aliases = aliases;
	t0 = now();
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof c);
		snprintf(id, sizeof id, "%064d", i);
		snprintf(name, sizeof name, "c%d", i);
		snprintf(v4, sizeof v4, "198.18.%d.%d", i / 250, i % 250 + 1);
		snprintf(v6, sizeof v6, "fd6e:7e1a:2b3c::%x", i + 1);
		snprintf(srv, sizeof srv, "io.netcrave.srv=_http._tcp.c%d:80", i);
		c.id = id;
		c.name = name;
		c.labels = labels;
		c.endpoints = &ep;
		c.nendpoints = 1;
		c.running = 1;
		dns_container_set(db, &c);
	}
	t1 = now();
	dns_db_commit(db);
	t2 = now();
	printf("dns model%s: %d containers (A, AAAA, 2 PTR, SRV, 2 names each): "
	    "RSS %ld kB (+%ld kB), records parsed in %.0f ms, index built in "
	    "%.0f ms\n", dnssec ? " (DNSSEC)" : "", n, rss_kb(), rss_kb() - before, (t1 - t0) * 1e3,
	    (t2 - t1) * 1e3);
	/* One more container, as the follower would report it. */
	snprintf(name, sizeof name, "late");
	c.name = name;
	snprintf(id, sizeof id, "late");
	t0 = now();
	dns_container_set(db, &c);
	dns_db_commit(db);
	dns_db_sign_stats(db, &nsigned, &reused);
	printf("dns model%s: one container's change in a zone of %d: %.1f ms "
	    "(index rebuilt; %zu RRsets signed, %zu signatures reused)\n",
	    dnssec ? " (DNSSEC)" : "", n, (now() - t0) * 1e3, nsigned, reused);
	/* And gone again. */
	t0 = now();
	dns_container_remove(db, id);
	dns_db_commit(db);
	dns_db_sign_stats(db, &nsigned, &reused);
	printf("dns model%s: one container's removal in a zone of %d: %.1f ms "
	    "(%zu RRsets signed, %zu signatures reused)\n",
	    dnssec ? " (DNSSEC)" : "", n, (now() - t0) * 1e3, nsigned, reused);
	dns_db_free(db);
	return (0);
}
