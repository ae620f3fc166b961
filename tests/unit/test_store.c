/* test_store.c: the store against both backends: durability, deferred
 * callbacks, wrong keys, insert-if-absent; for the file backend recovery from
 * torn appends at any byte, compaction and tampering; for the pg backend
 * (when NETCRAVE_TEST_PG names a database, see test_store_pg.sh) two stores
 * racing on one database, following each other, and lost connections. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libpq-fe.h>

#include "store.h"

#define HEADER_BYTES	84	/* doc/store.md: an empty journal */
#define MAX_LOADED	4096

struct loaded {
	char		*kind;
	char		*key;
	unsigned char	*value;
	size_t		 len;
};

struct fixture {
	char			 dir[256];
	char			 journal[300];
	char			 snapshot[300];
	struct event_base	*base;
	unsigned char		 key[32];
	struct loaded		 loaded[MAX_LOADED];
	size_t			 nloaded;
};

struct done {
	int	called;
	int	failed;
	char	error[512];
};

/* The backend under test, and the pg database when it is "pg". */
static const char	*backend = "file";
static const char	*pg_conninfo;
static unsigned int	 pg_poll_ms = 20;
static size_t		 pg_queue_max;		/* 0: the default */

/* Run the loop until cond holds; the pg backend keeps timers, so the loop
 * never runs out of events by itself.  Twenty seconds is a failure. */
#define RUN_UNTIL(f, cond) do {						\
	time_t	deadline_ = time(NULL) + 20;				\
	while (!(cond)) {						\
		assert_true(time(NULL) < deadline_);			\
		event_base_loop((f)->base, EVLOOP_ONCE);		\
	}								\
} while (0)

