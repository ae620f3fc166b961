/* conf.h: netcraved's configuration: one JSON file, every key optional, every
 * machine-visible name derived from one instance name. */
#ifndef NETCRAVE_CONF_H
#define NETCRAVE_CONF_H

#include <stddef.h>
#include <stdio.h>

#define CONF_DEFAULT_PATH	"/etc/netcrave/netcraved.json"
#define CONF_DEFAULT_INSTANCE	"netcrave"

/* Who runs dockerd and containerd. */
enum conf_runtime_mode {
	CONF_RUNTIME_EXTERNAL,		/* someone else (the system's docker.service) */
	CONF_RUNTIME_SUPERVISED		/* netcraved, as children, with its configs */
};

enum conf_restart {
	CONF_RESTART_ALWAYS,
	CONF_RESTART_ON_FAILURE,
	CONF_RESTART_NEVER
};

/* A supervised child the operator asks for (later issues add built-in ones). */
struct conf_child {
	char		 *role;		/* unique name, e.g. "dockerd" */
	char		**argv;		/* NULL-terminated; argv[0] is the program path */
	char		**env;		/* NULL-terminated "K=V" list, may be empty */
	char		 *netns;	/* network namespace to enter, or NULL */
	enum conf_restart restart;
	unsigned int	  backoff_initial_ms;
	unsigned int	  backoff_max_ms;
	char		 *ready_socket;	/* unix socket that accepts once ready, or NULL */
	char		 *start_after;	/* role that must be ready first, or NULL */
	unsigned int	  ready_timeout_ms;
	int		  stop_order;	/* lower stops first */
	unsigned int	  stop_timeout_ms; /* SIGTERM, then SIGKILL after this */
};

/*
 * A scope of the address schema.  A prefix is explicit ("198.18.0.0/16",
 * "fd12:3456:789a::/48"), "auto/LEN" (chosen at first start and kept: a random
 * RFC 4193 ULA /LEN or a free private IPv4 /LEN at the top level; the first free
 * /LEN inside the parent, in declaration order, below it), or NULL (none).
 */
struct conf_scope {
	char		 *name;		/* unique among siblings: [a-z0-9][a-z0-9_.-]* */
	char		 *path;		/* "netcrave/default" for messages */
	char		 *ipv4_network;
	char		 *ipv6_network;
	unsigned int	  ipv4_prefix_length;	/* per Docker network; 0: none */
	unsigned int	  ipv6_prefix_length;
	char		**tags;		/* NULL-terminated; tags are unique schema-wide */
	char		**egress;	/* tags this scope may reach */
	char		**ingress;	/* tags allowed to reach it */
	struct conf_scope *children;
	size_t		  nchildren;
};

/* cluster.wireguard: auto uses WireGuard when the kernel has it. */
#define CONF_WG_AUTO	0
#define CONF_WG_OFF	1

struct conf {
	char		*path;		/* file it came from; NULL for built-in defaults */

	char		*instance;	/* prefix of every name netcraved makes */
	int		 log_level;	/* LOG_LEVEL_INFO or LOG_LEVEL_DEBUG */

	/* Paths. */
	char		*run_dir;	/* /run/<instance> */
	char		*state_dir;	/* /var/lib/<instance> */
	char		*keys_dir;	/* <state_dir>/keys */
	char		*plugin_socket;	/* /run/docker/plugins/<instance>.sock */
	char		*control_socket; /* <run_dir>/control.sock */

	/* Kernel object names. */
	char		*netns;		/* _<instance> */
	char		*link_prefix;	/* "nc" for the default instance */
	char		*nft_table;	/* <instance> */

	/* State store. */
	char		*store_backend;	/* "file" */
	size_t		 store_compact_bytes; /* journal size that triggers compaction */
	char		*store_pg_conninfo;	/* pg backend: libpq keywords */
	char		*store_pg_host;
	char		*store_pg_port;
	char		*store_pg_dbname;
	char		*store_pg_user;
	char		*store_pg_sslmode;
	char		*store_pg_sslrootcert;
	char		*store_pg_sslcert;
	char		*store_pg_sslkey;
	unsigned int	 store_pg_poll_ms;	/* follow other hosts this often */
	unsigned int	 store_pg_timeout_ms;	/* a change waits this long */
	size_t		 store_pg_queue_max;	/* changes that may wait */

	/* Limits of the HTTP layer (plugin socket, control, metrics). */
	size_t		 http_max_header_bytes;
	size_t		 http_max_body_bytes;
	unsigned int	 http_idle_timeout_ms;
	unsigned int	 http_max_connections;
	unsigned int	 http_header_timeout_ms;	/* slow clients: 408 */
	unsigned int	 http_body_timeout_ms;
	size_t		 http_body_min_rate;

