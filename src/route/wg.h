/* wg.h: WireGuard devices through generic netlink (libnl-genl): the
 * WG_CMD_SET_DEVICE and WG_CMD_GET_DEVICE messages, built and read by pure
 * functions, and one synchronous exchange with the kernel to send them. */
#ifndef NETCRAVE_WG_H
#define NETCRAVE_WG_H

#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

#define WG_KEY_BYTES	32	/* X25519 keys, private and public */
#define WG_NAME_MAX	16	/* IFNAMSIZ */

struct nl_msg;
struct nl_sock;

struct wg_peer {
	uint8_t		 public_key[WG_KEY_BYTES];
	struct prefix	 endpoint;	/* len 0 family 0: none */
	uint16_t	 endpoint_port;
	uint16_t	 keepalive;	/* seconds, 0: off */
	struct prefix	*allowed;
	size_t		 nallowed;
	/* Read back only (GET_DEVICE): */
	int64_t		 last_handshake;	/* seconds since the epoch */
	uint64_t	 rx_bytes, tx_bytes;
};

struct wg_device {
	char		 name[WG_NAME_MAX];
	int		 has_private_key;
	uint8_t		 private_key[WG_KEY_BYTES];
	int		 has_public_key;	/* read back only */
	uint8_t		 public_key[WG_KEY_BYTES];
	uint16_t	 listen_port;
	int		 replace_peers;	/* SET: drop peers not listed */
	struct wg_peer	*peers;
	size_t		 npeers;
};

/*
 * Fill msg (fresh from nlmsg_alloc) with a WG_CMD_SET_DEVICE for d, to the
 * family id given (genl_ctrl_resolve "wireguard").  Each peer replaces its
 * allowed IPs.  -1 when the message cannot hold it.
 */
int	wg_msg_set_device(struct nl_msg *msg, int family,
	    const struct wg_device *d);
/* Fill msg with a WG_CMD_GET_DEVICE (a dump) for the device named. */
int	wg_msg_get_device(struct nl_msg *msg, int family, const char *name);
/*
 * Read one answer of WG_CMD_GET_DEVICE (a netlink message of len bytes) into
 * d, adding its peers to those there (the kernel splits a long peer list over
 * several messages).  -1 with a reason in err for a malformed message.
 */
int	wg_parse_device(void *msg, size_t len, struct wg_device *d,
	    char *err, size_t errlen);
/* Free the peers (and their allowed IPs) of d, and zero the private key. */
void	wg_device_clear(struct wg_device *d);

/*
 * The public key of an X25519 private key (any 32 bytes are one: the curve
 * clamps them), through OpenSSL.  -1 if OpenSSL refuses.
 */
int	wg_public_key(const uint8_t priv[WG_KEY_BYTES],
	    uint8_t pub[WG_KEY_BYTES]);
/* A key as wg(8) prints it: standard base64, 44 characters with "=". */
#define WG_KEY_B64_LEN	44
void	wg_key_to_base64(const uint8_t key[WG_KEY_BYTES],
	    char out[WG_KEY_B64_LEN + 1]);
/* The reverse; -1 unless text is exactly such a key. */
int	wg_key_from_base64(const char *text, uint8_t key[WG_KEY_BYTES]);

/*
 * A generic netlink socket in the namespace of nsfd (-1: netcraved's own)
 * with the wireguard family resolved; NULL (and why in err) when the kernel
 * has no WireGuard.
 */
struct nl_sock	*wg_sock_open(int nsfd, int *family, char *err, size_t errlen);
void		 wg_sock_close(struct nl_sock *);
/* Configure a device (it must exist: link kind "wireguard"). */
int	wg_set_device(struct nl_sock *, int family, const struct wg_device *,
	    char *err, size_t errlen);
/* Read a device back; d is cleared first. */
int	wg_get_device(struct nl_sock *, int family, const char *name,
	    struct wg_device *d, char *err, size_t errlen);

#endif
