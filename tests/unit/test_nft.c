/* test_nft.c: the tag policy as a pure function: which pairs of networks may
 * talk, and the nftables text (golden) made from a model of three networks:
 * forward chains (bridges, VRF links, inside a VRF) and the input chain that
 * guards the gateways. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nft.h"

static char	t_web[] = "web", t_db[] = "db", t_other[] = "other";
static char	t_internet[] = "internet";
static char	i_w[] = "w1", i_d[] = "d1", i_o[] = "o1", i_w2[] = "w2";
static char	*web_egress[] = { t_db, t_internet, NULL };
static char	t_host[] = "host";
static char	*db_ingress[] = { t_web, t_host, NULL };
static char	*other_egress[] = { t_db, NULL };	/* db does not admit it */

static struct net_network web = { i_w, t_web, "ncbw1", 1, 0, { 0 }, { 0 },
    { 0 }, { 0 }, web_egress, NULL, { 0 }, "", NULL, NULL };
static struct net_network db = { i_d, t_db, "ncbd1", 1, 0, { 0 }, { 0 },
    { 0 }, { 0 }, NULL, db_ingress, { 0 }, "", NULL, NULL };
static struct net_network other = { i_o, t_other, "ncbo1", 1, 0, { 0 }, { 0 },
    { 0 }, { 0 }, other_egress, NULL, { 0 }, "", NULL, NULL };

/* A -> B only when A's egress names B's tag and B's ingress admits A's. */
static void
test_allowed(void **state)
{
	assert_true(nft_allowed(&web, &web));
	assert_true(nft_allowed(&web, &db));
	assert_false(nft_allowed(&db, &web));
	assert_false(nft_allowed(&other, &db));
	assert_false(nft_allowed(&db, &other));
	assert_false(nft_allowed(&web, &other));
}

static const char golden_three[] =
	"table inet nc\n"
	"delete table inet nc\n"
	"table inet nc {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname \"ncbw1\" oifname \"ncbw1\" accept\n"
	"\t\tiifname \"ncbw1\" oifname \"ncbd1\" accept\n"
	"\t\tiifname \"ncbd1\" oifname \"ncbd1\" accept\n"
	"\t\tiifname \"ncbo1\" oifname \"ncbo1\" accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\", \"ncbo1\" } drop\n"
	"\t\toifname { \"ncbw1\", \"ncbd1\", \"ncbo1\" } drop\n"
	"\t}\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\", \"ncbo1\" } meta l4proto { icmp, ipv6-icmp } accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\", \"ncbo1\" } udp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\", \"ncbo1\" } tcp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\", \"ncbo1\" } drop\n"
	"\t}\n"
	"}\n";

static const char golden_uplink[] =
	"table inet nc\n"
	"delete table inet nc\n"
	"table inet nc {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname \"ncbw1\" oifname \"ncbw1\" accept\n"
	"\t\tiifname \"ncbw1\" oifname \"ncbd1\" accept\n"
	"\t\tiifname \"ncbd1\" oifname \"ncbd1\" accept\n"
	"\t\tiifname { \"ncbw1\" } oifname \"ncur\" accept\n"
	"\t\tiifname \"ncur\" oifname { \"ncbd1\" } accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\" } drop\n"
	"\t\toifname { \"ncbw1\", \"ncbd1\" } drop\n"
	"\t}\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\" } meta l4proto { icmp, ipv6-icmp } accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\" } udp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\" } tcp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbd1\" } drop\n"
	"\t}\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\toifname \"ncur\" meta nfproto ipv4 masquerade\n"
	"\t\toifname \"ncur\" ip6 saddr fc00::/7 masquerade\n"
	"\t}\n"
	"}\n";

static const char golden_empty[] =
	"table inet nc\n"
	"delete table inet nc\n"
	"table inet nc {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t}\n"
	"}\n";

