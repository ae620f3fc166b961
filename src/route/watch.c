/* watch.c: rtnetlink multicast groups read on the loop.  The kernel tells of every
 * link and address change in the namespace; the callback decides what matters
 * (netcrave's aliases).  When the kernel dropped messages (ENOBUFS) the callback
 * hears WATCH_LOST and re-checks everything.  The datagrams are read here and
 * parsed by watch_parse, which the fuzzer (tests/fuzz/fuzz_rtnl.c) calls too. */
#include "config.h"

#include <sys/socket.h>

#include <linux/rtnetlink.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "log.h"
#include "netns.h"
#include "watch.h"
#include "xmalloc.h"

#define WATCH_BUFSIZE	65536	/* one datagram of events, at most */

struct watch {
	struct nl_sock	*sk;
	struct event	*ev;
	watch_cb	 cb;
	void		*arg;
	void		*buf;		/* WATCH_BUFSIZE, aligned for nlmsghdr */
};

/* What the parse hands its objects to. */
struct watch_parse_ctx {
	watch_cb	 cb;
	void		*arg;
};

/* One parsed link object. */
static void
watch_link_obj(struct nl_object *obj, void *arg)
{
	struct watch_parse_ctx	*ctx = arg;
	struct rtnl_link	*l = (struct rtnl_link *)obj;
	const char		*name = rtnl_link_get_name(l);
	const char		*alias = rtnl_link_get_ifalias(l);
	int			 type = nl_object_get_msgtype(obj);

	if (name == NULL)
		return;
	ctx->cb(type == RTM_DELLINK ? WATCH_LINK_DEL : WATCH_LINK_NEW, name,
	    alias != NULL ? alias : "", ctx->arg);
}

/* One parsed address object: only removals matter (a gateway taken away). */
static void
watch_addr_obj(struct nl_object *obj, void *arg)
{
	struct watch_parse_ctx	*ctx = arg;
	struct rtnl_addr	*a = (struct rtnl_addr *)obj;
	char			 name[32];

	if (nl_object_get_msgtype(obj) != RTM_DELADDR)
		return;
	/* The message carries the index only; the callback re-checks. */
	snprintf(name, sizeof name, "if%d", rtnl_addr_get_ifindex(a));
	ctx->cb(WATCH_ADDR_DEL, name, "", ctx->arg);
}

int
watch_parse(void *buf, size_t len, watch_cb cb, void *arg)
{
	struct watch_parse_ctx	 ctx = { cb, arg };
	struct nlmsghdr		*h;
	struct nl_msg		*msg;
	size_t			 off, next;
	int			 n = 0;

	/*
	 * A whole header, and a length inside what is left (as NLMSG_OK); the
	 * step is by hand, as NLMSG_NEXT would take an unsigned len past zero
	 * after an unaligned last message.
	 */
	for (off = 0; len - off >= sizeof *h; off = next) {
		h = (struct nlmsghdr *)(void *)((char *)buf + off);
		if (h->nlmsg_len < sizeof *h || h->nlmsg_len > len - off)
			break;
		next = off + NLMSG_ALIGN(h->nlmsg_len);
		if (next > len)
			next = len;
		if (h->nlmsg_type == NLMSG_DONE)
			break;
		if (h->nlmsg_type != RTM_NEWLINK &&
		    h->nlmsg_type != RTM_DELLINK &&
		    h->nlmsg_type != RTM_DELADDR)
			continue;
		/* libnl parses a copy, with its own checks of the attributes. */
		if ((msg = nlmsg_convert(h)) == NULL)
			fatalx("%s: nlmsg_convert", __func__);
		/* libnl finds its parser by protocol and type. */
		nlmsg_set_proto(msg, NETLINK_ROUTE);
		if (h->nlmsg_type == RTM_DELADDR)
			nl_msg_parse(msg, watch_addr_obj, &ctx);
		else
			nl_msg_parse(msg, watch_link_obj, &ctx);
		nlmsg_free(msg);
		n++;
	}
	return (n);
}

/* Read every datagram waiting; each is parsed as watch_parse does. */
static void
watch_read(evutil_socket_t fd, short events, void *arg)
{
	struct watch	*w = arg;
	ssize_t		 n;

	for (;;) {
		n = recv(fd, w->buf, WATCH_BUFSIZE, MSG_DONTWAIT);
		if (n == -1 && errno == ENOBUFS) {
			log_warnx("watch: rtnetlink dropped events: re-checking");
			w->cb(WATCH_LOST, "", "", w->arg);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("watch: rtnetlink");
			return;
		}
		if (n == 0)
			return;
		watch_parse(w->buf, (size_t)n, w->cb, w->arg);
	}
}

struct watch *
watch_open(struct event_base *base, int nsfd, watch_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct watch	*w;
	int		 rc;

	w = xcalloc(1, sizeof *w);
	w->cb = cb;
	w->arg = arg;
	w->buf = xmalloc(WATCH_BUFSIZE);
	if ((w->sk = nl_socket_alloc()) == NULL)
		fatalx("%s: nl_socket_alloc", __func__);
	if (netns_enter(nsfd) == -1) {
		snprintf(err, errlen, "cannot enter the namespace");
		goto fail;
	}
	rc = nl_connect(w->sk, NETLINK_ROUTE);
	netns_leave();
	if (rc < 0) {
		snprintf(err, errlen, "rtnetlink: %s", nl_geterror(rc));
		goto fail;
	}
	if ((rc = nl_socket_add_memberships(w->sk, RTNLGRP_LINK,
	    RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
	    RTNLGRP_IPV6_ROUTE, 0)) < 0) {
		snprintf(err, errlen, "rtnetlink groups: %s", nl_geterror(rc));
		goto fail;
	}
	nl_socket_set_nonblocking(w->sk);
	/* Room for a burst (a busy host makes many links at once). */
	(void)nl_socket_set_buffer_size(w->sk, 1024 * 1024, 0);
	w->ev = event_new(base, nl_socket_get_fd(w->sk), EV_READ | EV_PERSIST,
	    watch_read, w);
	event_add(w->ev, NULL);
	return (w);
fail:
	nl_socket_free(w->sk);
	free(w->buf);
	free(w);
	return (NULL);
}

void
watch_close(struct watch *w)
{
	if (w == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	nl_socket_free(w->sk);
	free(w->buf);
	free(w);
}
