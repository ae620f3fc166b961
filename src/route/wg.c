/* wg.c: WireGuard devices through generic netlink (libnl-genl).  The messages
 * are built and read by pure functions (tests and the fuzzer use them alone);
 * the exchange with the kernel is synchronous on the loop, like link.c's:
 * the wireguard family answers in microseconds. */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <linux/wireguard.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "netns.h"
#include "util.h"
#include "wg.h"
#include "xmalloc.h"

/* SET_DEVICE with a peer per host and a prefix or two each fits easily. */
#define WG_MSG_BYTES	(64 * 1024)

static int
wg_put_allowed(struct nl_msg *msg, int index, const struct prefix *p)
{
	struct nlattr	*nest;
	size_t		 alen = p->family == AF_INET ? 4 : 16;

	if ((nest = nla_nest_start(msg, index)) == NULL)
		return (-1);
	if (nla_put_u16(msg, WGALLOWEDIP_A_FAMILY, (uint16_t)p->family) < 0 ||
	    nla_put(msg, WGALLOWEDIP_A_IPADDR, (int)alen, p->addr) < 0 ||
	    nla_put_u8(msg, WGALLOWEDIP_A_CIDR_MASK, (uint8_t)p->len) < 0)
		return (-1);
	nla_nest_end(msg, nest);
	return (0);
}

/* The endpoint as the kernel takes it: a struct sockaddr_in or _in6. */
static int
wg_put_endpoint(struct nl_msg *msg, const struct wg_peer *p)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	if (p->endpoint.family == AF_INET) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons(p->endpoint_port);
		memcpy(&sin.sin_addr, p->endpoint.addr, 4);
		return (nla_put(msg, WGPEER_A_ENDPOINT, sizeof sin, &sin));
	}
	if (p->endpoint.family == AF_INET6) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(p->endpoint_port);
		memcpy(&sin6.sin6_addr, p->endpoint.addr, 16);
		return (nla_put(msg, WGPEER_A_ENDPOINT, sizeof sin6, &sin6));
	}
	return (0);	/* none: the peer's first packet tells the kernel */
}

static int
wg_put_peer(struct nl_msg *msg, int index, const struct wg_peer *p)
{
	struct nlattr	*nest, *ips;
	size_t		 i;

	if ((nest = nla_nest_start(msg, index)) == NULL)
		return (-1);
	if (nla_put(msg, WGPEER_A_PUBLIC_KEY, WG_KEY_BYTES, p->public_key) < 0 ||
	    nla_put_u32(msg, WGPEER_A_FLAGS, WGPEER_F_REPLACE_ALLOWEDIPS) < 0 ||
	    wg_put_endpoint(msg, p) < 0 ||
	    nla_put_u16(msg, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
	    p->keepalive) < 0)
		return (-1);
	if ((ips = nla_nest_start(msg, WGPEER_A_ALLOWEDIPS)) == NULL)
		return (-1);
	for (i = 0; i < p->nallowed; i++) {
		if (p->allowed[i].family != AF_INET &&
		    p->allowed[i].family != AF_INET6)
			return (-1);
		if (wg_put_allowed(msg, (int)i, &p->allowed[i]) == -1)
			return (-1);
	}
	nla_nest_end(msg, ips);
	nla_nest_end(msg, nest);
	return (0);
}

int
wg_msg_set_device(struct nl_msg *msg, int family, const struct wg_device *d)
{
	struct nlattr	*peers;
	size_t		 i;

	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
	    NLM_F_REQUEST | NLM_F_ACK, WG_CMD_SET_DEVICE,
	    WG_GENL_VERSION) == NULL)
		return (-1);
	if (nla_put_string(msg, WGDEVICE_A_IFNAME, d->name) < 0)
		return (-1);
	if (d->has_private_key && nla_put(msg, WGDEVICE_A_PRIVATE_KEY,
	    WG_KEY_BYTES, d->private_key) < 0)
		return (-1);
	if (nla_put_u16(msg, WGDEVICE_A_LISTEN_PORT, d->listen_port) < 0)
		return (-1);
	if (d->replace_peers && nla_put_u32(msg, WGDEVICE_A_FLAGS,
	    WGDEVICE_F_REPLACE_PEERS) < 0)
		return (-1);
	if ((peers = nla_nest_start(msg, WGDEVICE_A_PEERS)) == NULL)
		return (-1);
	for (i = 0; i < d->npeers; i++)
		if (wg_put_peer(msg, (int)i, &d->peers[i]) == -1)
			return (-1);
	nla_nest_end(msg, peers);
	return (0);
}

