/* dockerd_parse.c: the pure parts of the dockerd follower: framing of the
 * GET /events stream into whole JSON objects, and reading events, container
 * inspections and container lists into the follower's structures.  No I/O here,
 * so unit tests and the fuzzer drive it with captured dockerd output. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerd.h"
#include "dockerd_private.h"
#include "json.h"
#include "util.h"
#include "xmalloc.h"

/* Append s (taken) to a NULL-terminated list of n entries. */
void
dockerd_strv_push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 2, sizeof **v);
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* Keep byte c of the object being read. */
static void
dockerd_split_keep(struct dockerd_splitter *sp, char c)
{
	if (sp->len == sp->cap) {
		sp->cap = sp->cap == 0 ? 1024 : sp->cap * 2;
		sp->buf = xreallocarray(sp->buf, sp->cap, 1);
	}
	sp->buf[sp->len++] = c;
}

/* Track strings and nesting byte by byte; hand on each object once it closes. */
int
dockerd_split_feed(struct dockerd_splitter *sp, const void *data, size_t len,
    dockerd_object_fn fn, void *arg, char *err, size_t errlen)
{
	const unsigned char	*p = data;
	size_t			 i, n;
	unsigned char		 c;

	for (i = 0; i < len; i++) {
		c = p[i];
		if (sp->depth == 0) {
			/* Between objects: only whitespace, or the next object. */
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				continue;
			if (c != '{') {
				snprintf(err, errlen, "event stream: expected an "
				    "object, got byte 0x%02x", c);
				return (-1);
			}
		}
		if (sp->len >= DOCKERD_MAX_OBJECT) {
			snprintf(err, errlen, "event stream: an object is larger "
			    "than %u bytes", (unsigned int)DOCKERD_MAX_OBJECT);
			return (-1);
		}
		dockerd_split_keep(sp, (char)c);
		if (sp->in_string) {
			if (sp->escape)
				sp->escape = 0;
			else if (c == '\\')
				sp->escape = 1;
			else if (c == '"')
				sp->in_string = 0;
			continue;
		}
		switch (c) {
		case '"':
			sp->in_string = 1;
			break;
		case '{':
		case '[':
			if (sp->depth >= JSON_MAX_DEPTH) {
				snprintf(err, errlen, "event stream: nested "
				    "deeper than %d", JSON_MAX_DEPTH);
				return (-1);
			}
			sp->depth++;
			break;
		case '}':
		case ']':
			/* A mismatched bracket is json_parse's to report. */
			if (--sp->depth == 0) {
				n = sp->len;
				sp->len = 0;
				if (fn(sp->buf, n, arg) == -1)
					return (-1);
			}
			break;
		}
	}
	return (0);
}

/* Forget a partial object and free the buffer. */
void
dockerd_split_reset(struct dockerd_splitter *sp)
{
	free(sp->buf);
	memset(sp, 0, sizeof *sp);
}

/* A string member that is present and not empty, else NULL. */
static const char *
dockerd_text(const struct json *obj, const char *key)
{
	const char	*s = json_get_string(obj, key);

	return (s != NULL && *s != '\0' ? s : NULL);
}

/* A full container id: 64 lowercase hex digits. */
static int
dockerd_id_ok(const char *id)
{
	return (id != NULL && strlen(id) == 64 &&
	    strspn(id, "0123456789abcdef") == 64);
}

/*
 * Events come as {"Type":"container","Action":"start","Actor":{"ID":...}} and
 * {"Type":"network","Action":"connect","Actor":{"Attributes":{"container":...}}}.
 */
int
dockerd_event_read(const struct json *ev, struct dockerd_event *out,
    char *err, size_t errlen)
{
	const struct json	*actor;
	const char		*type, *action;

	memset(out, 0, sizeof *out);
	if (ev == NULL || ev->type != JSON_OBJECT) {
		snprintf(err, errlen, "event: not an object");
		return (-1);
	}
	type = json_get_string(ev, "Type");
	action = json_get_string(ev, "Action");
	actor = json_get(ev, "Actor");
	if (type == NULL || action == NULL || actor == NULL ||
	    actor->type != JSON_OBJECT) {
		snprintf(err, errlen, "event: no Type, Action or Actor");
		return (-1);
	}
	out->action = action;
	if (strcmp(type, "container") == 0) {
		out->container = json_get_string(actor, "ID");
		if (strcmp(action, "start") == 0 || strcmp(action, "rename") == 0 ||
		    strcmp(action, "unpause") == 0)
			out->kind = DOCKERD_EVENT_REFRESH;
		else if (strcmp(action, "die") == 0 ||
		    strcmp(action, "stop") == 0 ||
		    strcmp(action, "destroy") == 0)
			out->kind = DOCKERD_EVENT_GONE;
	} else if (strcmp(type, "network") == 0) {
		out->container = json_get_string(json_get(actor, "Attributes"),
		    "container");
		if (strcmp(action, "connect") == 0 ||
		    strcmp(action, "disconnect") == 0)
			out->kind = DOCKERD_EVENT_REFRESH;
	}
	if (out->kind != DOCKERD_EVENT_OTHER && !dockerd_id_ok(out->container)) {
		snprintf(err, errlen, "event %s %s: no container id", type,
		    action);
		out->kind = DOCKERD_EVENT_OTHER;
		return (-1);
	}
	return (0);
}