/* Let whatever is ready run, without waiting. */
static void
run_ready(struct event_base *base)
{
	int	i;

	for (i = 0; i < 10; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Run one statement on the test database (pg only). */
static void
pg_sql(const char *sql)
{
	PGconn		*conn;
	PGresult	*res;
	ExecStatusType	 st;

	conn = PQconnectdb(pg_conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(conn));
	res = PQexec(conn, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(conn);
}

/* Remove every file of a flat directory, then the directory. */
static void
rmdir_flat(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	char		 sub[PATH_MAX];

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

/* Forget what the last open loaded. */
static void
loaded_clear(struct fixture *f)
{
	size_t	i;

	for (i = 0; i < f->nloaded; i++) {
		free(f->loaded[i].kind);
		free(f->loaded[i].key);
		free(f->loaded[i].value);
	}
	f->nloaded = 0;
}

/* Load callback: keep a copy of every record. */
static void
on_load(const char *kind, const char *key, const void *value, size_t len,
    void *arg)
{
	struct fixture	*f = arg;
	struct loaded	*l;

	assert_true(f->nloaded < MAX_LOADED);
	assert_non_null(value);
	l = &f->loaded[f->nloaded++];
	l->kind = strdup(kind);
	l->key = strdup(key);
	l->value = malloc(len + 1);
	assert_non_null(l->value);
	memcpy(l->value, value, len);
	l->len = len;
}

/* The loaded value of (kind, key), or NULL. */
static const struct loaded *
loaded_find(const struct fixture *f, const char *kind, const char *key)
{
	size_t	i;

	for (i = 0; i < f->nloaded; i++) {
		if (strcmp(f->loaded[i].kind, kind) == 0 &&
		    strcmp(f->loaded[i].key, key) == 0)
			return (&f->loaded[i]);
	}
	return (NULL);
}

/* Assert (kind, key) was loaded with this string value. */
static void
assert_loaded(const struct fixture *f, const char *kind, const char *key,
    const char *value)
{
	const struct loaded	*l;

	l = loaded_find(f, kind, key);
	assert_non_null(l);
	assert_int_equal(l->len, strlen(value));
	assert_memory_equal(l->value, value, l->len);
}

/* Fresh state directory, loop and key. */
static int
setup(void **state)
{
	struct fixture	*f;
	size_t		 i;

	f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->journal, sizeof f->journal, "%s/journal", f->dir);
	snprintf(f->snapshot, sizeof f->snapshot, "%s/snapshot", f->dir);
	f->base = event_base_new();
	assert_non_null(f->base);
	for (i = 0; i < sizeof f->key; i++)
		f->key[i] = (unsigned char)(i * 7 + 1);
	/* Every test starts from an empty database. */
	if (strcmp(backend, "pg") == 0)
		pg_sql("DROP TABLE IF EXISTS netcrave_records, netcrave_meta, "
		    "netcrave_schema");
	*state = f;
	return (0);
}

/* Remove everything. */
static int
teardown(void **state)
{
	struct fixture	*f = *state;

	loaded_clear(f);
	event_base_free(f->base);
	rmdir_flat(f->dir);
	free(f);
	return (0);
}

/* Open the store in f->dir with this key; NULL on failure (err filled). */
static struct store *
open_key(struct fixture *f, const unsigned char *key, size_t compact_bytes,
    char *err, size_t errlen)
{
	struct store_params	params;

	loaded_clear(f);
	memset(&params, 0, sizeof params);
	params.backend = backend;
	params.dir = f->dir;
	params.compact_bytes = compact_bytes;
	params.key = key;
	params.pg_conninfo = pg_conninfo;
	params.pg_poll_ms = pg_poll_ms;
	params.pg_timeout_ms = 5000;
	params.pg_queue_max = pg_queue_max;
	err[0] = '\0';
	return (store_open(f->base, &params, on_load, f, err, errlen));
}

/* Open and insist it works. */
static struct store *
open_ok(struct fixture *f, size_t compact_bytes)
{
	struct store	*s;
	char		 err[512];

	s = open_key(f, f->key, compact_bytes, err, sizeof err);
	if (s == NULL)
		fail_msg("store_open: %s", err);
	assert_string_equal(store_backend_name(s), backend);
	return (s);
}

/* Done callback: record the outcome. */
static void
on_done(const char *error, void *arg)
{
	struct done	*d = arg;

	d->called++;
	if (error != NULL) {
		d->failed++;
		snprintf(d->error, sizeof d->error, "%s", error);
	}
}

/* Put, check the callback waits for the loop, run the loop, check success. */
static void
put(struct fixture *f, struct store *s, const char *kind, const char *key,
    const void *value, size_t len)
{
	struct done	d;

	memset(&d, 0, sizeof d);
	assert_int_equal(store_put(s, kind, key, value, len, on_done, &d), 0);
	assert_int_equal(d.called, 0);
	RUN_UNTIL(f, d.called > 0);
	assert_int_equal(d.called, 1);
	assert_int_equal(d.failed, 0);
}

/* Put a string value. */
static void
put_str(struct fixture *f, struct store *s, const char *kind, const char *key,
    const char *value)
{
	put(f, s, kind, key, value, strlen(value));
}

/* Delete and wait for it. */
static void
del(struct fixture *f, struct store *s, const char *kind, const char *key)
{
	struct done	d;

	memset(&d, 0, sizeof d);
	assert_int_equal(store_del(s, kind, key, on_done, &d), 0);
	assert_int_equal(d.called, 0);
	RUN_UNTIL(f, d.called > 0);
	assert_int_equal(d.called, 1);
	assert_int_equal(d.failed, 0);
}

/* File size, or -1 when absent. */
static off_t
file_size(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == -1)
		return (-1);
	return (st.st_size);
}

/* Read a whole file into a malloc'd buffer. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	unsigned char	*buf;
	off_t		 size;
	int		 fd;

	size = file_size(path);
	assert_true(size >= 0);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, (size_t)size), size);
	close(fd);
	*len = (size_t)size;
	return (buf);
}

/* Replace a file's content with len bytes of buf. */
static void
spill(const char *path, const unsigned char *buf, size_t len)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	if (len > 0)
		assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* XOR one byte of a file. */
static void
flip_byte(const char *path, off_t off)
{
	unsigned char	c;
	int		fd;

	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* Puts, overwrites and deletes are all there after a reopen. */
static void
test_reopen(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;

	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 0);
	put_str(f, s, "network", "n1", "{\"subnet\":\"198.18.0.0/24\"}");
	put_str(f, s, "network", "n2", "two");
	put_str(f, s, "endpoint", "n1", "same key, other kind");
	put_str(f, s, "network", "n1", "overwritten");
	del(f, s, "network", "n2");
	del(f, s, "network", "never-existed");
	put(f, s, "volume", "empty", "", 0);
	store_close(s);

	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 3);
	assert_loaded(f, "network", "n1", "overwritten");
	assert_loaded(f, "endpoint", "n1", "same key, other kind");
	assert_loaded(f, "volume", "empty", "");
	assert_null(loaded_find(f, "network", "n2"));
	/* Loaded in kind, then key order. */
	assert_string_equal(f->loaded[0].kind, "endpoint");
	assert_string_equal(f->loaded[1].kind, "network");
	assert_string_equal(f->loaded[2].kind, "volume");
	store_close(s);
}

/* The done callback never runs inside store_put, only from the loop. */
static void
test_done_deferred(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct done	 d1, d2, d3;

	s = open_ok(f, 0);
	memset(&d1, 0, sizeof d1);
	memset(&d2, 0, sizeof d2);
	memset(&d3, 0, sizeof d3);
	assert_int_equal(store_put(s, "k", "a", "1", 1, on_done, &d1), 0);
	assert_int_equal(store_put(s, "k", "b", "2", 1, on_done, &d2), 0);
	assert_int_equal(store_del(s, "k", "zz", on_done, &d3), 0);
	assert_int_equal(d1.called + d2.called + d3.called, 0);
	RUN_UNTIL(f, d1.called && d2.called && d3.called);
	assert_int_equal(d1.called, 1);
	assert_int_equal(d2.called, 1);
	assert_int_equal(d3.called, 1);
	assert_int_equal(d1.failed + d2.failed + d3.failed, 0);
	/* A NULL callback is allowed. */
	assert_int_equal(store_put(s, "k", "c", "3", 1, NULL, NULL), 0);
	run_ready(f->base);
	store_close(s);
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 3);
	store_close(s);
}

/* Callbacks still queued at close are delivered by close, exactly once. */
static void
test_close_delivers(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct done	 d;

	s = open_ok(f, 0);
	memset(&d, 0, sizeof d);
	assert_int_equal(store_put(s, "k", "a", "1", 1, on_done, &d), 0);
	assert_int_equal(d.called, 0);
	store_close(s);
	assert_int_equal(d.called, 1);
	assert_int_equal(d.failed, 0);
	run_ready(f->base);
	assert_int_equal(d.called, 1);
	s = open_ok(f, 0);
	assert_loaded(f, "k", "a", "1");
	store_close(s);
}

struct chain {
	struct store	*s;
	int		 steps;
	int		 closed;
};

/* Done callback that puts again, then closes the store from inside. */
static void
on_chain(const char *error, void *arg)
{
	struct chain	*c = arg;
	char		 key[16];

	assert_null(error);
	if (c->closed)
		return;
	if (++c->steps < 5) {
		snprintf(key, sizeof key, "k%d", c->steps);
		assert_int_equal(store_put(c->s, "chain", key, "v", 1, on_chain,
		    c), 0);
		return;
	}
	store_close(c->s);
	c->closed = 1;
}

