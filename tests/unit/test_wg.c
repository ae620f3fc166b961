/* test_wg.c: the WireGuard generic netlink messages, read back attribute by
 * attribute with nla_parse as the kernel reads them, and wg_parse_device on
 * what the builder wrote and on damaged copies of it. */

#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <linux/wireguard.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "cluster.h"
#include "link.h"
#include "netns.h"
#include "prefix.h"
#include "wg.h"

#define FAMILY	0x1d	/* any id: the kernel gives it at run time */

static void
parse(const char *text, struct prefix *p)
{
	char	err[128];

	assert_int_equal(prefix_parse(text, 0, p, err, sizeof err), 0);
}

/* A device of two peers: one on IPv4 with two prefixes, one on IPv6. */
static void
sample(struct wg_device *d, struct prefix *ips0, struct prefix *ips1)
{
	int	i;

	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "wg-test");
	d->has_private_key = 1;
	for (i = 0; i < WG_KEY_BYTES; i++)
		d->private_key[i] = (uint8_t)(0x40 + i);
	d->listen_port = 51820;
	d->replace_peers = 1;
	d->peers = calloc(2, sizeof *d->peers);
	assert_non_null(d->peers);
	d->npeers = 2;
	memset(d->peers[0].public_key, 0xa1, WG_KEY_BYTES);
	parse("198.18.0.2", &d->peers[0].endpoint);
	d->peers[0].endpoint_port = 51821;
	d->peers[0].keepalive = 25;
	parse("198.18.16.0/24", &ips0[0]);
	parse("fd5e:1f2a:9c00:1::/64", &ips0[1]);
	d->peers[0].allowed = ips0;
	d->peers[0].nallowed = 2;
	memset(d->peers[1].public_key, 0xb2, WG_KEY_BYTES);
	parse("fd5e:1f2a:9c00::3", &d->peers[1].endpoint);
	d->peers[1].endpoint_port = 443;
	parse("198.18.32.0/20", &ips1[0]);
	d->peers[1].allowed = ips1;
	d->peers[1].nallowed = 1;
}

static void
check_allowed(struct nlattr *a, const struct prefix *want)
{
	struct nlattr	*tb[WGALLOWEDIP_A_MAX + 1];
	size_t		 alen = want->family == AF_INET ? 4 : 16;

	assert_int_equal(nla_parse_nested(tb, WGALLOWEDIP_A_MAX, a, NULL), 0);
	assert_non_null(tb[WGALLOWEDIP_A_FAMILY]);
	assert_int_equal(nla_get_u16(tb[WGALLOWEDIP_A_FAMILY]), want->family);
	assert_non_null(tb[WGALLOWEDIP_A_IPADDR]);
	assert_int_equal(nla_len(tb[WGALLOWEDIP_A_IPADDR]), alen);
	assert_memory_equal(nla_data(tb[WGALLOWEDIP_A_IPADDR]), want->addr,
	    alen);
	assert_non_null(tb[WGALLOWEDIP_A_CIDR_MASK]);
	assert_int_equal(nla_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]), want->len);
}

