/* dns_rrl.c: response rate limiting for UDP answers: a token bucket per client
 * network (/24, /56) and kind of answer (the name and type asked for a
 * positive answer, one bucket for all NXDOMAIN, one per other RCODE), so a
 * reflection or random-name flood is cut down while other clients, and TCP,
 * are untouched.  Every Nth limited answer goes out truncated ("slip"), so a
 * real client behind a spoofed address still gets through over TCP. */
#include <sys/socket.h>

#include <netinet/in.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "prefix.h"
#include "util.h"
#include "xmalloc.h"

#define DNS_RRL_SLOTS	16384	/* buckets; a collision starts a new one */
#define DNS_RRL_V4_BITS	24
#define DNS_RRL_V6_BITS	56

struct dns_rrl_bucket {
	uint64_t	 key;
	int64_t		 tokens;
	int64_t		 sec;		/* of the last refill */
	uint32_t	 limited;	/* answers limited, for the slip count */
};

struct dns_rrl {
	unsigned int		 rate;
	unsigned int		 slip;
	struct prefix		*exempt;
	size_t			 nexempt;
	struct dns_rrl_bucket	*slots;
};

struct dns_rrl *
dns_rrl_new(unsigned int rate, unsigned int slip)
{
	struct dns_rrl	*r;

	r = xcalloc(1, sizeof *r);
	r->rate = rate;
	r->slip = slip;
	r->slots = xcalloc(DNS_RRL_SLOTS, sizeof *r->slots);
	return (r);
}

void
dns_rrl_free(struct dns_rrl *r)
{
	if (r == NULL)
		return;
	free(r->exempt);
	free(r->slots);
	free(r);
}

void
dns_rrl_exempt(struct dns_rrl *r, const struct prefix *p)
{
	r->exempt = xreallocarray(r->exempt, r->nexempt + 1, sizeof *r->exempt);
	r->exempt[r->nexempt++] = *p;
}

/* FNV-1a, 64 bits, continued from h. */
static uint64_t
dns_rrl_hash(uint64_t h, const uint8_t *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return (h);
}

enum dns_rrl_action
dns_rrl_check(struct dns_rrl *r, const struct sockaddr *sa, const uint8_t *ans,
    size_t len, int64_t now)
{
	struct dns_rrl_bucket	*b;
	struct prefix		 client;
	uint8_t			 net[8], name[256];
	size_t			 pos, i, nlen = 0;
	uint64_t		 key;
	int			 rcode;

	if (r == NULL || r->rate == 0 || len < 12)
		return (DNS_RRL_SEND);
	memset(&client, 0, sizeof client);
	memset(net, 0, sizeof net);
	if (sa->sa_family == AF_INET) {
		client.family = AF_INET;
		client.len = 32;
		memcpy(client.addr, &((const struct sockaddr_in *)sa)->sin_addr,
		    4);
		memcpy(net, client.addr, DNS_RRL_V4_BITS / 8);
		net[7] = 4;
	} else if (sa->sa_family == AF_INET6) {
		client.family = AF_INET6;
		client.len = 128;
		memcpy(client.addr,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		memcpy(net, client.addr, DNS_RRL_V6_BITS / 8);
		net[7] = 6;
	} else
		return (DNS_RRL_SEND);
	for (i = 0; i < r->nexempt; i++)
		if (prefix_contains(&r->exempt[i], &client))
			return (DNS_RRL_SEND);

	/* The kind of answer: its RCODE, and for NOERROR the question. */
	rcode = ans[3] & 0xf;
	key = dns_rrl_hash(14695981039346656037ULL, net, sizeof net);
	key = dns_rrl_hash(key, (const uint8_t *)&rcode, sizeof rcode);
	if (rcode == 0 && util_get_be16(ans + 4) == 1) {
		for (pos = 12; pos < len && ans[pos] != 0 && nlen + ans[pos] +
		    1 < sizeof name; pos += ans[pos] + 1) {
			name[nlen++] = ans[pos];
			for (i = 1; i <= ans[pos] && pos + i < len; i++)
				name[nlen++] = (uint8_t)tolower(ans[pos + i]);
		}
		key = dns_rrl_hash(key, name, nlen);
		if (pos + 3 <= len)
			key = dns_rrl_hash(key, ans + pos + 1, 2);
	}

	b = &r->slots[key & (DNS_RRL_SLOTS - 1)];
	if (b->key != key) {
		b->key = key;
		b->tokens = r->rate;
		b->sec = now;
		b->limited = 0;
	} else if (now > b->sec) {
		b->tokens += (now - b->sec) * (int64_t)r->rate;
		if (b->tokens > r->rate)
			b->tokens = r->rate;
		b->sec = now;
	}
	if (b->tokens > 0) {
		b->tokens--;
		return (DNS_RRL_SEND);
	}
	b->limited++;
	if (r->slip > 0 && b->limited % r->slip == 0)
		return (DNS_RRL_SLIP);
	return (DNS_RRL_DROP);
}