static void
test_ruleset(void **state)
{
	struct net_network	*nets[] = { &web, &db, &other };
	struct nft_model	 m = { .table = "nc", .networks = nets,
	    .nnetworks = 3, .dns_port = 53 };
	char			*text;

	text = nft_ruleset(&m);
	assert_string_equal(text, golden_three);
	free(text);
	m.nnetworks = 0;
	text = nft_ruleset(&m);
	assert_string_equal(text, golden_empty);
	free(text);
	/* Only web's egress names the uplink tag: only web leaves, masqueraded. */
	m.nnetworks = 2;
	m.uplink = "ncur";
	m.uplink_tag = "internet";
	m.host_tag = "host";
	text = nft_ruleset(&m);
	assert_string_equal(text, golden_uplink);
	free(text);
	/* The gateways admit the DNS port that is served, and none when off. */
	m.dns_port = 5353;
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "udp dport 5353 accept"));
	assert_non_null(strstr(text, "tcp dport 5353 accept"));
	assert_null(strstr(text, "dport 53 "));
	free(text);
	m.dns_port = 0;
	text = nft_ruleset(&m);
	assert_null(strstr(text, "dport"));
	free(text);
}

/* The routing namespace's chain when each VRF is a namespace. */
static const char golden_by_link[] =
	"table inet nc\n"
	"delete table inet nc\n"
	"table inet nc {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname \"ncxw\" oifname \"ncxd\" ip saddr 198.18.0.0/24 "
	    "ip daddr 198.18.16.0/24 accept\n"
	"\t\tiifname \"ncxw\" oifname \"ncxd\" ip6 saddr fd01::/64 "
	    "ip6 daddr fd02::/64 accept\n"
	"\t\tiifname \"ncxw\" oifname \"ncur\" ip saddr 198.18.0.0/24 accept\n"
	"\t\tiifname \"ncxw\" oifname \"ncur\" ip6 saddr fd01::/64 accept\n"
	"\t\tiifname \"ncur\" oifname \"ncxd\" ip daddr 198.18.16.0/24 accept\n"
	"\t\tiifname \"ncur\" oifname \"ncxd\" ip6 daddr fd02::/64 accept\n"
	"\t\tiifname { \"ncxw\", \"ncxd\" } drop\n"
	"\t\toifname { \"ncxw\", \"ncxd\" } drop\n"
	"\t}\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname { \"ncxw\", \"ncxd\" } meta l4proto { icmp, ipv6-icmp } accept\n"
	"\t\tiifname { \"ncxw\", \"ncxd\" } udp dport 53 accept\n"
	"\t\tiifname { \"ncxw\", \"ncxd\" } tcp dport 53 accept\n"
	"\t\tiifname { \"ncxw\", \"ncxd\" } drop\n"
	"\t}\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\toifname \"ncur\" meta nfproto ipv4 masquerade\n"
	"\t\toifname \"ncur\" ip6 saddr fc00::/7 masquerade\n"
	"\t}\n"
	"}\n";

/* The routing namespace's chains with l3mdev VRFs: pools only. */
static const char golden_by_pool[] =
	"table inet nc\n"
	"delete table inet nc\n"
	"table inet nc {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tip saddr 198.18.0.0/24 ip daddr 198.18.16.0/24 accept\n"
	"\t\tip6 saddr fd01::/64 ip6 daddr fd02::/64 accept\n"
	"\t\toifname \"ncur\" ip saddr 198.18.0.0/24 accept\n"
	"\t\toifname \"ncur\" ip6 saddr fd01::/64 accept\n"
	"\t\tiifname \"ncur\" ip daddr 198.18.16.0/24 accept\n"
	"\t\tiifname \"ncur\" ip6 daddr fd02::/64 accept\n"
	"\t\tip saddr { 198.18.0.0/24, 198.18.16.0/24 } drop\n"
	"\t\tip6 saddr { fd01::/64, fd02::/64 } drop\n"
	"\t\tip daddr { 198.18.0.0/24, 198.18.16.0/24 } drop\n"
	"\t\tip6 daddr { fd01::/64, fd02::/64 } drop\n"
	"\t}\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tip saddr { 198.18.0.0/24, 198.18.16.0/24 } meta l4proto "
	    "{ icmp, ipv6-icmp } accept\n"
	"\t\tip6 saddr { fd01::/64, fd02::/64 } meta l4proto "
	    "{ icmp, ipv6-icmp } accept\n"
	"\t\tip saddr { 198.18.0.0/24, 198.18.16.0/24 } udp dport 53 accept\n"
	"\t\tip6 saddr { fd01::/64, fd02::/64 } udp dport 53 accept\n"
	"\t\tip saddr { 198.18.0.0/24, 198.18.16.0/24 } tcp dport 53 accept\n"
	"\t\tip6 saddr { fd01::/64, fd02::/64 } tcp dport 53 accept\n"
	"\t\tip saddr { 198.18.0.0/24, 198.18.16.0/24 } drop\n"
	"\t\tip6 saddr { fd01::/64, fd02::/64 } drop\n"
	"\t}\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\toifname \"ncur\" meta nfproto ipv4 masquerade\n"
	"\t\toifname \"ncur\" ip6 saddr fc00::/7 masquerade\n"
	"\t}\n"
	"}\n";