	/* Metrics listener: "unix:PATH" or "HOST:PORT"; "" disables. */
	char		*metrics_listen;

	/* WebDAV server (src/dav). */
	char		*dav_storage_dir;	/* <state_dir>/volumes */
	char		*dav_socket;		/* <run_dir>/dav.sock; "" off */
	char		*dav_plain_listen;	/* loopback HOST:PORT or unix:; "" off */
	char		**dav_listen;		/* TLS: [mtls://|tls://]HOST:PORT */
	char		**dav_tls_names;	/* extra names in the server certificate */
	size_t		 dav_max_xml_bytes;
	size_t		 dav_max_file_bytes;
	unsigned int	 dav_max_locks;
	unsigned int	 dav_max_lock_timeout;	/* seconds */
	unsigned int	 dav_max_connections;

	/* Volumes (src/volume). */
	unsigned int	 volume_cert_lifetime;	/* seconds; renewed at 2/3 */
	char		*volume_dav_remote;	/* HOST:PORT over mutual TLS; "" */

	struct conf_child *children;
	size_t		 nchildren;

	/* Container runtimes netcraved runs itself (runtime.c). */
	int		  runtime_mode;		/* enum conf_runtime_mode */
	char		 *runtime_bin_dir;	/* tried before PATH: /opt/netcrave/bin */
	char		 *runtime_netns;	/* namespace of both; NULL: netcraved's */
	char		 *runtime_root;		/* <state_dir>/runtime: data, configs */
	char		 *runtime_exec_root;	/* <run_dir>/runtime: sockets, state */
	char		 *runtime_dockerd_config;	/* the operator's; NULL: generated */
	char		 *runtime_containerd_config;	/* the operator's; NULL: generated */
	char		 *runtime_storage_driver;	/* NULL: dockerd's own choice */
	char		**runtime_dockerd_args;		/* appended to dockerd's argv */
	/* Following dockerd. */
	char		*follower_docker_socket; /* dockerd's API; NULL: not followed */
	char		*follower_network_driver; /* of tag networks; <instance> */
	/* Web-application firewall: the ICAP server and its rule sets. */
	char		*waf_icap_listen;	/* "HOST:PORT"; "" disables */
	char		**waf_rule_files;	/* rule set files, by path */
	char		*waf_default_set;	/* set of the service /waf */
	size_t		 waf_max_body_bytes;	/* inspected and echoed */
	unsigned int	 waf_preview_bytes;
	unsigned int	 waf_idle_timeout_ms;
	unsigned int	 waf_max_connections;
	int		 waf_squid_enabled;	/* supervise squid (off) */
	char		*waf_squid_program;
	char		*waf_squid_listen;	/* forward proxy "HOST:PORT" */
	unsigned int	 waf_squid_cache_mem_mb;
	/* WAF ingress and egress through squid (src/waf/squid.c, icap.c). */
	char		*waf_squid_accel_listen; /* accelerator "HOST:PORT"; "" none */
	char		*waf_squid_accel_peer;	/* where clean traffic goes */
	char		*waf_egress_tag;	/* networks proxied by squid; "" none */
	/* Egress TLS inspection (squid.c): squid-openssl bumps CONNECTs. */
	int		 waf_squid_ssl_bump;	/* off */
	char		*waf_squid_certgen_program; /* security_file_certgen */
	char		*waf_squid_ssl_bump_cafile; /* origins' extra CAs; "" */
	char		*waf_egress_rule_set;	/* set of the forward proxy */

	/* Authoritative DNS (src/dns). */
	char		*dns_zone;	/* "netcrave.internal." */
	char		**dns_listen;	/* "ADDR:PORT", "[ADDR6]:PORT"; empty: off */
	unsigned int	 dns_ttl;	/* of every record netcraved makes */
	unsigned int	 dns_edns_payload; /* UDP payload offered over EDNS0 */
	char		**dns_records;	/* the operator's records, zone-file lines */
	char		**dns_axfr_allow; /* addresses that may transfer zones */
	char		**dns_notify;	/* secondaries told of changes: ADDR:PORT */
	int		 dns_dnssec;	/* sign the zones (1) or not (0) */
	/* dns3: gateway listeners and response rate limiting. */
	unsigned int	 dns_gateway_port; /* at each network's gateway; 0: off */
	unsigned int	 dns_rrl_rate;	/* UDP answers per second per client
					   net (/24, /56); 0: no limit */
	unsigned int	 dns_rrl_slip;	/* every Nth limited answer goes out
					   truncated (TC); 0: none */
	char		**dns_rrl_exempt; /* prefixes never limited */
	int		 dns_rrl_exempt_own; /* nor loopback and the schema's nets */
	int		 dns_nsec3;	/* deny with NSEC3 rather than NSEC */

