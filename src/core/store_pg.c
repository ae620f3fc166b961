/* store_pg.c: the shared store backend: records in PostgreSQL or CockroachDB
 * through libpq, driven from the event loop, followed by every host of a
 * cluster through a per-record change version (see doc/store.md). */
#include "config.h"

#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "log.h"
#include "store_private.h"
#include "util.h"
#include "xmalloc.h"

/* Schema versions this netcraved knows how to create and migrate to. */
#define PG_SCHEMA_VERSION	1

#define PG_NONCE_BYTES		12
#define PG_TAG_BYTES		CRYPTO_TAG_BYTES
#define PG_SEAL_VERSION		1	/* first byte of every sealed value */
#define PG_SEAL_OVERHEAD	(1 + PG_NONCE_BYTES + PG_TAG_BYTES)
#define PG_KEYCHECK		"netcrave store key check"

#define PG_POLL_ROWS		1000	/* changes read per poll: pg_sql_poll */
#define PG_RETRY_MAX		200	/* serialization failures before giving up */
#define PG_BACKOFF_MIN_MS	100
#define PG_BACKOFF_MAX_MS	5000
#define PG_CONNECT_TIMEOUT_MS	10000

/* Binary parameter and result types (pg_type OIDs, the same in CockroachDB). */
#define PG_OID_BYTEA		17
#define PG_OID_INT8		20
#define PG_OID_TEXT		25

/*
 * Every change takes the next value of the one 'changes' counter in the same
 * statement.  The counter row is a serialisation point: a version is only
 * handed out once the change holding the previous one has committed, so
 * versions become visible in order and a follower reading "version > last"
 * never skips one.  A sequence would not do: its values commit out of order.
 */
#define PG_SQL_NEXT_VERSION \
	"WITH v AS (UPDATE netcrave_meta SET counter = counter + 1 " \
	"WHERE name = 'changes' RETURNING counter) "
#define PG_SQL_UPSERT \
	PG_SQL_NEXT_VERSION \
	"INSERT INTO netcrave_records (kind, key, value, version, writer, " \
	"deleted) SELECT $1, $2, $3, v.counter, $4, false FROM v " \
	"ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, " \
	"version = excluded.version, writer = excluded.writer, deleted = false "

static const char pg_sql_put[] = PG_SQL_UPSERT "RETURNING version";

/*
 * Insert: only over a deleted record, or over this very change when a retry
 * follows a lost connection that had in fact committed it (the writer token
 * is unique per change).  No row back means a live record holds the key.
 */
static const char pg_sql_insert[] = PG_SQL_UPSERT
	"WHERE netcrave_records.deleted OR "
	"netcrave_records.writer = excluded.writer "
	"RETURNING version";

/* A delete leaves a tombstone so other hosts see it through its version. */
static const char pg_sql_del[] = PG_SQL_NEXT_VERSION
	"UPDATE netcrave_records SET value = NULL, deleted = true, "
	"version = v.counter, writer = $3 FROM v "
	"WHERE kind = $1 AND key = $2 AND NOT deleted";

/*
 * Delete unless a live reference remains, in one statement: the references are
 * counted in the same snapshot the record is deleted in, so of hosts each
 * dropping its own reference and then running this, the last to run sees
 * none.  $6 is a writer prefix the record must have ("origin:" for mine, or
 * empty).  Retried after a lost connection that had committed it, the
 * tombstone is this change's own (writer) and it reports the delete again.
 * Back: references, rows deleted, live records (before) of the writer.
 */
static const char pg_sql_del_unless[] = PG_SQL_NEXT_VERSION
	", r AS (SELECT count(*) AS n FROM netcrave_records WHERE kind = $4 "
	"AND substr(key, 1, length($5)) = $5 AND NOT deleted), "
	"e AS (SELECT count(*) AS n FROM netcrave_records WHERE kind = $1 AND "
	"key = $2 AND NOT deleted AND substr(writer, 1, length($6)) = $6), "
	"d AS (UPDATE netcrave_records SET value = NULL, deleted = true, "
	"version = v.counter, writer = $3 FROM v, r WHERE kind = $1 AND "
	"key = $2 AND r.n = 0 AND ((NOT deleted AND "
	"substr(writer, 1, length($6)) = $6) OR writer = $3) RETURNING 1) "
	"SELECT (SELECT n FROM r), (SELECT count(*) FROM d), (SELECT n FROM e)";

static const char pg_sql_poll[] =
	"SELECT version, kind, key, value, deleted, writer FROM netcrave_records "
	"WHERE version > $1 ORDER BY version LIMIT 1000";

static const char pg_sql_load[] =
	"SELECT kind, key, value, version, deleted FROM netcrave_records "
	"ORDER BY kind, key";

/* Version 1 of the schema; each statement may be run again harmlessly. */
static const char *const pg_schema_v1[] = {
	"CREATE TABLE IF NOT EXISTS netcrave_meta (name TEXT PRIMARY KEY, "
	"counter INT8 NOT NULL DEFAULT 0, value BYTEA)",
	"CREATE TABLE IF NOT EXISTS netcrave_records (kind TEXT NOT NULL, "
	"key TEXT NOT NULL, value BYTEA, version INT8 NOT NULL, "
	"writer TEXT NOT NULL, deleted BOOL NOT NULL DEFAULT false, "
	"PRIMARY KEY (kind, key))",
	"CREATE INDEX IF NOT EXISTS netcrave_records_version ON "
	"netcrave_records (version)",
	"INSERT INTO netcrave_meta (name, counter) VALUES ('changes', 0) "
	"ON CONFLICT (name) DO NOTHING",
	NULL
};

enum pg_op_type {
	PG_OP_PUT,
	PG_OP_INSERT,
	PG_OP_DEL,
	PG_OP_DEL_UNLESS,
	PG_OP_POLL,
	PG_OP_SETUP,		/* per-connection settings, first after connect */
	PG_OP_LISTEN,		/* LISTEN, where the server has it */
	PG_OP_NOTIFY		/* wake the other hosts' LISTEN */
};
#define PG_NOTIFY_CHANNEL	"netcrave_changes"
#define PG_NOTIFY_MS		10	/* changes that share one NOTIFY */

