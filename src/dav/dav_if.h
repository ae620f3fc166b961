/* dav_if.h: the WebDAV If header (RFC 4918 section 10.4): tagged and untagged
 * lists of state tokens and entity tags, each maybe negated. */
#ifndef NETCRAVE_DAV_IF_H
#define NETCRAVE_DAV_IF_H

#include <stddef.h>

#define DAV_IF_MAX_LISTS	64
#define DAV_IF_MAX_CONDS	64	/* per list */

struct dav_if_cond {
	int		 negate;	/* "Not" */
	int		 is_etag;	/* [etag] rather than <state-token> */
	char		*value;		/* token URI without <>, or etag with quotes */
};

struct dav_if_list {
	char			*tag;	/* Resource-Tag URI without <>, NULL untagged */
	struct dav_if_cond	*conds;
	size_t			 nconds;
};

struct dav_if {
	struct dav_if_list	*lists;
	size_t			 nlists;
};

/* Parse a header value; -1 with the reason and offset in err. */
int	dav_if_parse(const char *value, struct dav_if *, char *err, size_t errlen);
void	dav_if_free(struct dav_if *);

#endif
