/* netcravectl.c: the operator's command: asks netcraved's control socket (HTTP+JSON
 * through the project's one HTTP client) and prints tables, or JSON with -j. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conf.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "reset.h"
#include "xmalloc.h"

struct ctl_command {
	const char	*name;
	const char	*path;		/* control socket resource */
	void		(*print)(const struct json *);
};

static void	ctl_print_status(const struct json *);
static void	ctl_print_version(const struct json *);
static void	ctl_print_scopes(const struct json *);
static void	ctl_print_pools(const struct json *);
static void	ctl_print_containers(const struct json *);
static void	ctl_print_volumes(const struct json *);
static void	ctl_print_certs(const struct json *);
static void	ctl_print_networks(const struct json *);
static void	ctl_print_endpoints(const struct json *);
static void	ctl_print_records(const struct json *);	/* dns3 */
/* netcravectl children, reset (issue 11). */
static void	ctl_print_children(const struct json *);

static const struct ctl_command ctl_commands[] = {
	{ "status", "/status", ctl_print_status },
	{ "version", "/version", ctl_print_version },
	{ "scopes", "/scopes", ctl_print_scopes },
	{ "pools", "/pools", ctl_print_pools },
	{ "containers", "/containers", ctl_print_containers },
	{ "volumes", "/volumes", ctl_print_volumes },
	{ "certs", "/certs", ctl_print_certs },
	{ "networks", "/networks", ctl_print_networks },
	{ "endpoints", "/endpoints", ctl_print_endpoints },
	{ "records", "/records", ctl_print_records },	/* dns3 */
	/* netcravectl children (issue 11); reset is handled in main. */
	{ "children", "/children", ctl_print_children },
};

static struct {
	const struct ctl_command	*command;
	const char			*socket_path;
	int				 json;
	int				 exit_code;
	struct event_base		*base;
} ctl;

/* Print usage and exit. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: netcravectl [-j] [-c file | -s socket] "
	    "status | version | scopes | pools | containers | networks |\n"
	    "       endpoints | volumes | certs | records | children\n"
	    "       netcravectl [-c file] reset [--yes]\n");
	exit(1);
}

/* A member as text for a table cell ("-" when absent or null). */
static const char *
ctl_text(const struct json *obj, const char *key)
{
	const struct json	*v = json_get(obj, key);

	if (v == NULL || v->type == JSON_NULL)
		return ("-");
	if (v->type == JSON_STRING || v->type == JSON_NUMBER)
		return (v->string);
	if (v->type == JSON_BOOL)
		return (v->boolean ? "yes" : "no");
	return ("?");
}

/* Clustering (issue 10): one line per host pair, encrypted or not. */
static void
ctl_print_cluster(const struct json *cl)
{
	const struct json	*pairs, *p;
	size_t			 i;

	if (cl == NULL || cl->type != JSON_OBJECT)
		return;
	printf("%-16s %s\n", "cluster", ctl_text(cl, "enabled"));
	printf("%-16s %s (wireguard %s, ipsec_esp %s)\n", "encryption",
	    ctl_text(cl, "encryption"), ctl_text(cl, "wireguard"),
	    ctl_text(cl, "ipsec_esp"));
	pairs = json_get(cl, "pairs");
	for (i = 0; pairs != NULL && pairs->type == JSON_ARRAY &&
	    i < pairs->nchildren; i++) {
		p = pairs->children[i];
		/* Encrypted pairs name how: "wireguard". */
		printf("%-16s %s <-> %s %s\n", "host pair", ctl_text(p, "local"),
		    ctl_text(p, "peer"), ctl_text(p, "encrypted")[0] == 'y' ?
		    ctl_text(p, "encryption") : "UNENCRYPTED");
	}
}

/* `netcravectl status`: the daemon's names, then one row per child. */
static void
ctl_print_status(const struct json *doc)
{
	static const char *const keys[] = { "instance", "version", "pid",
	    "uptime_seconds", "config", "store", "state_dir", "plugin_socket",
	    "control_socket", "metrics", "netns" };
	const struct json	*children, *c;
	size_t			 i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		printf("%-16s %s\n", keys[i], ctl_text(doc, keys[i]));
	ctl_print_cluster(json_get(doc, "cluster"));
	children = json_get(doc, "children");
	if (children == NULL || children->type != JSON_ARRAY ||
	    children->nchildren == 0) {
		printf("\nno supervised children\n");
		return;
	}
	printf("\n%-16s %-10s %-8s %s\n", "ROLE", "STATE", "PID", "RESTARTS");
	for (i = 0; i < children->nchildren; i++) {
		c = children->children[i];
		printf("%-16s %-10s %-8s %s\n", ctl_text(c, "role"),
		    ctl_text(c, "state"), ctl_text(c, "pid"),
		    ctl_text(c, "restarts"));
	}
}