/* One member of NetworkSettings.Networks. */
static int
dockerd_endpoint_read(const struct json *n, struct dockerd_endpoint *e,
    char *err, size_t errlen)
{
	const struct json	*aliases;
	const char		*s;
	size_t			 i, count = 0;

	if (n->type != JSON_OBJECT) {
		snprintf(err, errlen, "network %s: not an object", n->key);
		return (-1);
	}
	e->network_name = xstrdup(n->key);
	if ((s = dockerd_text(n, "NetworkID")) != NULL)
		e->network_id = xstrdup(s);
	if ((s = dockerd_text(n, "EndpointID")) != NULL)
		e->endpoint_id = xstrdup(s);
	if ((s = dockerd_text(n, "IPAddress")) != NULL)
		e->ipv4 = xstrdup(s);
	if ((s = dockerd_text(n, "GlobalIPv6Address")) != NULL)
		e->ipv6 = xstrdup(s);
	e->aliases = xcalloc(1, sizeof *e->aliases);
	aliases = json_get(n, "Aliases");
	for (i = 0; aliases != NULL && aliases->type == JSON_ARRAY &&
	    i < aliases->nchildren; i++) {
		if (aliases->children[i]->type != JSON_STRING ||
		    memchr(aliases->children[i]->string, '\0',
		    aliases->children[i]->string_len) != NULL)
			continue;
		dockerd_strv_push(&e->aliases, &count,
		    xstrdup(aliases->children[i]->string));
	}
	return (0);
}

/* Id, name, running state, labels and endpoints of an inspection. */
struct dockerd_container *
dockerd_container_read(const struct json *doc, char *err, size_t errlen)
{
	struct dockerd_container	*c;
	const struct json		*labels, *nets, *l;
	const char			*id, *name;
	size_t				 i, n = 0;
	char				*kv;
	int				 running = 0;

	if (doc == NULL || doc->type != JSON_OBJECT) {
		snprintf(err, errlen, "container: not an object");
		return (NULL);
	}
	id = json_get_string(doc, "Id");
	if (!dockerd_id_ok(id)) {
		snprintf(err, errlen, "container: no valid Id");
		return (NULL);
	}
	if ((name = json_get_string(doc, "Name")) == NULL) {
		snprintf(err, errlen, "container %.12s: no Name", id);
		return (NULL);
	}
	json_get_bool(json_get(doc, "State"), "Running", &running);

	c = xcalloc(1, sizeof *c);
	c->id = xstrdup(id);
	c->name = xstrdup(name[0] == '/' ? name + 1 : name);
	c->running = running == 1;
	c->labels = xcalloc(1, sizeof *c->labels);
	labels = json_get(json_get(doc, "Config"), "Labels");
	for (i = 0; labels != NULL && labels->type == JSON_OBJECT &&
	    i < labels->nchildren; i++) {
		l = labels->children[i];
		if (l->type != JSON_STRING ||
		    memchr(l->string, '\0', l->string_len) != NULL)
			continue;
		xasprintf(&kv, "%s=%s", l->key, l->string);
		dockerd_strv_push(&c->labels, &n, kv);
	}
	nets = json_get(json_get(doc, "NetworkSettings"), "Networks");
	if (nets != NULL && nets->type == JSON_OBJECT && nets->nchildren > 0) {
		c->endpoints = xcalloc(nets->nchildren, sizeof *c->endpoints);
		for (i = 0; i < nets->nchildren; i++) {
			if (dockerd_endpoint_read(nets->children[i],
			    &c->endpoints[c->nendpoints++], err, errlen) != 0) {
				dockerd_container_free(c);
				return (NULL);
			}
		}
	}
	return (c);
}

