/* squid.c: squid as the firewall's proxy: netcraved writes squid.conf (memory
 * cache, ICAP REQMOD and RESPMOD through its own ICAP server) and supervises
 * squid as a built-in child.  Forward-proxy mode serves egress; with
 * waf.squid.accel_listen also an accelerator for ingress behind HAProxy. */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
static struct sockaddr_storage squid_addr;	/* where readiness is probed */
static int		 squid_addrlen;

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

/* Ready once squid accepts on its port. */
static int
squid_ready(struct child *ch, void *arg)
{
	int	fd, ok;

	if ((fd = socket(squid_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&squid_addr,
	    (socklen_t)squid_addrlen) == 0;
	close(fd);
	return ok;
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
 * for HAProxy, the one origin peer clean traffic goes to, and its own ICAP
 * services, which pick the rule set by the request's Host (icap.c). */
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
	    "acl netcrave_accel myportname netcrave_accel\n"
	    "cache_peer %s parent %d 0 no-query no-digest originserver "
	    "name=netcrave_origin\n"
	    "cache_peer_access netcrave_origin allow netcrave_accel\n"
	    "cache_peer_access netcrave_origin deny all\n"
	    "never_direct allow netcrave_accel\n"
	    "http_access allow netcrave_accel\n"
	    "icap_service netcrave_accel_req reqmod_precache bypass=off "
	    "icap://%s/waf-host/reqmod\n"
	    "icap_service netcrave_accel_resp respmod_precache bypass=off "
	    "icap://%s/waf-host/respmod\n"
	    "adaptation_access netcrave_accel_req allow netcrave_accel\n"
	    "adaptation_access netcrave_accel_resp allow netcrave_accel\n",
	    conf->waf_squid_accel_peer, conf->waf_squid_accel_listen, host,
	    port, conf->waf_icap_listen, conf->waf_icap_listen);
	return text;
}

/* The egress ports (networks of waf.egress_tag): the forward-proxy port again
 * on the host end of the uplink, IPv4 and IPv6, where their gateways' port
 * leads (nft.c). */
static char *
squid_egress_conf(const struct conf *conf)
{
	const char	*addr, *addr6, *colon;
	char		*text, *port6;

	if (conf->waf_egress_tag[0] == '\0')
		return xstrdup("");
	if ((addr = plugin_network_uplink_host()) == NULL ||
	    (colon = strrchr(conf->waf_squid_listen, ':')) == NULL) {
		log_warnx("squid: waf.egress_tag %s: no uplink, so no proxy for "
		    "its networks", conf->waf_egress_tag);
		return xstrdup("");
	}
	if ((addr6 = plugin_network_uplink_host6()) != NULL)
		xasprintf(&port6, "http_port [%s]%s name=netcrave_egress6\n",
		    addr6, colon);
	else
		port6 = xstrdup("");
	/* Containers must not reach the host's own services through it. */
	xasprintf(&text, "# Egress: networks tagged %s, through the uplink.\n"
	    "http_port %s%s name=netcrave_egress\n"
	    "%s"
	    "acl netcrave_egress myportname netcrave_egress "
	    "netcrave_egress6\n"
	    "http_access deny netcrave_egress to_localhost\n",
	    conf->waf_egress_tag, addr, colon, port6);
	free(port6);
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
	    "# Forward proxy (egress) on %s; every request and response goes\n"
	    "# through netcraved's ICAP service with the rule set \"%s\".\n"
	    "http_port %s\n"
	    "%s"
	    "visible_hostname %s\n"
	    "pid_filename %s/squid.pid\n"
	    "cache_log %s/cache.log\n"
	    "access_log stdio:%s/access.log squid\n"
	    "cache_store_log none\n"
	    "coredump_dir %s\n"
	    "cache_mem %u MB\n"
	    "maximum_object_size_in_memory 1 MB\n"
	    "shutdown_lifetime 1 seconds\n"
	    "icap_enable on\n"
	    "icap_preview_enable on\n"
	    "icap_persistent_connections on\n"
	    "icap_send_client_ip on\n"
	    "icap_service_failure_limit -1\n"
	    /* First: the accelerator's port and services win for its traffic. */
	    "%s"
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
	    "adaptation_access netcrave_req allow all\n"
	    "adaptation_access netcrave_resp allow all\n",
	    conf->waf_squid_listen, conf->waf_egress_rule_set,
	    conf->waf_squid_listen, egress, conf->instance, dir, dir, dir,
	    dir, conf->waf_squid_cache_mem_mb, accel, conf->waf_icap_listen,
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
	int			 rc = -1;

	if (!conf->waf_squid_enabled)
		return 0;
	if (conf->waf_icap_listen[0] == '\0') {
		snprintf(err, errlen, "waf.squid.enabled needs waf.icap_listen");
		return -1;
	}
	squid_addrlen = sizeof squid_addr;
	if (evutil_parse_sockaddr_port(conf->waf_squid_listen,
	    (struct sockaddr *)&squid_addr, &squid_addrlen) != 0)
		return squid_check_addr("waf.squid.listen",
		    conf->waf_squid_listen, err, errlen);
	if (conf->waf_squid_accel_listen[0] != '\0' &&
	    (squid_check_addr("waf.squid.accel_listen",
	    conf->waf_squid_accel_listen, err, errlen) != 0 ||
	    squid_check_addr("waf.squid.accel_peer",
	    conf->waf_squid_accel_peer, err, errlen) != 0))
		return -1;
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
	/* supervise_stop_all has run: squid is stopped and may be removed. */
	if (squid_child != NULL && supervise_remove(squid_child) == 0)
		squid_child = NULL;
}

const struct server squid_server_entry = {
	"squid", squid_init, squid_reload, squid_shutdown
};
