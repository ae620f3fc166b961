/* test_supervise.c: the supervisor on a real event loop with real children
 * (tests/helpers/nc-testchild): backoff, policies, readiness, ordered stop. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "supervise.h"

#define MAX_RECORDS	512
/* conf_child holds char *; our literals are const. */
#define UNCONST(p)	((void *)(uintptr_t)(const void *)(p))

/* One state change as the callback saw it. */
struct record {
	char			 role[32];
	enum child_state	 old, new;
	long long		 ms;
	int			 socket_existed;	/* ready socket at the time */
};

static struct event_base	*base;
static struct event		*tick;
static struct record		 records[MAX_RECORDS];
static int			 nrecords;
static char			 testchild[PATH_MAX];
static char			 tmpdir[64];
static int			 stop_done;
static const char		*watched_socket;

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A path inside this test's temporary directory (static buffer per slot). */
static char *
tmp_path(int slot, const char *name)
{
	static char	paths[8][PATH_MAX];

	snprintf(paths[slot], sizeof paths[slot], "%s/%s", tmpdir, name);
	return (paths[slot]);
}

/* Record every state change with its time. */
static void
record_state(struct child *c, enum child_state old, enum child_state new,
    void *arg)
{
	struct record	*r;
	struct stat	 sb;

	assert_true(nrecords < MAX_RECORDS);
	r = &records[nrecords++];
	snprintf(r->role, sizeof r->role, "%s", supervise_role(c));
	r->old = old;
	r->new = new;
	r->ms = now_ms();
	r->socket_existed = watched_socket != NULL &&
	    stat(watched_socket, &sb) == 0;
	/* The callback sees the new state already in place. */
	assert_int_equal(supervise_state(c), new);
}

/* Time of the nth (from 0) change of role into state, or -1. */
static long long
when(const char *role, enum child_state state, int n)
{
	int	i;

	for (i = 0; i < nrecords; i++) {
		if (strcmp(records[i].role, role) != 0 ||
		    records[i].new != state)
			continue;
		if (n-- == 0)
			return (records[i].ms);
	}
	return (-1);
}

/* Index in records of the nth change of role into state, or -1. */
static int
record_index(const char *role, enum child_state state, int n)
{
	int	i;

	for (i = 0; i < nrecords; i++) {
		if (strcmp(records[i].role, role) == 0 &&
		    records[i].new == state && n-- == 0)
			return (i);
	}
	return (-1);
}

/* How many times role went into state. */
static int
count(const char *role, enum child_state state)
{
	int	i, n = 0;

	for (i = 0; i < nrecords; i++) {
		if (strcmp(records[i].role, role) == 0 &&
		    records[i].new == state)
			n++;
	}
	return (n);
}

/* Run the loop until role has entered state n times; fail after timeout_ms. */
static void
run_until(const char *role, enum child_state state, int n, long long timeout_ms)
{
	long long	deadline = now_ms() + timeout_ms;

	while (count(role, state) < n) {
		if (now_ms() > deadline)
			fail_msg("%s: still %d of %d times %s after %lld ms",
			    role, count(role, state), n,
			    supervise_state_name(state), timeout_ms);
		event_base_loop(base, EVLOOP_ONCE);
	}
}

/* Run the loop for ms milliseconds. */
static void
run_for(long long ms)
{
	long long	deadline = now_ms() + ms;

	while (now_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
}

/* stop_all's done callback. */
static void
stopped_all(void *arg)
{
	int	*flag = arg;

	(*flag)++;
}

/* Stop everything and wait for the done callback. */
static void
stop_and_wait(long long timeout_ms)
{
	long long	deadline = now_ms() + timeout_ms;

	stop_done = 0;
	supervise_stop_all(stopped_all, &stop_done);
	while (!stop_done) {
		if (now_ms() > deadline)
			fail_msg("stop_all not done after %lld ms", timeout_ms);
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_int_equal(stop_done, 1);
}

/* Keep EVLOOP_ONCE from sleeping forever, so deadlines are checked. */
static void
tick_cb(evutil_socket_t fd, short events, void *arg)
{
}

/* Count live (non-zombie) processes whose parent is pid. */
static int
children_of(pid_t pid)
{
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	char		 path[300], buf[512], *p, state;
	long		 ppid;
	int		 n = 0;

	d = opendir("/proc");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof buf, f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %c %ld", &state, &ppid) == 2 &&
		    ppid == (long)pid)
			n++;
		fclose(f);
	}
	closedir(d);
	return (n);
}

