/* watch.c: rtnetlink multicast groups read on the loop.  The kernel tells of every
 * link and address change in the namespace; the callback decides what matters
 * (netcrave's aliases).  When the kernel dropped messages (ENOBUFS) the callback
 * hears WATCH_LOST and re-checks everything. */
#include "config.h"

#include <sys/socket.h>

#include <linux/rtnetlink.h>
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

struct watch {
	struct nl_sock	*sk;
	struct event	*ev;
	watch_cb	 cb;
	void		*arg;
};

/* One parsed link object. */
static void
watch_link_obj(struct nl_object *obj, void *arg)
{
	struct watch		*w = arg;
	struct rtnl_link	*l = (struct rtnl_link *)obj;
	const char		*name = rtnl_link_get_name(l);
	const char		*alias = rtnl_link_get_ifalias(l);
	int			 type = nl_object_get_msgtype(obj);

	if (name == NULL)
		return;
	w->cb(type == RTM_DELLINK ? WATCH_LINK_DEL : WATCH_LINK_NEW, name,
	    alias != NULL ? alias : "", w->arg);
}

/* One parsed address object: only removals matter (a gateway taken away). */
static void
watch_addr_obj(struct nl_object *obj, void *arg)
{
	struct watch	*w = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	char		 name[32];

	if (nl_object_get_msgtype(obj) != RTM_DELADDR)
		return;
	/* The message carries the index only; the callback re-checks. */
	snprintf(name, sizeof name, "if%d", rtnl_addr_get_ifindex(a));
	w->cb(WATCH_ADDR_DEL, name, "", w->arg);
}

static int
watch_msg(struct nl_msg *msg, void *arg)
{
	struct watch	*w = arg;
	int		 type = nlmsg_hdr(msg)->nlmsg_type;

	if (type == RTM_NEWLINK || type == RTM_DELLINK)
		nl_msg_parse(msg, watch_link_obj, w);
	else if (type == RTM_DELADDR)
		nl_msg_parse(msg, watch_addr_obj, w);
	return (NL_OK);
}

static void
watch_read(evutil_socket_t fd, short events, void *arg)
{
	struct watch	*w = arg;
	int		 rc;

	if ((rc = nl_recvmsgs_default(w->sk)) == -NLE_NOMEM) {
		log_warnx("watch: rtnetlink dropped events: re-checking");
		w->cb(WATCH_LOST, "", "", w->arg);
	} else if (rc < 0 && rc != -NLE_AGAIN)
		log_warnx("watch: rtnetlink: %s", nl_geterror(rc));
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
	if ((w->sk = nl_socket_alloc()) == NULL)
		fatalx("%s: nl_socket_alloc", __func__);
	nl_socket_disable_seq_check(w->sk);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, watch_msg, w);
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
	free(w);
}