/* Inside a VRF's namespace: its networks' pairs, its link to the routing one. */
static const char golden_transit[] =
	"table inet nc\n"
	"delete table inet nc\n"
	"table inet nc {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname \"ncbw1\" oifname \"ncbw1\" accept\n"
	"\t\tiifname \"ncbw2\" oifname \"ncbw2\" accept\n"
	"\t\tiifname \"ncyw\" accept\n"
	"\t\toifname \"ncyw\" accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbw2\" } drop\n"
	"\t\toifname { \"ncbw1\", \"ncbw2\" } drop\n"
	"\t}\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbw2\" } meta l4proto { icmp, ipv6-icmp } accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbw2\" } udp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbw2\" } tcp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbw2\" } drop\n"
	"\t}\n"
	"}\n";

static void
test_ruleset_vrf(void **state)
{
	struct net_network	 w = web, d = db, w2 = web;
	struct net_network	*nets[] = { &w, &d };
	struct nft_model	 m = { .table = "nc", .networks = nets,
	    .nnetworks = 2, .uplink = "ncur", .uplink_tag = "internet",
	    .host_tag = "host", .by_link = 1, .dns_port = 53 };
	char			*text;

	assert_int_equal(prefix_parse("198.18.0.0/24", 0, &w.pool4, NULL, 0), 0);
	assert_int_equal(prefix_parse("fd01::/64", 0, &w.pool6, NULL, 0), 0);
	assert_int_equal(prefix_parse("198.18.16.0/24", 0, &d.pool4, NULL, 0),
	    0);
	assert_int_equal(prefix_parse("fd02::/64", 0, &d.pool6, NULL, 0), 0);
	w.has6 = d.has6 = 1;
	strcpy(w.vrf_link, "ncxw");
	strcpy(d.vrf_link, "ncxd");
	text = nft_ruleset(&m);
	assert_string_equal(text, golden_by_link);
	free(text);
	/* l3mdev: one namespace, networks told apart by their pools. */
	m.by_link = 0;
	m.by_pool = 1;
	text = nft_ruleset(&m);
	assert_string_equal(text, golden_by_pool);
	free(text);
	/* web's VRF with two web networks (web's egress does not name web). */
	strcpy(w2.bridge, "ncbw2");
	w2.id = i_w2;
	nets[1] = &w2;
	memset(&m, 0, sizeof m);
	m.table = "nc";
	m.networks = nets;
	m.nnetworks = 2;
	m.transit = "ncyw";
	m.dns_port = 53;
	text = nft_ruleset(&m);
	assert_string_equal(text, golden_transit);
	free(text);
}

/* WAF egress: a network whose egress names the proxy tag reaches squid on the
 * host end of the uplink, as its gateway's port, and nothing else outside. */
static char	 t_prox[] = "prox", t_proxied[] = "proxied", i_p[] = "p";
static char	*prox_egress[] = { t_proxied, NULL };
static struct net_network prox = { i_p, t_prox, "ncbp1", 1, 0, { 0 }, { 0 },
    { 0 }, { 0 }, prox_egress, NULL, { 0 }, "", NULL, NULL };

