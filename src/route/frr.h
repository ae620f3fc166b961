/* frr.h: the FRR (zebra + bgpd) configuration netcraved writes for clustering. */
#ifndef NETCRAVE_FRR_H
#define NETCRAVE_FRR_H

#include <stddef.h>

struct prefix;

/* The peer group every host of the cluster is in. */
#define FRR_PEER_GROUP	"netcrave"

/* What one host's BGP speaker is told; strings are vetted by frr_check. */
struct frr_params {
	const char		*hostname;	/* the instance name */
	unsigned int		 asn;		/* iBGP: the same on every host */
	const char		*router_id;	/* an IPv4 address */
	char *const		*peers;		/* NULL-terminated; may be empty */
	const char		*listen_range;	/* a prefix, or NULL */
	int			 route_reflector; /* peers are its clients */
	const char		*password;	/* TCP-MD5, or NULL: ttl-security */
	const char		*vrf;		/* NULL: the default VRF */
	const struct prefix	*prefixes;	/* announced: this host's subnets */
	size_t			 nprefixes;
	/*
	 * Address space of the networks: their subnets, connected routes of
	 * the bridges, are announced as they come and go (no reload).
	 */
	char *const		*announce;	/* NULL-terminated prefixes */
};

/* An IPv4 or IPv6 address (nothing else may name a neighbor). */
int		 frr_is_address(const char *);
/* NULL when every field is fit for the config file, else what is wrong. */
const char	*frr_check(const struct frr_params *, char *err, size_t errlen);
/* The whole frr.conf (integrated config) as a NUL-terminated string. */
char		*frr_render(const struct frr_params *, size_t *lenp);

#endif