void
dockerd_container_gen(yajl_gen g, const struct dockerd_container *c)
{
	const struct dockerd_endpoint	*e;
	const char			*eq;
	char				*name;
	size_t				 i;

	yajl_gen_map_open(g);
	json_gen_string(g, "Id", c->id);
	/* dockerd's form, so a name read back is the same name. */
	xasprintf(&name, "/%s", c->name);
	json_gen_string(g, "Name", name);
	free(name);
	json_gen_key(g, "State");
	yajl_gen_map_open(g);
	json_gen_bool(g, "Running", c->running);
	yajl_gen_map_close(g);
	json_gen_key(g, "Config");
	yajl_gen_map_open(g);
	json_gen_key(g, "Labels");
	yajl_gen_map_open(g);
	for (i = 0; c->labels != NULL && c->labels[i] != NULL; i++) {
		if ((eq = strchr(c->labels[i], '=')) == NULL)
			continue;
		yajl_gen_string(g, (const unsigned char *)c->labels[i],
		    eq - c->labels[i]);
		yajl_gen_string(g, (const unsigned char *)eq + 1,
		    strlen(eq + 1));
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	json_gen_key(g, "NetworkSettings");
	yajl_gen_map_open(g);
	json_gen_key(g, "Networks");
	yajl_gen_map_open(g);
	for (i = 0; i < c->nendpoints; i++) {
		e = &c->endpoints[i];
		json_gen_key(g, e->network_name != NULL ? e->network_name : "");
		yajl_gen_map_open(g);
		if (e->network_id != NULL)
			json_gen_string(g, "NetworkID", e->network_id);
		if (e->endpoint_id != NULL)
			json_gen_string(g, "EndpointID", e->endpoint_id);
		if (e->ipv4 != NULL)
			json_gen_string(g, "IPAddress", e->ipv4);
		if (e->ipv6 != NULL)
			json_gen_string(g, "GlobalIPv6Address", e->ipv6);
		json_gen_strv(g, "Aliases", e->aliases);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

/* The Id of each entry of a container list. */
char **
dockerd_list_read(const struct json *doc, char *err, size_t errlen)
{
	char		**ids;
	const char	 *id;
	size_t		  i, n = 0;

	if (doc == NULL || doc->type != JSON_ARRAY) {
		snprintf(err, errlen, "container list: not an array");
		return (NULL);
	}
	ids = xcalloc(1, sizeof *ids);
	for (i = 0; i < doc->nchildren; i++) {
		id = json_get_string(doc->children[i], "Id");
		if (!dockerd_id_ok(id)) {
			snprintf(err, errlen, "container list: entry %zu has no "
			    "valid Id", i + 1);
			util_strv_free(ids);
			return (NULL);
		}
		dockerd_strv_push(&ids, &n, xstrdup(id));
	}
	return (ids);
}

/* Free a container and its endpoints; NULL is fine. */
void
dockerd_container_free(struct dockerd_container *c)
{
	struct dockerd_endpoint	*e;
	size_t			 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nendpoints; i++) {
		e = &c->endpoints[i];
		free(e->network_id);
		free(e->network_name);
		free(e->endpoint_id);
		free(e->ipv4);
		free(e->ipv6);
		util_strv_free(e->aliases);
	}
	free(c->endpoints);
	util_strv_free(c->labels);
	free(c->id);
	free(c->name);
	free(c);
}

/* NULL-safe string equality. */
static int
dockerd_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Same state for watchers: name, labels, running, endpoints in order. */
int
dockerd_container_equal(const struct dockerd_container *a,
    const struct dockerd_container *b)
{
	const struct dockerd_endpoint	*x, *y;
	size_t				 i;

	if (!dockerd_same(a->id, b->id) || !dockerd_same(a->name, b->name) ||
	    a->running != b->running || a->nendpoints != b->nendpoints ||
	    !util_strv_equal(a->labels, b->labels))
		return (0);
	for (i = 0; i < a->nendpoints; i++) {
		x = &a->endpoints[i];
		y = &b->endpoints[i];
		if (!dockerd_same(x->network_id, y->network_id) ||
		    !dockerd_same(x->network_name, y->network_name) ||
		    !dockerd_same(x->endpoint_id, y->endpoint_id) ||
		    !dockerd_same(x->ipv4, y->ipv4) ||
		    !dockerd_same(x->ipv6, y->ipv6) ||
		    !util_strv_equal(x->aliases, y->aliases))
			return (0);
	}
	return (1);
}

/* Split on commas, trimming blanks; NULL gives an empty list. */
char **
dockerd_tags_split(const char *value)
{
	char		**tags;
	const char	 *p, *end;
	size_t		  n = 0, len;

	tags = xcalloc(1, sizeof *tags);
	for (p = value; p != NULL && *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = strchrnul(p, ',');
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = end - p;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len > 0)
			dockerd_strv_push(&tags, &n, xstrndup(p, len));
	}
	return (tags);
}
