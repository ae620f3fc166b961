/* runtime.c: dockerd and containerd run by netcraved itself.  With runtime.mode
 * "supervised" it writes their configurations (data and exec roots of their
 * own, no iptables, no default bridge: netcrave does networking) and adds them
 * to the child table: containerd first, dockerd once containerd answers (and
 * after the plugin socket is up, since children start after the servers), and
 * on stop dockerd first, while the plugin socket still answers, then
 * containerd. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "conf.h"
#include "json.h"
#include "log.h"
#include "netns.h"
#include "runtime.h"
#include "server.h"
#include "supervise.h"
#include "util.h"
#include "xmalloc.h"

/* Stop order among children: after everything else (ingress, proxies). */
#define RUNTIME_STOP_ORDER_DOCKERD	900
#define RUNTIME_STOP_ORDER_CONTAINERD	950
/* A /_ping answer that has not come after this many probes is retried. */
#define RUNTIME_PING_POLLS		50

#define RUNTIME_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The dockerd readiness probe: GET /_ping on its socket, without blocking. */
struct runtime_ping {
	char	*socket;
	int	 fd;
	int	 polls;		/* probes since the request went out */
	char	 buf[1024];	/* dockerd 20.10 answers in ~300 bytes */
	size_t	 len;
};

static struct runtime_ping	runtime_ping = { .fd = -1 };

static char *
runtime_path(const char *dir, const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, name);
	return (p);
}

char *
runtime_dockerd_socket(const struct conf *conf)
{
	return (runtime_path(conf->runtime_exec_root, "docker.sock"));
}

char *
runtime_containerd_socket(const struct conf *conf)
{
	return (runtime_path(conf->runtime_exec_root, "containerd/containerd.sock"));
}

/* dockerd's daemon.json: everything on our own paths, networking left to us. */
char *
runtime_dockerd_json(const struct conf *conf)
{
	const unsigned char	*buf;
	yajl_gen		 g;
	size_t			 len;
	char			*p, *out;

	g = json_gen_new();
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	p = runtime_path(conf->runtime_root, "docker");
	json_gen_string(g, "data-root", p);
	free(p);
	p = runtime_path(conf->runtime_exec_root, "docker");
	json_gen_string(g, "exec-root", p);
	free(p);
	p = runtime_path(conf->runtime_exec_root, "docker.pid");
	json_gen_string(g, "pidfile", p);
	free(p);
	/* A unix socket only: a TCP listener would need TLS we do not hand out. */
	json_gen_key(g, "hosts");
	yajl_gen_array_open(g);
	p = runtime_dockerd_socket(conf);
	xasprintf(&out, "unix://%s", p);
	yajl_gen_string(g, (const unsigned char *)out, strlen(out));
	free(out);
	free(p);
	yajl_gen_array_close(g);
	p = runtime_containerd_socket(conf);
	json_gen_string(g, "containerd", p);
	free(p);
	/* dockerd 20.10 would otherwise write /etc/docker/key.json. */
	p = runtime_path(conf->runtime_root, "key.json");
	json_gen_string(g, "deprecated-key-path", p);
	free(p);
	/* netcrave owns the packet filter, the routes and the bridges. */
	json_gen_bool(g, "iptables", 0);
	json_gen_bool(g, "ip6tables", 0);
	json_gen_bool(g, "ip-masq", 0);
	json_gen_string(g, "bridge", "none");
	if (conf->runtime_storage_driver != NULL)
		json_gen_string(g, "storage-driver", conf->runtime_storage_driver);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xmalloc(len + 2);
	memcpy(out, buf, len);
	out[len] = '\n';
	out[len + 1] = '\0';
	yajl_gen_free(g);
	return (out);
}

/* containerd's config.toml (version 2): roots and sockets of our own. */
char *
runtime_containerd_toml(const struct conf *conf)
{
	char	*out, *sock;

	sock = runtime_containerd_socket(conf);
	xasprintf(&out,
	    "# Written by netcraved at every start; set runtime.containerd_config\n"
	    "# in netcraved.json to use a file of your own instead.\n"
	    "version = 2\n"
	    "root = \"%s/containerd\"\n"
	    "state = \"%s/containerd\"\n"
	    "# Docker drives containerd; Kubernetes' CRI is not needed.\n"
	    "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
	    "\n"
	    "[grpc]\n"
	    "  address = \"%s\"\n"
	    "\n"
	    "[ttrpc]\n"
	    "  address = \"%s.ttrpc\"\n",
	    conf->runtime_root, conf->runtime_exec_root, sock, sock);
	free(sock);
	return (out);
}

