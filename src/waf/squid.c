/* squid.c: squid as the firewall's proxy: netcraved writes squid.conf (memory
 * cache, ICAP REQMOD and RESPMOD through its own ICAP server) and supervises
 * squid as a built-in child.  Forward-proxy mode serves egress; with
 * waf.squid.accel_listen also an accelerator for ingress behind HAProxy. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/util.h>

#include "conf.h"
#include "log.h"
#include "plugin.h"
#include "server.h"
#include "squid.h"
#include "supervise.h"
#include "util.h"
#include "xmalloc.h"

static struct child	*squid_child;
/* The judge ports: loopback ports of squid's own that only its client ports
 * forward to, chosen free at start (squid cannot listen on a local socket). */
static int		 squid_judge_port;
static int		 squid_judge_accel_port;

/* A loopback TCP port nothing listens on now, or -1. */
static int
squid_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* "HOST:PORT" or "[V6]:PORT" (checked by squid_init) to a host squid.conf
 * takes and the port. */
static void
squid_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char	*colon = strrchr(s, ':');
	size_t		 n;

	*port = colon != NULL ? atoi(colon + 1) : 0;
	n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	snprintf(host, hostlen, "%.*s", (int)n, s);
}

/*
 * Readiness: a request through each client port must come back through its
 * judge port.  Squid counts a peer down until it has probed it, which takes
 * a moment after start; until then a miss would get a 502 from the client
 * port alone.  An answer that passed the judge port carries two X-Cache
 * fields (one per port), whatever its status; the judge port refuses the
 * probe's host, so the probe reaches no backend.  Non-blocking: one step per
 * poll of the supervisor's timer.
 */
struct squid_probe {
	struct sockaddr_storage	 addr;
	int			 addrlen;
	char			*request;
	int			 fd;		/* -1: not started */
	size_t			 sent;
	char			 buf[4096];
	size_t			 len;
};

static struct squid_probe	squid_forward_probe = { .fd = -1 };
static struct squid_probe	squid_accel_probe = { .fd = -1 };
static int			squid_forward_ok, squid_accel_ok;

static void
squid_probe_reset(struct squid_probe *p)
{
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->sent = p->len = 0;
}

static void
squid_probe_set(struct squid_probe *p, const struct sockaddr_storage *addr,
    int addrlen, const char *request)
{
	squid_probe_reset(p);
	memcpy(&p->addr, addr, sizeof p->addr);
	p->addrlen = addrlen;
	free(p->request);
	p->request = xstrdup(request);
}

/* Count the header fields called name in a head. */
static int
squid_count_field(const char *head, const char *name)
{
	const char	*line;
	size_t		 n = strlen(name);
	int		 count = 0;

	for (line = strchr(head, '\n'); line != NULL;
	    line = strchr(line + 1, '\n'))
		if (strncasecmp(line + 1, name, n) == 0)
			count++;
	return count;
}

/* One step: 1 when an answer came back through the judge port, else 0. */
static int
squid_probe_step(struct squid_probe *p)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 ok;

	if (p->request == NULL)
		return 1;	/* no such port */
	if (p->fd == -1) {
		p->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (p->fd == -1)
			return 0;
		if (connect(p->fd, (struct sockaddr *)&p->addr,
		    (socklen_t)p->addrlen) == -1 && errno != EINPROGRESS)
			squid_probe_reset(p);
		return 0;
	}
	pfd.fd = p->fd;
	pfd.events = p->sent < strlen(p->request) ? POLLOUT : POLLIN;
	if (poll(&pfd, 1, 0) != 1)
		return 0;
	if (pfd.events == POLLOUT) {
		n = write(p->fd, p->request + p->sent,
		    strlen(p->request) - p->sent);
		if (n <= 0) {
			squid_probe_reset(p);
			return 0;
		}
		p->sent += (size_t)n;
		return 0;
	}
	n = read(p->fd, p->buf + p->len, sizeof p->buf - 1 - p->len);
	if (n <= 0) {
		squid_probe_reset(p);
		return 0;
	}
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
	if (strstr(p->buf, "\r\n\r\n") == NULL && p->len < sizeof p->buf - 1)
		return 0;
	ok = squid_count_field(p->buf, "X-Cache:") >= 2;
	squid_probe_reset(p);
	return ok;
}