/* A callback may change the store again, or close it. */
static void
test_callback_reentry(void **state)
{
	struct fixture	*f = *state;
	struct chain	 c;

	memset(&c, 0, sizeof c);
	c.s = open_ok(f, 0);
	assert_int_equal(store_put(c.s, "chain", "k0", "v", 1, on_chain, &c), 0);
	RUN_UNTIL(f, c.closed);
	assert_int_equal(c.steps, 5);
	assert_int_equal(c.closed, 1);
	c.s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 5);
	store_close(c.s);
}

/* Kill -9 at every byte of the last append: the earlier records survive, the
 * torn one is gone, the file is cut back, and appends go on cleanly. */
static void
test_torn_every_offset(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	*whole;
	char		 key[32], value[64];
	off_t		 before, after, off;
	size_t		 len;
	int		 i, n = 6;

	s = open_ok(f, 0);
	for (i = 0; i < n - 1; i++) {
		snprintf(key, sizeof key, "ep%d", i);
		snprintf(value, sizeof value, "value of %d", i);
		put_str(f, s, "endpoint", key, value);
	}
	before = file_size(f->journal);
	put_str(f, s, "endpoint", "last", "the record that gets torn");
	after = file_size(f->journal);
	store_close(s);
	assert_true(after > before);
	whole = slurp(f->journal, &len);
	assert_int_equal(len, (size_t)after);

	for (off = before; off < after; off++) {
		spill(f->journal, whole, (size_t)off);
		s = open_ok(f, 0);
		assert_int_equal(f->nloaded, (size_t)n - 1);
		for (i = 0; i < n - 1; i++) {
			snprintf(key, sizeof key, "ep%d", i);
			snprintf(value, sizeof value, "value of %d", i);
			assert_loaded(f, "endpoint", key, value);
		}
		assert_null(loaded_find(f, "endpoint", "last"));
		assert_int_equal(file_size(f->journal), before);

		put_str(f, s, "endpoint", "after", "appended after recovery");
		store_close(s);
		s = open_ok(f, 0);
		assert_int_equal(f->nloaded, (size_t)n);
		assert_loaded(f, "endpoint", "after",
		    "appended after recovery");
		assert_null(loaded_find(f, "endpoint", "last"));
		store_close(s);
	}

	/* The file system may also extend the file without writing the data. */
	spill(f->journal, whole, (size_t)before);
	s = open_ok(f, 0);
	store_close(s);
	{
		unsigned char	*zeros;
		size_t		 zlen = (size_t)(after - before);

		zeros = calloc(1, (size_t)after);
		assert_non_null(zeros);
		memcpy(zeros, whole, (size_t)before);
		spill(f->journal, zeros, (size_t)before + zlen);
		free(zeros);
	}
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, (size_t)n - 1);
	assert_int_equal(file_size(f->journal), before);
	store_close(s);
	free(whole);
}

/* A flipped byte anywhere in a record that is not the last is an error that
 * names the journal, never silently dropped data. */
static void
test_flip_early_record(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	*whole;
	char		 err[512];
	off_t		 start, end, off;
	size_t		 len;

	s = open_ok(f, 0);
	put_str(f, s, "network", "a", "first");
	start = file_size(f->journal);
	put_str(f, s, "network", "b", "second, the one we damage");
	end = file_size(f->journal);
	put_str(f, s, "network", "c", "third");
	put_str(f, s, "network", "d", "fourth");
	store_close(s);
	whole = slurp(f->journal, &len);

	for (off = start; off < end; off++) {
		spill(f->journal, whole, len);
		flip_byte(f->journal, off);
		s = open_key(f, f->key, 0, err, sizeof err);
		assert_null(s);
		assert_non_null(strstr(err, f->journal));
		assert_int_equal(file_size(f->journal), (off_t)len);
	}
	/* The header too. */
	for (off = 0; off < HEADER_BYTES; off++) {
		spill(f->journal, whole, len);
		flip_byte(f->journal, off);
		assert_null(open_key(f, f->key, 0, err, sizeof err));
		assert_non_null(strstr(err, f->journal));
	}
	/* A damaged last record with a good length is taken for a torn one. */
	spill(f->journal, whole, len);
	flip_byte(f->journal, (off_t)len - 10);
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 3);
	assert_null(loaded_find(f, "network", "d"));
	store_close(s);
	free(whole);
}

/* Records cannot be swapped: their position is authenticated. */
static void
test_reorder(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	*whole, *swapped;
	char		 err[512];
	off_t		 a, b, c;
	size_t		 len, rlen;

	s = open_ok(f, 0);
	a = file_size(f->journal);
	put_str(f, s, "kind", "k1", "AAAA");
	b = file_size(f->journal);
	put_str(f, s, "kind", "k2", "BBBB");
	c = file_size(f->journal);
	store_close(s);
	rlen = (size_t)(b - a);
	assert_int_equal((size_t)(c - b), rlen);
	whole = slurp(f->journal, &len);
	swapped = malloc(len);
	assert_non_null(swapped);
	memcpy(swapped, whole, len);
	memcpy(swapped + a, whole + b, rlen);
	memcpy(swapped + b, whole + a, rlen);
	spill(f->journal, swapped, len);
	assert_null(open_key(f, f->key, 0, err, sizeof err));
	assert_non_null(strstr(err, "authentication"));

	/* Nor replayed: the first record twice. */
	memcpy(swapped, whole, len);
	memcpy(swapped + b, whole + a, rlen);
	spill(f->journal, swapped, len);
	assert_null(open_key(f, f->key, 0, err, sizeof err));
	assert_non_null(strstr(err, f->journal));
	free(swapped);
	free(whole);
}

