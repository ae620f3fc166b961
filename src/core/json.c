/* json.c: the one JSON reader: yajl's callback parser builds a tree that remembers
 * where each value was, so errors can name line:column. */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json.h"
#include "log.h"
#include "xmalloc.h"

/* State of one json_parse call; nothing is global so parses never interfere. */
struct json_parser {
	yajl_handle		 handle;
	const unsigned char	*text;
	size_t			 len;
	int			 finishing;	/* inside yajl_complete_parse */

	struct json		*root;
	struct json		*stack[JSON_MAX_DEPTH];	/* open arrays and objects */
	size_t			 depth;
	size_t			 nodes;

	char			*key;		/* member name waiting for its value */
	unsigned int		 key_line;
	unsigned int		 key_column;

	/* Line counting resumes where it stopped, keeping the parse linear. */
	size_t			 cursor;
	unsigned int		 cursor_line;
	unsigned int		 cursor_column;

	struct json_error	*err;
	int			 failed;	/* err already says why */
};

static int	json_on_null(void *);
static int	json_on_boolean(void *, int);
static int	json_on_number(void *, const char *, size_t);
static int	json_on_string(void *, const unsigned char *, size_t);
static int	json_on_start_map(void *);
static int	json_on_map_key(void *, const unsigned char *, size_t);
static int	json_on_end_map(void *);
static int	json_on_start_array(void *);
static int	json_on_end_array(void *);

static const yajl_callbacks json_callbacks = {
	json_on_null,
	json_on_boolean,
	NULL,			/* integers and doubles arrive as number text */
	NULL,
	json_on_number,
	json_on_string,
	json_on_start_map,
	json_on_map_key,
	json_on_end_map,
	json_on_start_array,
	json_on_end_array
};

/* Turn a byte offset into line:column, counting UTF-8 characters as columns. */
static void
json_position(struct json_parser *jp, size_t offset, unsigned int *line,
    unsigned int *column)
{
	size_t	i;

	if (offset > jp->len)
		offset = jp->len;
	if (offset < jp->cursor) {
		jp->cursor = 0;
		jp->cursor_line = 1;
		jp->cursor_column = 1;
	}
	for (i = jp->cursor; i < offset; i++) {
		if (jp->text[i] == '\n') {
			jp->cursor_line++;
			jp->cursor_column = 1;
		} else if ((jp->text[i] & 0xc0) != 0x80)
			jp->cursor_column++;
	}
	jp->cursor = offset;
	*line = jp->cursor_line;
	*column = jp->cursor_column;
}

/* Offset just past the token yajl has handed us. */
static size_t
json_token_end(struct json_parser *jp)
{
	/* A number at the very end is only seen while finishing, on yajl's own buffer. */
	if (jp->finishing)
		return (jp->len);
	return (yajl_get_bytes_consumed(jp->handle));
}

/* Start of a string token whose closing quote is at end - 1. */
static size_t
json_string_start(struct json_parser *jp, size_t end)
{
	size_t	i, slashes;

	if (end < 2)
		return (0);
	for (i = end - 1; i-- > 0;) {
		if (jp->text[i] != '"')
			continue;
		/* Inside a string a quote is always escaped by an odd run of backslashes. */
		slashes = 0;
		while (i > slashes && jp->text[i - slashes - 1] == '\\')
			slashes++;
		if (slashes % 2 == 0)
			return (i);
	}
	return (0);
}

/* Start of a token made of bytes in set, ending at end. */
static size_t
json_span_start(struct json_parser *jp, size_t end, const char *set)
{
	size_t	i = end;

	while (i > 0 && jp->text[i - 1] != '\0' &&
	    strchr(set, jp->text[i - 1]) != NULL)
		i--;
	return (i);
}

/* Copy s into dst for a message, replacing what would garble a log line. */
static void
json_safe_copy(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len && n + 4 < dstlen; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"')
			dst[n++] = '?';
		else
			dst[n++] = s[i];
	}
	if (i < len) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

/* Record our own error at offset and cancel the parse. */
static int __attribute__((format(printf, 3, 4)))
json_fail(struct json_parser *jp, size_t offset, const char *fmt, ...)
{
	va_list	ap;

	json_position(jp, offset, &jp->err->line, &jp->err->column);
	va_start(ap, fmt);
	vsnprintf(jp->err->message, sizeof jp->err->message, fmt, ap);
	va_end(ap);
	jp->failed = 1;
	return (0);
}