/* Paths end up inside TOML and JSON strings: keep them plain. */
static int
runtime_check_paths(const struct conf *conf, char *err, size_t errlen)
{
	const char	*paths[] = { conf->runtime_root, conf->runtime_exec_root,
			    conf->runtime_bin_dir };
	char		*sock;
	size_t		 i, len;

	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		if (strpbrk(paths[i], "\"\\:\n") != NULL) {
			snprintf(err, errlen, "runtime: %s: quotes, backslashes, "
			    "colons and newlines are not allowed here", paths[i]);
			return (-1);
		}
	}
	sock = runtime_containerd_socket(conf);
	len = strlen(sock);
	if (len >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		snprintf(err, errlen, "runtime: %s: too long for a unix socket: "
		    "shorten runtime.exec_root", sock);
		free(sock);
		return (-1);
	}
	free(sock);
	return (0);
}

/* Write a generated config unless the operator names their own. */
static int
runtime_write_config(const char *own, const char *path, char *text,
    char *err, size_t errlen)
{
	int	rc;

	if (own != NULL) {
		free(text);
		if (access(own, R_OK) == -1) {
			snprintf(err, errlen, "runtime: %s: %s", own,
			    strerror(errno));
			return (-1);
		}
		return (0);
	}
	rc = util_write_atomic(path, text, strlen(text), 0600, err, errlen);
	free(text);
	return (rc);
}

/* Say where a runtime program will come from: bin_dir, else PATH. */
static void
runtime_log_program(const struct conf *conf, const char *name)
{
	char	*p = runtime_path(conf->runtime_bin_dir, name);

	if (access(p, X_OK) == 0)
		log_info("runtime: %s from %s", name, p);
	else
		log_info("runtime: %s from PATH (%s has none)", name,
		    conf->runtime_bin_dir);
	free(p);
}

/*
 * Probe: connect (non-blocking), send GET /_ping, then on later polls read
 * until the answer is complete; ready on "200" with body "OK".  A dockerd that
 * does not answer within RUNTIME_PING_POLLS polls gets a fresh connection.
 */
static void
runtime_ping_reset(struct runtime_ping *p)
{
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->polls = 0;
	p->len = 0;
}

