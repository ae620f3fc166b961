/* netcraved.c: main: options, configuration, keys and store, the one event loop,
 * the server table, signals (SIGTERM/SIGINT stop, SIGHUP reloads). */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "conf.h"
#include "acme.h"
#include "control.h"
#include "cluster.h"
#include "dav.h"
#include "dns.h"
#include "dockerd.h"
#include "keys.h"
#include "log.h"
#include "notify.h"
#include "icap.h"
#include "ingress.h"
#include "squid.h"
#include "plugin.h"
#include "plugin_private.h"
#include "privs.h"
#include "runtime.h"
#include "server.h"
#include "store.h"
#include "supervise.h"
#include "util.h"
#include "volume.h"
#include "xmalloc.h"

/* The server table: started in this order, stopped in reverse. */
static const struct server *const servers[] = {
	&metrics_server,
	&control_server,
	&ipam_server,		/* before plugin: the schema serves its calls */
	&cluster_server,	/* before plugin: GetCapabilities reads it */
	&network_server,	/* after ipam (pools name scopes), before plugin */
	&plugin_server,
	&runtime_server,	/* adds dockerd/containerd: they start after the servers */
	&dockerd_server,	/* after ipam: tag assignment reads the schema */
	&dav_server,		/* WebDAV: volumes' data */
	&icap_server_entry,	/* the WAF's ICAP service (issue 9) */
	&squid_server_entry,	/* squid in front of it, a built-in child */
	&volume_server,		/* after dav: volumes are its collections */
	&ingress_server,	/* haproxy: after the follower and ipam, before
				   dns (its SRV records ask ingress) */
	&dns_server,		/* after ipam (reverse zones) and the follower */
	&acme_server,		/* after dns: dns-01 records go there */
};
#define NSERVERS	(sizeof servers / sizeof servers[0])

static struct {
	struct event_base	*base;
	struct conf		*conf;
	const char		*conf_path;	/* as given with -c, or the default */
	int			 conf_explicit;
	struct store		*store;
	size_t			 nstarted;	/* servers whose init succeeded */
	struct server_record	*records;	/* replayed by the store, until init */
	size_t			 nrecords;
	int			 stopping;
	int			 debug;		/* -d: debug whatever the file says */
	struct event		*ev_term, *ev_int, *ev_hup;
} nc;

/* Print usage and exit. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: netcraved [-dfnvV] [-c file]\n");
	exit(1);
}

/* Keep each record the store replays; the servers take theirs at init. */
static void
netcraved_store_record(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	struct server_record	*r;

	nc.records = xreallocarray(nc.records, nc.nrecords + 1,
	    sizeof *nc.records);
	r = &nc.records[nc.nrecords++];
	r->kind = xstrdup(kind);
	r->key = xstrdup(key);
	r->value = xmalloc(len + 1);
	memcpy(r->value, value, len);
	((char *)r->value)[len] = '\0';	/* values are mostly text */
	r->len = len;
}

/* Drop the replayed records once every server has taken what it needs. */
static void
netcraved_free_records(void)
{
	size_t	i;

	for (i = 0; i < nc.nrecords; i++) {
		free(nc.records[i].kind);
		free(nc.records[i].key);
		free(nc.records[i].value);
	}
	free(nc.records);
	nc.records = NULL;
	nc.nrecords = 0;
}

