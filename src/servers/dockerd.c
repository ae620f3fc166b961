/* dockerd.c: the dockerd follower.  A network plugin is never told container
 * names or labels, and must never call dockerd while serving it (dockerd would
 * deadlock), so netcraved follows dockerd from the side, on the loop: GET /events
 * streamed, GET /containers/json at every (re)connect, GET /containers/{id}/json
 * when an event says a container changed.  Tag assignment runs from here too:
 * a container started with io.netcrave.tags is connected to <instance>-<tag>,
 * the network being created on demand.  Also the "dockerd" server entry. */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "conf.h"
#include "dockerd.h"
#include "dockerd_private.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "plugin.h"
#include "schema.h"
#include "server.h"
#include "util.h"
#include "xmalloc.h"

/* Reconnect back-off: dockerd restarts in well under a second on a normal host. */
#define DOCKERD_BACKOFF_MIN_MS	100
#define DOCKERD_BACKOFF_MAX_MS	2000
#define DOCKERD_TIMEOUT_MS	10000		/* one API call */
#define DOCKERD_MAX_BODY	(16 * 1024 * 1024)	/* a container list */
#define DOCKERD_TOMBSTONES	64

/* Only what the follower acts on; dockerd filters the rest out. */
#define DOCKERD_EVENTS_FILTER \
	"%7B%22type%22%3A%5B%22container%22%2C%22network%22%5D%7D"

enum dockerd_state {
	DOCKERD_DISABLED,	/* follower.docker_socket is null */
	DOCKERD_CONNECTING,	/* asked for events and the list; no answer yet */
	DOCKERD_FOLLOWING,	/* the list came: in step with dockerd */
	DOCKERD_AWAY		/* lost; a retry is scheduled */
};

static const char *const dockerd_state_names[] = {
	"disabled", "connecting", "following", "away"
};

/* A container the follower knows (running, as dockerd last said). */
struct dockerd_known {
	TAILQ_ENTRY(dockerd_known)	 entry;
	struct dockerd_container	*c;
	char				**tags;		/* of its io.netcrave.tags label */
	char				**unknown;	/* tags the schema lacks */
	char				**pending;	/* tags being connected */
	char				**errors;	/* "tag: what dockerd said" */
	unsigned int			  seen;		/* resync generation */
};
TAILQ_HEAD(dockerd_known_list, dockerd_known);

/* What a request to dockerd is for. */
enum dockerd_step {
	DOCKERD_LIST,		/* GET /containers/json */
	DOCKERD_INSPECT,	/* GET /containers/{id}/json */
	DOCKERD_NET_GET,	/* GET /networks/{name} */
	DOCKERD_NET_CREATE,	/* POST /networks/create */
	DOCKERD_NET_CONNECT	/* POST /networks/{id}/connect */
};

/* A request in flight; freed when answered or when the session ends. */
struct dockerd_req {
	TAILQ_ENTRY(dockerd_req)	 entry;
	struct http_client_request	*r;
	enum dockerd_step		 step;
	unsigned long			 seq;		/* events handled before it */
	char				*cid;		/* container id, or NULL */
	char				*tag;		/* tag being assigned */
	char				*network;	/* <instance>-<tag> */
	int				 assign;	/* INSPECT: then assign tags */
	int				 resync;	/* INSPECT: part of a resync */
	int				 retried;	/* NET_CREATE lost a race once */
};
TAILQ_HEAD(dockerd_req_list, dockerd_req);

struct dockerd_watcher {
	dockerd_watch_fn	 fn;
	void			*arg;
};

static struct {
	struct event_base	*base;
	const struct conf	*conf;
	char			*socket;
	enum dockerd_state	 state;
	char			*why;		/* last loss, for netcravectl */
	struct http_client	*events;	/* the stream, on its own connection */
	struct http_client	*api;		/* every other call, in order */
	struct http_client_request *stream;
	struct dockerd_splitter	 split;
	struct event		*timer;		/* teardown, then reconnect */
	unsigned int		 backoff_ms;
	unsigned int		 generation;	/* of the last resync */
	unsigned int		 resyncing;	/* inspections of it still out */
	unsigned long		 seq;		/* events handled */
	unsigned long		 nevents;
	struct dockerd_known_list known;
	struct dockerd_req_list	 reqs;
	struct dockerd_watcher	*watchers;
	size_t			 nwatchers;
	/* Containers that went away lately, against stale inspections. */
	struct {
		char		 id[65];
		unsigned long	 seq;
	}			 tombs[DOCKERD_TOMBSTONES];
	size_t			 ntomb;
} dk;