/* One statement waiting for, or running on, the connection. */
struct pg_op {
	enum pg_op_type		 type;
	char			*kind;
	char			*key;
	char			*ref_kind;	/* del_unless */
	char			*ref_prefix;
	char			*writer_prefix;	/* "" or this origin's */
	unsigned char		*sealed;
	size_t			 sealed_len;
	char			*writer;	/* unique per change, kept on retry */
	store_done_cb		 cb;
	void			*arg;
	unsigned int		 retries;	/* serialization failures so far */
	struct timeval		 queued;
	TAILQ_ENTRY(pg_op)	 entry;
};
TAILQ_HEAD(pg_op_queue, pg_op);

enum pg_conn_state {
	PG_DOWN,		/* waiting to reconnect */
	PG_CONNECTING,		/* PQconnectPoll under way */
	PG_READY		/* statements run one at a time */
};

struct pg_state {
	struct store		*s;
	const char		*keywords[16];
	char			*values[16];
	PGconn			*conn;
	enum pg_conn_state	 state;
	PostgresPollingStatusType poll;
	struct event		*ev_read;	/* persistent on the socket */
	struct event		*ev_write;	/* one-shot, while output is queued */
	struct event		*ev_timer;	/* reconnect, retry or connect timeout */
	struct event		*ev_poll;	/* follow other hosts */
	struct event		*ev_expire;	/* fail changes that waited too long */
	struct event		*ev_notify;	/* NOTIFY for recent changes */
	struct pg_op_queue	 queue;		/* head is in flight when busy */
	size_t			 nqueued;
	size_t			 nchanges;	/* of them callers' changes */
	int			 busy;		/* head sent, result not yet in */
	int			 waiting;	/* a retry timer holds the head back */
	PGresult		*result;	/* first result of the head */
	unsigned int		 backoff_ms;
	unsigned int		 poll_ms;
	unsigned int		 timeout_ms;
	size_t			 queue_max;
	int64_t			 last_version;	/* highest change seen */
	int			 notify;	/* LISTEN works: NOTIFY after changes */
	char			 origin[33];	/* this process, in writer tokens */
	uint64_t		 seq;
	char			 lasterr[256];
};

static void	pg_connect_start(struct pg_state *);
static void	pg_kick(struct pg_state *);
static void	pg_lost(struct pg_state *, const char *);

/* Milliseconds as a timeval. */
static struct timeval
pg_tv(unsigned int ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return (tv);
}

/* libpq's error message on one line, without the trailing newline. */
static void
pg_message(const char *msg, char *buf, size_t len)
{
	char	*p;

	snprintf(buf, len, "%s", msg != NULL && *msg != '\0' ? msg :
	    "unknown error");
	for (p = buf; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\t')
			*p = p[1] == '\0' ? '\0' : ' ';
	}
}

/* Server notices ("already exists, skipping") are for debugging only. */
static void
pg_notice(void *arg, const char *message)
{
	char	msg[256];

	pg_message(message, msg, sizeof msg);
	log_debug("pg store: %s", msg);
}

/* The additional data bound into a value: it cannot move to another record. */
static unsigned char *
pg_aad(const char *kind, const char *key, size_t *len)
{
	unsigned char	*aad;
	size_t		 klen = strlen(kind), kylen = strlen(key);

	*len = 8 + klen + 1 + kylen;
	aad = xmalloc(*len);
	memcpy(aad, "NCRVPGV1", 8);
	memcpy(aad + 8, kind, klen);
	aad[8 + klen] = '\0';
	memcpy(aad + 8 + klen + 1, key, kylen);
	return (aad);
}

/* Seal a value for (kind, key): version, nonce, ciphertext, tag. */
static unsigned char *
pg_seal(struct store *s, const char *kind, const char *key, const void *value,
    size_t len, size_t *outlen)
{
	unsigned char	*out, *aad;
	size_t		 aadlen;

	*outlen = PG_SEAL_OVERHEAD + len;
	out = xmalloc(*outlen);
	out[0] = PG_SEAL_VERSION;
	crypto_random(out + 1, PG_NONCE_BYTES);
	aad = pg_aad(kind, key, &aadlen);
	if (crypto_aead_seal(s->key, out + 1, PG_NONCE_BYTES, aad, aadlen,
	    value, len, out + 1 + PG_NONCE_BYTES,
	    out + 1 + PG_NONCE_BYTES + len) == -1)
		fatalx("%s: AES-256-GCM encryption failed", __func__);
	free(aad);
	return (out);
}

/* Open a sealed value; NULL if it fails authentication. */
static unsigned char *
pg_unseal(struct store *s, const char *kind, const char *key,
    const unsigned char *in, size_t inlen, size_t *len)
{
	unsigned char	*out, *aad;
	size_t		 aadlen;
	int		 rv;

	if (inlen < PG_SEAL_OVERHEAD || in[0] != PG_SEAL_VERSION)
		return (NULL);
	*len = inlen - PG_SEAL_OVERHEAD;
	out = xmalloc(*len + 1);
	aad = pg_aad(kind, key, &aadlen);
	rv = crypto_aead_open(s->key, in + 1, PG_NONCE_BYTES, aad, aadlen,
	    in + 1 + PG_NONCE_BYTES, *len, out, in + 1 + PG_NONCE_BYTES + *len);
	free(aad);
	if (rv == -1) {
		free(out);
		return (NULL);
	}
	return (out);
}

/* The libpq keywords from the params: conninfo first, the keys override. */
static void
pg_keywords(struct pg_state *ps, const struct store_params *p)
{
	const char	*names[] = { "dbname", "host", "port", "dbname", "user",
			    "sslmode", "sslrootcert", "sslcert", "sslkey" };
	const char	*vals[] = { p->pg_conninfo, p->pg_host, p->pg_port,
			    p->pg_dbname, p->pg_user, p->pg_sslmode,
			    p->pg_sslrootcert, p->pg_sslcert, p->pg_sslkey };
	size_t		 i, n = 0;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (vals[i] == NULL || *vals[i] == '\0')
			continue;
		ps->keywords[n] = names[i];
		ps->values[n] = xstrdup(vals[i]);
		n++;
	}
	/* The database may run elsewhere: never wait on it forever. */
	ps->keywords[n] = "connect_timeout";
	ps->values[n++] = xstrdup("10");
	ps->keywords[n] = "application_name";
	ps->values[n++] = xstrdup("netcraved");
	ps->keywords[n] = NULL;
	ps->values[n] = NULL;
}

