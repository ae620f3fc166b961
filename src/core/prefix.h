/* prefix.h: IPv4 and IPv6 addresses and prefixes as one type (IPv4 kept in the
 * first 4 bytes), parsed, printed and compared without surprises. */
#ifndef NETCRAVE_PREFIX_H
#define NETCRAVE_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#define PREFIX_STRLEN	64	/* "ffff:...:ffff/128" with room to spare */

struct prefix {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network byte order; IPv4 in addr[0..3] */
	unsigned int	len;		/* prefix length; 32 or 128 for a host */
};

/* Bits in an address of this family (32 or 128). */
unsigned int	prefix_bits(int family);
/*
 * Parse "198.18.0.0/15", "fd12::/48", or a bare address (a host prefix).
 * strict: host bits beyond len must be zero ("10.0.0.1/8" is refused).
 * Returns -1 with a reason in err.
 */
int		prefix_parse(const char *text, int strict, struct prefix *out,
		    char *err, size_t errlen);
/* "addr/len" into buf (PREFIX_STRLEN), or only the address with with_len 0. */
const char	*prefix_format(const struct prefix *, int with_len, char *buf,
		    size_t buflen);
/* Whether outer contains inner (same family, inner at least as long). */
int		prefix_contains(const struct prefix *outer, const struct prefix *inner);
/* Whether two prefixes share any address. */
int		prefix_overlaps(const struct prefix *, const struct prefix *);
int		prefix_equal(const struct prefix *, const struct prefix *);
/* Zero the host bits beyond len. */
void		prefix_mask(struct prefix *);
/* Bit i (0 = most significant) of the address. */
int		prefix_bit(const struct prefix *, unsigned int i);
/* Set bit i of the address to v. */
void		prefix_set_bit(struct prefix *, unsigned int i, int v);
/* Compare two addresses of one family as numbers (<0, 0, >0), not len. */
int		prefix_addr_cmp(const struct prefix *, const struct prefix *);
/*
 * Step to the next prefix of the same length (10.0.1.0/24 -> 10.0.2.0/24).
 * Returns -1 if p was the last one of the address space (p then wrapped to
 * the first); a /0 has no next.
 */
int		prefix_next(struct prefix *);

#endif