static int
squid_ready(struct child *ch, void *arg)
{
	/* A restart of squid starts the probes again. */
	if (squid_forward_ok && squid_accel_ok) {
		squid_forward_ok = 0;
		squid_accel_ok = squid_accel_probe.request == NULL;
	}
	if (!squid_forward_ok)
		squid_forward_ok = squid_probe_step(&squid_forward_probe);
	if (!squid_accel_ok)
		squid_accel_ok = squid_probe_step(&squid_accel_probe);
	return squid_forward_ok && squid_accel_ok;
}

/* Directory for squid's own files, owned by the user squid drops to. */
static int
squid_dir(const char *path, const struct passwd *pw, char *err, size_t errlen)
{
	if (util_mkdir_p(path, 0750, err, errlen) != 0)
		return -1;
	if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The accelerator part of squid.conf (ingress), "" when there is none: a port
 * for HAProxy whose misses go to the accelerator's judge port, where ICAP picks
 * the rule set by the request's Host (icap.c) and clean traffic goes on to the
 * one origin peer. */
static char *
squid_accel_conf(const struct conf *conf)
{
	char	 host[256], *text;
	int	 port;

	if (conf->waf_squid_accel_listen[0] == '\0')
		return xstrdup("");
	squid_split_hostport(conf->waf_squid_accel_peer, host, sizeof host,
	    &port);
	xasprintf(&text,
	    "# Ingress: accelerator for HAProxy; clean traffic to %s.\n"
	    "http_port %s accel vhost name=netcrave_accel\n"
	    "http_port 127.0.0.1:%d name=netcrave_judge_accel\n"
	    "acl netcrave_accel myportname netcrave_accel\n"
	    "acl netcrave_judge_accel myportname netcrave_judge_accel\n"
	    "cache_peer 127.0.0.1 parent %d 0 no-query no-digest "
	    "default name=netcrave_to_judge_accel\n"
	    "cache_peer_access netcrave_to_judge_accel allow netcrave_accel\n"
	    "cache_peer_access netcrave_to_judge_accel deny all\n"
	    "cache_peer %s parent %d 0 no-query no-digest originserver "
	    "name=netcrave_origin\n"
	    "cache_peer_access netcrave_origin allow netcrave_judge_accel\n"
	    "cache_peer_access netcrave_origin deny all\n"
	    "never_direct allow netcrave_judge_accel\n"
	    "cache deny netcrave_judge_accel\n"
	    "http_access allow netcrave_accel\n"
	    "http_access deny netcrave_judge_accel netcrave_probe\n"
	    "http_access allow netcrave_judge_accel localhost\n"
	    "http_access deny netcrave_judge_accel\n"
	    "icap_service netcrave_accel_req reqmod_precache bypass=off "
	    "icap://%s/waf-host/reqmod\n"
	    "icap_service netcrave_accel_resp respmod_precache bypass=off "
	    "icap://%s/waf-host/respmod\n"
	    "adaptation_access netcrave_accel_req allow netcrave_judge_accel\n"
	    "adaptation_access netcrave_accel_req deny all\n"
	    "adaptation_access netcrave_accel_resp allow netcrave_judge_accel\n"
	    "adaptation_access netcrave_accel_resp deny all\n",
	    conf->waf_squid_accel_peer, conf->waf_squid_accel_listen,
	    squid_judge_accel_port, squid_judge_accel_port, host, port,
	    conf->waf_icap_listen, conf->waf_icap_listen);
	return text;
}

/* The egress port (networks of waf.egress_tag): the forward-proxy port again
 * on the host end of the uplink, where their gateway's port leads (nft.c). */
static char *
squid_egress_conf(const struct conf *conf)
{
	const char	*addr, *colon;
	char		*text;

	if (conf->waf_egress_tag[0] == '\0')
		return xstrdup("");
	if ((addr = plugin_network_uplink_host()) == NULL ||
	    (colon = strrchr(conf->waf_squid_listen, ':')) == NULL) {
		log_warnx("squid: waf.egress_tag %s: no uplink, so no proxy for "
		    "its networks", conf->waf_egress_tag);
		return xstrdup("");
	}
	/* Containers must not reach the host's own services through it. */
	xasprintf(&text, "# Egress: networks tagged %s, through the uplink.\n"
	    "http_port %s%s name=netcrave_egress\n"
	    "acl netcrave_egress myportname netcrave_egress\n"
	    "http_access deny netcrave_egress to_localhost\n",
	    conf->waf_egress_tag, addr, colon);
	return text;
}

int
squid_write_conf(const struct conf *conf, const char *path, char *err,
    size_t errlen)
{
	char	*text, *dir, *accel, *egress;
	int	 rc;

	/* Squid runs as its own user, which cannot enter the 0700 state_dir:
	 * its files (logs, pid) live in run_dir/squid; the cache is memory. */
	xasprintf(&dir, "%s/squid", conf->run_dir);
	accel = squid_accel_conf(conf);
	egress = squid_egress_conf(conf);
	xasprintf(&text,
	    "# squid.conf: written by netcraved at every start; edits are lost.\n"
	    "# Forward proxy (egress) on %s, judged by the rule set \"%s\".\n"
	    "# The client ports answer from the memory cache; every miss goes\n"
	    "# to a judge port of this same squid, where netcraved's ICAP\n"
	    "# server sees the request (REQMOD) before any backend does and the\n"
	    "# response (RESPMOD) before it is cached or served.  A cache hit\n"
	    "# reaches no backend and is not judged again.\n"
	    "http_port %s name=netcrave_forward\n"
	    "%s"
	    "http_port 127.0.0.1:%d name=netcrave_judge\n"
	    "acl netcrave_forward myportname netcrave_forward\n"
	    "acl netcrave_judge myportname netcrave_judge\n"
	    /* The readiness probe ends at the judge port (squid_ready). */
	    "acl netcrave_probe dstdomain netcrave-ready.invalid\n"
	    "cache_peer 127.0.0.1 parent %d 0 no-query no-digest "
	    "default name=netcrave_to_judge\n"
	    "cache_peer_access netcrave_to_judge allow netcrave_forward\n"
	    "%s"
	    "cache_peer_access netcrave_to_judge deny all\n"
	    "visible_hostname %s\n"
	    "pid_filename %s/squid.pid\n"
	    "cache_log %s/cache.log\n"
	    "access_log stdio:%s/access.log squid\n"
	    "cache_store_log none\n"
	    "coredump_dir %s\n"
	    "cache_mem %u MB\n"
	    "maximum_object_size_in_memory 1 MB\n"
	    "shutdown_lifetime 1 seconds\n"
	    /* One squid forwards to itself: no Via, or it sees a loop. */
	    "via off\n"
	    "icap_enable on\n"
	    "icap_preview_enable on\n"
	    "icap_persistent_connections on\n"
	    "icap_send_client_ip on\n"
	    "icap_service_failure_limit -1\n"
	    /* First: the accelerator's port and services win for its traffic. */
	    "%s"
	    "always_direct allow netcrave_judge\n"
	    "never_direct allow all\n"
	    "cache deny netcrave_judge\n"
	    "http_access deny netcrave_judge netcrave_probe\n"
	    "http_access allow netcrave_judge localhost\n"
	    "http_access deny netcrave_judge\n"
	    /* 169.254/16: the uplink, under which egress networks come */
	    "acl netcrave_clients src 127.0.0.0/8 ::1 10.0.0.0/8 "
	    "172.16.0.0/12 192.168.0.0/16 198.18.0.0/15 169.254.0.0/16 "
	    "fc00::/7\n"
	    "acl SSL_ports port 443\n"
	    "acl CONNECT method CONNECT\n"
	    "http_access deny CONNECT !SSL_ports\n"
	    "http_access allow netcrave_clients\n"
	    "http_access deny all\n"
	    "icap_service netcrave_req reqmod_precache bypass=off "
	    "icap://%s/waf/%s/reqmod\n"
	    "icap_service netcrave_resp respmod_precache bypass=off "
	    "icap://%s/waf/%s/respmod\n"
	    "adaptation_access netcrave_req allow netcrave_judge\n"
	    "adaptation_access netcrave_req deny all\n"
	    "adaptation_access netcrave_resp allow netcrave_judge\n"
	    "adaptation_access netcrave_resp deny all\n",
	    conf->waf_squid_listen, conf->waf_egress_rule_set,
	    conf->waf_squid_listen, egress, squid_judge_port, squid_judge_port,
	    *egress != '\0' ? "cache_peer_access netcrave_to_judge allow "
	    "netcrave_egress\n" : "", conf->instance,
	    dir, dir, dir, dir, conf->waf_squid_cache_mem_mb, accel,
	    conf->waf_icap_listen,
	    conf->waf_egress_rule_set, conf->waf_icap_listen,
	    conf->waf_egress_rule_set);
	rc = util_write_atomic(path, text, strlen(text), 0644, err, errlen);
	free(text);
	free(accel);
	free(egress);
	free(dir);
	return rc;
}

/* Squid takes numeric addresses only ("" too is refused here); -1 with err. */
static int
squid_check_addr(const char *key, const char *value, char *err,
    size_t errlen)
{
	struct sockaddr_storage	ss;
	int			sslen = sizeof ss;

	if (evutil_parse_sockaddr_port(value, (struct sockaddr *)&ss,
	    &sslen) == 0)
		return 0;
	snprintf(err, errlen, "%s: \"%s\": expected ADDRESS:PORT", key, value);
	return -1;
}

static int
squid_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*conf = env->conf;
	struct conf_child	 spec;
	const struct passwd	*pw;
	char			*dir, *path;
	static char		 role[] = "squid", nodaemon[] = "-N";
	static char		 file[] = "-f";
	char			*argv[5], *envv[1] = { NULL };
	struct sockaddr_storage	 ss;
	int			 sslen, rc = -1;

	if (!conf->waf_squid_enabled)
		return 0;
	if (conf->waf_icap_listen[0] == '\0') {
		snprintf(err, errlen, "waf.squid.enabled needs waf.icap_listen");
		return -1;
	}
	sslen = sizeof ss;
	if (evutil_parse_sockaddr_port(conf->waf_squid_listen,
	    (struct sockaddr *)&ss, &sslen) != 0)
		return squid_check_addr("waf.squid.listen",
		    conf->waf_squid_listen, err, errlen);
	/* The judge port refuses it: no backend sees the probe (a failed
	 * connection to the accelerator's origin would count against it). */
	squid_probe_set(&squid_forward_probe, &ss, sslen,
	    "HEAD http://netcrave-ready.invalid/ HTTP/1.0\r\n\r\n");
	squid_forward_ok = 0;
	squid_accel_ok = 1;
	if (conf->waf_squid_accel_listen[0] != '\0') {
		if (squid_check_addr("waf.squid.accel_peer",
		    conf->waf_squid_accel_peer, err, errlen) != 0)
			return -1;
		sslen = sizeof ss;
		if (evutil_parse_sockaddr_port(conf->waf_squid_accel_listen,
		    (struct sockaddr *)&ss, &sslen) != 0)
			return squid_check_addr("waf.squid.accel_listen",
			    conf->waf_squid_accel_listen, err, errlen);
		squid_probe_set(&squid_accel_probe, &ss, sslen,
		    "HEAD / HTTP/1.0\r\nHost: netcrave-ready.invalid\r\n\r\n");
		squid_accel_ok = 0;
	}
	if ((squid_judge_port = squid_free_port()) == -1 ||
	    (squid_judge_accel_port = squid_free_port()) == -1 ||
	    squid_judge_port == squid_judge_accel_port) {
		snprintf(err, errlen, "no free loopback port for squid's judge "
		    "ports");
		return -1;
	}
	/* Squid refuses to run as root and drops to its own user. */
	pw = geteuid() == 0 ? getpwnam("proxy") : NULL;
	xasprintf(&dir, "%s/squid", conf->run_dir);
	xasprintf(&path, "%s/squid.conf", dir);
	if (squid_dir(dir, pw, err, errlen) != 0 ||
	    squid_write_conf(conf, path, err, errlen) != 0)
		goto out;
	memset(&spec, 0, sizeof spec);
	spec.role = role;
	argv[0] = conf->waf_squid_program;
	argv[1] = nodaemon;	/* stay in the foreground: we supervise */
	argv[2] = file;
	argv[3] = path;
	argv[4] = NULL;
	spec.argv = argv;
	spec.env = envv;
	spec.restart = CONF_RESTART_ALWAYS;
	spec.backoff_initial_ms = 500;
	spec.backoff_max_ms = 30000;
	spec.ready_timeout_ms = 30000;
	spec.stop_order = 10;	/* after the containers using it */
	spec.stop_timeout_ms = 5000;
	if ((squid_child = supervise_add(&spec, squid_ready, NULL)) == NULL) {
		snprintf(err, errlen, "a child called \"squid\" exists already");
		goto out;
	}
	log_info("squid: forward proxy on %s through icap://%s/waf/%s",
	    conf->waf_squid_listen, conf->waf_icap_listen,
	    conf->waf_egress_rule_set);
	if (conf->waf_squid_accel_listen[0] != '\0')
		log_info("squid: accelerator on %s for %s, rule set by Host",
		    conf->waf_squid_accel_listen, conf->waf_squid_accel_peer);
	rc = 0;
out:
	free(dir);
	free(path);
	return rc;
}

