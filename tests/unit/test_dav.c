/* test_dav.c: the WebDAV pieces that need no server: the encrypted block
 * store against a plain model (random writes, truncation, the writer), its
 * tamper and swap detection, files committed later and synced a few at a
 * time, path checks, the If header and XML parsers. */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "dav_if.h"
#include "dav_store.h"
#include "dav_xml.h"
#include "keys.h"

struct fixture {
	char			 top[64];
	char			 dir[128];
	struct dav_store	*st;
	struct dav_volume	*vol;
};

/* A store with one volume under a fresh directory. */
static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof *f);
	char		 err[256], keys[192];

	assert_non_null(f);
	snprintf(f->top, sizeof f->top, "/tmp/test_dav.XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(keys, sizeof keys, "%s/keys", f->top);
	snprintf(f->dir, sizeof f->dir, "%s/volumes", f->top);
	assert_int_equal(keys_open(keys, err, sizeof err), 0);
	f->st = dav_store_open(f->dir, err, sizeof err);
	assert_non_null(f->st);
	assert_int_equal(dav_volume_create(f->st, "v", err, sizeof err), 0);
	f->vol = dav_volume_find(f->st, "v");
	assert_non_null(f->vol);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	dav_store_close(f->st);
	keys_close();
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->top);
	assert_int_equal(system(cmd), 0);
	free(f);
	return (0);
}

/* Write a file through the writer; later: without its fsync. */
static void
put_as(struct fixture *f, const char *path, const void *data, size_t len,
    int later)
{
	struct dav_writer	*w;
	char			 err[256];

	w = dav_writer_new(f->vol, err, sizeof err);
	assert_non_null(w);
	assert_int_equal(dav_writer_add(w, data, len, err, sizeof err), 0);
	if (later)
		assert_int_equal(dav_writer_commit_later(w, path, err,
		    sizeof err), 0);
	else
		assert_int_equal(dav_writer_commit(w, path, err, sizeof err),
		    0);
}

static void
put(struct fixture *f, const char *path, const void *data, size_t len)
{
	put_as(f, path, data, len, 0);
}

/* The whole plaintext of a file equals model. */
static void
check_model(struct fixture *f, const char *path, const unsigned char *model,
    size_t len)
{
	struct dav_file	*df;
	unsigned char	*buf = malloc(len + 1);
	struct dav_stat	 sb;
	char		 err[256];

	assert_int_equal(dav_stat(f->vol, path, &sb, err, sizeof err), 0);
	assert_true(sb.exists);
	assert_int_equal(sb.size, len);
	df = dav_file_open(f->vol, path, 0, err, sizeof err);
	assert_non_null(df);
	assert_int_equal(dav_file_size(df), len);
	assert_int_equal(dav_file_read(df, buf, len + 1, 0, err, sizeof err),
	    (ssize_t)len);
	assert_memory_equal(buf, model, len);
	dav_file_close(df);
	free(buf);
}

/* Random writes, extensions and truncations agree with a byte array. */
static void
test_random_access(void **state)
{
	struct fixture	*f = *state;
	unsigned char	*model, *data;
	struct dav_file	*df;
	size_t		 size = 0, cap = 64 * 1024, off, len, i;
	char		 err[256];

	model = calloc(1, cap);
	data = malloc(cap);
	srandom(5);
	put(f, "r", NULL, 0);
	check_model(f, "r", model, 0);
	df = dav_file_open(f->vol, "r", 1, err, sizeof err);
	assert_non_null(df);
	for (i = 0; i < 300; i++) {
		off = random() % (cap / 2);
		len = random() % (i % 7 == 0 ? 9000 : 300);
		if (i % 11 == 0) {
			/* Truncate (shrink or grow). */
			assert_int_equal(dav_file_truncate(df, off, err,
			    sizeof err), 0);
			if (off > size)
				memset(model + size, 0, off - size);
			size = off;
			continue;
		}
		for (size_t k = 0; k < len; k++)
			data[k] = random();
		assert_int_equal(dav_file_write(df, data, len, off, err,
		    sizeof err), 0);
		if (off > size)
			memset(model + size, 0, off - size);
		memcpy(model + off, data, len);
		if (off + len > size)
			size = off + len;
		assert_int_equal(dav_file_size(df), size);
	}
	dav_file_close(df);
	check_model(f, "r", model, size);
	free(model);
	free(data);
}

/* Block-size edges: 0, 1, 4095, 4096, 4097, 8192 bytes through the writer. */
static void
test_writer_edges(void **state)
{
	static const size_t	 sizes[] = { 0, 1, 4095, 4096, 4097, 8192, 12289 };
	struct fixture		*f = *state;
	unsigned char		 buf[12289];
	char			 name[16];
	size_t			 i;

	for (i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 7);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		snprintf(name, sizeof name, "e%zu", i);
		put(f, name, buf, sizes[i]);
		check_model(f, name, buf, sizes[i]);
	}
}