/* The wrong key is an error at open, not garbage data. */
static void
test_wrong_key(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	 other[32];
	char		 err[512];

	s = open_ok(f, 0);
	put_str(f, s, "network", "a", "secret");
	store_close(s);

	memcpy(other, f->key, sizeof other);
	other[31] ^= 1;
	s = open_key(f, other, 0, err, sizeof err);
	assert_null(s);
	assert_int_equal(f->nloaded, 0);
	assert_non_null(strstr(err, "authentication"));
	if (strcmp(backend, "pg") == 0) {
		assert_non_null(strstr(err, "key check"));
		s = open_ok(f, 0);
		assert_loaded(f, "network", "a", "secret");
		store_close(s);
		return;
	}
	assert_non_null(strstr(err, f->journal));

	/* Also with a snapshot. */
	s = open_ok(f, 0);
	assert_int_equal(store_compact(s), 0);
	store_close(s);
	assert_null(open_key(f, other, 0, err, sizeof err));
	assert_non_null(strstr(err, f->snapshot));
	s = open_ok(f, 0);
	assert_loaded(f, "network", "a", "secret");
	store_close(s);
}

/* Nothing is readable in the files: encrypted at rest. */
static void
test_encrypted_at_rest(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	*buf;
	size_t		 len;

	s = open_ok(f, 0);
	put_str(f, s, "network", "plainkey", "plainvalue");
	buf = slurp(f->journal, &len);
	assert_null(memmem(buf, len, "plainkey", 8));
	assert_null(memmem(buf, len, "plainvalue", 10));
	free(buf);
	assert_int_equal(store_compact(s), 0);
	buf = slurp(f->snapshot, &len);
	assert_null(memmem(buf, len, "plainvalue", 10));
	free(buf);
	store_close(s);
}

/* Compaction keeps exactly the live set and shrinks the journal; records
 * added afterwards go on top of the snapshot. */
static void
test_compaction(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		 key[32], value[64];
	off_t		 big;
	int		 i;

	s = open_ok(f, 0);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "n%03d", i);
		snprintf(value, sizeof value, "first value %d", i);
		put_str(f, s, "network", key, value);
	}
	for (i = 0; i < 200; i += 2) {
		snprintf(key, sizeof key, "n%03d", i);
		snprintf(value, sizeof value, "second value %d", i);
		put_str(f, s, "network", key, value);
	}
	for (i = 0; i < 200; i += 3) {
		snprintf(key, sizeof key, "n%03d", i);
		del(f, s, "network", key);
	}
	big = file_size(f->journal);
	assert_int_equal(file_size(f->snapshot), -1);
	assert_int_equal(store_compact(s), 0);
	assert_int_equal(file_size(f->journal), HEADER_BYTES);
	assert_true(file_size(f->snapshot) > 0);
	assert_true(file_size(f->snapshot) < big);
	put_str(f, s, "network", "n000", "back after delete");
	put_str(f, s, "network", "extra", "journal on top");
	del(f, s, "network", "n001");
	store_close(s);

	s = open_ok(f, 0);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "n%03d", i);
		if (i == 0) {
			assert_loaded(f, "network", key, "back after delete");
			continue;
		}
		if (i % 3 == 0 || i == 1) {
			assert_null(loaded_find(f, "network", key));
			continue;
		}
		snprintf(value, sizeof value, "%s value %d",
		    i % 2 == 0 ? "second" : "first", i);
		assert_loaded(f, "network", key, value);
	}
	assert_loaded(f, "network", "extra", "journal on top");
	assert_int_equal(f->nloaded, 200 - 67 - 1 + 1 + 1);

	/* Compact twice more (a second generation), reopen, same set. */
	assert_int_equal(store_compact(s), 0);
	assert_int_equal(store_compact(s), 0);
	store_close(s);
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 200 - 67 - 1 + 1 + 1);
	assert_loaded(f, "network", "extra", "journal on top");
	store_close(s);

	/* Compacting an empty store works and reopens empty. */
	rmdir_flat(f->dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	s = open_ok(f, 0);
	assert_int_equal(store_compact(s), 0);
	store_close(s);
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 0);
	store_close(s);
}

/* Crossing compact_bytes compacts by itself. */
static void
test_auto_compaction(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		 key[32], value[128];
	int		 i;

	s = open_ok(f, 4096);
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "ep%d", i % 50);
		snprintf(value, sizeof value, "%0100d", i);
		put_str(f, s, "endpoint", key, value);
		assert_true(file_size(f->journal) <= 4096);
	}
	assert_true(file_size(f->snapshot) > 0);
	store_close(s);
	s = open_ok(f, 4096);
	assert_int_equal(f->nloaded, 50);
	for (i = 250; i < 300; i++) {
		snprintf(key, sizeof key, "ep%d", i % 50);
		snprintf(value, sizeof value, "%0100d", i);
		assert_loaded(f, "endpoint", key, value);
	}
	store_close(s);
}

/* A flipped byte anywhere in the snapshot is an error naming it. */
static void
test_flip_snapshot(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	*whole;
	char		 err[512];
	size_t		 len, off;

	s = open_ok(f, 0);
	put_str(f, s, "network", "a", "one");
	put_str(f, s, "network", "b", "two");
	assert_int_equal(store_compact(s), 0);
	store_close(s);
	whole = slurp(f->snapshot, &len);
	for (off = 0; off < len; off++) {
		spill(f->snapshot, whole, len);
		flip_byte(f->snapshot, (off_t)off);
		assert_null(open_key(f, f->key, 0, err, sizeof err));
		assert_non_null(strstr(err, f->snapshot));
	}
	/* A snapshot cut short, even at a record boundary, is an error too. */
	for (off = len - 1; off > 0; off--) {
		spill(f->snapshot, whole, off);
		assert_null(open_key(f, f->key, 0, err, sizeof err));
		assert_non_null(strstr(err, f->snapshot));
	}
	spill(f->snapshot, whole, len);
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 2);
	store_close(s);
	free(whole);
}