static void	dockerd_connect(void);
static void	dockerd_lost(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
static void	dockerd_send(struct dockerd_req *, const char *method,
		    const char *path, const char *body);

/* The list helpers the follower needs beyond util_strv_*. */
static int
dockerd_strv_has(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return (1);
	return (0);
}

/* Append a copy of s. */
static void
dockerd_strv_add(char ***v, const char *s)
{
	size_t	n = 0;

	while (*v != NULL && (*v)[n] != NULL)
		n++;
	dockerd_strv_push(v, &n, xstrdup(s));
}

/* Remove every entry equal to s, or starting with s when prefix is set. */
static void
dockerd_strv_remove(char **v, const char *s, int prefix)
{
	size_t	i, j, len = strlen(s);

	for (i = j = 0; v != NULL && v[i] != NULL; i++) {
		if (prefix ? strncmp(v[i], s, len) == 0 : strcmp(v[i], s) == 0)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	if (v != NULL)
		v[j] = NULL;
}

/* Watchers. */

static void
dockerd_notify(enum dockerd_change change, const struct dockerd_container *c)
{
	size_t	i;

	for (i = 0; i < dk.nwatchers; i++)
		if (dk.watchers[i].fn != NULL)
			dk.watchers[i].fn(change, c, dk.watchers[i].arg);
}

/* Subscribe, and hear of every container already known at once. */
void
dockerd_watch(dockerd_watch_fn fn, void *arg)
{
	struct dockerd_known	*k;

	dk.watchers = xreallocarray(dk.watchers, dk.nwatchers + 1,
	    sizeof *dk.watchers);
	dk.watchers[dk.nwatchers].fn = fn;
	dk.watchers[dk.nwatchers].arg = arg;
	dk.nwatchers++;
	TAILQ_FOREACH(k, &dk.known, entry)
		fn(DOCKERD_CONTAINER_UP, k->c, arg);
}

/* Unsubscribe; safe from inside a callback. */
void
dockerd_unwatch(dockerd_watch_fn fn, void *arg)
{
	size_t	i;

	/* Only cleared: the list may be being walked by dockerd_notify. */
	for (i = 0; i < dk.nwatchers; i++)
		if (dk.watchers[i].fn == fn && dk.watchers[i].arg == arg)
			dk.watchers[i].fn = NULL;
}

/*
 * The follower's own watcher: it keeps the metrics of the map, and so is also
 * the first user of dockerd_watch.
 */
static void
dockerd_metrics_watch(enum dockerd_change change,
    const struct dockerd_container *c, void *arg)
{
	const struct dockerd_known	*k;
	size_t				 n = 0;

	TAILQ_FOREACH(k, &dk.known, entry)
		n++;
	metrics_set(metrics_gauge("netcrave_dockerd_containers",
	    "Running containers the dockerd follower knows", NULL), (double)n);
	metrics_add(metrics_counter("netcrave_dockerd_changes_total",
	    "Container changes told to watchers", change == DOCKERD_CONTAINER_UP ?
	    "change=\"up\"" : "change=\"down\""), 1);
}

/* Every change of the follower's state, logged old -> new; the gauge is 1
 * while in step with dockerd. */
static void
dockerd_set_state(enum dockerd_state state)
{
	if (dk.state != state)
		log_debug("%s: %s -> %s", __func__,
		    dockerd_state_names[dk.state], dockerd_state_names[state]);
	dk.state = state;
	metrics_set(metrics_gauge("netcrave_dockerd_following",
	    "1 while the dockerd follower is in step with dockerd", NULL),
	    state == DOCKERD_FOLLOWING);
}

int
dockerd_following(void)
{
	return (dk.state == DOCKERD_FOLLOWING);
}

/* Lookups. */

static struct dockerd_known *
dockerd_find(const char *id)
{
	struct dockerd_known	*k;

	TAILQ_FOREACH(k, &dk.known, entry)
		if (strcmp(k->c->id, id) == 0)
			return (k);
	return (NULL);
}

/* A running container by its full id, or NULL. */
const struct dockerd_container *
dockerd_container_by_id(const char *id)
{
	struct dockerd_known	*k = dockerd_find(id);

	return (k != NULL ? k->c : NULL);
}

/* The running container that holds an endpoint, or NULL. */
const struct dockerd_container *
dockerd_container_by_endpoint(const char *endpoint_id)
{
	struct dockerd_known	*k;
	size_t			 i;

	TAILQ_FOREACH(k, &dk.known, entry)
		for (i = 0; i < k->c->nendpoints; i++)
			if (k->c->endpoints[i].endpoint_id != NULL &&
			    strcmp(k->c->endpoints[i].endpoint_id,
			    endpoint_id) == 0)
				return (k->c);
	return (NULL);
}

/* A label's value, or NULL. */
const char *
dockerd_label(const struct dockerd_container *c, const char *key)
{
	size_t	 len = strlen(key);
	char	**l;

	for (l = c->labels; l != NULL && *l != NULL; l++)
		if (strncmp(*l, key, len) == 0 && (*l)[len] == '=')
			return (*l + len + 1);
	return (NULL);
}

/* Call fn for every running container known. */
void
dockerd_foreach(void (*fn)(const struct dockerd_container *, void *), void *arg)
{
	struct dockerd_known	*k, *next;

	/* fn may not remove containers, but take the next one first anyway. */
	for (k = TAILQ_FIRST(&dk.known); k != NULL; k = next) {
		next = TAILQ_NEXT(k, entry);
		fn(k->c, arg);
	}
}

/* The model. */

static void
dockerd_known_free(struct dockerd_known *k)
{
	dockerd_container_free(k->c);
	util_strv_free(k->tags);
	util_strv_free(k->unknown);
	util_strv_free(k->pending);
	util_strv_free(k->errors);
	free(k);
}

/*
 * A container stopped or went away: DOWN and forgotten.  When an event said so
 * (event is set), it is remembered with the event's number, so that an
 * inspection asked before that event and answered after it is not believed.
 */
static void
dockerd_gone(const char *id, int event)
{
	struct dockerd_known	*k;
	size_t			 slot;

	if (event) {
		slot = dk.ntomb++ % DOCKERD_TOMBSTONES;
		snprintf(dk.tombs[slot].id, sizeof dk.tombs[slot].id, "%s", id);
		dk.tombs[slot].seq = dk.seq;
	}
	if ((k = dockerd_find(id)) == NULL)
		return;
	TAILQ_REMOVE(&dk.known, k, entry);
	log_info("dockerd: container %s (%.12s) is down", k->c->name, k->c->id);
	k->c->running = 0;
	dockerd_notify(DOCKERD_CONTAINER_DOWN, k->c);
	dockerd_known_free(k);
}

/* Did an event after number seq (when the request was sent) say id went away? */
static int
dockerd_gone_since(const char *id, unsigned long seq)
{
	size_t	i, n = dk.ntomb < DOCKERD_TOMBSTONES ? dk.ntomb :
		    DOCKERD_TOMBSTONES;

	for (i = 0; i < n; i++)
		if (dk.tombs[i].seq > seq && strcmp(dk.tombs[i].id, id) == 0)
			return (1);
	return (0);
}

/* The network a tag's containers join. */
static char *
dockerd_tag_network(const char *tag)
{
	char	*name;

	xasprintf(&name, "%s-%s", dk.conf->instance, tag);
	return (name);
}

/* Is the container on the network of that name? */
static int
dockerd_on_network(const struct dockerd_container *c, const char *network)
{
	size_t	i;

	for (i = 0; i < c->nendpoints; i++)
		if (strcmp(c->endpoints[i].network_name, network) == 0)
			return (1);
	return (0);
}

/* A request about a container (or NULL) and a tag (or NULL). */
static struct dockerd_req *
dockerd_req_new(enum dockerd_step step, const char *cid, const char *tag)
{
	struct dockerd_req	*q;

	q = xcalloc(1, sizeof *q);
	q->step = step;
	q->seq = dk.seq;
	if (cid != NULL)
		q->cid = xstrdup(cid);
	if (tag != NULL) {
		q->tag = xstrdup(tag);
		q->network = dockerd_tag_network(tag);
	}
	return (q);
}

/* Free a request that is out of the list. */
static void
dockerd_req_free(struct dockerd_req *q)
{
	free(q->cid);
	free(q->tag);
	free(q->network);
	free(q);
}

/* Ask for a network by name; the answer continues the assignment. */
static void
dockerd_net_get(struct dockerd_req *q)
{
	char	*path;

	q->step = DOCKERD_NET_GET;
	xasprintf(&path, "/networks/%s", q->network);
	dockerd_send(q, "GET", path, NULL);
	free(path);
}

/*
 * Tag assignment for a running container: connect it to the network of each
 * tag its label names that it is not on yet.  Only when act is set (its start
 * event, or a resync): a container someone disconnected by hand from a tag's
 * network meanwhile stays so.  Unknown tags are reported, not dropped; a tag
 * that failed is tried again at the next start or resync.
 */
static void
dockerd_assign(struct dockerd_known *k, int act)
{
	const struct schema	*schema = plugin_ipam_schema();
	const char		*label;
	char			*network, *prefix;
	size_t			 i;

	util_strv_free(k->tags);
	label = dockerd_label(k->c, DOCKERD_TAGS_LABEL);
	k->tags = dockerd_tags_split(label);
	if (schema == NULL || k->tags[0] == NULL)
		return;
	for (i = 0; k->tags[i] != NULL; i++) {
		const char *tag = k->tags[i];

		/* Only a tag the schema defines (so of the tag grammar) ever
		 * goes into a network name and a request path. */
		if (schema_find_tag(schema, tag) == NULL) {
			if (!dockerd_strv_has(k->unknown, tag)) {
				log_warnx("dockerd: container %s: unknown tag "
				    "\"%s\" in %s: the schema defines %s",
				    k->c->name, tag, DOCKERD_TAGS_LABEL,
				    schema_tag_list(schema));
				dockerd_strv_add(&k->unknown, tag);
			}
			continue;
		}
		dockerd_strv_remove(k->unknown, tag, 0);
		network = dockerd_tag_network(tag);
		xasprintf(&prefix, "%s: ", tag);
		if (dockerd_on_network(k->c, network)) {
			/* Already there: nothing to do, nothing to report. */
			dockerd_strv_remove(k->errors, prefix, 1);
		} else if (act && !dockerd_strv_has(k->pending, tag)) {
			dockerd_strv_remove(k->errors, prefix, 1);
			dockerd_strv_add(&k->pending, tag);
			log_debug("dockerd: container %s: tag %s: connecting to "
			    "%s", k->c->name, tag, network);
			dockerd_net_get(dockerd_req_new(DOCKERD_NET_GET,
			    k->c->id, tag));
		}
		free(prefix);
		free(network);
	}
}

/* A fresh inspection of a container: keep it, tell watchers if it changed. */
static void
dockerd_update(struct dockerd_container *c, int assign)
{
	struct dockerd_known	*k;

	if ((k = dockerd_find(c->id)) != NULL) {
		k->seen = dk.generation;
		if (dockerd_container_equal(k->c, c)) {
			dockerd_container_free(c);
		} else {
			dockerd_container_free(k->c);
			k->c = c;
			dockerd_notify(DOCKERD_CONTAINER_UP, k->c);
		}
	} else {
		k = xcalloc(1, sizeof *k);
		k->c = c;
		k->seen = dk.generation;
		TAILQ_INSERT_TAIL(&dk.known, k, entry);
		log_info("dockerd: container %s (%.12s) is up", c->name, c->id);
		dockerd_notify(DOCKERD_CONTAINER_UP, k->c);
	}
	/* Watchers may not remove containers, so k is still there. */
	dockerd_assign(k, assign);
}

/* The last inspection of a resync is in: what was not listed is gone. */
static void
dockerd_resync_done(void)
{
	struct dockerd_known	*k, *next;

	for (k = TAILQ_FIRST(&dk.known); k != NULL; k = next) {
		next = TAILQ_NEXT(k, entry);
		if (k->seen != dk.generation)
			dockerd_gone(k->c->id, 0);
	}
	log_debug("dockerd: resync %u done", dk.generation);
}

/* The response body as JSON, or NULL (an empty body is not JSON either). */
static struct json *
dockerd_parse_body(const struct http_response *resp, struct json_error *jerr)
{
	struct evbuffer	*body = http_response_body(resp);
	size_t		 len = evbuffer_get_length(body);

	if (len == 0) {
		snprintf(jerr->message, sizeof jerr->message, "empty body");
		jerr->line = jerr->column = 1;
		return (NULL);
	}
	return (json_parse((const char *)evbuffer_pullup(body, -1), len, 0,
	    jerr));
}

/* dockerd's {"message": "..."} of a failed call, or the status line. */
static void
dockerd_message(const struct http_response *resp, char *buf, size_t len)
{
	struct json		*doc;
	struct json_error	 jerr;
	const char		*msg = NULL;

	if ((doc = dockerd_parse_body(resp, &jerr)) != NULL)
		msg = json_get_string(doc, "message");
	if (msg != NULL)
		snprintf(buf, len, "%s", msg);
	else
		snprintf(buf, len, "HTTP %d %s", http_response_status(resp),
		    http_status_text(http_response_status(resp)));
	json_free(doc);
}

/* The JSON body of a response, or NULL (logged). */
static struct json *
dockerd_body(const struct http_response *resp, const char *what)
{
	struct json		*doc;
	struct json_error	 jerr;

	if ((doc = dockerd_parse_body(resp, &jerr)) == NULL)
		log_warnx("dockerd: %s: bad JSON at %u:%u: %s", what, jerr.line,
		    jerr.column, jerr.message);
	return (doc);
}

/* Tag assignment of q's container ended, well or not. */
static void
dockerd_assign_end(struct dockerd_req *q, const char *error)
{
	struct dockerd_known	*k = dockerd_find(q->cid);
	char			*entry;

	if (k == NULL)
		return;
	dockerd_strv_remove(k->pending, q->tag, 0);
	metrics_add(metrics_counter("netcrave_dockerd_assignments_total",
	    "Tag assignments (connections to a tag's network) by result",
	    error == NULL ? "result=\"ok\"" : "result=\"failed\""), 1);
	if (error == NULL) {
		log_info("dockerd: container %s: connected to %s (tag %s)",
		    k->c->name, q->network, q->tag);
		return;
	}
	log_warnx("dockerd: container %s: tag %s: connecting to %s: %s",
	    k->c->name, q->tag, q->network, error);
	xasprintf(&entry, "%s: %s", q->tag, error);
	dockerd_strv_add(&k->errors, entry);
	free(entry);
}

/* POST /networks/create for q's tag, as the schema says. */
static void
dockerd_net_create(struct dockerd_req *q)
{
	const struct schema	*schema = plugin_ipam_schema();
	struct schema_scope	*scope;
	const unsigned char	*buf;
	size_t			 len;
	yajl_gen		 g;
	int			 ipv6 = 0;

	if (schema != NULL && (scope = schema_find_tag(schema, q->tag)) != NULL)
		ipv6 = schema_scope_space(scope, AF_INET6) != NULL;
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "Name", q->network);
	json_gen_bool(g, "CheckDuplicate", 1);
	json_gen_string(g, "Driver", dk.conf->follower_network_driver);
	json_gen_bool(g, "EnableIPv6", ipv6);
	json_gen_key(g, "IPAM");
	yajl_gen_map_open(g);
	json_gen_string(g, "Driver", dk.conf->instance);
	json_gen_key(g, "Options");
	yajl_gen_map_open(g);
	json_gen_string(g, "netcrave.tag", q->tag);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	json_gen_key(g, "Options");
	yajl_gen_map_open(g);
	json_gen_string(g, "netcrave.tag", q->tag);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);

	q->step = DOCKERD_NET_CREATE;
	dockerd_send(q, "POST", "/networks/create", (const char *)buf);
	yajl_gen_free(g);
}

