/* supervise.c: the child-process table: fork and exec with a clean slate, watch
 * readiness, restart with exponential backoff, stop in order; SIGCHLD on the loop. */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "supervise.h"
#include "util.h"
#include "xmalloc.h"

/* Children whose spec has no PATH get this one: enough for the usual tools. */
#define SUPERVISE_DEFAULT_PATH \
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* How often a STARTING child's readiness is probed. */
#define SUPERVISE_POLL_MS	20
/* A child ready this long is "stable": its consecutive failures are forgotten. */
#define SUPERVISE_STABLE_MIN_MS	1000

struct child {
	TAILQ_ENTRY(child)	 entry;
	struct conf_child	 spec;		/* our own deep copy */
	char			*labels;	/* role="..." for metrics */
	char			*netns_path;	/* /run/netns/<name>, or NULL */

	child_ready_fn		 ready;
	void			*ready_arg;
	child_state_cb		 state_cb;
	void			*state_arg;

	enum child_state	 state;
	pid_t			 pid;		/* -1 once reaped */
	unsigned int		 restarts;	/* restarts done, ever */
	unsigned int		 failures;	/* consecutive exits, for backoff */
	struct event		*timer;		/* probe, backoff or SIGKILL */
	long long		 started_ms;	/* monotonic time of fork */
	long long		 ready_ms;	/* when it became ready, or -1 */
	int			 stopping;	/* stopped on purpose: no restart */
	int			 timed_out;	/* killed for not getting ready */
	int			 waiting;	/* start_all held it for start_after */
};

static struct {
	struct event_base	*base;
	struct event		*sigchld;
	struct event		*done_ev;
	TAILQ_HEAD(, child)	 children;
	int			 stopping_all;
	void			 (*done)(void *);
	void			*done_arg;
} sv = { .children = TAILQ_HEAD_INITIALIZER(sv.children) };

static void	supervise_timer_cb(evutil_socket_t, short, void *);
static void	supervise_stop_next(void);

/* Milliseconds on the monotonic clock: backoff must not follow clock jumps. */
static long long
supervise_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Arm the child's one timer; its meaning follows from the state. */
static void
supervise_arm(struct child *c, unsigned int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	/* The loop's cached time may be stale (a fork took a while): the
	 * delay is promised from now. */
	event_base_update_cache_time(sv.base);
	evtimer_add(c->timer, &tv);
}

/* Human name of a state, for logs and netcravectl. */
const char *
supervise_state_name(enum child_state state)
{
	switch (state) {
	case CHILD_STOPPED:
		return ("stopped");
	case CHILD_STARTING:
		return ("starting");
	case CHILD_READY:
		return ("ready");
	case CHILD_BACKOFF:
		return ("backoff");
	case CHILD_STOPPING:
		return ("stopping");
	case CHILD_FAILED:
		return ("failed");
	}
	return ("unknown");
}

/* c became ready: start the children start_all held back for it. */
static void
supervise_start_waiting(struct child *c)
{
	struct child	*w;

	TAILQ_FOREACH(w, &sv.children, entry) {
		if (!w->waiting || w->state != CHILD_STOPPED ||
		    strcmp(w->spec.start_after, c->spec.role) != 0)
			continue;
		w->waiting = 0;
		if (!sv.stopping_all)
			supervise_start(w);
	}
}

/*
 * The one place a state changes: log it, update the up gauge, tell the
 * owner.  The callback may call back into us, so callers re-check the state.
 */
static void
supervise_set_state(struct child *c, enum child_state new)
{
	enum child_state	old = c->state;

	if (old == new)
		return;
	c->state = new;
	log_info("%s: %s -> %s", c->spec.role, supervise_state_name(old),
	    supervise_state_name(new));
	/* Looked up each time so a metrics_reset cannot leave us dangling. */
	metrics_set(metrics_gauge("netcrave_child_up",
	    "Whether a supervised child is running and ready.", c->labels),
	    new == CHILD_READY ? 1 : 0);
	if (c->state_cb != NULL)
		c->state_cb(c, old, new, c->state_arg);
	if (new == CHILD_READY)
		supervise_start_waiting(c);
}

