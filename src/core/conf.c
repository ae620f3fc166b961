/* conf.c: the configuration file: one table describes every key, and the same table
 * drives parsing, defaults, printing and freeing, so they cannot drift apart. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "json.h"
#include "log.h"
#include "prefix.h"
#include "runtime.h"
#include "util.h"
#include "xmalloc.h"

#define CONF_MAX_FILE		(1024 * 1024)
#define CONF_MAX_STRING		4096	/* bytes, including the NUL */
#define CONF_MAX_CHILDREN	64
#define CONF_MAX_ARGS		256
#define CONF_MAX_KEYPATH	512	/* room for a scope's index path and name path */
#define CONF_MAX_SCOPES		1024	/* in the whole schema */
#define CONF_MAX_SCOPE_DEPTH	8
#define CONF_MAX_TAGS		64	/* in one tags, egress or ingress list */
/* Longest path a unix socket address can hold. */
#define CONF_MAX_SOCKET		(sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1)

enum conf_kind {
	CONF_SECTION,		/* object whose keys are in table, same base */
	CONF_STRING,		/* char *, vetted by check */
	CONF_CHOICE,		/* one of choices, stored as int */
	CONF_UINT,		/* unsigned int in [min, max] */
	CONF_SIZE,		/* size_t in [min, max] */
	CONF_INT,		/* int in [min, max] */
	CONF_BOOL,		/* int 0 or 1 from true or false; def */
	CONF_LIST,		/* NULL-terminated char **, [min, max] elements */
	CONF_CHILDREN,		/* the children array, elements keyed by table */
	CONF_SCOPES		/* a scope array, walked by conf_scopes */
};

#define CONF_NULLABLE	0x1	/* null is accepted and stored as NULL */
#define CONF_REQUIRED	0x2	/* no default: the key must be present */

struct conf_choice {
	const char	*name;
	int		 value;
};

/*
 * A check vets a string and may normalise it in place (it only ever gets
 * shorter); it returns NULL when the value is fine, else what was expected.
 */
typedef const char *(*conf_check_fn)(char *);

struct conf_key {
	const char			*name;
	enum conf_kind			 kind;
	size_t				 offset;
	int				 flags;
	int64_t				 min;
	int64_t				 max;
	int64_t				 def;		/* CONF_SCOPES: offset
							   of the count */
	const char			*def_string;	/* NULL: derived later */
	const struct conf_choice	*choices;
	conf_check_fn			 check;
	const struct conf_key		*table;
};

/* Where errors go; conf_parse keeps no global state, so reloads may overlap. */
struct conf_walk {
	const char	*name;
	char		*err;
	size_t		 errlen;
	size_t		 nscopes;	/* scopes read so far, all levels */
};

static const char	*conf_check_instance(char *);
static const char	*conf_check_path(char *);
static const char	*conf_check_netns(char *);
static const char	*conf_check_link_prefix(char *);
static const char	*conf_check_nft_table(char *);
static const char	*conf_check_backend(char *);
static const char	*conf_check_sslmode(char *);
static const char	*conf_check_listen(char *);
static const char	*conf_check_name(char *);
static const char	*conf_check_env(char *);
static const char	*conf_check_child_netns(char *);
static const char	*conf_check_socket(char *);
static const char	*conf_check_tag(char *);
static const char	*conf_check_tag_or_empty(char *);
static const char	*conf_check_docker_socket(char *);
static const char	*conf_check_driver(char *);
static const char	*conf_check_dav_socket(char *);
static const char	*conf_check_dav_plain(char *);
static const char	*conf_check_dav_listen(char *);
static const char	*conf_check_dav_tls_name(char *);

static const struct conf_choice conf_log_levels[] = {
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
	{ NULL, 0 }
};

static const struct conf_choice conf_restarts[] = {
	{ "always", CONF_RESTART_ALWAYS },
	{ "on-failure", CONF_RESTART_ON_FAILURE },
	{ "never", CONF_RESTART_NEVER },
	{ NULL, 0 }
};

#define C(field)	offsetof(struct conf, field)
#define K(field)	offsetof(struct conf_child, field)
#define S(field)	offsetof(struct conf_scope, field)