/* Open fds of this process. */
static int
count_fds(void)
{
	char	 path[64];
	int	 fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return (n);
}

/* Store a new file without its fsync. */
static void
put_later(struct fixture *f, const char *path, const void *data, size_t len)
{
	put_as(f, path, data, len, 1);
}

/*
 * Files committed later wait, oldest first, and are synced a few at a time:
 * the marks count them, a run of files in one directory holds one directory
 * fd (a directory met again after another holds a second), and once all are
 * synced no fd is left.  A file replaced is synced at once, never queued.
 */
static void
test_sync_later(void **state)
{
	static const char *const names[] = { "a/f0", "a/f1", "a/f2", "a/f3",
	    "a/f4", "b/g0", "b/g1", "b/g2", "a/h0", "a/h1" };
	struct fixture	*f = *state;
	char		 err[256];
	size_t		 i;
	int		 fds;

	assert_int_equal(dav_mkcol(f->vol, "a", err, sizeof err), 0);
	assert_int_equal(dav_mkcol(f->vol, "b", err, sizeof err), 0);
	fds = count_fds();
	for (i = 0; i < 10; i++)
		put_later(f, names[i], names[i], strlen(names[i]));
	assert_int_equal(dav_volume_unsynced(f->vol), 10);
	assert_int_equal(dav_volume_sync_mark(f->vol), 10);
	assert_int_equal(dav_volume_synced(f->vol), 0);
	/* Ten files, and the directories a, b, a again. */
	assert_int_equal(count_fds(), fds + 10 + 3);

	assert_int_equal(dav_volume_sync_some(f->vol, 4), 4);
	assert_int_equal(dav_volume_synced(f->vol), 4);
	assert_int_equal(dav_volume_unsynced(f->vol), 6);
	/* f0's directory fd went with it: a/f4 still waits without one. */
	assert_int_equal(count_fds(), fds + 6 + 2);

	/* One more in a: a/h0 holds that directory, still waiting. */
	put_later(f, "a/h2", "h2", 2);
	assert_int_equal(count_fds(), fds + 7 + 2);
	assert_int_equal(dav_volume_sync_mark(f->vol), 11);
	/* The name is there at once; replaced, it is synced, not queued. */
	check_model(f, "a/h2", (const unsigned char *)"h2", 2);
	put_later(f, "a/f0", "new", 3);
	assert_int_equal(dav_volume_sync_mark(f->vol), 11);

	assert_int_equal(dav_volume_sync_some(f->vol, 100), 7);
	assert_int_equal(dav_volume_synced(f->vol), 11);
	assert_int_equal(dav_volume_unsynced(f->vol), 0);
	assert_int_equal(dav_volume_sync_some(f->vol, 100), 0);
	assert_int_equal(count_fds(), fds);
	assert_int_equal(dav_volume_sync_error(f->vol, err, sizeof err), 0);
	for (i = 1; i < 10; i++)
		check_model(f, names[i], (const unsigned char *)names[i],
		    strlen(names[i]));
	check_model(f, "a/f0", (const unsigned char *)"new", 3);

	/* Many through a short queue: the front is dropped as it goes. */
	for (i = 0; i < 300; i++) {
		char	 name[32];

		snprintf(name, sizeof name, "%s/m%zu", i % 7 ? "a" : "b", i);
		put_later(f, name, name, strlen(name));
		if (i % 3 == 2)
			assert_int_equal(dav_volume_sync_some(f->vol, 2), 2);
	}
	assert_int_equal(dav_volume_sync_mark(f->vol), 311);
	assert_int_equal(dav_volume_synced(f->vol) +
	    dav_volume_unsynced(f->vol), 311);
	assert_int_equal(dav_volume_sync(f->vol, 1, err, sizeof err), 0);
	assert_int_equal(dav_volume_synced(f->vol), 311);
	assert_int_equal(count_fds(), fds);
}

/* Path of a file's data on disk. */
static void
disk_path(struct fixture *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/v/data/%s", f->dir, name);
}