/* The network's id is known: connect the container (or, for the default
 * network, which has no container, that was all). */
static void
dockerd_net_connect(struct dockerd_req *q, const char *network_id)
{
	const unsigned char	*buf;
	size_t			 len;
	yajl_gen		 g;
	char			*path;

	if (q->cid == NULL) {
		dockerd_req_free(q);
		return;
	}
	if (dockerd_find(q->cid) == NULL) {
		/* The container went away meanwhile. */
		dockerd_req_free(q);
		return;
	}
	g = json_gen_new();
	yajl_gen_map_open(g);
	json_gen_string(g, "Container", q->cid);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	q->step = DOCKERD_NET_CONNECT;
	xasprintf(&path, "/networks/%s/connect", network_id);
	dockerd_send(q, "POST", path, (const char *)buf);
	free(path);
	yajl_gen_free(g);
}

/* A step of tag assignment (or of the default network) failed. */
static void
dockerd_net_fail(struct dockerd_req *q, const char *error)
{
	if (q->cid != NULL)
		dockerd_assign_end(q, error);
	else
		log_warnx("dockerd: default network %s: %s", q->network, error);
	dockerd_req_free(q);
}

/* An answer of a network step (GET, create, connect). */
static void
dockerd_net_answer(struct dockerd_req *q, const struct http_response *resp)
{
	struct json	*doc;
	const char	*id;
	char		 msg[512];
	int		 status = http_response_status(resp);

	if (q->step == DOCKERD_NET_CONNECT) {
		if (status == 200) {
			dockerd_assign_end(q, NULL);
			dockerd_req_free(q);
			return;
		}
		dockerd_message(resp, msg, sizeof msg);
		/* Connected meanwhile (by us before a restart, or by hand). */
		if (status == 403 && strstr(msg, "already exists") != NULL) {
			dockerd_assign_end(q, NULL);
			dockerd_req_free(q);
			return;
		}
		dockerd_net_fail(q, msg);
		return;
	}
	if (q->step == DOCKERD_NET_GET && status == 404) {
		dockerd_net_create(q);
		return;
	}
	if (q->step == DOCKERD_NET_CREATE && status == 409 && !q->retried) {
		/* Another assignment created it a moment ago. */
		q->retried = 1;
		dockerd_net_get(q);
		return;
	}
	if (status != 200 && status != 201) {
		dockerd_message(resp, msg, sizeof msg);
		dockerd_net_fail(q, msg);
		return;
	}
	/* The id goes into a request path: letters and digits only. */
	if ((doc = dockerd_body(resp, q->network)) == NULL ||
	    (id = json_get_string(doc, "Id")) == NULL || *id == '\0' ||
	    strspn(id, "0123456789abcdefghijklmnopqrstuvwxyz") != strlen(id)) {
		json_free(doc);
		dockerd_net_fail(q, "dockerd's answer has no network Id");
		return;
	}
	if (q->step == DOCKERD_NET_CREATE)
		log_info("dockerd: created network %s (%.12s, driver %s, tag %s)",
		    q->network, id, dk.conf->follower_network_driver, q->tag);
	dockerd_net_connect(q, id);
	json_free(doc);
}

