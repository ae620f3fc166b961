/* watch.h: an rtnetlink watcher on the loop: link and address (and route) events
 * of one namespace, handed to a callback as (what, link name, link alias). */
#ifndef NETCRAVE_WATCH_H
#define NETCRAVE_WATCH_H

#include <stddef.h>

struct event_base;
struct watch;

enum watch_what {
	WATCH_LINK_NEW,		/* a link appeared or changed */
	WATCH_LINK_DEL,		/* a link went away (or left the namespace) */
	WATCH_ADDR_DEL,		/* an address went (name "if<index>", no alias) */
	WATCH_LOST,		/* events were dropped (ENOBUFS): re-check all */
};

typedef void	(*watch_cb)(enum watch_what, const char *name, const char *alias,
		    void *arg);

/* Follow the namespace of nsfd; NULL with err filled on failure. */
struct watch	*watch_open(struct event_base *, int nsfd, watch_cb, void *arg,
		    char *err, size_t errlen);
void		 watch_close(struct watch *);
/*
 * The parse of what the watcher reads: buf holds rtnetlink messages as one
 * datagram brings them (len bytes, aligned for struct nlmsghdr); each link
 * message, and each address removal, goes to cb.  A truncated message ends
 * the walk.  Returns how many messages were handed to libnl.
 */
int		 watch_parse(void *buf, size_t len, watch_cb cb, void *arg);

#endif
