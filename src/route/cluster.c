/* cluster.c: the cluster server: finds what can encrypt host-to-host traffic
 * (and runs WireGuard through cluster_wg.c when the kernel has it), writes the
 * FRR configuration and supervises zebra and bgpd. */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "cluster.h"
#include "conf.h"
#include "frr.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "supervise.h"
#include "util.h"
#include "xmalloc.h"

static int	cluster_init(const struct server_env *, char *, size_t);
static int	cluster_reload(const struct conf *, const struct conf *, char *,
		    size_t);
static void	cluster_shutdown(void);

const struct server cluster_server = {
	"cluster", cluster_init, cluster_reload, cluster_shutdown
};

/* Another host of the membership: when its record was last written. */
struct cluster_seen {
	char		*addr;
	long long	 at;		/* util_monotonic_ms() */
	unsigned int	 dead_after;	/* its own setting (its refresh is a
					   quarter of it); 0: not said */
	int		 dead;		/* not refreshed for dead_after */
};

/* Who is told of hosts dying and coming back (DNS, the tag policy). */
#define CLUSTER_HOST_FNS	4
static void	(*cluster_host_fns[CLUSTER_HOST_FNS])(const char *, int);

/* What start-up found; the kernel's modules do not change under us. */
static struct {
	int		 enabled;
	int		 wireguard;	/* genl family "wireguard" present */
	int		 esp;		/* esp4 or esp6 loaded */
	char		*host_address;
	char		**peers;	/* cluster.peers of the config */
	char		**members;	/* other hosts, from the store */
	char		*frr_dir;	/* FRR's sockets, pid files, config */
	char		*frr_conf;	/* path of the written frr.conf */
	const struct conf *conf;	/* the config in force */
	struct event_base *base;
	struct store	*store;
	struct child	*zebra;
	struct child	*bgpd;
	struct cluster_seen *seen;	/* the other hosts' refreshes */
	size_t		 nseen;
	struct event	*ev_live;	/* refresh ours, look at theirs */
	unsigned int	 live_ms;	/* its period: a quarter of dead_after */
	long long	 live_last;	/* when it last ran, util_monotonic_ms() */
	unsigned long long refreshes;	/* of our record, so each one differs */
} cluster;

static char	role_zebra[] = "frr-zebra";

/* One exchange with bgpd's vty may not take longer. */
#define CLUSTER_VTY_SECS	10

/*
 * Ask the generic netlink controller for a family by name: the kernel answers
 * with the family or ENOENT.  One request and one answer on a socket of our
 * own, at start only, so a blocking exchange is fine.
 */
int
cluster_genl_family(const char *name)
{
	struct {
		struct nlmsghdr		nh;
		struct genlmsghdr	gh;
		char			attrs[64];
	} req;
	struct nlattr		*na;
	struct nlmsghdr		*nh;
	struct nlmsgerr		*e;
	struct sockaddr_nl	 sa;
	char			 buf[8192];
	size_t			 nlen = strlen(name) + 1;
	ssize_t			 n;
	int			 fd, rv = -1;

	if (NLA_HDRLEN + nlen > sizeof req.attrs)
		return (-1);
	memset(&req, 0, sizeof req);
	na = (struct nlattr *)req.attrs;
	na->nla_type = CTRL_ATTR_FAMILY_NAME;
	na->nla_len = NLA_HDRLEN + nlen;
	memcpy(req.attrs + NLA_HDRLEN, name, nlen);
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(na->nla_len);
	req.nh.nlmsg_type = GENL_ID_CTRL;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.gh.cmd = CTRL_CMD_GETFAMILY;
	req.gh.version = 1;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_GENERIC)) == -1)
		return (-1);
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof sa) == -1)
		goto out;
	if ((n = recv(fd, buf, sizeof buf, 0)) < (ssize_t)sizeof *nh)
		goto out;
	nh = (struct nlmsghdr *)buf;
	if (!NLMSG_OK(nh, (size_t)n))
		goto out;
	if (nh->nlmsg_type == GENL_ID_CTRL)
		rv = 1;
	else if (nh->nlmsg_type == NLMSG_ERROR &&
	    nh->nlmsg_len >= NLMSG_LENGTH(sizeof *e)) {
		e = NLMSG_DATA(nh);
		if (e->error == -ENOENT)
			rv = 0;
	}