/* A blocking statement for start-up; -1 with err filled on failure. */
static PGresult *
pg_exec_sync(PGconn *conn, const char *sql, int nparams,
    const char *const *params, const int *lengths, const int *formats,
    const Oid *types, ExecStatusType want, char *err, size_t errlen)
{
	PGresult	*res;
	char		 msg[256];

	res = PQexecParams(conn, sql, nparams, types, params, lengths, formats, 1);
	if (res == NULL || PQresultStatus(res) != want) {
		pg_message(res != NULL ? PQresultErrorMessage(res) :
		    PQerrorMessage(conn), msg, sizeof msg);
		snprintf(err, errlen, "pg store: %s", msg);
		PQclear(res);
		return (NULL);
	}
	return (res);
}

/* Create or migrate the schema: the version table says what is there. */
static int
pg_schema(PGconn *conn, char *err, size_t errlen)
{
	PGresult	*res;
	long long	 version = 0;
	size_t		 i;

	if ((res = pg_exec_sync(conn, "CREATE TABLE IF NOT EXISTS "
	    "netcrave_schema (id INT8 PRIMARY KEY, version INT8 NOT NULL)", 0,
	    NULL, NULL, NULL, NULL, PGRES_COMMAND_OK, err, errlen)) == NULL)
		return (-1);
	PQclear(res);
	if ((res = pg_exec_sync(conn, "SELECT version::TEXT FROM netcrave_schema "
	    "WHERE id = 1", 0, NULL, NULL, NULL, NULL, PGRES_TUPLES_OK, err,
	    errlen)) == NULL)
		return (-1);
	if (PQntuples(res) == 1) {
		/* Binary results: the text cast keeps this readable anywhere. */
		version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	}
	PQclear(res);
	if (version > PG_SCHEMA_VERSION) {
		snprintf(err, errlen, "pg store: the database holds schema "
		    "version %lld, newer than this netcraved knows (%d); "
		    "upgrade netcraved", version, PG_SCHEMA_VERSION);
		return (-1);
	}
	if (version == PG_SCHEMA_VERSION)
		return (0);
	/* Version 0 (nothing yet) to 1.  Later versions add their steps here. */
	for (i = 0; pg_schema_v1[i] != NULL; i++) {
		if ((res = pg_exec_sync(conn, pg_schema_v1[i], 0, NULL, NULL,
		    NULL, NULL, PGRES_COMMAND_OK, err, errlen)) == NULL)
			return (-1);
		PQclear(res);
	}
	if ((res = pg_exec_sync(conn, "INSERT INTO netcrave_schema (id, version) "
	    "VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET version = 1", 0, NULL,
	    NULL, NULL, NULL, PGRES_COMMAND_OK, err, errlen)) == NULL)
		return (-1);
	PQclear(res);
	log_info("pg store: schema created (version %d)", PG_SCHEMA_VERSION);
	return (0);
}

/*
 * The key check: a sealed constant written by the first host.  A host with
 * another key fails here, at open, rather than on some record later.
 */
static int
pg_keycheck(struct store *s, PGconn *conn, char *err, size_t errlen)
{
	PGresult	*res;
	unsigned char	*sealed, *plain;
	const char	*params[1];
	int		 lengths[1], formats[1] = { 1 };
	Oid		 types[1] = { PG_OID_BYTEA };
	size_t		 len, plen;
	int		 rv = -1;

	sealed = pg_seal(s, "meta", "keycheck", PG_KEYCHECK,
	    strlen(PG_KEYCHECK), &len);
	params[0] = (const char *)sealed;
	lengths[0] = (int)len;
	res = pg_exec_sync(conn, "INSERT INTO netcrave_meta (name, value) "
	    "VALUES ('keycheck', $1) ON CONFLICT (name) DO NOTHING", 1, params,
	    lengths, formats, types, PGRES_COMMAND_OK, err, errlen);
	free(sealed);
	if (res == NULL)
		return (-1);
	PQclear(res);
	if ((res = pg_exec_sync(conn, "SELECT value FROM netcrave_meta WHERE "
	    "name = 'keycheck'", 0, NULL, NULL, NULL, NULL, PGRES_TUPLES_OK, err,
	    errlen)) == NULL)
		return (-1);
	if (PQntuples(res) != 1 || (plain = pg_unseal(s, "meta", "keycheck",
	    (const unsigned char *)PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0), &plen)) == NULL) {
		snprintf(err, errlen, "pg store: the database's key check fails "
		    "authentication: this host's journal key is not the one the "
		    "cluster's state was written with (copy the keys directory "
		    "from a host of the cluster)");
		goto done;
	}
	if (plen != strlen(PG_KEYCHECK) || memcmp(plain, PG_KEYCHECK, plen) != 0)
		snprintf(err, errlen, "pg store: the key check holds an "
		    "unexpected value");
	else
		rv = 0;
	free(plain);
done:
	PQclear(res);
	return (rv);
}

/* Replay every live record; following starts at the highest version seen. */
static int
pg_load(struct store *s, PGconn *conn, char *err, size_t errlen)
{
	struct pg_state	*ps = s->data;
	PGresult	*res;
	unsigned char	*plain;
	const char	*kind, *key;
	size_t		 plen;
	int64_t		 version;
	int		 i, n, live = 0;

	if ((res = pg_exec_sync(conn, pg_sql_load, 0, NULL, NULL, NULL, NULL,
	    PGRES_TUPLES_OK, err, errlen)) == NULL)
		return (-1);
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		kind = PQgetvalue(res, i, 0);
		key = PQgetvalue(res, i, 1);
		version = (int64_t)util_get_be64((const unsigned char *)
		    PQgetvalue(res, i, 3));
		if (version > ps->last_version)
			ps->last_version = version;
		if (*PQgetvalue(res, i, 4) != 0)
			continue;	/* deleted */
		plain = pg_unseal(s, kind, key,
		    (const unsigned char *)PQgetvalue(res, i, 2),
		    (size_t)PQgetlength(res, i, 2), &plen);
		if (plain == NULL) {
			snprintf(err, errlen, "pg store: record (%s, %s) fails "
			    "authentication (wrong key, tampered with or moved)",
			    kind, key);
			PQclear(res);
			return (-1);
		}
		store_load_record(s, kind, key, plain, plen);
		freezero_secret(plain, plen);
		live++;
	}
	PQclear(res);
	log_debug("pg store: %d live records, change version %lld", live,
	    (long long)ps->last_version);
	return (0);
}