int
wg_msg_get_device(struct nl_msg *msg, int family, const char *name)
{
	/* The kernel serves GET_DEVICE as a dump only. */
	if (genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
	    NLM_F_REQUEST | NLM_F_DUMP, WG_CMD_GET_DEVICE,
	    WG_GENL_VERSION) == NULL)
		return (-1);
	if (nla_put_string(msg, WGDEVICE_A_IFNAME, name) < 0)
		return (-1);
	return (0);
}

/* A nested attribute's members, each checked to lie inside it. */
static int
wg_parse_nested(struct nlattr **tb, int max, const struct nlattr *nest)
{
	if (nest == NULL)
		return (-1);
	return (nla_parse(tb, max, nla_data(nest), nla_len(nest), NULL) < 0 ?
	    -1 : 0);
}

static int
wg_parse_allowed(const struct nlattr *a, struct prefix *p, char *err,
    size_t errlen)
{
	struct nlattr	*tb[WGALLOWEDIP_A_MAX + 1];
	int		 family;
	size_t		 alen;

	if (wg_parse_nested(tb, WGALLOWEDIP_A_MAX, a) == -1 ||
	    tb[WGALLOWEDIP_A_FAMILY] == NULL ||
	    tb[WGALLOWEDIP_A_IPADDR] == NULL ||
	    tb[WGALLOWEDIP_A_CIDR_MASK] == NULL ||
	    nla_len(tb[WGALLOWEDIP_A_FAMILY]) < 2 ||
	    nla_len(tb[WGALLOWEDIP_A_CIDR_MASK]) < 1) {
		snprintf(err, errlen, "allowed IP: attributes missing");
		return (-1);
	}
	family = nla_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
	if (family != AF_INET && family != AF_INET6) {
		snprintf(err, errlen, "allowed IP: family %d", family);
		return (-1);
	}
	alen = family == AF_INET ? 4 : 16;
	if ((size_t)nla_len(tb[WGALLOWEDIP_A_IPADDR]) != alen) {
		snprintf(err, errlen, "allowed IP: address of %d bytes",
		    nla_len(tb[WGALLOWEDIP_A_IPADDR]));
		return (-1);
	}
	memset(p, 0, sizeof *p);
	p->family = family;
	memcpy(p->addr, nla_data(tb[WGALLOWEDIP_A_IPADDR]), alen);
	p->len = nla_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
	if (p->len > prefix_bits(family)) {
		snprintf(err, errlen, "allowed IP: /%u", p->len);
		return (-1);
	}
	return (0);
}

static int
wg_parse_endpoint(const struct nlattr *a, struct wg_peer *p, char *err,
    size_t errlen)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	sa_family_t		family;

	if ((size_t)nla_len(a) < sizeof family) {
		snprintf(err, errlen, "endpoint: %d bytes", nla_len(a));
		return (-1);
	}
	memcpy(&family, nla_data(a), sizeof family);
	if (family == AF_INET && (size_t)nla_len(a) == sizeof sin) {
		memcpy(&sin, nla_data(a), sizeof sin);
		p->endpoint.family = AF_INET;
		p->endpoint.len = 32;
		memcpy(p->endpoint.addr, &sin.sin_addr, 4);
		p->endpoint_port = ntohs(sin.sin_port);
		return (0);
	}
	if (family == AF_INET6 && (size_t)nla_len(a) == sizeof sin6) {
		memcpy(&sin6, nla_data(a), sizeof sin6);
		p->endpoint.family = AF_INET6;
		p->endpoint.len = 128;
		memcpy(p->endpoint.addr, &sin6.sin6_addr, 16);
		p->endpoint_port = ntohs(sin6.sin6_port);
		return (0);
	}
	snprintf(err, errlen, "endpoint: family %u in %d bytes", family,
	    nla_len(a));
	return (-1);
}