/* A crash between the snapshot rename and the journal rename: the old journal
 * is already inside the snapshot and must not be applied twice or lost. */
static void
test_crash_mid_compaction(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	*old;
	size_t		 len;

	s = open_ok(f, 0);
	put_str(f, s, "network", "a", "one");
	put_str(f, s, "network", "b", "two");
	del(f, s, "network", "a");
	old = slurp(f->journal, &len);
	assert_int_equal(store_compact(s), 0);
	store_close(s);
	spill(f->journal, old, len);
	free(old);

	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 1);
	assert_loaded(f, "network", "b", "two");
	assert_int_equal(file_size(f->journal), HEADER_BYTES);
	put_str(f, s, "network", "c", "three");
	store_close(s);
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 2);
	assert_loaded(f, "network", "c", "three");
	store_close(s);
}

/* Deleted journal or snapshot is an error, not an empty store. */
static void
test_missing_files(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	unsigned char	*snap;
	char		 err[512];
	size_t		 len;

	s = open_ok(f, 0);
	put_str(f, s, "network", "a", "one");
	assert_int_equal(store_compact(s), 0);
	put_str(f, s, "network", "b", "two");
	store_close(s);

	snap = slurp(f->snapshot, &len);
	assert_int_equal(unlink(f->snapshot), 0);
	assert_null(open_key(f, f->key, 0, err, sizeof err));
	assert_non_null(strstr(err, f->journal));
	spill(f->snapshot, snap, len);
	free(snap);

	assert_int_equal(unlink(f->journal), 0);
	assert_null(open_key(f, f->key, 0, err, sizeof err));
	assert_non_null(strstr(err, "missing"));
}

/* A 1 MiB value goes through the journal and the snapshot. */
static void
test_big_value(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	const struct loaded	*l;
	unsigned char		*big;
	size_t			 len = 1024 * 1024, i;

	big = malloc(len);
	assert_non_null(big);
	for (i = 0; i < len; i++)
		big[i] = (unsigned char)(i * 31 + (i >> 11));
	s = open_ok(f, 0);
	put(f, s, "volume", "big", big, len);
	store_close(s);
	s = open_ok(f, 0);
	l = loaded_find(f, "volume", "big");
	assert_non_null(l);
	assert_int_equal(l->len, len);
	assert_memory_equal(l->value, big, len);
	assert_int_equal(store_compact(s), 0);
	store_close(s);
	s = open_ok(f, 0);
	l = loaded_find(f, "volume", "big");
	assert_non_null(l);
	assert_memory_equal(l->value, big, len);
	store_close(s);
	free(big);
}

/* Bad arguments are refused at once, without a callback. */
static void
test_bad_args(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct store_params	 params;
	struct done		 d;
	char			 err[512], longkind[STORE_KIND_MAX + 2];

	memset(&params, 0, sizeof params);
	params.backend = "nosuch";
	params.dir = f->dir;
	params.key = f->key;
	assert_null(store_open(f->base, &params, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "nosuch"));
	params.backend = "file";
	params.key = NULL;
	assert_null(store_open(f->base, &params, NULL, NULL, err, sizeof err));
	params.key = f->key;
	params.dir = NULL;
	assert_null(store_open(f->base, &params, NULL, NULL, err, sizeof err));

	s = open_ok(f, 0);
	memset(&d, 0, sizeof d);
	memset(longkind, 'k', sizeof longkind - 1);
	longkind[sizeof longkind - 1] = '\0';
	assert_int_equal(store_put(s, NULL, "k", "v", 1, on_done, &d), -1);
	assert_int_equal(store_put(s, "", "k", "v", 1, on_done, &d), -1);
	assert_int_equal(store_put(s, "kind", "", "v", 1, on_done, &d), -1);
	assert_int_equal(store_put(s, longkind, "k", "v", 1, on_done, &d), -1);
	assert_int_equal(store_put(s, "kind", "k", NULL, 1, on_done, &d), -1);
	assert_int_equal(store_put(s, "kind", "k", "v",
	    (size_t)STORE_VALUE_MAX + 1, on_done, &d), -1);
	assert_int_equal(store_del(s, "kind", NULL, on_done, &d), -1);
	assert_int_equal(store_put(NULL, "kind", "k", "v", 1, on_done, &d), -1);
	assert_int_equal(store_insert(s, "kind", "", "v", 1, on_done, &d), -1);
	run_ready(f->base);
	assert_int_equal(d.called, 0);

	/* One process per directory. */
	if (strcmp(backend, "file") == 0) {
		assert_null(open_key(f, f->key, 0, err, sizeof err));
		assert_non_null(strstr(err, "lock"));
	}
	store_close(s);
	store_close(NULL);
}

/* Wait for the one callback of a change just queued; returns its error. */
static const char *
wait_done(struct fixture *f, struct done *d)
{
	assert_int_equal(d->called, 0);
	RUN_UNTIL(f, d->called > 0);
	assert_int_equal(d->called, 1);
	return (d->failed ? d->error : NULL);
}

/* Insert and wait; returns the error (NULL: inserted). */
static const char *
insert(struct fixture *f, struct store *s, const char *kind, const char *key,
    const char *value, struct done *d)
{
	memset(d, 0, sizeof *d);
	assert_int_equal(store_insert(s, kind, key, value, strlen(value),
	    on_done, d), 0);
	return (wait_done(f, d));
}

/* Insert takes a free key only: a live one is STORE_ERR_EXISTS, a deleted one
 * is free again, and a refused insert changes nothing. */