/* Open the keys, then the store encrypted with the journal key. */
static void
netcraved_open_state(void)
{
	struct store_params	params;
	unsigned char		key[KEYS_KEY_BYTES];
	char			err[512];

	int			has_state;

	if (util_mkdir_p(nc.conf->state_dir, 0700, err, sizeof err) == -1)
		fatalx("state: %s", err);
	if (keys_open(nc.conf->keys_dir, err, sizeof err) == -1)
		fatalx("keys: %s", err);

	memset(&params, 0, sizeof params);
	params.backend = nc.conf->store_backend;
	params.dir = nc.conf->state_dir;
	params.compact_bytes = nc.conf->store_compact_bytes;
	params.pg_conninfo = nc.conf->store_pg_conninfo;
	params.pg_host = nc.conf->store_pg_host;
	params.pg_port = nc.conf->store_pg_port;
	params.pg_dbname = nc.conf->store_pg_dbname;
	params.pg_user = nc.conf->store_pg_user;
	params.pg_sslmode = nc.conf->store_pg_sslmode;
	params.pg_sslrootcert = nc.conf->store_pg_sslrootcert;
	params.pg_sslcert = nc.conf->store_pg_sslcert;
	params.pg_sslkey = nc.conf->store_pg_sslkey;
	params.pg_poll_ms = nc.conf->store_pg_poll_ms;
	params.pg_timeout_ms = nc.conf->store_pg_timeout_ms;
	params.pg_queue_max = nc.conf->store_pg_queue_max;
	if ((has_state = store_has_state(&params)) == -1)
		fatalx("store: unknown backend %s", params.backend);
	/* A key made anew for existing state would only hide the real loss. */
	if (has_state && !keys_exists("journal"))
		fatalx("keys: the journal key is missing from %s while state exists "
		    "in %s; restore the key file (state cannot be read without it)",
		    nc.conf->keys_dir, nc.conf->state_dir);
	if (keys_get("journal", key, !has_state, err, sizeof err) == -1)
		fatalx("keys: %s", err);
	params.key = key;
	nc.store = store_open(nc.base, &params, netcraved_store_record, NULL,
	    err, sizeof err);
	OPENSSL_cleanse(key, sizeof key);
	if (nc.store == NULL)
		fatalx("store: %s", err);
}

/* Add the configured children to the supervisor. */
static void
netcraved_add_children(const struct conf *conf)
{
	size_t	i;

	for (i = 0; i < conf->nchildren; i++)
		supervise_add(&conf->children[i], NULL, NULL);
}

/* Whether two optional strings are equal. */
static int
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Whether two child specs are equal. */
static int
child_equal(const struct conf_child *a, const struct conf_child *b)
{
	return (str_equal(a->role, b->role) &&
	    util_strv_equal(a->argv, b->argv) &&
	    util_strv_equal(a->env, b->env) && str_equal(a->netns, b->netns) &&
	    a->restart == b->restart &&
	    a->backoff_initial_ms == b->backoff_initial_ms &&
	    a->backoff_max_ms == b->backoff_max_ms &&
	    str_equal(a->ready_socket, b->ready_socket) &&
	    str_equal(a->start_after, b->start_after) &&
	    a->ready_timeout_ms == b->ready_timeout_ms &&
	    a->stop_order == b->stop_order &&
	    a->stop_timeout_ms == b->stop_timeout_ms);
}

/*
 * Name the first key a reload cannot apply (names on the machine, sockets,
 * store, children), or NULL when the new config can be applied live.  The
 * address schema is the ipam server's to accept or refuse.
 */
static const char *
netcraved_reload_blocker(const struct conf *old, const struct conf *new)
{
	size_t	i;

	if (!str_equal(old->instance, new->instance))
		return ("instance");
	if (!str_equal(old->run_dir, new->run_dir))
		return ("paths.run_dir");
	if (!str_equal(old->state_dir, new->state_dir))
		return ("paths.state_dir");
	if (!str_equal(old->keys_dir, new->keys_dir))
		return ("paths.keys_dir");
	if (!str_equal(old->plugin_socket, new->plugin_socket))
		return ("paths.plugin_socket");
	if (!str_equal(old->control_socket, new->control_socket))
		return ("paths.control_socket");
	if (!str_equal(old->netns, new->netns))
		return ("names.netns");
	if (!str_equal(old->link_prefix, new->link_prefix))
		return ("names.link_prefix");
	if (!str_equal(old->nft_table, new->nft_table))
		return ("names.nft_table");
	if (!str_equal(old->store_backend, new->store_backend))
		return ("store.backend");
	if (!str_equal(old->store_pg_conninfo, new->store_pg_conninfo) ||
	    !str_equal(old->store_pg_host, new->store_pg_host) ||
	    !str_equal(old->store_pg_port, new->store_pg_port) ||
	    !str_equal(old->store_pg_dbname, new->store_pg_dbname) ||
	    !str_equal(old->store_pg_user, new->store_pg_user) ||
	    !str_equal(old->store_pg_sslmode, new->store_pg_sslmode) ||
	    !str_equal(old->store_pg_sslrootcert, new->store_pg_sslrootcert) ||
	    !str_equal(old->store_pg_sslcert, new->store_pg_sslcert) ||
	    !str_equal(old->store_pg_sslkey, new->store_pg_sslkey))
		return ("store (pg connection)");
	if (!str_equal(old->metrics_listen, new->metrics_listen))
		return ("metrics.listen");
	if (old->runtime_mode != new->runtime_mode ||
	    !str_equal(old->runtime_bin_dir, new->runtime_bin_dir) ||
	    !str_equal(old->runtime_netns, new->runtime_netns) ||
	    !str_equal(old->runtime_root, new->runtime_root) ||
	    !str_equal(old->runtime_exec_root, new->runtime_exec_root) ||
	    !str_equal(old->runtime_dockerd_config, new->runtime_dockerd_config) ||
	    !str_equal(old->runtime_containerd_config,
	    new->runtime_containerd_config) ||
	    !str_equal(old->runtime_storage_driver, new->runtime_storage_driver) ||
	    !util_strv_equal(old->runtime_dockerd_args, new->runtime_dockerd_args))
		return ("runtime");
	if (old->nchildren != new->nchildren)
		return ("children");
	for (i = 0; i < old->nchildren; i++)
		if (!child_equal(&old->children[i], &new->children[i]))
			return ("children");
	return (NULL);
}

