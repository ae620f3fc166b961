/* dns_server.c: the DNS server table entry: UDP and TCP listeners on the one
 * loop, the zone kept in step with the dockerd follower, zone transfers to
 * allowed addresses and NOTIFY to secondaries whenever the serial moves. */
#define _GNU_SOURCE
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "conf.h"
#include "cluster.h"
#include "dns.h"
#include "dockerd.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "netns.h"
#include "plugin.h"
#include "prefix.h"
#include "schema.h"
#include "server.h"
#include "util.h"
#include "xmalloc.h"

#define DNS_UDP_BATCH		32	/* datagrams per recvmmsg */
#define DNS_UDP_IN		4096
#define DNS_UDP_OUT		(DNS_UDP_IN + 512)
#define DNS_TCP_MAX		128	/* connections at once */
#define DNS_TCP_IDLE_SEC	10
#define DNS_COMMIT_MS		10	/* changes are gathered this long, */
#define DNS_COMMIT_MAX_MS	500	/* or twice the last rebuild, up to this */

struct dns_listener {
	char			*text;
	int			 udp_fd;
	struct event		*udp_ev;
	struct evconnlistener	*tcp;
	/* Gateway listeners only: where, and whether the last sync saw it. */
	char			*netns;
	struct sockaddr_storage	 ss;
	int			 seen;
};

struct dns_tcp {
	struct bufferevent	*bev;
	struct event		*deadline;	/* the message coming in */
	struct sockaddr_storage	 peer;
};

static struct {
	struct event_base	*base;
	struct dns_db		*db;
	struct dns_listener	*listeners;
	size_t			 nlisteners;
	struct dns_listener	*gateways;	/* at each network's gateway */
	size_t			 ngateways;
	unsigned int		 gateway_port;
	uint16_t		 payload;
	struct prefix		*axfr_allow;
	size_t			 naxfr_allow;
	struct sockaddr_storage	*notify;
	socklen_t		*notify_len;
	size_t			 nnotify;
	int			 notify_fd4, notify_fd6;
	uint16_t		 notify_id;
	uint32_t		 notified_serial;
	struct event		*ev_commit;
	struct event		*ev_resign;	/* hourly: signatures aging */
	unsigned int		 commit_delay_ms;
	int			 watching;
	size_t			 ntcp;
	/* dns3: rate limiting and counters. */
	struct dns_rrl		*rrl;
	struct metric		*queries[2][16];	/* [tcp][rcode] */
	struct metric		*rrl_dropped, *rrl_slipped;
} dns = { .notify_fd4 = -1, .notify_fd6 = -1 };

static void	dns_changed(void);

/* "1.2.3.4:53" or "[::1]:53" into a socket address. */
static int
dns_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			*host, *port;
	uint16_t		 p;
	int			 rv = -1;

	memset(ss, 0, sizeof *ss);
	if (util_hostport(text, &host, &port) == -1)
		return (-1);
	if (util_port(port, &p) == -1)
		goto out;
	/* Brackets hold an IPv6 address, and only they do. */
	if (text[0] == '[') {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto out;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		*len = sizeof *sin6;
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto out;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		*len = sizeof *sin;
	}
	rv = 0;
out:
	free(host);
	free(port);
	return (rv);
}