/* An inspection came back. */
static void
dockerd_inspect_answer(struct dockerd_req *q, const struct http_response *resp)
{
	struct dockerd_container	*c;
	struct json			*doc;
	char				 err[256];
	int				 status = http_response_status(resp);

	if (status == 404) {
		dockerd_gone(q->cid, 0);
		return;
	}
	if (status != 200) {
		dockerd_message(resp, err, sizeof err);
		log_warnx("dockerd: inspect %.12s: %s", q->cid, err);
		return;
	}
	if ((doc = dockerd_body(resp, "inspect")) == NULL)
		return;
	c = dockerd_container_read(doc, err, sizeof err);
	json_free(doc);
	if (c == NULL) {
		log_warnx("dockerd: inspect %.12s: %s", q->cid, err);
		return;
	}
	if (!c->running)
		dockerd_gone(c->id, 0);
	else if (dockerd_gone_since(c->id, q->seq))
		/* Stale: it stopped after this was asked. */
		log_debug("dockerd: %s: stale inspection dropped", c->name);
	else {
		dockerd_update(c, q->assign);
		c = NULL;
	}
	dockerd_container_free(c);
}

/* Ask for a container's state; assign: then assign its tags. */
static void
dockerd_inspect(const char *id, int assign, int resync)
{
	struct dockerd_req	*q;
	char			*path;

	q = dockerd_req_new(DOCKERD_INSPECT, id, NULL);
	q->assign = assign;
	q->resync = resync;
	xasprintf(&path, "/containers/%s/json", id);
	dockerd_send(q, "GET", path, NULL);
	free(path);
}