static void
check_peer(struct nlattr *a, const struct wg_peer *want)
{
	struct nlattr		*tb[WGPEER_A_MAX + 1], *ip;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	size_t			 n = 0;
	int			 rem;

	assert_int_equal(nla_parse_nested(tb, WGPEER_A_MAX, a, NULL), 0);
	assert_non_null(tb[WGPEER_A_PUBLIC_KEY]);
	assert_int_equal(nla_len(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_LEN);
	assert_memory_equal(nla_data(tb[WGPEER_A_PUBLIC_KEY]),
	    want->public_key, WG_KEY_LEN);
	/* Each SET names the whole set of allowed IPs. */
	assert_non_null(tb[WGPEER_A_FLAGS]);
	assert_int_equal(nla_get_u32(tb[WGPEER_A_FLAGS]),
	    WGPEER_F_REPLACE_ALLOWEDIPS);
	assert_null(tb[WGPEER_A_PRESHARED_KEY]);
	assert_non_null(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
	assert_int_equal(nla_get_u16(
	    tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]), want->keepalive);
	assert_non_null(tb[WGPEER_A_ENDPOINT]);
	if (want->endpoint.family == AF_INET) {
		assert_int_equal(nla_len(tb[WGPEER_A_ENDPOINT]), sizeof sin);
		memcpy(&sin, nla_data(tb[WGPEER_A_ENDPOINT]), sizeof sin);
		assert_int_equal(sin.sin_family, AF_INET);
		assert_int_equal(ntohs(sin.sin_port), want->endpoint_port);
		assert_memory_equal(&sin.sin_addr, want->endpoint.addr, 4);
	} else {
		assert_int_equal(nla_len(tb[WGPEER_A_ENDPOINT]), sizeof sin6);
		memcpy(&sin6, nla_data(tb[WGPEER_A_ENDPOINT]), sizeof sin6);
		assert_int_equal(sin6.sin6_family, AF_INET6);
		assert_int_equal(ntohs(sin6.sin6_port), want->endpoint_port);
		assert_memory_equal(&sin6.sin6_addr, want->endpoint.addr, 16);
	}
	assert_non_null(tb[WGPEER_A_ALLOWEDIPS]);
	nla_for_each_nested(ip, tb[WGPEER_A_ALLOWEDIPS], rem) {
		assert_true(n < want->nallowed);
		check_allowed(ip, &want->allowed[n]);
		n++;
	}
	assert_int_equal(n, want->nallowed);
}

/* The headers of msg, then its device attributes into tb. */
static void
check_header(struct nl_msg *msg, int cmd, int flags,
    struct nlattr *tb[WGDEVICE_A_MAX + 1])
{
	struct nlmsghdr		*nh = nlmsg_hdr(msg);
	struct genlmsghdr	*gh;

	assert_int_equal(nh->nlmsg_type, FAMILY);
	assert_int_equal(nh->nlmsg_flags, flags);
	gh = nlmsg_data(nh);
	assert_int_equal(gh->cmd, cmd);
	assert_int_equal(gh->version, WG_GENL_VERSION);
	assert_int_equal(nla_parse(tb, WGDEVICE_A_MAX, genlmsg_attrdata(gh, 0),
	    genlmsg_attrlen(gh, 0), NULL), 0);
}

static void
test_set_device(void **state)
{
	struct wg_device	 d;
	struct prefix		 ips0[2], ips1[1];
	struct nl_msg		*msg;
	struct nlattr		*tb[WGDEVICE_A_MAX + 1], *a;
	size_t			 n = 0;
	int			 rem;

	sample(&d, ips0, ips1);
	assert_non_null(msg = nlmsg_alloc());
	assert_int_equal(wg_msg_set_device(msg, FAMILY, &d), 0);
	check_header(msg, WG_CMD_SET_DEVICE, NLM_F_REQUEST | NLM_F_ACK, tb);
	assert_null(tb[WGDEVICE_A_IFINDEX]);
	assert_non_null(tb[WGDEVICE_A_IFNAME]);
	assert_string_equal(nla_get_string(tb[WGDEVICE_A_IFNAME]), "wg-test");
	assert_non_null(tb[WGDEVICE_A_PRIVATE_KEY]);
	assert_int_equal(nla_len(tb[WGDEVICE_A_PRIVATE_KEY]), WG_KEY_LEN);
	assert_memory_equal(nla_data(tb[WGDEVICE_A_PRIVATE_KEY]),
	    d.private_key, WG_KEY_LEN);
	/* The kernel derives the public key; we never send one. */
	assert_null(tb[WGDEVICE_A_PUBLIC_KEY]);
	assert_non_null(tb[WGDEVICE_A_LISTEN_PORT]);
	assert_int_equal(nla_get_u16(tb[WGDEVICE_A_LISTEN_PORT]), 51820);
	assert_non_null(tb[WGDEVICE_A_FLAGS]);
	assert_int_equal(nla_get_u32(tb[WGDEVICE_A_FLAGS]),
	    WGDEVICE_F_REPLACE_PEERS);
	assert_null(tb[WGDEVICE_A_FWMARK]);
	assert_non_null(tb[WGDEVICE_A_PEERS]);
	nla_for_each_nested(a, tb[WGDEVICE_A_PEERS], rem) {
		assert_true(n < d.npeers);
		check_peer(a, &d.peers[n]);
		n++;
	}
	assert_int_equal(n, 2);
	nlmsg_free(msg);
	free(d.peers);
}

/* No private key, no REPLACE_PEERS, a peer with no endpoint: all left out. */
static void
test_set_device_minimal(void **state)
{
	struct wg_device	 d;
	struct wg_peer		 peer;
	struct nl_msg		*msg;
	struct genlmsghdr	*gh;
	struct nlattr		*tb[WGDEVICE_A_MAX + 1], *ptb[WGPEER_A_MAX + 1];
	struct nlattr		*a;
	int			 rem, n = 0;

	memset(&d, 0, sizeof d);
	memset(&peer, 0, sizeof peer);
	snprintf(d.name, sizeof d.name, "wg-min");
	memset(peer.public_key, 0x07, WG_KEY_BYTES);
	d.peers = &peer;
	d.npeers = 1;
	assert_non_null(msg = nlmsg_alloc());
	assert_int_equal(wg_msg_set_device(msg, FAMILY, &d), 0);
	gh = nlmsg_data(nlmsg_hdr(msg));
	assert_int_equal(nla_parse(tb, WGDEVICE_A_MAX, genlmsg_attrdata(gh, 0),
	    genlmsg_attrlen(gh, 0), NULL), 0);
	assert_null(tb[WGDEVICE_A_PRIVATE_KEY]);
	assert_null(tb[WGDEVICE_A_FLAGS]);
	assert_int_equal(nla_get_u16(tb[WGDEVICE_A_LISTEN_PORT]), 0);
	nla_for_each_nested(a, tb[WGDEVICE_A_PEERS], rem) {
		assert_int_equal(nla_parse_nested(ptb, WGPEER_A_MAX, a, NULL),
		    0);
		assert_null(ptb[WGPEER_A_ENDPOINT]);
		/*
		 * libnl drops an empty nest; with REPLACE_ALLOWEDIPS the
		 * kernel then clears the peer's list, as an empty one would.
		 */
		assert_null(ptb[WGPEER_A_ALLOWEDIPS]);
		assert_int_equal(nla_get_u32(ptb[WGPEER_A_FLAGS]),
		    WGPEER_F_REPLACE_ALLOWEDIPS);
		n++;
	}
	assert_int_equal(n, 1);
	nlmsg_free(msg);
}

/* An allowed IP of no known family is refused, not sent as garbage. */
static void
test_set_device_bad_family(void **state)
{
	struct wg_device	 d;
	struct wg_peer		 peer;
	struct prefix		 ip;
	struct nl_msg		*msg;

	memset(&d, 0, sizeof d);
	memset(&peer, 0, sizeof peer);
	memset(&ip, 0, sizeof ip);
	snprintf(d.name, sizeof d.name, "wg-bad");
	peer.allowed = &ip;
	peer.nallowed = 1;
	d.peers = &peer;
	d.npeers = 1;
	assert_non_null(msg = nlmsg_alloc());
	assert_int_equal(wg_msg_set_device(msg, FAMILY, &d), -1);
	nlmsg_free(msg);
}

static void
test_get_device(void **state)
{
	struct nl_msg		*msg;
	struct nlattr		*tb[WGDEVICE_A_MAX + 1];
	int			 i;

	assert_non_null(msg = nlmsg_alloc());
	assert_int_equal(wg_msg_get_device(msg, FAMILY, "wg-test"), 0);
	check_header(msg, WG_CMD_GET_DEVICE, NLM_F_REQUEST | NLM_F_DUMP, tb);
	assert_string_equal(nla_get_string(tb[WGDEVICE_A_IFNAME]), "wg-test");
	for (i = 0; i <= WGDEVICE_A_MAX; i++)
		if (i != WGDEVICE_A_IFNAME)
			assert_null(tb[i]);
	nlmsg_free(msg);
}

/* The reader takes back everything the builder wrote. */
static void
test_parse_round_trip(void **state)
{
	struct wg_device	 d, got;
	struct prefix		 ips0[2], ips1[1];
	struct nl_msg		*msg;
	struct nlmsghdr		*nh;
	char			 err[128];
	size_t			 i, j;

	sample(&d, ips0, ips1);
	assert_non_null(msg = nlmsg_alloc());
	assert_int_equal(wg_msg_set_device(msg, FAMILY, &d), 0);
	nh = nlmsg_hdr(msg);
	memset(&got, 0, sizeof got);
	assert_int_equal(wg_parse_device(nh, nh->nlmsg_len, &got, err,
	    sizeof err), 0);
	assert_string_equal(got.name, "wg-test");
	assert_true(got.has_private_key);
	assert_memory_equal(got.private_key, d.private_key, WG_KEY_BYTES);
	assert_false(got.has_public_key);
	assert_int_equal(got.listen_port, 51820);
	assert_true(got.replace_peers);
	assert_int_equal(got.npeers, 2);
	for (i = 0; i < 2; i++) {
		assert_memory_equal(got.peers[i].public_key,
		    d.peers[i].public_key, WG_KEY_BYTES);
		assert_true(prefix_equal(&got.peers[i].endpoint,
		    &d.peers[i].endpoint));
		assert_int_equal(got.peers[i].endpoint_port,
		    d.peers[i].endpoint_port);
		assert_int_equal(got.peers[i].keepalive, d.peers[i].keepalive);
		assert_int_equal(got.peers[i].nallowed, d.peers[i].nallowed);
		for (j = 0; j < got.peers[i].nallowed; j++)
			assert_true(prefix_equal(&got.peers[i].allowed[j],
			    &d.peers[i].allowed[j]));
	}
	/* A second message (the kernel splits long lists) adds its peers. */
	assert_int_equal(wg_parse_device(nh, nh->nlmsg_len, &got, err,
	    sizeof err), 0);
	assert_int_equal(got.npeers, 4);
	wg_device_clear(&got);
	assert_int_equal(got.npeers, 0);
	nlmsg_free(msg);
	free(d.peers);
}

/*
 * Every prefix of the message, and the message with each byte flipped:
 * refused or read, never a read out of bounds (ASan watches), and a refused
 * one leaks nothing.
 */
static void
test_parse_damaged(void **state)
{
	struct wg_device	 d, got;
	struct prefix		 ips0[2], ips1[1];
	struct nl_msg		*msg;
	struct nlmsghdr		*nh;
	uint8_t			*copy;
	char			 err[128];
	size_t			 len, i;
	int			 refused = 0;

	sample(&d, ips0, ips1);
	assert_non_null(msg = nlmsg_alloc());
	assert_int_equal(wg_msg_set_device(msg, FAMILY, &d), 0);
	nh = nlmsg_hdr(msg);
	len = nh->nlmsg_len;
	for (i = 0; i < len; i++) {
		/* The exact size, so ASan sees a read past the end. */
		assert_non_null(copy = malloc(i == 0 ? 1 : i));
		memcpy(copy, nh, i);
		memset(&got, 0, sizeof got);
		if (wg_parse_device(copy, i, &got, err, sizeof err) == -1)
			refused++;
		wg_device_clear(&got);
		free(copy);
	}
	assert_true(refused > 0);
	assert_non_null(copy = malloc(len));
	for (i = 0; i < len; i++) {
		memcpy(copy, nh, len);
		copy[i] ^= 0xff;
		memset(&got, 0, sizeof got);
		(void)wg_parse_device(copy, len, &got, err, sizeof err);
		wg_device_clear(&got);
	}
	free(copy);
	nlmsg_free(msg);
	free(d.peers);
}

/* RFC 7748 section 6.1: Alice's key pair. */
static void
test_public_key(void **state)
{
	static const uint8_t	priv[WG_KEY_BYTES] = {
		0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16,
		0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87,
		0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9,
		0x2c, 0x2a
	};
	static const uint8_t	want[WG_KEY_BYTES] = {
		0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b,
		0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d,
		0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b,
		0x4e, 0x6a
	};
	uint8_t			pub[WG_KEY_BYTES];

	assert_int_equal(wg_public_key(priv, pub), 0);
	assert_memory_equal(pub, want, WG_KEY_BYTES);
}

/* Keys as wg(8) prints them, both ways; anything else refused. */
static void
test_base64(void **state)
{
	uint8_t	key[WG_KEY_BYTES], back[WG_KEY_BYTES];
	char	text[WG_KEY_B64_LEN + 1];
	int	i;

	for (i = 0; i < WG_KEY_BYTES; i++)
		key[i] = (uint8_t)(i * 37 + 5);
	wg_key_to_base64(key, text);
	assert_int_equal(strlen(text), WG_KEY_B64_LEN);
	assert_int_equal(text[WG_KEY_B64_LEN - 1], '=');
	assert_int_equal(wg_key_from_base64(text, back), 0);
	assert_memory_equal(key, back, WG_KEY_BYTES);
	/* An all-zero key, as wg(8) shows it. */
	assert_int_equal(wg_key_from_base64(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", back), 0);
	memset(key, 0, sizeof key);
	assert_memory_equal(key, back, WG_KEY_BYTES);
	assert_int_equal(wg_key_from_base64("", back), -1);
	/* The same bytes with the last character's spare bits set. */
	assert_int_equal(wg_key_from_base64(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", back), -1);
	assert_int_equal(wg_key_from_base64(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", back), -1);
	assert_int_equal(wg_key_from_base64(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", back), -1);
	assert_int_equal(wg_key_from_base64(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AA=", back), -1);
	assert_int_equal(wg_key_from_base64(
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", back), -1);
}

/* Another host's record, as cluster_register writes it, and what is refused. */
static void
test_host_record(void **state)
{
	struct cluster_wg_peer	 p;
	struct prefix		 want;
	uint8_t			 key[WG_KEY_BYTES];
	char			 b64[WG_KEY_B64_LEN + 1], rec[512];
	/* Each: a key prefix, the address and the port, as JSON text. */
	const char		*bad[][3] = {
		{ "", "\"198.18.61.2/32\"", "51820" },
		{ "", "\"198.18.61.2\"", "0" },
		{ "", "\"198.18.61.2\"", "65536" },
		{ "", "\"198.18.61.2\"", "1.5" },
		{ "", "\"host\"", "1" },
		{ "", "null", "1" },
		{ "x", "\"198.18.61.2\"", "1" },
	};
	size_t			 i;
	int			 n;

	memset(key, 0x3c, sizeof key);
	wg_key_to_base64(key, b64);
	n = snprintf(rec, sizeof rec, "{\"instance\":\"h2\",\"asn\":64700,"
	    "\"wireguard\":{\"public_key\":\"%s\",\"address\":"
	    "\"fd5e:1f2a:9c00::2\",\"port\":51821}}", b64);
	assert_int_equal(cluster_wg_parse_host(rec, (size_t)n, &p), 0);
	assert_memory_equal(p.key, key, WG_KEY_BYTES);
	parse("fd5e:1f2a:9c00::2", &want);
	assert_true(prefix_equal(&p.endpoint, &want));
	assert_int_equal(p.port, 51821);
	/* An older netcraved's record: no WireGuard, not an error. */
	n = snprintf(rec, sizeof rec, "{\"instance\":\"h2\",\"asn\":64700}");
	assert_int_equal(cluster_wg_parse_host(rec, (size_t)n, &p), -1);
	assert_int_equal(cluster_wg_parse_host("{", 1, &p), -2);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		n = snprintf(rec, sizeof rec, "{\"instance\":\"a\",\"asn\":1,"
		    "\"wireguard\":{\"public_key\":\"%s%s\",\"address\":%s,"
		    "\"port\":%s}}", bad[i][0], b64, bad[i][1], bad[i][2]);
		assert_int_equal(cluster_wg_parse_host(rec, (size_t)n, &p), -2);
		assert_int_equal(p.port, 0);
	}
	/* "wireguard" not an object. */
	n = snprintf(rec, sizeof rec, "{\"wireguard\":\"%s\"}", b64);
	assert_int_equal(cluster_wg_parse_host(rec, (size_t)n, &p), -2);
}

/* A network record as plugin_network.c stores it: its host and pools. */
static void
test_network_record(void **state)
{
	const char	*rec = "{\"id\":\"n1\",\"tag\":\"default\","
	    "\"bridge\":\"b1\",\"gateway\":\"198.18.62.17/28\","
	    "\"gateway6\":\"fd5e:1f2a:9c00:2::1/64\",\"egress\":[],"
	    "\"ingress\":[],\"host\":\"198.18.61.2\"}";
	struct prefix	 pfx[2], want;
	char		*host;

	assert_int_equal(cluster_wg_parse_network(rec, strlen(rec), &host,
	    pfx), 2);
	assert_string_equal(host, "198.18.61.2");
	free(host);
	parse("198.18.62.16/28", &want);
	assert_true(prefix_equal(&pfx[0], &want));
	parse("fd5e:1f2a:9c00:2::/64", &want);
	assert_true(prefix_equal(&pfx[1], &want));
	/* No host (not clustered), no gateway, or a gateway of the wrong
	 * family: nothing to carry. */
	rec = "{\"id\":\"n1\",\"gateway\":\"198.18.62.17/28\"}";
	assert_int_equal(cluster_wg_parse_network(rec, strlen(rec), &host,
	    pfx), 0);
	assert_null(host);
	rec = "{\"id\":\"n1\",\"gateway\":null,\"host\":\"198.18.61.2\"}";
	assert_int_equal(cluster_wg_parse_network(rec, strlen(rec), &host,
	    pfx), 0);
	assert_null(host);
	rec = "{\"gateway\":\"fd00::1/64\",\"host\":\"198.18.61.2\"}";
	assert_int_equal(cluster_wg_parse_network(rec, strlen(rec), &host,
	    pfx), 0);
	assert_null(host);
}

/* Whether `ip -n ns ARGS` prints a line holding want. */
static int
ip_shows(const char *ns, const char *args, const char *want)
{
	char	cmd[512], line[512];
	FILE	*f;
	int	found = 0;

	snprintf(cmd, sizeof cmd, "ip -n %s %s 2>/dev/null", ns, args);
	if ((f = popen(cmd, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, want) != NULL)
			found = 1;
	pclose(f);
	return (found);
}

/*
 * In a namespace of our own, as ip(8) sees it: the rule to the WireGuard
 * routes' table and a route in it come and go; deleting them twice is fine;
 * a route of the same prefix in main is not what link_route_del_dev deletes.
 * Then the device itself, when the kernel has WireGuard: made, configured,
 * read back.  Needs root.
 */
static void
test_kernel(void **state)
{
	struct nl_sock		*rsk, *gsk;
	struct wg_device	 d, got;
	struct wg_peer		 peer;
	struct prefix		 dst, ip;
	char			 ns[64], err[256];
	int			 fd, family, idx, i;

	if (geteuid() != 0)
		skip();
	snprintf(ns, sizeof ns, "nc-unit-wg-%d", (int)getpid());
	assert_int_equal(netns_init(err, sizeof err), 0);
	assert_true((fd = netns_open(ns, 1, err, sizeof err)) >= 0);
	assert_non_null(rsk = link_sock_open(fd, err, sizeof err));
	assert_int_equal(link_set_up(rsk, "lo"), 0);
	parse("198.18.70.0/24", &dst);

	assert_int_equal(link_rule_table(rsk, AF_INET, 999000, 32000, 1, err,
	    sizeof err), 0);
	assert_int_equal(link_rule_table(rsk, AF_INET, 999000, 32000, 1, err,
	    sizeof err), 0);
	assert_int_equal(ip_shows(ns, "-4 rule show",
	    "32000:\tfrom all lookup 999000"), 1);
	assert_int_equal(link_route_add_dev(rsk, &dst, 1, 999000, err,
	    sizeof err), 0);
	assert_int_equal(link_route_add_dev(rsk, &dst, 1, 0, err,
	    sizeof err), 0);
	assert_int_equal(ip_shows(ns, "route show table 999000",
	    "198.18.70.0/24 dev lo"), 1);
	assert_int_equal(link_route_del_dev(rsk, &dst, 1, 999000), 0);
	assert_int_equal(ip_shows(ns, "route show table 999000",
	    "198.18.70.0/24"), 0);
	assert_int_equal(ip_shows(ns, "route show table main",
	    "198.18.70.0/24 dev lo"), 1);
	assert_int_equal(link_route_del_dev(rsk, &dst, 1, 999000), 0);
	assert_int_equal(link_rule_table(rsk, AF_INET, 999000, 32000, 0, err,
	    sizeof err), 0);
	assert_int_equal(ip_shows(ns, "-4 rule show", "999000"), 0);
	assert_int_equal(link_rule_table(rsk, AF_INET, 999000, 32000, 0, err,
	    sizeof err), 0);

	if ((gsk = wg_sock_open(fd, &family, err, sizeof err)) == NULL) {
		assert_non_null(strstr(err, "no WireGuard"));
		print_message("skip: kernel lacks WireGuard (%s): the device "
		    "is not made here\n", err);
		goto out;
	}
	assert_true((idx = link_wireguard_ensure(rsk, "wg-unit", "unit", err,
	    sizeof err)) > 0);
	memset(&d, 0, sizeof d);
	memset(&peer, 0, sizeof peer);
	snprintf(d.name, sizeof d.name, "wg-unit");
	d.has_private_key = 1;
	for (i = 0; i < WG_KEY_BYTES; i++)
		d.private_key[i] = (uint8_t)(i + 1);
	d.listen_port = 51999;
	d.replace_peers = 1;
	memset(peer.public_key, 0x5a, WG_KEY_BYTES);
	parse("198.18.70.2", &peer.endpoint);
	peer.endpoint_port = 51998;
	parse("198.18.71.0/24", &ip);
	peer.allowed = &ip;
	peer.nallowed = 1;
	d.peers = &peer;
	d.npeers = 1;
	assert_int_equal(wg_set_device(gsk, family, &d, err, sizeof err), 0);
	memset(&got, 0, sizeof got);
	assert_int_equal(wg_get_device(gsk, family, "wg-unit", &got, err,
	    sizeof err), 0);
	assert_true(got.has_public_key);
	assert_int_equal(wg_public_key(d.private_key, d.public_key), 0);
	assert_memory_equal(got.public_key, d.public_key, WG_KEY_BYTES);
	assert_int_equal(got.listen_port, 51999);
	assert_int_equal(got.npeers, 1);
	assert_memory_equal(got.peers[0].public_key, peer.public_key,
	    WG_KEY_BYTES);
	assert_int_equal(got.peers[0].endpoint_port, 51998);
	assert_int_equal(got.peers[0].nallowed, 1);
	assert_true(prefix_equal(&got.peers[0].allowed[0], &ip));
	wg_device_clear(&got);
	assert_int_equal(link_delete(rsk, "wg-unit"), 0);
	wg_sock_close(gsk);
out:
	link_sock_close(rsk);
	close(fd);
	assert_int_equal(netns_delete(ns), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_device),
		cmocka_unit_test(test_set_device_minimal),
		cmocka_unit_test(test_set_device_bad_family),
		cmocka_unit_test(test_get_device),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_damaged),
		cmocka_unit_test(test_public_key),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_host_record),
		cmocka_unit_test(test_network_record),
		cmocka_unit_test(test_kernel),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