static int
runtime_dockerd_ready(struct child *c, void *arg)
{
	static const char	 req[] = "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
	struct runtime_ping	*p = arg;
	struct sockaddr_un	 sun;
	ssize_t			 n;
	char			*body;

	if (p->fd == -1) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", p->socket);
		p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (p->fd == -1)
			return (0);
		if (connect(p->fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
		    write(p->fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
			runtime_ping_reset(p);
			return (0);
		}
		return (0);
	}
	n = read(p->fd, p->buf + p->len, sizeof p->buf - 1 - p->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		if (++p->polls >= RUNTIME_PING_POLLS)
			runtime_ping_reset(p);
		return (0);
	}
	if (n > 0) {
		p->len += n;
		p->buf[p->len] = '\0';
		if (p->len < sizeof p->buf - 1)
			return (0);	/* HTTP/1.0: the answer ends at EOF */
	}
	p->buf[p->len] = '\0';
	body = strstr(p->buf, "\r\n\r\n");
	n = strncmp(p->buf, "HTTP/1.", 7) == 0 && strncmp(p->buf + 8, " 200", 4) == 0 &&
	    body != NULL && strcmp(body + 4, "OK") == 0;
	runtime_ping_reset(p);
	return (n);
}

/* A new dockerd process: whatever the probe held belongs to the old one. */
static void
runtime_dockerd_state(struct child *c, enum child_state old,
    enum child_state new, void *arg)
{
	if (new == CHILD_STARTING || new == CHILD_STOPPED ||
	    new == CHILD_BACKOFF || new == CHILD_FAILED)
		runtime_ping_reset(arg);
}

/* A child of ours: argv and role copied by supervise_add, so ours are freed. */
static struct child *
runtime_add(struct conf_child *spec, const char *role, char **argv,
    child_ready_fn ready, void *ready_arg, char *err, size_t errlen)
{
	struct child	*c;

	spec->role = xstrdup(role);
	spec->argv = argv;
	c = supervise_add(spec, ready, ready_arg);
	if (c == NULL)
		snprintf(err, errlen, "runtime: a child with role %s exists "
		    "already (remove it from children)", role);
	free(spec->role);
	spec->role = NULL;
	return (c);
}

static int
runtime_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*conf = env->conf;
	struct conf_child	 spec;
	struct child		*c;
	char			*path_env[2] = { NULL, NULL };
	char			*containerd_conf, *dockerd_conf, *dir;
	char			**argv = NULL;
	size_t			 i, n, nargs;
	int			 rc, fd;

	if (conf->runtime_mode != CONF_RUNTIME_SUPERVISED) {
		log_debug("runtime: external: dockerd and containerd are not ours");
		return (0);
	}
	if (runtime_check_paths(conf, err, errlen) == -1)
		return (-1);
	/*
	 * dockerd looks the container ends of the veth pairs up in its own
	 * namespace, so the namespace must exist before dockerd does; a named
	 * one is made (like ip-netns) when missing.
	 */
	if (conf->runtime_netns != NULL) {
		if ((fd = netns_open(conf->runtime_netns, 1, err, errlen)) == -1)
			return (-1);
		close(fd);
	}

	/* Data under the state dir, sockets and exec roots under the run dir. */
	if (util_mkdir_p(conf->runtime_root, 0711, err, errlen) == -1 ||
	    util_mkdir_p(conf->runtime_exec_root, 0711, err, errlen) == -1)
		return (-1);
	dir = runtime_path(conf->runtime_exec_root, "containerd");
	rc = util_mkdir_p(dir, 0711, err, errlen);
	free(dir);
	if (rc == -1)
		return (-1);

	rc = -1;
	containerd_conf = conf->runtime_containerd_config != NULL ?
	    xstrdup(conf->runtime_containerd_config) :
	    runtime_path(conf->runtime_root, "containerd.toml");
	dockerd_conf = conf->runtime_dockerd_config != NULL ?
	    xstrdup(conf->runtime_dockerd_config) :
	    runtime_path(conf->runtime_root, "daemon.json");
	if (runtime_write_config(conf->runtime_containerd_config, containerd_conf,
	    runtime_containerd_toml(conf), err, errlen) == -1 ||
	    runtime_write_config(conf->runtime_dockerd_config, dockerd_conf,
	    runtime_dockerd_json(conf), err, errlen) == -1)
		goto out;
	runtime_log_program(conf, "containerd");
	runtime_log_program(conf, "dockerd");

	/* bin_dir first in PATH: shims, runc and docker-proxy are found there too. */
	xasprintf(&path_env[0], "PATH=%s:%s", conf->runtime_bin_dir, RUNTIME_PATH);
	for (nargs = 0; conf->runtime_dockerd_args != NULL &&
	    conf->runtime_dockerd_args[nargs] != NULL; nargs++)
		;
	argv = xcalloc(nargs + 4, sizeof *argv);

	memset(&spec, 0, sizeof spec);
	spec.env = path_env;
	spec.netns = conf->runtime_netns;
	spec.restart = CONF_RESTART_ALWAYS;
	spec.backoff_initial_ms = 500;
	spec.backoff_max_ms = 10000;

	/* containerd: ready when its gRPC socket accepts. */
	argv[0] = xstrdup("containerd");
	argv[1] = xstrdup("--config");
	argv[2] = xstrdup(containerd_conf);
	spec.ready_socket = runtime_containerd_socket(conf);
	spec.ready_timeout_ms = 30000;
	spec.stop_order = RUNTIME_STOP_ORDER_CONTAINERD;
	spec.stop_timeout_ms = 10000;
	c = runtime_add(&spec, "containerd", argv, NULL, NULL, err, errlen);
	free(spec.ready_socket);
	spec.ready_socket = NULL;
	util_strv_free(argv);
	argv = NULL;
	if (c == NULL)
		goto out;

	/* dockerd: after containerd, ready when GET /_ping answers OK. */
	argv = xcalloc(nargs + 4, sizeof *argv);
	n = 0;
	argv[n++] = xstrdup("dockerd");
	argv[n++] = xstrdup("--config-file");
	argv[n++] = xstrdup(dockerd_conf);
	for (i = 0; i < nargs; i++)
		argv[n++] = xstrdup(conf->runtime_dockerd_args[i]);
	spec.start_after = xstrdup("containerd");
	spec.ready_timeout_ms = 60000;
	spec.stop_order = RUNTIME_STOP_ORDER_DOCKERD;
	/* dockerd stops its containers first (10 s each by default). */
	spec.stop_timeout_ms = 30000;
	runtime_ping_reset(&runtime_ping);
	free(runtime_ping.socket);
	runtime_ping.socket = runtime_dockerd_socket(conf);
	c = runtime_add(&spec, "dockerd", argv, runtime_dockerd_ready,
	    &runtime_ping, err, errlen);
	free(spec.start_after);
	if (c == NULL)
		goto out;
	supervise_set_state_cb(c, runtime_dockerd_state, &runtime_ping);
	log_info("runtime: supervising containerd and dockerd (API %s) in %s",
	    runtime_ping.socket, conf->runtime_netns != NULL ?
	    conf->runtime_netns : "netcraved's namespace");
	rc = 0;
out:
	util_strv_free(argv);
	free(path_env[0]);
	free(containerd_conf);
	free(dockerd_conf);
	return (rc);
}

static void
runtime_shutdown(void)
{
	runtime_ping_reset(&runtime_ping);
	free(runtime_ping.socket);
	runtime_ping.socket = NULL;
}

const struct server runtime_server = {
	.name = "runtime",
	.init = runtime_init,
	.reload = NULL,		/* every runtime key needs a restart */
	.shutdown = runtime_shutdown,
};