/* The list of running containers: the start of a resync. */
static void
dockerd_list_answer(const struct http_response *resp)
{
	struct json	*doc;
	char		**ids, err[256];
	size_t		 i;

	if (http_response_status(resp) != 200) {
		dockerd_message(resp, err, sizeof err);
		dockerd_lost("GET /containers/json: %s", err);
		return;
	}
	if ((doc = dockerd_body(resp, "container list")) == NULL) {
		dockerd_lost("GET /containers/json: bad JSON");
		return;
	}
	ids = dockerd_list_read(doc, err, sizeof err);
	json_free(doc);
	if (ids == NULL) {
		dockerd_lost("GET /containers/json: %s", err);
		return;
	}
	if (dk.state != DOCKERD_FOLLOWING)
		log_info("dockerd: following %s", dk.socket);
	dockerd_set_state(DOCKERD_FOLLOWING);
	dk.backoff_ms = 0;
	free(dk.why);
	dk.why = NULL;
	dk.generation++;
	for (i = 0; ids[i] != NULL; i++)
		dockerd_inspect(ids[i], 1, 1);
	dk.resyncing = i;
	util_strv_free(ids);
	if (dk.resyncing == 0)
		dockerd_resync_done();

	/* The default network users name with --network. */
	if (plugin_ipam_schema() != NULL &&
	    schema_find_tag(plugin_ipam_schema(), dk.conf->default_tag) != NULL)
		dockerd_net_get(dockerd_req_new(DOCKERD_NET_GET, NULL,
		    dk.conf->default_tag));
}