static int
wg_parse_peer(const struct nlattr *a, struct wg_peer *p, char *err,
    size_t errlen)
{
	struct nlattr	*tb[WGPEER_A_MAX + 1], *ip;
	int64_t		 ts[2];
	int		 rem;

	memset(p, 0, sizeof *p);
	if (wg_parse_nested(tb, WGPEER_A_MAX, a) == -1) {
		snprintf(err, errlen, "peer: malformed attributes");
		return (-1);
	}
	if (tb[WGPEER_A_PUBLIC_KEY] == NULL ||
	    nla_len(tb[WGPEER_A_PUBLIC_KEY]) != WG_KEY_BYTES) {
		snprintf(err, errlen, "peer: no public key");
		return (-1);
	}
	memcpy(p->public_key, nla_data(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_BYTES);
	if (tb[WGPEER_A_ENDPOINT] != NULL &&
	    wg_parse_endpoint(tb[WGPEER_A_ENDPOINT], p, err, errlen) == -1)
		return (-1);
	if (tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL] != NULL &&
	    nla_len(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]) >= 2)
		p->keepalive =
		    nla_get_u16(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
	/* struct __kernel_timespec: two 64-bit numbers, seconds first. */
	if (tb[WGPEER_A_LAST_HANDSHAKE_TIME] != NULL &&
	    (size_t)nla_len(tb[WGPEER_A_LAST_HANDSHAKE_TIME]) == sizeof ts) {
		memcpy(ts, nla_data(tb[WGPEER_A_LAST_HANDSHAKE_TIME]),
		    sizeof ts);
		p->last_handshake = ts[0];
	}
	if (tb[WGPEER_A_RX_BYTES] != NULL && nla_len(tb[WGPEER_A_RX_BYTES]) >= 8)
		p->rx_bytes = nla_get_u64(tb[WGPEER_A_RX_BYTES]);
	if (tb[WGPEER_A_TX_BYTES] != NULL && nla_len(tb[WGPEER_A_TX_BYTES]) >= 8)
		p->tx_bytes = nla_get_u64(tb[WGPEER_A_TX_BYTES]);
	if (tb[WGPEER_A_ALLOWEDIPS] == NULL)
		return (0);
	nla_for_each_nested(ip, tb[WGPEER_A_ALLOWEDIPS], rem) {
		p->allowed = xreallocarray(p->allowed, p->nallowed + 1,
		    sizeof *p->allowed);
		if (wg_parse_allowed(ip, &p->allowed[p->nallowed], err,
		    errlen) == -1)
			return (-1);
		p->nallowed++;
	}
	return (0);
}

/* A key attribute, if present: exactly WG_KEY_BYTES. */
static int
wg_parse_key(const struct nlattr *a, const char *what, uint8_t *key,
    int *has, char *err, size_t errlen)
{
	if (a == NULL)
		return (0);
	if (nla_len(a) != WG_KEY_BYTES) {
		snprintf(err, errlen, "%s key of %d bytes", what, nla_len(a));
		return (-1);
	}
	memcpy(key, nla_data(a), WG_KEY_BYTES);
	*has = 1;
	return (0);
}