static int
squid_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	if (old->waf_squid_enabled != new->waf_squid_enabled ||
	    strcmp(old->waf_squid_program, new->waf_squid_program) != 0 ||
	    strcmp(old->waf_squid_listen, new->waf_squid_listen) != 0 ||
	    strcmp(old->waf_egress_rule_set, new->waf_egress_rule_set) != 0 ||
	    strcmp(old->waf_egress_tag, new->waf_egress_tag) != 0 ||
	    strcmp(old->waf_squid_accel_listen,
	    new->waf_squid_accel_listen) != 0 ||
	    strcmp(old->waf_squid_accel_peer, new->waf_squid_accel_peer) != 0 ||
	    old->waf_squid_cache_mem_mb != new->waf_squid_cache_mem_mb) {
		snprintf(err, errlen, "waf.squid changed, which needs a "
		    "restart");
		return -1;
	}
	return 0;
}

static void
squid_shutdown(void)
{
	squid_probe_reset(&squid_forward_probe);
	squid_probe_reset(&squid_accel_probe);
	free(squid_forward_probe.request);
	free(squid_accel_probe.request);
	squid_forward_probe.request = squid_accel_probe.request = NULL;
	/* supervise_stop_all has run: squid is stopped and may be removed. */
	if (squid_child != NULL && supervise_remove(squid_child) == 0)
		squid_child = NULL;
}

const struct server squid_server_entry = {
	"squid", squid_init, squid_reload, squid_shutdown
};