out:
	close(fd);
	return (rv);
}

/* ESP's transforms are modules of their own; built in, they show here too. */
static int
cluster_has_esp(void)
{
	return (access("/sys/module/esp4", F_OK) == 0 ||
	    access("/sys/module/esp6", F_OK) == 0);
}

int
cluster_is_enabled(void)
{
	return (cluster.enabled);
}

/* The hosts to peer with: the configured peers, then the members. */
static char **
cluster_neighbors(void)
{
	char	**v;
	size_t	  n = 0, i;

	for (i = 0; cluster.peers != NULL && cluster.peers[i] != NULL; i++)
		n++;
	for (i = 0; cluster.members != NULL && cluster.members[i] != NULL; i++)
		n++;
	v = xcalloc(n + 1, sizeof *v);
	n = 0;
	for (i = 0; cluster.peers != NULL && cluster.peers[i] != NULL; i++)
		v[n++] = xstrdup(cluster.peers[i]);
	for (i = 0; cluster.members != NULL && cluster.members[i] != NULL;
	    i++) {
		if (!util_strv_has(cluster.peers, cluster.members[i]))
			v[n++] = xstrdup(cluster.members[i]);
	}
	return (v);
}

void
cluster_status(yajl_gen g)
{
	const char	*enc;
	char		**neighbors;
	size_t		 i;
	int		 wg;

	enc = cluster_wg_active() ? "wireguard" : "none";
	json_gen_key(g, "cluster");
	yajl_gen_map_open(g);
	json_gen_bool(g, "enabled", cluster.enabled);
	json_gen_bool(g, "wireguard", cluster.wireguard);
	json_gen_bool(g, "ipsec_esp", cluster.esp);
	json_gen_string(g, "encryption", enc);
	json_gen_key(g, "pairs");
	yajl_gen_array_open(g);
	/* A pair is encrypted when the kernel's device can shake hands. */
	neighbors = cluster_neighbors();
	for (i = 0; neighbors[i] != NULL; i++) {
		wg = cluster_wg_pair(neighbors[i]);
		yajl_gen_map_open(g);
		json_gen_string(g, "local", cluster.host_address);
		json_gen_string(g, "peer", neighbors[i]);
		json_gen_bool(g, "encrypted", wg);
		json_gen_string(g, "encryption", wg ? "wireguard" : "none");
		yajl_gen_map_close(g);
	}
	util_strv_free(neighbors);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

/* frr_params from the config; the prefixes come from the networks later. */
static void
cluster_params(const struct conf *conf, struct frr_params *p)
{
	memset(p, 0, sizeof *p);
	p->hostname = conf->instance;
	p->asn = conf->cluster_asn;
	p->router_id = conf->cluster_router_id != NULL ?
	    conf->cluster_router_id : conf->cluster_host_address;
	p->peers = conf->cluster_peers;
	p->announce = conf->cluster_announce;
	p->listen_range = conf->cluster_listen_range;
	p->route_reflector = conf->cluster_route_reflector;
	p->password = conf->cluster_password;
	p->vrf = conf->cluster_vrf;
}

/* One FRR daemon as a supervised child, talking to zebra by our socket. */
static struct child *
cluster_child(const struct conf *conf, const char *dir, const char *daemon)
{
	struct conf_child	 spec;
	struct child		*c;
	char			*argv[20], *env[1] = { NULL };
	char			 zsock[1024], role[64];
	int			 i = 0;

	snprintf(zsock, sizeof zsock, "%s/zserv.api", dir);
	snprintf(role, sizeof role, "frr-%s", daemon);
	xasprintf(&argv[i++], "%s/%s", conf->cluster_frr_bin_dir, daemon);
	argv[i++] = xstrdup("--log");
	argv[i++] = xstrdup("stdout");
	argv[i++] = xstrdup("-f");
	/* zebra gets a file of its own: it reports every bgpd line. */
	if (strcmp(daemon, "zebra") == 0)
		xasprintf(&argv[i++], "%s/zebra.conf", dir);
	else
		argv[i++] = xstrdup(cluster.frr_conf);
	argv[i++] = xstrdup("-z");
	argv[i++] = xstrdup(zsock);
	argv[i++] = xstrdup("-i");
	xasprintf(&argv[i++], "%s/%s.pid", dir, daemon);
	argv[i++] = xstrdup("--vty_socket");
	argv[i++] = xstrdup(dir);
	argv[i++] = xstrdup("-P");	/* no TCP vty: vtysh uses the socket */
	argv[i++] = xstrdup("0");
	argv[i] = NULL;

	memset(&spec, 0, sizeof spec);
	spec.role = role;
	spec.argv = argv;
	spec.env = env;
	/* FRR routes for the bridges: it runs where they are. */
	spec.netns = conf->netns;
	spec.restart = CONF_RESTART_ALWAYS;
	spec.backoff_initial_ms = 200;
	spec.backoff_max_ms = 10000;
	spec.ready_timeout_ms = 10000;
	spec.stop_timeout_ms = 5000;
	/* bgpd hands routes to zebra: it starts after, and stops first. */
	if (strcmp(daemon, "bgpd") == 0)
		spec.start_after = role_zebra;
	else {
		spec.ready_socket = zsock;
		spec.stop_order = 1;
	}
	if ((c = supervise_add(&spec, NULL, NULL)) == NULL)
		log_warnx("cluster: %s already supervised", role);
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	return (c);
}

/*
 * A daemon of ours left running by a netcraved killed with SIGKILL (it is no
 * longer our child: supervise cannot reap it) holds the pid file and sockets
 * a new one needs.  It is ours when its command line names our pid file; it
 * gets SIGTERM, then SIGKILL after 3 s.
 */
static void
cluster_stale(const char *dir, const char *daemon)
{
	char		 path[1024], proc[64], buf[4096];
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	ssize_t		 n;
	long		 pid;
	FILE		*f;
	int		 fd, i;

	snprintf(path, sizeof path, "%s/%s.pid", dir, daemon);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
		fclose(f);
		return;
	}
	fclose(f);
	snprintf(proc, sizeof proc, "/proc/%ld/cmdline", pid);
	if ((fd = open(proc, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (i = 0; i < n; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	if (strstr(buf, path) == NULL)
		return;
	log_warnx("cluster: %s %ld of a previous netcraved still runs: "
	    "stopping it", daemon, pid);
	kill((pid_t)pid, SIGTERM);
	for (i = 0; i < 30 && kill((pid_t)pid, 0) == 0; i++)
		nanosleep(&ts, NULL);
	if (kill((pid_t)pid, 0) == 0)
		kill((pid_t)pid, SIGKILL);
}

/*
 * frr.conf from the config and the membership, written atomically and
 * readable by FRR's user: what bgpd reads at its next start.
 */
static int
cluster_write_conf(char *err, size_t errlen)
{
	struct frr_params	 p;
	struct passwd		*pw;
	char			**neighbors, *text;
	size_t			 len;
	int			 rc;

	cluster_params(cluster.conf, &p);
	neighbors = cluster_neighbors();
	p.peers = neighbors;
	text = frr_render(&p, &len);
	rc = util_write_atomic(cluster.frr_conf, text, len, 0600, err, errlen);
	free(text);
	util_strv_free(neighbors);
	if (rc == -1)
		return (-1);
	if ((pw = getpwnam("frr")) != NULL &&
	    chown(cluster.frr_conf, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", cluster.frr_conf,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * One exchange with bgpd's vty socket (the protocol vtysh speaks): each
 * command goes as text ending in NUL, each answer is text ending in three NUL
 * bytes and a status byte (0: done).  Changes reach the running bgpd this
 * way, without a restart and without dropping sessions.
 */
struct cluster_vty {
	struct bufferevent	*bev;
	char			**cmds;		/* for the log */
	size_t			  ncmds, nanswered;
};

static void
cluster_vty_free(struct cluster_vty *v)
{
	bufferevent_free(v->bev);
	util_strv_free(v->cmds);
	free(v);
}

static void
cluster_vty_read(struct bufferevent *bev, void *arg)
{
	struct cluster_vty	*v = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 end;
	unsigned char		*p;
	size_t			 n;

	for (;;) {
		end = evbuffer_search(in, "\0\0\0", 3, NULL);
		if (end.pos == -1 || evbuffer_get_length(in) <
		    (size_t)end.pos + 4)
			return;
		n = (size_t)end.pos + 4;
		p = evbuffer_pullup(in, n);
		if (p[n - 1] != 0 && v->nanswered < v->ncmds)
			log_warnx("cluster: bgpd refused \"%s\" (status %u): "
			    "%.*s", v->cmds[v->nanswered], p[n - 1],
			    (int)strcspn((char *)p, "\n"), (char *)p);
		evbuffer_drain(in, n);
		if (++v->nanswered == v->ncmds) {
			cluster_vty_free(v);
			return;
		}
	}
}

static void
cluster_vty_event(struct bufferevent *bev, short what, void *arg)
{
	struct cluster_vty	*v = arg;

	log_warnx("cluster: bgpd's vty %s after %zu of %zu commands",
	    (what & BEV_EVENT_TIMEOUT) ? "timed out" : "closed",
	    v->nanswered, v->ncmds);
	cluster_vty_free(v);
}

/* One command in bgpd's configure mode, under "router bgp". */
static void
cluster_vty_bgp(const char *cmd)
{
	struct cluster_vty	*v;
	struct sockaddr_un	 sun;
	struct timeval		 tv = { CLUSTER_VTY_SECS, 0 };
	struct evbuffer		*out;
	char			*router;
	size_t			 i;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path, "%s/bgpd.vty",
	    cluster.frr_dir) >= sizeof sun.sun_path)
		return;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return;
	/* A unix socket connects at once or not at all. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		log_warnx("cluster: %s: %s (bgpd reads the new frr.conf when "
		    "it starts)", sun.sun_path, strerror(errno));
		close(fd);
		return;
	}
	if (cluster.conf->cluster_vrf != NULL)
		xasprintf(&router, "router bgp %u vrf %s",
		    cluster.conf->cluster_asn, cluster.conf->cluster_vrf);
	else
		xasprintf(&router, "router bgp %u", cluster.conf->cluster_asn);
	v = xcalloc(1, sizeof *v);
	v->cmds = xcalloc(6, sizeof *v->cmds);
	v->cmds[0] = xstrdup("enable");
	v->cmds[1] = xstrdup("configure terminal");
	v->cmds[2] = router;
	v->cmds[3] = xstrdup(cmd);
	v->cmds[4] = xstrdup("end");
	v->ncmds = 5;
	v->bev = bufferevent_socket_new(cluster.base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(v->bev, cluster_vty_read, NULL, cluster_vty_event, v);
	bufferevent_set_timeouts(v->bev, &tv, &tv);
	out = bufferevent_get_output(v->bev);
	for (i = 0; i < v->ncmds; i++)
		evbuffer_add(out, v->cmds[i], strlen(v->cmds[i]) + 1);
	bufferevent_enable(v->bev, EV_READ | EV_WRITE);
}

/*
 * A host joined or left the cluster (its record in the store): peer with it
 * or stop, in the running bgpd and in frr.conf.  Configured peers stay.
 */
static void
cluster_member(const char *addr, int present)
{
	char	 cmd[128], err[256];
	char	**next;
	size_t	 n = 0, i;

	if (!frr_is_address(addr) || strcmp(addr, cluster.host_address) == 0 ||
	    util_strv_has(cluster.members, addr) == present)
		return;
	for (i = 0; cluster.members != NULL && cluster.members[i] != NULL; i++)
		n++;
	next = xcalloc(n + 2, sizeof *next);
	for (i = 0, n = 0; cluster.members != NULL &&
	    cluster.members[i] != NULL; i++)
		if (strcmp(cluster.members[i], addr) != 0)
			next[n++] = xstrdup(cluster.members[i]);
	if (present)
		next[n++] = xstrdup(addr);
	util_strv_free(cluster.members);
	cluster.members = next;
	log_info("cluster: host %s %s", addr, present ? "joined" : "left");
	if (cluster.frr_conf == NULL)
		return;		/* at start: frr.conf is written next */
	if (cluster_write_conf(err, sizeof err) == -1)
		log_warnx("cluster: frr.conf: %s", err);
	if (util_strv_has(cluster.peers, addr))
		return;		/* configured: a neighbor either way */
	if (present)
		snprintf(cmd, sizeof cmd, "neighbor %s peer-group %s", addr,
		    FRR_PEER_GROUP);
	else
		snprintf(cmd, sizeof cmd, "no neighbor %s", addr);
	cluster_vty_bgp(cmd);
}

/* Tell the watchers that addr died or came back. */
static void
cluster_host_tell(const char *addr, int alive)
{
	size_t	i;

	for (i = 0; i < CLUSTER_HOST_FNS; i++)
		if (cluster_host_fns[i] != NULL)
			cluster_host_fns[i](addr, alive);
}

static struct cluster_seen *
cluster_seen_find(const char *addr)
{
	size_t	i;

	for (i = 0; i < cluster.nseen; i++)
		if (strcmp(cluster.seen[i].addr, addr) == 0)
			return (&cluster.seen[i]);
	return (NULL);
}

/* The cluster.dead_after a host's record says it runs with; 0 if none. */
static unsigned int
cluster_record_dead_after(const void *value, size_t len)
{
	struct json		*doc;
	struct json_error	 jerr;
	int64_t			 v = 0;

	if ((doc = json_parse(value, len, 0, &jerr)) == NULL)
		return (0);
	if (json_number_int64(json_get(doc, "dead_after"), 0, 86400, &v) != 0)
		v = 0;
	json_free(doc);
	return ((unsigned int)v);
}

/*
 * A host's record written (a refresh: value) or removed (NULL).  A host that
 * left is forgotten: it withdrew what it published, and what is left counts
 * again.
 */
static void
cluster_seen_update(const char *addr, const void *value, size_t len)
{
	struct cluster_seen	*s;
	int			 was_dead, present = value != NULL;

	if (strcmp(addr, cluster.host_address) == 0)
		return;
	s = cluster_seen_find(addr);
	if (!present) {
		if (s == NULL)
			return;
		was_dead = s->dead;
		free(s->addr);
		*s = cluster.seen[--cluster.nseen];
		if (was_dead)
			cluster_host_tell(addr, 1);
		return;
	}
	if (s == NULL) {
		cluster.seen = xreallocarray(cluster.seen, cluster.nseen + 1,
		    sizeof *cluster.seen);
		s = &cluster.seen[cluster.nseen++];
		s->addr = xstrdup(addr);
		s->dead = 0;
	}
	s->at = util_monotonic_ms();
	s->dead_after = cluster_record_dead_after(value, len);
	if (s->dead) {
		s->dead = 0;
		log_info("cluster: host %s refreshed its record again: back",
		    addr);
		cluster_host_tell(addr, 1);
	}
}

int
cluster_host_alive(const char *addr)
{
	const struct cluster_seen	*s;

	if (!cluster.enabled || addr == NULL ||
	    (s = cluster_seen_find(addr)) == NULL)
		return (1);
	return (!s->dead);
}

void
cluster_watch_hosts(void (*fn)(const char *, int))
{
	size_t	i;

	for (i = 0; i < CLUSTER_HOST_FNS; i++)
		if (cluster_host_fns[i] == fn)
			return;
	for (i = 0; i < CLUSTER_HOST_FNS; i++)
		if (cluster_host_fns[i] == NULL) {
			cluster_host_fns[i] = fn;
			return;
		}
	fatalx("%s: too many watchers", __func__);
}

static void
cluster_on_change(const char *kind, const char *key, const void *value,
    size_t len, void *arg)
{
	if (strcmp(kind, CLUSTER_KIND_HOST) == 0) {
		cluster_member(key, value != NULL);
		cluster_seen_update(key, value, len);
	}
	cluster_wg_change(kind, key, value, len);
}

static void
cluster_registered(const char *error, void *arg)
{
	if (error != NULL)
		log_warnx("cluster: registering this host in the store: %s",
		    error);
}

/* This host in the store's membership, for the others to peer with. */
static void
cluster_register(void)
{
	yajl_gen		 g = json_gen_new();
	const unsigned char	*text;
	size_t			 len;

	yajl_gen_map_open(g);
	json_gen_string(g, "instance", cluster.conf->instance);
	json_gen_int(g, "asn", cluster.conf->cluster_asn);
	/* Each refresh a new value: the others see a change. */
	json_gen_int(g, "refresh", (long long)cluster.refreshes++);
	/* The others wait for the longer of theirs and ours. */
	json_gen_int(g, "dead_after", cluster.conf->cluster_dead_after);
	cluster_wg_record(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	if (store_put(cluster.store, CLUSTER_KIND_HOST, cluster.host_address,
	    text, len, cluster_registered, NULL) == -1)
		log_warnx("cluster: cannot register this host in the store");
	yajl_gen_free(g);
}

/*
 * Every quarter of cluster.dead_after: our record written again, and the
 * hosts whose records were not for dead_after declared dead.  If this timer
 * itself ran late by more than a period (the process was stopped or the
 * machine suspended), the others' silence may be ours: their clocks restart
 * from now.
 */
static void
cluster_live_cb(evutil_socket_t fd, short events, void *arg)
{
	struct cluster_seen	*s;
	long long		 now = util_monotonic_ms();
	unsigned int		 dead_after;
	size_t			 i;

	cluster_register();
	if (now - cluster.live_last > 2 * (long long)cluster.live_ms)
		for (i = 0; i < cluster.nseen; i++)
			cluster.seen[i].at = now;
	cluster.live_last = now;
	for (i = 0; i < cluster.nseen; i++) {
		s = &cluster.seen[i];
		/* A host set to refresh less often is given its own time. */
		dead_after = cluster.conf->cluster_dead_after;
		if (s->dead_after > dead_after)
			dead_after = s->dead_after;
		if (s->dead || now - s->at < (long long)dead_after * 1000)
			continue;
		s->dead = 1;
		log_warnx("cluster: host %s has not refreshed its record for "
		    "%u s: dead; its containers' DNS records and its networks "
		    "are left out until it does", s->addr, dead_after);
		cluster_host_tell(s->addr, 0);
	}
}

/* The refresh timer at a quarter of dead_after (at least 250 ms). */
static void
cluster_live_start(void)
{
	struct timeval	tv;

	cluster.live_ms = cluster.conf->cluster_dead_after * 1000 / 4;
	if (cluster.live_ms < 250)
		cluster.live_ms = 250;
	tv.tv_sec = cluster.live_ms / 1000;
	tv.tv_usec = (cluster.live_ms % 1000) * 1000;
	if (cluster.ev_live == NULL)
		cluster.ev_live = event_new(cluster.base, -1, EV_PERSIST,
		    cluster_live_cb, NULL);
	cluster.live_last = util_monotonic_ms();
	event_add(cluster.ev_live, &tv);
}

static int
cluster_init(const struct server_env *env, char *err, size_t errlen)
{
	const struct conf	*conf = env->conf;
	struct frr_params	 p;
	struct passwd		*pw;
	char			 dir[1024], zconf[1100], ztext[256];
	char			 wgerr[256];
	size_t			 len, i;

	cluster.wireguard = cluster_genl_family("wireguard") == 1;
	cluster.esp = cluster_has_esp();
	cluster.enabled = conf->cluster_enabled;
	if (!cluster.enabled)
		return (0);
	if (conf->cluster_wireguard == CONF_WG_OFF)
		log_warnx("cluster: cluster.wireguard is off: traffic between "
		    "hosts is not encrypted");
	else if (!cluster.wireguard && !cluster.esp)
		log_warnx("cluster: neither WireGuard nor IPsec ESP in this "
		    "kernel: traffic between hosts is not encrypted");
	else if (!cluster.wireguard)
		log_warnx("cluster: no WireGuard in this kernel: traffic "
		    "between hosts is not encrypted");
	if (conf->cluster_host_address == NULL) {
		snprintf(err, errlen, "cluster.host_address is required "
		    "when cluster.enabled is true");
		return (-1);
	}
	cluster_params(conf, &p);
	if (frr_check(&p, err, errlen) != NULL)
		return (-1);
	cluster.host_address = xstrdup(conf->cluster_host_address);
	cluster.peers = util_strv_copy(conf->cluster_peers);
	cluster.conf = conf;
	cluster.base = env->base;
	cluster.store = env->store;
	/* The hosts that registered before: peers from the start. */
	for (i = 0; i < env->nrecords; i++)
		if (strcmp(env->records[i].kind, CLUSTER_KIND_HOST) == 0) {
			cluster_member(env->records[i].key, 1);
			/* Counted from now: when it last wrote is unknown. */
			cluster_seen_update(env->records[i].key,
			    env->records[i].value, env->records[i].len);
		}

	if (conf->cluster_frr_dir != NULL)
		snprintf(dir, sizeof dir, "%s", conf->cluster_frr_dir);
	else
		snprintf(dir, sizeof dir, "%s/frr", conf->run_dir);
	if (util_mkdir_p(dir, 0700, err, errlen) == -1)
		return (-1);
	cluster.frr_dir = xstrdup(dir);
	xasprintf(&cluster.frr_conf, "%s/frr.conf", dir);
	if (cluster_write_conf(err, errlen) == -1)
		return (-1);
	snprintf(zconf, sizeof zconf, "%s/zebra.conf", dir);
	len = (size_t)snprintf(ztext, sizeof ztext, "! zebra.conf: written by "
	    "netcraved\nhostname %s\nlog stdout informational\n",
	    conf->instance);
	if (len >= sizeof ztext || util_write_atomic(zconf, ztext, len, 0644,
	    err, errlen) == -1) {
		if (len >= sizeof ztext)
			snprintf(err, errlen, "instance name too long");
		return (-1);
	}
	/*
	 * The daemons drop to the user "frr" (Debian's package makes it): it
	 * must write its sockets and pid files in dir and read the config.
	 */
	if ((pw = getpwnam("frr")) != NULL &&
	    chown(dir, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "chown %s: %s", dir, strerror(errno));
		return (-1);
	}
	cluster_stale(dir, "bgpd");
	cluster_stale(dir, "zebra");
	cluster.zebra = cluster_child(conf, dir, "zebra");
	cluster.bgpd = cluster_child(conf, dir, "bgpd");
	/*
	 * WireGuard before registering: the record carries its public key.
	 * Failing, the hosts still route to each other, unencrypted (as
	 * without WireGuard in the kernel), and status says so.
	 */
	if (cluster.wireguard && conf->cluster_wireguard == CONF_WG_AUTO &&
	    cluster_wg_start(conf, env, wgerr, sizeof wgerr) == -1)
		log_warnx("cluster: wireguard: %s: traffic between hosts is "
		    "not encrypted", wgerr);
	cluster_register();
	cluster_live_start();
	if (store_watch(env->store, cluster_on_change, NULL) == -1)
		log_warnx("cluster: cannot follow the membership");
	log_info("cluster: AS %u, %s on the underlay, FRR config %s",
	    conf->cluster_asn, conf->cluster_host_address, cluster.frr_conf);
	return (0);
}

/* Cluster settings are read at start only; a change needs a restart. */
static int
cluster_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	if (old->cluster_enabled != new->cluster_enabled ||
	    old->cluster_asn != new->cluster_asn ||
	    old->cluster_wireguard != new->cluster_wireguard ||
	    old->cluster_wireguard_port != new->cluster_wireguard_port) {
		snprintf(err, errlen, "cluster settings change only on restart");
		return (-1);
	}
	cluster.conf = new;
	if (cluster.enabled &&
	    old->cluster_dead_after != new->cluster_dead_after)
		cluster_live_start();
	return (0);
}

/* The children are stopped with all the others by supervise. */
static void
cluster_shutdown(void)
{
	size_t	i;

	if (cluster.ev_live != NULL)
		event_free(cluster.ev_live);
	for (i = 0; i < cluster.nseen; i++)
		free(cluster.seen[i].addr);
	free(cluster.seen);
	cluster_wg_stop();
	free(cluster.host_address);
	util_strv_free(cluster.peers);
	util_strv_free(cluster.members);
	free(cluster.frr_dir);
	free(cluster.frr_conf);
	memset(&cluster, 0, sizeof cluster);
}
