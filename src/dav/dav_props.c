/* dav_props.c: PROPFIND and PROPPATCH: live properties computed from the
 * store, dead properties kept encrypted beside each resource, PROPPATCH
 * applied all or nothing (403 for protected properties, 424 for the rest). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "dav.h"
#include "dav_private.h"
#include "dav_xml.h"
#include "http.h"
#include "util.h"
#include "xmalloc.h"

enum dav_pf_mode {
	DAV_PF_ALLPROP,
	DAV_PF_PROPNAME,
	DAV_PF_PROP
};

/* Live properties, all in DAV:. */
static const char *const dav_live[] = {
	"creationdate", "getcontentlength", "getcontenttype", "getetag",
	"getlastmodified", "lockdiscovery", "resourcetype", "supportedlock",
	NULL
};

/* Is {ns}name a live property (which PROPPATCH may not touch)? */
static int
dav_is_live(const char *ns, const char *name)
{
	size_t	 i;

	if (strcmp(ns, DAV_NS) != 0)
		return (0);
	for (i = 0; dav_live[i] != NULL; i++) {
		if (strcmp(dav_live[i], name) == 0)
			return (1);
	}
	return (0);
}

/* Open tag of a property of any namespace; close with dav_prop_close. */
static void
dav_prop_open(struct evbuffer *b, const char *ns, const char *name, int empty)
{
	if (strcmp(ns, DAV_NS) == 0)
		evbuffer_add_printf(b, "<D:%s%s>", name, empty ? "/" : "");
	else if (strcmp(ns, DAV_XML_XML_NS) == 0)
		evbuffer_add_printf(b, "<xml:%s%s>", name, empty ? "/" : "");
	else if (*ns == '\0')
		evbuffer_add_printf(b, "<%s xmlns=\"\"%s>", name, empty ? "/" : "");
	else {
		evbuffer_add_printf(b, "<R:%s xmlns:R=\"", name);
		dav_xml_escape(b, ns);
		evbuffer_add_printf(b, "\"%s>", empty ? "/" : "");
	}
}

static void
dav_prop_close(struct evbuffer *b, const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) == 0)
		evbuffer_add_printf(b, "</D:%s>", name);
	else if (strcmp(ns, DAV_XML_XML_NS) == 0)
		evbuffer_add_printf(b, "</xml:%s>", name);
	else if (*ns == '\0')
		evbuffer_add_printf(b, "</%s>", name);
	else
		evbuffer_add_printf(b, "</R:%s>", name);
}

/* One activelock element. */
void
dav_activelock(struct evbuffer *b, const struct dav_lock *l)
{
	time_t	 now = time(NULL);

	evbuffer_add_printf(b, "<D:activelock><D:locktype><D:write/>"
	    "</D:locktype><D:lockscope><D:%s/></D:lockscope>"
	    "<D:depth>%s</D:depth>", l->exclusive ? "exclusive" :
	    "shared", l->infinite ? "infinity" : "0");
	if (l->owner != NULL)
		evbuffer_add_printf(b, "<D:owner>%s</D:owner>", l->owner);
	if (l->timeout == 0)
		evbuffer_add_printf(b, "<D:timeout>Infinite</D:timeout>");
	else
		evbuffer_add_printf(b, "<D:timeout>Second-%lld</D:timeout>",
		    (long long)(l->expires > now ? l->expires - now : 0));
	evbuffer_add_printf(b, "<D:locktoken><D:href>%s</D:href>"
	    "</D:locktoken><D:lockroot><D:href>", l->token);
	dav_href(b, l->full, 0);
	evbuffer_add_printf(b, "</D:href></D:lockroot></D:activelock>");
}

/* The activelock elements of the locks covering full. */
void
dav_lockdiscovery(struct evbuffer *b, const char *full)
{
	struct dav_lock	*l = NULL;

	while ((l = dav_lock_next_covering(full, l)) != NULL)
		dav_activelock(b, l);
}

