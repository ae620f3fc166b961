/* nft.c: the tag policy in nftables.  One table (inet) in the routing namespace;
 * each change rewrites all of it in one transaction ("add; delete; define" in one
 * buffer), so the kernel never sees a half-made policy. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "log.h"
#include "netns.h"
#include "nft.h"
#include "util.h"
#include "xmalloc.h"

int
nft_allowed(const struct net_network *a, const struct net_network *b)
{
	if (a == b || strcmp(a->id, b->id) == 0)
		return (1);
	return (util_strv_has(a->egress, b->tag) && util_strv_has(b->ingress, a->tag));
}

/* "{ "a", "b" }" of the bridges of networks that pass test (all: NULL). */
static int
nft_bridge_set(FILE *f, const struct nft_model *m,
    int (*test)(const struct net_network *, const struct nft_model *))
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < m->nnetworks; i++) {
		if (test != NULL && !test(m->networks[i], m))
			continue;
		fprintf(f, "%s\"%s\"", n == 0 ? "{ " : ", ",
		    m->networks[i]->bridge);
		n++;
	}
	if (n > 0)
		fprintf(f, " }");
	return (n);
}

static int
nft_egresses(const struct net_network *n, const struct nft_model *m)
{
	return (m->uplink_tag != NULL && util_strv_has(n->egress, m->uplink_tag));
}

static int
nft_admits_host(const struct net_network *n, const struct nft_model *m)
{
	return (m->host_tag != NULL && util_strv_has(n->ingress, m->host_tag));
}

/* WAF egress: the network reaches the outside only through squid. */
static int
nft_proxied(const struct net_network *n, const struct nft_model *m)
{
	return (m->proxy_tag != NULL && util_strv_has(n->egress, m->proxy_tag));
}

/* A set of the bridges passing test as text ("" when none). */
static char *
nft_bridge_set_text(const struct nft_model *m,
    int (*test)(const struct net_network *, const struct nft_model *))
{
	FILE	*f;
	char	*text = NULL;
	size_t	 len = 0;

	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	nft_bridge_set(f, m, test);
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return (text);
}

/* "{ "a", "b" }" of the distinct VRF links of the networks. */
static void
nft_link_set(FILE *f, const struct nft_model *m)
{
	size_t	i, j;
	int	n = 0;

	for (i = 0; i < m->nnetworks; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(m->networks[j]->vrf_link,
			    m->networks[i]->vrf_link) == 0)
				break;
		if (j < i)
			continue;
		fprintf(f, "%s\"%s\"", n++ == 0 ? "{ " : ", ",
		    m->networks[i]->vrf_link);
	}
	fprintf(f, " }");
}

/*
 * One accept per family both sides have: in through iif, out through oif, from
 * a's pool (a NULL: anywhere) to b's (b NULL: anywhere).
 */
static void
nft_addr_rule(FILE *f, const char *iif, const char *oif,
    const struct net_network *a, const struct net_network *b)
{
	char	bufa[PREFIX_STRLEN], bufb[PREFIX_STRLEN];
	int	fam;

	for (fam = 0; fam < 2; fam++) {
		const char	*ip = fam == 0 ? "ip" : "ip6";

		if ((a != NULL && !(fam == 0 ? a->has4 : a->has6)) ||
		    (b != NULL && !(fam == 0 ? b->has4 : b->has6)))
			continue;
		fprintf(f, "\t\t");
		if (iif != NULL)
			fprintf(f, "iifname \"%s\" ", iif);
		if (oif != NULL)
			fprintf(f, "oifname \"%s\" ", oif);
		if (a != NULL)
			fprintf(f, "%s saddr %s ", ip, prefix_format(fam == 0 ?
			    &a->pool4 : &a->pool6, 1, bufa, sizeof bufa));
		if (b != NULL)
			fprintf(f, "%s daddr %s ", ip, prefix_format(fam == 0 ?
			    &b->pool4 : &b->pool6, 1, bufb, sizeof bufb));
		fprintf(f, "accept\n");
	}
}

