/* squid.c: squid as the firewall's proxy: netcraved writes squid.conf (memory
 * cache, ICAP REQMOD and RESPMOD through its own ICAP server) and supervises
 * squid as a built-in child.  Forward-proxy mode serves egress; the ingress
 * accelerator mode comes with HAProxy (see squid_write_conf). */
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
#include "server.h"
#include "squid.h"
#include "supervise.h"
#include "util.h"
#include "xmalloc.h"

static struct child	*squid_child;
static struct sockaddr_storage squid_addr;	/* where readiness is probed */
static int		 squid_addrlen;

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

int
squid_write_conf(const struct conf *conf, const char *path, char *err,
    size_t errlen)
{
	char	*text, *dir;
	int	 rc;

	/* Squid runs as its own user, which cannot enter the 0700 state_dir:
	 * its files (logs, pid) live in run_dir/squid; the cache is memory. */
	xasprintf(&dir, "%s/squid", conf->run_dir);
	xasprintf(&text,
	    "# squid.conf: written by netcraved at every start; edits are lost.\n"
	    "# Forward proxy (egress) on %s; every request and response goes\n"
	    "# through netcraved's ICAP service with the rule set \"%s\".\n"
	    "http_port %s\n"
	    /*
	     * Ingress (issue: HAProxy) adds an accelerator port here:
	     * "http_port ADDR accel defaultsite=... vhost" and one
	     * "cache_peer BACKEND parent PORT 0 no-query originserver" per
	     * service labelled io.netcrave.waf=<set>, each with its own
	     * icap_service pair pointing at /waf/<set>.
	     */
	    "visible_hostname %s\n"
	    "pid_filename %s/squid.pid\n"
	    "cache_log %s/cache.log\n"
	    "access_log stdio:%s/access.log squid\n"
	    "cache_store_log none\n"
	    "coredump_dir %s\n"
	    "cache_mem %u MB\n"
	    "maximum_object_size_in_memory 1 MB\n"
	    "shutdown_lifetime 1 seconds\n"
	    "acl netcrave_clients src 127.0.0.0/8 ::1 10.0.0.0/8 "
	    "172.16.0.0/12 192.168.0.0/16 198.18.0.0/15 fc00::/7\n"
	    "acl SSL_ports port 443\n"
	    "acl CONNECT method CONNECT\n"
	    "http_access deny CONNECT !SSL_ports\n"
	    "http_access allow netcrave_clients\n"
	    "http_access deny all\n"
	    "icap_enable on\n"
	    "icap_preview_enable on\n"
	    "icap_persistent_connections on\n"
	    "icap_send_client_ip on\n"
	    "icap_service_failure_limit -1\n"
	    "icap_service netcrave_req reqmod_precache bypass=off "
	    "icap://%s/waf/%s/reqmod\n"
	    "icap_service netcrave_resp respmod_precache bypass=off "
	    "icap://%s/waf/%s/respmod\n"
	    "adaptation_access netcrave_req allow all\n"
	    "adaptation_access netcrave_resp allow all\n",
	    conf->waf_squid_listen, conf->waf_squid_rule_set,
	    conf->waf_squid_listen, conf->instance, dir, dir, dir,
	    dir, conf->waf_squid_cache_mem_mb, conf->waf_icap_listen,
	    conf->waf_squid_rule_set, conf->waf_icap_listen,
	    conf->waf_squid_rule_set);
	rc = util_write_atomic(path, text, strlen(text), 0644, err, errlen);
	free(text);
	free(dir);
	return rc;
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
	    (struct sockaddr *)&squid_addr, &squid_addrlen) != 0) {
		snprintf(err, errlen, "waf.squid.listen: %s: expected "
		    "ADDRESS:PORT", conf->waf_squid_listen);
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
	    conf->waf_squid_rule_set);
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
	    strcmp(old->waf_squid_rule_set, new->waf_squid_rule_set) != 0 ||
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
