/* waf.h: the web-application firewall engine: named rule sets of conditions on
 * decoded parts of an HTTP request or response, and one verdict per message. */
#ifndef NETCRAVE_WAF_H
#define NETCRAVE_WAF_H

#include <stddef.h>

#define WAF_MAX_RULES		1024	/* per set */
#define WAF_MAX_CONDITIONS	8	/* per rule */
#define WAF_MAX_VALUES		4096	/* pieces one message is split into */
#define WAF_MAX_HEADERS		128	/* per HTTP message */

enum waf_action {
	WAF_ALLOW,		/* stop evaluating: the message passes */
	WAF_LOG,		/* log and go on */
	WAF_BLOCK		/* answer 403 with an incident id */
};

struct waf_header {
	const char	*name;
	size_t		 name_len;
	const char	*value;
	size_t		 value_len;
};

/* One HTTP exchange as ICAP hands it over: a request (REQMOD) or a request and
 * its response (RESPMOD).  Nothing is owned; strings need not be NUL-terminated. */
struct waf_message {
	const char		*method;
	size_t			 method_len;
	const char		*target;	/* request-target as sent */
	size_t			 target_len;
	const char		*version;	/* "HTTP/1.1" */
	size_t			 version_len;
	const struct waf_header	*headers;
	size_t			 nheaders;
	const char		*body;		/* request body, de-chunked */
	size_t			 body_len;
	int			 body_truncated; /* only a prefix was kept */

	int			 has_response;
	int			 status;
	const struct waf_header	*response_headers;
	size_t			 nresponse_headers;
	const char		*response_body;
	size_t			 response_body_len;
};

/* The start line and header fields of an HTTP message head, pointing into the
 * buffer it was parsed from. */
struct waf_head {
	const char		*start[3];	/* method target version, or
						   version status reason */
	size_t			 start_len[3];
	struct waf_header	 headers[WAF_MAX_HEADERS];
	size_t			 nheaders;
};

struct waf_verdict {
	enum waf_action	 action;	/* WAF_ALLOW when nothing blocked */
	char		 rule_id[64];	/* the deciding rule, "" when none */
	char		 message[128];
	int		 logged;	/* rules with action log that matched */
};

struct waf_ruleset;
struct json;

/* The built-in set "default": SQL injection, XSS, path traversal, command
 * injection and protocol anomalies. */
struct waf_ruleset	*waf_ruleset_default(void);
/* A set from the JSON syntax of netcraved.conf(5); NULL with err on error. */
struct waf_ruleset	*waf_ruleset_from_json(const char *name,
			    const struct json *, char *err, size_t errlen);
/* Read a rule file (a JSON object with "name" and "rules"). */
struct waf_ruleset	*waf_ruleset_load(const char *path, char *err,
			    size_t errlen);
void			 waf_ruleset_free(struct waf_ruleset *);
const char		*waf_ruleset_name(const struct waf_ruleset *);
size_t			 waf_ruleset_count(const struct waf_ruleset *);

enum waf_part {
	WAF_PART_REQUEST_BODY,	/* args, arg_names, filenames, body */
	WAF_PART_RESPONSE	/* status, response headers and body */
};
/* Does any rule of the set read that part?  When none does, ICAP answers
 * without waiting for it. */
int			 waf_ruleset_reads(const struct waf_ruleset *,
			    enum waf_part);

/* Judge a message (RESPMOD: request and response both). */
void	waf_inspect(const struct waf_ruleset *, const struct waf_message *,
	    struct waf_verdict *);

/* Decoding transforms, exposed for tests: each rewrites buf in place (its
 * length never grows) and returns the new length. */
size_t	waf_decode_url(char *buf, size_t len, int plus_is_space);
size_t	waf_decode_html(char *buf, size_t len);
size_t	waf_lowercase(char *buf, size_t len);
size_t	waf_normalise_path(char *buf, size_t len);
size_t	waf_compress_space(char *buf, size_t len);
size_t	waf_remove_comments(char *buf, size_t len);

/*
 * Split an HTTP/1.x head (start line, fields, optional empty line; CRLF or LF)
 * of len bytes.  -1 when it is not one: a start line without three parts, a
 * field without a name or colon, folded lines, control bytes, more than
 * WAF_MAX_HEADERS fields.
 */
int	waf_parse_head(const char *buf, size_t len, struct waf_head *);

/* A request message (no body, no response) viewing a parsed request head. */
void	waf_message_from_head(struct waf_message *, const struct waf_head *);

/* 16 hex digits and a NUL: the id a block page and the log line share. */
void	waf_incident_id(char out[17]);

#endif