/*
 * SIGHUP: parse the file into a fresh config and swap it in only when it is valid
 * and every server accepts it; otherwise the old one stays live.
 */
static void
netcraved_reload_apply(void)
{
	struct conf	*new;
	const char	*blocker;
	char		 err[1024];
	size_t		 i;

	log_info("reload: reading %s", nc.conf_path);
	new = conf_load(nc.conf_path, nc.conf_explicit, err, sizeof err);
	if (new == NULL) {
		log_warnx("reload: %s; keeping the running configuration", err);
		return;
	}
	if ((blocker = netcraved_reload_blocker(nc.conf, new)) != NULL) {
		log_warnx("reload: %s changed, which needs a restart; keeping "
		    "the running configuration", blocker);
		conf_free(new);
		return;
	}
	for (i = 0; i < nc.nstarted; i++) {
		if (servers[i]->reload == NULL)
			continue;
		if (servers[i]->reload(nc.conf, new, err, sizeof err) == -1) {
			/* Servers before i took new: hand them old back. */
			log_warnx("reload: %s: %s; keeping the running "
			    "configuration", servers[i]->name, err);
			while (i-- > 0)
				if (servers[i]->reload != NULL)
					servers[i]->reload(new, nc.conf, err,
					    sizeof err);
			conf_free(new);
			return;
		}
	}
	if (nc.debug)
		new->log_level = LOG_LEVEL_DEBUG;
	log_setlevel(new->log_level);
	conf_free(nc.conf);
	nc.conf = new;
	log_info("reload: configuration applied");
}

/* The service manager sees the reload begin and end, whatever its outcome. */
static void
netcraved_reload(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	netcraved_reload_apply();
	notify_send("READY=1\nSTATUS=serving instance %s", nc.conf->instance);
}

/* Children are all stopped: close the servers and leave the loop. */
static void
netcraved_children_stopped(void *arg)
{
	size_t	i;

	for (i = nc.nstarted; i-- > 0;)
		servers[i]->shutdown();
	nc.nstarted = 0;
	event_base_loopexit(nc.base, NULL);
}

/*
 * SIGTERM/SIGINT: stop children first while the plugin socket still answers
 * (dockerd releases its endpoints through it), then the servers.
 */
static void
netcraved_stop(void)
{
	if (nc.stopping) {
		log_warnx("stop: already stopping");
		return;
	}
	nc.stopping = 1;
	log_info("stop: stopping children, then servers");
	notify_send("STOPPING=1\nSTATUS=stopping children, then servers");
	supervise_stop_all(netcraved_children_stopped, NULL);
}

/* Signal callback on the loop. */
static void
netcraved_signal(evutil_socket_t sig, short events, void *arg)
{
	switch (sig) {
	case SIGHUP:
		netcraved_reload();
		break;
	case SIGTERM:
	case SIGINT:
		netcraved_stop();
		break;
	}
}