int
wg_parse_device(void *buf, size_t len, struct wg_device *d, char *err,
    size_t errlen)
{
	struct nlmsghdr		*nh = buf;
	struct nlattr		*tb[WGDEVICE_A_MAX + 1], *a;
	struct wg_peer		 peer;
	int			 rem;

	if (len < NLMSG_HDRLEN + GENL_HDRLEN || nh->nlmsg_len > len ||
	    nh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
		snprintf(err, errlen, "message of %zu bytes", len);
		return (-1);
	}
	if (genlmsg_parse(nh, 0, tb, WGDEVICE_A_MAX,
	    NULL) < 0) {
		snprintf(err, errlen, "malformed attributes");
		return (-1);
	}
	if (tb[WGDEVICE_A_IFNAME] != NULL) {
		if (nla_len(tb[WGDEVICE_A_IFNAME]) < 1 ||
		    nla_len(tb[WGDEVICE_A_IFNAME]) > WG_NAME_MAX ||
		    memchr(nla_data(tb[WGDEVICE_A_IFNAME]), '\0',
		    nla_len(tb[WGDEVICE_A_IFNAME])) == NULL) {
			snprintf(err, errlen, "device name not a string");
			return (-1);
		}
		snprintf(d->name, sizeof d->name, "%s",
		    (char *)nla_data(tb[WGDEVICE_A_IFNAME]));
	}
	if (wg_parse_key(tb[WGDEVICE_A_PRIVATE_KEY], "private", d->private_key,
	    &d->has_private_key, err, errlen) == -1 ||
	    wg_parse_key(tb[WGDEVICE_A_PUBLIC_KEY], "public", d->public_key,
	    &d->has_public_key, err, errlen) == -1)
		return (-1);
	if (tb[WGDEVICE_A_LISTEN_PORT] != NULL &&
	    nla_len(tb[WGDEVICE_A_LISTEN_PORT]) >= 2)
		d->listen_port = nla_get_u16(tb[WGDEVICE_A_LISTEN_PORT]);
	if (tb[WGDEVICE_A_FLAGS] != NULL && nla_len(tb[WGDEVICE_A_FLAGS]) >= 4)
		d->replace_peers = (nla_get_u32(tb[WGDEVICE_A_FLAGS]) &
		    WGDEVICE_F_REPLACE_PEERS) != 0;
	if (tb[WGDEVICE_A_PEERS] == NULL)
		return (0);
	nla_for_each_nested(a, tb[WGDEVICE_A_PEERS], rem) {
		if (wg_parse_peer(a, &peer, err, errlen) == -1) {
			free(peer.allowed);
			return (-1);
		}
		d->peers = xreallocarray(d->peers, d->npeers + 1,
		    sizeof *d->peers);
		d->peers[d->npeers++] = peer;
	}
	return (0);
}

void
wg_device_clear(struct wg_device *d)
{
	size_t	i;

	for (i = 0; i < d->npeers; i++)
		free(d->peers[i].allowed);
	free(d->peers);
	explicit_bzero(d, sizeof *d);
}

int
wg_public_key(const uint8_t priv[WG_KEY_BYTES], uint8_t pub[WG_KEY_BYTES])
{
	EVP_PKEY	*k;
	size_t		 len = WG_KEY_BYTES;
	int		 rc;

	if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
	    WG_KEY_BYTES)) == NULL)
		return (-1);
	rc = EVP_PKEY_get_raw_public_key(k, pub, &len);
	EVP_PKEY_free(k);
	return (rc == 1 && len == WG_KEY_BYTES ? 0 : -1);
}

void
wg_key_to_base64(const uint8_t key[WG_KEY_BYTES], char out[WG_KEY_B64_LEN + 1])
{
	EVP_EncodeBlock((unsigned char *)out, key, WG_KEY_BYTES);
	out[WG_KEY_B64_LEN] = '\0';
}