/* A JSON array of strings joined with commas ("-" when empty). */
static void
ctl_join(const struct json *obj, const char *key, char *buf, size_t len)
{
	const struct json	*list = json_get(obj, key);
	size_t			 i;
	int			 used = 0;

	buf[0] = '\0';
	for (i = 0; list != NULL && list->type == JSON_ARRAY &&
	    i < list->nchildren && (size_t)used < len; i++) {
		if (list->children[i]->type == JSON_STRING)
			used += snprintf(buf + used, len - used, "%s%s",
			    used > 0 ? "," : "", list->children[i]->string);
	}
	if (used == 0)
		snprintf(buf, len, "-");
}

/* `netcravectl scopes`: the address schema as it runs. */
static void
ctl_print_scopes(const struct json *doc)
{
	const struct json	*scopes = json_get(doc, "scopes"), *s;
	char			 tags[256], egress[256], ingress[256];
	size_t			 i;

	printf("%-32s %-18s %-24s %-8s %s\n", "SCOPE", "IPV4", "IPV6",
	    "NETWORKS", "TAGS / EGRESS / INGRESS");
	for (i = 0; scopes != NULL && i < scopes->nchildren; i++) {
		s = scopes->children[i];
		ctl_join(s, "tags", tags, sizeof tags);
		ctl_join(s, "egress", egress, sizeof egress);
		ctl_join(s, "ingress", ingress, sizeof ingress);
		printf("%-32s %-18s %-24s %-8s %s / %s / %s\n",
		    ctl_text(s, "path"), ctl_text(s, "ipv4"), ctl_text(s, "ipv6"),
		    ctl_text(s, "networks"), tags, egress, ingress);
	}
}

/* `netcravectl pools`: the pools handed to Docker. */
static void
ctl_print_pools(const struct json *doc)
{
	const struct json	*pools = json_get(doc, "pools"), *p;
	size_t			 i;

	if (pools == NULL || pools->nchildren == 0) {
		printf("no pools\n");
		return;
	}
	printf("%-28s %-20s %-9s %s\n", "POOL", "RANGE", "ADDRESSES", "SCOPE");
	for (i = 0; i < pools->nchildren; i++) {
		p = pools->children[i];
		printf("%-28s %-20s %-9s %s\n", ctl_text(p, "pool"),
		    ctl_text(p, "range"), ctl_text(p, "addresses"),
		    ctl_text(p, "scope"));
	}
}

/* Append each member's text of list's objects (or strings) to buf. */
static void
ctl_join_member(const struct json *list, const char *key, const char *sep,
    char *buf, size_t len)
{
	const struct json	*v;
	size_t			 i, used = strlen(buf);

	for (i = 0; list != NULL && list->type == JSON_ARRAY &&
	    i < list->nchildren && used < len; i++) {
		v = key != NULL ? json_get(list->children[i], key) :
		    list->children[i];
		if (v == NULL || v->type != JSON_STRING)
			continue;
		used += snprintf(buf + used, len - used, "%s%s",
		    used > 0 ? sep : "", v->string);
	}
}