/* The interface a network is behind here: its VRF's link, or none (by pool). */
static const char *
nft_link(const struct net_network *n, const struct nft_model *m)
{
	return (m->by_pool ? NULL : n->vrf_link);
}

/* "{ a, b }" of the networks' pools of a family (0: IPv4); 0 when none. */
static int
nft_pool_set(FILE *f, const struct nft_model *m, int fam)
{
	const struct net_network	*a;
	char				 buf[PREFIX_STRLEN];
	size_t				 i;
	int				 n = 0;

	for (i = 0; i < m->nnetworks; i++) {
		a = m->networks[i];
		if (!(fam == 0 ? a->has4 : a->has6))
			continue;
		fprintf(f, "%s%s", n++ == 0 ? "{ " : ", ", prefix_format(fam ==
		    0 ? &a->pool4 : &a->pool6, 1, buf, sizeof buf));
	}
	if (n > 0)
		fprintf(f, " }");
	return (n);
}

/*
 * Networks of other hosts, by the same tag policy: out from a local network
 * (through iif) to a remote pool, and in from a remote pool to a local
 * network (through oif).  Their traffic comes and goes over the underlay,
 * which is no network's link, so only the pools tell it apart.
 */
static void
nft_forward_remote(FILE *f, const struct nft_model *m,
    const char *(*iface)(const struct net_network *, const struct nft_model *))
{
	const struct net_network	*a, *r;
	size_t				 i, j;

	for (i = 0; i < m->nnetworks; i++) {
		a = m->networks[i];
		for (j = 0; j < m->nremote; j++) {
			r = m->remote[j];
			if (nft_allowed(a, r))
				nft_addr_rule(f, iface(a, m), NULL, a, r);
			if (nft_allowed(r, a))
				nft_addr_rule(f, NULL, iface(a, m), r, a);
		}
	}
}

/* A network's bridge (networks told apart by their bridges). */
static const char *
nft_bridge(const struct net_network *n, const struct nft_model *m)
{
	return (n->bridge);
}

/*
 * Squid's port on the host and nothing else, per family the proxied network a
 * has: the DNAT at its gateway (its VRF's namespace, or the prerouting chain
 * here with l3mdev) made it so.  How many rules.
 */
static int
nft_proxy_accept(FILE *f, const struct nft_model *m,
    const struct net_network *a)
{
	char	buf[PREFIX_STRLEN];
	int	fam, n = 0;

	for (fam = 0; fam < 2; fam++) {
		const char	*ip = fam == 0 ? "ip" : "ip6";
		const char	*to = fam == 0 ? m->proxy_addr : m->proxy_addr6;

		if (!(fam == 0 ? a->has4 : a->has6) || to == NULL)
			continue;
		fprintf(f, "\t\t");
		if (nft_link(a, m) != NULL)
			fprintf(f, "iifname \"%s\" ", nft_link(a, m));
		fprintf(f, "oifname \"%s\" %s saddr %s %s daddr %s tcp dport "
		    "%d accept\n", m->uplink, ip, prefix_format(fam == 0 ?
		    &a->pool4 : &a->pool6, 1, buf, sizeof buf), ip, to,
		    m->proxy_port);
		n++;
	}
	return (n);
}

/*
 * The forward chain of the routing namespace when networks live in VRFs:
 * told apart by their VRF's link (netns: networks of one VRF never cross it,
 * their namespace's own chain covers them) and their pools, or by their
 * pools alone (l3mdev).
 */