/* Create a node starting at offset and hang it under the open container. */
static struct json *
json_add(struct json_parser *jp, enum json_type type, size_t offset)
{
	struct json	*node, *parent;
	size_t		 n;

	if (++jp->nodes > JSON_MAX_NODES) {
		json_fail(jp, offset, "more than %d values", JSON_MAX_NODES);
		return (NULL);
	}
	node = xcalloc(1, sizeof *node);
	node->type = type;
	json_position(jp, offset, &node->line, &node->column);

	if (jp->depth == 0) {
		jp->root = node;
		return (node);
	}
	parent = jp->stack[jp->depth - 1];
	n = parent->nchildren;
	/* Capacity is the next power of two, so it need not be stored. */
	if (n == 0 || (n & (n - 1)) == 0)
		parent->children = xreallocarray(parent->children,
		    n == 0 ? 1 : n * 2, sizeof *parent->children);
	parent->children[parent->nchildren++] = node;
	if (parent->type == JSON_OBJECT) {
		node->key = jp->key;
		node->key_line = jp->key_line;
		node->key_column = jp->key_column;
		jp->key = NULL;
	}
	return (node);
}

/* null. */
static int
json_on_null(void *arg)
{
	struct json_parser	*jp = arg;

	return (json_add(jp, JSON_NULL, json_token_end(jp) - 4) != NULL);
}

/* true or false. */
static int
json_on_boolean(void *arg, int value)
{
	struct json_parser	*jp = arg;
	struct json		*node;

	node = json_add(jp, JSON_BOOL, json_token_end(jp) - (value ? 4 : 5));
	if (node == NULL)
		return (0);
	node->boolean = value != 0;
	return (1);
}

/* A node's text (string value or number token), NUL-terminated, length kept. */
static void
json_set_text(struct json *node, const char *text, size_t len)
{
	node->string = xmalloc(len + 1);
	memcpy(node->string, text, len);
	node->string[len] = '\0';
	node->string_len = len;
}

/* A number, kept as its text so no precision is lost. */
static int
json_on_number(void *arg, const char *text, size_t len)
{
	struct json_parser	*jp = arg;
	struct json		*node;
	size_t			 end;

	end = json_token_end(jp);
	node = json_add(jp, JSON_NUMBER,
	    json_span_start(jp, end, "0123456789+-.eE"));
	if (node == NULL)
		return (0);
	json_set_text(node, text, len);
	return (1);
}

/* Length of the strict UTF-8 sequence at p (at most avail bytes), 0 if invalid. */
static size_t
json_utf8_length(const unsigned char *p, size_t avail)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* UTF-16 surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return (0);
	if (n > avail || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	}
	return (n);
}

/*
 * yajl accepts overlong and surrogate UTF-8 and turns an unpaired \u surrogate
 * into '?', silently changing the data; look at the raw token between start and
 * end and refuse both instead.
 */
static int
json_check_string(struct json_parser *jp, size_t start, size_t end)
{
	const unsigned char	*p = jp->text;
	unsigned long		 unit;
	size_t			 i, n;
	int			 want_low = 0, is_low;
	char			 hex[5];

	for (i = start + 1; i + 1 < end; i++) {
		is_low = 0;
		if (p[i] == '\\' && p[i + 1] == 'u' && i + 6 < end) {
			memcpy(hex, p + i + 2, 4);
			hex[4] = '\0';
			unit = strtoul(hex, NULL, 16);
			is_low = unit >= 0xdc00 && unit <= 0xdfff;
			if (is_low != want_low)
				return (json_fail(jp, i,
				    "unpaired UTF-16 surrogate"));
			want_low = unit >= 0xd800 && unit <= 0xdbff;
			i += 5;
			continue;
		}
		if (want_low)
			return (json_fail(jp, i, "unpaired UTF-16 surrogate"));
		if (p[i] == '\\')
			i++;
		else if (p[i] >= 0x80) {
			if ((n = json_utf8_length(p + i, end - 1 - i)) == 0)
				return (json_fail(jp, i,
				    "invalid bytes in UTF8 string"));
			i += n - 1;
		}
	}
	if (want_low)
		return (json_fail(jp, end - 1, "unpaired UTF-16 surrogate"));
	return (1);
}