static const struct conf_key conf_paths_keys[] = {
	{ "run_dir", CONF_STRING, C(run_dir), 0, 0, 0, 0, NULL, NULL,
	  conf_check_path, NULL },
	{ "state_dir", CONF_STRING, C(state_dir), 0, 0, 0, 0, NULL, NULL,
	  conf_check_path, NULL },
	{ "keys_dir", CONF_STRING, C(keys_dir), 0, 0, 0, 0, NULL, NULL,
	  conf_check_path, NULL },
	{ "plugin_socket", CONF_STRING, C(plugin_socket), 0, 0, 0, 0, NULL, NULL,
	  conf_check_socket, NULL },
	{ "control_socket", CONF_STRING, C(control_socket), 0, 0, 0, 0, NULL,
	  NULL, conf_check_socket, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct conf_key conf_names_keys[] = {
	{ "netns", CONF_STRING, C(netns), 0, 0, 0, 0, NULL, NULL,
	  conf_check_netns, NULL },
	{ "link_prefix", CONF_STRING, C(link_prefix), 0, 0, 0, 0, NULL, NULL,
	  conf_check_link_prefix, NULL },
	{ "nft_table", CONF_STRING, C(nft_table), 0, 0, 0, 0, NULL, NULL,
	  conf_check_nft_table, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct conf_key conf_store_keys[] = {
	{ "backend", CONF_STRING, C(store_backend), 0, 0, 0, 0, "file", NULL,
	  conf_check_backend, NULL },
	{ "compact_bytes", CONF_SIZE, C(store_compact_bytes), 0,
	  65536, 1073741824, 4194304, NULL, NULL, NULL, NULL },
	/* The pg backend's connection (libpq keywords) and behaviour. */
	{ "conninfo", CONF_STRING, C(store_pg_conninfo), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, NULL, NULL },
	{ "host", CONF_STRING, C(store_pg_host), CONF_NULLABLE, 0, 0, 0, NULL,
	  NULL, NULL, NULL },
	{ "port", CONF_STRING, C(store_pg_port), CONF_NULLABLE, 0, 0, 0, NULL,
	  NULL, NULL, NULL },
	{ "dbname", CONF_STRING, C(store_pg_dbname), CONF_NULLABLE, 0, 0, 0, NULL,
	  NULL, NULL, NULL },
	{ "user", CONF_STRING, C(store_pg_user), CONF_NULLABLE, 0, 0, 0, NULL,
	  NULL, NULL, NULL },
	{ "sslmode", CONF_STRING, C(store_pg_sslmode), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, conf_check_sslmode, NULL },
	{ "sslrootcert", CONF_STRING, C(store_pg_sslrootcert), CONF_NULLABLE,
	  0, 0, 0, NULL, NULL, conf_check_path, NULL },
	{ "sslcert", CONF_STRING, C(store_pg_sslcert), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, conf_check_path, NULL },
	{ "sslkey", CONF_STRING, C(store_pg_sslkey), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, conf_check_path, NULL },
	{ "poll_ms", CONF_UINT, C(store_pg_poll_ms), 0,
	  10, 3600000, 1000, NULL, NULL, NULL, NULL },
	{ "timeout_ms", CONF_UINT, C(store_pg_timeout_ms), 0,
	  100, 3600000, 30000, NULL, NULL, NULL, NULL },
	{ "queue_max", CONF_SIZE, C(store_pg_queue_max), 0,
	  1, 1048576, 10000, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct conf_key conf_http_keys[] = {
	{ "max_header_bytes", CONF_SIZE, C(http_max_header_bytes), 0,
	  1024, 1048576, 16384, NULL, NULL, NULL, NULL },
	{ "max_body_bytes", CONF_SIZE, C(http_max_body_bytes), 0,
	  1024, 1073741824, 1048576, NULL, NULL, NULL, NULL },
	{ "idle_timeout_ms", CONF_UINT, C(http_idle_timeout_ms), 0,
	  100, 86400000, 30000, NULL, NULL, NULL, NULL },
	{ "max_connections", CONF_UINT, C(http_max_connections), 0,
	  1, 65536, 1024, NULL, NULL, NULL, NULL },
	/* Slow clients (issue 12). */
	{ "header_timeout_ms", CONF_UINT, C(http_header_timeout_ms), 0,
	  100, 3600000, 10000, NULL, NULL, NULL, NULL },
	{ "body_timeout_ms", CONF_UINT, C(http_body_timeout_ms), 0,
	  100, 86400000, 60000, NULL, NULL, NULL, NULL },
	{ "body_min_rate", CONF_SIZE, C(http_body_min_rate), 0,
	  1, 1073741824, 1024, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct conf_key conf_metrics_keys[] = {
	{ "listen", CONF_STRING, C(metrics_listen), 0, 0, 0, 0, NULL, NULL,
	  conf_check_listen, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* Volumes (src/volume). */
static const struct conf_key conf_volume_keys[] = {
	{ "cert_lifetime", CONF_UINT, C(volume_cert_lifetime), 0,
	  30, 34300800, 604800, NULL, NULL, NULL, NULL },
	{ "dav_remote", CONF_STRING, C(volume_dav_remote), 0, 0, 0, 0, "", NULL,
	  NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* WebDAV (src/dav): paths derived later when absent. */
static const struct conf_key conf_dav_keys[] = {
	{ "storage_dir", CONF_STRING, C(dav_storage_dir), 0, 0, 0, 0, NULL, NULL,
	  conf_check_path, NULL },
	{ "socket", CONF_STRING, C(dav_socket), 0, 0, 0, 0, NULL, NULL,
	  conf_check_dav_socket, NULL },
	{ "plain_listen", CONF_STRING, C(dav_plain_listen), 0, 0, 0, 0, "", NULL,
	  conf_check_dav_plain, NULL },
	{ "listen", CONF_LIST, C(dav_listen), 0, 0, 16, 0, NULL, NULL,
	  conf_check_dav_listen, NULL },
	{ "tls_names", CONF_LIST, C(dav_tls_names), 0, 0, 32, 0, NULL, NULL,
	  conf_check_dav_tls_name, NULL },
	{ "max_xml_bytes", CONF_SIZE, C(dav_max_xml_bytes), 0,
	  1024, 16777216, 1048576, NULL, NULL, NULL, NULL },
	{ "max_file_bytes", CONF_SIZE, C(dav_max_file_bytes), 0,
	  4096, INT64_C(1099511627776), INT64_C(17179869184), NULL, NULL, NULL,
	  NULL },
	{ "max_locks", CONF_UINT, C(dav_max_locks), 0,
	  1, 1000000, 10000, NULL, NULL, NULL, NULL },
	{ "max_lock_timeout", CONF_UINT, C(dav_max_lock_timeout), 0,
	  60, 604800, 86400, NULL, NULL, NULL, NULL },
	{ "max_connections", CONF_UINT, C(dav_max_connections), 0,
	  1, 65536, 256, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* Squid in front of the ICAP server (src/waf/squid.c). */
static const struct conf_key conf_squid_keys[] = {
	{ "enabled", CONF_BOOL, C(waf_squid_enabled), 0, 0, 0, 0, NULL, NULL,
	  NULL, NULL },
	{ "program", CONF_STRING, C(waf_squid_program), 0, 0, 0, 0,
	  "/usr/sbin/squid", NULL, conf_check_path, NULL },
	{ "listen", CONF_STRING, C(waf_squid_listen), 0, 0, 0, 0,
	  "127.0.0.1:3128", NULL, conf_check_listen, NULL },
	{ "cache_mem_mb", CONF_UINT, C(waf_squid_cache_mem_mb), 0,
	  1, 65536, 64, NULL, NULL, NULL, NULL },
	/* ingress: squid as accelerator in front of accel_peer */
	{ "accel_listen", CONF_STRING, C(waf_squid_accel_listen), 0, 0, 0, 0,
	  "", NULL, conf_check_listen, NULL },
	{ "accel_peer", CONF_STRING, C(waf_squid_accel_peer), 0, 0, 0, 0,
	  "", NULL, conf_check_listen, NULL },
	/* egress: TLS inspection with a bump CA (squid-openssl) */
	{ "ssl_bump", CONF_BOOL, C(waf_squid_ssl_bump), 0, 0, 0, 0, NULL,
	  NULL, NULL, NULL },
	{ "certgen_program", CONF_STRING, C(waf_squid_certgen_program), 0, 0,
	  0, 0, "/usr/lib/squid/security_file_certgen", NULL, conf_check_path,
	  NULL },
	{ "ssl_bump_cafile", CONF_STRING, C(waf_squid_ssl_bump_cafile), 0, 0,
	  0, 0, "", NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* The web-application firewall (src/servers/icap.c, src/waf). */
static const struct conf_key conf_waf_keys[] = {
	{ "icap_listen", CONF_STRING, C(waf_icap_listen), 0, 0, 0, 0, "",
	  NULL, conf_check_listen, NULL },
	{ "rule_files", CONF_LIST, C(waf_rule_files), 0, 0, 64, 0, NULL, NULL,
	  conf_check_path, NULL },
	{ "default_set", CONF_STRING, C(waf_default_set), 0, 0, 0, 0,
	  "default", NULL, conf_check_name, NULL },
	{ "max_body_bytes", CONF_SIZE, C(waf_max_body_bytes), 0,
	  1024, 1073741824, 1048576, NULL, NULL, NULL, NULL },
	{ "preview_bytes", CONF_UINT, C(waf_preview_bytes), 0,
	  0, 65536, 4096, NULL, NULL, NULL, NULL },
	{ "idle_timeout_ms", CONF_UINT, C(waf_idle_timeout_ms), 0,
	  100, 86400000, 60000, NULL, NULL, NULL, NULL },
	{ "max_connections", CONF_UINT, C(waf_max_connections), 0,
	  1, 65536, 1024, NULL, NULL, NULL, NULL },
	{ "squid", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_squid_keys },
	/* egress: networks with this tag reach the outside through squid */
	{ "egress_tag", CONF_STRING, C(waf_egress_tag), 0, 0, 0, 0, "", NULL,
	  conf_check_tag_or_empty, NULL },
	{ "egress_rule_set", CONF_STRING, C(waf_egress_rule_set), 0, 0, 0, 0,
	  "default", NULL, conf_check_name, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* Ingress through HAProxy (src/ingress). */
static const struct conf_key conf_ingress_keys[] = {
	{ "enabled", CONF_BOOL, C(ingress_enabled), 0, 0, 0, 0, NULL, NULL,
	  NULL, NULL },
	{ "program", CONF_STRING, C(ingress_program), 0, 0, 0, 0,
	  "/usr/sbin/haproxy", NULL, conf_check_path, NULL },
	{ "http_listen", CONF_STRING, C(ingress_http_listen), 0, 0, 0, 0,
	  "0.0.0.0:80", NULL, conf_check_listen, NULL },
	{ "https_listen", CONF_STRING, C(ingress_https_listen), 0, 0, 0, 0,
	  "0.0.0.0:443", NULL, conf_check_listen, NULL },
	{ "resolver", CONF_STRING, C(ingress_resolver), 0, 0, 0, 0, "", NULL,
	  conf_check_listen, NULL },
	{ "hold_valid_ms", CONF_UINT, C(ingress_hold_valid_ms), 0,
	  100, 3600000, 1000, NULL, NULL, NULL, NULL },
	{ "hold_obsolete_ms", CONF_UINT, C(ingress_hold_obsolete_ms), 0,
	  0, 3600000, 5000, NULL, NULL, NULL, NULL },
	{ "slots", CONF_UINT, C(ingress_slots), 0,
	  1, 256, 8, NULL, NULL, NULL, NULL },
	{ "acme_address", CONF_STRING, C(ingress_acme_address), 0, 0, 0, 0, "",
	  NULL, conf_check_listen, NULL },
	{ "waf_address", CONF_STRING, C(ingress_waf_address), 0, 0, 0, 0, "",
	  NULL, conf_check_listen, NULL },
	{ "waf_return_listen", CONF_STRING, C(ingress_waf_return_listen), 0, 0,
	  0, 0, "", NULL, conf_check_listen, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct conf_key conf_child_keys[] = {
	{ "role", CONF_STRING, K(role), CONF_REQUIRED, 0, 0, 0, NULL, NULL,
	  conf_check_name, NULL },
	{ "argv", CONF_LIST, K(argv), CONF_REQUIRED, 1, CONF_MAX_ARGS, 0, NULL,
	  NULL, NULL, NULL },
	{ "env", CONF_LIST, K(env), 0, 0, CONF_MAX_ARGS, 0, NULL, NULL,
	  conf_check_env, NULL },
	{ "netns", CONF_STRING, K(netns), CONF_NULLABLE, 0, 0, 0, NULL, NULL,
	  conf_check_child_netns, NULL },
	{ "restart", CONF_CHOICE, K(restart), 0, 0, 0, 0, "always",
	  conf_restarts, NULL, NULL },
	{ "backoff_initial_ms", CONF_UINT, K(backoff_initial_ms), 0,
	  10, 3600000, 500, NULL, NULL, NULL, NULL },
	{ "backoff_max_ms", CONF_UINT, K(backoff_max_ms), 0,
	  10, 3600000, 30000, NULL, NULL, NULL, NULL },
	{ "ready_socket", CONF_STRING, K(ready_socket), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, conf_check_socket, NULL },
	{ "start_after", CONF_STRING, K(start_after), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, conf_check_name, NULL },
	{ "ready_timeout_ms", CONF_UINT, K(ready_timeout_ms), 0,
	  0, 3600000, 30000, NULL, NULL, NULL, NULL },
	{ "stop_order", CONF_INT, K(stop_order), 0,
	  -1000, 1000, 0, NULL, NULL, NULL, NULL },
	{ "stop_timeout_ms", CONF_UINT, K(stop_timeout_ms), 0,
	  100, 3600000, 10000, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct conf_choice conf_runtime_modes[] = {
	{ "external", CONF_RUNTIME_EXTERNAL },
	{ "supervised", CONF_RUNTIME_SUPERVISED },
	{ NULL, 0 }
};

/* dockerd and containerd run by netcraved (runtime.c). */
static const struct conf_key conf_runtime_keys[] = {
	{ "mode", CONF_CHOICE, C(runtime_mode), 0, 0, 0, 0, "external",
	  conf_runtime_modes, NULL, NULL },
	{ "bin_dir", CONF_STRING, C(runtime_bin_dir), 0, 0, 0, 0,
	  "/opt/netcrave/bin", NULL, conf_check_path, NULL },
	{ "netns", CONF_STRING, C(runtime_netns), CONF_NULLABLE, 0, 0, 0, "auto",
	  NULL, conf_check_child_netns, NULL },
	{ "root", CONF_STRING, C(runtime_root), 0, 0, 0, 0, NULL, NULL,
	  conf_check_path, NULL },
	{ "exec_root", CONF_STRING, C(runtime_exec_root), 0, 0, 0, 0, NULL, NULL,
	  conf_check_path, NULL },
	{ "dockerd_config", CONF_STRING, C(runtime_dockerd_config), CONF_NULLABLE,
	  0, 0, 0, NULL, NULL, conf_check_path, NULL },
	{ "containerd_config", CONF_STRING, C(runtime_containerd_config),
	  CONF_NULLABLE, 0, 0, 0, NULL, NULL, conf_check_path, NULL },
	{ "storage_driver", CONF_STRING, C(runtime_storage_driver), CONF_NULLABLE,
	  0, 0, 0, NULL, NULL, conf_check_name, NULL },
	{ "dockerd_args", CONF_LIST, C(runtime_dockerd_args), 0, 0,
	  CONF_MAX_ARGS, 0, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/*
 * Following dockerd (src/servers/dockerd.c); docker_socket null: not followed;
 * "auto": the dockerd netcraved runs (runtime.mode supervised), else the
 * system's at /var/run/docker.sock.
 */
static const struct conf_key conf_follower_keys[] = {
	{ "docker_socket", CONF_STRING, C(follower_docker_socket), CONF_NULLABLE,
	  0, 0, 0, "auto", NULL, conf_check_docker_socket, NULL },
	{ "network_driver", CONF_STRING, C(follower_network_driver), 0,
	  0, 0, 0, NULL, NULL, conf_check_driver, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* Authoritative DNS (src/dns); addresses are vetted again when listening. */
static const struct conf_choice conf_dns_dnssec[] = {
	{ "off", 0 },
	{ "on", 1 },
	{ NULL, 0 }
};
/* ACME (src/acme, issue 7). */
static const struct conf_choice conf_acme_challenges[] = {
	{ "dns-01", CONF_ACME_DNS01 },
	{ "http-01", CONF_ACME_HTTP01 },
	{ NULL, 0 }
};

static const struct conf_key conf_acme_keys[] = {
	{ "directory", CONF_STRING, C(acme_directory), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, NULL, NULL },
	{ "ca_file", CONF_STRING, C(acme_ca_file), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, conf_check_path, NULL },
	{ "email", CONF_STRING, C(acme_email), CONF_NULLABLE, 0, 0, 0, NULL,
	  NULL, NULL, NULL },
	{ "challenge", CONF_CHOICE, C(acme_challenge), 0, 0, 0, 0,
	  "dns-01", conf_acme_challenges, NULL, NULL },
	{ "http01_listen", CONF_STRING, C(acme_http01_listen), CONF_NULLABLE,
	  0, 0, 0, NULL, NULL, conf_check_listen, NULL },
	{ "renew_percent", CONF_UINT, C(acme_renew_percent), 0, 10, 95, 66,
	  NULL, NULL, NULL, NULL },
	{ "names", CONF_LIST, C(acme_names), 0, 0, 100, 0, NULL, NULL, NULL,
	  NULL },
	{ "cert_dir", CONF_STRING, C(acme_cert_dir), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, conf_check_path, NULL },
	{ "issuer_root", CONF_STRING, C(acme_issuer_root), CONF_NULLABLE, 0, 0,
	  0, NULL, NULL, conf_check_path, NULL },
	{ "preferred_chain", CONF_STRING, C(acme_preferred_chain),
	  CONF_NULLABLE, 0, 0, 0, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct conf_key conf_dns_keys[] = {
	{ "zone", CONF_STRING, C(dns_zone), 0, 0, 0, 0, "netcrave.internal.",
	  NULL, NULL, NULL },
	{ "listen", CONF_LIST, C(dns_listen), 0, 0, 64, 0, NULL, NULL,
	  conf_check_listen, NULL },
	{ "ttl", CONF_UINT, C(dns_ttl), 0, 0, 86400, 10, NULL, NULL, NULL, NULL },
	{ "edns_payload", CONF_UINT, C(dns_edns_payload), 0, 512, 4096, 1232,
	  NULL, NULL, NULL, NULL },
	{ "records", CONF_LIST, C(dns_records), 0, 0, 100000, 0, NULL, NULL,
	  NULL, NULL },
	{ "axfr_allow", CONF_LIST, C(dns_axfr_allow), 0, 0, 64, 0, NULL, NULL,
	  NULL, NULL },
	{ "notify", CONF_LIST, C(dns_notify), 0, 0, 64, 0, NULL, NULL,
	  conf_check_listen, NULL },
	{ "dnssec", CONF_CHOICE, C(dns_dnssec), 0, 0, 0, 0, "off",
	  conf_dns_dnssec, NULL, NULL },
	/* dns3: gateway listeners, response rate limiting. */
	{ "gateway_port", CONF_UINT, C(dns_gateway_port), 0, 0, 65535, 53,
	  NULL, NULL, NULL, NULL },
	{ "rrl_rate", CONF_UINT, C(dns_rrl_rate), 0, 0, 1000000, 200,
	  NULL, NULL, NULL, NULL },
	{ "rrl_slip", CONF_UINT, C(dns_rrl_slip), 0, 0, 100, 2,
	  NULL, NULL, NULL, NULL },
	{ "rrl_exempt", CONF_LIST, C(dns_rrl_exempt), 0, 0, 256, 0, NULL, NULL,
	  NULL, NULL },
	{ "rrl_exempt_own", CONF_BOOL, C(dns_rrl_exempt_own), 0, 0, 0, 1, NULL,
	  NULL, NULL, NULL },
	{ "nsec3", CONF_BOOL, C(dns_nsec3), 0, 0, 0, 0, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* The NetworkDriver's kernel side (src/route/vrf.c). */
static const struct conf_choice conf_vrf_backends[] = {
	{ "auto", 0 },		/* VRF_AUTO */
	{ "l3mdev", 1 },	/* VRF_L3MDEV */
	{ "netns", 2 },		/* VRF_NETNS */
	{ NULL, 0 }
};
static const struct conf_key conf_network_keys[] = {
	{ "vrf_backend", CONF_CHOICE, C(network_vrf_backend), 0, 0, 0, 0,
	  "auto", conf_vrf_backends, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* cluster.wireguard (src/route/wg.c). */
static const struct conf_choice conf_cluster_wireguard[] = {
	{ "auto", CONF_WG_AUTO },
	{ "off", CONF_WG_OFF },
	{ NULL, 0 }
};
/*
 * The plugin's scope as dockerd sees it: "global" makes its networks swarm
 * networks (dockerd then demands a cluster store unless it is in a swarm).
 */
static const struct conf_choice conf_plugin_scopes[] = {
	{ "local", CONF_PLUGIN_SCOPE_LOCAL },
	{ "global", CONF_PLUGIN_SCOPE_GLOBAL },
	{ NULL, 0 }
};
static const struct conf_key conf_plugin_keys[] = {
	{ "scope", CONF_CHOICE, C(plugin_scope), 0, 0, 0, 0, "local",
	  conf_plugin_scopes, NULL, NULL },
	/* Set by tools/mkplugin.sh's configuration: the container's
	 * read-only /proc/sys may be remounted (link_sysctl). */
	{ "managed", CONF_BOOL, C(plugin_managed), 0, 0, 0, 0, NULL, NULL,
	  NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* Clustering (issue 10); addresses are vetted by cluster_init. */
static const struct conf_key conf_cluster_keys[] = {
	{ "enabled", CONF_BOOL, C(cluster_enabled), 0, 0, 0, 0, NULL, NULL,
	  NULL, NULL },
	{ "asn", CONF_UINT, C(cluster_asn), 0, 1, 4294967294U, 64512, NULL,
	  NULL, NULL, NULL },
	{ "router_id", CONF_STRING, C(cluster_router_id), CONF_NULLABLE, 0, 0,
	  0, NULL, NULL, NULL, NULL },
	{ "host_address", CONF_STRING, C(cluster_host_address), CONF_NULLABLE,
	  0, 0, 0, NULL, NULL, NULL, NULL },
	{ "peers", CONF_LIST, C(cluster_peers), 0, 0, 1024, 0, NULL, NULL,
	  NULL, NULL },
	{ "announce", CONF_LIST, C(cluster_announce), 0, 0, 64, 0, NULL, NULL,
	  NULL, NULL },
	{ "listen_range", CONF_STRING, C(cluster_listen_range), CONF_NULLABLE,
	  0, 0, 0, NULL, NULL, NULL, NULL },
	{ "route_reflector", CONF_BOOL, C(cluster_route_reflector), 0, 0, 0, 0,
	  NULL, NULL, NULL, NULL },
	{ "password", CONF_STRING, C(cluster_password), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, NULL, NULL },
	{ "vrf", CONF_STRING, C(cluster_vrf), CONF_NULLABLE, 0, 0, 0, NULL,
	  NULL, NULL, NULL },
	{ "frr_bin_dir", CONF_STRING, C(cluster_frr_bin_dir), 0, 0, 0, 0,
	  "/usr/lib/frr", NULL, conf_check_path, NULL },
	{ "frr_dir", CONF_STRING, C(cluster_frr_dir), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, NULL, NULL },
	/* Dead host cleanup. */
	{ "dead_after", CONF_UINT, C(cluster_dead_after), 0, 2, 86400, 120,
	  NULL, NULL, NULL, NULL },
	/* WireGuard between the hosts. */
	{ "wireguard", CONF_CHOICE, C(cluster_wireguard), 0, 0, 0, 0,
	  "auto", conf_cluster_wireguard, NULL, NULL },
	{ "wireguard_port", CONF_UINT, C(cluster_wireguard_port), 0, 1, 65535,
	  51820, NULL, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* A scope of the address schema; its own "scopes" holds its children. */
static const struct conf_key conf_scope_keys[] = {
	{ "name", CONF_STRING, S(name), CONF_REQUIRED, 0, 0, 0, NULL, NULL,
	  conf_check_name, NULL },
	/* Vetted by conf_scope_network, which needs the parent and siblings. */
	{ "ipv4_network", CONF_STRING, S(ipv4_network), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, NULL, NULL },
	{ "ipv6_network", CONF_STRING, S(ipv6_network), CONF_NULLABLE, 0, 0, 0,
	  NULL, NULL, NULL, NULL },
	{ "ipv4_prefix_length", CONF_UINT, S(ipv4_prefix_length), 0,
	  0, 30, 0, NULL, NULL, NULL, NULL },
	{ "ipv6_prefix_length", CONF_UINT, S(ipv6_prefix_length), 0,
	  0, 124, 0, NULL, NULL, NULL, NULL },
	{ "tags", CONF_LIST, S(tags), 0, 0, CONF_MAX_TAGS, 0, NULL, NULL,
	  conf_check_tag, NULL },
	{ "egress", CONF_LIST, S(egress), 0, 0, CONF_MAX_TAGS, 0, NULL, NULL,
	  conf_check_tag, NULL },
	{ "ingress", CONF_LIST, S(ingress), 0, 0, CONF_MAX_TAGS, 0, NULL, NULL,
	  conf_check_tag, NULL },
	{ "scopes", CONF_SCOPES, S(children), 0, 0, CONF_MAX_SCOPES,
	  S(nchildren), NULL, NULL, NULL, conf_scope_keys },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* The whole file, in the order conf_print writes it. */
static const struct conf_key conf_keys[] = {
	{ "instance", CONF_STRING, C(instance), 0, 0, 0, 0,
	  CONF_DEFAULT_INSTANCE, NULL, conf_check_instance, NULL },
	{ "log_level", CONF_CHOICE, C(log_level), 0, 0, 0, 0, "info",
	  conf_log_levels, NULL, NULL },
	{ "paths", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_paths_keys },
	{ "names", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_names_keys },
	{ "store", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_store_keys },
	{ "http", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_http_keys },
	{ "metrics", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_metrics_keys },
	{ "dav", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL, conf_dav_keys },
	{ "volume", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_volume_keys },
	{ "children", CONF_CHILDREN, 0, 0, 0, CONF_MAX_CHILDREN, 0, NULL, NULL,
	  NULL, conf_child_keys },
	{ "runtime", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_runtime_keys },
	{ "follower", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_follower_keys },
	{ "waf", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL, conf_waf_keys },
	{ "dns", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL, conf_dns_keys },
	{ "ingress", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_ingress_keys },
	{ "network", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_network_keys },
	{ "plugin", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_plugin_keys },
	{ "cluster", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL,
	  conf_cluster_keys },
	{ "acme", CONF_SECTION, 0, 0, 0, 0, 0, NULL, NULL, NULL, conf_acme_keys },
	{ "default_tag", CONF_STRING, C(default_tag), 0, 0, 0, 0, "default",
	  NULL, conf_check_tag, NULL },
	{ "uplink_tag", CONF_STRING, C(uplink_tag), 0, 0, 0, 0, "internet",
	  NULL, conf_check_tag, NULL },
	{ "host_tag", CONF_STRING, C(host_tag), 0, 0, 0, 0, "host", NULL,
	  conf_check_tag, NULL },
	/* Absent: the default schema, built once the tag names are known. */
	{ "scopes", CONF_SCOPES, C(scopes), 0, 0, CONF_MAX_SCOPES, C(nscopes),
	  NULL, NULL, NULL, conf_scope_keys },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

#undef C
#undef K
#undef S

/* Field of base at offset, as the type the key's kind says. */
#define FIELD(base, k, type)	((type *)(void *)((char *)(base) + (k)->offset))
/* The count beside a CONF_SCOPES array. */
#define COUNT(base, k)		((size_t *)(void *)((char *)(base) + (k)->def))

/* Does s consist of 1..max bytes from set, the first from first? */
static int
conf_name_ok(const char *s, const char *first, const char *set, size_t max)
{
	size_t	len = strlen(s);

	if (len == 0 || len > max)
		return (0);
	if (strchr(first, s[0]) == NULL)
		return (0);
	return (strspn(s, set) == len);
}

#define CONF_LOWER	"abcdefghijklmnopqrstuvwxyz"
#define CONF_UPPER	"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define CONF_DIGIT	"0123456789"

/* The instance name prefixes everything, so it must fit everywhere it goes. */
static const char *
conf_check_instance(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER, CONF_LOWER CONF_DIGIT "_-", 24))
		return ("expected 1 to 24 characters from [a-z0-9_-], starting "
		    "with a letter");
	return (NULL);
}

/* Absolute, without ".", ".." or empty components; a trailing "/" is dropped. */
static const char *
conf_check_path(char *s)
{
	const char	*bad = "expected an absolute path without empty, \".\" "
			    "or \"..\" components";
	const char	*p, *q;
	size_t		 len;

	if (s[0] != '/')
		return ("expected an absolute path");
	len = strlen(s);
	while (len > 1 && s[len - 1] == '/')
		s[--len] = '\0';
	for (p = s + 1; len > 1 && *p != '\0'; p = q + 1) {
		q = strchrnul(p, '/');
		if (q == p || (q - p == 1 && p[0] == '.') ||
		    (q - p == 2 && p[0] == '.' && p[1] == '.'))
			return (bad);
		if (*q == '\0')
			break;
	}
	return (NULL);
}

/* "auto" (resolved in conf_derive) or a socket path. */
static const char *
conf_check_docker_socket(char *s)
{
	if (strcmp(s, "auto") == 0)
		return (NULL);
	if (conf_check_socket(s) != NULL)
		return ("expected \"auto\" or an absolute unix socket path of at "
		    "most 107 bytes");
	return (NULL);
}

/* The WebDAV socket: a socket path, or "" for none. */
static const char *
conf_check_dav_socket(char *s)
{
	return (s[0] == '\0' ? NULL : conf_check_socket(s));
}

/* Plaintext WebDAV only where nobody else can listen in: loopback or unix. */
static const char *
conf_check_dav_plain(char *s)
{
	const char	*why;
	size_t		 len = strlen(s);

	/* Port 0 (the kernel picks one, logged at start) is for tests. */
	if (len > 2 && strcmp(s + len - 2, ":0") == 0) {
		s[len - 1] = '1';
		why = conf_check_listen(s);
		s[len - 1] = '0';
	} else
		why = conf_check_listen(s);
	if (why != NULL)
		return (why);
	if (s[0] == '\0' || strncmp(s, "unix:", 5) == 0 ||
	    strncmp(s, "127.", 4) == 0 || strncmp(s, "[::1]:", 6) == 0 ||
	    strncmp(s, "localhost:", 10) == 0)
		return (NULL);
	return ("plaintext HTTP only on a loopback address or a unix socket");
}

/* A TLS listener: HOST:PORT with an optional mtls:// (the default) or tls://. */
static const char *
conf_check_dav_listen(char *s)
{
	const char	*p = s;

	if (strncmp(p, "mtls://", 7) == 0)
		p += 7;
	else if (strncmp(p, "tls://", 6) == 0)
		p += 6;
	if (*p == '\0' || strncmp(p, "unix:", 5) == 0)
		return ("expected [mtls://|tls://]HOST:PORT");
	return (conf_check_listen(s + (p - s)));
}

/* A DNS name or IP literal for the server certificate. */
static const char *
conf_check_dav_tls_name(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER CONF_UPPER CONF_DIGIT "*:",
	    CONF_LOWER CONF_UPPER CONF_DIGIT ".-:*", 253))
		return ("expected a DNS name or an IP address");
	return (NULL);
}

/* An absolute path short enough for a sockaddr_un. */
static const char *
conf_check_socket(char *s)
{
	const char	*why;

	if ((why = conf_check_path(s)) != NULL)
		return (why);
	if (strlen(s) > CONF_MAX_SOCKET)
		return ("path too long for a unix socket (at most 107 bytes)");
	return (NULL);
}

/* A name as ip-netns(8) keeps it under /run/netns. */
static const char *
conf_check_netns(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER CONF_UPPER CONF_DIGIT "_-",
	    CONF_LOWER CONF_UPPER CONF_DIGIT "_.-", 64))
		return ("expected 1 to 64 characters from [A-Za-z0-9_.-], not "
		    "starting with \".\"");
	return (NULL);
}

/* A child may enter a named namespace or one bound at an absolute path. */
static const char *
conf_check_child_netns(char *s)
{
	if (s[0] == '/')
		return (conf_check_path(s));
	if (conf_check_netns(s) != NULL)
		return ("expected a namespace name from [A-Za-z0-9_.-] or an "
		    "absolute path");
	return (NULL);
}

/* Interface names are at most 15 bytes; the prefix leaves room for the rest. */
static const char *
conf_check_link_prefix(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER, CONF_LOWER CONF_DIGIT, 6))
		return ("expected 1 to 6 characters from [a-z0-9], starting "
		    "with a letter");
	return (NULL);
}

/* An nftables table name. */
static const char *
conf_check_nft_table(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER CONF_UPPER,
	    CONF_LOWER CONF_UPPER CONF_DIGIT "_-", 64))
		return ("expected 1 to 64 characters from [A-Za-z0-9_-], "
		    "starting with a letter");
	return (NULL);
}

/* The embedded journal, or PostgreSQL/CockroachDB. */
static const char *
conf_check_backend(char *s)
{
	if (strcmp(s, "file") == 0 || strcmp(s, "pg") == 0)
		return (NULL);
	return ("expected \"file\" or \"pg\"");
}

/* libpq's sslmode values. */
static const char *
conf_check_sslmode(char *s)
{
	static const char *const modes[] = { "disable", "allow", "prefer",
	    "require", "verify-ca", "verify-full", NULL };
	size_t	i;

	for (i = 0; modes[i] != NULL; i++) {
		if (strcmp(s, modes[i]) == 0)
			return (NULL);
	}
	return ("expected disable, allow, prefer, require, verify-ca or "
	    "verify-full");
}

/* "unix:PATH", "HOST:PORT", "[ADDRESS]:PORT", or "" to disable. */
static const char *
conf_check_listen(char *s)
{
	const char	*expected = "expected \"unix:/PATH\", \"HOST:PORT\", "
			    "\"[IPV6]:PORT\" or \"\"";
	const char	*why = NULL;
	struct in6_addr	 in6;
	struct in_addr	 in4;
	char		*host, *port;
	uint16_t	 p;

	if (s[0] == '\0')
		return (NULL);
	if (strncmp(s, "unix:", 5) == 0)
		return (conf_check_socket(s + 5));
	if (util_hostport(s, &host, &port) == -1)
		return (expected);
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, &in6) != 1)
			why = "expected an IPv6 address between [ and ]";
	} else if (inet_pton(AF_INET, host, &in4) != 1 && !conf_name_ok(host,
	    CONF_LOWER CONF_UPPER CONF_DIGIT, CONF_LOWER CONF_UPPER CONF_DIGIT
	    ".-", 253))
		why = "expected an IPv4 address or a host name before the port";
	if (why == NULL && util_port(port, &p) == -1)
		why = "expected a port from 1 to 65535";
	free(host);
	free(port);
	return (why);
}

/*
 * Names of children (in logs, metrics and netcravectl) and of scopes (in paths
 * such as "netcrave/default").
 */
static const char *
conf_check_name(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER CONF_DIGIT, CONF_LOWER CONF_DIGIT "_.-",
	    32))
		return ("expected 1 to 32 characters from [a-z0-9_.-], starting "
		    "with a letter or digit");
	return (NULL);
}

/* Tags are what Docker users type, so they follow the same short grammar. */
static const char *
conf_check_tag(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER CONF_DIGIT, CONF_LOWER CONF_DIGIT "_.-",
	    32))
		return ("expected a tag: 1 to 32 characters from [a-z0-9_.-], "
		    "starting with a letter or digit");
	return (NULL);
}

/* A tag, or "" for none (waf.egress_tag). */
static const char *
conf_check_tag_or_empty(char *s)
{
	return (s[0] == '\0' ? NULL : conf_check_tag(s));
}

/* A Docker network driver name: "bridge", a plugin's name, "owner/name:tag". */
static const char *
conf_check_driver(char *s)
{
	if (!conf_name_ok(s, CONF_LOWER CONF_UPPER CONF_DIGIT,
	    CONF_LOWER CONF_UPPER CONF_DIGIT "_.:/-", 128))
		return ("expected a network driver name: 1 to 128 characters "
		    "from [A-Za-z0-9_.:/-], starting with a letter or digit");
	return (NULL);
}

/* An environment entry, NAME=value. */
static const char *
conf_check_env(char *s)
{
	const char	*eq;
	size_t		 namelen;

	if ((eq = strchr(s, '=')) == NULL)
		return ("expected NAME=value");
	namelen = (size_t)(eq - s);
	if (namelen == 0 || strchr(CONF_LOWER CONF_UPPER "_", s[0]) == NULL ||
	    strspn(s, CONF_LOWER CONF_UPPER CONF_DIGIT "_") != namelen)
		return ("expected NAME=value with NAME from [A-Za-z0-9_], not "
		    "starting with a digit");
	return (NULL);
}

/* Write an error as file:line:column: key: message. */
static int __attribute__((format(printf, 5, 6)))
conf_error(struct conf_walk *w, unsigned int line, unsigned int column,
    const char *keypath, const char *fmt, ...)
{
	char	message[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (w->err != NULL && w->errlen > 0) {
		if (keypath[0] != '\0')
			snprintf(w->err, w->errlen, "%s:%u:%u: %s: %s", w->name,
			    line, column, keypath, message);
		else
			snprintf(w->err, w->errlen, "%s:%u:%u: %s", w->name,
			    line, column, message);
	}
	return (-1);
}

/* Error about a value, at the value. */
#define conf_node_error(w, node, keypath, ...) \
	conf_error((w), (node)->line, (node)->column, (keypath), __VA_ARGS__)

/* Build a key path for a message; a path cut short is still useful there. */
static void __attribute__((format(printf, 3, 4)))
conf_format(char *dst, size_t dstlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(dst, dstlen, fmt, ap);
	va_end(ap);
}

/* A key path for messages; names with odd bytes are shown safely. */
static void
conf_keypath(char *dst, size_t dstlen, const char *parent, const char *name)
{
	char	safe[64];
	size_t	i;

	for (i = 0; name[i] != '\0' && i < sizeof safe - 1; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			safe[i] = '?';
		else
			safe[i] = name[i];
	}
	safe[i] = '\0';
	if (parent[0] == '\0')
		conf_format(dst, dstlen, "%s", safe);
	else
		conf_format(dst, dstlen, "%s.%s", parent, safe);
}

/* Set every key of table to its default; derived strings stay NULL. */
static void
conf_defaults(const struct conf_key *table, void *base)
{
	const struct conf_key		*k;
	const struct conf_choice	*ch;

	for (k = table; k->name != NULL; k++) {
		switch (k->kind) {
		case CONF_SECTION:
			conf_defaults(k->table, base);
			break;
		case CONF_STRING:
			*FIELD(base, k, char *) = k->def_string != NULL ?
			    xstrdup(k->def_string) : NULL;
			break;
		case CONF_CHOICE:
			for (ch = k->choices; ch->name != NULL; ch++) {
				if (strcmp(ch->name, k->def_string) == 0)
					*FIELD(base, k, int) = ch->value;
			}
			break;
		case CONF_UINT:
			*FIELD(base, k, unsigned int) = (unsigned int)k->def;
			break;
		case CONF_SIZE:
			*FIELD(base, k, size_t) = (size_t)k->def;
			break;
		case CONF_INT:
		case CONF_BOOL:
			*FIELD(base, k, int) = (int)k->def;
			break;
		case CONF_LIST:
			*FIELD(base, k, char **) = xcalloc(1, sizeof(char *));
			break;
		case CONF_CHILDREN:
		case CONF_SCOPES:
			break;
		}
	}
}

/* Free a NULL-terminated list. */
static void
conf_free_list(char **list)
{
	size_t	i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* Free what the keys of table own in base. */
static void
conf_free_fields(const struct conf_key *table, void *base)
{
	const struct conf_key	*k;
	struct conf		*conf = base;
	struct conf_scope	*scopes;
	size_t			 i;

	for (k = table; k->name != NULL; k++) {
		switch (k->kind) {
		case CONF_SECTION:
			conf_free_fields(k->table, base);
			break;
		case CONF_STRING:
			free(*FIELD(base, k, char *));
			*FIELD(base, k, char *) = NULL;
			break;
		case CONF_LIST:
			conf_free_list(*FIELD(base, k, char **));
			*FIELD(base, k, char **) = NULL;
			break;
		case CONF_CHILDREN:
			for (i = 0; i < conf->nchildren; i++)
				conf_free_fields(k->table, &conf->children[i]);
			free(conf->children);
			conf->children = NULL;
			conf->nchildren = 0;
			break;
		case CONF_SCOPES:
			scopes = *FIELD(base, k, struct conf_scope *);
			for (i = 0; i < *COUNT(base, k); i++) {
				conf_free_fields(k->table, &scopes[i]);
				free(scopes[i].path);
			}
			free(scopes);
			*FIELD(base, k, struct conf_scope *) = NULL;
			*COUNT(base, k) = 0;
			break;
		default:
			break;
		}
	}
}

/* A string value as C text, or an error naming what was wrong. */
static int
conf_string(struct conf_walk *w, const struct json *node, const char *keypath,
    const char *expected, char **out)
{
	if (node->type != JSON_STRING)
		return (conf_node_error(w, node, keypath, "expected %s, got %s",
		    expected, json_type_name(node->type)));
	if (strlen(node->string) != node->string_len)
		return (conf_node_error(w, node, keypath,
		    "must not contain a NUL byte"));
	if (node->string_len >= CONF_MAX_STRING)
		return (conf_node_error(w, node, keypath,
		    "longer than %d bytes", CONF_MAX_STRING - 1));
	*out = xstrdup(node->string);
	return (0);
}

/* A string run through the key's check. */
static int
conf_checked_string(struct conf_walk *w, const struct json *node,
    const char *keypath, conf_check_fn check, char **out)
{
	const char	*why;

	if (conf_string(w, node, keypath, "a string", out) != 0)
		return (-1);
	if (check != NULL && (why = check(*out)) != NULL) {
		free(*out);
		*out = NULL;
		return (conf_node_error(w, node, keypath, "%s", why));
	}
	return (0);
}

/* One of a fixed set of words. */
static int
conf_choice(struct conf_walk *w, const struct json *node, const char *keypath,
    const struct conf_key *k, int *out)
{
	const struct conf_choice	*ch;
	char				 expected[128];
	size_t				 n = 0;

	for (ch = k->choices; ch->name != NULL; ch++) {
		if (node->type == JSON_STRING &&
		    strcmp(ch->name, node->string) == 0 &&
		    strlen(node->string) == node->string_len) {
			*out = ch->value;
			return (0);
		}
		n += (size_t)snprintf(expected + n, sizeof expected - n,
		    "%s\"%s\"", n == 0 ? "" : ch[1].name == NULL ? " or " : ", ",
		    ch->name);
		if (n >= sizeof expected)
			n = sizeof expected - 1;
	}
	if (node->type != JSON_STRING)
		return (conf_node_error(w, node, keypath, "expected %s, got %s",
		    expected, json_type_name(node->type)));
	return (conf_node_error(w, node, keypath, "expected %s", expected));
}

/* An integer in the key's range. */
static int
conf_integer(struct conf_walk *w, const struct json *node, const char *keypath,
    const struct conf_key *k, int64_t *out)
{
	if (json_number_int64(node, k->min, k->max, out) == 0)
		return (0);
	if (node->type != JSON_NUMBER)
		return (conf_node_error(w, node, keypath,
		    "expected an integer between %lld and %lld, got %s",
		    (long long)k->min, (long long)k->max,
		    json_type_name(node->type)));
	return (conf_node_error(w, node, keypath,
	    "expected an integer between %lld and %lld",
	    (long long)k->min, (long long)k->max));
}

/* An array of strings into a NULL-terminated list. */
static int
conf_list(struct conf_walk *w, const struct json *node, const char *keypath,
    const struct conf_key *k, char ***out)
{
	char	**list, elempath[CONF_MAX_KEYPATH];
	size_t	  i;

	if (node->type != JSON_ARRAY)
		return (conf_node_error(w, node, keypath,
		    "expected an array of strings, got %s",
		    json_type_name(node->type)));
	if (node->nchildren < (size_t)k->min || node->nchildren > (size_t)k->max)
		return (conf_node_error(w, node, keypath,
		    "expected %lld to %lld strings", (long long)k->min,
		    (long long)k->max));
	list = xcalloc(node->nchildren + 1, sizeof *list);
	for (i = 0; i < node->nchildren; i++) {
		conf_format(elempath, sizeof elempath, "%s[%zu]", keypath, i);
		if (conf_checked_string(w, node->children[i], elempath,
		    k->check, &list[i]) != 0) {
			conf_free_list(list);
			return (-1);
		}
	}
	conf_free_list(*out);
	*out = list;
	return (0);
}

static int	conf_walk_object(struct conf_walk *, const struct json *,
		    const struct conf_key *, void *, const char *);
static int	conf_children(struct conf_walk *, const struct json *,
		    const char *, const struct conf_key *, struct conf *);

/* Store one member's value as its key says. */
static int
conf_walk_value(struct conf_walk *w, const struct json *node,
    const struct conf_key *k, void *base, const char *keypath)
{
	char	*s;
	int64_t	 v;

	switch (k->kind) {
	case CONF_SECTION:
		return (conf_walk_object(w, node, k->table, base, keypath));
	case CONF_STRING:
		if (node->type == JSON_NULL && (k->flags & CONF_NULLABLE)) {
			s = NULL;
		} else if (conf_checked_string(w, node, keypath, k->check,
		    &s) != 0)
			return (-1);
		free(*FIELD(base, k, char *));
		*FIELD(base, k, char *) = s;
		return (0);
	case CONF_CHOICE:
		return (conf_choice(w, node, keypath, k, FIELD(base, k, int)));
	case CONF_UINT:
		if (conf_integer(w, node, keypath, k, &v) != 0)
			return (-1);
		*FIELD(base, k, unsigned int) = (unsigned int)v;
		return (0);
	case CONF_SIZE:
		if (conf_integer(w, node, keypath, k, &v) != 0)
			return (-1);
		*FIELD(base, k, size_t) = (size_t)v;
		return (0);
	case CONF_INT:
		if (conf_integer(w, node, keypath, k, &v) != 0)
			return (-1);
		*FIELD(base, k, int) = (int)v;
		return (0);
	case CONF_BOOL:
		if (node->type != JSON_BOOL)
			return (conf_node_error(w, node, keypath,
			    "expected true or false, got %s",
			    json_type_name(node->type)));
		*FIELD(base, k, int) = node->boolean ? 1 : 0;
		return (0);
	case CONF_LIST:
		return (conf_list(w, node, keypath, k, FIELD(base, k, char **)));
	case CONF_CHILDREN:
		return (conf_children(w, node, keypath, k, base));
	case CONF_SCOPES:
		/* Later, by conf_scopes: children need their parent's keys. */
		return (0);
	}
	return (-1);
}

/* The keys of table, for a message about one that is not there. */
static void
conf_known_keys(char *dst, size_t dstlen, const struct conf_key *table)
{
	const struct conf_key	*k;
	size_t			 n = 0;

	dst[0] = '\0';
	for (k = table; k->name != NULL && n < dstlen; k++) {
		n += (size_t)snprintf(dst + n, dstlen - n, "%s%s",
		    k == table ? "" : ", ", k->name);
	}
}

/* Walk an object's members against table; unknown keys are errors. */
static int
conf_walk_object(struct conf_walk *w, const struct json *obj,
    const struct conf_key *table, void *base, const char *keypath)
{
	const struct conf_key	*k;
	const struct json	*member;
	char			 childpath[CONF_MAX_KEYPATH], known[256];
	size_t			 i;

	if (obj->type != JSON_OBJECT)
		return (conf_node_error(w, obj, keypath,
		    "expected an object, got %s", json_type_name(obj->type)));
	for (i = 0; i < obj->nchildren; i++) {
		member = obj->children[i];
		conf_keypath(childpath, sizeof childpath, keypath, member->key);
		for (k = table; k->name != NULL; k++) {
			if (strcmp(k->name, member->key) == 0)
				break;
		}
		if (k->name == NULL) {
			conf_known_keys(known, sizeof known, table);
			return (conf_error(w, member->key_line,
			    member->key_column, childpath,
			    "unknown key (known here: %s)", known));
		}
		if (conf_walk_value(w, member, k, base, childpath) != 0)
			return (-1);
	}
	for (k = table; k->name != NULL; k++) {
		if ((k->flags & CONF_REQUIRED) && json_get(obj, k->name) == NULL)
			return (conf_node_error(w, obj, keypath,
			    "missing required key \"%s\"", k->name));
	}
	return (0);
}

/* Rules that tie a child's keys together. */
static int
conf_child_check(struct conf_walk *w, const struct json *obj,
    const char *keypath, struct conf_child *child)
{
	const struct json	*node;
	char			 path[CONF_MAX_KEYPATH];

	if (child->argv[0][0] != '/') {
		conf_format(path, sizeof path, "%s.argv[0]", keypath);
		return (conf_node_error(w, json_get(obj, "argv")->children[0],
		    path, "expected an absolute program path"));
	}
	if (child->backoff_max_ms < child->backoff_initial_ms) {
		if ((node = json_get(obj, "backoff_max_ms")) == NULL)
			node = json_get(obj, "backoff_initial_ms");
		conf_keypath(path, sizeof path, keypath, node->key);
		return (conf_node_error(w, node, path,
		    "backoff_max_ms (%u) is less than backoff_initial_ms (%u)",
		    child->backoff_max_ms, child->backoff_initial_ms));
	}
	return (0);
}

/* The children array: each element walked with the child table, roles unique. */
static int
conf_children(struct conf_walk *w, const struct json *node, const char *keypath,
    const struct conf_key *k, struct conf *conf)
{
	const struct json	*obj;
	struct conf_child	*child;
	char			 path[CONF_MAX_KEYPATH];
	size_t			 i, j;

	if (node->type != JSON_ARRAY)
		return (conf_node_error(w, node, keypath,
		    "expected an array of objects, got %s",
		    json_type_name(node->type)));
	if (node->nchildren > (size_t)k->max)
		return (conf_node_error(w, node, keypath,
		    "more than %lld children", (long long)k->max));
	if (node->nchildren == 0)
		return (0);
	conf->children = xcalloc(node->nchildren, sizeof *conf->children);
	for (i = 0; i < node->nchildren; i++) {
		obj = node->children[i];
		child = &conf->children[i];
		conf_format(path, sizeof path, "%s[%zu]", keypath, i);
		conf_defaults(k->table, child);
		/* Counted before walking so conf_free releases a half-filled one. */
		conf->nchildren = i + 1;
		if (conf_walk_object(w, obj, k->table, child, path) != 0)
			return (-1);
		if (conf_child_check(w, obj, path, child) != 0)
			return (-1);
		for (j = 0; j < i; j++) {
			if (strcmp(conf->children[j].role, child->role) != 0)
				continue;
			conf_format(path, sizeof path, "%s[%zu].role", keypath, i);
			return (conf_node_error(w, json_get(obj, "role"), path,
			    "duplicate role \"%s\", also %s[%zu]", child->role,
			    keypath, j));
		}
	}
	return (0);
}

/* Index path of sibling i under plain, e.g. "scopes[0].scopes[2]". */
static void
conf_scope_index(char *dst, size_t dstlen, const char *plain, size_t i)
{
	if (plain[0] == '\0')
		conf_format(dst, dstlen, "scopes[%zu]", i);
	else
		conf_format(dst, dstlen, "%s.scopes[%zu]", plain, i);
}

/* A scope's network of this family, as text. */
static char **
conf_scope_network_field(struct conf_scope *s, int family)
{
	return (family == AF_INET ? &s->ipv4_network : &s->ipv6_network);
}

/*
 * What a vetted network value holds: 0 none, 1 an explicit prefix (in p), 2
 * "auto/LEN" (only p->len is known before the first start).
 */
static int
conf_scope_prefix(const char *text, int family, struct prefix *p)
{
	char	err[160];

	memset(p, 0, sizeof *p);
	p->family = family;
	if (text == NULL)
		return (0);
	if (strncmp(text, "auto/", 5) == 0) {
		p->len = (unsigned int)strtoul(text + 5, NULL, 10);
		return (2);
	}
	if (prefix_parse(text, 1, p, err, sizeof err) == -1)
		return (0);
	return (1);
}

/* LEN of "auto/LEN": decimal, no sign, no leading zero. */
static int
conf_auto_len(const char *s, unsigned int *len)
{
	size_t	n = strlen(s);

	if (n == 0 || n > 3 || strspn(s, CONF_DIGIT) != n ||
	    (s[0] == '0' && n > 1))
		return (-1);
	*len = (unsigned int)atoi(s);
	return (0);
}

/*
 * Vet and normalise one family's network of siblings[i]: an explicit prefix
 * is strict, of the key's family, inside an explicit parent and clear of the
 * explicit siblings before it; "auto/LEN" must have room where it will be
 * chosen.  An explicit prefix under an auto one cannot be checked before the
 * parent is chosen at the first start, so it is refused.
 */
static int
conf_scope_network(struct conf_walk *w, const struct json *obj,
    const char *display, struct conf_scope *siblings, size_t i,
    struct conf_scope *parent, int family)
{
	struct conf_scope	*s = &siblings[i];
	const struct json	*node;
	const char		*key, *name, *ptext = NULL, *stext;
	struct prefix		 p, pp, sp;
	char			**field, path[CONF_MAX_KEYPATH], perr[160];
	char			 buf[PREFIX_STRLEN];
	unsigned int		 len, min, max;
	int			 parent_kind = 0;
	size_t			 j;

	key = family == AF_INET ? "ipv4_network" : "ipv6_network";
	name = family == AF_INET ? "IPv4" : "IPv6";
	field = conf_scope_network_field(s, family);
	if (*field == NULL)
		return (0);
	node = json_get(obj, key);
	conf_keypath(path, sizeof path, display, key);
	if (parent != NULL) {
		ptext = *conf_scope_network_field(parent, family);
		parent_kind = conf_scope_prefix(ptext, family, &pp);
		if (parent_kind == 0)
			return (conf_node_error(w, node, path,
			    "%s: the parent scope %s has no %s", *field,
			    parent->path, key));
	}

	if (strncmp(*field, "auto/", 5) == 0) {
		if (parent == NULL) {
			min = 8;
			max = family == AF_INET ? 30 : 64;
		} else {
			min = pp.len + 1;
			max = prefix_bits(family);
		}
		if (conf_auto_len(*field + 5, &len) == -1)
			return (conf_node_error(w, node, path, "%s: expected "
			    "\"auto/LEN\" with LEN a decimal number", *field));
		if ((len < min || len > max) && parent == NULL)
			return (conf_node_error(w, node, path,
			    "%s: expected a length from %u to %u at the top "
			    "level", *field, min, max));
		if (len < min || len > max)
			return (conf_node_error(w, node, path,
			    "%s: expected a length from %u to %u, longer than "
			    "the parent's %s", *field, min, max, ptext));
		free(*field);
		xasprintf(field, "auto/%u", len);
		return (0);
	}

	/* A bare address would parse as a host prefix; a scope is never one. */
	if (strchr(*field, '/') == NULL)
		return (conf_node_error(w, node, path, "%s: expected an %s "
		    "prefix ADDRESS/LEN, \"auto/LEN\" or null", *field, name));
	if (prefix_parse(*field, 1, &p, perr, sizeof perr) == -1)
		return (conf_node_error(w, node, path, "%s", perr));
	if (p.family != family)
		return (conf_node_error(w, node, path, "%s is not an %s prefix",
		    *field, name));
	prefix_format(&p, 1, buf, sizeof buf);
	if (parent_kind == 2)
		return (conf_node_error(w, node, path, "%s: an explicit prefix "
		    "cannot be checked inside the parent's %s, which is chosen "
		    "at the first start", buf, ptext));
	if (parent_kind == 1 && !prefix_contains(&pp, &p))
		return (conf_node_error(w, node, path,
		    "%s is not inside the parent's %s", buf, ptext));
	if (parent_kind == 1 && p.len == pp.len)
		return (conf_node_error(w, node, path, "%s is the whole of the "
		    "parent's prefix; a child must be smaller", buf));
	for (j = 0; j < i; j++) {
		stext = *conf_scope_network_field(&siblings[j], family);
		if (conf_scope_prefix(stext, family, &sp) == 1 &&
		    prefix_overlaps(&p, &sp))
			return (conf_node_error(w, node, path,
			    "%s overlaps %s of scope %s", buf, stext,
			    siblings[j].path));
	}
	free(*field);
	*field = xstrdup(buf);
	return (0);
}

/*
 * A scope hands out networks of a family only from a prefix of that family,
 * each smaller than the prefix; a tag names a scope to take networks from.
 */
static int
conf_scope_lengths(struct conf_walk *w, const struct json *obj,
    const char *display, struct conf_scope *s)
{
	const struct json	*node;
	const char		*key, *netkey, *text;
	struct prefix		 p;
	char			 path[CONF_MAX_KEYPATH];
	unsigned int		 len, max;
	int			 family, kind;

	for (family = AF_INET; family != 0;
	    family = family == AF_INET ? AF_INET6 : 0) {
		if (family == AF_INET) {
			key = "ipv4_prefix_length";
			netkey = "ipv4_network";
			len = s->ipv4_prefix_length;
			max = 30;
		} else {
			key = "ipv6_prefix_length";
			netkey = "ipv6_network";
			len = s->ipv6_prefix_length;
			max = 124;
		}
		if (len == 0)
			continue;
		node = json_get(obj, key);
		conf_keypath(path, sizeof path, display, key);
		text = *conf_scope_network_field(s, family);
		kind = conf_scope_prefix(text, family, &p);
		if (kind == 0)
			return (conf_node_error(w, node, path,
			    "%u, but the scope has no %s", len, netkey));
		if (p.len >= max)
			return (conf_node_error(w, node, path,
			    "%u: the scope's %s leaves no room for networks "
			    "(at most /%u)", len, text, max));
		if (len <= p.len)
			return (conf_node_error(w, node, path,
			    "%u: expected a length from %u to %u, longer than "
			    "the scope's %s", len, p.len + 1, max, text));
	}
	if (s->tags[0] != NULL && s->ipv4_prefix_length == 0 &&
	    s->ipv6_prefix_length == 0) {
		conf_keypath(path, sizeof path, display, "tags");
		return (conf_node_error(w, json_get(obj, "tags"), path,
		    "a scope with a tag must hand out networks: set "
		    "ipv4_prefix_length or ipv6_prefix_length"));
	}
	return (0);
}

/*
 * A scope array: each scope's own keys first, then its children, which are
 * vetted against it.  plain is the parent's index path ("" at the top), depth
 * that of the scopes in the array (1 at the top).
 */
static int
conf_scopes(struct conf_walk *w, const struct json *node, const char *keypath,
    const char *plain, struct conf_scope *parent, unsigned int depth,
    struct conf_scope **scopesp, size_t *nscopesp)
{
	struct conf_scope	*scopes, *s;
	const struct json	*obj, *name, *kids;
	char			 index[CONF_MAX_KEYPATH];
	char			 other[CONF_MAX_KEYPATH];
	char			 display[CONF_MAX_KEYPATH];
	char			 path[CONF_MAX_KEYPATH];
	size_t			 i, j;

	if (node->type != JSON_ARRAY)
		return (conf_node_error(w, node, keypath,
		    "expected an array of objects, got %s",
		    json_type_name(node->type)));
	if (node->nchildren == 0)
		return (0);
	if (depth > CONF_MAX_SCOPE_DEPTH)
		return (conf_node_error(w, node, keypath,
		    "scopes nested more than %d deep", CONF_MAX_SCOPE_DEPTH));
	if (node->nchildren > CONF_MAX_SCOPES - w->nscopes)
		return (conf_node_error(w, node, keypath,
		    "more than %d scopes in the schema", CONF_MAX_SCOPES));
	w->nscopes += node->nchildren;
	scopes = xcalloc(node->nchildren, sizeof *scopes);
	*scopesp = scopes;
	for (i = 0; i < node->nchildren; i++) {
		obj = node->children[i];
		s = &scopes[i];
		conf_defaults(conf_scope_keys, s);
		/* Counted first so conf_free releases a half-filled one. */
		*nscopesp = i + 1;
		conf_scope_index(index, sizeof index, plain, i);
		if (obj->type != JSON_OBJECT)
			return (conf_node_error(w, obj, index,
			    "expected an object, got %s",
			    json_type_name(obj->type)));

		/* The name first: messages about the rest show the path. */
		if ((name = json_get(obj, "name")) == NULL)
			return (conf_node_error(w, obj, index,
			    "missing required key \"name\""));
		conf_keypath(path, sizeof path, index, "name");
		if (conf_checked_string(w, name, path, conf_check_name,
		    &s->name) != 0)
			return (-1);
		if (parent == NULL)
			s->path = xstrdup(s->name);
		else
			xasprintf(&s->path, "%s/%s", parent->path, s->name);
		conf_format(display, sizeof display, "%s (%s)", index, s->path);

		if (conf_walk_object(w, obj, conf_scope_keys, s, display) != 0)
			return (-1);
		for (j = 0; j < i; j++) {
			if (strcmp(scopes[j].name, s->name) != 0)
				continue;
			conf_keypath(path, sizeof path, display, "name");
			conf_scope_index(other, sizeof other, plain, j);
			return (conf_node_error(w, name, path,
			    "duplicate name \"%s\", also %s", s->name, other));
		}
		if (conf_scope_network(w, obj, display, scopes, i, parent,
		    AF_INET) != 0 || conf_scope_network(w, obj, display, scopes,
		    i, parent, AF_INET6) != 0)
			return (-1);
		if (conf_scope_lengths(w, obj, display, s) != 0)
			return (-1);
		if ((kids = json_get(obj, "scopes")) != NULL) {
			conf_keypath(path, sizeof path, display, "scopes");
			if (conf_scopes(w, kids, path, index, s, depth + 1,
			    &s->children, &s->nchildren) != 0)
				return (-1);
		}
	}
	return (0);
}

/* One scope as the schema-wide checks see it. */
struct conf_scope_ref {
	const struct conf_scope	*scope;
	const struct json	*obj;
	char			*display;	/* "scopes[0] (netcrave)" */
};

/* One tag of one scope. */
struct conf_tag {
	const char	*tag;
	size_t		 seq;		/* order in the file */
	size_t		 ref;		/* its scope */
	size_t		 index;		/* in the scope's tags */
};

/* Every scope and every tag of a schema read from a file. */
struct conf_schema {
	struct conf_scope_ref	*refs;
	size_t			 nrefs;
	struct conf_tag		*tags;
	size_t			 ntags;
};

/* Gather the scopes of array (their JSON in jarray) and their tags, in order. */
static void
conf_schema_collect(struct conf_schema *sc, const struct conf_scope *scopes,
    size_t n, const struct json *jarray, const char *plain)
{
	const struct conf_scope	*s;
	struct conf_scope_ref	*ref;
	struct conf_tag		*t;
	char			 index[CONF_MAX_KEYPATH];
	size_t			 i, k;

	for (i = 0; i < n; i++) {
		s = &scopes[i];
		conf_scope_index(index, sizeof index, plain, i);
		sc->refs = xreallocarray(sc->refs, sc->nrefs + 1,
		    sizeof *sc->refs);
		ref = &sc->refs[sc->nrefs++];
		ref->scope = s;
		ref->obj = jarray->children[i];
		xasprintf(&ref->display, "%s (%s)", index, s->path);
		for (k = 0; s->tags[k] != NULL; k++) {
			sc->tags = xreallocarray(sc->tags, sc->ntags + 1,
			    sizeof *sc->tags);
			t = &sc->tags[sc->ntags];
			t->tag = s->tags[k];
			t->seq = sc->ntags++;
			t->ref = sc->nrefs - 1;
			t->index = k;
		}
		if (s->nchildren > 0)
			conf_schema_collect(sc, s->children, s->nchildren,
			    json_get(ref->obj, "scopes"), index);
	}
}

/* Order tags by name, then by where they appear. */
static int
conf_tag_cmp(const void *va, const void *vb)
{
	const struct conf_tag	*a = va, *b = vb;
	int			 c;

	if ((c = strcmp(a->tag, b->tag)) != 0)
		return (c);
	return (a->seq < b->seq ? -1 : a->seq > b->seq);
}

/* Whether some scope has tag (sc->tags sorted). */
static int
conf_schema_has_tag(const struct conf_schema *sc, const char *tag)
{
	size_t	lo = 0, hi = sc->ntags, mid;
	int	c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(tag, sc->tags[mid].tag)) == 0)
			return (1);
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (0);
}

/* The tags element of t, for a message. */
static const struct json *
conf_tag_node(const struct conf_schema *sc, const struct conf_tag *t,
    char *path, size_t pathlen)
{
	const struct conf_scope_ref	*ref = &sc->refs[t->ref];

	conf_format(path, pathlen, "%s.tags[%zu]", ref->display, t->index);
	return (json_get(ref->obj, "tags")->children[t->index]);
}

/*
 * Every egress and ingress entry names a scope's tag or a reserved one, once
 * per list.
 */
static int
conf_schema_refs(struct conf_walk *w, const struct conf_schema *sc,
    const struct conf *c, const struct conf_scope_ref *ref, const char *key)
{
	const struct json	*list;
	char			**tags, path[CONF_MAX_KEYPATH];
	size_t			  i, j;

	tags = strcmp(key, "egress") == 0 ? ref->scope->egress :
	    ref->scope->ingress;
	for (i = 0; tags[i] != NULL; i++) {
		list = json_get(ref->obj, key);
		conf_format(path, sizeof path, "%s.%s[%zu]", ref->display, key,
		    i);
		for (j = 0; j < i; j++) {
			if (strcmp(tags[j], tags[i]) == 0)
				return (conf_node_error(w, list->children[i],
				    path, "\"%s\" is listed twice", tags[i]));
		}
		if (strcmp(tags[i], c->uplink_tag) == 0 ||
		    strcmp(tags[i], c->host_tag) == 0 ||
		    (c->waf_egress_tag[0] != '\0' &&
		    strcmp(tags[i], c->waf_egress_tag) == 0) ||	/* squid */
		    conf_schema_has_tag(sc, tags[i]))
			continue;
		return (conf_node_error(w, list->children[i], path,
		    "\"%s\" is not a scope's tag, nor uplink_tag \"%s\" or "
		    "host_tag \"%s\"", tags[i], c->uplink_tag, c->host_tag));
	}
	return (0);
}

/*
 * The rules that span a schema read from a file: a tag names exactly one
 * scope and is not reserved, egress and ingress name tags that exist, and
 * default_tag is one of them.
 */
static int
conf_schema_check(struct conf_walk *w, const struct json *root,
    const struct conf *c)
{
	struct conf_schema	 sc;
	const struct conf_tag	*t, *dup = NULL;
	const struct json	*node;
	char			 path[CONF_MAX_KEYPATH];
	size_t			 i;
	int			 rv = -1;

	memset(&sc, 0, sizeof sc);
	conf_schema_collect(&sc, c->scopes, c->nscopes, json_get(root, "scopes"),
	    "");
	for (i = 0; i < sc.ntags; i++) {
		t = &sc.tags[i];
		if (strcmp(t->tag, c->uplink_tag) != 0 &&
		    strcmp(t->tag, c->host_tag) != 0 &&
		    strcmp(t->tag, c->waf_egress_tag) != 0)
			continue;
		node = conf_tag_node(&sc, t, path, sizeof path);
		conf_node_error(w, node, path, "\"%s\" is reserved (%s)",
		    t->tag, strcmp(t->tag, c->uplink_tag) == 0 ? "uplink_tag" :
		    strcmp(t->tag, c->host_tag) == 0 ? "host_tag" :
		    "waf.egress_tag");
		goto out;
	}

	/* Sorted, the first repeat in the file is the earliest second one. */
	if (sc.ntags > 0)
		qsort(sc.tags, sc.ntags, sizeof *sc.tags, conf_tag_cmp);
	for (i = 1; i < sc.ntags; i++) {
		if (strcmp(sc.tags[i - 1].tag, sc.tags[i].tag) != 0)
			continue;
		if (i >= 2 && strcmp(sc.tags[i - 2].tag, sc.tags[i].tag) == 0)
			continue;
		if (dup == NULL || sc.tags[i].seq < dup->seq)
			dup = &sc.tags[i];
	}
	if (dup != NULL) {
		node = conf_tag_node(&sc, dup, path, sizeof path);
		conf_node_error(w, node, path, "\"%s\" is also a tag of %s",
		    dup->tag, sc.refs[(dup - 1)->ref].scope->path);
		goto out;
	}

	for (i = 0; i < sc.nrefs; i++) {
		if (conf_schema_refs(w, &sc, c, &sc.refs[i], "egress") != 0 ||
		    conf_schema_refs(w, &sc, c, &sc.refs[i], "ingress") != 0)
			goto out;
	}
	if (c->nscopes > 0 && !conf_schema_has_tag(&sc, c->default_tag)) {
		if ((node = json_get(root, "default_tag")) != NULL)
			conf_node_error(w, node, "default_tag",
			    "no scope has the tag \"%s\"", c->default_tag);
		else
			conf_node_error(w, json_get(root, "scopes"), "scopes",
			    "no scope has the default_tag \"%s\"",
			    c->default_tag);
		goto out;
	}
	rv = 0;
out:
	for (i = 0; i < sc.nrefs; i++)
		free(sc.refs[i].display);
	free(sc.refs);
	free(sc.tags);
	return (rv);
}

/*
 * The default schema, after the original project's: an auto root and five
 * children.  In these lists "default", "internet" and "host" stand for
 * default_tag, uplink_tag and host_tag.
 */
static const struct conf_default_scope {
	const char	*name;
	const char	*tags[2];
	const char	*egress[3];
	const char	*ingress[3];
} conf_default_scopes[] = {
	{ "default", { "default", NULL },
	  { "docker-local-ingress", "internet", NULL },
	  { "docker-local-egress", NULL, NULL } },
	{ "docker-local-egress", { "docker-local-egress", NULL },
	  { "default", NULL, NULL }, { NULL, NULL, NULL } },
	{ "docker-local-ingress", { "docker-local-ingress", NULL },
	  { NULL, NULL, NULL }, { "default", "host", NULL } },
	{ "docker-internet-egress", { "docker-internet-egress", NULL },
	  { "internet", NULL, NULL }, { NULL, NULL, NULL } },
	{ "docker-internet-ingress", { "docker-internet-ingress", NULL },
	  { NULL, NULL, NULL }, { "internet", "host", NULL } }
};
#define CONF_NDEFAULT_SCOPES \
	(sizeof conf_default_scopes / sizeof conf_default_scopes[0])
#define CONF_DEFAULT_ROOT	"netcrave"

/* A default list, with the stand-ins replaced by the configured tags. */
static char **
conf_default_list(const struct conf *c, const char *const *names)
{
	char	**list;
	size_t	  i, n;

	for (n = 0; names[n] != NULL; n++)
		;
	list = xcalloc(n + 1, sizeof *list);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], "default") == 0)
			list[i] = xstrdup(c->default_tag);
		else if (strcmp(names[i], "internet") == 0)
			list[i] = xstrdup(c->uplink_tag);
		else if (strcmp(names[i], "host") == 0)
			list[i] = xstrdup(c->host_tag);
		else
			list[i] = xstrdup(names[i]);
	}
	return (list);
}

/* Build the default schema into c. */
static void
conf_default_schema(struct conf *c)
{
	const struct conf_default_scope	*d;
	struct conf_scope		*root, *s;
	const char			*none[] = { NULL };
	size_t				 i;

	root = xcalloc(1, sizeof *root);
	root->name = xstrdup(CONF_DEFAULT_ROOT);
	root->path = xstrdup(CONF_DEFAULT_ROOT);
	root->ipv4_network = xstrdup("auto/16");
	root->ipv6_network = xstrdup("auto/48");
	root->tags = conf_default_list(c, none);
	root->egress = conf_default_list(c, none);
	root->ingress = conf_default_list(c, none);
	root->children = xcalloc(CONF_NDEFAULT_SCOPES, sizeof *root->children);
	root->nchildren = CONF_NDEFAULT_SCOPES;
	for (i = 0; i < CONF_NDEFAULT_SCOPES; i++) {
		d = &conf_default_scopes[i];
		s = &root->children[i];
		s->name = xstrdup(d->name);
		xasprintf(&s->path, "%s/%s", root->path, d->name);
		s->ipv4_network = xstrdup("auto/20");
		s->ipv6_network = xstrdup("auto/56");
		s->ipv4_prefix_length = 24;
		s->ipv6_prefix_length = 64;
		s->tags = conf_default_list(c, d->tags);
		s->egress = conf_default_list(c, d->egress);
		s->ingress = conf_default_list(c, d->ingress);
	}
	c->scopes = root;
	c->nscopes = 1;
}

/*
 * The default schema keeps its own tag names; a configured default_tag,
 * uplink_tag or host_tag must not take one of them.
 */
static int
conf_default_schema_check(struct conf_walk *w, const struct json *root)
{
	const char *const	 keys[] = { "default_tag", "uplink_tag",
				    "host_tag" };
	const struct json	*node;
	size_t			 i, j;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if ((node = json_get(root, keys[i])) == NULL)
			continue;
		for (j = 0; j < CONF_NDEFAULT_SCOPES; j++) {
			if (j == 0 || strcmp(node->string,
			    conf_default_scopes[j].tags[0]) != 0)
				continue;
			return (conf_node_error(w, node, keys[i],
			    "\"%s\" is a tag of the default schema's scope "
			    "%s/%s", node->string, CONF_DEFAULT_ROOT,
			    conf_default_scopes[j].name));
		}
	}
	return (0);
}

/* default_tag, uplink_tag and host_tag name three different things. */
static int
conf_tags_check(struct conf_walk *w, const struct json *root,
    const struct conf *c)
{
	const struct {
		const char	*a, *va, *b, *vb;
	} pairs[] = {
		{ "uplink_tag", c->uplink_tag, "host_tag", c->host_tag },
		{ "default_tag", c->default_tag, "uplink_tag", c->uplink_tag },
		{ "default_tag", c->default_tag, "host_tag", c->host_tag }
	};
	const struct json	*node;
	size_t			 i;

	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		if (strcmp(pairs[i].va, pairs[i].vb) != 0)
			continue;
		/* The defaults differ, so at least one of them was set. */
		if ((node = json_get(root, pairs[i].a)) != NULL)
			return (conf_node_error(w, node, pairs[i].a,
			    "\"%s\" is also %s", pairs[i].va, pairs[i].b));
		return (conf_node_error(w, json_get(root, pairs[i].b),
		    pairs[i].b, "\"%s\" is also %s", pairs[i].vb, pairs[i].a));
	}
	if (json_get(root, "scopes") == NULL)
		return (conf_default_schema_check(w, root));
	return (conf_schema_check(w, root, c));
}

/* dir/leaf without doubling the slash under "/". */
static char *
conf_join(const char *dir, const char *leaf)
{
	char	*path;

	xasprintf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, leaf);
	return (path);
}

/* 32-bit FNV-1a, to give each instance its own link name prefix. */
static uint32_t
conf_fnv1a(const char *s)
{
	uint32_t	h = 2166136261U;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619U;
	}
	return (h);
}

/*
 * Fill what defaults to something built from the instance, other paths or the
 * tag names; have_scopes says whether the file wrote its own schema.
 */
static void
conf_derive(struct conf *c, int have_scopes)
{
	const char	*in = c->instance;
	char		*sock;

	if (c->run_dir == NULL)
		xasprintf(&c->run_dir, "/run/%s", in);
	if (c->state_dir == NULL)
		xasprintf(&c->state_dir, "/var/lib/%s", in);
	if (c->keys_dir == NULL)
		c->keys_dir = conf_join(c->state_dir, "keys");
	if (c->plugin_socket == NULL)
		xasprintf(&c->plugin_socket, "/run/docker/plugins/%s.sock", in);
	if (c->control_socket == NULL)
		c->control_socket = conf_join(c->run_dir, "control.sock");
	if (c->netns == NULL)
		xasprintf(&c->netns, "_%s", in);
	if (c->link_prefix == NULL) {
		if (strcmp(in, CONF_DEFAULT_INSTANCE) == 0)
			c->link_prefix = xstrdup("nc");
		else
			xasprintf(&c->link_prefix, "n%05x",
			    (unsigned int)(conf_fnv1a(in) & 0xfffff));
	}
	if (c->nft_table == NULL)
		c->nft_table = xstrdup(in);
	if (c->runtime_root == NULL)
		c->runtime_root = conf_join(c->state_dir, "runtime");
	if (c->runtime_exec_root == NULL)
		c->runtime_exec_root = conf_join(c->run_dir, "runtime");
	/* "auto": supervised runtimes live in the routing namespace (issue 11). */
	if (c->runtime_netns != NULL && strcmp(c->runtime_netns, "auto") == 0) {
		free(c->runtime_netns);
		c->runtime_netns = c->runtime_mode == CONF_RUNTIME_SUPERVISED ?
		    xstrdup(c->netns) : NULL;
	}
	if (c->follower_docker_socket != NULL &&
	    strcmp(c->follower_docker_socket, "auto") == 0) {
		free(c->follower_docker_socket);
		if (c->runtime_mode == CONF_RUNTIME_SUPERVISED)
			c->follower_docker_socket = runtime_dockerd_socket(c);
		else
			c->follower_docker_socket = xstrdup("/var/run/docker.sock");
	}
	if (c->follower_network_driver == NULL)
		c->follower_network_driver = xstrdup(in);
	if (c->dav_storage_dir == NULL)
		c->dav_storage_dir = conf_join(c->state_dir, "volumes");
	if (c->dav_socket == NULL)
		c->dav_socket = conf_join(c->run_dir, "dav.sock");
	if (c->metrics_listen == NULL) {
		sock = conf_join(c->run_dir, "metrics.sock");
		xasprintf(&c->metrics_listen, "unix:%s", sock);
		free(sock);
	}
	/* Ingress and the WAF meet: HAProxy sends WAF-labelled services to
	 * squid's accelerator, which hands clean traffic back to HAProxy's
	 * return frontend, unless either address is given outright. */
	if (c->ingress_enabled && c->waf_squid_enabled &&
	    c->ingress_waf_address[0] == '\0' &&
	    c->waf_squid_accel_listen[0] != '\0') {
		free(c->ingress_waf_address);
		c->ingress_waf_address = xstrdup(c->waf_squid_accel_listen);
	}
	if (c->ingress_enabled && c->waf_squid_accel_peer[0] == '\0' &&
	    c->ingress_waf_return_listen[0] != '\0') {
		free(c->waf_squid_accel_peer);
		c->waf_squid_accel_peer = xstrdup(c->ingress_waf_return_listen);
	}
	if (!have_scopes)
		conf_default_schema(c);
}

/* A derived socket path may be too long only because an explicit run_dir is. */
static int
conf_check_derived(struct conf_walk *w, const struct json *root,
    const struct conf *c)
{
	const struct json	*node;
	int			 too_long = 0;

	if (strlen(c->control_socket) > CONF_MAX_SOCKET)
		too_long = 1;
	if (strlen(c->dav_socket) > CONF_MAX_SOCKET)
		too_long = 1;
	if (strncmp(c->metrics_listen, "unix:", 5) == 0 &&
	    strlen(c->metrics_listen + 5) > CONF_MAX_SOCKET)
		too_long = 1;
	if (!too_long)
		return (0);
	if ((node = json_get(json_get(root, "paths"), "run_dir")) == NULL)
		node = root;
	return (conf_node_error(w, node, "paths.run_dir",
	    "too long: a socket under it would exceed %zu bytes",
	    CONF_MAX_SOCKET));
}

/* A struct conf holding only the built-in defaults. */
static struct conf *
conf_new(void)
{
	struct conf	*c;

	c = xcalloc(1, sizeof *c);
	conf_defaults(conf_keys, c);
	return (c);
}

/* Parse a buffer. */
struct conf *
conf_parse(const char *name, const char *text, size_t len, char *err,
    size_t errlen)
{
	struct conf_walk	 w;
	struct json_error	 jerr;
	struct json		*root;
	const struct json	*scopes;
	struct conf		*c;

	w.name = name != NULL ? name : "(config)";
	w.err = err;
	w.errlen = errlen;
	w.nscopes = 0;
	if ((root = json_parse(text, len, 1, &jerr)) == NULL) {
		conf_error(&w, jerr.line, jerr.column, "", "%s", jerr.message);
		return (NULL);
	}
	c = conf_new();
	if (root->type != JSON_OBJECT) {
		conf_node_error(&w, root, "", "expected an object at the top "
		    "level, got %s", json_type_name(root->type));
		goto fail;
	}
	if (conf_walk_object(&w, root, conf_keys, c, "") != 0)
		goto fail;
	if ((scopes = json_get(root, "scopes")) != NULL && conf_scopes(&w,
	    scopes, "scopes", "", NULL, 1, &c->scopes, &c->nscopes) != 0)
		goto fail;
	conf_derive(c, scopes != NULL);
	if (conf_check_derived(&w, root, c) != 0)
		goto fail;
	if (conf_tags_check(&w, root, c) != 0)
		goto fail;
	if (name != NULL)
		c->path = xstrdup(name);
	json_free(root);
	return (c);

fail:
	json_free(root);
	conf_free(c);
	return (NULL);
}

/* Read a whole regular file of bounded size. */
static char *
conf_read(const char *path, size_t *lenp, int *missing, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	*missing = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (NULL);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONF_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "larger than 1 MiB");
		close(fd);
		return (NULL);
	}
	/* One byte spare to notice a file that grew past the limit meanwhile. */
	buf = xmalloc(CONF_MAX_FILE + 1);
	while (len < CONF_MAX_FILE + 1) {
		n = read(fd, buf + len, CONF_MAX_FILE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than 1 MiB", path);
		goto fail;
	}
	close(fd);
	*lenp = len;
	return (buf);

fail:
	free(buf);
	close(fd);
	return (NULL);
}

/* Load a file, or the defaults when there is none and none was insisted on. */
struct conf *
conf_load(const char *path, int must_exist, char *err, size_t errlen)
{
	struct conf	*c;
	char		*text, scratch[512];
	size_t		 len;
	int		 missing;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	if (path == NULL) {
		c = conf_new();
		conf_derive(c, 0);
		return (c);
	}
	if ((text = conf_read(path, &len, &missing, err, errlen)) == NULL) {
		if (!missing || must_exist)
			return (NULL);
		c = conf_new();
		conf_derive(c, 0);
		return (c);
	}
	c = conf_parse(path, text, len, err, errlen);
	free(text);
	return (c);
}

/* Free a configuration and everything it owns. */
void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	conf_free_fields(conf_keys, c);
	free(c->path);
	free(c);
}

/* A string value, or null. */
static void
conf_print_string(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("null", f);
	else
		json_write_string(f, s, strlen(s));
}

/* Print the keys of table from base, one per line at indent. */
static void
conf_print_fields(FILE *f, const struct conf_key *table, const void *vbase,
    int indent)
{
	const struct conf_key		*k;
	const struct conf_choice	*ch;
	const struct conf		*conf = vbase;
	void				*base = (void *)(uintptr_t)vbase;
	const struct conf_scope		*scopes;
	char				**list;
	size_t				 i, n;

	for (k = table; k->name != NULL; k++) {
		fprintf(f, "%*s\"%s\": ", indent, "", k->name);
		switch (k->kind) {
		case CONF_SECTION:
			fputs("{\n", f);
			conf_print_fields(f, k->table, base, indent + 2);
			fprintf(f, "%*s}", indent, "");
			break;
		case CONF_STRING:
			conf_print_string(f, *FIELD(base, k, char *));
			break;
		case CONF_CHOICE:
			for (ch = k->choices; ch->name != NULL; ch++) {
				if (ch->value == *FIELD(base, k, int))
					break;
			}
			conf_print_string(f, ch->name);
			break;
		case CONF_UINT:
			fprintf(f, "%u", *FIELD(base, k, unsigned int));
			break;
		case CONF_SIZE:
			fprintf(f, "%zu", *FIELD(base, k, size_t));
			break;
		case CONF_INT:
			fprintf(f, "%d", *FIELD(base, k, int));
			break;
		case CONF_BOOL:
			fputs(*FIELD(base, k, int) ? "true" : "false", f);
			break;
		case CONF_LIST:
			list = *FIELD(base, k, char **);
			fputc('[', f);
			for (i = 0; list != NULL && list[i] != NULL; i++) {
				if (i > 0)
					fputs(", ", f);
				conf_print_string(f, list[i]);
			}
			fputc(']', f);
			break;
		case CONF_CHILDREN:
			if (conf->nchildren == 0) {
				fputs("[]", f);
				break;
			}
			fputs("[\n", f);
			for (i = 0; i < conf->nchildren; i++) {
				fprintf(f, "%*s{\n", indent + 2, "");
				conf_print_fields(f, k->table,
				    &conf->children[i], indent + 4);
				fprintf(f, "%*s}%s\n", indent + 2, "",
				    i + 1 < conf->nchildren ? "," : "");
			}
			fprintf(f, "%*s]", indent, "");
			break;
		case CONF_SCOPES:
			scopes = *FIELD(base, k, struct conf_scope *);
			if ((n = *COUNT(base, k)) == 0) {
				fputs("[]", f);
				break;
			}
			fputs("[\n", f);
			for (i = 0; i < n; i++) {
				fprintf(f, "%*s{\n", indent + 2, "");
				conf_print_fields(f, k->table, &scopes[i],
				    indent + 4);
				fprintf(f, "%*s}%s\n", indent + 2, "",
				    i + 1 < n ? "," : "");
			}
			fprintf(f, "%*s]", indent, "");
			break;
		}
		fputs(k[1].name != NULL ? ",\n" : "\n", f);
	}
}

/* The normalised configuration, every key present, in a fixed order. */
void
conf_print(const struct conf *c, FILE *f)
{
	fputs("{\n", f);
	conf_print_fields(f, conf_keys, c, 2);
	fputs("}\n", f);
}