/* Value of a live property into b; 0 if the resource has none. */
static int
dav_live_value(struct evbuffer *b, const char *name, const char *full,
    const struct dav_stat *st)
{
	char		 date[64];
	struct tm	 tm;

	if (strcmp(name, "resourcetype") == 0) {
		if (st->is_dir)
			evbuffer_add_printf(b, "<D:collection/>");
	} else if (strcmp(name, "getcontentlength") == 0) {
		if (st->is_dir)
			return (0);
		evbuffer_add_printf(b, "%" PRIu64, st->size);
	} else if (strcmp(name, "getcontenttype") == 0) {
		if (st->is_dir)
			return (0);
		evbuffer_add_printf(b, "application/octet-stream");
	} else if (strcmp(name, "getetag") == 0) {
		dav_xml_escape(b, st->etag);
	} else if (strcmp(name, "getlastmodified") == 0) {
		http_format_date(st->mtime.tv_sec, date, sizeof date);
		evbuffer_add_printf(b, "%s", date);
	} else if (strcmp(name, "creationdate") == 0) {
		gmtime_r(&st->btime.tv_sec, &tm);
		strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
		evbuffer_add_printf(b, "%s", date);
	} else if (strcmp(name, "supportedlock") == 0) {
		evbuffer_add_printf(b, "<D:lockentry><D:lockscope><D:exclusive/>"
		    "</D:lockscope><D:locktype><D:write/></D:locktype>"
		    "</D:lockentry><D:lockentry><D:lockscope><D:shared/>"
		    "</D:lockscope><D:locktype><D:write/></D:locktype>"
		    "</D:lockentry>");
	} else if (strcmp(name, "lockdiscovery") == 0) {
		dav_lockdiscovery(b, full);
	} else
		return (0);
	return (1);
}

/* One propstat group. */
static void
dav_propstat(struct evbuffer *out, struct evbuffer *props, int status)
{
	evbuffer_add_printf(out, "<D:propstat><D:prop>");
	evbuffer_add_buffer(out, props);
	evbuffer_add_printf(out, "</D:prop><D:status>HTTP/1.1 %d %s</D:status>"
	    "</D:propstat>\n", status, http_status_text(status));
}

/* The response element of one resource. */
static int
dav_propfind_one(struct evbuffer *out, struct dav_target *t,
    enum dav_pf_mode mode, const struct dav_xml *prop, char *err,
    size_t errlen)
{
	struct evbuffer		*ok, *missing, *v;
	struct dav_prop		*dead = NULL;
	const struct dav_xml	*want;
	size_t			 ndead = 0, i;
	int			 found;

	if (!t->is_root && t->vol != NULL && dav_props_load(t->vol, t->rel,
	    t->st.is_dir, &dead, &ndead, err, errlen) == -1)
		return (-1);
	ok = evbuffer_new();
	missing = evbuffer_new();
	v = evbuffer_new();
	evbuffer_add_printf(out, "<D:response><D:href>");
	dav_href(out, t->full, t->st.is_dir);
	evbuffer_add_printf(out, "</D:href>");
	if (mode != DAV_PF_PROP) {
		for (i = 0; dav_live[i] != NULL; i++) {
			if (!dav_live_value(v, dav_live[i], t->full, &t->st)) {
				evbuffer_drain(v, evbuffer_get_length(v));
				continue;
			}
			if (mode == DAV_PF_PROPNAME || evbuffer_get_length(v) == 0)
				dav_prop_open(ok, DAV_NS, dav_live[i], 1);
			else {
				dav_prop_open(ok, DAV_NS, dav_live[i], 0);
				evbuffer_add_buffer(ok, v);
				dav_prop_close(ok, DAV_NS, dav_live[i]);
			}
			evbuffer_drain(v, evbuffer_get_length(v));
		}
		for (i = 0; i < ndead; i++) {
			if (mode == DAV_PF_PROPNAME || *dead[i].value == '\0')
				dav_prop_open(ok, dead[i].ns, dead[i].name, 1);
			else {
				dav_prop_open(ok, dead[i].ns, dead[i].name, 0);
				evbuffer_add_printf(ok, "%s", dead[i].value);
				dav_prop_close(ok, dead[i].ns, dead[i].name);
			}
		}
	} else {
		for (want = dav_xml_first_element(prop); want != NULL;
		    want = dav_xml_next_element(want)) {
			found = 0;
			if (strcmp(want->ns, DAV_NS) == 0 &&
			    dav_live_value(v, want->name, t->full, &t->st)) {
				found = 1;
				if (evbuffer_get_length(v) == 0)
					dav_prop_open(ok, DAV_NS, want->name, 1);
				else {
					dav_prop_open(ok, DAV_NS, want->name, 0);
					evbuffer_add_buffer(ok, v);
					dav_prop_close(ok, DAV_NS, want->name);
				}
			}
			for (i = 0; !found && i < ndead; i++) {
				if (strcmp(dead[i].ns, want->ns) != 0 ||
				    strcmp(dead[i].name, want->name) != 0)
					continue;
				found = 1;
				dav_prop_open(ok, want->ns, want->name, 0);
				evbuffer_add_printf(ok, "%s", dead[i].value);
				dav_prop_close(ok, want->ns, want->name);
			}
			if (!found)
				dav_prop_open(missing, want->ns, want->name, 1);
		}
	}
	if (evbuffer_get_length(ok) > 0 || evbuffer_get_length(missing) == 0)
		dav_propstat(out, ok, 200);
	if (evbuffer_get_length(missing) > 0)
		dav_propstat(out, missing, 404);
	evbuffer_add_printf(out, "</D:response>\n");
	evbuffer_free(ok);
	evbuffer_free(missing);
	evbuffer_free(v);
	dav_props_free(dead, ndead);
	return (0);
}

