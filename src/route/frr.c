/* frr.c: render the FRR configuration for clustering: iBGP between hosts,
 * each announcing the container subnets it holds. */

#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frr.h"
#include "log.h"
#include "prefix.h"
#include "xmalloc.h"

#define FRR_MAP4	"netcrave-announce4"
#define FRR_MAP6	"netcrave-announce6"

/*
 * Prefix lists and route maps that let through the connected routes inside
 * the announced space: a network's bridge subnet, not the underlay.
 */
static void
frr_render_announce(FILE *f, const struct frr_params *p)
{
	struct prefix	pr;
	char		why[128];
	size_t		i;
	int		n4 = 0, n6 = 0;

	for (i = 0; p->announce != NULL && p->announce[i] != NULL; i++) {
		if (prefix_parse(p->announce[i], 1, &pr, why, sizeof why) == -1)
			continue;
		if (pr.family == AF_INET)
			fprintf(f, "ip prefix-list %s seq %d permit %s le 32\n",
			    FRR_MAP4, (++n4) * 5, p->announce[i]);
		else
			fprintf(f, "ipv6 prefix-list %s seq %d permit %s le 128\n",
			    FRR_MAP6, (++n6) * 5, p->announce[i]);
	}
	if (n4 + n6 == 0)
		return;
	fprintf(f, "route-map %s permit 10\n match ip address prefix-list %s\n"
	    "exit\n", FRR_MAP4, FRR_MAP4);
	fprintf(f, "route-map %s permit 10\n match ipv6 address prefix-list %s\n"
	    "exit\n", FRR_MAP6, FRR_MAP6);
	fprintf(f, "!\n");
}

/* An address of either family, with no prefix length. */
int
frr_is_address(const char *s)
{
	struct in6_addr	a6;
	struct in_addr	a4;

	return (inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1);
}

/*
 * The config is line based and vtysh reads it as commands: a space, a newline
 * or a "!" in a value would change what it says.  Names get a strict alphabet;
 * the password any printable character but space and "!".
 */
static int
frr_is_word(const char *s, int password)
{
	if (*s == '\0' || strlen(s) > 80)
		return (0);
	for (; *s != '\0'; s++) {
		if (password) {
			if (!isgraph((unsigned char)*s) || *s == '!')
				return (0);
		} else if (!isalnum((unsigned char)*s) && *s != '-' &&
		    *s != '_' && *s != '.')
			return (0);
	}
	return (1);
}

const char *
frr_check(const struct frr_params *p, char *err, size_t errlen)
{
	struct in_addr	a4;
	struct prefix	range;
	char		why[128];
	size_t		i;

	if (p->asn == 0 || p->asn == 4294967295U)
		snprintf(err, errlen, "asn %u is reserved", p->asn);
	else if (p->router_id == NULL ||
	    inet_pton(AF_INET, p->router_id, &a4) != 1)
		snprintf(err, errlen, "router_id: expected an IPv4 address");
	else if (!frr_is_word(p->hostname, 0))
		snprintf(err, errlen, "hostname \"%s\" is not a plain name",
		    p->hostname);
	else if (p->vrf != NULL && !frr_is_word(p->vrf, 0))
		snprintf(err, errlen, "vrf \"%s\" is not a plain name", p->vrf);
	else if (p->password != NULL && !frr_is_word(p->password, 1))
		snprintf(err, errlen, "password: expected 1 to 80 printable "
		    "characters, no space or \"!\"");
	else if (p->listen_range != NULL &&
	    prefix_parse(p->listen_range, 1, &range, why, sizeof why) == -1)
		snprintf(err, errlen, "listen_range \"%s\" is not a prefix",
		    p->listen_range);
	else
		err[0] = '\0';
	for (i = 0; err[0] == '\0' && p->announce != NULL &&
	    p->announce[i] != NULL; i++) {
		if (prefix_parse(p->announce[i], 1, &range, why,
		    sizeof why) == -1)
			snprintf(err, errlen, "announce \"%s\": %s",
			    p->announce[i], why);
	}
	for (i = 0; err[0] == '\0' && p->peers != NULL &&
	    p->peers[i] != NULL; i++) {
		if (!frr_is_address(p->peers[i]))
			snprintf(err, errlen, "peer \"%s\" is not an address",
			    p->peers[i]);
	}
	return (err[0] == '\0' ? NULL : err);
}

