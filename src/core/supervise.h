/* supervise.h: the child-process table: start, readiness, restart with backoff,
 * ordered stop; SIGCHLD handled on the loop. */
#ifndef NETCRAVE_SUPERVISE_H
#define NETCRAVE_SUPERVISE_H

#include <sys/types.h>

#include "conf.h"

struct event_base;
struct child;

enum child_state {
	CHILD_STOPPED,		/* not running, not scheduled */
	CHILD_STARTING,		/* running, readiness not yet seen */
	CHILD_READY,		/* running and ready */
	CHILD_BACKOFF,		/* exited, restart scheduled */
	CHILD_STOPPING,		/* SIGTERM sent, waiting */
	CHILD_FAILED		/* exited and will not be restarted */
};

/* Readiness probe: return 1 when ready, 0 not yet (polled on a timer). */
typedef int	(*child_ready_fn)(struct child *, void *arg);
/* Notified on every state change (metrics, dependent children, tests). */
typedef void	(*child_state_cb)(struct child *, enum child_state old,
		    enum child_state new, void *arg);

/* Install the SIGCHLD handler on base.  Call once before adding children. */
void		 supervise_init(struct event_base *);
/*
 * Add a child described by spec (copied).  ready may be NULL: then a
 * spec->ready_socket is probed by connect(), and with neither the child is
 * ready as soon as it has been exec'd.
 */
struct child	*supervise_add(const struct conf_child *spec, child_ready_fn ready,
		    void *ready_arg);
void		 supervise_set_state_cb(struct child *, child_state_cb, void *arg);
int		 supervise_start(struct child *);
/* Start every child that is stopped. */
void		 supervise_start_all(void);
/*
 * Stop every child in stop_order (lower first): SIGTERM, SIGKILL after its
 * stop_timeout; done(arg) runs when all have been reaped.
 */
void		 supervise_stop_all(void (*done)(void *), void *arg);
/* Remove every child (they must be stopped) and the SIGCHLD handler. */
void		 supervise_shutdown(void);

const char	*supervise_role(const struct child *);
pid_t		 supervise_pid(const struct child *);	/* -1 if not running */
enum child_state supervise_state(const struct child *);
unsigned int	 supervise_restarts(const struct child *);
const char	*supervise_state_name(enum child_state);
struct child	*supervise_find(const char *role);
/* Walk the table (for netcravectl status). */
struct child	*supervise_first(void);
struct child	*supervise_next(struct child *);

#endif
