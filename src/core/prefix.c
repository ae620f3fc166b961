/* prefix.c: IPv4 and IPv6 addresses and prefixes as one type (IPv4 kept in the
 * first 4 bytes), parsed, printed and compared without surprises. */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefix.h"

/* Bits in an address of this family (32 or 128). */
unsigned int
prefix_bits(int family)
{
	return (family == AF_INET ? 32 : 128);
}

/* Bit i (0 = most significant) of the address. */
int
prefix_bit(const struct prefix *p, unsigned int i)
{
	return ((p->addr[i / 8] >> (7 - i % 8)) & 1);
}

/* Set bit i of the address to v. */
void
prefix_set_bit(struct prefix *p, unsigned int i, int v)
{
	uint8_t	mask = 1 << (7 - i % 8);

	if (v)
		p->addr[i / 8] |= mask;
	else
		p->addr[i / 8] &= ~mask;
}

/* Zero the host bits beyond len. */
void
prefix_mask(struct prefix *p)
{
	unsigned int	i, bits = prefix_bits(p->family);

	for (i = p->len; i < bits; i++)
		prefix_set_bit(p, i, 0);
	if (p->family == AF_INET)
		memset(p->addr + 4, 0, 12);
}

/* Parse an address with optional "/len"; see prefix.h. */
int
prefix_parse(const char *text, int strict, struct prefix *out, char *err,
    size_t errlen)
{
	struct prefix	 masked;
	char		 addr[INET6_ADDRSTRLEN + 1], *end;
	const char	*slash;
	size_t		 alen;
	long		 len;

	memset(out, 0, sizeof *out);
	slash = strchr(text, '/');
	alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof addr) {
		snprintf(err, errlen, "\"%s\" is not an IP address or prefix", text);
		return (-1);
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, out->addr) == 1)
		out->family = AF_INET6;
	else {
		snprintf(err, errlen, "\"%s\" is not an IP address or prefix", text);
		return (-1);
	}
	out->len = prefix_bits(out->family);
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9') {
			snprintf(err, errlen, "\"%s\": bad prefix length", text);
			return (-1);
		}
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0' || len < 0 || len > (long)out->len ||
		    end - (slash + 1) > 3) {
			snprintf(err, errlen, "\"%s\": prefix length must be 0 to %u",
			    text, out->len);
			return (-1);
		}
		out->len = (unsigned int)len;
	}
	masked = *out;
	prefix_mask(&masked);
	if (strict && !prefix_equal(&masked, out)) {
		char	buf[PREFIX_STRLEN];

		snprintf(err, errlen, "\"%s\" has host bits set (did you mean %s?)",
		    text, prefix_format(&masked, 1, buf, sizeof buf));
		return (-1);
	}
	return (0);
}

/* "addr/len" into buf, or only the address. */
const char *
prefix_format(const struct prefix *p, int with_len, char *buf, size_t buflen)
{
	char	addr[INET6_ADDRSTRLEN];

	if (inet_ntop(p->family, p->addr, addr, sizeof addr) == NULL)
		strcpy(addr, "?");
	if (with_len)
		snprintf(buf, buflen, "%s/%u", addr, p->len);
	else
		snprintf(buf, buflen, "%s", addr);
	return (buf);
}

/* Whether the first n bits of two addresses agree. */
static int
prefix_same_bits(const struct prefix *a, const struct prefix *b, unsigned int n)
{
	unsigned int	full = n / 8, rest = n % 8;

	if (memcmp(a->addr, b->addr, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((a->addr[full] ^ b->addr[full]) >> (8 - rest)) == 0);
}

/* Whether outer contains inner. */
int
prefix_contains(const struct prefix *outer, const struct prefix *inner)
{
	if (outer->family != inner->family || inner->len < outer->len)
		return (0);
	return (prefix_same_bits(outer, inner, outer->len));
}

/* Whether two prefixes share any address. */
int
prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return (0);
	return (prefix_same_bits(a, b, a->len < b->len ? a->len : b->len));
}

/* Same family, address and length. */
int
prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return (a->family == b->family && a->len == b->len &&
	    memcmp(a->addr, b->addr, 16) == 0);
}

/* Compare two addresses as numbers: big-endian bytes compare like numbers. */
int
prefix_addr_cmp(const struct prefix *a, const struct prefix *b)
{
	return (memcmp(a->addr, b->addr, prefix_bits(a->family) / 8));
}

/* Add one at the prefix's last bit, carrying towards the first byte. */
int
prefix_next(struct prefix *p)
{
	unsigned int	sum, add, i;

	if (p->len == 0)
		return (-1);
	i = (p->len - 1) / 8;
	add = 1U << (7 - (p->len - 1) % 8);
	for (;;) {
		sum = p->addr[i] + add;
		p->addr[i] = sum & 0xff;
		if (sum <= 0xff)
			return (0);
		if (i == 0)
			return (-1);
		i--;
		add = 1;
	}
}