/* One address family block: this host's prefixes of that family. */
static void
frr_render_af(FILE *f, const struct frr_params *p, int family)
{
	char	buf[PREFIX_STRLEN];
	size_t	i;

	fprintf(f, " address-family %s unicast\n",
	    family == AF_INET ? "ipv4" : "ipv6");
	for (i = 0; i < p->nprefixes; i++) {
		if (p->prefixes[i].family != family)
			continue;
		fprintf(f, "  network %s\n",
		    prefix_format(&p->prefixes[i], 1, buf, sizeof buf));
	}
	/* Pools are connected where bridges live in the routing namespace,
	 * and kernel routes to the VRF's link with the netns backend. */
	if (p->announce != NULL && p->announce[0] != NULL) {
		fprintf(f, "  redistribute connected route-map %s\n",
		    family == AF_INET ? FRR_MAP4 : FRR_MAP6);
		fprintf(f, "  redistribute kernel route-map %s\n",
		    family == AF_INET ? FRR_MAP4 : FRR_MAP6);
	}
	fprintf(f, "  neighbor %s activate\n", FRR_PEER_GROUP);
	/* Without it, learned routes point at the peer's underlay address. */
	fprintf(f, "  neighbor %s next-hop-self\n", FRR_PEER_GROUP);
	if (p->route_reflector)
		fprintf(f, "  neighbor %s route-reflector-client\n",
		    FRR_PEER_GROUP);
	fprintf(f, " exit-address-family\n");
}

char *
frr_render(const struct frr_params *p, size_t *lenp)
{
	char	*out = NULL;
	size_t	 len = 0, i;
	FILE	*f;

	if ((f = open_memstream(&out, &len)) == NULL)
		fatal("open_memstream");
	fprintf(f, "! frr.conf: written by netcraved, overwritten on change\n");
	fprintf(f, "frr defaults traditional\n");
	fprintf(f, "hostname %s\n", p->hostname);
	fprintf(f, "log stdout informational\n");
	fprintf(f, "!\n");
	frr_render_announce(f, p);
	if (p->vrf != NULL)
		fprintf(f, "router bgp %u vrf %s\n", p->asn, p->vrf);
	else
		fprintf(f, "router bgp %u\n", p->asn);
	fprintf(f, " bgp router-id %s\n", p->router_id);
	fprintf(f, " no bgp default ipv4-unicast\n");
	/* Announced networks are ours: no IGP route needs to back them. */
	fprintf(f, " no bgp network import-check\n");
	if (p->route_reflector)
		fprintf(f, " bgp cluster-id %s\n", p->router_id);
	fprintf(f, " neighbor %s peer-group\n", FRR_PEER_GROUP);
	fprintf(f, " neighbor %s remote-as internal\n", FRR_PEER_GROUP);
	/* Either protection: FRR refuses both on one session. */
	if (p->password != NULL)
		fprintf(f, " neighbor %s password %s\n", FRR_PEER_GROUP,
		    p->password);
	else
		fprintf(f, " neighbor %s ttl-security hops 1\n",
		    FRR_PEER_GROUP);
	for (i = 0; p->peers != NULL && p->peers[i] != NULL; i++)
		fprintf(f, " neighbor %s peer-group %s\n", p->peers[i],
		    FRR_PEER_GROUP);
	if (p->listen_range != NULL)
		fprintf(f, " bgp listen range %s peer-group %s\n",
		    p->listen_range, FRR_PEER_GROUP);
	fprintf(f, " !\n");
	frr_render_af(f, p, AF_INET);
	frr_render_af(f, p, AF_INET6);
	fprintf(f, "exit\n");
	fprintf(f, "!\n");
	fprintf(f, "end\n");
	if (fclose(f) != 0)
		fatal("fclose");
	if (lenp != NULL)
		*lenp = len;
	return (out);
}