static void
test_insert(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct done	 d;

	s = open_ok(f, 0);
	assert_null(insert(f, s, "address", "198.18.0.2", "first", &d));
	assert_true(store_error_exists(insert(f, s, "address", "198.18.0.2",
	    "second", &d)));
	assert_string_equal(d.error, STORE_ERR_EXISTS);
	store_close(s);
	s = open_ok(f, 0);
	assert_loaded(f, "address", "198.18.0.2", "first");
	del(f, s, "address", "198.18.0.2");
	assert_null(insert(f, s, "address", "198.18.0.2", "third", &d));
	put_str(f, s, "address", "198.18.0.2", "put overwrites");
	assert_false(store_error_exists(NULL));
	assert_false(store_error_exists("something else"));
	store_close(s);
	s = open_ok(f, 0);
	assert_int_equal(f->nloaded, 1);
	assert_loaded(f, "address", "198.18.0.2", "put overwrites");
	store_close(s);
}

/* store_del_unless and wait; returns the error (NULL: this call deleted). */
static const char *
del_unless(struct fixture *f, struct store *s, const char *kind,
    const char *key, const char *ref_kind, const char *ref_prefix, int mine,
    struct done *d)
{
	memset(d, 0, sizeof *d);
	assert_int_equal(store_del_unless(s, kind, key, ref_kind, ref_prefix,
	    mine, on_done, d), 0);
	return (wait_done(f, d));
}

/* A record goes with its last reference: kept while one of ref_kind lives
 * under the prefix (another kind, or a key outside it, does not count), then
 * deleted once, then absent; and the delete is durable. */
static void
test_del_unless(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct done	 d;

	s = open_ok(f, 0);
	put_str(f, s, "name", "n/4", "pool");
	put_str(f, s, "ref", "n/4 host-a", "1");
	put_str(f, s, "ref", "n/44 host-b", "1");
	put_str(f, s, "other", "n/4 host-c", "1");
	assert_true(store_error_exists(del_unless(f, s, "name", "n/4", "ref",
	    "n/4 ", 0, &d)));
	assert_true(store_error_exists(del_unless(f, s, "name", "n/4", "ref",
	    "n/4 ", 1, &d)));
	del(f, s, "ref", "n/4 host-a");
	assert_null(del_unless(f, s, "name", "n/4", "ref", "n/4 ", 1, &d));
	assert_true(store_error_absent(del_unless(f, s, "name", "n/4", "ref",
	    "n/4 ", 0, &d)));
	assert_false(store_error_absent(NULL));
	assert_false(store_error_absent(STORE_ERR_EXISTS));
	assert_int_equal(store_del_unless(s, "name", "", "ref", "n", 0,
	    on_done, &d), -1);
	assert_int_equal(store_del_unless(s, "name", "n", "ref", "", 0,
	    on_done, &d), -1);
	store_close(s);
	s = open_ok(f, 0);
	assert_null(loaded_find(f, "name", "n/4"));
	assert_int_equal(f->nloaded, 2);
	store_close(s);
}

#define WATCH_MAX	64

struct watched {
	int	n;
	char	kind[WATCH_MAX][STORE_KIND_MAX + 1];
	char	key[WATCH_MAX][64];
	char	value[WATCH_MAX][64];	/* "" and deleted = 1: deleted */
	int	deleted[WATCH_MAX];
};

/* Watch callback: note another host's change. */
static void
on_watch(const char *kind, const char *key, const void *value, size_t len,
    void *arg)
{
	struct watched	*w = arg;

	assert_true(w->n < WATCH_MAX);
	snprintf(w->kind[w->n], sizeof w->kind[w->n], "%s", kind);
	snprintf(w->key[w->n], sizeof w->key[w->n], "%s", key);
	w->deleted[w->n] = value == NULL;
	snprintf(w->value[w->n], sizeof w->value[w->n], "%.*s", (int)len,
	    value != NULL ? (const char *)value : "");
	w->n++;
}

/* A second store on the same state hears of the first one's changes, in
 * order, and never of its own.  The file backend has no other host. */
static void
test_watch(void **state)
{
	struct fixture	*f = *state;
	struct store	*a, *b;
	struct watched	 wa, wb;
	time_t		 until;
	int		 i, seen;

	memset(&wa, 0, sizeof wa);
	memset(&wb, 0, sizeof wb);
	a = open_ok(f, 0);
	assert_int_equal(store_watch(a, on_watch, &wa), 0);
	assert_int_equal(store_watch(NULL, on_watch, &wa), -1);
	if (strcmp(backend, "file") == 0) {
		put_str(f, a, "network", "n1", "one");
		run_ready(f->base);
		assert_int_equal(wa.n, 0);
		store_close(a);
		return;
	}
	put_str(f, a, "network", "before", "replayed, not watched");
	b = open_ok(f, 0);
	assert_loaded(f, "network", "before", "replayed, not watched");
	assert_int_equal(store_watch(b, on_watch, &wb), 0);
	put_str(f, a, "network", "n1", "one");
	put_str(f, a, "network", "n1", "one again");
	put_str(f, a, "endpoint", "e1", "ep");
	del(f, a, "network", "n1");
	put_str(f, b, "volume", "v1", "from b");
	RUN_UNTIL(f, wb.n >= 1 && wb.deleted[wb.n - 1] && wa.n >= 1);
	/* Give a stray extra report the chance to show up. */
	until = time(NULL) + 1;
	while (time(NULL) <= until)
		event_base_loop(f->base, EVLOOP_ONCE);
	/*
	 * Reports come in version order and a follower that reads late sees a
	 * record's latest state only (two puts of n1 may be one report): so
	 * e1 once, then n1's delete last; never B's own change.
	 */
	assert_true(wb.n >= 2 && wb.n <= 4);
	for (i = 0, seen = 0; i < wb.n; i++) {
		assert_string_not_equal(wb.key[i], "v1");
		if (strcmp(wb.key[i], "e1") == 0) {
			assert_string_equal(wb.kind[i], "endpoint");
			assert_string_equal(wb.value[i], "ep");
			seen++;
		}
	}
	assert_int_equal(seen, 1);
	assert_string_equal(wb.key[wb.n - 1], "n1");
	assert_int_equal(wb.deleted[wb.n - 1], 1);
	assert_int_equal(wa.n, 1);
	assert_string_equal(wa.key[0], "v1");
	assert_string_equal(wa.value[0], "from b");
	store_close(b);

	/* A follower that polls once an hour still hears at once: NOTIFY. */
	pg_poll_ms = 3600000;
	b = open_ok(f, 0);
	pg_poll_ms = 20;
	memset(&wb, 0, sizeof wb);
	assert_int_equal(store_watch(b, on_watch, &wb), 0);
	until = time(NULL) + 1;		/* its LISTEN is in */
	while (time(NULL) <= until)
		event_base_loop(f->base, EVLOOP_ONCE);
	memset(&wa, 0, sizeof wa);
	put_str(f, a, "network", "woken", "by notify");
	until = time(NULL) + 3;
	while (wb.n == 0 && time(NULL) <= until)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(wb.n, 1);
	assert_string_equal(wb.key[0], "woken");
	store_close(b);
	store_close(a);
}

