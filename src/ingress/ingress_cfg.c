/* ingress_cfg.c: haproxy.cfg written from the service model: a resolvers
 * section on netcraved's DNS, HTTP and HTTPS frontends routing by Host, and
 * per service one backend holding the pushed slots (in the file too, so a
 * reload keeps what was pushed) and a server-template over its SRV name as
 * the fallback. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingress.h"
#include "xmalloc.h"

/* Where a free slot points: disabled, so never used until a push. */
#define INGRESS_FREE_ADDRESS	"127.0.0.1:9"

int
ingress_host_ok(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-' ||
	    s[len - 1] == '.' || strstr(s, "..") != NULL)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return (0);
	return (1);
}

char *
ingress_backend_name(const char *host)
{
	char	*name, *p;

	/* Hosts hold no '_', so the mapping is one to one. */
	xasprintf(&name, "be_%s", host);
	for (p = name; *p != '\0'; p++)
		if (*p == '.')
			*p = '_';
	return (name);
}

char *
ingress_cfg_address(const char *listen)
{
	const char	*close;
	char		*out;

	if (strncmp(listen, "unix:", 5) == 0)
		xasprintf(&out, "unix@%s", listen + 5);
	else if (listen[0] == '[' && (close = strchr(listen, ']')) != NULL)
		xasprintf(&out, "ipv6@%.*s%s", (int)(close - listen - 1),
		    listen + 1, close + 1);
	else
		out = xstrdup(listen);
	return (out);
}

/* The "server" line of a slot or template: TLS verified against the CA. */
static void
ingress_cfg_tls(FILE *f, const struct ingress_cfg *cfg,
    const struct ingress_service *s)
{
	if (s->tls)
		fprintf(f, " ssl verify required ca-file %s sni str(%s)",
		    cfg->ca_file, s->host);
}

/* One backend: pushed slots first, the SRV-resolved template after them. */
static void
ingress_cfg_backend(FILE *f, const struct ingress_cfg *cfg,
    const struct ingress_service *s)
{
	const struct ingress_slot	*slot;
	size_t				 i;
	int				 v6;

	fprintf(f, "\nbackend %s\n"
	    "\tbalance roundrobin\n", s->backend);
	/* When the fallback serves, it serves with every server it has. */
	if (!s->dns_only && cfg->resolver[0] != '\0')
		fprintf(f, "\toption allbackups\n");
	for (i = 0; !s->dns_only && i < s->nslots; i++) {
		slot = &s->slots[i];
		if (slot->container_id != NULL) {
			v6 = strchr(slot->addr, ':') != NULL;
			fprintf(f, "\tserver s%zu %s%s:%u", i + 1,
			    v6 ? "ipv6@" : "", slot->addr, slot->port);
		} else
			fprintf(f, "\tserver s%zu %s disabled", i + 1,
			    INGRESS_FREE_ADDRESS);
		ingress_cfg_tls(f, cfg, s);
		fputc('\n', f);
	}
	if (cfg->resolver[0] == '\0')
		return;
	/* The fallback: used only when no pushed slot is up. */
	fprintf(f, "\tserver-template dns %u %s.%s.%s resolvers netcrave "
	    "init-addr none resolve-prefer ipv4%s", cfg->slots,
	    INGRESS_SRV_PREFIX, s->host, cfg->zone, s->dns_only ? "" :
	    " backup");
	ingress_cfg_tls(f, cfg, s);
	fputc('\n', f);
}

/* Host routing shared by the public frontends and the WAF's return path. */
static void
ingress_cfg_routes(FILE *f, const struct ingress_cfg *cfg,
    const struct ingress_service *services, size_t n, int public)
{
	const struct ingress_service	*s;
	size_t				 i;

	fprintf(f, "\thttp-request set-var(txn.host) "
	    "req.hdr(host),field(1,:),lower\n");
	if (public && cfg->acme_address[0] != '\0')
		fprintf(f, "\tuse_backend acme if "
		    "{ path_beg /.well-known/acme-challenge/ }\n");
	for (i = 0; i < n; i++) {
		s = &services[i];
		if (public && s->waf_set != NULL &&
		    cfg->waf_address[0] != '\0')
			fprintf(f, "\tuse_backend waf if "
			    "{ var(txn.host) -m str %s }\n", s->host);
		else
			fprintf(f, "\tuse_backend %s if "
			    "{ var(txn.host) -m str %s }\n", s->backend,
			    s->host);
	}
}