/* Free an operation. */
static void
pg_op_free(struct pg_op *op)
{
	free(op->kind);
	free(op->key);
	free(op->ref_kind);
	free(op->ref_prefix);
	free(op->writer_prefix);
	free(op->sealed);
	free(op->writer);
	free(op);
}

/* Whether an operation is the backend's own, with nobody waiting on it. */
static int
pg_op_internal(const struct pg_op *op)
{
	return (op->type == PG_OP_POLL || op->type == PG_OP_SETUP ||
	    op->type == PG_OP_LISTEN || op->type == PG_OP_NOTIFY);
}

/* Take the head off the queue and report its outcome. */
static void
pg_op_finish(struct pg_state *ps, struct pg_op *op, const char *error)
{
	TAILQ_REMOVE(&ps->queue, op, entry);
	ps->nqueued--;
	if (!pg_op_internal(op))
		ps->nchanges--;
	store_complete(ps->s, op->cb, op->arg, error);
	pg_op_free(op);
}

/* Queue an operation; a change beyond the bound fails at once. */
static int
pg_enqueue(struct pg_state *ps, struct pg_op *op)
{
	char	 err[512];

	if (!pg_op_internal(op) && ps->nchanges >= ps->queue_max) {
		snprintf(err, sizeof err, "pg store: %zu changes already wait "
		    "for the database (%s)", ps->nchanges, ps->state == PG_READY ?
		    "it is slow" : ps->lasterr);
		store_complete(ps->s, op->cb, op->arg, err);
		pg_op_free(op);
		return (0);
	}
	gettimeofday(&op->queued, NULL);
	TAILQ_INSERT_TAIL(&ps->queue, op, entry);
	ps->nqueued++;
	if (!pg_op_internal(op))
		ps->nchanges++;
	pg_kick(ps);
	return (0);
}

/* A new change operation with its unique writer token. */
static struct pg_op *
pg_op_new(struct pg_state *ps, enum pg_op_type type, const char *kind,
    const char *key, store_done_cb cb, void *arg)
{
	struct pg_op	*op;

	op = xcalloc(1, sizeof *op);
	op->type = type;
	op->kind = kind != NULL ? xstrdup(kind) : NULL;
	op->key = key != NULL ? xstrdup(key) : NULL;
	op->cb = cb;
	op->arg = arg;
	xasprintf(&op->writer, "%s:%llu", ps->origin,
	    (unsigned long long)++ps->seq);
	return (op);
}

/* Send the head of the queue. */
static int
pg_send(struct pg_state *ps, struct pg_op *op)
{
	const char	*params[6];
	int		 lengths[6] = { 0 }, formats[6] = { 0 };
	Oid		 types[6];
	char		 version[32];
	const char	*sql;
	int		 n;

	switch (op->type) {
	case PG_OP_PUT:
	case PG_OP_INSERT:
		sql = op->type == PG_OP_PUT ? pg_sql_put : pg_sql_insert;
		params[0] = op->kind;
		params[1] = op->key;
		params[2] = (const char *)op->sealed;
		params[3] = op->writer;
		lengths[2] = (int)op->sealed_len;
		formats[2] = 1;
		types[0] = types[1] = types[3] = PG_OID_TEXT;
		types[2] = PG_OID_BYTEA;
		n = 4;
		break;
	case PG_OP_DEL:
		sql = pg_sql_del;
		params[0] = op->kind;
		params[1] = op->key;
		params[2] = op->writer;
		types[0] = types[1] = types[2] = PG_OID_TEXT;
		n = 3;
		break;
	case PG_OP_DEL_UNLESS:
		sql = pg_sql_del_unless;
		params[0] = op->kind;
		params[1] = op->key;
		params[2] = op->writer;
		params[3] = op->ref_kind;
		params[4] = op->ref_prefix;
		params[5] = op->writer_prefix;
		types[0] = types[1] = types[2] = types[3] = types[4] =
		    types[5] = PG_OID_TEXT;
		n = 6;
		break;
	case PG_OP_POLL:
		snprintf(version, sizeof version, "%lld",
		    (long long)ps->last_version);
		sql = pg_sql_poll;
		params[0] = version;
		types[0] = PG_OID_INT8;
		n = 1;
		break;
	case PG_OP_SETUP:
		/* CockroachDB's only level; PostgreSQL's strictest. */
		sql = "SET default_transaction_isolation TO 'serializable'";
		n = 0;
		break;
	case PG_OP_LISTEN:
		sql = "LISTEN " PG_NOTIFY_CHANNEL;
		n = 0;
		break;
	case PG_OP_NOTIFY:
		sql = "NOTIFY " PG_NOTIFY_CHANNEL;
		n = 0;
		break;
	default:
		fatalx("%s: bad operation %d", __func__, op->type);
	}
	if (!PQsendQueryParams(ps->conn, sql, n, n > 0 ? types : NULL,
	    n > 0 ? params : NULL, lengths, formats, 1))
		return (-1);
	if (PQflush(ps->conn) == 1)
		event_add(ps->ev_write, NULL);
	return (0);
}

/* Start the next statement if the connection is free. */
static void
pg_kick(struct pg_state *ps)
{
	struct pg_op	*op;
	char		 msg[256];

	if (ps->state != PG_READY || ps->busy || ps->waiting ||
	    (op = TAILQ_FIRST(&ps->queue)) == NULL)
		return;
	if (pg_send(ps, op) == -1) {
		pg_message(PQerrorMessage(ps->conn), msg, sizeof msg);
		pg_lost(ps, msg);
		return;
	}
	ps->busy = 1;
}