/* Signal the child's whole process group, or the child alone if it left it. */
static void
supervise_signal(struct child *c, int sig)
{
	if (c->pid == -1)
		return;
	if (kill(-c->pid, sig) == -1 && errno == ESRCH)
		kill(c->pid, sig);
}

/* Build the child's environment: the spec's, plus a PATH if it has none. */
static char **
supervise_make_env(const struct child *c)
{
	char	**env;
	size_t	  n = 0, i;
	int	  has_path = 0;

	while (c->spec.env[n] != NULL) {
		if (strncmp(c->spec.env[n], "PATH=", 5) == 0)
			has_path = 1;
		n++;
	}
	env = xcalloc(n + 2, sizeof *env);
	for (i = 0; i < n; i++)
		env[i] = c->spec.env[i];
	if (!has_path)
		env[n] = (char *)(uintptr_t)SUPERVISE_DEFAULT_PATH;
	return (env);
}

/* In the child after fork: exec argv[0], searching PATH from env if bare. */
static void
supervise_exec(char *const *argv, char *const *env)
{
	const char	*path = NULL, *p, *end;
	char		 buf[PATH_MAX];
	size_t		 i, len;
	int		 saved = ENOENT;

	if (strchr(argv[0], '/') != NULL) {
		execve(argv[0], argv, env);
		return;
	}
	for (i = 0; env[i] != NULL; i++) {
		if (strncmp(env[i], "PATH=", 5) == 0)
			path = env[i] + 5;
	}
	for (p = path; p != NULL && *p != '\0'; p = *end == ':' ? end + 1 : end) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len == 0 || len + 1 + strlen(argv[0]) >= sizeof buf)
			continue;
		memcpy(buf, p, len);
		buf[len] = '/';
		strcpy(buf + len + 1, argv[0]);
		execve(buf, argv, env);
		/* Keep the most telling error, as execvp does. */
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
	}
	errno = saved;
}

/*
 * In the child after fork: a clean slate (own process group, default signals,
 * nothing blocked, stdin from /dev/null, stdout onto our stderr, no other fds),
 * the network namespace, then exec.  Never returns; failure exits 127.
 */
static void __attribute__((noreturn))
supervise_child_main(struct child *c, char *const *env)
{
	struct sigaction	sa;
	sigset_t		empty;
	int			sig, fd;

	setpgid(0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);	/* fails harmlessly for some */
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);

	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		if (fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
	}
	dup2(STDERR_FILENO, STDOUT_FILENO);

	if (c->netns_path != NULL) {
		if ((fd = open(c->netns_path, O_RDONLY | O_CLOEXEC)) == -1 ||
		    setns(fd, CLONE_NEWNET) == -1) {
			dprintf(STDERR_FILENO, "netcraved: %s: netns %s: %s\n",
			    c->spec.role, c->netns_path, strerror(errno));
			_exit(127);
		}
		close(fd);
	}

	if (close_range(3, ~0U, 0) == -1) {
		for (fd = 3; fd < 65536; fd++)
			close(fd);
	}

	supervise_exec(c->spec.argv, env);
	dprintf(STDERR_FILENO, "netcraved: %s: exec %s: %s\n", c->spec.role,
	    c->spec.argv[0], strerror(errno));
	_exit(127);
}

/* Connect to the ready socket: a listener there means the child is ready. */
static int
supervise_probe_socket(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, ok;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path)
		return (0);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (0);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	return (ok);
}

/* Is the child ready yet?  No probe at all means ready once exec'd. */
static int
supervise_is_ready(struct child *c)
{
	if (c->ready != NULL)
		return (c->ready(c, c->ready_arg));
	if (c->spec.ready_socket != NULL)
		return (supervise_probe_socket(c->spec.ready_socket));
	return (1);
}

/* The child became ready. */
static void
supervise_ready(struct child *c)
{
	c->ready_ms = supervise_now_ms();
	log_debug("%s: ready after %lld ms", c->spec.role,
	    c->ready_ms - c->started_ms);
	supervise_set_state(c, CHILD_READY);
}

/* SIGTERM the group now, SIGKILL after stop_timeout_ms unless reaped first. */
static void
supervise_terminate(struct child *c)
{
	supervise_signal(c, SIGTERM);
	supervise_arm(c, c->spec.stop_timeout_ms);
	supervise_set_state(c, CHILD_STOPPING);
}