/* Parse the XML body of a request; NULL after answering 400. */
static struct dav_xml *
dav_body_xml(struct dav_req *dr)
{
	struct dav_xml	*x;
	char		 err[256];
	size_t		 len = evbuffer_get_length(dr->body);

	if ((x = dav_xml_parse((const char *)evbuffer_pullup(dr->body, -1), len,
	    err, sizeof err)) == NULL)
		dav_error(dr, 400, NULL, "malformed request body: %s", err);
	return (x);
}

/* PROPFIND with Depth 0 or 1 (infinity is refused: propfind-finite-depth). */
void
dav_propfind(struct dav_req *dr)
{
	struct dav_target	 m;
	struct dav_volume	*vol;
	struct evbuffer		*out;
	struct dav_xml		*x = NULL, *c, *prop = NULL;
	enum dav_pf_mode	 mode = DAV_PF_ALLPROP;
	char			**names = NULL, err[256], *full;
	size_t			 i;
	int			 depth;

	depth = dav_depth(dr, -1);
	if (depth == -2) {
		dav_error(dr, 400, NULL, "bad Depth");
		return;
	}
	if (depth == -1) {
		dav_error(dr, 403, "propfind-finite-depth", "Depth: infinity "
		    "is not served; walk with Depth: 1");
		return;
	}
	if (!dr->t.st.exists) {
		dav_error(dr, 404, NULL, "no such resource");
		return;
	}
	if (evbuffer_get_length(dr->body) > 0) {
		if ((x = dav_body_xml(dr)) == NULL)
			return;
		if (!dav_xml_is(x, DAV_NS, "propfind") ||
		    (c = dav_xml_first_element(x)) == NULL) {
			dav_xml_free(x);
			dav_error(dr, 400, NULL, "expected DAV:propfind with "
			    "allprop, propname or prop");
			return;
		}
		if (dav_xml_is(c, DAV_NS, "propname"))
			mode = DAV_PF_PROPNAME;
		else if (dav_xml_is(c, DAV_NS, "prop")) {
			mode = DAV_PF_PROP;
			prop = c;
		} else if (!dav_xml_is(c, DAV_NS, "allprop")) {
			dav_xml_free(x);
			dav_error(dr, 400, NULL, "expected allprop, propname or "
			    "prop in DAV:propfind");
			return;
		}
	}
	out = evbuffer_new();
	dav_multistatus_begin(out);
	if (dav_propfind_one(out, &dr->t, mode, prop, err, sizeof err) == -1)
		goto fail;
	if (depth == 1 && dr->t.st.is_dir) {
		if (dr->t.is_root) {
			for (vol = dav_volume_next(dav_server_store(), NULL);
			    vol != NULL; vol = dav_volume_next(
			    dav_server_store(), vol)) {
				dav_target_from_full(dav_volume_name(vol), &m);
				if (dav_target_stat(&m, err, sizeof err) == 0 &&
				    m.st.exists && dav_propfind_one(out, &m,
				    mode, prop, err, sizeof err) == -1) {
					dav_target_clear(&m);
					goto fail;
				}
				dav_target_clear(&m);
			}
		} else {
			if ((names = dav_list(dr->t.vol, dr->t.rel, err,
			    sizeof err)) == NULL)
				goto fail;
			for (i = 0; names[i] != NULL; i++) {
				xasprintf(&full, "%s/%s", dr->t.full, names[i]);
				dav_target_from_full(full, &m);
				free(full);
				/* A member that cannot be read is skipped. */
				if (dav_target_stat(&m, err, sizeof err) == 0 &&
				    m.st.exists)
					dav_propfind_one(out, &m, mode, prop,
					    err, sizeof err);
				dav_target_clear(&m);
			}
			util_strv_free(names);
		}
	}
	dav_multistatus_end(out);
	dav_xml_free(x);
	dav_finish_buffer(dr, 207, out);
	return;
fail:
	evbuffer_free(out);
	util_strv_free(names);
	dav_xml_free(x);
	dav_error(dr, 500, NULL, "%s", err);
}

/* One operation of a PROPPATCH, in document order. */
struct dav_pp_op {
	struct dav_xml		*prop;
	int			 remove;
	int			 status;
};