/* Every answer (or failure) of the api connection. */
static void
dockerd_api_done(const struct http_response *resp, const char *error, void *arg)
{
	struct dockerd_req	*q = arg;

	TAILQ_REMOVE(&dk.reqs, q, entry);
	if (resp == NULL) {
		/* dockerd went away: the next session starts over. */
		if (q->cid != NULL && q->tag != NULL)
			dockerd_assign_end(q, error);
		dockerd_req_free(q);
		dockerd_lost("%s", error);
		return;
	}
	switch (q->step) {
	case DOCKERD_LIST:
		dockerd_list_answer(resp);
		break;
	case DOCKERD_INSPECT:
		dockerd_inspect_answer(q, resp);
		if (q->resync && dk.resyncing > 0 && --dk.resyncing == 0)
			dockerd_resync_done();
		break;
	default:
		dockerd_net_answer(q, resp);
		return;		/* q went on or was freed */
	}
	dockerd_req_free(q);
}

/* Send q on the api connection, in order behind the others. */
static void
dockerd_send(struct dockerd_req *q, const char *method, const char *path,
    const char *body)
{
	static const char *const json_headers[] = {
		"Content-Type: application/json", NULL
	};

	TAILQ_INSERT_TAIL(&dk.reqs, q, entry);
	q->r = http_client_send(dk.api, method, path,
	    body != NULL ? json_headers : NULL, body,
	    body != NULL ? strlen(body) : 0, NULL, dockerd_api_done, q);
}

/* One whole object of the event stream. */
static int
dockerd_event(const char *text, size_t len, void *arg)
{
	struct json		*doc;
	struct json_error	 jerr;
	struct dockerd_event	 ev;
	char			 err[256];

	if ((doc = json_parse(text, len, 0, &jerr)) == NULL) {
		log_warnx("dockerd: event stream: bad JSON at %u:%u: %s",
		    jerr.line, jerr.column, jerr.message);
		return (0);
	}
	dk.nevents++;
	metrics_add(metrics_counter("netcrave_dockerd_events_total",
	    "Events read from dockerd's event stream", NULL), 1);
	/* Events are numbered from 1; requests remember the last one before them. */
	dk.seq++;
	if (dockerd_event_read(doc, &ev, err, sizeof err) != 0)
		log_debug("dockerd: %s", err);
	else if (ev.kind == DOCKERD_EVENT_REFRESH)
		dockerd_inspect(ev.container, strcmp(ev.action, "start") == 0, 0);
	else if (ev.kind == DOCKERD_EVENT_GONE)
		dockerd_gone(ev.container, 1);
	json_free(doc);
	return (0);
}

