/* dockerd_private.h: the pure parts of the dockerd follower (framing of the event
 * stream, reading events and container JSON), apart for unit tests and fuzzing. */
#ifndef NETCRAVE_DOCKERD_PRIVATE_H
#define NETCRAVE_DOCKERD_PRIVATE_H

#include <stddef.h>

#include "dockerd.h"
#include "json.h"

/* One JSON object of the stream, buffered until it is whole. */
#define DOCKERD_MAX_OBJECT	(1024 * 1024)

/*
 * Framing of GET /events: JSON objects one after another, usually one a line,
 * but a read may end inside an object or hold several.  The splitter tracks
 * strings and nesting across reads and hands each whole object on.
 */
struct dockerd_splitter {
	char		*buf;		/* bytes of the object being read */
	size_t		 len;
	size_t		 cap;
	unsigned int	 depth;		/* open { and [ */
	int		 in_string;
	int		 escape;	/* the last byte was a backslash in a string */
};

/* fn gets each whole object; it returns 0 to go on, -1 to stop (returned). */
typedef int	(*dockerd_object_fn)(const char *text, size_t len, void *arg);
/*
 * Feed bytes.  Whitespace between objects is skipped; anything else outside an
 * object, an object over DOCKERD_MAX_OBJECT or nested deeper than JSON allows
 * is an error: -1 with err filled (the stream is then unusable: reset it).
 */
int	dockerd_split_feed(struct dockerd_splitter *, const void *data, size_t len,
	    dockerd_object_fn fn, void *arg, char *err, size_t errlen);
void	dockerd_split_reset(struct dockerd_splitter *);

/* What the follower acts on in one event. */
enum dockerd_event_kind {
	DOCKERD_EVENT_OTHER,		/* nothing to do */
	DOCKERD_EVENT_REFRESH,		/* inspect the container again */
	DOCKERD_EVENT_GONE		/* the container stopped or went away */
};

struct dockerd_event {
	enum dockerd_event_kind	 kind;
	const char		*container;	/* the container's id (points into the json) */
	const char		*action;	/* "start", "connect", ... */
};

/* Read an event object; -1 with err filled when it is not one. */
int	dockerd_event_read(const struct json *, struct dockerd_event *,
	    char *err, size_t errlen);
/* A container from GET /containers/{id}/json; NULL with err filled. */
struct dockerd_container *dockerd_container_read(const struct json *,
	    char *err, size_t errlen);
/* A container back in the inspection's shape, the fields the reader takes
 * (Id, Name, State.Running, Config.Labels, NetworkSettings.Networks): what
 * the other hosts of a cluster read with dockerd_container_read. */
void	 dockerd_container_gen(yajl_gen, const struct dockerd_container *);
/* The ids of GET /containers/json, NULL-terminated; NULL with err filled. */
char	**dockerd_list_read(const struct json *, char *err, size_t errlen);
void	 dockerd_container_free(struct dockerd_container *);
/* Same name, labels, running state and endpoints? */
int	 dockerd_container_equal(const struct dockerd_container *,
	    const struct dockerd_container *);
/* Append s (taken) to the NULL-terminated list *v of *n entries. */
void	 dockerd_strv_push(char ***v, size_t *n, char *s);
/* The tags of a label value "a, b,c": NULL-terminated, empty entries dropped. */
char	**dockerd_tags_split(const char *value);

#endif