#define RACE_KEYS	200

struct race {
	int	won[RACE_KEYS];
	int	lost[RACE_KEYS];
	int	failed;
	int	done;
};

struct race_arg {
	struct race	*race;
	int		 i;
};

/* One racer's outcome. */
static void
on_race(const char *error, void *arg)
{
	struct race_arg	*ra = arg;

	if (error == NULL)
		ra->race->won[ra->i]++;
	else if (store_error_exists(error))
		ra->race->lost[ra->i]++;
	else {
		fprintf(stderr, "race: %s\n", error);
		ra->race->failed++;
	}
	ra->race->done++;
}

/* Two stores (two hosts) insert the same keys at the same moment on two
 * connections: every key is won exactly once, the other attempt refused. */
static void
test_pg_race(void **state)
{
	struct fixture	*f = *state;
	struct store	*a, *b;
	struct race	 race;
	struct race_arg	 args[2][RACE_KEYS];
	char		 key[32];
	int		 i;

	memset(&race, 0, sizeof race);
	a = open_ok(f, 0);
	b = open_ok(f, 0);
	for (i = 0; i < RACE_KEYS; i++) {
		snprintf(key, sizeof key, "pool 198.18.%d.%d", i / 250, i % 250);
		args[0][i].race = args[1][i].race = &race;
		args[0][i].i = args[1][i].i = i;
		assert_int_equal(store_insert(i % 2 ? a : b, "address", key, "a",
		    1, on_race, &args[0][i]), 0);
		assert_int_equal(store_insert(i % 2 ? b : a, "address", key, "b",
		    1, on_race, &args[1][i]), 0);
	}
	RUN_UNTIL(f, race.done == 2 * RACE_KEYS);
	assert_int_equal(race.failed, 0);
	for (i = 0; i < RACE_KEYS; i++) {
		assert_int_equal(race.won[i], 1);
		assert_int_equal(race.lost[i], 1);
	}
	store_close(a);
	store_close(b);
	a = open_ok(f, 0);
	assert_int_equal(f->nloaded, RACE_KEYS);
	store_close(a);
}

/* Two hosts drop their references to one record at once, each then deleting
 * it unless a reference remains: whatever the interleaving, exactly one of
 * them deletes it, many times over. */
static void
test_pg_del_unless_race(void **state)
{
	struct fixture	*f = *state;
	struct store	*a, *b;
	struct done	 da, db, ua, ub;
	char		 key[32], ref[48];
	int		 i, deleted;

	a = open_ok(f, 0);
	b = open_ok(f, 0);
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof key, "net%d/4", i);
		put_str(f, a, "name", key, "pool");
		snprintf(ref, sizeof ref, "%s a", key);
		put_str(f, a, "ref", ref, "1");
		snprintf(ref, sizeof ref, "%s b", key);
		put_str(f, b, "ref", ref, "1");
		memset(&da, 0, sizeof da);
		memset(&db, 0, sizeof db);
		memset(&ua, 0, sizeof ua);
		memset(&ub, 0, sizeof ub);
		/* Each store runs its statements in order: its own reference
		 * is gone before it counts the others. */
		snprintf(ref, sizeof ref, "%s a", key);
		assert_int_equal(store_del(a, "ref", ref, on_done, &da), 0);
		snprintf(ref, sizeof ref, "%s b", key);
		assert_int_equal(store_del(b, "ref", ref, on_done, &db), 0);
		snprintf(ref, sizeof ref, "%s ", key);
		assert_int_equal(store_del_unless(a, "name", key, "ref", ref,
		    0, on_done, &ua), 0);
		assert_int_equal(store_del_unless(b, "name", key, "ref", ref,
		    0, on_done, &ub), 0);
		RUN_UNTIL(f, ua.called > 0 && ub.called > 0);
		assert_int_equal(da.failed + db.failed, 0);
		deleted = (ua.failed == 0) + (ub.failed == 0);
		if (deleted != 1)
			fail_msg("round %d: %d deleted (%s, %s)", i, deleted,
			    ua.failed ? ua.error : "deleted",
			    ub.failed ? ub.error : "deleted");
		assert_true(ua.failed == 0 || store_error_exists(ua.error) ||
		    store_error_absent(ua.error));
		assert_true(ub.failed == 0 || store_error_exists(ub.error) ||
		    store_error_absent(ub.error));
	}
	/* mine: a record the other host wrote is not this one's to delete. */
	put_str(f, b, "name", "theirs/4", "pool");
	assert_true(store_error_absent(del_unless(f, a, "name", "theirs/4",
	    "ref", "theirs/4 ", 1, &ua)));
	put_str(f, b, "ref", "theirs/4 b", "1");
	assert_true(store_error_absent(del_unless(f, a, "name", "theirs/4",
	    "ref", "theirs/4 ", 1, &ua)));
	assert_true(store_error_exists(del_unless(f, a, "name", "theirs/4",
	    "ref", "theirs/4 ", 0, &ua)));
	assert_true(store_error_exists(del_unless(f, b, "name", "theirs/4",
	    "ref", "theirs/4 ", 1, &ub)));
	del(f, b, "ref", "theirs/4 b");
	assert_null(del_unless(f, b, "name", "theirs/4", "ref", "theirs/4 ", 1,
	    &ub));
	store_close(a);
	store_close(b);
	a = open_ok(f, 0);
	assert_int_equal(f->nloaded, 0);
	store_close(a);
}

