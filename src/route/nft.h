/* nft.h: the network model shared by the NetworkDriver and the policy, and the
 * nftables ruleset made from it: a pure function (model -> nft text, unit-tested
 * with golden output) and its atomic application inside a namespace. */
#ifndef NETCRAVE_NFT_H
#define NETCRAVE_NFT_H

#include <sys/queue.h>

#include <stddef.h>

#include "prefix.h"

/* A Docker network: a bridge in the routing namespace holding its gateways. */
struct net_network {
	char			*id;		/* Docker's NetworkID */
	char			*tag;		/* the tag it was made for */
	char			 bridge[16];
	int			 has4, has6;
	struct prefix		 gw4, gw6;	/* gateway with the pool's length */
	struct prefix		 pool4, pool6;
	char			**egress;	/* tags it may reach (NULL-ended) */
	char			**ingress;	/* tags that may reach it */
	TAILQ_ENTRY(net_network) entry;
	char			 vrf_link[16];	/* netns VRF: its link in the
						   routing namespace, or "" */
	char			*host;		/* cluster: the host that made
						   it (underlay address); NULL
						   without clustering */
	char			*name;		/* netcrave.network: one network
						   across the cluster, routed
						   per address; NULL: none */
};

/* An endpoint: a veth pair, container end ifname, bridge end peer. */
struct net_endpoint {
	char			*id;
	char			*network;	/* NetworkID */
	char			 mac[18];
	int			 has4, has6;
	struct prefix		 addr4, addr6;
	char			 ifname[16];
	char			 peer[16];
	int			 joined;	/* its veth pair should exist */
	long long		 born;		/* monotonic seconds: created,
						   or loaded at start */
	TAILQ_ENTRY(net_endpoint) entry;
};

struct nft_model {
	const char		 *table;
	struct net_network	**networks;
	size_t			  nnetworks;
	const char		 *uplink;	/* routing end of the uplink, or NULL */
	const char		 *uplink_tag;	/* egress to it: "internet" */
	const char		 *host_tag;	/* ingress from the host: "host" */
	/* WAF egress: networks whose egress names proxy_tag reach squid's
	 * forward proxy on the host at proxy_addr:proxy_port through the
	 * uplink, as port proxy_port of their gateway (IPv4). */
	/* Networks of other hosts of a cluster (pools, tags; no links here):
	 * reached over the underlay, under the same tag policy. */
	struct net_network	**remote;
	size_t			  nremote;
	int			  dns_port;	/* DNS at the gateways
						   (dns.gateway_port), 0: none */
	const char		 *proxy_tag;	/* NULL: none */
	const char		 *proxy_addr;	/* the host end of the uplink */
	const char		 *proxy_addr6;	/* ... its IPv6 address; NULL:
						   IPv4 only */
	int			  proxy_port;
	int			  by_link;	/* networks are behind their
						   vrf_link (netns VRFs): match
						   it and their pools */
	const char		 *transit;	/* in a VRF's namespace: its link
						   to the routing namespace,
						   where the policy was decided */
	int			  by_pool;	/* networks are told apart by
						   their pools alone (l3mdev
						   VRFs: packets arrive "from"
						   the vrf device) */
};

/* Whether traffic from a may start flows to b (same network: always). */
int	 nft_allowed(const struct net_network *a, const struct net_network *b);
/* The whole ruleset as nft text, replacing the table atomically. */
char	*nft_ruleset(const struct nft_model *);
/* Run nft text inside the namespace of nsfd in one transaction. */
int	 nft_apply(int nsfd, const char *text, char *err, size_t errlen);

#endif