/* Bridges in the routing namespace: the DNAT and the forward rule here. */
static const char golden_proxy[] =
	"table inet nc\n"
	"delete table inet nc\n"
	"table inet nc {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname \"ncbw1\" oifname \"ncbw1\" accept\n"
	"\t\tiifname \"ncbp1\" oifname \"ncbp1\" accept\n"
	"\t\tiifname { \"ncbw1\" } oifname \"ncur\" accept\n"
	"\t\tiifname { \"ncbp1\" } oifname \"ncur\" ip daddr 169.254.7.1 "
	"tcp dport 3128 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbp1\" } drop\n"
	"\t\toifname { \"ncbw1\", \"ncbp1\" } drop\n"
	"\t}\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tct state established,related accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbp1\" } meta l4proto { icmp, ipv6-icmp } "
	"accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbp1\" } udp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbp1\" } tcp dport 53 accept\n"
	"\t\tiifname { \"ncbw1\", \"ncbp1\" } drop\n"
	"\t}\n"
	"\tchain prerouting {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tiifname { \"ncbp1\" } meta nfproto ipv4 fib daddr type local "
	"tcp dport 3128 dnat ip to 169.254.7.1:3128\n"
	"\t}\n"
	"\tchain postrouting {\n"
	"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
	"\t\toifname \"ncur\" meta nfproto ipv4 masquerade\n"
	"\t\toifname \"ncur\" ip6 saddr fc00::/7 masquerade\n"
	"\t}\n"
	"}\n";

static void
test_ruleset_proxy(void **state)
{
	struct net_network	 w = web, p = prox;
	struct net_network	*nets[] = { &w, &p };
	struct nft_model	 m = { .table = "nc", .networks = nets,
	    .nnetworks = 2, .uplink = "ncur", .uplink_tag = "internet",
	    .host_tag = "host", .proxy_tag = "proxied",
	    .proxy_addr = "169.254.7.1", .proxy_port = 3128, .dns_port = 53 };
	char			*text;

	text = nft_ruleset(&m);
	assert_string_equal(text, golden_proxy);
	free(text);

	/* netns VRFs: the routing namespace forwards the proxied pool to
	 * squid's port only, and makes no DNAT (the gateways are not here)... */
	assert_int_equal(prefix_parse("198.18.0.0/24", 0, &w.pool4, NULL, 0), 0);
	assert_int_equal(prefix_parse("198.18.32.0/24", 0, &p.pool4, NULL, 0),
	    0);
	strcpy(w.vrf_link, "ncxw");
	strcpy(p.vrf_link, "ncxp");
	m.by_link = 1;
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tiifname \"ncxp\" oifname \"ncur\" "
	    "ip saddr 198.18.32.0/24 ip daddr 169.254.7.1 tcp dport 3128 "
	    "accept\n"));
	assert_null(strstr(text, "dnat"));
	assert_non_null(strstr(text, "masquerade"));
	free(text);

	/* ...the VRF's namespace does, at its gateways, and lets the result
	 * out through its link to the routing namespace. */
	nets[0] = &p;
	memset(&m, 0, sizeof m);
	m.table = "nc";
	m.networks = nets;
	m.nnetworks = 1;
	m.transit = "ncyp";
	m.proxy_tag = "proxied";
	m.proxy_addr = "169.254.7.1";
	m.proxy_port = 3128;
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tiifname { \"ncbp1\" } meta nfproto "
	    "ipv4 fib daddr type local tcp dport 3128 dnat ip to "
	    "169.254.7.1:3128\n"));
	assert_non_null(strstr(text, "\t\toifname \"ncyp\" accept\n"));
	assert_null(strstr(text, "masquerade"));
	free(text);

	/* Dual stack (issue 9): the gateway's IPv6 address leads to squid's
	 * IPv6 address on the host end, masqueraded (squid admits ULA). */
	p.has6 = 1;
	assert_int_equal(prefix_parse("2001:db8:5::/64", 0, &p.pool6, NULL, 0),
	    0);
	m.proxy_addr6 = "fd6e:6372:0:7::1";
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tiifname { \"ncbp1\" } meta nfproto "
	    "ipv6 fib daddr type local tcp dport 3128 dnat ip6 to "
	    "[fd6e:6372:0:7::1]:3128\n"));
	assert_null(strstr(text, "ncur"));
	free(text);
	m.uplink = "ncur";
	m.transit = NULL;
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tiifname { \"ncbp1\" } oifname "
	    "\"ncur\" ip6 daddr fd6e:6372:0:7::1 tcp dport 3128 accept\n"));
	assert_non_null(strstr(text, "\t\toifname \"ncur\" ip6 daddr "
	    "fd6e:6372:0:7::1 tcp dport 3128 masquerade\n"));
	free(text);
	/* ...and with netns VRFs the routing namespace lets its pool through. */
	strcpy(p.vrf_link, "ncxp");
	m.by_link = 1;
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tiifname \"ncxp\" oifname \"ncur\" "
	    "ip6 saddr 2001:db8:5::/64 ip6 daddr fd6e:6372:0:7::1 tcp dport "
	    "3128 accept\n"));
	assert_null(strstr(text, "dnat"));
	free(text);
	p.has6 = 0;

	/* l3mdev: the gateways are in the routing namespace, told by pool. */
	nets[0] = &w;
	nets[1] = &p;
	memset(&m, 0, sizeof m);
	m.table = "nc";
	m.networks = nets;
	m.nnetworks = 2;
	m.uplink = "ncur";
	m.proxy_tag = "proxied";
	m.proxy_addr = "169.254.7.1";
	m.proxy_port = 3128;
	m.by_pool = 1;
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\toifname \"ncur\" ip saddr "
	    "198.18.32.0/24 ip daddr 169.254.7.1 tcp dport 3128 accept\n"));
	assert_non_null(strstr(text, "\t\tip saddr 198.18.32.0/24 fib daddr "
	    "type local tcp dport 3128 dnat ip to 169.254.7.1:3128\n"));
	free(text);
	p.has6 = 1;
	m.proxy_addr6 = "fd6e:6372:0:7::1";
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tip6 saddr 2001:db8:5::/64 fib daddr "
	    "type local tcp dport 3128 dnat ip6 to [fd6e:6372:0:7::1]:3128\n"));
	assert_non_null(strstr(text, "\t\toifname \"ncur\" ip6 saddr "
	    "2001:db8:5::/64 ip6 daddr fd6e:6372:0:7::1 tcp dport 3128 "
	    "accept\n"));
	free(text);
}