static void	supervise_exited(struct child *, int, const char *);

/* Fork and exec the child; on fork failure it is treated as a failed run. */
static int
supervise_spawn(struct child *c)
{
	sigset_t	 all, old;
	char		**env;
	pid_t		 pid;

	env = supervise_make_env(c);
	c->stopping = 0;
	c->timed_out = 0;
	c->ready_ms = -1;
	c->started_ms = supervise_now_ms();

	/* No signal handler may run in the child before it resets them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		supervise_child_main(c, env);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(env);

	if (pid == -1) {
		log_warn("%s: fork", c->spec.role);
		supervise_exited(c, 0, "could not be forked");
		return (-1);
	}
	/* Also here, so a kill(-pid) right away cannot miss the group. */
	setpgid(pid, pid);
	c->pid = pid;
	log_debug("%s: started pid %ld", c->spec.role, (long)pid);

	supervise_set_state(c, CHILD_STARTING);
	if (c->state != CHILD_STARTING)
		return (0);
	if (c->ready == NULL && c->spec.ready_socket == NULL)
		supervise_ready(c);
	else
		supervise_arm(c, 0);
	return (0);
}

/* Backoff before the next start: initial, doubled per consecutive failure. */
static unsigned int
supervise_backoff_ms(const struct child *c)
{
	unsigned long long	ms = c->spec.backoff_initial_ms;
	unsigned int		i;

	for (i = 1; i < c->failures && ms < c->spec.backoff_max_ms; i++)
		ms *= 2;
	if (ms > c->spec.backoff_max_ms)
		ms = c->spec.backoff_max_ms;
	return ((unsigned int)ms);
}

/*
 * The child is gone (status from waitpid, or how: a fork failure).  Decide
 * between stopped, failed and a restart after backoff.
 */
static void
supervise_exited(struct child *c, int status, const char *how)
{
	char		 what[64];
	long long	 now = supervise_now_ms();
	unsigned int	 stable_ms, delay;
	int		 failure, restart;

	evtimer_del(c->timer);
	c->pid = -1;
	if (how == NULL) {
		if (WIFEXITED(status))
			snprintf(what, sizeof what, "exited with status %d",
			    WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			snprintf(what, sizeof what, "killed by signal %d",
			    WTERMSIG(status));
		else
			snprintf(what, sizeof what, "ended (status %#x)", status);
		how = what;
		failure = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	} else
		failure = 1;
	if (c->timed_out)
		failure = 1;

	if (c->stopping || sv.stopping_all) {
		log_info("%s: %s", c->spec.role, how);
		c->stopping = 0;
		supervise_set_state(c, CHILD_STOPPED);
		supervise_stop_next();
		return;
	}

	switch (c->spec.restart) {
	case CONF_RESTART_ALWAYS:
		restart = 1;
		break;
	case CONF_RESTART_ON_FAILURE:
		restart = failure;
		break;
	default:
		restart = 0;
		break;
	}
	if (!restart) {
		if (failure)
			log_warnx("%s: %s, not restarting", c->spec.role, how);
		else
			log_info("%s: %s", c->spec.role, how);
		supervise_set_state(c, failure ? CHILD_FAILED : CHILD_STOPPED);
		return;
	}

	stable_ms = c->spec.backoff_max_ms * 2;
	if (stable_ms < SUPERVISE_STABLE_MIN_MS)
		stable_ms = SUPERVISE_STABLE_MIN_MS;
	if (c->ready_ms != -1 && now - c->ready_ms >= stable_ms)
		c->failures = 0;
	c->failures++;
	delay = supervise_backoff_ms(c);
	log_warnx("%s: %s, restarting in %u ms", c->spec.role, how, delay);
	supervise_arm(c, delay);
	supervise_set_state(c, CHILD_BACKOFF);
}

/* The child's timer: probe readiness, restart after backoff, or SIGKILL. */
static void
supervise_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct child	*c = arg;

	switch (c->state) {
	case CHILD_STARTING:
		if (supervise_is_ready(c)) {
			/* The probe may have stopped it meanwhile. */
			if (c->state == CHILD_STARTING)
				supervise_ready(c);
			break;
		}
		if (c->state != CHILD_STARTING)
			break;
		if (c->spec.ready_timeout_ms != 0 &&
		    supervise_now_ms() - c->started_ms >=
		    c->spec.ready_timeout_ms) {
			log_warnx("%s: not ready after %u ms, stopping it",
			    c->spec.role, c->spec.ready_timeout_ms);
			c->timed_out = 1;
			supervise_terminate(c);
			break;
		}
		supervise_arm(c, SUPERVISE_POLL_MS);
		break;
	case CHILD_BACKOFF:
		c->restarts++;
		metrics_add(metrics_counter("netcrave_child_restarts_total",
		    "Restarts of supervised children.", c->labels), 1);
		supervise_spawn(c);
		break;
	case CHILD_STOPPING:
		log_warnx("%s: still running %u ms after SIGTERM, sending "
		    "SIGKILL", c->spec.role, c->spec.stop_timeout_ms);
		supervise_signal(c, SIGKILL);
		break;
	default:
		break;
	}
}

