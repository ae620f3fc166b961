/* waf_private.h: the shape of the built-in rule table (waf_default.c), read
 * by waf.c with the same checks as rule files. */
#ifndef NETCRAVE_WAF_PRIVATE_H
#define NETCRAVE_WAF_PRIVATE_H

#include "waf.h"

struct waf_builtin_condition {
	const char	*targets;	/* "args|cookies"; NULL ends the list */
	const char	*transforms;	/* "url|html|lower", may be NULL */
	const char	*op;
	const char	*value;
	int		 negate;
};

struct waf_builtin_rule {
	const char			*id;	/* NULL ends the table */
	enum waf_action			 action;
	const char			*message;
	struct waf_builtin_condition	 conditions[4];
};

extern const struct waf_builtin_rule waf_builtin_rules[];

#endif