/* A string value; it may hold NUL bytes, so its length is kept. */
static int
json_on_string(void *arg, const unsigned char *text, size_t len)
{
	struct json_parser	*jp = arg;
	struct json		*node;
	size_t			 end, start;

	end = json_token_end(jp);
	start = json_string_start(jp, end);
	if (!json_check_string(jp, start, end))
		return (0);
	if ((node = json_add(jp, JSON_STRING, start)) == NULL)
		return (0);
	json_set_text(node, (const char *)text, len);
	return (1);
}

/* Open a container; the depth check keeps json_free's recursion bounded. */
static int
json_open(struct json_parser *jp, enum json_type type)
{
	struct json	*node;
	size_t		 start;

	start = json_token_end(jp) - 1;
	if (jp->depth == JSON_MAX_DEPTH)
		return (json_fail(jp, start, "nested deeper than %d levels",
		    JSON_MAX_DEPTH));
	if ((node = json_add(jp, type, start)) == NULL)
		return (0);
	jp->stack[jp->depth++] = node;
	return (1);
}

/* {. */
static int
json_on_start_map(void *arg)
{
	return (json_open(arg, JSON_OBJECT));
}

/* [. */
static int
json_on_start_array(void *arg)
{
	return (json_open(arg, JSON_ARRAY));
}

/* A member name; held until its value arrives. */
static int
json_on_map_key(void *arg, const unsigned char *text, size_t len)
{
	struct json_parser	*jp = arg;
	size_t			 end, start;

	end = json_token_end(jp);
	start = json_string_start(jp, end);
	if (!json_check_string(jp, start, end))
		return (0);
	if (memchr(text, '\0', len) != NULL)
		return (json_fail(jp, start, "member name contains a NUL byte"));
	json_position(jp, start, &jp->key_line, &jp->key_column);
	free(jp->key);
	jp->key = xmalloc(len + 1);
	memcpy(jp->key, text, len);
	jp->key[len] = '\0';
	return (1);
}

/* Order members by name, then by position, so the later duplicate comes second. */
static int
json_member_cmp(const void *a, const void *b)
{
	const struct json	*x = *(const struct json *const *)a;
	const struct json	*y = *(const struct json *const *)b;
	int			 c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return (c);
	if (x->key_line != y->key_line)
		return (x->key_line < y->key_line ? -1 : 1);
	if (x->key_column != y->key_column)
		return (x->key_column < y->key_column ? -1 : 1);
	return (0);
}

/* Report a member whose name already appeared in the same object. */
static int
json_duplicate(struct json_parser *jp, const struct json *member)
{
	char	name[80];

	json_safe_copy(name, sizeof name, member->key, strlen(member->key));
	jp->err->line = member->key_line;
	jp->err->column = member->key_column;
	snprintf(jp->err->message, sizeof jp->err->message,
	    "duplicate member \"%s\"", name);
	jp->failed = 1;
	return (0);
}

/* Close an object after making sure no name appears twice in it. */
static int
json_on_end_map(void *arg)
{
	struct json_parser	 *jp = arg;
	struct json		 *obj = jp->stack[jp->depth - 1];
	struct json		**sorted;
	size_t			  i, j, n = obj->nchildren;
	int			  ok = 1;

	if (n <= 16) {
		/* Small objects, nearly all of them: compare pairwise. */
		for (j = 1; j < n; j++) {
			for (i = 0; i < j; i++) {
				if (strcmp(obj->children[i]->key,
				    obj->children[j]->key) == 0)
					return (json_duplicate(jp,
					    obj->children[j]));
			}
		}
	} else {
		/* Large ones: sort a copy, so hostile input stays n log n. */
		sorted = xreallocarray(NULL, n, sizeof *sorted);
		memcpy(sorted, obj->children, n * sizeof *sorted);
		qsort(sorted, n, sizeof *sorted, json_member_cmp);
		for (i = 1; i < n; i++) {
			if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0) {
				ok = json_duplicate(jp, sorted[i]);
				break;
			}
		}
		free(sorted);
		if (!ok)
			return (0);
	}
	jp->depth--;
	return (1);
}

/* ]. */
static int
json_on_end_array(void *arg)
{
	struct json_parser	*jp = arg;

	jp->depth--;
	return (1);
}