/* Bytes of the event stream. */
static int
dockerd_stream_body(const struct http_response *resp, const void *data,
    size_t len, void *arg)
{
	char	err[256];

	if (http_response_status(resp) != 200) {
		dk.stream = NULL;
		dockerd_lost("GET /events: HTTP %d", http_response_status(resp));
		return (-1);
	}
	if (dockerd_split_feed(&dk.split, data, len, dockerd_event, NULL, err,
	    sizeof err) != 0) {
		dk.stream = NULL;
		dockerd_lost("%s", err);
		return (-1);
	}
	return (0);
}

/* The event stream ended: dockerd stopped, or the connection broke. */
static void
dockerd_stream_done(const struct http_response *resp, const char *error,
    void *arg)
{
	dk.stream = NULL;
	if (resp != NULL && http_response_status(resp) != 200)
		dockerd_lost("GET /events: HTTP %d", http_response_status(resp));
	else
		dockerd_lost("%s", error != NULL ? error : "event stream ended");
}

/* Drop both connections and every request in flight; known containers stay. */
static void
dockerd_teardown(void)
{
	struct dockerd_req	*q;

	/* Freeing the clients runs no callback. */
	http_client_free(dk.events);
	http_client_free(dk.api);
	dk.events = dk.api = NULL;
	dk.stream = NULL;
	while ((q = TAILQ_FIRST(&dk.reqs)) != NULL) {
		TAILQ_REMOVE(&dk.reqs, q, entry);
		if (q->cid != NULL && q->tag != NULL)
			dockerd_assign_end(q, "dockerd went away");
		dockerd_req_free(q);
	}
	dockerd_split_reset(&dk.split);
	dk.resyncing = 0;
}

/*
 * dockerd is away.  The teardown runs from the timer, not from the client
 * callback that noticed, then the timer runs again after the back-off.
 */
static void
dockerd_lost(const char *fmt, ...)
{
	struct timeval	 tv = { 0, 0 };
	va_list		 ap;
	char		*why;

	if (dk.state == DOCKERD_AWAY || dk.state == DOCKERD_DISABLED)
		return;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) == -1)
		fatalx("%s: out of memory", __func__);
	va_end(ap);
	if (dk.state == DOCKERD_FOLLOWING || dk.backoff_ms == 0)
		log_warnx("dockerd: %s: %s; retrying", dk.socket, why);
	else
		log_debug("dockerd: %s: %s; retrying", dk.socket, why);
	free(dk.why);
	dk.why = why;
	dockerd_set_state(DOCKERD_AWAY);
	dk.backoff_ms = dk.backoff_ms == 0 ? DOCKERD_BACKOFF_MIN_MS :
	    dk.backoff_ms * 2;
	if (dk.backoff_ms > DOCKERD_BACKOFF_MAX_MS)
		dk.backoff_ms = DOCKERD_BACKOFF_MAX_MS;
	evtimer_add(dk.timer, &tv);
}

/* After a loss: first the teardown, then, a back-off later, a new session. */
static void
dockerd_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct timeval	tv;

	if (dk.events != NULL || dk.api != NULL) {
		dockerd_teardown();
		tv.tv_sec = dk.backoff_ms / 1000;
		tv.tv_usec = (dk.backoff_ms % 1000) * 1000;
		evtimer_add(dk.timer, &tv);
		return;
	}
	dockerd_connect();
}

/*
 * Ask for events first, from a second ago (dockerd replays them), then for the
 * list: an event between the two is seen either way, and handling one twice is
 * harmless since every action inspects the container's current state.
 */
static void
dockerd_connect(void)
{
	struct http_client_target	 t;
	struct dockerd_req		*q;
	char				*path;

	memset(&t, 0, sizeof t);
	t.unix_path = dk.socket;
	dk.events = http_client_new(dk.base, &t, DOCKERD_TIMEOUT_MS,
	    DOCKERD_MAX_BODY);
	dk.api = http_client_new(dk.base, &t, DOCKERD_TIMEOUT_MS,
	    DOCKERD_MAX_BODY);
	if (dk.events == NULL || dk.api == NULL)
		fatalx("%s: no client for %s", __func__, dk.socket);
	dockerd_set_state(DOCKERD_CONNECTING);
	xasprintf(&path, "/events?since=%lld&filters=%s",
	    (long long)time(NULL) - 1, DOCKERD_EVENTS_FILTER);
	dk.stream = http_client_send(dk.events, "GET", path, NULL, NULL, 0,
	    dockerd_stream_body, dockerd_stream_done, NULL);
	free(path);
	q = dockerd_req_new(DOCKERD_LIST, NULL, NULL);
	dockerd_send(q, "GET", "/containers/json", NULL);
}

/* The server entry. */