/* Find a child by pid, or NULL. */
static struct child *
supervise_find_pid(pid_t pid)
{
	struct child	*c;

	TAILQ_FOREACH(c, &sv.children, entry) {
		if (c->pid == pid)
			return (c);
	}
	return (NULL);
}

/*
 * SIGCHLD: reap every exited process.  waitid(WNOWAIT) first, so that while a
 * child is still a zombie its pid (and process group id) cannot be reused and
 * the SIGKILL for what is left of its group cannot hit a stranger.
 */
static void
supervise_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	struct child	*c;
	siginfo_t	 si;
	pid_t		 pid;
	int		 status;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("%s: waitid", __func__);
			break;
		}
		if (si.si_pid == 0)
			break;
		pid = si.si_pid;
		if ((c = supervise_find_pid(pid)) != NULL)
			kill(-pid, SIGKILL);	/* grandchildren left behind */
		while (waitpid(pid, &status, 0) == -1) {
			if (errno != EINTR) {
				/* Not reaped: waitid would return it forever. */
				log_warn("%s: waitpid %ld", __func__, (long)pid);
				return;
			}
		}
		if (c == NULL) {
			log_debug("%s: reaped pid %ld, not ours", __func__,
			    (long)pid);
			continue;
		}
		supervise_exited(c, status, NULL);
	}
}

/* Install the SIGCHLD handler on base. */
void
supervise_init(struct event_base *base)
{
	if (sv.base != NULL)
		fatalx("%s: already initialised", __func__);
	sv.base = base;
	sv.sigchld = evsignal_new(base, SIGCHLD, supervise_sigchld_cb, NULL);
	if (sv.sigchld == NULL || evsignal_add(sv.sigchld, NULL) == -1)
		fatalx("%s: cannot watch SIGCHLD", __func__);
	/* Children that ended before we watched would otherwise wait forever. */
	event_active(sv.sigchld, EV_SIGNAL, 1);
}

/* Add a child described by spec (copied), not yet started. */
struct child *
supervise_add(const struct conf_child *spec, child_ready_fn ready,
    void *ready_arg)
{
	struct child	*c;
	char		*role;

	if (sv.base == NULL)
		fatalx("%s: supervise_init not called", __func__);
	if (spec->role == NULL || spec->argv == NULL || spec->argv[0] == NULL) {
		log_warnx("%s: child without role or argv", __func__);
		return (NULL);
	}
	if (supervise_find(spec->role) != NULL) {
		log_warnx("%s: duplicate role", spec->role);
		return (NULL);
	}

	c = xcalloc(1, sizeof *c);
	c->spec = *spec;
	c->spec.role = xstrdup(spec->role);
	c->spec.argv = util_strv_copy(spec->argv);
	c->spec.env = util_strv_copy(spec->env);
	c->spec.netns = spec->netns != NULL ? xstrdup(spec->netns) : NULL;
	c->spec.ready_socket = spec->ready_socket != NULL ?
	    xstrdup(spec->ready_socket) : NULL;
	c->spec.start_after = spec->start_after != NULL ?
	    xstrdup(spec->start_after) : NULL;
	/* A zero backoff would turn a crashing child into a busy loop. */
	if (c->spec.backoff_initial_ms == 0)
		c->spec.backoff_initial_ms = 1;
	if (c->spec.backoff_max_ms < c->spec.backoff_initial_ms)
		c->spec.backoff_max_ms = c->spec.backoff_initial_ms;
	if (spec->netns != NULL) {
		if (spec->netns[0] == '/')
			c->netns_path = xstrdup(spec->netns);
		else
			xasprintf(&c->netns_path, "/run/netns/%s", spec->netns);
	}

	c->ready = ready;
	c->ready_arg = ready_arg;
	c->state = CHILD_STOPPED;
	c->pid = -1;
	c->ready_ms = -1;
	c->timer = evtimer_new(sv.base, supervise_timer_cb, c);
	if (c->timer == NULL)
		fatalx("%s: evtimer_new", __func__);

	role = metrics_escape_label(c->spec.role);
	xasprintf(&c->labels, "role=\"%s\"", role);
	free(role);
	metrics_counter("netcrave_child_restarts_total",
	    "Restarts of supervised children.", c->labels);
	metrics_set(metrics_gauge("netcrave_child_up",
	    "Whether a supervised child is running and ready.", c->labels), 0);

	TAILQ_INSERT_TAIL(&sv.children, c, entry);
	return (c);
}