/* A flipped byte, a cut at a block boundary, swapped blocks: all EIO. */
static void
test_tamper(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 buf[3 * 4096], slot[4124];
	struct dav_file	*df;
	char		 p[256], err[256];
	int		 fd;

	memset(buf, 'a', sizeof buf);
	memset(buf + 4096, 'b', 4096);
	/* Flip one ciphertext byte of block 1. */
	put(f, "t1", buf, sizeof buf);
	disk_path(f, "t1", p, sizeof p);
	fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 24 + 4124 + 100), 1);
	close(fd);
	df = dav_file_open(f->vol, "t1", 0, err, sizeof err);
	assert_non_null(df);
	assert_int_equal(dav_file_read(df, buf, 10, 0, err, sizeof err), 10);
	assert_int_equal(dav_file_read(df, buf, 10, 4096, err, sizeof err), -1);
	assert_int_equal(errno, EIO);
	assert_non_null(strstr(err, "block 1"));
	dav_file_close(df);
	/* Cut after two whole blocks: block 1 claims not to be the last. */
	put(f, "t2", buf, sizeof buf);
	disk_path(f, "t2", p, sizeof p);
	assert_int_equal(truncate(p, 24 + 2 * 4124), 0);
	df = dav_file_open(f->vol, "t2", 0, err, sizeof err);
	assert_non_null(df);
	assert_int_equal(dav_file_read(df, buf, 4096, 4096, err, sizeof err), -1);
	dav_file_close(df);
	/* Swap blocks 0 and 1: the index in the AAD catches it. */
	put(f, "t3", buf, sizeof buf);
	disk_path(f, "t3", p, sizeof p);
	fd = open(p, O_RDWR);
	assert_int_equal(pread(fd, slot, sizeof slot, 24), (ssize_t)sizeof slot);
	assert_int_equal(pwrite(fd, slot, sizeof slot, 24 + 4124),
	    (ssize_t)sizeof slot);
	close(fd);
	df = dav_file_open(f->vol, "t3", 0, err, sizeof err);
	assert_int_equal(dav_file_read(df, buf, 10, 4096, err, sizeof err), -1);
	dav_file_close(df);
	/* A damaged header: the file does not open. */
	put(f, "t4", buf, 10);
	disk_path(f, "t4", p, sizeof p);
	fd = open(p, O_RDWR);
	assert_int_equal(pwrite(fd, "Z", 1, 0), 1);
	close(fd);
	assert_null(dav_file_open(f->vol, "t4", 0, err, sizeof err));
}

/* Dead properties round-trip; a symlink in the tree is refused. */
static void
test_props_and_symlink(void **state)
{
	struct fixture	*f = *state;
	char		 ns0[] = "urn:a", n0[] = "x",
			 v0[] = "<e3:v xmlns:e3=\"urn:b\">1</e3:v>",
			 ns1[] = "", n1[] = "plain", v1[] = "text";
	struct dav_prop	 in[2] = { { ns0, n0, v0 }, { ns1, n1, v1 } };
	struct dav_prop	*out;
	struct dav_stat	 sb;
	size_t		 n;
	char		 p[256], err[256];

	assert_int_equal(dav_mkcol(f->vol, "c", err, sizeof err), 0);
	assert_int_equal(dav_props_save(f->vol, "c", 1, in, 2, err,
	    sizeof err), 0);
	assert_int_equal(dav_props_load(f->vol, "c", 1, &out, &n, err,
	    sizeof err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].value, in[0].value);
	assert_string_equal(out[1].ns, "");
	dav_props_free(out, n);
	disk_path(f, "link", p, sizeof p);
	assert_int_equal(symlink("/etc", p), 0);
	assert_int_equal(dav_stat(f->vol, "link", &sb, err, sizeof err), -1);
	assert_int_equal(errno, ELOOP);
	assert_null(dav_file_open(f->vol, "link/passwd", 0, err, sizeof err));
	/* A link deeper down, and a file where a directory should be. */
	assert_int_equal(dav_mkcol(f->vol, "c/d", err, sizeof err), 0);
	disk_path(f, "c/d/up", p, sizeof p);
	assert_int_equal(symlink("..", p), 0);
	assert_int_equal(dav_stat(f->vol, "c/d/up/c", &sb, err, sizeof err), -1);
	assert_int_equal(errno, ELOOP);
	assert_null(dav_file_open(f->vol, "c/d/up", 0, err, sizeof err));
	put(f, "c/file", "x", 1);
	assert_int_equal(dav_stat(f->vol, "c/file/x", &sb, err, sizeof err), 0);
	assert_false(sb.exists);
}

/* The same store tests confine paths without openat2 (older kernels). */
static int
setup_walk(void **state)
{
	dav_store_without_openat2(1);
	return (setup(state));
}

static int
teardown_walk(void **state)
{
	dav_store_without_openat2(0);
	return (teardown(state));
}

/* Path checks refuse what could leave the volume. */
static void
test_paths(void **state)
{
	const char	*why;
	char		 longname[300];

	(void)state;
	assert_true(dav_store_path_ok("", &why));
	assert_true(dav_store_path_ok("a/b.c/..d", &why));
	assert_false(dav_store_path_ok("..", &why));
	assert_false(dav_store_path_ok("a/../b", &why));
	assert_false(dav_store_path_ok("a/./b", &why));
	assert_false(dav_store_path_ok("a//b", &why));
	assert_false(dav_store_path_ok("a/.netcrave/x", &why));
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_false(dav_store_path_ok(longname, &why));
	assert_false(dav_volume_name_ok(".v"));
	assert_false(dav_volume_name_ok("v/w"));
	assert_true(dav_volume_name_ok("vol-1.x_y"));
}