/* Another host's changes: tell the watchers, move the version on. */
static void
pg_poll_result(struct pg_state *ps, PGresult *res)
{
	struct store	*s = ps->s;
	unsigned char	*plain;
	const char	*kind, *key, *writer;
	size_t		 plen, olen = strlen(ps->origin);
	int64_t		 version;
	int		 i, n;

	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		version = (int64_t)util_get_be64((const unsigned char *)
		    PQgetvalue(res, i, 0));
		if (version > ps->last_version)
			ps->last_version = version;
		kind = PQgetvalue(res, i, 1);
		key = PQgetvalue(res, i, 2);
		writer = PQgetvalue(res, i, 5);
		if (strncmp(writer, ps->origin, olen) == 0 && writer[olen] == ':')
			continue;	/* our own change */
		if (*PQgetvalue(res, i, 4) != 0) {
			store_changed(s, kind, key, NULL, 0);
			continue;
		}
		plain = pg_unseal(s, kind, key,
		    (const unsigned char *)PQgetvalue(res, i, 3),
		    (size_t)PQgetlength(res, i, 3), &plen);
		if (plain == NULL) {
			log_warnx("pg store: change %lld to (%s, %s) fails "
			    "authentication; ignored", (long long)version, kind,
			    key);
			continue;
		}
		store_changed(s, kind, key, plain, plen);
		freezero_secret(plain, plen);
	}
	/* A full page: more are waiting, read on without waiting a period. */
	if (n == PG_POLL_ROWS)
		event_active(ps->ev_poll, EV_TIMEOUT, 0);
}

/*
 * A change committed: where LISTEN works, wake the other hosts so they read
 * it now rather than at their next poll.  Changes within PG_NOTIFY_MS share
 * one NOTIFY: each costs the server a commit under its notification lock.
 */
static void
pg_notify_others(struct pg_state *ps)
{
	struct timeval	tv = pg_tv(PG_NOTIFY_MS);

	if (ps->notify == 1 && !evtimer_pending(ps->ev_notify, NULL))
		evtimer_add(ps->ev_notify, &tv);
}

/* Timer: send the NOTIFY for the changes of the last few milliseconds. */
static void
pg_on_notify(evutil_socket_t fd, short events, void *arg)
{
	struct pg_state	*ps = arg;

	if (ps->state == PG_READY)
		pg_enqueue(ps, pg_op_new(ps, PG_OP_NOTIFY, NULL, NULL, NULL,
		    NULL));
}

/* Whether an SQLSTATE asks for the transaction to be run again. */
static int
pg_retryable(const char *sqlstate)
{
	return (sqlstate != NULL && (strcmp(sqlstate, "40001") == 0 ||
	    strcmp(sqlstate, "40P01") == 0));
}

/* The head's statement finished with res. */
static void
pg_done(struct pg_state *ps, PGresult *res)
{
	struct pg_op	*op = TAILQ_FIRST(&ps->queue);
	struct timeval	 tv;
	ExecStatusType	 st;
	const char	*sqlstate;
	char		 msg[256], err[512];
	unsigned int	 jitter;
	int		 inserted;
	int64_t		 refs, gone, live;

	ps->busy = 0;
	if (op == NULL)
		return;
	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		switch (op->type) {
		/* Finished first: the head must not be sent again. */
		case PG_OP_INSERT:
			inserted = PQntuples(res) == 1;
			pg_op_finish(ps, op, inserted ? NULL : STORE_ERR_EXISTS);
			if (inserted)
				pg_notify_others(ps);
			break;
		case PG_OP_PUT:
		case PG_OP_DEL:
			pg_op_finish(ps, op, NULL);
			pg_notify_others(ps);
			break;
		case PG_OP_DEL_UNLESS:
			refs = gone = live = 0;
			if (PQntuples(res) == 1 && PQnfields(res) == 3 &&
			    PQgetlength(res, 0, 0) == 8 &&
			    PQgetlength(res, 0, 1) == 8 &&
			    PQgetlength(res, 0, 2) == 8) {
				refs = (int64_t)util_get_be64((const unsigned
				    char *)PQgetvalue(res, 0, 0));
				gone = (int64_t)util_get_be64((const unsigned
				    char *)PQgetvalue(res, 0, 1));
				live = (int64_t)util_get_be64((const unsigned
				    char *)PQgetvalue(res, 0, 2));
			}
			pg_op_finish(ps, op, gone > 0 ? NULL : live > 0 &&
			    refs > 0 ? STORE_ERR_EXISTS : STORE_ERR_ABSENT);
			if (gone > 0)
				pg_notify_others(ps);
			break;
		case PG_OP_POLL:
			pg_poll_result(ps, res);
			pg_op_finish(ps, op, NULL);
			break;
		case PG_OP_LISTEN:
			ps->notify = 1;
			pg_op_finish(ps, op, NULL);
			break;
		default:
			pg_op_finish(ps, op, NULL);
			break;
		}
		return;
	}
	sqlstate = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (pg_retryable(sqlstate) && op->retries < PG_RETRY_MAX) {
		/* Another host won the counter row: wait a little, run again. */
		op->retries++;
		log_debug("pg store: serialization failure (%s), retry %u",
		    sqlstate, op->retries);
		ps->waiting = 1;
		crypto_random(&jitter, sizeof jitter);
		tv = pg_tv(1 + jitter % (op->retries < 10 ? op->retries * 2 : 20));
		evtimer_add(ps->ev_timer, &tv);
		return;
	}
	pg_message(res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(ps->conn), msg, sizeof msg);
	if (PQstatus(ps->conn) == CONNECTION_BAD) {
		/* The statement's fate is unknown: it runs again, idempotently. */
		pg_lost(ps, msg);
		return;
	}
	if (sqlstate != NULL)
		snprintf(err, sizeof err, "pg store: %s (SQLSTATE %s)", msg,
		    sqlstate);
	else
		snprintf(err, sizeof err, "pg store: %s", msg);
	if (op->type == PG_OP_LISTEN) {
		/* CockroachDB: following relies on polling alone. */
		if (ps->notify != 0)
			log_info("pg store: no LISTEN on this server (%s); "
			    "following other hosts every %u ms", msg,
			    ps->poll_ms);
		ps->notify = 0;
		pg_op_finish(ps, op, NULL);
		return;
	}
	if (pg_op_internal(op))
		log_warnx("%s", err);
	pg_op_finish(ps, op, pg_op_internal(op) ? NULL : err);
}

/* Drop the events of the current connection. */
static void
pg_events_free(struct pg_state *ps)
{
	if (ps->ev_read != NULL) {
		event_free(ps->ev_read);
		ps->ev_read = NULL;
	}
	if (ps->ev_write != NULL) {
		event_free(ps->ev_write);
		ps->ev_write = NULL;
	}
}