/* `netcravectl containers`: what the dockerd follower knows. */
static void
ctl_print_containers(const struct json *doc)
{
	const struct json	*f = json_get(doc, "follower"), *c, *nets;
	const struct json	*list = json_get(doc, "containers");
	char			 networks[512], addrs[512], tags[256];
	char			 problems[1024], id[13];
	size_t			 i;

	printf("dockerd %s: %s", ctl_text(f, "socket"), ctl_text(f, "state"));
	if (json_get_string(f, "error") != NULL)
		printf(" (%s)", json_get_string(f, "error"));
	printf("\n");
	if (list == NULL || list->nchildren == 0) {
		printf("no containers\n");
		return;
	}
	printf("%-24s %-12s %-32s %-32s %-12s %s\n", "NAME", "ID", "NETWORKS",
	    "ADDRESSES", "TAGS", "PROBLEMS");
	for (i = 0; i < list->nchildren; i++) {
		c = list->children[i];
		nets = json_get(c, "networks");
		networks[0] = addrs[0] = tags[0] = problems[0] = '\0';
		ctl_join_member(nets, "network", ",", networks, sizeof networks);
		ctl_join_member(nets, "ipv4", ",", addrs, sizeof addrs);
		ctl_join_member(nets, "ipv6", ",", addrs, sizeof addrs);
		ctl_join_member(json_get(c, "tags"), NULL, ",", tags, sizeof tags);
		ctl_join_member(json_get(c, "problems"), NULL, "; ", problems,
		    sizeof problems);
		snprintf(id, sizeof id, "%s", ctl_text(c, "id"));
		printf("%-24s %-12s %-32s %-32s %-12s %s\n", ctl_text(c, "name"),
		    id, networks[0] != '\0' ? networks : "-",
		    addrs[0] != '\0' ? addrs : "-", tags[0] != '\0' ? tags : "-",
		    problems[0] != '\0' ? problems : "-");
	}
}

/* `netcravectl volumes`: volumes, their mounts and sizes. */
static void
ctl_print_volumes(const struct json *doc)
{
	const struct json	*vols = json_get(doc, "volumes"), *v, *st;
	size_t			 i;

	if (vols == NULL || vols->nchildren == 0) {
		printf("no volumes\n");
		return;
	}
	printf("%-24s %-5s %-6s %-12s %-20s %s\n", "VOLUME", "TYPE", "MOUNTS",
	    "SIZE", "CREATED", "MOUNTPOINT");
	for (i = 0; i < vols->nchildren; i++) {
		v = vols->children[i];
		st = json_get(v, "Status");
		printf("%-24s %-5s %-6s %-12s %-20s %s\n", ctl_text(v, "Name"),
		    ctl_text(st, "type"), ctl_text(st, "mounts"),
		    ctl_text(st, "size"), ctl_text(v, "CreatedAt"),
		    ctl_text(v, "Mountpoint"));
	}
}

/* `netcravectl certs`: certificate volumes and the certificates of
 * acme.names (VOLUME "-"), their expiry and next renewal. */
static void
ctl_print_certs(const struct json *doc)
{
	const struct json	*certs = json_get(doc, "certs"), *c;
	size_t			 i;

	if (certs == NULL || certs->nchildren == 0) {
		printf("no certificates\n");
		return;
	}
	printf("%-24s %-9s %-20s %-20s %s\n", "VOLUME", "ISSUER", "NOT AFTER",
	    "RENEW AT", "NAMES");
	for (i = 0; i < certs->nchildren; i++) {
		c = certs->children[i];
		printf("%-24s %-9s %-20s %-20s %s\n", ctl_text(c, "volume"),
		    ctl_text(c, "issuer"), ctl_text(c, "not_after"),
		    ctl_text(c, "renew_at"), ctl_text(c, "names"));
		/* ACME: the last failed order, until one succeeds. */
		if (json_get_string(c, "error") != NULL)
			printf("  last error: %s\n", ctl_text(c, "error"));
	}
}

/* `netcravectl networks`: the NetworkDriver's networks. */
static void
ctl_print_networks(const struct json *doc)
{
	const struct json	*list = json_get(doc, "networks"), *n;
	char			 id[13], egress[256], ingress[256];
	size_t			 i;

	if (list == NULL || list->nchildren == 0) {
		printf("no networks\n");
		return;
	}
	printf("%-12s %-12s %-16s %-20s %-24s %-16s %s\n", "ID", "TAG",
	    "BRIDGE", "GATEWAY", "GATEWAY6", "EGRESS", "INGRESS");
	for (i = 0; i < list->nchildren; i++) {
		n = list->children[i];
		egress[0] = ingress[0] = '\0';
		ctl_join_member(json_get(n, "egress"), NULL, ",", egress,
		    sizeof egress);
		ctl_join_member(json_get(n, "ingress"), NULL, ",", ingress,
		    sizeof ingress);
		snprintf(id, sizeof id, "%s", ctl_text(n, "id"));
		printf("%-12s %-12s %-16s %-20s %-24s %-16s %s\n", id,
		    ctl_text(n, "tag"), ctl_text(n, "bridge"),
		    ctl_text(n, "gateway"), ctl_text(n, "gateway6"),
		    egress[0] != '\0' ? egress : "-",
		    ingress[0] != '\0' ? ingress : "-");
	}
}