/* Install SIGTERM/SIGINT/SIGHUP on the loop; SIGPIPE is an error return. */
static void
netcraved_signals(void)
{
	signal(SIGPIPE, SIG_IGN);
	nc.ev_term = evsignal_new(nc.base, SIGTERM, netcraved_signal, NULL);
	nc.ev_int = evsignal_new(nc.base, SIGINT, netcraved_signal, NULL);
	nc.ev_hup = evsignal_new(nc.base, SIGHUP, netcraved_signal, NULL);
	if (nc.ev_term == NULL || nc.ev_int == NULL || nc.ev_hup == NULL)
		fatalx("evsignal_new");
	evsignal_add(nc.ev_term, NULL);
	evsignal_add(nc.ev_int, NULL);
	evsignal_add(nc.ev_hup, NULL);
}

/* Start every server in table order; a failure stops the daemon. */
static void
netcraved_start_servers(void)
{
	struct server_env	env;
	char			err[1024];
	size_t			i;

	env.base = nc.base;
	env.conf = nc.conf;
	env.store = nc.store;
	env.records = nc.records;
	env.nrecords = nc.nrecords;
	for (i = 0; i < NSERVERS; i++) {
		if (servers[i]->init(&env, err, sizeof err) == -1) {
			log_warnx("%s: %s", servers[i]->name, err);
			while (nc.nstarted-- > 0)
				servers[nc.nstarted]->shutdown();
			fatalx("start-up failed");
		}
		nc.nstarted = i + 1;
	}
	netcraved_free_records();
}

int
main(int argc, char *argv[])
{
	char	err[1024];
	int	ch, foreground = 0, debug = 0, check = 0, verbose = 0;

	nc.conf_path = CONF_DEFAULT_PATH;
	while ((ch = getopt(argc, argv, "c:dfnvV")) != -1) {
		switch (ch) {
		case 'c':
			nc.conf_path = optarg;
			nc.conf_explicit = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("netcraved %s\n", PACKAGE_VERSION);
			return (0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	log_init(1, LOG_LEVEL_INFO, "netcraved");
	nc.conf = conf_load(nc.conf_path, nc.conf_explicit, err, sizeof err);
	if (nc.conf == NULL) {
		fprintf(stderr, "netcraved: %s\n", err);
		return (1);
	}
	if (check) {
		if (verbose)
			conf_print(nc.conf, stdout);
		else
			fprintf(stderr, "configuration OK\n");
		conf_free(nc.conf);
		return (0);
	}
	nc.debug = debug;
	if (debug)
		nc.conf->log_level = LOG_LEVEL_DEBUG;
	log_init(foreground, nc.conf->log_level, "netcraved");
	if (!foreground && daemon(0, 0) == -1)
		fatal("daemon");

	if ((nc.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (event_base_priority_init(nc.base, NC_EV_PRIORITIES) == -1)
		fatalx("event_base_priority_init");
	netcraved_signals();
	if (util_mkdir_p(nc.conf->run_dir, 0755, err, sizeof err) == -1)
		fatalx("%s", err);
	netcraved_open_state();
	supervise_init(nc.base);
	netcraved_add_children(nc.conf);
	netcraved_start_servers();
	supervise_start_all();
	/* Least privilege (issue 12): children are fixed until a restart, so
	 * without any nothing needs to gain capabilities at exec. */
	if (privs_drop(supervise_first() == NULL, err, sizeof err) == -1)
		log_warnx("privileges: %s: running with all of them", err);
	log_info("netcraved %s started: instance %s, config %s", PACKAGE_VERSION,
	    nc.conf->instance, nc.conf->path != NULL ? nc.conf->path :
	    "(built-in defaults)");
	notify_send("READY=1\nSTATUS=serving instance %s\nMAINPID=%ld",
	    nc.conf->instance, (long)getpid());

	event_base_dispatch(nc.base);

	supervise_shutdown();
	store_close(nc.store);
	keys_close();
	event_free(nc.ev_term);
	event_free(nc.ev_int);
	event_free(nc.ev_hup);
	event_base_free(nc.base);
	log_info("netcraved stopped");
	conf_free(nc.conf);
	return (0);
}