/* First byte of the bad UTF-8 sequence in the string holding offset last. */
static size_t
json_bad_utf8_offset(struct json_parser *jp, size_t last)
{
	size_t	i, n;

	/* last is the bad byte, or the closing quote after a cut sequence. */
	i = json_string_start(jp, jp->text[last] == '"' ? last + 1 : last + 2);
	for (i++; i < last; i += n) {
		if ((n = json_utf8_length(jp->text + i, last - i)) == 0)
			return (i);
	}
	return (last);
}

/* Offset where the token yajl choked on begins, for a readable position. */
static size_t
json_error_offset(struct json_parser *jp, const char *message)
{
	size_t	end, last;

	if (jp->finishing)
		return (jp->len);
	end = yajl_get_bytes_consumed(jp->handle);
	if (end > jp->len)
		end = jp->len;
	if (end == 0)
		return (0);
	last = end - 1;
	if (strncmp(message, "lexical", 7) == 0) {
		/* yajl stops past a bad byte here, in front of it elsewhere. */
		if (strstr(message, "UTF8") != NULL)
			return (json_bad_utf8_offset(jp, last));
		if (strstr(message, "invalid char in json text") != NULL ||
		    end == jp->len)
			return (last);
		return (end);
	}
	/* A parse error is about the whole token just read. */
	switch (jp->text[last]) {
	case '"':
		return (json_string_start(jp, end));
	case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return (json_span_start(jp, end, "0123456789+-.eE"));
	case 'e':
	case 'l':
		return (json_span_start(jp, end, "truefalsn"));
	default:
		return (last);
	}
}

/* Fill err from yajl's own description of a syntax error. */
static void
json_syntax_error(struct json_parser *jp)
{
	unsigned char	*yerr;
	const char	*message;
	size_t		 len;

	yerr = yajl_get_error(jp->handle, 0, jp->text, jp->len);
	message = yerr != NULL ? (const char *)yerr : "syntax error";
	json_position(jp, json_error_offset(jp, message), &jp->err->line,
	    &jp->err->column);
	if (jp->root == NULL && jp->finishing)
		message = "empty document";
	else if (strncmp(message, "lexical error: ", 15) == 0)
		message += 15;
	else if (strncmp(message, "parse error: ", 13) == 0)
		message += 13;
	snprintf(jp->err->message, sizeof jp->err->message, "%s", message);
	/* yajl ends its messages with ".\n" or "\n". */
	len = strlen(jp->err->message);
	while (len > 0 && (jp->err->message[len - 1] == '\n' ||
	    jp->err->message[len - 1] == '.' || jp->err->message[len - 1] == ' '))
		jp->err->message[--len] = '\0';
	if (yerr != NULL)
		yajl_free_error(jp->handle, yerr);
}

/* Parse a whole document held in memory. */
struct json *
json_parse(const char *text, size_t len, int allow_comments,
    struct json_error *err)
{
	struct json_parser	jp;
	struct json_error	scratch;
	yajl_status		status;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof *err);
	memset(&jp, 0, sizeof jp);
	jp.text = (const unsigned char *)text;
	jp.len = len;
	jp.cursor_line = jp.cursor_column = 1;
	jp.err = err;

	if ((jp.handle = yajl_alloc(&json_callbacks, NULL, &jp)) == NULL) {
		snprintf(err->message, sizeof err->message, "out of memory");
		return (NULL);
	}
	yajl_config(jp.handle, yajl_allow_comments, allow_comments ? 1 : 0);
	yajl_config(jp.handle, yajl_dont_validate_strings, 0);

	/* The whole text in one call, so token offsets index text directly. */
	status = yajl_parse(jp.handle, jp.text, len);
	if (status == yajl_status_ok) {
		jp.finishing = 1;
		status = yajl_complete_parse(jp.handle);
	}
	if (status != yajl_status_ok) {
		if (!jp.failed)
			json_syntax_error(&jp);
		json_free(jp.root);
		jp.root = NULL;
	} else if (jp.root == NULL) {
		/* Not expected from yajl, but never hand back an empty success. */
		json_position(&jp, len, &err->line, &err->column);
		snprintf(err->message, sizeof err->message, "empty document");
	}
	free(jp.key);
	yajl_free(jp.handle);
	return (jp.root);
}