/* Wait, then connect again; the wait doubles up to a limit. */
static void
pg_schedule_reconnect(struct pg_state *ps)
{
	struct timeval	tv;

	ps->state = PG_DOWN;
	ps->waiting = 0;
	tv = pg_tv(ps->backoff_ms);
	evtimer_add(ps->ev_timer, &tv);
	ps->backoff_ms = ps->backoff_ms * 2 > PG_BACKOFF_MAX_MS ?
	    PG_BACKOFF_MAX_MS : ps->backoff_ms * 2;
}

/*
 * The connection is gone.  The statement in flight stays at the head of the
 * queue: every change is one statement (all or nothing) and idempotent, so
 * running it again after reconnecting is right whether it committed or not.
 */
static void
pg_lost(struct pg_state *ps, const char *why)
{
	struct pg_op	*op, *next;

	log_warnx("pg store: connection lost: %s; reconnecting", why);
	snprintf(ps->lasterr, sizeof ps->lasterr, "%s", why);
	pg_events_free(ps);
	PQclear(ps->result);
	ps->result = NULL;
	if (ps->conn != NULL) {
		PQfinish(ps->conn);
		ps->conn = NULL;
	}
	ps->busy = 0;
	evtimer_del(ps->ev_timer);
	/* Per-connection work is redone by the next connection. */
	for (op = TAILQ_FIRST(&ps->queue); op != NULL; op = next) {
		next = TAILQ_NEXT(op, entry);
		if (op->type == PG_OP_SETUP || op->type == PG_OP_LISTEN)
			pg_op_finish(ps, op, NULL);
	}
	pg_schedule_reconnect(ps);
}

/* Socket readable: read, and finish the statement once its results are in. */
static void
pg_on_read(evutil_socket_t fd, short events, void *arg)
{
	struct pg_state	*ps = arg;
	PGresult	*res;
	PGnotify	*note;
	char		 msg[256];

	if (!PQconsumeInput(ps->conn)) {
		pg_message(PQerrorMessage(ps->conn), msg, sizeof msg);
		pg_lost(ps, msg);
		return;
	}
	/* Another host changed something: read it now, not at the next poll. */
	while ((note = PQnotifies(ps->conn)) != NULL) {
		if (note->be_pid != PQbackendPID(ps->conn))
			event_active(ps->ev_poll, EV_TIMEOUT, 0);
		PQfreemem(note);
	}
	while (ps->busy && !PQisBusy(ps->conn)) {
		if ((res = PQgetResult(ps->conn)) != NULL) {
			if (ps->result == NULL)
				ps->result = res;
			else
				PQclear(res);
			continue;
		}
		res = ps->result;
		ps->result = NULL;
		pg_done(ps, res);
		PQclear(res);
		if (ps->state != PG_READY)
			return;		/* pg_done lost the connection */
	}
	if (!ps->busy && PQstatus(ps->conn) == CONNECTION_BAD) {
		pg_message(PQerrorMessage(ps->conn), msg, sizeof msg);
		pg_lost(ps, msg);
		return;
	}
	pg_kick(ps);
}

/* Socket writable: push out what libpq still holds. */
static void
pg_on_write(evutil_socket_t fd, short events, void *arg)
{
	struct pg_state	*ps = arg;
	char		 msg[256];

	switch (PQflush(ps->conn)) {
	case 1:
		event_add(ps->ev_write, NULL);
		break;
	case -1:
		pg_message(PQerrorMessage(ps->conn), msg, sizeof msg);
		pg_lost(ps, msg);
		break;
	}
}

/* The connection is up: settings first, then whatever waited. */
static void
pg_ready(struct pg_state *ps)
{
	struct pg_op	*setup, *listen;
	int		 fd = PQsocket(ps->conn);

	if (PQsetnonblocking(ps->conn, 1) == -1) {
		pg_lost(ps, "cannot make the connection non-blocking");
		return;
	}
	pg_events_free(ps);
	ps->ev_read = event_new(ps->s->base, fd, EV_READ | EV_PERSIST,
	    pg_on_read, ps);
	ps->ev_write = event_new(ps->s->base, fd, EV_WRITE, pg_on_write, ps);
	if (ps->ev_read == NULL || ps->ev_write == NULL ||
	    event_add(ps->ev_read, NULL) == -1)
		fatalx("%s: event_new", __func__);
	if (ps->lasterr[0] != '\0')
		log_info("pg store: connected again to %s; %zu changes were "
		    "waiting", PQhost(ps->conn), ps->nchanges);
	ps->state = PG_READY;
	ps->backoff_ms = PG_BACKOFF_MIN_MS;
	ps->lasterr[0] = '\0';
	setup = pg_op_new(ps, PG_OP_SETUP, NULL, NULL, NULL, NULL);
	listen = pg_op_new(ps, PG_OP_LISTEN, NULL, NULL, NULL, NULL);
	gettimeofday(&setup->queued, NULL);
	listen->queued = setup->queued;
	TAILQ_INSERT_HEAD(&ps->queue, setup, entry);
	TAILQ_INSERT_AFTER(&ps->queue, setup, listen, entry);
	ps->nqueued += 2;
	/* What other hosts did meanwhile. */
	event_active(ps->ev_poll, EV_TIMEOUT, 0);
	pg_kick(ps);
}

static void	pg_on_connect(evutil_socket_t, short, void *);

/* Wait for the socket to be ready the way PQconnectPoll asked. */
static void
pg_connect_wait(struct pg_state *ps, short want)
{
	struct timeval	tv = pg_tv(PG_CONNECT_TIMEOUT_MS);

	/* The socket may change between attempts (several hosts, SSL retry). */
	pg_events_free(ps);
	ps->ev_read = event_new(ps->s->base, PQsocket(ps->conn), want,
	    pg_on_connect, ps);
	if (ps->ev_read == NULL || event_add(ps->ev_read, &tv) == -1)
		fatalx("%s: event_new", __func__);
}