/* Is pid a live process (a zombie waiting for some other reaper is dead)? */
static int
alive(pid_t pid)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	int	 live = 0;

	if (kill(pid, 0) == -1)
		return (0);
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		live = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return (live);
}

/* Wait up to ms for pid to be gone. */
static int
gone_within(pid_t pid, long long ms)
{
	long long	deadline = now_ms() + ms;

	while (alive(pid)) {
		if (now_ms() > deadline)
			return (0);
		usleep(10000);
	}
	return (1);
}

/* Read a pid written by nc-testchild, waiting for the file to appear. */
static pid_t
read_pidfile(const char *path)
{
	long long	 deadline = now_ms() + 5000;
	FILE		*f;
	long		 pid = -1;

	while ((f = fopen(path, "r")) == NULL) {
		assert_true(now_ms() < deadline);
		run_for(10);
	}
	assert_int_equal(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	assert_true(pid > 0);
	return ((pid_t)pid);
}

/* Read a whole small file into a static buffer. */
static const char *
read_text(const char *path)
{
	static char	 text[16384];
	FILE		*f;
	size_t		 n;

	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return (text);
}

/* A spec for nc-testchild with short timings; argv[0] is filled in here. */
static struct conf_child
spec_make(const char *role, const char **argv)
{
	static const char	*no_env[] = { NULL };
	struct conf_child	 spec;

	memset(&spec, 0, sizeof spec);
	spec.role = UNCONST(role);
	argv[0] = testchild;
	spec.argv = UNCONST(argv);
	spec.env = UNCONST(no_env);
	spec.restart = CONF_RESTART_NEVER;
	spec.backoff_initial_ms = 50;
	spec.backoff_max_ms = 1000;
	spec.ready_timeout_ms = 0;
	spec.stop_order = 0;
	spec.stop_timeout_ms = 2000;
	return (spec);
}

/* Add a spec with the recording callback. */
static struct child *
add(const struct conf_child *spec, child_ready_fn ready, void *arg)
{
	struct child	*c;

	c = supervise_add(spec, ready, arg);
	assert_non_null(c);
	supervise_set_state_cb(c, record_state, NULL);
	return (c);
}

/* Render the metrics registry into a static string. */
static const char *
render_metrics(void)
{
	static char	 text[16384];
	struct evbuffer	*buf;
	size_t		 n;

	buf = evbuffer_new();
	metrics_render(buf);
	n = evbuffer_remove(buf, text, sizeof text - 1);
	text[n] = '\0';
	evbuffer_free(buf);
	return (text);
}

/* Fresh loop, supervisor and temporary directory for each test. */
static int
setup(void **state)
{
	struct timeval		 tv = { 0, 10000 };
	struct event_config	*cfg;
	const char		*env;

	env = getenv("NC_TESTCHILD");
	snprintf(testchild, sizeof testchild, "%s",
	    env != NULL ? env : "./tests/helpers/nc-testchild");
	if (access(testchild, X_OK) != 0) {
		fprintf(stderr, "%s: not found (set NC_TESTCHILD)\n", testchild);
		return (-1);
	}
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_supervise.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	/* Precise: the coarse clock could fire timers a jiffy early. */
	cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (base == NULL)
		return (-1);
	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick, &tv);
	supervise_init(base);
	nrecords = 0;
	watched_socket = NULL;
	return (0);
}