/* Free a tree; depth is bounded by JSON_MAX_DEPTH so recursion is safe. */
void
json_free(struct json *node)
{
	size_t	i;

	if (node == NULL)
		return;
	for (i = 0; i < node->nchildren; i++)
		json_free(node->children[i]);
	free(node->children);
	free(node->key);
	free(node->string);
	free(node);
}

/* Member of obj named key (the last one can never differ: duplicates are refused). */
const struct json *
json_get(const struct json *obj, const char *key)
{
	size_t	i;

	if (obj == NULL || obj->type != JSON_OBJECT)
		return (NULL);
	for (i = 0; i < obj->nchildren; i++) {
		if (strcmp(obj->children[i]->key, key) == 0)
			return (obj->children[i]);
	}
	return (NULL);
}

/* String member as C text. */
const char *
json_get_string(const struct json *obj, const char *key)
{
	const struct json	*node;

	node = json_get(obj, key);
	if (node == NULL || node->type != JSON_STRING ||
	    strlen(node->string) != node->string_len)
		return (NULL);
	return (node->string);
}

/* Boolean member. */
int
json_get_bool(const struct json *obj, const char *key, int *out)
{
	const struct json	*node;

	node = json_get(obj, key);
	if (node == NULL || node->type != JSON_BOOL)
		return (-1);
	*out = node->boolean;
	return (0);
}

/* Strict integer: optional minus, digits, nothing else, and within [min, max]. */
int
json_number_int64(const struct json *node, int64_t min, int64_t max,
    int64_t *out)
{
	const char	*p;
	uint64_t	 magnitude = 0, limit;
	int		 negative = 0;
	int64_t		 value;

	if (node == NULL || node->type != JSON_NUMBER || node->string_len == 0)
		return (-1);
	p = node->string;
	if (*p == '-') {
		negative = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return (-1);
	if (p[0] == '0' && p[1] != '\0')
		return (-1);
	limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
		if (magnitude > (limit - (uint64_t)(*p - '0')) / 10)
			return (-1);
		magnitude = magnitude * 10 + (uint64_t)(*p - '0');
	}
	if (negative)
		value = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN :
		    -(int64_t)magnitude;
	else
		value = (int64_t)magnitude;
	if (value < min || value > max)
		return (-1);
	*out = value;
	return (0);
}

/* Name of a type for error messages. */
const char *
json_type_name(enum json_type type)
{
	switch (type) {
	case JSON_NULL:
		return ("null");
	case JSON_BOOL:
		return ("boolean");
	case JSON_NUMBER:
		return ("number");
	case JSON_STRING:
		return ("string");
	case JSON_ARRAY:
		return ("array");
	case JSON_OBJECT:
		return ("object");
	}
	return ("unknown");
}

/* Quoted, escaped string; bytes above 0x7f pass through as UTF-8. */
void
json_write_string(FILE *f, const char *s, size_t len)
{
	unsigned char	c;
	size_t		i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
			break;
		}
	}
	fputc('"', f);
}

/* A compact generator for a reply; allocation failure is fatal like xmalloc. */
yajl_gen
json_gen_new(void)
{
	yajl_gen	g;

	if ((g = yajl_gen_alloc(NULL)) == NULL)
		fatalx("%s: yajl_gen_alloc", __func__);
	return (g);
}

/* A member name in an open object. */
void
json_gen_key(yajl_gen g, const char *key)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

/* "key": "value", or "key": null for a NULL value. */
void
json_gen_string(yajl_gen g, const char *key, const char *value)
{
	json_gen_key(g, key);
	if (value == NULL)
		yajl_gen_null(g);
	else
		yajl_gen_string(g, (const unsigned char *)value, strlen(value));
}

/* "key": integer. */
void
json_gen_int(yajl_gen g, const char *key, long long value)
{
	json_gen_key(g, key);
	yajl_gen_integer(g, value);
}

/* "key": true|false. */
void
json_gen_bool(yajl_gen g, const char *key, int value)
{
	json_gen_key(g, key);
	yajl_gen_bool(g, value);
}

void
json_gen_strv(yajl_gen g, const char *key, char *const *list)
{
	json_gen_key(g, key);
	yajl_gen_array_open(g);
	for (; list != NULL && *list != NULL; list++)
		yajl_gen_string(g, (const unsigned char *)*list, strlen(*list));
	yajl_gen_array_close(g);
}