/* Drive PQconnectPoll whenever the socket is ready the way it asked. */
static void
pg_on_connect(evutil_socket_t fd, short events, void *arg)
{
	struct pg_state	*ps = arg;
	char		 msg[256];

	if (events & EV_TIMEOUT) {
		pg_lost(ps, "connection attempt timed out");
		return;
	}
	ps->poll = PQconnectPoll(ps->conn);
	switch (ps->poll) {
	case PGRES_POLLING_OK:
		pg_ready(ps);
		return;
	case PGRES_POLLING_FAILED:
		pg_message(PQerrorMessage(ps->conn), msg, sizeof msg);
		pg_lost(ps, msg);
		return;
	case PGRES_POLLING_READING:
		pg_connect_wait(ps, EV_READ);
		break;
	default:
		pg_connect_wait(ps, EV_WRITE);
		break;
	}
}

/* Begin a non-blocking connection attempt. */
static void
pg_connect_start(struct pg_state *ps)
{
	char	msg[256];

	ps->conn = PQconnectStartParams(ps->keywords,
	    (const char *const *)ps->values, 1);
	if (ps->conn == NULL) {
		pg_lost(ps, "out of memory");
		return;
	}
	if (PQstatus(ps->conn) == CONNECTION_BAD) {
		pg_message(PQerrorMessage(ps->conn), msg, sizeof msg);
		pg_lost(ps, msg);
		return;
	}
	PQsetNoticeProcessor(ps->conn, pg_notice, NULL);
	/* libpq: behave as if PQconnectPoll had asked for writing first. */
	ps->state = PG_CONNECTING;
	pg_connect_wait(ps, EV_WRITE);
}

/* Timer: a reconnect is due, or a retried statement may go again. */
static void
pg_on_timer(evutil_socket_t fd, short events, void *arg)
{
	struct pg_state	*ps = arg;

	if (ps->state == PG_DOWN) {
		pg_connect_start(ps);
		return;
	}
	ps->waiting = 0;
	pg_kick(ps);
}

/* Timer: look for other hosts' changes. */
static void
pg_on_poll(evutil_socket_t fd, short events, void *arg)
{
	struct pg_state	*ps = arg;
	struct pg_op	*op;
	struct timeval	 tv = pg_tv(ps->poll_ms);

	evtimer_add(ps->ev_poll, &tv);
	if (ps->state != PG_READY || ps->s->nwatch == 0)
		return;
	/* One poll at a time; a queued one will see everything. */
	TAILQ_FOREACH(op, &ps->queue, entry) {
		if (op->type == PG_OP_POLL)
			return;
	}
	pg_enqueue(ps, pg_op_new(ps, PG_OP_POLL, NULL, NULL, NULL, NULL));
}

/*
 * Timer: while the database is away, changes that waited longer than the
 * timeout fail with the reason, so no caller waits forever.
 */
static void
pg_on_expire(evutil_socket_t fd, short events, void *arg)
{
	struct pg_state	*ps = arg;
	struct pg_op	*op, *next;
	struct timeval	 now, age, tv = pg_tv(1000);
	char		 err[512];

	evtimer_add(ps->ev_expire, &tv);
	if (ps->state == PG_READY)
		return;
	gettimeofday(&now, NULL);
	for (op = TAILQ_FIRST(&ps->queue); op != NULL; op = next) {
		next = TAILQ_NEXT(op, entry);
		timersub(&now, &op->queued, &age);
		if ((unsigned long long)age.tv_sec * 1000 + age.tv_usec / 1000 <
		    ps->timeout_ms)
			continue;
		snprintf(err, sizeof err, "pg store: the database has been "
		    "unreachable for %u ms: %s", ps->timeout_ms, ps->lasterr);
		pg_op_finish(ps, op, err);
	}
}

/* Free the backend state (connection, events, keywords). */
static void
pg_free(struct pg_state *ps)
{
	size_t	i;

	if (ps == NULL)
		return;
	pg_events_free(ps);
	if (ps->ev_timer != NULL)
		event_free(ps->ev_timer);
	if (ps->ev_poll != NULL)
		event_free(ps->ev_poll);
	if (ps->ev_expire != NULL)
		event_free(ps->ev_expire);
	if (ps->ev_notify != NULL)
		event_free(ps->ev_notify);
	PQclear(ps->result);
	if (ps->conn != NULL)
		PQfinish(ps->conn);
	for (i = 0; ps->values[i] != NULL; i++)
		free(ps->values[i]);
	free(ps);
}

/* A blocking connection with the configured keywords (start-up only). */
static PGconn *
pg_connect_sync(struct pg_state *ps, char *err, size_t errlen)
{
	PGconn	*conn;
	char	 msg[256];

	conn = PQconnectdbParams(ps->keywords, (const char *const *)ps->values,
	    1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		pg_message(conn != NULL ? PQerrorMessage(conn) : "out of memory",
		    msg, sizeof msg);
		snprintf(err, errlen, "pg store: connect: %s", msg);
		PQfinish(conn);
		return (NULL);
	}
	PQsetNoticeProcessor(conn, pg_notice, NULL);
	return (conn);
}

/*
 * Open: connect, create or migrate the schema, check the key, replay.  This
 * blocks (start-up, before the loop serves anything); afterwards every
 * statement goes through the loop.
 */
static int
pg_open(struct store *s, char *err, size_t errlen)
{
	const struct store_params	*p = s->params;
	struct pg_state			*ps;
	struct timeval			 tv;
	unsigned char			 id[16];
	size_t				 i;

	ps = xcalloc(1, sizeof *ps);
	ps->s = s;
	s->data = ps;
	TAILQ_INIT(&ps->queue);
	pg_keywords(ps, p);
	ps->poll_ms = p->pg_poll_ms != 0 ? p->pg_poll_ms : 1000;
	ps->timeout_ms = p->pg_timeout_ms != 0 ? p->pg_timeout_ms : 30000;
	ps->queue_max = p->pg_queue_max != 0 ? p->pg_queue_max : 10000;
	ps->backoff_ms = PG_BACKOFF_MIN_MS;
	ps->notify = -1;
	crypto_random(id, sizeof id);
	for (i = 0; i < sizeof id; i++)
		snprintf(ps->origin + 2 * i, 3, "%02x", id[i]);

	if ((ps->conn = pg_connect_sync(ps, err, errlen)) == NULL ||
	    pg_schema(ps->conn, err, errlen) == -1 ||
	    pg_keycheck(s, ps->conn, err, errlen) == -1 ||
	    pg_load(s, ps->conn, err, errlen) == -1)
		goto fail;

	ps->ev_timer = evtimer_new(s->base, pg_on_timer, ps);
	ps->ev_poll = evtimer_new(s->base, pg_on_poll, ps);
	ps->ev_expire = evtimer_new(s->base, pg_on_expire, ps);
	ps->ev_notify = evtimer_new(s->base, pg_on_notify, ps);
	if (ps->ev_timer == NULL || ps->ev_poll == NULL ||
	    ps->ev_expire == NULL || ps->ev_notify == NULL)
		fatalx("%s: evtimer_new", __func__);
	tv = pg_tv(ps->poll_ms);
	evtimer_add(ps->ev_poll, &tv);
	tv = pg_tv(1000);
	evtimer_add(ps->ev_expire, &tv);
	pg_ready(ps);
	log_info("pg store: connected to %s, database %s as %s", PQhost(ps->conn),
	    PQdb(ps->conn), PQuser(ps->conn));
	return (0);

fail:
	pg_free(ps);
	s->data = NULL;
	return (-1);
}