static void
nft_forward_by_link(FILE *f, const struct nft_model *m, int *nout,
    int *nproxy)
{
	const struct net_network	*a, *b;
	size_t				 i, j;

	for (i = 0; i < m->nnetworks; i++) {
		a = m->networks[i];
		for (j = 0; j < m->nnetworks; j++) {
			b = m->networks[j];
			if (m->by_pool ? i == j : strcmp(a->vrf_link,
			    b->vrf_link) == 0)
				continue;
			if (nft_allowed(a, b))
				nft_addr_rule(f, nft_link(a, m), nft_link(b, m),
				    a, b);
		}
	}
	nft_forward_remote(f, m, nft_link);
	if (m->uplink == NULL)
		return;
	for (i = 0; i < m->nnetworks; i++) {
		a = m->networks[i];
		if (nft_egresses(a, m)) {
			nft_addr_rule(f, nft_link(a, m), m->uplink, a, NULL);
			(*nout)++;
		}
		if (nft_admits_host(a, m))
			nft_addr_rule(f, m->uplink, nft_link(a, m), NULL, a);
		if (nft_proxied(a, m))
			*nproxy += nft_proxy_accept(f, m, a);
	}
}

/*
 * What marks traffic from (dir "saddr", "iifname") or to the networks: their
 * interfaces, or their pools per family.  Up to two selectors, NULL-ended.
 */
static void
nft_selectors(const struct nft_model *m, int from, char *sel[3])
{
	FILE	*f;
	size_t	 len;
	int	 fam, n = 0;

	memset(sel, 0, 3 * sizeof *sel);
	for (fam = 0; fam < (m->by_pool ? 2 : 1); fam++) {
		if ((f = open_memstream(&sel[n], &len)) == NULL)
			fatal("%s: open_memstream", __func__);
		if (m->by_pool) {
			fprintf(f, "%s %s ", fam == 0 ? "ip" : "ip6", from ?
			    "saddr" : "daddr");
			if (nft_pool_set(f, m, fam) == 0) {
				fclose(f);
				free(sel[n]);
				sel[n] = NULL;
				continue;
			}
		} else {
			fprintf(f, "%s ", from ? "iifname" : "oifname");
			if (m->by_link)
				nft_link_set(f, m);
			else
				nft_bridge_set(f, m, NULL);
		}
		if (fclose(f) != 0)
			fatal("%s: fclose", __func__);
		n++;
	}
}

static void
nft_selectors_free(char *sel[3])
{
	free(sel[0]);
	free(sel[1]);
}

/* The forward chain where networks are told apart by their bridges. */
static void
nft_forward_by_bridge(FILE *f, const struct nft_model *m, int *noutp,
    int *nproxyp)
{
	char	*sets;
	size_t	 i, j;
	int	 nout = 0;

	for (i = 0; i < m->nnetworks; i++) {
		for (j = 0; j < m->nnetworks; j++) {
			if (!nft_allowed(m->networks[i], m->networks[j]))
				continue;
			fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" accept\n",
			    m->networks[i]->bridge, m->networks[j]->bridge);
		}
	}
	nft_forward_remote(f, m, nft_bridge);
	if (m->transit != NULL) {
		/* The routing namespace decided what crosses the VRF's link. */
		fprintf(f, "\t\tiifname \"%s\" accept\n", m->transit);
		fprintf(f, "\t\toifname \"%s\" accept\n", m->transit);
	}
	if (m->uplink != NULL) {
		/* Out to the uplink: networks whose egress names its tag. */
		sets = nft_bridge_set_text(m, nft_egresses);
		if ((nout = *sets != '\0'))
			fprintf(f, "\t\tiifname %s oifname \"%s\" accept\n",
			    sets, m->uplink);
		free(sets);
		/* In from the host: networks whose ingress admits the host tag. */
		sets = nft_bridge_set_text(m, nft_admits_host);
		if (*sets != '\0')
			fprintf(f, "\t\tiifname \"%s\" oifname %s accept\n",
			    m->uplink, sets);
		free(sets);
		/* Proxied networks: squid's port on the host and nothing else. */
		sets = m->proxy_tag != NULL ? nft_bridge_set_text(m,
		    nft_proxied) : xstrdup("");
		if ((*nproxyp = *sets != '\0'))
			fprintf(f, "\t\tiifname %s oifname \"%s\" ip daddr %s "
			    "tcp dport %d accept\n", sets, m->uplink,
			    m->proxy_addr, m->proxy_port);
		if (*sets != '\0' && m->proxy_addr6 != NULL)
			fprintf(f, "\t\tiifname %s oifname \"%s\" ip6 daddr %s "
			    "tcp dport %d accept\n", sets, m->uplink,
			    m->proxy_addr6, m->proxy_port);
		free(sets);
	}
	if (m->nnetworks > 0) {
		/* Everything else from or to a network is dropped. */
		fprintf(f, "\t\tiifname ");
		nft_bridge_set(f, m, NULL);
		fprintf(f, " drop\n\t\toifname ");
		nft_bridge_set(f, m, NULL);
		fprintf(f, " drop\n");
	}
	*noutp = nout;
}