static int
dockerd_init(const struct server_env *env, char *err, size_t errlen)
{
	dk.base = env->base;
	dk.conf = env->conf;
	TAILQ_INIT(&dk.known);
	TAILQ_INIT(&dk.reqs);
	if ((dk.timer = evtimer_new(dk.base, dockerd_timer_cb, NULL)) == NULL) {
		snprintf(err, errlen, "dockerd: out of memory");
		return (-1);
	}
	dockerd_watch(dockerd_metrics_watch, NULL);
	dockerd_set_state(DOCKERD_DISABLED);
	if (dk.conf->follower_docker_socket == NULL) {
		log_info("dockerd: not followed (follower.docker_socket is null)");
		return (0);
	}
	dk.socket = xstrdup(dk.conf->follower_docker_socket);
	log_info("dockerd: following %s; tag networks %s-<tag>, driver %s",
	    dk.socket, dk.conf->instance, dk.conf->follower_network_driver);
	dockerd_connect();
	return (0);
}

/* Stop following: connections and requests go, the map is forgotten. */
static void
dockerd_stop(void)
{
	if (dk.timer != NULL)
		evtimer_del(dk.timer);
	dockerd_teardown();
	free(dk.socket);
	dk.socket = NULL;
	dockerd_set_state(DOCKERD_DISABLED);
}

/* A new socket path starts a new session; known containers stay until the
 * resync says otherwise.  A null one ends following and empties the map. */
static int
dockerd_reload(const struct conf *old, const struct conf *new, char *err,
    size_t errlen)
{
	const char	*a = old->follower_docker_socket;
	const char	*b = new->follower_docker_socket;

	dk.conf = new;
	if ((a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0))
		return (0);
	dockerd_stop();
	if (b == NULL) {
		/* Nobody keeps this map true any more: watchers hear DOWN. */
		while (!TAILQ_EMPTY(&dk.known))
			dockerd_gone(TAILQ_FIRST(&dk.known)->c->id, 0);
		log_info("dockerd: not followed any more");
		return (0);
	}
	dk.socket = xstrdup(b);
	dk.backoff_ms = 0;
	log_info("dockerd: following %s now", dk.socket);
	dockerd_connect();
	return (0);
}

/* Stop and forget everything (watchers are not told: they stop too). */
static void
dockerd_shutdown(void)
{
	struct dockerd_known	*k;

	dockerd_stop();
	if (dk.timer != NULL)
		event_free(dk.timer);
	dk.timer = NULL;
	while ((k = TAILQ_FIRST(&dk.known)) != NULL) {
		TAILQ_REMOVE(&dk.known, k, entry);
		dockerd_known_free(k);
	}
	free(dk.watchers);
	dk.watchers = NULL;
	dk.nwatchers = 0;
	free(dk.why);
	dk.why = NULL;
}

const struct server dockerd_server = {
	"dockerd", dockerd_init, dockerd_reload, dockerd_shutdown
};

/* The control socket's GET /containers. */
void
dockerd_gen_containers(yajl_gen g)
{
	struct dockerd_known		*k;
	const struct dockerd_endpoint	*e;
	char				**problems, *p;
	size_t				 i;

	yajl_gen_map_open(g);
	json_gen_key(g, "follower");
	yajl_gen_map_open(g);
	json_gen_string(g, "socket", dk.socket);
	json_gen_string(g, "state", dockerd_state_names[dk.state]);
	json_gen_string(g, "error", dk.why);
	json_gen_int(g, "events", (long long)dk.nevents);
	json_gen_string(g, "network_driver", dk.conf != NULL ?
	    dk.conf->follower_network_driver : NULL);
	yajl_gen_map_close(g);

	json_gen_key(g, "containers");
	yajl_gen_array_open(g);
	TAILQ_FOREACH(k, &dk.known, entry) {
		yajl_gen_map_open(g);
		json_gen_string(g, "id", k->c->id);
		json_gen_string(g, "name", k->c->name);
		json_gen_bool(g, "running", k->c->running);
		json_gen_strv(g, "tags", k->tags);
		json_gen_strv(g, "pending", k->pending);
		problems = util_strv_copy(k->errors);
		for (i = 0; k->unknown != NULL && k->unknown[i] != NULL; i++) {
			xasprintf(&p, "unknown tag \"%s\"", k->unknown[i]);
			dockerd_strv_add(&problems, p);
			free(p);
		}
		json_gen_strv(g, "problems", problems);
		util_strv_free(problems);
		json_gen_key(g, "networks");
		yajl_gen_array_open(g);
		for (i = 0; i < k->c->nendpoints; i++) {
			e = &k->c->endpoints[i];
			yajl_gen_map_open(g);
			json_gen_string(g, "network", e->network_name);
			json_gen_string(g, "network_id", e->network_id);
			json_gen_string(g, "endpoint_id", e->endpoint_id);
			json_gen_string(g, "ipv4", e->ipv4);
			json_gen_string(g, "ipv6", e->ipv6);
			json_gen_strv(g, "aliases", e->aliases);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}