/* Queue a put or an insert. */
static int
pg_put_common(struct store *s, enum pg_op_type type, const char *kind,
    const char *key, const void *value, size_t len, store_done_cb cb,
    void *arg)
{
	struct pg_state	*ps = s->data;
	struct pg_op	*op;

	op = pg_op_new(ps, type, kind, key, cb, arg);
	op->sealed = pg_seal(s, kind, key, value, len, &op->sealed_len);
	return (pg_enqueue(ps, op));
}

/* Record a value: durable once the database has committed it. */
static int
pg_put(struct store *s, const char *kind, const char *key, const void *value,
    size_t len, store_done_cb cb, void *arg)
{
	return (pg_put_common(s, PG_OP_PUT, kind, key, value, len, cb, arg));
}

/* Record a value unless a live record, from any host, holds the key. */
static int
pg_insert(struct store *s, const char *kind, const char *key,
    const void *value, size_t len, store_done_cb cb, void *arg)
{
	return (pg_put_common(s, PG_OP_INSERT, kind, key, value, len, cb, arg));
}

/* Delete a record (a tombstone other hosts follow). */
static int
pg_del(struct store *s, const char *kind, const char *key, store_done_cb cb,
    void *arg)
{
	struct pg_state	*ps = s->data;

	return (pg_enqueue(ps, pg_op_new(ps, PG_OP_DEL, kind, key, cb, arg)));
}

/* Delete unless a live reference remains (see pg_sql_del_unless). */
static int
pg_del_unless(struct store *s, const char *kind, const char *key,
    const char *ref_kind, const char *ref_prefix, int mine, store_done_cb cb,
    void *arg)
{
	struct pg_state	*ps = s->data;
	struct pg_op	*op;

	op = pg_op_new(ps, PG_OP_DEL_UNLESS, kind, key, cb, arg);
	op->ref_kind = xstrdup(ref_kind);
	op->ref_prefix = xstrdup(ref_prefix);
	if (mine)
		xasprintf(&op->writer_prefix, "%s:", ps->origin);
	else
		op->writer_prefix = xstrdup("");
	return (pg_enqueue(ps, op));
}

/* The database keeps its own house. */
static int
pg_compact(struct store *s)
{
	return (0);
}

/*
 * Close: changes still queued are finished here, blocking, so a clean
 * shutdown loses nothing; with the database away they fail with the reason.
 */
static void
pg_close(struct store *s)
{
	struct pg_state	*ps = s->data;
	struct pg_op	*op;
	PGresult	*res;
	struct pollfd	 pfd;
	char		 err[512], msg[256];

	if (ps->state == PG_READY) {
		PQsetnonblocking(ps->conn, 0);
		while (ps->state == PG_READY && !TAILQ_EMPTY(&ps->queue)) {
			if (ps->waiting) {
				evtimer_del(ps->ev_timer);
				ps->waiting = 0;
			}
			pg_kick(ps);
			if (!ps->busy)
				break;
			while (ps->busy && PQflush(ps->conn) == 0 &&
			    PQisBusy(ps->conn)) {
				pfd.fd = PQsocket(ps->conn);
				pfd.events = POLLIN;
				if (poll(&pfd, 1, (int)ps->timeout_ms) <= 0) {
					pg_lost(ps, "no answer at close");
					break;
				}
				if (!PQconsumeInput(ps->conn)) {
					pg_message(PQerrorMessage(ps->conn), msg,
					    sizeof msg);
					pg_lost(ps, msg);
					break;
				}
			}
			if (ps->state != PG_READY)
				break;
			while ((res = PQgetResult(ps->conn)) != NULL) {
				if (ps->result == NULL)
					ps->result = res;
				else
					PQclear(res);
			}
			res = ps->result;
			ps->result = NULL;
			pg_done(ps, res);
			PQclear(res);
		}
	}
	while ((op = TAILQ_FIRST(&ps->queue)) != NULL) {
		snprintf(err, sizeof err, "pg store: closed before the database "
		    "confirmed the change (%s)", ps->lasterr[0] != '\0' ?
		    ps->lasterr : "not connected");
		pg_op_finish(ps, op, pg_op_internal(op) ? NULL : err);
	}
	pg_free(ps);
	s->data = NULL;
}

/*
 * Whether the database already holds netcrave state (then the key must exist
 * already).  An unreachable database counts as none: open fails anyway, and
 * a key made meanwhile is caught by the key check.
 */
static int
pg_has_state(const struct store_params *p)
{
	struct pg_state	*ps;
	PGconn		*conn;
	PGresult	*res;
	char		 err[512];
	int		 found = 0;

	ps = xcalloc(1, sizeof *ps);
	pg_keywords(ps, p);
	if ((conn = pg_connect_sync(ps, err, sizeof err)) != NULL) {
		res = PQexec(conn, "SELECT 1 FROM netcrave_meta WHERE name = "
		    "'keycheck'");
		found = PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1;
		PQclear(res);
		PQfinish(conn);
	}
	pg_free(ps);
	return (found);
}

const struct store_backend store_pg_backend = {
	.name = "pg",
	.open = pg_open,
	.put = pg_put,
	.del = pg_del,
	.insert = pg_insert,
	.del_unless = pg_del_unless,
	.compact = pg_compact,
	.close = pg_close,
	.has_state = pg_has_state,
};