/*
 * The input chain: to the addresses of this namespace (the gateways) containers
 * get ICMP (ping, neighbour discovery, path MTU) and the services netcraved
 * offers there (DNS on dns.gateway_port); everything else from a network is
 * dropped.
 */
static void
nft_input(FILE *f, const struct nft_model *m)
{
	char	*sel[3];
	size_t	 i, k;

	nft_selectors(m, 1, sel);
	fprintf(f, "\tchain input {\n");
	fprintf(f, "\t\ttype filter hook input priority filter; "
	    "policy accept;\n");
	fprintf(f, "\t\tct state established,related accept\n");
	for (k = 0; sel[k] != NULL; k++)
		fprintf(f, "\t\t%s meta l4proto { icmp, ipv6-icmp } accept\n",
		    sel[k]);
	for (i = 0; m->dns_port != 0 && i < 2; i++)
		for (k = 0; sel[k] != NULL; k++)
			fprintf(f, "\t\t%s %s dport %d accept\n", sel[k],
			    i == 0 ? "udp" : "tcp", m->dns_port);
	for (k = 0; sel[k] != NULL; k++)
		fprintf(f, "\t\t%s drop\n", sel[k]);
	fprintf(f, "\t}\n");
	nft_selectors_free(sel);
}

/* The end of a DNAT rule to squid's port on the host, of a family (0: IPv4). */
static void
nft_proxy_dnat_to(FILE *f, const struct nft_model *m, int fam)
{
	if (fam == 0)
		fprintf(f, "dnat ip to %s:%d\n", m->proxy_addr, m->proxy_port);
	else
		fprintf(f, "dnat ip6 to [%s]:%d\n", m->proxy_addr6,
		    m->proxy_port);
}

/*
 * WAF egress: the proxy port of a proxied network's gateway leads to squid on
 * the host.  The DNAT happens where the gateway is local: here with bridges
 * (the routing namespace, or a VRF's namespace), by source pool with l3mdev;
 * never in the routing namespace of netns VRFs (their gateways are not here).
 */
static void
nft_proxy_dnat(FILE *f, const struct nft_model *m)
{
	const struct net_network	*a;
	char				*sets, buf[PREFIX_STRLEN];
	size_t				 i;
	int				 fam, n = 0;

	if (m->proxy_tag == NULL || m->proxy_addr == NULL || m->by_link)
		return;
	if (m->by_pool) {
		for (i = 0; i < m->nnetworks; i++) {
			a = m->networks[i];
			if (!nft_proxied(a, m))
				continue;
			for (fam = 0; fam < 2; fam++) {
				if (!(fam == 0 ? a->has4 : a->has6) ||
				    (fam == 1 && m->proxy_addr6 == NULL))
					continue;
				if (n++ == 0)
					fprintf(f, "\tchain prerouting {\n\t\t"
					    "type nat hook prerouting priority "
					    "dstnat; policy accept;\n");
				fprintf(f, "\t\t%s saddr %s fib daddr type local "
				    "tcp dport %d ", fam == 0 ? "ip" : "ip6",
				    prefix_format(fam == 0 ? &a->pool4 :
				    &a->pool6, 1, buf, sizeof buf),
				    m->proxy_port);
				nft_proxy_dnat_to(f, m, fam);
			}
		}
		if (n > 0)
			fprintf(f, "\t}\n");
		return;
	}
	sets = nft_bridge_set_text(m, nft_proxied);
	if (*sets != '\0') {
		fprintf(f, "\tchain prerouting {\n");
		fprintf(f, "\t\ttype nat hook prerouting priority dstnat; "
		    "policy accept;\n");
		for (fam = 0; fam < (m->proxy_addr6 != NULL ? 2 : 1); fam++) {
			fprintf(f, "\t\tiifname %s meta nfproto %s fib daddr "
			    "type local tcp dport %d ", sets, fam == 0 ?
			    "ipv4" : "ipv6", m->proxy_port);
			nft_proxy_dnat_to(f, m, fam);
		}
		fprintf(f, "\t}\n");
	}
	free(sets);
}

