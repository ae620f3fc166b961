/* supervise.h: the child-process table: start, readiness, restart with backoff,
 * ordered stop; SIGCHLD handled on the loop. */

/*
 * What a child gets (fork + execve):
 * - its own process group; signals go to the whole group, and when the child
 *   itself exits whatever is left of its group gets SIGKILL;
 * - default signal dispositions and an empty signal mask;
 * - exactly spec->env, plus PATH=/usr/local/sbin:...:/bin when the spec has
 *   no PATH; a bare argv[0] (no '/') is looked up in that PATH;
 * - stdin from /dev/null, stdout and stderr onto netcraved's stderr, no other
 *   file descriptors;
 * - with spec->netns, the network namespace /run/netns/<netns> (or the path
 *   itself when it starts with '/'); failing that it exits 127, as it does
 *   when exec fails, with the reason on stderr.
 *
 * Order: a child whose spec->start_after names another role is held by
 * supervise_start_all until that child is READY, then started (once; a later
 * restart of the other child does not restart it).
 *
 * Restart: "always" restarts every exit, "on-failure" a non-zero exit, a
 * signal or a readiness timeout, "never" none.  A child that is not
 * restarted ends FAILED after a failure, STOPPED after a clean exit.  The
 * delay is backoff_initial_ms doubled per consecutive exit and capped at
 * backoff_max_ms; the count of consecutive exits starts again when the child
 * had been ready for max(1 s, 2 * backoff_max_ms).  ready_timeout_ms 0 means
 * no deadline; a deadline missed gets SIGTERM (SIGKILL after stop_timeout_ms)
 * and counts as a failure.  Readiness is probed every 20 ms.
 *
 * SIGCHLD reaps every exited process of netcraved, ours or not: code that
 * forks on its own must not rely on waitpid().  Metrics per child:
 * netcrave_child_restarts_total{role} and netcrave_child_up{role} (1 when
 * READY).  State callbacks may call supervise_start / supervise_stop /
 * supervise_stop_all but not supervise_remove or supervise_shutdown.
 */
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

/* Install the SIGCHLD handler on base.  Call once before adding children
 * (again only after supervise_shutdown). */
void		 supervise_init(struct event_base *);
/*
 * Add a child described by spec (copied).  ready may be NULL: then a
 * spec->ready_socket is probed by connect(), and with neither the child is
 * ready as soon as it has been exec'd.
 */
struct child	*supervise_add(const struct conf_child *spec, child_ready_fn ready,
		    void *ready_arg);	/* NULL: no argv, or the role exists */
void		 supervise_set_state_cb(struct child *, child_state_cb, void *arg);
/* Start now (a pending backoff is cut short); -1 if fork failed or stopping. */
int		 supervise_start(struct child *);
/* Start every child that is stopped. */
void		 supervise_start_all(void);
/*
 * Stop every child in stop_order (lower first): SIGTERM, SIGKILL after its
 * stop_timeout; the next stop_order only once the previous one is reaped.
 * Pending restarts are cancelled and none happens meanwhile.  done(arg) runs
 * from the loop when all have been reaped; then children may be started again.
 */
void		 supervise_stop_all(void (*done)(void *), void *arg);
/* Stop one child (no restart): SIGTERM, SIGKILL after its stop_timeout;
 * a pending restart is cancelled.  It ends STOPPED once reaped. */
void		 supervise_stop(struct child *);
/* Forget a child that is not running; -1 if it is.  Not from a callback. */
int		 supervise_remove(struct child *);
/* Remove every child and the SIGCHLD handler.  Children should be stopped;
 * any still running is SIGKILLed and reaped (blocking) so none is orphaned. */
void		 supervise_shutdown(void);

const char	*supervise_role(const struct child *);
pid_t		 supervise_pid(const struct child *);	/* -1 if not running */
enum child_state supervise_state(const struct child *);
unsigned int	 supervise_restarts(const struct child *);
long long	 supervise_uptime_ms(const struct child *);	/* -1: not running */
const char	*supervise_state_name(enum child_state);
struct child	*supervise_find(const char *role);
/* Walk the table (for netcravectl status). */
struct child	*supervise_first(void);
struct child	*supervise_next(struct child *);

#endif