/* Stop everything, then prove nothing is left: no zombie, no child at all. */
static int
teardown(void **state)
{
	char	cmd[PATH_MAX + 16];
	int	status;

	stop_and_wait(10000);
	supervise_shutdown();
	event_free(tick);
	event_base_free(base);
	metrics_reset();

	errno = 0;
	assert_int_equal(waitpid(-1, &status, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(children_of(getpid()), 0);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return (-1);
	return (0);
}

/* An exiting child is restarted with growing gaps: 50, 100, 200 ms. */
static void
test_restart_backoff(void **state)
{
	const char		*argv[] = { NULL, "--exit-after", "0",
				    "--exit-code", "1", NULL };
	struct conf_child	 spec = spec_make("exiter", argv);
	struct child		*c;
	long long		 start[4], gap[3];
	int			 i;

	spec.restart = CONF_RESTART_ALWAYS;
	spec.backoff_initial_ms = 50;
	spec.backoff_max_ms = 1000;
	c = add(&spec, NULL, NULL);
	assert_int_equal(supervise_state(c), CHILD_STOPPED);
	assert_int_equal(supervise_pid(c), -1);
	assert_int_equal(supervise_start(c), 0);
	assert_true(supervise_pid(c) > 0);

	run_until("exiter", CHILD_STARTING, 4, 5000);
	for (i = 0; i < 4; i++)
		start[i] = when("exiter", CHILD_STARTING, i);
	for (i = 0; i < 3; i++) {
		gap[i] = start[i + 1] - start[i];
		/* The backoff timer alone guarantees the lower bound. */
		assert_true(gap[i] >= 50LL << i);
	}
	/* No upper bounds or gap-to-gap order: a loaded machine may take
	 * longer to fork and exit than the backoff itself. */
	assert_true(supervise_restarts(c) >= 3);
	assert_int_equal(count("exiter", CHILD_BACKOFF), (int)supervise_restarts(c) +
	    (supervise_state(c) == CHILD_BACKOFF ? 1 : 0));
}

/* A crashing child ("on-failure") is restarted; the backoff stops at max. */
static void
test_crash_backoff_capped(void **state)
{
	const char		*argv[] = { NULL, "--crash-after", "0", NULL };
	struct conf_child	 spec = spec_make("crasher", argv);
	struct child		*c;
	long long		 delay[4];
	char			 line[128];
	int			 i;

	spec.restart = CONF_RESTART_ON_FAILURE;
	spec.backoff_initial_ms = 20;
	spec.backoff_max_ms = 40;
	c = add(&spec, NULL, NULL);
	supervise_start(c);

	run_until("crasher", CHILD_STARTING, 5, 5000);
	/* From entering BACKOFF to the next start: 20, 40, then 40, not 80. */
	for (i = 0; i < 4; i++) {
		delay[i] = when("crasher", CHILD_STARTING, i + 1) -
		    when("crasher", CHILD_BACKOFF, i);
		assert_true(delay[i] >= (i == 0 ? 20 : 40));
	}
	assert_true(delay[2] < 80);
	assert_true(delay[3] < 80);

	run_until("crasher", CHILD_STARTING, 6, 5000);
	snprintf(line, sizeof line,
	    "netcrave_child_restarts_total{role=\"crasher\"} %u\n",
	    supervise_restarts(c));
	assert_true(supervise_restarts(c) >= 5);
	assert_non_null(strstr(render_metrics(), line));
}

/* Restart "never": a failed child ends FAILED and stays down. */
static void
test_never_failed(void **state)
{
	const char		*argv[] = { NULL, "--exit-after", "0",
				    "--exit-code", "3", NULL };
	struct conf_child	 spec = spec_make("once", argv);
	struct child		*c;

	c = add(&spec, NULL, NULL);
	supervise_start(c);
	run_until("once", CHILD_FAILED, 1, 5000);
	run_for(200);
	assert_int_equal(supervise_state(c), CHILD_FAILED);
	assert_int_equal(supervise_restarts(c), 0);
	assert_int_equal(supervise_pid(c), -1);
	assert_int_equal(count("once", CHILD_STARTING), 1);
	assert_int_equal(count("once", CHILD_BACKOFF), 0);
	/* Without a probe it was ready as soon as it ran. */
	assert_int_equal(count("once", CHILD_READY), 1);
	assert_true(record_index("once", CHILD_STARTING, 0) <
	    record_index("once", CHILD_READY, 0));
}

/* "on-failure" leaves a clean exit alone: STOPPED, no restart. */
static void
test_on_failure_clean_exit(void **state)
{
	const char		*argv[] = { NULL, "--exit-after", "0", NULL };
	struct conf_child	 spec = spec_make("clean", argv);
	struct child		*c;

	spec.restart = CONF_RESTART_ON_FAILURE;
	c = add(&spec, NULL, NULL);
	supervise_start(c);
	run_until("clean", CHILD_READY, 1, 5000);
	run_for(300);
	assert_int_equal(supervise_state(c), CHILD_STOPPED);
	assert_int_equal(count("clean", CHILD_BACKOFF), 0);
	assert_int_equal(count("clean", CHILD_STARTING), 1);
	assert_int_equal(supervise_restarts(c), 0);
}

/* Readiness by socket: READY only once the child listens (after 300 ms). */
static void
test_ready_socket(void **state)
{
	const char		*argv[] = { NULL, "--listen", NULL,
				    "--ready-after", "300", NULL };
	struct conf_child	 spec = spec_make("listener", argv);
	struct child		*c;
	long long		 waited;

	argv[2] = tmp_path(0, "ready.sock");
	spec.ready_socket = UNCONST(argv[2]);
	spec.ready_timeout_ms = 5000;
	watched_socket = argv[2];
	c = add(&spec, NULL, NULL);
	supervise_start(c);
	run_until("listener", CHILD_STARTING, 1, 5000);
	assert_int_equal(supervise_state(c), CHILD_STARTING);
	assert_false(records[record_index("listener", CHILD_STARTING, 0)].
	    socket_existed);
	assert_non_null(strstr(render_metrics(),
	    "netcrave_child_up{role=\"listener\"} 0\n"));

	run_until("listener", CHILD_READY, 1, 5000);
	waited = when("listener", CHILD_READY, 0) -
	    when("listener", CHILD_STARTING, 0);
	assert_true(waited >= 300);
	assert_true(records[record_index("listener", CHILD_READY, 0)].
	    socket_existed);
	assert_non_null(strstr(render_metrics(),
	    "netcrave_child_up{role=\"listener\"} 1\n"));
	assert_int_equal(supervise_restarts(c), 0);
}

/* A custom probe is polled until it says yes. */
static int
ready_on_third_call(struct child *c, void *arg)
{
	int	*calls = arg;

	assert_string_equal(supervise_role(c), "probed");
	return (++*calls >= 3);
}

/* Readiness by a custom function. */
static void
test_ready_custom(void **state)
{
	const char		*argv[] = { NULL, NULL };
	struct conf_child	 spec = spec_make("probed", argv);
	struct child		*c;
	int			 calls = 0;

	c = add(&spec, ready_on_third_call, &calls);
	supervise_start(c);
	run_until("probed", CHILD_READY, 1, 5000);
	assert_int_equal(calls, 3);
	assert_int_equal(supervise_state(c), CHILD_READY);
}

/* Ready once the flag it points at is set. */
static int
ready_when_set(struct child *c, void *arg)
{
	return (*(int *)arg);
}

/*
 * start_after: start_all holds "second" until "first" is ready, then starts
 * it; a child stopped on purpose meanwhile is not started by the dependency.
 */
static void
test_start_after(void **state)
{
	const char		*argv[] = { NULL, NULL };
	struct conf_child	 first = spec_make("first", argv);
	struct conf_child	 second = spec_make("second", argv);
	struct conf_child	 third = spec_make("third", argv);
	struct child		*c1, *c2, *c3;
	int			 go = 0;

	second.start_after = UNCONST("first");
	third.start_after = UNCONST("first");
	c1 = add(&first, ready_when_set, &go);
	c2 = add(&second, NULL, NULL);
	c3 = add(&third, NULL, NULL);
	supervise_start_all();
	run_for(200);
	assert_int_equal(supervise_state(c1), CHILD_STARTING);
	assert_int_equal(supervise_state(c2), CHILD_STOPPED);
	assert_int_equal(supervise_pid(c2), -1);
	supervise_stop(c3);		/* the operator changed their mind */
	go = 1;
	run_until("second", CHILD_READY, 1, 5000);
	assert_true(when("second", CHILD_STARTING, 0) >=
	    when("first", CHILD_READY, 0));
	run_for(100);
	assert_int_equal(supervise_state(c3), CHILD_STOPPED);
	assert_int_equal(count("third", CHILD_STARTING), 0);
}

/* A probe that never succeeds. */
static int
never_ready(struct child *c, void *arg)
{
	return (0);
}

/* Not ready in time: stopped, counted as a failure, restarted. */
static void
test_ready_timeout(void **state)
{
	const char		*argv[] = { NULL, NULL };
	struct conf_child	 spec = spec_make("slow", argv);
	struct child		*c;
	long long		 took;

	spec.restart = CONF_RESTART_ON_FAILURE;
	spec.ready_timeout_ms = 200;
	spec.backoff_initial_ms = 50;
	c = add(&spec, never_ready, NULL);
	supervise_start(c);
	run_until("slow", CHILD_STARTING, 2, 5000);
	took = when("slow", CHILD_STOPPING, 0) - when("slow", CHILD_STARTING, 0);
	assert_true(took >= 200);
	assert_int_equal(count("slow", CHILD_READY), 0);
	assert_true(record_index("slow", CHILD_STOPPING, 0) <
	    record_index("slow", CHILD_BACKOFF, 0));
	assert_int_equal(supervise_restarts(c), 1);
}

/* Restart "never" plus a readiness timeout ends FAILED. */
static void
test_ready_timeout_never(void **state)
{
	const char		*argv[] = { NULL, NULL };
	struct conf_child	 spec = spec_make("slow-never", argv);
	struct child		*c;

	spec.ready_timeout_ms = 100;
	c = add(&spec, never_ready, NULL);
	supervise_start(c);
	run_until("slow-never", CHILD_FAILED, 1, 5000);
	assert_int_equal(supervise_restarts(c), 0);
}

/* stop_all: lower stop_order first, the next group after the first is reaped. */
static void
test_stop_order(void **state)
{
	const char		*argv_a[] = { NULL, NULL };
	const char		*argv_b[] = { NULL, NULL };
	const char		*argv_c[] = { NULL, NULL };
	struct conf_child	 a = spec_make("late", argv_a);
	struct conf_child	 b = spec_make("early1", argv_b);
	struct conf_child	 c = spec_make("early2", argv_c);

	a.stop_order = 20;
	b.stop_order = 10;
	c.stop_order = 10;
	c.restart = CONF_RESTART_ALWAYS;
	add(&a, NULL, NULL);
	add(&b, NULL, NULL);
	add(&c, NULL, NULL);
	supervise_start_all();
	run_until("late", CHILD_READY, 1, 5000);
	run_until("early1", CHILD_READY, 1, 5000);
	run_until("early2", CHILD_READY, 1, 5000);

	stop_and_wait(5000);
	assert_int_equal(count("late", CHILD_STOPPED), 1);
	assert_int_equal(count("early1", CHILD_STOPPED), 1);
	assert_int_equal(count("early2", CHILD_STOPPED), 1);
	/* Both of order 10 get SIGTERM before "late" does ... */
	assert_true(record_index("early1", CHILD_STOPPING, 0) <
	    record_index("late", CHILD_STOPPING, 0));
	assert_true(record_index("early2", CHILD_STOPPING, 0) <
	    record_index("late", CHILD_STOPPING, 0));
	/* ... and "late" only once both are reaped. */
	assert_true(record_index("early1", CHILD_STOPPED, 0) <
	    record_index("late", CHILD_STOPPING, 0));
	assert_true(record_index("early2", CHILD_STOPPED, 0) <
	    record_index("late", CHILD_STOPPING, 0));
	/* "always" does not restart what we stopped. */
	assert_int_equal(count("early2", CHILD_BACKOFF), 0);
	assert_null(strstr(render_metrics(), "} 1\n"));

	/* Stopped children can be started again after done. */
	assert_int_equal(supervise_start(supervise_find("late")), 0);
	run_until("late", CHILD_READY, 2, 5000);
}

/* A child ignoring SIGTERM gets SIGKILL after stop_timeout_ms. */
static void
test_sigkill_escalation(void **state)
{
	const char		*argv_s[] = { NULL, "--ignore-term", NULL };
	const char		*argv_p[] = { NULL, NULL };
	struct conf_child	 stubborn = spec_make("stubborn", argv_s);
	struct conf_child	 polite = spec_make("polite", argv_p);
	long long		 took;

	stubborn.stop_timeout_ms = 300;
	polite.stop_timeout_ms = 300;
	add(&stubborn, NULL, NULL);
	add(&polite, NULL, NULL);
	supervise_start_all();
	run_until("stubborn", CHILD_READY, 1, 5000);
	run_until("polite", CHILD_READY, 1, 5000);
	run_for(100);	/* let it install its SIG_IGN */

	stop_and_wait(5000);
	took = when("stubborn", CHILD_STOPPED, 0) -
	    when("stubborn", CHILD_STOPPING, 0);
	assert_true(took >= 300);
	took = when("polite", CHILD_STOPPED, 0) -
	    when("polite", CHILD_STOPPING, 0);
	assert_true(took < 300);
}

/* Stopping a child kills its whole process group. */
static void
test_grandchild_killed(void **state)
{
	const char		*argv[] = { NULL, "--spawn-grandchild", NULL,
				    NULL };
	const char		*argv_i[] = { NULL, "--spawn-grandchild", NULL,
				    "--grandchild-ignore-term", NULL };
	struct conf_child	 spec = spec_make("parent", argv);
	struct conf_child	 spec_i = spec_make("parent-i", argv_i);
	pid_t			 grandchild, grandchild_i;

	argv[2] = tmp_path(0, "grandchild.pid");
	argv_i[2] = tmp_path(1, "grandchild-i.pid");
	add(&spec, NULL, NULL);
	add(&spec_i, NULL, NULL);
	supervise_start_all();
	grandchild = read_pidfile(argv[2]);
	grandchild_i = read_pidfile(argv_i[2]);
	assert_true(alive(grandchild));
	assert_true(alive(grandchild_i));
	run_for(100);	/* let the grandchild install its SIG_IGN */

	stop_and_wait(5000);
	/* Reparented to init once its parent died; give init time to reap. */
	assert_true(gone_within(grandchild, 2000));
	/* This one ignored SIGTERM: the SIGKILL after its leader's exit got it. */
	assert_true(gone_within(grandchild_i, 2000));
}

/* A child that dies on its own does not leave its group behind either. */
static void
test_grandchild_after_crash(void **state)
{
	const char		*argv[] = { NULL, "--spawn-grandchild", NULL,
				    "--grandchild-ignore-term", "--crash-after",
				    "200", NULL };
	struct conf_child	 spec = spec_make("crashparent", argv);
	pid_t			 grandchild;

	argv[2] = tmp_path(0, "grandchild.pid");
	add(&spec, NULL, NULL);
	supervise_start_all();
	grandchild = read_pidfile(argv[2]);
	assert_true(alive(grandchild));
	run_until("crashparent", CHILD_FAILED, 1, 5000);
	assert_true(gone_within(grandchild, 2000));
}

/* The child's slate: exact env plus PATH, no extra fds, signals reset, pgid. */
static void
test_child_report(void **state)
{
	static const char	*env[] = { "FOO=bar", "EMPTY=", NULL };
	const char		*argv[] = { NULL, "--report", NULL, NULL };
	struct conf_child	 spec = spec_make("reporter", argv);
	struct child		*c;
	const char		*text;
	char			 line[64];
	long long		 deadline;
	int			 leak;

	argv[2] = tmp_path(0, "report");
	spec.env = UNCONST(env);
	/* An fd without CLOEXEC and an ignored SIGPIPE must not reach it. */
	leak = open("/dev/null", O_RDONLY);
	assert_true(leak > 2);
	signal(SIGPIPE, SIG_IGN);
	c = add(&spec, NULL, NULL);
	supervise_start(c);
	signal(SIGPIPE, SIG_DFL);
	close(leak);

	deadline = now_ms() + 5000;
	while (access(argv[2], F_OK) != 0) {
		assert_true(now_ms() < deadline);
		run_for(10);
	}
	text = read_text(argv[2]);
	snprintf(line, sizeof line, "pid=%ld\npgid=%ld\n",
	    (long)supervise_pid(c), (long)supervise_pid(c));
	assert_non_null(strstr(text, line));
	assert_non_null(strstr(text, "\nfds=0,1,2,\n"));
	assert_non_null(strstr(text, "\nblocked=0\n"));
	assert_non_null(strstr(text, "\nsigpipe=default\n"));
	/* Exactly the spec's environment plus the default PATH. */
	assert_non_null(strstr(text, "\nenv=FOO=bar\nenv=EMPTY=\n"
	    "env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
	    "/sbin:/bin\n"));
	assert_int_equal(strstr(text, "env=") - text,
	    strstr(text, "env=FOO=bar") - text);
	assert_string_equal(strstr(text, "env=PATH=") + strlen("env=PATH=/usr/"
	    "local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"), "");
}

/* A given PATH is kept, and a bare argv[0] is looked up in it. */
static void
test_path_lookup(void **state)
{
	static const char	*env[] = { "PATH=/nonexistent:/bin:/usr/bin", NULL };
	const char		*argv[] = { NULL, NULL };
	struct conf_child	 spec = spec_make("bare", argv);
	struct child		*c;

	argv[0] = "true";
	spec.argv = UNCONST(argv);
	spec.env = UNCONST(env);
	spec.restart = CONF_RESTART_ON_FAILURE;
	c = add(&spec, NULL, NULL);
	supervise_start(c);
	run_until("bare", CHILD_STOPPED, 1, 5000);
	assert_int_equal(count("bare", CHILD_FAILED), 0);
	assert_int_equal(supervise_restarts(c), 0);
}

/* A program that cannot be exec'd fails (exit 127), as does a missing netns. */
static void
test_exec_and_netns_failure(void **state)
{
	const char		*argv[] = { NULL, NULL };
	const char		*argv_n[] = { NULL, NULL };
	struct conf_child	 spec = spec_make("missing", argv);
	struct conf_child	 spec_n = spec_make("nonetns", argv_n);
	char			 netns[64];

	argv[0] = "/nonexistent/program";
	spec.argv = UNCONST(argv);
	snprintf(netns, sizeof netns, "nc-test-absent-%ld", (long)getpid());
	spec_n.netns = netns;
	add(&spec, NULL, NULL);
	add(&spec_n, NULL, NULL);
	supervise_start_all();
	run_until("missing", CHILD_FAILED, 1, 5000);
	run_until("nonetns", CHILD_FAILED, 1, 5000);
}

/* Roles are unique, argv is required, and the table can be walked. */
static void
test_table(void **state)
{
	const char		*argv[] = { NULL, NULL };
	const char		*argv2[] = { NULL, NULL };
	struct conf_child	 spec = spec_make("one", argv);
	struct conf_child	 spec2 = spec_make("two", argv2);
	struct conf_child	 bad = spec_make("bad", argv2);
	struct child		*c1, *c2;

	c1 = add(&spec, NULL, NULL);
	assert_null(supervise_add(&spec, NULL, NULL));
	bad.argv = NULL;
	assert_null(supervise_add(&bad, NULL, NULL));
	/* The spec is copied: changing ours afterwards changes nothing. */
	spec2.role = UNCONST("two");
	c2 = add(&spec2, NULL, NULL);
	argv2[0] = "/changed";
	assert_ptr_equal(supervise_first(), c1);
	assert_ptr_equal(supervise_next(c1), c2);
	assert_null(supervise_next(c2));
	assert_ptr_equal(supervise_find("two"), c2);
	assert_null(supervise_find("three"));
	assert_string_equal(supervise_state_name(CHILD_BACKOFF), "backoff");
	supervise_start(c2);
	run_until("two", CHILD_READY, 1, 5000);
	assert_int_equal(count("two", CHILD_FAILED), 0);
}

/* A child ready long enough (max(1 s, 2 * backoff_max)) starts over at initial. */
static void
test_backoff_reset_when_stable(void **state)
{
	const char		*argv[] = { NULL, "--exit-after", "1100",
				    "--exit-code", "1", NULL };
	struct conf_child	 spec = spec_make("steady", argv);
	struct child		*c;
	long long		 delay;
	int			 i;

	spec.restart = CONF_RESTART_ALWAYS;
	spec.backoff_initial_ms = 100;
	spec.backoff_max_ms = 400;
	c = add(&spec, NULL, NULL);
	supervise_start(c);
	run_until("steady", CHILD_STARTING, 3, 6000);
	for (i = 0; i < 2; i++) {
		delay = when("steady", CHILD_STARTING, i + 1) -
		    when("steady", CHILD_BACKOFF, i);
		/* 100 each time; without the reset the second would be 200. */
		assert_true(delay >= 100);
		assert_true(delay < 200);
	}
	assert_int_equal(supervise_restarts(c), 2);
}

/* One child stopped on its own: no restart even with "always"; removable. */
static void
test_stop_one(void **state)
{
	const char		*argv[] = { NULL, NULL };
	const char		*argv_b[] = { NULL, "--exit-after", "0", NULL };
	struct conf_child	 spec = spec_make("single", argv);
	struct conf_child	 spec_b = spec_make("backingoff", argv_b);
	struct child		*c, *b;

	spec.restart = CONF_RESTART_ALWAYS;
	spec_b.restart = CONF_RESTART_ALWAYS;
	spec_b.backoff_initial_ms = 5000;
	c = add(&spec, NULL, NULL);
	b = add(&spec_b, NULL, NULL);
	supervise_start_all();
	run_until("single", CHILD_READY, 1, 5000);
	run_until("backingoff", CHILD_BACKOFF, 1, 5000);

	assert_int_equal(supervise_remove(c), -1);
	supervise_stop(c);
	assert_int_equal(supervise_state(c), CHILD_STOPPING);
	run_until("single", CHILD_STOPPED, 1, 5000);
	run_for(100);
	assert_int_equal(count("single", CHILD_BACKOFF), 0);
	assert_int_equal(supervise_pid(c), -1);

	/* A pending restart is cancelled at once. */
	supervise_stop(b);
	assert_int_equal(supervise_state(b), CHILD_STOPPED);
	assert_int_equal(supervise_restarts(b), 0);

	/* Stopped children start again, then go for good. */
	assert_int_equal(supervise_start(c), 0);
	run_until("single", CHILD_READY, 2, 5000);
	supervise_stop(c);
	run_until("single", CHILD_STOPPED, 2, 5000);
	assert_int_equal(supervise_remove(c), 0);
	assert_null(supervise_find("single"));
	assert_ptr_equal(supervise_first(), b);
}

/* Nothing starts while stop_all runs; stop_all with nothing running is done. */
static void
test_no_start_while_stopping(void **state)
{
	const char		*argv[] = { NULL, "--ignore-term", NULL };
	const char		*argv_2[] = { NULL, NULL };
	struct conf_child	 spec = spec_make("lingering", argv);
	struct conf_child	 spec_2 = spec_make("idle", argv_2);
	struct child		*c, *idle;
	long long		 deadline;

	spec.stop_timeout_ms = 200;
	c = add(&spec, NULL, NULL);
	idle = add(&spec_2, NULL, NULL);
	supervise_start(c);
	run_until("lingering", CHILD_READY, 1, 5000);
	run_for(100);

	stop_done = 0;
	supervise_stop_all(stopped_all, &stop_done);
	assert_int_equal(supervise_start(idle), -1);
	assert_int_equal(supervise_state(idle), CHILD_STOPPED);
	deadline = now_ms() + 5000;
	while (!stop_done && now_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(stop_done, 1);
	assert_int_equal(count("idle", CHILD_STARTING), 0);

	/* Again, with nothing running: done still comes, from the loop. */
	stop_done = 0;
	supervise_stop_all(stopped_all, &stop_done);
	assert_int_equal(stop_done, 0);
	run_for(50);
	assert_int_equal(stop_done, 1);
}

/* Run a command, quietly; its exit status. */
static int
run_quiet(const char *cmd)
{
	char	buf[512];

	snprintf(buf, sizeof buf, "%s >/dev/null 2>&1", cmd);
	return (system(buf));
}

/* A child in a named network namespace sees that namespace. */
static void
test_netns(void **state)
{
	const char		*argv[] = { NULL, "--report", NULL, NULL };
	struct conf_child	 spec = spec_make("innetns", argv);
	struct stat		 sb;
	char			 name[64], cmd[128], path[128], line[64];
	const char		*text;
	long long		 deadline;

	if (geteuid() != 0) {
		printf("test_netns: skipped: not root\n");
		skip();
	}
	snprintf(name, sizeof name, "nc-test-%ld", (long)getpid());
	snprintf(cmd, sizeof cmd, "ip netns add %s", name);
	if (run_quiet(cmd) != 0) {
		printf("test_netns: skipped: \"%s\" failed\n", cmd);
		skip();
	}
	snprintf(path, sizeof path, "/run/netns/%s", name);
	if (stat(path, &sb) != 0) {
		snprintf(cmd, sizeof cmd, "ip netns del %s", name);
		run_quiet(cmd);
		fail_msg("%s missing after ip netns add", path);
	}

	argv[2] = tmp_path(0, "report");
	spec.netns = name;
	add(&spec, NULL, NULL);
	supervise_start_all();
	deadline = now_ms() + 5000;
	while (access(argv[2], F_OK) != 0 && now_ms() < deadline)
		run_for(10);
	snprintf(cmd, sizeof cmd, "ip netns del %s", name);
	run_quiet(cmd);
	assert_int_equal(access(argv[2], F_OK), 0);

	text = read_text(argv[2]);
	snprintf(line, sizeof line, "\nnetns=net:[%lu]\n", (unsigned long)sb.st_ino);
	assert_non_null(strstr(text, line));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_backoff, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_backoff_capped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_never_failed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_on_failure_clean_exit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_socket, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ready_custom, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ready_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ready_timeout_never, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_escalation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grandchild_killed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_grandchild_after_crash,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_path_lookup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_exec_and_netns_failure,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_reset_when_stable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_start_while_stopping,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_netns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_after, setup,
		    teardown),
	};

	log_init(1, LOG_LEVEL_INFO, "test_supervise");
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