	/* Ingress through HAProxy (src/ingress). */
	int		 ingress_enabled;	/* supervise haproxy (off) */
	char		*ingress_program;
	char		*ingress_http_listen;	/* "HOST:PORT" */
	char		*ingress_https_listen;	/* "HOST:PORT"; "" no TLS */
	char		*ingress_resolver;	/* DNS "HOST:PORT"; "": dns.listen[0] */
	unsigned int	 ingress_hold_valid_ms;
	unsigned int	 ingress_hold_obsolete_ms;
	unsigned int	 ingress_slots;		/* pushed server slots per backend */
	char		*ingress_acme_address;	/* http-01 "HOST:PORT"; "" none */
	char		*ingress_waf_address;	/* squid accelerator; "" direct */
	char		*ingress_waf_return_listen; /* loopback, squid's way back */
	/* The NetworkDriver's kernel side. */
	int		 network_vrf_backend;	/* enum vrf_kind: auto, l3mdev, netns */

	/* The plugin as dockerd sees it (swarm: a managed plugin, issue 10). */
	int		 plugin_scope;		/* CONF_PLUGIN_SCOPE_LOCAL, _GLOBAL */
	int		 plugin_managed;	/* runs as the managed plugin */

	/* Clustering (issue 10): FRR/BGP between hosts (src/route/cluster.c). */
	int		 cluster_enabled;	/* off: networks stay host-local */
	unsigned int	 cluster_asn;		/* iBGP: every host the same ASN */
	char		*cluster_router_id;	/* NULL: host_address */
	char		*cluster_host_address;	/* this host on the underlay */
	char		**cluster_peers;	/* other hosts' underlay addresses */
	char		**cluster_announce;	/* networks' space, announced */
	char		*cluster_listen_range;	/* "bgp listen range"; NULL: none */
	int		 cluster_route_reflector; /* peers are its clients */
	char		*cluster_password;	/* TCP-MD5; NULL: ttl-security */
	char		*cluster_vrf;		/* NULL: the default VRF */
	char		*cluster_frr_bin_dir;	/* zebra, bgpd: /usr/lib/frr */
	char		*cluster_frr_dir;	/* config and sockets; NULL: <run_dir>/frr */
	/* Dead host cleanup: a host whose record was not refreshed for this
	 * long is left out of DNS and the tag policy until it is again. */
	unsigned int	 cluster_dead_after;	/* seconds */
	/* WireGuard between the hosts (src/route/wg.c). */
	int		 cluster_wireguard;	/* CONF_WG_AUTO or CONF_WG_OFF */
	unsigned int	 cluster_wireguard_port; /* UDP port of wg-<instance> */

	/* The address schema. */
	struct conf_scope *scopes;	/* top-level scopes */
	size_t		 nscopes;
	char		*default_tag;	/* pools requested without a tag: "default" */
	char		*uplink_tag;	/* reserved: the way out ("internet") */
	char		*host_tag;	/* reserved: netcraved and the host ("host") */

	/* ACME client (src/acme, issue 7); directory NULL: off. */
	char		*acme_directory;	/* https://HOST:PORT/PATH */
	char		*acme_ca_file;		/* trust bundle for the CA */
	char		*acme_email;		/* contact, optional */
	int		 acme_challenge;	/* CONF_ACME_DNS01 or _HTTP01 */
	char		*acme_http01_listen;	/* HOST:PORT for http-01 */
	unsigned int	 acme_renew_percent;	/* of the lifetime: renew then */
	char		**acme_names;		/* certificates kept by the daemon */
	char		*acme_cert_dir;		/* <state_dir>/acme */
	char		*acme_issuer_root;	/* the CA's root: volumes' ca.crt */
	char		*acme_preferred_chain;	/* issuer CN of the chain wanted */
};

/*
 * Load path (NULL: built-in defaults only).  When the file does not exist and
 * must_exist is 0 (the default path, no -c) the defaults are used, with
 * conf->path NULL.  On error returns NULL and writes "file:line:column: key:
 * message" (or "file: reason" when it cannot be read) into err.  No global
 * state: a reload may parse into a fresh struct while the old one is in use.
 */
struct conf	*conf_load(const char *path, int must_exist, char *err, size_t errlen);
/* Same, from a buffer (tests, fuzzing); name is used in error messages. */
struct conf	*conf_parse(const char *name, const char *text, size_t len,
		    char *err, size_t errlen);
void		 conf_free(struct conf *);
/* Print the normalised configuration (every key, defaults filled in) as JSON. */
void		 conf_print(const struct conf *, FILE *);

#define CONF_PLUGIN_SCOPE_LOCAL	0
#define CONF_PLUGIN_SCOPE_GLOBAL	1

#define CONF_ACME_DNS01	0
#define CONF_ACME_HTTP01	1

#endif