/* The If header grammar. */
static void
test_if_header(void **state)
{
	struct dav_if	 h;
	char		 err[256];

	(void)state;
	assert_int_equal(dav_if_parse("(<urn:uuid:1> [\"e\"]) (Not <DAV:no-lock>)",
	    &h, err, sizeof err), 0);
	assert_int_equal(h.nlists, 2);
	assert_int_equal(h.lists[0].nconds, 2);
	assert_true(h.lists[0].conds[1].is_etag);
	assert_string_equal(h.lists[0].conds[1].value, "\"e\"");
	assert_true(h.lists[1].conds[0].negate);
	assert_null(h.lists[0].tag);
	dav_if_free(&h);
	assert_int_equal(dav_if_parse("<http://h/a> (<urn:x>) <http://h/b> "
	    "([W/\"1\"])", &h, err, sizeof err), 0);
	assert_int_equal(h.nlists, 2);
	assert_string_equal(h.lists[1].tag, "http://h/b");
	dav_if_free(&h);
	assert_int_equal(dav_if_parse("(<a", &h, err, sizeof err), -1);
	assert_int_equal(dav_if_parse("()", &h, err, sizeof err), -1);
	assert_int_equal(dav_if_parse("(<a>) <http://h/> (<b>)", &h, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "tagged list after untagged"));
	assert_int_equal(dav_if_parse("", &h, err, sizeof err), -1);
}

/* XML: namespaces resolved, DOCTYPE and bad prefixes refused, values stand
 * alone once serialised. */
static void
test_xml(void **state)
{
	static const char	 doc[] = "<D:propertyupdate xmlns:D=\"DAV:\" "
	    "xmlns:Z=\"urn:z\"><D:set><D:prop><Z:p xml:lang=\"en\"><Z:q a=\"1\">"
	    "x&amp;y</Z:q><n xmlns=\"\">t</n></Z:p></D:prop></D:set>"
	    "</D:propertyupdate>";
	struct dav_xml		*x, *p, *again;
	struct evbuffer		*b;
	char			 err[256], *s, *w;

	(void)state;
	x = dav_xml_parse(doc, sizeof doc - 1, err, sizeof err);
	assert_non_null(x);
	assert_true(dav_xml_is(x, DAV_NS, "propertyupdate"));
	p = dav_xml_child(dav_xml_child(x, DAV_NS, "set"), DAV_NS, "prop");
	assert_non_null(p);
	p = dav_xml_first_element(p);
	assert_string_equal(p->ns, "urn:z");
	b = evbuffer_new();
	dav_xml_serialize_children(b, p);
	evbuffer_add(b, "", 1);
	s = strdup((char *)evbuffer_pullup(b, -1));
	assert_non_null(strstr(s, "x&amp;y"));
	assert_int_equal(asprintf(&w, "<r>%s</r>", s) > 0, 1);
	again = dav_xml_parse(w, strlen(w), err, sizeof err);
	assert_non_null(again);
	assert_string_equal(dav_xml_first_element(again)->ns, "urn:z");
	dav_xml_free(again);
	free(w);
	free(s);
	evbuffer_free(b);
	dav_xml_free(x);
	assert_null(dav_xml_parse("<a xmlns:p=\"\"><p:b/></a>", 24, err,
	    sizeof err));
	assert_null(dav_xml_parse("<!DOCTYPE a [<!ENTITY b \"c\">]><a>&b;</a>",
	    40, err, sizeof err));
	assert_non_null(strstr(err, "DOCTYPE"));
	/* An element of the xml namespace keeps the reserved prefix. */
	x = dav_xml_parse("<a><xml:b/></a>", 15, err, sizeof err);
	assert_non_null(x);
	b = evbuffer_new();
	dav_xml_serialize_children(b, x);
	evbuffer_add(b, "", 1);
	assert_string_equal((char *)evbuffer_pullup(b, -1), "<xml:b/>");
	evbuffer_free(b);
	dav_xml_free(x);
	assert_null(dav_xml_parse("<a><b></a>", 10, err, sizeof err));
	assert_non_null(strstr(err, "XML 1:"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_access, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writer_edges, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_props_and_symlink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_random_access, setup_walk,
		    teardown_walk),
		cmocka_unit_test_setup_teardown(test_writer_edges, setup_walk,
		    teardown_walk),
		cmocka_unit_test_setup_teardown(test_tamper, setup_walk,
		    teardown_walk),
		cmocka_unit_test_setup_teardown(test_props_and_symlink, setup_walk,
		    teardown_walk),
		cmocka_unit_test_setup_teardown(test_sync_later, setup,
		    teardown),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_if_header),
		cmocka_unit_test(test_xml),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