/*
 * Networks of another host (cluster): the same policy on their pools, in and
 * out over the underlay; a tag not allowed gets nothing.
 */
static void
test_ruleset_remote(void **state)
{
	static char		 i_rd[] = "rd1", i_ro[] = "ro1";
	struct net_network	 w = web, rd = db, ro = other;
	struct net_network	*nets[] = { &w }, *remote[] = { &rd, &ro };
	struct nft_model	 m = { .table = "nc", .networks = nets,
	    .nnetworks = 1, .remote = remote, .nremote = 2, .by_link = 1 };
	char			*text;

	rd.id = i_rd;
	ro.id = i_ro;
	assert_int_equal(prefix_parse("198.18.0.0/24", 0, &w.pool4, NULL, 0), 0);
	assert_int_equal(prefix_parse("198.18.32.0/24", 0, &rd.pool4, NULL, 0),
	    0);
	assert_int_equal(prefix_parse("198.18.40.0/24", 0, &ro.pool4, NULL, 0),
	    0);
	strcpy(w.vrf_link, "ncxw");
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tiifname \"ncxw\" ip saddr "
	    "198.18.0.0/24 ip daddr 198.18.32.0/24 accept\n"));
	/* db's egress does not name web; other is not admitted by anyone. */
	assert_null(strstr(text, "ip saddr 198.18.32.0/24"));
	assert_null(strstr(text, "198.18.40.0/24"));
	free(text);
	/* Bridges in the routing namespace: the same through the bridge. */
	m.by_link = 0;
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\tiifname \"ncbw1\" ip saddr "
	    "198.18.0.0/24 ip daddr 198.18.32.0/24 accept\n"));
	assert_null(strstr(text, "198.18.40.0/24"));
	free(text);
	/* A remote network whose egress admits web comes in. */
	ro.egress = web_egress;	/* names db, not web */
	rd.egress = (char *[]){ t_web, NULL };
	w.ingress = (char *[]){ t_db, NULL };
	text = nft_ruleset(&m);
	assert_non_null(strstr(text, "\t\toifname \"ncbw1\" ip saddr "
	    "198.18.32.0/24 ip daddr 198.18.0.0/24 accept\n"));
	assert_null(strstr(text, "198.18.40.0/24"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_ruleset),
		cmocka_unit_test(test_ruleset_vrf),
		cmocka_unit_test(test_ruleset_proxy),
		cmocka_unit_test(test_ruleset_remote),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