char *
ingress_cfg_text(const struct ingress_cfg *cfg,
    const struct ingress_service *services, size_t n)
{
	FILE	*f;
	char	*text = NULL, *a;
	size_t	 len = 0, i;

	if ((f = open_memstream(&text, &len)) == NULL)
		return (NULL);
	fprintf(f, "# haproxy.cfg: written by netcraved; edits are lost.\n"
	    "global\n"
	    "\tstats socket %s mode 600 level admin expose-fd listeners\n"
	    "\tstats timeout 10s\n"
	    "\tssl-default-bind-options ssl-min-ver TLSv1.2\n"
	    "\tssl-server-verify required\n"
	    "\n"
	    "defaults\n"
	    "\tmode http\n"
	    "\ttimeout connect 2s\n"
	    "\ttimeout client 30s\n"
	    "\ttimeout server 30s\n"
	    "\ttimeout http-request 10s\n"
	    "\toption http-server-close\n", cfg->socket);
	if (cfg->resolver[0] != '\0') {
		a = ingress_cfg_address(cfg->resolver);
		fprintf(f, "\nresolvers netcrave\n"
		    "\tnameserver netcraved %s\n"
		    "\taccepted_payload_size 8192\n"
		    "\tresolve_retries 3\n"
		    "\ttimeout resolve %ums\n"
		    "\ttimeout retry 500ms\n"
		    "\thold valid %ums\n"
		    "\thold obsolete %ums\n"
		    "\thold nx %ums\n"
		    "\thold other %ums\n", a, cfg->hold_valid_ms,
		    cfg->hold_valid_ms, cfg->hold_obsolete_ms,
		    cfg->hold_valid_ms, cfg->hold_valid_ms);
		free(a);
	}
	a = ingress_cfg_address(cfg->http_listen);
	fprintf(f, "\nfrontend http\n"
	    "\tbind %s\n", a);
	free(a);
	if (cfg->https_listen[0] != '\0')
		fprintf(f, "\thttp-request redirect scheme https code 301 "
		    "unless { path_beg /.well-known/acme-challenge/ }\n");
	ingress_cfg_routes(f, cfg, services, n, 1);
	if (cfg->https_listen[0] != '\0') {
		a = ingress_cfg_address(cfg->https_listen);
		fprintf(f, "\nfrontend https\n"
		    "\tbind %s ssl crt-list %s\n"
		    "\thttp-request set-header X-Forwarded-Proto https\n", a,
		    cfg->crt_list);
		free(a);
		ingress_cfg_routes(f, cfg, services, n, 1);
	}
	if (cfg->waf_return_listen[0] != '\0') {
		a = ingress_cfg_address(cfg->waf_return_listen);
		fprintf(f, "\n# Squid forwards the traffic it cleaned here.\n"
		    "frontend waf_return\n"
		    "\tbind %s\n", a);
		free(a);
		ingress_cfg_routes(f, cfg, services, n, 0);
	}
	for (i = 0; i < n; i++)
		ingress_cfg_backend(f, cfg, &services[i]);
	if (cfg->acme_address[0] != '\0') {
		a = ingress_cfg_address(cfg->acme_address);
		fprintf(f, "\nbackend acme\n"
		    "\tserver acme %s\n", a);
		free(a);
	}
	if (cfg->waf_address[0] != '\0') {
		a = ingress_cfg_address(cfg->waf_address);
		fprintf(f, "\nbackend waf\n"
		    "\tserver squid %s\n", a);
		free(a);
	}
	if (fclose(f) != 0) {
		free(text);
		return (NULL);
	}
	return (text);
}