/* Set the callback told of every state change. */
void
supervise_set_state_cb(struct child *c, child_state_cb cb, void *arg)
{
	c->state_cb = cb;
	c->state_arg = arg;
}

/* Start a stopped, failed or backing-off child now; running ones are left be. */
int
supervise_start(struct child *c)
{
	if (sv.stopping_all) {
		log_warnx("%s: not starting while stopping", c->spec.role);
		return (-1);
	}
	if (c->pid != -1)
		return (0);
	if (c->state != CHILD_BACKOFF)
		c->failures = 0;
	evtimer_del(c->timer);
	return (supervise_spawn(c));
}

/* Is the child c must start after (if any) ready? */
static int
supervise_after_ready(const struct child *c)
{
	struct child	*dep;

	if (c->spec.start_after == NULL)
		return (1);
	dep = supervise_find(c->spec.start_after);
	return (dep == NULL || dep->state == CHILD_READY);
}

/*
 * Start every child that is stopped; one whose start_after is not ready yet
 * waits and is started when it becomes ready (supervise_set_state).
 */
void
supervise_start_all(void)
{
	struct child	*c;

	TAILQ_FOREACH(c, &sv.children, entry) {
		if (c->state != CHILD_STOPPED)
			continue;
		if (!supervise_after_ready(c)) {
			c->waiting = 1;
			continue;
		}
		supervise_start(c);
	}
}

/* Run the stop_all done callback, from the loop rather than from our stack. */
static void
supervise_done_cb(evutil_socket_t fd, short events, void *arg)
{
	void	(*done)(void *) = sv.done;
	void	*done_arg = sv.done_arg;

	sv.stopping_all = 0;
	sv.done = NULL;
	sv.done_arg = NULL;
	if (done != NULL)
		done(done_arg);
}

/*
 * Move the ordered stop on: wait while a group is still being stopped,
 * otherwise SIGTERM the running children with the lowest stop_order, or
 * finish when none is left.
 */
static void
supervise_stop_next(void)
{
	struct child	*c;
	struct timeval	 tv = { 0, 0 };
	int		 found = 0, order = 0;

	if (!sv.stopping_all)
		return;
	TAILQ_FOREACH(c, &sv.children, entry) {
		if (c->pid == -1)
			continue;
		if (c->stopping)
			return;
		if (!found || c->spec.stop_order < order)
			order = c->spec.stop_order;
		found = 1;
	}
	if (!found) {
		evtimer_add(sv.done_ev, &tv);
		return;
	}
	log_debug("%s: stopping children with stop_order %d", __func__, order);
	TAILQ_FOREACH(c, &sv.children, entry) {
		if (c->pid == -1 || c->spec.stop_order != order)
			continue;
		supervise_stop(c);
	}
}