/* `netcravectl endpoints`: the NetworkDriver's endpoints. */
static void
ctl_print_endpoints(const struct json *doc)
{
	const struct json	*list = json_get(doc, "endpoints"), *e;
	char			 id[13], netid[13];
	size_t			 i;

	if (list == NULL || list->nchildren == 0) {
		printf("no endpoints\n");
		return;
	}
	printf("%-12s %-12s %-18s %-20s %-28s %s\n", "ID", "NETWORK", "MAC",
	    "ADDRESS", "ADDRESS6", "LINK");
	for (i = 0; i < list->nchildren; i++) {
		e = list->children[i];
		snprintf(id, sizeof id, "%s", ctl_text(e, "id"));
		snprintf(netid, sizeof netid, "%s", ctl_text(e, "network"));
		printf("%-12s %-12s %-18s %-20s %-28s %s\n", id, netid,
		    ctl_text(e, "mac"), ctl_text(e, "address"),
		    ctl_text(e, "address6"), ctl_text(e, "peer"));
	}
}

/* dns3: `netcravectl records`: the records the DNS server answers with. */
static void
ctl_print_records(const struct json *doc)
{
	const struct json	*list = json_get(doc, "records"), *r;
	size_t			 i;

	if (list == NULL || list->nchildren == 0) {
		printf("no records\n");
		return;
	}
	printf("%-40s %6s %-8s %s\n", "NAME", "TTL", "TYPE", "DATA");
	for (i = 0; i < list->nchildren; i++) {
		r = list->children[i];
		printf("%-40s %6s %-8s %s\n", ctl_text(r, "name"),
		    ctl_text(r, "ttl"), ctl_text(r, "type"),
		    ctl_text(r, "data"));
	}
}

/* `netcravectl children`: the supervised children, in start order. */
static void
ctl_print_children(const struct json *doc)
{
	const struct json	*list = json_get(doc, "children"), *c;
	const char		*pid, *up;
	size_t			 i;

	if (list == NULL || list->type != JSON_ARRAY || list->nchildren == 0) {
		printf("no supervised children\n");
		return;
	}
	printf("%-16s %-8s %-10s %-8s %s\n", "NAME", "PID", "STATE", "RESTARTS",
	    "UPTIME");
	for (i = 0; i < list->nchildren; i++) {
		c = list->children[i];
		pid = ctl_text(c, "pid");
		up = ctl_text(c, "uptime_seconds");
		printf("%-16s %-8s %-10s %-8s %s%s\n", ctl_text(c, "name"),
		    strcmp(pid, "-1") == 0 ? "-" : pid, ctl_text(c, "state"),
		    ctl_text(c, "restarts"), strcmp(up, "-1") == 0 ? "-" : up,
		    strcmp(up, "-1") == 0 ? "" : "s");
	}
}

/* `netcravectl version`: both ends' versions. */
static void
ctl_print_version(const struct json *doc)
{
	printf("netcravectl %s\nnetcraved   %s\n", PACKAGE_VERSION,
	    ctl_text(doc, "version"));
}

static void	ctl_print(const struct http_response *, const char *);

/* reset: the pid of the netcraved answering on the control socket, if any. */
static void
ctl_reset_done(const struct http_response *resp, const char *error, void *arg)
{
	pid_t			*pid = arg;
	struct json		*doc;
	struct json_error	 jerr;
	struct evbuffer		*body;
	const char		*v;

	event_base_loopexit(ctl.base, NULL);
	if (resp == NULL || http_response_status(resp) != 200)
		return;
	body = http_response_body(resp);
	doc = json_parse((const char *)evbuffer_pullup(body, -1),
	    evbuffer_get_length(body), 0, &jerr);
	if (doc != NULL && (v = ctl_text(doc, "pid")) != NULL)
		*pid = (pid_t)strtol(v, NULL, 10);
	json_free(doc);
}