/* The server drops the connection while changes are queued and in flight:
 * every change still completes once, after the reconnect, and is there. */
static void
test_pg_reconnect(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct done	 d[50];
	char		 key[32];
	int		 i, n;

	s = open_ok(f, 0);
	memset(d, 0, sizeof d);
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof key, "k%02d", i);
		assert_int_equal(store_put(s, "kind", key, "v", 1, on_done,
		    &d[i]), 0);
		if (i == 10)
			RUN_UNTIL(f, d[5].called);
	}
	pg_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE application_name = 'netcraved'");
	for (i = 0; i < 50; i++) {
		RUN_UNTIL(f, d[i].called);
		assert_int_equal(d[i].called, 1);
		if (d[i].failed)
			fail_msg("change %d: %s", i, d[i].error);
	}
	/* And the connection is usable again. */
	put_str(f, s, "kind", "after", "v");
	store_close(s);
	s = open_ok(f, 0);
	for (i = 0, n = 0; i < 50; i++) {
		snprintf(key, sizeof key, "k%02d", i);
		n += loaded_find(f, "kind", key) != NULL;
	}
	assert_int_equal(n, 50);
	store_close(s);
}

/* At most queue_max changes wait for the database; more fail at once with
 * the reason, and the ones queued still complete. */
static void
test_pg_queue_bound(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct done	 d[10];
	char		 key[16];
	int		 i, ok = 0, refused = 0;

	pg_queue_max = 5;
	s = open_ok(f, 0);
	pg_queue_max = 0;
	put_str(f, s, "kind", "first", "v");	/* start-up statements done */
	memset(d, 0, sizeof d);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(store_put(s, "kind", key, "v", 1, on_done,
		    &d[i]), 0);
	}
	for (i = 0; i < 10; i++) {
		RUN_UNTIL(f, d[i].called);
		if (d[i].failed) {
			assert_non_null(strstr(d[i].error,
			    "changes already wait for the database"));
			refused++;
		} else
			ok++;
	}
	assert_int_equal(ok, 5);
	assert_int_equal(refused, 5);
	store_close(s);
}

/* Values in the database are sealed; kinds and keys stay readable (they
 * carry the uniqueness).  A newer schema than this code knows is refused. */
static void
test_pg_at_rest_and_schema(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	PGconn		*conn;
	PGresult	*res;
	char		 err[512];

	s = open_ok(f, 0);
	put_str(f, s, "network", "plainkey", "plainvalue");
	store_close(s);
	conn = PQconnectdb(pg_conninfo);
	assert_int_equal(PQstatus(conn), CONNECTION_OK);
	res = PQexecParams(conn, "SELECT value FROM netcrave_records WHERE "
	    "key = 'plainkey'", 0, NULL, NULL, NULL, NULL, 1);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	assert_int_equal(PQgetlength(res, 0, 0), 10 + 1 + 12 + 16);
	assert_null(memmem(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0),
	    "plainvalue", 10));
	PQclear(res);
	PQfinish(conn);

	pg_sql("UPDATE netcrave_schema SET version = 99");
	assert_null(open_key(f, f->key, 0, err, sizeof err));
	assert_non_null(strstr(err, "schema version 99"));
}

/* Tests for every backend. */
#define BOTH_TESTS \
	cmocka_unit_test_setup_teardown(test_reopen, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_done_deferred, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_close_delivers, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_callback_reentry, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_big_value, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_insert, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_del_unless, setup, teardown), \
	cmocka_unit_test_setup_teardown(test_watch, setup, teardown)

/* The file backend, or with NETCRAVE_TEST_PG set the pg backend on it. */
int
main(void)
{
	const struct CMUnitTest pg_tests[] = {
		BOTH_TESTS,
		cmocka_unit_test_setup_teardown(test_pg_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_del_unless_race, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pg_reconnect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pg_at_rest_and_schema,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_queue_bound, setup,
		    teardown),
	};
	const struct CMUnitTest tests[] = {
		BOTH_TESTS,
		cmocka_unit_test_setup_teardown(test_torn_every_offset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flip_early_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reorder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypted_at_rest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auto_compaction, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flip_snapshot, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_mid_compaction,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_files, setup,
		    teardown),
	};

	if ((pg_conninfo = getenv("NETCRAVE_TEST_PG")) != NULL &&
	    *pg_conninfo != '\0') {
		backend = "pg";
		return (cmocka_run_group_tests_name("store (pg)", pg_tests,
		    NULL, NULL));
	}
	return (cmocka_run_group_tests_name("store (file)", tests, NULL,
	    NULL));
}
