/* nft.c: the tag policy in nftables.  One table (inet) in the routing namespace;
 * each change rewrites all of it in one transaction ("add; delete; define" in one
 * buffer), so the kernel never sees a half-made policy. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "log.h"
#include "netns.h"
#include "nft.h"
#include "xmalloc.h"

static int
nft_has(char *const *v, const char *s)
{
	for (; v != NULL && *v != NULL; v++)
		if (strcmp(*v, s) == 0)
			return (1);
	return (0);
}

int
nft_allowed(const struct net_network *a, const struct net_network *b)
{
	if (a == b || strcmp(a->id, b->id) == 0)
		return (1);
	return (nft_has(a->egress, b->tag) && nft_has(b->ingress, a->tag));
}

char *
nft_ruleset(const struct nft_model *m)
{
	FILE	*f;
	char	*text = NULL;
	size_t	 len = 0, i, j;

	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	/* Declare first so the delete always has something to remove. */
	fprintf(f, "table inet %s\ndelete table inet %s\n", m->table, m->table);
	fprintf(f, "table inet %s {\n", m->table);
	fprintf(f, "\tchain forward {\n");
	fprintf(f, "\t\ttype filter hook forward priority filter; "
	    "policy accept;\n");
	fprintf(f, "\t\tct state established,related accept\n");
	for (i = 0; i < m->nnetworks; i++) {
		for (j = 0; j < m->nnetworks; j++) {
			if (!nft_allowed(m->networks[i], m->networks[j]))
				continue;
			fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" accept\n",
			    m->networks[i]->bridge, m->networks[j]->bridge);
		}
	}
	if (m->nnetworks > 0) {
		/* Everything else between networks is dropped. */
		fprintf(f, "\t\tiifname {");
		for (i = 0; i < m->nnetworks; i++)
			fprintf(f, "%s \"%s\"", i > 0 ? "," : "",
			    m->networks[i]->bridge);
		fprintf(f, " } oifname {");
		for (i = 0; i < m->nnetworks; i++)
			fprintf(f, "%s \"%s\"", i > 0 ? "," : "",
			    m->networks[i]->bridge);
		fprintf(f, " } drop\n");
	}
	fprintf(f, "\t}\n}\n");
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return (text);
}

int
nft_apply(int nsfd, const char *text, char *err, size_t errlen)
{
	struct nft_ctx	*ctx;
	const char	*msg;
	int		 rc;

	if (netns_enter(nsfd) == -1) {
		snprintf(err, errlen, "setns: %s", strerror(errno));
		return (-1);
	}
	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		netns_leave();
		snprintf(err, errlen, "nft_ctx_new failed");
		return (-1);
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	rc = nft_run_cmd_from_buffer(ctx, text);
	if (rc != 0) {
		msg = nft_ctx_get_error_buffer(ctx);
		snprintf(err, errlen, "%s", msg != NULL && *msg != '\0' ? msg :
		    "ruleset refused");
	}
	nft_ctx_free(ctx);
	netns_leave();
	return (rc != 0 ? -1 : 0);
}