/* The control socket's answer arrived (or failed): stop the loop, print it. */
static void
ctl_done(const struct http_response *resp, const char *error, void *arg)
{
	/* One answer is all we wait for: the keep-alive connection would hold
	 * the loop until the server's idle timeout. */
	event_base_loopexit(ctl.base, NULL);
	ctl_print(resp, error);
}

/* Print the answer as asked: JSON as it came (-j), or a table. */
static void
ctl_print(const struct http_response *resp, const char *error)
{
	struct evbuffer		*body;
	struct json		*doc;
	struct json_error	 jerr;
	const char		*text;
	size_t			 len;

	if (resp == NULL) {
		fprintf(stderr, "netcravectl: %s: %s\n", ctl.socket_path, error);
		ctl.exit_code = 1;
		return;
	}
	body = http_response_body(resp);
	len = evbuffer_get_length(body);
	text = (const char *)evbuffer_pullup(body, -1);
	if (http_response_status(resp) != 200) {
		fprintf(stderr, "netcravectl: %s: HTTP %d: %.*s\n",
		    ctl.command->name, http_response_status(resp), (int)len,
		    text != NULL ? text : "");
		ctl.exit_code = 1;
		return;
	}
	if (ctl.json) {
		fwrite(text, 1, len, stdout);
		putchar('\n');
		return;
	}
	if ((doc = json_parse(text, len, 0, &jerr)) == NULL ||
	    doc->type != JSON_OBJECT) {
		fprintf(stderr, "netcravectl: bad answer from netcraved: %s\n",
		    doc == NULL ? jerr.message : "not an object");
		json_free(doc);
		ctl.exit_code = 1;
		return;
	}
	ctl.command->print(doc);
	json_free(doc);
}

int
main(int argc, char *argv[])
{
	struct http_client_target	 target;
	struct http_client		*client;
	struct event_base		*base;
	struct conf			*conf = NULL;
	const char			*conf_path = CONF_DEFAULT_PATH;
	const char			*socket_path = NULL;
	char				 err[1024];
	size_t				 i;
	int				 ch, conf_explicit = 0;
	int				 reset = 0, yes = 0;
	pid_t				 daemon_pid = -1;

	/* "+": options before the command only, so reset's --yes stays its own. */
	while ((ch = getopt(argc, argv, "+c:js:")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			conf_explicit = 1;
			break;
		case 'j':
			ctl.json = 1;
			break;
		case 's':
			socket_path = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	/* reset [--yes] (issue 11): acts on this host, asks the daemon its pid. */
	if (argc >= 1 && strcmp(argv[0], "reset") == 0) {
		if (argc > 2 || (argc == 2 && strcmp(argv[1], "--yes") != 0 &&
		    strcmp(argv[1], "-y") != 0))
			usage();
		reset = 1;
		yes = argc == 2;
		argc = 1;
	}
	if (argc != 1)
		usage();
	for (i = 0; !reset && i < sizeof ctl_commands / sizeof ctl_commands[0]; i++)
		if (strcmp(argv[0], ctl_commands[i].name) == 0)
			ctl.command = &ctl_commands[i];
	if (ctl.command == NULL && !reset)
		usage();

	log_init(1, LOG_LEVEL_INFO, "netcravectl");
	if (socket_path == NULL || reset) {
		/* The same file netcraved reads names the control socket (and
		 * everything reset removes). */
		conf = conf_load(conf_path, conf_explicit, err, sizeof err);
		if (conf == NULL) {
			fprintf(stderr, "netcravectl: %s\n", err);
			return (1);
		}
		if (socket_path == NULL)
			socket_path = conf->control_socket;
	}

	ctl.socket_path = socket_path;
	if ((ctl.base = base = event_base_new()) == NULL)
		fatalx("event_base_new");
	memset(&target, 0, sizeof target);
	target.unix_path = socket_path;
	client = http_client_new(base, &target, 10000, 16 * 1024 * 1024);
	if (reset)
		http_client_send(client, "GET", "/status", NULL, NULL, 0, NULL,
		    ctl_reset_done, &daemon_pid);
	else
		http_client_send(client, "GET", ctl.command->path, NULL, NULL, 0,
		    NULL, ctl_done, base);
	event_base_dispatch(base);
	http_client_free(client);
	event_base_free(base);
	if (reset)
		ctl.exit_code = reset_run(conf, daemon_pid, yes);
	conf_free(conf);
	return (ctl.exit_code);
}
