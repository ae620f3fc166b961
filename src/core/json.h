/* json.h: one JSON reader (yajl, comments allowed) into a tree that keeps line:column,
 * used by the config file, the Docker plugin API and every other JSON input. */
#ifndef NETCRAVE_JSON_H
#define NETCRAVE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <yajl/yajl_gen.h>

/* Hostile input is refused before it can exhaust the stack or memory. */
#define JSON_MAX_DEPTH	64		/* nested arrays and objects */
#define JSON_MAX_NODES	100000		/* values in one document */

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
	unsigned int	 key_line;	/* position of the member name's opening quote */
	unsigned int	 key_column;
	unsigned int	 line;		/* 1-based position of the value's first byte */
	unsigned int	 column;	/* counted in characters, not bytes */
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
 * set (the config file), never on the wire.  Nesting deeper than JSON_MAX_DEPTH,
 * more than JSON_MAX_NODES values, duplicate member names, member names holding
 * a NUL byte, invalid UTF-8 and lone UTF-16 surrogates are refused.  Returns NULL
 * and fills err on failure.
 */
struct json	*json_parse(const char *text, size_t len, int allow_comments,
		    struct json_error *err);
void		 json_free(struct json *);

/* Lookup of an object member by name; NULL when absent or not an object. */
const struct json *json_get(const struct json *obj, const char *key);
/* Typed lookups: NULL / -1 when absent or of another type; json_get_string
 * also refuses a string holding a NUL byte, so callers may treat it as C text. */
const char	*json_get_string(const struct json *obj, const char *key);
int		 json_get_bool(const struct json *obj, const char *key, int *out);
/* Integer value of a JSON_NUMBER node in [min, max]: 0, or -1 if not one
 * (fractions and exponents are not integers here). */
int		 json_number_int64(const struct json *, int64_t min, int64_t max,
		    int64_t *out);
const char	*json_type_name(enum json_type);

/* Write len bytes as a quoted JSON string, escaping what JSON requires. */
void		 json_write_string(FILE *, const char *, size_t len);

/* Writing replies: a compact yajl generator (allocation cannot fail) and
 * "key": value members for an open object; a NULL string is written as null. */
yajl_gen	 json_gen_new(void);
void		 json_gen_key(yajl_gen, const char *key);
void		 json_gen_string(yajl_gen, const char *key, const char *value);
void		 json_gen_int(yajl_gen, const char *key, long long value);
void		 json_gen_bool(yajl_gen, const char *key, int value);
/* A NULL-terminated string list (NULL: empty) as an array member. */
void		 json_gen_strv(yajl_gen, const char *key, char *const *list);

#endif