/* PROPPATCH: all operations or none. */
void
dav_proppatch(struct dav_req *dr)
{
	struct dav_xml		*x, *op, *p, *e;
	struct dav_pp_op	*ops = NULL;
	struct dav_prop		*props = NULL;
	struct evbuffer		*out, *v, *group;
	size_t			 nops = 0, nprops = 0, i, j;
	char			 err[256];
	int			 failed = 0, status;

	if (dr->t.is_root || dr->t.vol == NULL) {
		dav_error(dr, 403, NULL, "the root has no properties to set");
		return;
	}
	if (!dr->t.st.exists) {
		dav_error(dr, 404, NULL, "no such resource");
		return;
	}
	if (dav_lock_check(dr, dr->t.full, 0, 0) != 0 || dav_if_check(dr) != 0)
		return;
	if ((x = dav_body_xml(dr)) == NULL)
		return;
	if (!dav_xml_is(x, DAV_NS, "propertyupdate")) {
		dav_xml_free(x);
		dav_error(dr, 400, NULL, "expected DAV:propertyupdate");
		return;
	}
	for (op = dav_xml_first_element(x); op != NULL;
	    op = dav_xml_next_element(op)) {
		int	 remove = dav_xml_is(op, DAV_NS, "remove");

		if (!remove && !dav_xml_is(op, DAV_NS, "set"))
			continue;
		for (p = dav_xml_child(op, DAV_NS, "prop"); p != NULL;
		    p = dav_xml_next_element(p)) {
			if (!dav_xml_is(p, DAV_NS, "prop"))
				continue;
			for (e = dav_xml_first_element(p); e != NULL;
			    e = dav_xml_next_element(e)) {
				ops = xreallocarray(ops, nops + 1, sizeof *ops);
				ops[nops].prop = e;
				ops[nops].remove = remove;
				ops[nops].status = 200;
				if (dav_is_live(e->ns, e->name)) {
					ops[nops].status = 403;
					failed = 1;
				}
				nops++;
			}
		}
	}
	if (nops == 0) {
		dav_xml_free(x);
		dav_error(dr, 400, NULL, "no property to set or remove");
		return;
	}
	if (dav_props_load(dr->t.vol, dr->t.rel, dr->t.st.is_dir, &props,
	    &nprops, err, sizeof err) == -1) {
		free(ops);
		dav_xml_free(x);
		dav_error(dr, 500, NULL, "%s", err);
		return;
	}
	if (!failed) {
		v = evbuffer_new();
		for (i = 0; i < nops; i++) {
			e = ops[i].prop;
			for (j = 0; j < nprops; j++) {
				if (strcmp(props[j].ns, e->ns) == 0 &&
				    strcmp(props[j].name, e->name) == 0)
					break;
			}
			if (ops[i].remove) {
				if (j < nprops) {
					free(props[j].ns);
					free(props[j].name);
					free(props[j].value);
					props[j] = props[--nprops];
				}
				continue;
			}
			dav_xml_serialize_children(v, e);
			evbuffer_add(v, "", 1);
			if (j == nprops) {
				props = xreallocarray(props, nprops + 1,
				    sizeof *props);
				props[nprops].ns = xstrdup(e->ns);
				props[nprops].name = xstrdup(e->name);
				nprops++;
			} else
				free(props[j].value);
			props[j].value = xstrdup((const char *)
			    evbuffer_pullup(v, -1));
			evbuffer_drain(v, evbuffer_get_length(v));
		}
		evbuffer_free(v);
		if (dav_props_save(dr->t.vol, dr->t.rel, dr->t.st.is_dir,
		    props, nprops, err, sizeof err) == -1) {
			dav_props_free(props, nprops);
			free(ops);
			dav_xml_free(x);
			dav_error(dr, dav_errno_status(errno), NULL, "%s",
			    err);
			return;
		}
	} else {
		for (i = 0; i < nops; i++) {
			if (ops[i].status == 200)
				ops[i].status = 424;
		}
	}
	dav_props_free(props, nprops);
	out = evbuffer_new();
	group = evbuffer_new();
	dav_multistatus_begin(out);
	evbuffer_add_printf(out, "<D:response><D:href>");
	dav_href(out, dr->t.full, dr->t.st.is_dir);
	evbuffer_add_printf(out, "</D:href>");
	/* One propstat per status, in the order 200, 403, 424. */
	for (status = 0; status < 3; status++) {
		int	 want = status == 0 ? 200 : status == 1 ? 403 : 424;

		for (i = 0; i < nops; i++) {
			if (ops[i].status == want)
				dav_prop_open(group, ops[i].prop->ns,
				    ops[i].prop->name, 1);
		}
		if (evbuffer_get_length(group) > 0)
			dav_propstat(out, group, want);
	}
	if (failed)
		evbuffer_add_printf(out, "<D:responsedescription>a protected "
		    "(live) property cannot be changed; nothing was applied"
		    "</D:responsedescription>");
	evbuffer_add_printf(out, "</D:response>\n");
	dav_multistatus_end(out);
	evbuffer_free(group);
	free(ops);
	dav_xml_free(x);
	dav_finish_buffer(dr, 207, out);
}