int
wg_key_from_base64(const char *text, uint8_t key[WG_KEY_BYTES])
{
	unsigned char	buf[WG_KEY_BYTES + 3];	/* 44 characters: 33 bytes */
	char		again[WG_KEY_B64_LEN + 1];
	size_t		i;

	/* 32 bytes end in one "=": EVP_DecodeBlock counts it as a zero. */
	if (strlen(text) != WG_KEY_B64_LEN || text[WG_KEY_B64_LEN - 1] != '=' ||
	    text[WG_KEY_B64_LEN - 2] == '=')
		return (-1);
	for (i = 0; i < WG_KEY_B64_LEN - 1; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/", text[i]) == NULL)
			return (-1);
	if (EVP_DecodeBlock(buf, (const unsigned char *)text,
	    WG_KEY_B64_LEN) != WG_KEY_BYTES + 1)
		return (-1);
	/* The last character's two spare bits must be zero: one text a key. */
	wg_key_to_base64(buf, again);
	if (strcmp(again, text) != 0) {
		explicit_bzero(buf, sizeof buf);
		return (-1);
	}
	memcpy(key, buf, WG_KEY_BYTES);
	explicit_bzero(buf, sizeof buf);
	return (0);
}

struct nl_sock *
wg_sock_open(int nsfd, int *family, char *err, size_t errlen)
{
	struct nl_sock	*sk;
	int		 rc;

	if ((sk = nl_socket_alloc()) == NULL) {
		snprintf(err, errlen, "nl_socket_alloc failed");
		return (NULL);
	}
	/* The family answers for the devices of the socket's namespace. */
	if (nsfd != -1 && netns_enter(nsfd) == -1) {
		snprintf(err, errlen, "setns: %s", strerror(errno));
		nl_socket_free(sk);
		return (NULL);
	}
	rc = genl_connect(sk);
	if (nsfd != -1)
		netns_leave();
	if (rc < 0) {
		snprintf(err, errlen, "generic netlink: %s", nl_geterror(rc));
		nl_socket_free(sk);
		return (NULL);
	}
	if ((*family = genl_ctrl_resolve(sk, WG_GENL_NAME)) < 0) {
		snprintf(err, errlen, "no WireGuard in this kernel: %s",
		    nl_geterror(*family));
		nl_socket_free(sk);
		return (NULL);
	}
	return (sk);
}

void
wg_sock_close(struct nl_sock *sk)
{
	if (sk != NULL)
		nl_socket_free(sk);
}

int
wg_set_device(struct nl_sock *sk, int family, const struct wg_device *d,
    char *err, size_t errlen)
{
	struct nl_msg	*msg;
	int		 rc;

	if ((msg = nlmsg_alloc_size(WG_MSG_BYTES)) == NULL) {
		snprintf(err, errlen, "nlmsg_alloc failed");
		return (-1);
	}
	if (wg_msg_set_device(msg, family, d) == -1) {
		/* The message held the private key. */
		explicit_bzero(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
		nlmsg_free(msg);
		snprintf(err, errlen, "%s: too many peers for one message",
		    d->name);
		return (-1);
	}
	rc = nl_send_auto(sk, msg);
	explicit_bzero(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
	nlmsg_free(msg);
	if (rc >= 0)
		rc = nl_wait_for_ack(sk);
	if (rc < 0) {
		snprintf(err, errlen, "%s: WG_CMD_SET_DEVICE: %s", d->name,
		    nl_geterror(rc));
		return (-1);
	}
	return (0);
}

struct wg_get {
	struct wg_device	*d;
	char			*err;
	size_t			 errlen;
	int			 failed;
};

static int
wg_get_valid(struct nl_msg *msg, void *arg)
{
	struct wg_get	*g = arg;
	struct nlmsghdr	*nh = nlmsg_hdr(msg);

	if (!g->failed && wg_parse_device(nh, nh->nlmsg_len, g->d, g->err,
	    g->errlen) == -1)
		g->failed = 1;
	return (NL_OK);
}

int
wg_get_device(struct nl_sock *sk, int family, const char *name,
    struct wg_device *d, char *err, size_t errlen)
{
	struct nl_msg	*msg;
	struct nl_cb	*cb;
	struct wg_get	 g;
	int		 rc;

	wg_device_clear(d);
	if ((msg = nlmsg_alloc()) == NULL) {
		snprintf(err, errlen, "nlmsg_alloc failed");
		return (-1);
	}
	if (wg_msg_get_device(msg, family, name) == -1) {
		nlmsg_free(msg);
		snprintf(err, errlen, "%s: name too long", name);
		return (-1);
	}
	rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (rc < 0) {
		snprintf(err, errlen, "%s: WG_CMD_GET_DEVICE: %s", name,
		    nl_geterror(rc));
		return (-1);
	}
	memset(&g, 0, sizeof g);
	g.d = d;
	g.err = err;
	g.errlen = errlen;
	if ((cb = nl_cb_clone(nl_socket_get_cb(sk))) == NULL) {
		snprintf(err, errlen, "nl_cb_clone failed");
		return (-1);
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, wg_get_valid, &g);
	rc = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (rc < 0) {
		snprintf(err, errlen, "%s: WG_CMD_GET_DEVICE: %s", name,
		    nl_geterror(rc));
		return (-1);
	}
	return (g.failed ? -1 : 0);
}
