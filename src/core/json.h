/* json.h: one JSON reader (yajl, comments allowed) into a tree that keeps line:column,
 * used by the config file, the Docker plugin API and every other JSON input. */
#ifndef NETCRAVE_JSON_H
#define NETCRAVE_JSON_H

#include <stddef.h>
#include <stdint.h>

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json {
	enum json_type	 type;
	char		*key;		/* member name when the parent is an object */
	unsigned int	 line;		/* 1-based position of the value's first byte */
	unsigned int	 column;
	int		 boolean;
	char		*string;	/* JSON_STRING value, or JSON_NUMBER text */
	size_t		 string_len;	/* may contain NUL bytes (\u0000) */
	struct json	**children;	/* array elements or object members, in order */
	size_t		 nchildren;
};

struct json_error {
	unsigned int	 line;
	unsigned int	 column;
	char		 message[256];
};

/*
 * Parse len bytes into a tree.  Comments are allowed only when allow_comments is
 * set (the config file), never on the wire.  Nesting deeper than max_depth or
 * more than max_nodes values is refused.  Returns NULL and fills err on failure.
 */
struct json	*json_parse(const char *text, size_t len, int allow_comments,
		    struct json_error *err);
void		 json_free(struct json *);

/* Lookup of an object member by name; NULL when absent or not an object. */
const struct json *json_get(const struct json *obj, const char *key);
/* Typed lookups: return NULL / -1 when absent or of another type. */
const char	*json_get_string(const struct json *obj, const char *key);
int		 json_get_bool(const struct json *obj, const char *key, int *out);
/* Integer value of a JSON_NUMBER node in [min, max]; -1 if not one. */
int		 json_number_int64(const struct json *, int64_t min, int64_t max,
		    int64_t *out);
const char	*json_type_name(enum json_type);

#endif