char *
nft_ruleset(const struct nft_model *m)
{
	FILE	*f;
	char	*text = NULL, *from[3], *to[3];
	size_t	 len = 0, k;
	int	 nout = 0, nproxy = 0;

	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	/* Declare first so the delete always has something to remove. */
	fprintf(f, "table inet %s\ndelete table inet %s\n", m->table, m->table);
	fprintf(f, "table inet %s {\n", m->table);
	fprintf(f, "\tchain forward {\n");
	fprintf(f, "\t\ttype filter hook forward priority filter; "
	    "policy accept;\n");
	fprintf(f, "\t\tct state established,related accept\n");
	if (m->by_link || m->by_pool) {
		nft_forward_by_link(f, m, &nout, &nproxy);
		if (m->nnetworks > 0) {
			/* Everything else from or to a network is dropped. */
			nft_selectors(m, 1, from);
			nft_selectors(m, 0, to);
			for (k = 0; from[k] != NULL; k++)
				fprintf(f, "\t\t%s drop\n", from[k]);
			for (k = 0; to[k] != NULL; k++)
				fprintf(f, "\t\t%s drop\n", to[k]);
			nft_selectors_free(from);
			nft_selectors_free(to);
		}
	} else
		nft_forward_by_bridge(f, m, &nout, &nproxy);
	fprintf(f, "\t}\n");
	if (m->nnetworks > 0)
		nft_input(f, m);
	nft_proxy_dnat(f, m);
	if (nout > 0 || nproxy > 0) {
		/* IPv4 and ULA IPv6 leave through the uplink under its address. */
		fprintf(f, "\tchain postrouting {\n");
		fprintf(f, "\t\ttype nat hook postrouting priority srcnat; "
		    "policy accept;\n");
		fprintf(f, "\t\toifname \"%s\" meta nfproto ipv4 masquerade\n",
		    m->uplink);
		/* Squid admits ULA sources only, and the host has no route
		 * back to a routed pool that only reaches it through squid. */
		if (nproxy > 0 && m->proxy_addr6 != NULL)
			fprintf(f, "\t\toifname \"%s\" ip6 daddr %s tcp dport "
			    "%d masquerade\n", m->uplink, m->proxy_addr6,
			    m->proxy_port);
		fprintf(f, "\t\toifname \"%s\" ip6 saddr fc00::/7 masquerade\n",
		    m->uplink);
		fprintf(f, "\t}\n");
	}
	fprintf(f, "}\n");
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return (text);
}

int
nft_apply(int nsfd, const char *text, char *err, size_t errlen)
{
	struct nft_ctx	*ctx;
	const char	*msg;
	int		 rc;

	if (netns_enter(nsfd) == -1) {
		snprintf(err, errlen, "setns: %s", strerror(errno));
		return (-1);
	}
	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		netns_leave();
		snprintf(err, errlen, "nft_ctx_new failed");
		return (-1);
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	rc = nft_run_cmd_from_buffer(ctx, text);
	if (rc != 0) {
		msg = nft_ctx_get_error_buffer(ctx);
		snprintf(err, errlen, "%s", msg != NULL && *msg != '\0' ? msg :
		    "ruleset refused");
	}
	nft_ctx_free(ctx);
	netns_leave();
	return (rc != 0 ? -1 : 0);
}