/* The address of a socket address as a host prefix. */
static void
dns_addr_prefix(const struct sockaddr_storage *ss, struct prefix *p)
{
	memset(p, 0, sizeof *p);
	if (ss->ss_family == AF_INET) {
		p->family = AF_INET;
		memcpy(p->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		p->len = 32;
	} else {
		p->family = AF_INET6;
		memcpy(p->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
		p->len = 128;
	}
}

/* Whether the peer may transfer zones. */
static int
dns_axfr_allowed(const struct sockaddr_storage *peer)
{
	struct prefix	p;
	size_t		i;

	dns_addr_prefix(peer, &p);
	for (i = 0; i < dns.naxfr_allow; i++)
		if (prefix_contains(&dns.axfr_allow[i], &p))
			return (1);
	return (0);
}

/* Count n answers by transport and RCODE (the series made at first use). */
static void
dns_count(int tcp, int rcode, uint64_t n)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED" };
	struct metric	**m;
	char		  labels[96], other[32];

	m = &dns.queries[tcp][rcode];
	if (*m == NULL) {
		snprintf(other, sizeof other, "RCODE%d", rcode);
		snprintf(labels, sizeof labels, "transport=\"%s\",rcode=\"%s\"",
		    tcp ? "tcp" : "udp", rcode < 6 ? names[rcode] : other);
		*m = metrics_counter("netcrave_dns_queries_total",
		    "DNS queries answered, by transport and RCODE", labels);
	}
	metrics_add(*m, n);
}

/* Read every waiting datagram, in batches, and answer each. */
static void
dns_udp_read(int fd, short events, void *arg)
{
	static uint8_t		 in[DNS_UDP_BATCH][DNS_UDP_IN];
	static uint8_t		 out[DNS_UDP_BATCH][DNS_UDP_OUT];
	static struct sockaddr_storage peers[DNS_UDP_BATCH];
	struct mmsghdr		 rmsg[DNS_UDP_BATCH], smsg[DNS_UDP_BATCH];
	struct iovec		 riov[DNS_UDP_BATCH], siov[DNS_UDP_BATCH];
	struct dns_query_ctx	 ctx = { 0, dns.payload, 1 };
	struct timespec		 now;
	uint64_t		 counts[16];	/* by RCODE, for the metrics */
	int			 n, i, rounds, nsend;
	size_t			 len;

	(void)events;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	memset(counts, 0, sizeof counts);
	for (rounds = 0; rounds < 8; rounds++) {
		for (i = 0; i < DNS_UDP_BATCH; i++) {
			riov[i].iov_base = in[i];
			riov[i].iov_len = sizeof in[i];
			memset(&rmsg[i].msg_hdr, 0, sizeof rmsg[i].msg_hdr);
			rmsg[i].msg_hdr.msg_iov = &riov[i];
			rmsg[i].msg_hdr.msg_iovlen = 1;
			rmsg[i].msg_hdr.msg_name = &peers[i];
			rmsg[i].msg_hdr.msg_namelen = sizeof peers[i];
		}
		n = recvmmsg(fd, rmsg, DNS_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("%s: recvmmsg", __func__);
			break;
		}
		nsend = 0;
		for (i = 0; i < n; i++) {
			len = dns_answer(dns.db, in[i], rmsg[i].msg_len, &ctx,
			    out[nsend]);
			if (len == 0)
				continue;
			counts[out[nsend][3] & 0xf]++;
			switch (dns_rrl_check(dns.rrl, (struct sockaddr *)&peers[i],
			    out[nsend], len, now.tv_sec)) {
			case DNS_RRL_SEND:
				break;
			case DNS_RRL_DROP:
				metrics_add(dns.rrl_dropped, 1);
				continue;
			case DNS_RRL_SLIP:
				metrics_add(dns.rrl_slipped, 1);
				if ((len = dns_truncate(out[nsend], len)) == 0)
					continue;
				break;
			}
			siov[nsend].iov_base = out[nsend];
			siov[nsend].iov_len = len;
			memset(&smsg[nsend].msg_hdr, 0, sizeof smsg[nsend].msg_hdr);
			smsg[nsend].msg_hdr.msg_iov = &siov[nsend];
			smsg[nsend].msg_hdr.msg_iovlen = 1;
			smsg[nsend].msg_hdr.msg_name = &peers[i];
			smsg[nsend].msg_hdr.msg_namelen = rmsg[i].msg_hdr.msg_namelen;
			nsend++;
		}
		if (nsend > 0 && sendmmsg(fd, smsg, (unsigned int)nsend,
		    MSG_DONTWAIT) < 0 && errno != EAGAIN)
			log_debug("%s: sendmmsg: %s", __func__, strerror(errno));
		if (n < DNS_UDP_BATCH)
			break;
	}
	/* Counted once a batch: the series are looked at rarely. */
	for (i = 0; i < 16; i++)
		if (counts[i] > 0)
			dns_count(0, i, counts[i]);
}

/* Close one TCP connection. */
static void
dns_tcp_free(struct dns_tcp *c)
{
	bufferevent_free(c->bev);
	event_free(c->deadline);
	free(c);
	dns.ntcp--;
}

/*
 * Timer: a message did not arrive whole DNS_TCP_IDLE_SEC after its first
 * byte.  The idle timeout alone would let a client dribbling a byte a
 * second hold one of the DNS_TCP_MAX connections for hours.
 */
static void
dns_tcp_deadline(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	log_info("dns: TCP message not whole in %d s, connection closed",
	    DNS_TCP_IDLE_SEC);
	dns_tcp_free(arg);
}

/* Write one message with its length in front. */
static void
dns_tcp_emit(const uint8_t *msg, size_t len, void *arg)
{
	struct dns_tcp	*c = arg;
	uint8_t		 prefix[2];

	util_put_be16(prefix, (uint16_t)len);
	bufferevent_write(c->bev, prefix, 2);
	bufferevent_write(c->bev, msg, len);
}

/* Answer every whole message that has come in. */
static void
dns_tcp_read(struct bufferevent *bev, void *arg)
{
	static uint8_t		 out[DNS_MAX_MESSAGE + 16];
	struct dns_tcp		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct dns_query_ctx	 ctx = { 1, dns.payload, 1 };
	struct timeval		 tv = { DNS_TCP_IDLE_SEC, 0 };
	uint8_t			 lenbuf[2], *q;
	size_t			 qlen, len, zone;

	for (;;) {
		/* What is left is the start of the next message: its clock
		 * starts with its first byte, and a whole one stops it. */
		if (evbuffer_get_length(in) == 0)
			evtimer_del(c->deadline);
		else if (!evtimer_pending(c->deadline, NULL))
			evtimer_add(c->deadline, &tv);
		if (evbuffer_copyout(in, lenbuf, 2) != 2)
			return;
		qlen = util_get_be16(lenbuf);
		if (evbuffer_get_length(in) < qlen + 2)
			return;
		evtimer_del(c->deadline);
		q = evbuffer_pullup(in, (ssize_t)qlen + 2) + 2;
		if (dns_query_is_xfr(dns.db, q, qlen, &zone) &&
		    dns_axfr_allowed(&c->peer)) {
			log_info("dns: transfer of %s", dns_db_apex(dns.db, zone));
			dns_axfr(dns.db, zone, q, qlen, dns_tcp_emit, c);
		} else if ((len = dns_answer(dns.db, q, qlen, &ctx, out)) > 0) {
			dns_count(1, out[3] & 0xf, 1);
			dns_tcp_emit(out, len, c);
		} else {
			/* Not even a header to answer FORMERR with: the
			 * stream cannot be trusted any further (RFC 7766 lets
			 * a server close it). */
			log_debug("dns: TCP message of %zu bytes unanswerable: "
			    "connection closed", qlen);
			dns_tcp_free(c);
			return;
		}
		evbuffer_drain(in, qlen + 2);
	}
}

/* End of a connection: closed, timed out or failed. */
static void
dns_tcp_event(struct bufferevent *bev, short events, void *arg)
{
	(void)bev;
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		dns_tcp_free(arg);
}

/* Close once everything written has gone (the client may keep asking). */
static void
dns_tcp_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct dns_tcp	*c;
	struct timeval	 tv = { DNS_TCP_IDLE_SEC, 0 };

	(void)lev;
	(void)arg;
	if (dns.ntcp >= DNS_TCP_MAX) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	memcpy(&c->peer, sa, (size_t)salen < sizeof c->peer ? (size_t)salen :
	    sizeof c->peer);
	c->bev = bufferevent_socket_new(dns.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	if ((c->deadline = evtimer_new(dns.base, dns_tcp_deadline, c)) == NULL)
		fatalx("%s: evtimer_new failed", __func__);
	dns.ntcp++;
	bufferevent_setcb(c->bev, dns_tcp_read, NULL, dns_tcp_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_setwatermark(c->bev, EV_READ, 0, DNS_MAX_MESSAGE + 2);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* A bound non-blocking socket of type for ss, inside the namespace netns
 * (NULL: netcraved's).  Bound freely: a gateway's IPv6 address may still be
 * tentative (DAD) when its network appears. */
static int
dns_socket(const char *netns, const struct sockaddr_storage *ss, socklen_t len,
    int type, char *err, size_t errlen, const char *text)
{
	int	fd, on = 1;

	if ((fd = netns_socket(netns, ss->ss_family, type | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "dns.listen: %s: socket: %s", text,
		    strerror(errno));
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (netns != NULL)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
	if (bind(fd, (const struct sockaddr *)ss, len) == -1) {
		snprintf(err, errlen, "dns.listen: %s: bind: %s", text,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Close one listener. */
static void
dns_listener_close(struct dns_listener *l)
{
	if (l->udp_ev != NULL)
		event_free(l->udp_ev);
	if (l->udp_fd != -1)
		close(l->udp_fd);
	if (l->tcp != NULL)
		evconnlistener_free(l->tcp);
	free(l->text);
	free(l->netns);
	memset(l, 0, sizeof *l);
	l->udp_fd = -1;
}

/* Listen on UDP and TCP at ss (l->text names it, l->netns holds it). */
static int
dns_listener_open(struct dns_listener *l, const struct sockaddr_storage *ss,
    socklen_t len, char *err, size_t errlen)
{
	int	fd;

	if ((l->udp_fd = dns_socket(l->netns, ss, len, SOCK_DGRAM, err, errlen,
	    l->text)) == -1)
		return (-1);
	l->udp_ev = event_new(dns.base, l->udp_fd, EV_READ | EV_PERSIST,
	    dns_udp_read, NULL);
	event_add(l->udp_ev, NULL);
	if ((fd = dns_socket(l->netns, ss, len, SOCK_STREAM, err, errlen,
	    l->text)) == -1)
		return (-1);
	l->tcp = evconnlistener_new(dns.base, dns_tcp_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (l->tcp == NULL) {
		close(fd);
		snprintf(err, errlen, "dns.listen: %s: listen: %s", l->text,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Close every configured listener. */
static void
dns_listeners_close(void)
{
	size_t	i;

	for (i = 0; i < dns.nlisteners; i++)
		dns_listener_close(&dns.listeners[i]);
	free(dns.listeners);
	dns.listeners = NULL;
	dns.nlisteners = 0;
}

/* Listen on UDP and TCP at every address of the list. */
static int
dns_listeners_open(char *const *list, char *err, size_t errlen)
{
	struct dns_listener	*l;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	size_t			 i, n;

	for (n = 0; list != NULL && list[n] != NULL; n++)
		;
	dns.listeners = xcalloc(n + 1, sizeof *dns.listeners);
	for (i = 0; i < n; i++) {
		l = &dns.listeners[dns.nlisteners++];
		l->udp_fd = -1;
		l->text = xstrdup(list[i]);
		if (dns_parse_addr(list[i], &ss, &len) != 0) {
			snprintf(err, errlen, "dns.listen: %s: expected "
			    "ADDRESS:PORT or [ADDRESS]:PORT", list[i]);
			goto fail;
		}
		if (dns_listener_open(l, &ss, len, err, errlen) != 0)
			goto fail;
		log_info("dns: listening on %s (UDP and TCP)", list[i]);
	}
	return (0);
fail:
	dns_listeners_close();
	return (-1);
}

/* One gateway of the networks: keep its listener, or open one. */
static void
dns_gateway_seen(const char *netns, const struct prefix *gw, void *arg)
{
	struct dns_listener	*l;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	char			 addr[INET6_ADDRSTRLEN], err[256];
	size_t			 i;

	(void)arg;
	memset(&ss, 0, sizeof ss);
	if (gw->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)dns.gateway_port);
		memcpy(&sin->sin_addr, gw->addr, 4);
		len = sizeof *sin;
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)dns.gateway_port);
		memcpy(&sin6->sin6_addr, gw->addr, 16);
		len = sizeof *sin6;
	}
	for (i = 0; i < dns.ngateways; i++) {
		l = &dns.gateways[i];
		if (strcmp(l->netns, netns) == 0 && memcmp(&l->ss, &ss,
		    sizeof ss) == 0) {
			l->seen = 1;
			return;
		}
	}
	dns.gateways = xreallocarray(dns.gateways, dns.ngateways + 1,
	    sizeof *dns.gateways);
	l = &dns.gateways[dns.ngateways];
	memset(l, 0, sizeof *l);
	l->udp_fd = -1;
	l->netns = xstrdup(netns);
	l->ss = ss;
	inet_ntop(gw->family, gw->addr, addr, sizeof addr);
	xasprintf(&l->text, gw->family == AF_INET ? "%s:%u" : "[%s]:%u", addr,
	    dns.gateway_port);
	if (dns_listener_open(l, &ss, len, err, sizeof err) != 0) {
		log_warnx("dns: gateway %s in %s: %s", l->text, netns, err);
		dns_listener_close(l);
		return;
	}
	l->seen = 1;
	dns.ngateways++;
	log_info("dns: listening on %s in %s (UDP and TCP)", l->text, netns);
}

/* The networks changed: a listener at every gateway, none at a gone one. */
static void
dns_gateways_sync(void)
{
	size_t	i, kept = 0;

	for (i = 0; i < dns.ngateways; i++)
		dns.gateways[i].seen = 0;
	if (dns.gateway_port != 0)
		plugin_network_gateways(dns_gateway_seen, NULL);
	for (i = 0; i < dns.ngateways; i++) {
		if (!dns.gateways[i].seen) {
			log_info("dns: no longer listening on %s in %s",
			    dns.gateways[i].text, dns.gateways[i].netns);
			dns_listener_close(&dns.gateways[i]);
			continue;
		}
		dns.gateways[kept++] = dns.gateways[i];
	}
	dns.ngateways = kept;
	if (kept == 0) {
		free(dns.gateways);
		dns.gateways = NULL;
	}
}

/* Tell every secondary about every zone (after the serial moved). */
static void
dns_send_notifies(void)
{
	uint8_t	msg[1024];
	size_t	i, z, len;
	int	fd;

	for (i = 0; i < dns.nnotify; i++) {
		fd = dns.notify[i].ss_family == AF_INET ? dns.notify_fd4 :
		    dns.notify_fd6;
		if (fd == -1)
			continue;
		for (z = 0; z < dns_db_nzones(dns.db); z++) {
			len = dns_notify_message(dns.db, z, dns.notify_id++, msg,
			    sizeof msg);
			if (len > 0 && sendto(fd, msg, len, MSG_DONTWAIT,
			    (struct sockaddr *)&dns.notify[i], dns.notify_len[i])
			    == -1)
				log_debug("dns: notify: %s", strerror(errno));
		}
	}
	dns.notified_serial = dns_db_serial(dns.db);
}

/* Gathered changes: rebuild the index, then NOTIFY if the serial moved. */
static void
dns_commit_cb(int fd, short events, void *arg)
{
	struct timespec	t0, t1;
	unsigned int	ms;
	size_t		nsigned, reused;

	(void)fd;
	(void)events;
	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dns_db_commit(dns.db);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* A large zone rebuilds slowly: gather changes for longer, so that
	 * rebuilding never takes more than a third of the loop. */
	ms = (unsigned int)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000);
	dns.commit_delay_ms = ms * 2 < DNS_COMMIT_MS ? DNS_COMMIT_MS :
	    ms * 2 > DNS_COMMIT_MAX_MS ? DNS_COMMIT_MAX_MS : ms * 2;
	dns_db_sign_stats(dns.db, &nsigned, &reused);
	if (nsigned > 0)
		log_debug("dns: serial %u in %u ms, %zu RRsets signed, %zu "
		    "signatures reused", dns_db_serial(dns.db), ms, nsigned,
		    reused);
	if (dns_db_serial(dns.db) != dns.notified_serial)
		dns_send_notifies();
}

/* Hourly: a zone that has not changed for days still gets its signatures
 * renewed before they expire. */
static void
dns_resign_cb(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	if (dns_db_sign_refresh(dns.db))
		dns_changed();
}

/* Something changed: commit soon, once for a burst of changes. */
static void
dns_changed(void)
{
	struct timeval	tv;

	if (dns.commit_delay_ms == 0)
		dns.commit_delay_ms = DNS_COMMIT_MS;
	tv.tv_sec = dns.commit_delay_ms / 1000;
	tv.tv_usec = (dns.commit_delay_ms % 1000) * 1000;
	if (dns.ev_commit != NULL && !evtimer_pending(dns.ev_commit, NULL))
		evtimer_add(dns.ev_commit, &tv);
}

/* The follower's news: a container's records set or removed. */
static void
dns_watch(enum dockerd_change change, const struct dockerd_container *c,
    void *arg)
{
	(void)arg;
	if (change == DOCKERD_CONTAINER_UP && c->running) {
		dns_container_set(dns.db, c);
		dns_share_publish(c);
	} else {
		dns_container_remove(dns.db, c->id);
		dns_share_withdraw(c->id);
	}
	dns_changed();
}

/* Replay a known container into a fresh db (reload); what the other hosts
 * have of it, its description, does not change with our config. */
static void
dns_replay(const struct dockerd_container *c, void *arg)
{
	if (c->running)
		dns_container_set(arg, c);
}

/* The db in force, for dns_share. */
static struct dns_db *
dns_current_db(void)
{
	return (dns.db);
}

/* A db for conf: zone, reverse zones of the schema, the operator's records. */
static struct dns_db *
dns_db_from_conf(const struct conf *conf, char *err, size_t errlen)
{
	const struct schema	*schema;
	struct schema_scope	*s;
	const struct prefix	*p;
	struct dns_db		*db;
	int			 f;

	if ((db = dns_db_new(conf->dns_zone, conf->dns_ttl, err, errlen)) == NULL)
		return (NULL);
	if ((schema = plugin_ipam_schema()) != NULL) {
		for (s = schema_first(schema); s != NULL; s = schema_next(s)) {
			for (f = 0; f < 2; f++) {
				p = schema_scope_prefix(s, f == 0 ? AF_INET :
				    AF_INET6);
				if (p != NULL && dns_db_add_reverse(db, p, err,
				    errlen) != 0) {
					dns_db_free(db);
					return (NULL);
				}
			}
		}
	}
	if (conf->dns_axfr_allow[0] != NULL)
		dns_db_keep_journal(db);
	if (conf->dns_nsec3)
		dns_db_use_nsec3(db);
	if (conf->dns_dnssec && dns_db_enable_dnssec(db, 1, err, errlen) != 0) {
		dns_db_free(db);
		return (NULL);
	}
	if (dns_db_set_static(db, conf->dns_records, err, errlen) != 0) {
		dns_db_free(db);
		return (NULL);
	}
	return (db);
}

/* Rate limiting from conf: loopback and the schema's networks exempt unless
 * dns.rrl_exempt_own is off (HAProxy's resolver must not be limited). */
static struct dns_rrl *
dns_rrl_from_conf(const struct conf *conf, char *err, size_t errlen)
{
	static const char *const loopback[] = { "127.0.0.0/8", "::1/128" };
	const struct schema	*schema;
	struct schema_scope	*s;
	const struct prefix	*p;
	struct dns_rrl		*rrl;
	struct prefix		 q;
	size_t			 i;
	int			 f;

	if (conf->dns_rrl_rate == 0)
		return (NULL);
	rrl = dns_rrl_new(conf->dns_rrl_rate, conf->dns_rrl_slip);
	for (i = 0; conf->dns_rrl_exempt[i] != NULL; i++) {
		if (prefix_parse(conf->dns_rrl_exempt[i], 0, &q, err,
		    errlen) != 0) {
			dns_rrl_free(rrl);
			return (NULL);
		}
		dns_rrl_exempt(rrl, &q);
	}
	if (!conf->dns_rrl_exempt_own)
		return (rrl);
	for (i = 0; i < 2; i++) {
		prefix_parse(loopback[i], 0, &q, NULL, 0);
		dns_rrl_exempt(rrl, &q);
	}
	if ((schema = plugin_ipam_schema()) != NULL)
		for (s = schema_first(schema); s != NULL; s = schema_next(s))
			for (f = 0; f < 2; f++)
				if ((p = schema_scope_prefix(s, f == 0 ?
				    AF_INET : AF_INET6)) != NULL)
					dns_rrl_exempt(rrl, p);
	return (rrl);
}

/* Transfer and NOTIFY peers from conf. */
static int
dns_peers_from_conf(const struct conf *conf, char *err, size_t errlen)
{
	size_t	i, n;

	free(dns.axfr_allow);
	free(dns.notify);
	free(dns.notify_len);
	for (n = 0; conf->dns_axfr_allow[n] != NULL; n++)
		;
	dns.axfr_allow = xcalloc(n + 1, sizeof *dns.axfr_allow);
	dns.naxfr_allow = n;
	for (i = 0; i < n; i++)
		if (prefix_parse(conf->dns_axfr_allow[i], 0, &dns.axfr_allow[i],
		    err, errlen) != 0)
			return (-1);
	for (n = 0; conf->dns_notify[n] != NULL; n++)
		;
	dns.notify = xcalloc(n + 1, sizeof *dns.notify);
	dns.notify_len = xcalloc(n + 1, sizeof *dns.notify_len);
	dns.nnotify = n;
	for (i = 0; i < n; i++) {
		if (dns_parse_addr(conf->dns_notify[i], &dns.notify[i],
		    &dns.notify_len[i]) != 0) {
			snprintf(err, errlen, "dns.notify: %s: expected "
			    "ADDRESS:PORT or [ADDRESS]:PORT", conf->dns_notify[i]);
			return (-1);
		}
		if (dns.notify[i].ss_family == AF_INET && dns.notify_fd4 == -1)
			dns.notify_fd4 = socket(AF_INET, SOCK_DGRAM |
			    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (dns.notify[i].ss_family == AF_INET6 && dns.notify_fd6 == -1)
			dns.notify_fd6 = socket(AF_INET6, SOCK_DGRAM |
			    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	return (0);
}

/* The DNSKEY of every zone, for the operator's trust anchors (the keys are
 * kept by the keys module: the same at every start). */
static void
dns_log_keys(void)
{
	size_t	 i;
	char	*key;

	for (i = 0; i < dns_db_nzones(dns.db); i++) {
		if ((key = dns_db_dnskey(dns.db, i)) == NULL)
			continue;
		key[strcspn(key, "\n")] = '\0';
		log_info("dns: DNSSEC key %s", key);
		free(key);
	}
}

static int
dns_init(const struct server_env *env, char *err, size_t errlen)
{
	struct timeval	hour = { 3600, 0 };

	dns.base = env->base;
	dns.payload = (uint16_t)env->conf->dns_edns_payload;
	if ((dns.db = dns_db_from_conf(env->conf, err, errlen)) == NULL)
		return (-1);
	if (dns_peers_from_conf(env->conf, err, errlen) != 0)
		return (-1);
	err[0] = '\0';
	if ((dns.rrl = dns_rrl_from_conf(env->conf, err, errlen)) == NULL &&
	    err[0] != '\0')
		return (-1);
	dns.rrl_dropped = metrics_counter("netcrave_dns_rrl_total",
	    "UDP answers held back by rate limiting", "action=\"dropped\"");
	dns.rrl_slipped = metrics_counter("netcrave_dns_rrl_total",
	    "UDP answers held back by rate limiting", "action=\"slipped\"");
	if (dns_listeners_open(env->conf->dns_listen, err, errlen) != 0)
		return (-1);
	dns.gateway_port = env->conf->dns_gateway_port;
	plugin_network_on_change(dns_gateways_sync);
	dns_gateways_sync();
	dns.ev_commit = evtimer_new(dns.base, dns_commit_cb, NULL);
	dns.ev_resign = event_new(dns.base, -1, EV_PERSIST, dns_resign_cb, NULL);
	event_add(dns.ev_resign, &hour);
	dns_share_init(env->conf->cluster_enabled ?
	    env->conf->cluster_host_address : NULL, env->store, env->records,
	    env->nrecords, dns_current_db, dns_changed, cluster_host_alive);
	cluster_watch_hosts(dns_share_host);
	dns_db_commit(dns.db);
	dns.notified_serial = dns_db_serial(dns.db);
	dockerd_watch(dns_watch, NULL);
	dns.watching = 1;
	log_info("dns: serving %s and %zu reverse zones, serial %u",
	    dns_db_zone(dns.db), dns_db_nzones(dns.db) - 1,
	    dns_db_serial(dns.db));
	dns_log_keys();
	return (0);
}

static int
dns_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	struct dns_db	*db;
	struct dns_rrl	*rrl;

	if ((db = dns_db_from_conf(new, err, errlen)) == NULL)
		return (-1);
	if (dns_peers_from_conf(new, err, errlen) != 0) {
		dns_db_free(db);
		return (-1);
	}
	err[0] = '\0';
	if ((rrl = dns_rrl_from_conf(new, err, errlen)) == NULL &&
	    err[0] != '\0') {
		dns_db_free(db);
		return (-1);
	}
	dns_rrl_free(dns.rrl);
	dns.rrl = rrl;
	if (!util_strv_equal(old->dns_listen, new->dns_listen)) {
		dns_listeners_close();
		if (dns_listeners_open(new->dns_listen, err, errlen) != 0) {
			dns_db_free(db);
			return (-1);
		}
	}
	dns.payload = (uint16_t)new->dns_edns_payload;
	if (new->dns_gateway_port != dns.gateway_port) {
		dns.gateway_port = 0;
		dns_gateways_sync();		/* closes them all */
		dns.gateway_port = new->dns_gateway_port;
		dns_gateways_sync();
	}
	dockerd_foreach(dns_replay, db);
	dns_share_replay(db);
	/* Keep counting from where the old zone was, with its keys. */
	dns_db_follow_serial(db, dns_db_serial(dns.db));
	dns_db_adopt_keys(db, dns.db);
	dns_db_free(dns.db);
	dns.db = db;
	dns_changed();
	return (0);
}

static void
dns_shutdown(void)
{
	if (dns.watching)
		dockerd_unwatch(dns_watch, NULL);
	dns.watching = 0;
	dns_share_shutdown();
	plugin_network_on_change(NULL);
	dns.gateway_port = 0;
	dns_gateways_sync();
	dns_listeners_close();
	if (dns.ev_commit != NULL)
		event_free(dns.ev_commit);
	dns.ev_commit = NULL;
	if (dns.ev_resign != NULL)
		event_free(dns.ev_resign);
	dns.ev_resign = NULL;
	if (dns.notify_fd4 != -1)
		close(dns.notify_fd4);
	if (dns.notify_fd6 != -1)
		close(dns.notify_fd6);
	dns.notify_fd4 = dns.notify_fd6 = -1;
	free(dns.axfr_allow);
	free(dns.notify);
	free(dns.notify_len);
	dns.axfr_allow = NULL;
	dns.notify = NULL;
	dns.notify_len = NULL;
	dns_db_free(dns.db);
	dns.db = NULL;
	dns_rrl_free(dns.rrl);
	dns.rrl = NULL;
	/* The registry may be reset after us: series are made again. */
	memset(dns.queries, 0, sizeof dns.queries);
	dns.rrl_dropped = dns.rrl_slipped = NULL;
}

void
dns_gen_records(yajl_gen g)
{
	if (dns.db != NULL) {
		dns_db_gen_records(dns.db, g);
		return;
	}
	yajl_gen_map_open(g);
	json_gen_key(g, "records");
	yajl_gen_array_open(g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

const struct server dns_server = {
	"dns", dns_init, dns_reload, dns_shutdown
};

/* The live db, for the ACME dns-01 records (dns_challenge.c); NULL when off. */
struct dns_db *
dns_server_db(void)
{
	return (dns.db);
}