/* Stop every child in stop_order; done(arg) once all have been reaped. */
void
supervise_stop_all(void (*done)(void *), void *arg)
{
	struct child	*c;

	if (sv.base == NULL)
		fatalx("%s: supervise_init not called", __func__);
	sv.done = done;
	sv.done_arg = arg;
	if (sv.done_ev == NULL) {
		sv.done_ev = evtimer_new(sv.base, supervise_done_cb, NULL);
		if (sv.done_ev == NULL)
			fatalx("%s: evtimer_new", __func__);
	}
	if (sv.stopping_all)
		return;
	sv.stopping_all = 1;

	/* Pending restarts are cancelled: nothing starts during a stop. */
	TAILQ_FOREACH(c, &sv.children, entry) {
		if (c->state == CHILD_BACKOFF) {
			evtimer_del(c->timer);
			supervise_set_state(c, CHILD_STOPPED);
		}
	}
	supervise_stop_next();
}

/* Stop one child for good: SIGTERM, SIGKILL after stop_timeout_ms, no restart. */
void
supervise_stop(struct child *c)
{
	c->waiting = 0;
	if (c->state == CHILD_BACKOFF) {
		evtimer_del(c->timer);
		supervise_set_state(c, CHILD_STOPPED);
		return;
	}
	if (c->pid == -1 || c->stopping)
		return;
	c->stopping = 1;
	/* One killed for a readiness timeout already has its SIGKILL timer. */
	if (c->state != CHILD_STOPPING)
		supervise_terminate(c);
}

/* Free a child; a running one is SIGKILLed and reaped first (blocking). */
static void
supervise_free(struct child *c)
{
	if (c->pid != -1) {
		log_warnx("%s: still running, killing it", c->spec.role);
		supervise_signal(c, SIGKILL);
		while (waitpid(c->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	event_free(c->timer);
	free(c->spec.role);
	util_strv_free(c->spec.argv);
	util_strv_free(c->spec.env);
	free(c->spec.netns);
	free(c->spec.ready_socket);
	free(c->spec.start_after);
	free(c->netns_path);
	free(c->labels);
	free(c);
}

/* Forget a child that is not running (after a reload dropped it). */
int
supervise_remove(struct child *c)
{
	if (c->pid != -1) {
		log_warnx("%s: cannot remove a running child", c->spec.role);
		return (-1);
	}
	TAILQ_REMOVE(&sv.children, c, entry);
	supervise_free(c);
	return (0);
}

/* Free every child and the SIGCHLD handler; stragglers are killed and reaped. */
void
supervise_shutdown(void)
{
	struct child	*c;

	while ((c = TAILQ_FIRST(&sv.children)) != NULL) {
		TAILQ_REMOVE(&sv.children, c, entry);
		/* Blocking, but we are exiting and must leave no orphan. */
		supervise_free(c);
	}
	if (sv.sigchld != NULL)
		event_free(sv.sigchld);
	if (sv.done_ev != NULL)
		event_free(sv.done_ev);
	sv.sigchld = NULL;
	sv.done_ev = NULL;
	sv.base = NULL;
	sv.stopping_all = 0;
	sv.done = NULL;
	sv.done_arg = NULL;
}

/* The child's role. */
const char *
supervise_role(const struct child *c)
{
	return (c->spec.role);
}

/* The child's pid, or -1 when it is not running. */
pid_t
supervise_pid(const struct child *c)
{
	return (c->pid);
}

/* The child's state. */
enum child_state
supervise_state(const struct child *c)
{
	return (c->state);
}

/* How many times the child has been restarted after exiting. */
unsigned int
supervise_restarts(const struct child *c)
{
	return (c->restarts);
}

/* Milliseconds since the running process was started; -1 when none runs. */
long long
supervise_uptime_ms(const struct child *c)
{
	if (c->pid == -1)
		return (-1);
	return (supervise_now_ms() - c->started_ms);
}

/* The child with this role, or NULL. */
struct child *
supervise_find(const char *role)
{
	struct child	*c;

	TAILQ_FOREACH(c, &sv.children, entry) {
		if (strcmp(c->spec.role, role) == 0)
			return (c);
	}
	return (NULL);
}

/* First child in the table (in the order they were added). */
struct child *
supervise_first(void)
{
	return (TAILQ_FIRST(&sv.children));
}

/* The child after c, or NULL. */
struct child *
supervise_next(struct child *c)
{
	return (TAILQ_NEXT(c, entry));
}
