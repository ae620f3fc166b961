/* server.h: a server is a table entry with init/reload/shutdown; netcraved.c walks
 * the table.  Adding a server touches the table and its own files only. */
#ifndef NETCRAVE_SERVER_H
#define NETCRAVE_SERVER_H

#include <stddef.h>

struct event_base;
struct conf;
struct store;
struct http_limits;

/*
 * The loop's event priorities.  libevent runs the active events of the most
 * urgent priority first; events made without one get the middle (normal).
 * Only the plugin socket is urgent: dockerd's calls are few and blocking for
 * its users, and must not queue behind floods of DNS or WebDAV traffic.
 */
#define NC_EV_PRIORITIES	2
#define NC_EV_PRIO_URGENT	0

/* One live record of the store, as replayed at start. */
struct server_record {
	char		*kind;
	char		*key;
	void		*value;
	size_t		 len;
};

/*
 * What every server is handed at start: the loop, the live config, the store,
 * and the records the store replayed (valid during init only: a server keeps
 * what it needs).
 */
struct server_env {
	struct event_base		*base;
	const struct conf		*conf;
	struct store			*store;
	const struct server_record	*records;
	size_t				 nrecords;
};

struct server {
	const char	*name;
	/* Start serving; -1 with err filled stops the daemon at start-up. */
	int		(*init)(const struct server_env *, char *err, size_t errlen);
	/* Apply a new, already valid config; -1 keeps the old one (err says why). */
	int		(*reload)(const struct conf *old, const struct conf *new,
			    char *err, size_t errlen);
	/* Stop serving: close listeners and connections, remove sockets. */
	void		(*shutdown)(void);
};

/* server.c */
/* The HTTP limits every local socket (plugin, control, metrics) gets from conf. */
void	server_http_limits(const struct conf *, struct http_limits *);
/* Listen on "unix:PATH" or "HOST:PORT" / "[V6]:PORT" (TLS with ssl set). */
struct http_server;
struct ssl_ctx_st;
int	server_http_listen(struct http_server *, const char *listen,
	    struct ssl_ctx_st *ssl, char *err, size_t errlen);

#endif
