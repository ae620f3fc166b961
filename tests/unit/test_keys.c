/* test_keys.c: master key life cycle, wrapped keys, tampering and file names. */
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

#include <cmocka.h>

#include "keys.h"

struct fixture {
	char	top[256];	/* mkdtemp'd parent */
	char	dir[512];	/* the key directory, inside top */
};

/* Remove a directory tree made by a test (two levels are all we create). */
static void
rmtree(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 sub[PATH_MAX];

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rmtree(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

/* Make a fresh parent directory; the key directory itself does not exist yet. */
static int
setup(void **state)
{
	struct fixture	*f;

	f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->top, sizeof f->top, "/tmp/test_keys.XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->dir, sizeof f->dir, "%s/keys", f->top);
	*state = f;
	return (0);
}

/* Close the keys and remove everything. */
static int
teardown(void **state)
{
	struct fixture	*f = *state;

	keys_close();
	rmtree(f->top);
	free(f);
	return (0);
}

/* Count the entries of a directory, without . and .. */
static int
count_entries(const char *path)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return (n);
}

/* Find the one wrapped key file in the directory. */
static void
wrapped_path(const struct fixture *f, const char *prefix, char *out,
    size_t outlen)
{
	DIR		*d;
	struct dirent	*de;
	int		 found = 0;

	d = opendir(f->dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    strstr(de->d_name, ".wkey") != NULL) {
			snprintf(out, outlen, "%s/%s", f->dir, de->d_name);
			found++;
		}
	}
	closedir(d);
	assert_int_equal(found, 1);
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
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

/* File size, or -1. */
static off_t
file_size(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == -1)
		return (-1);
	return (st.st_size);
}

/* A key made once comes back identical after close and reopen. */
static void
test_create_reopen(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES], b[KEYS_KEY_BYTES];
	unsigned char	 c[KEYS_KEY_BYTES], zero[KEYS_KEY_BYTES];
	char		 err[512];

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_false(keys_exists("journal"));
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), 0);
	assert_true(keys_exists("journal"));
	memset(zero, 0, sizeof zero);
	assert_memory_not_equal(a, zero, sizeof a);
	assert_int_equal(keys_get("ca", c, 1, err, sizeof err), 0);
	assert_memory_not_equal(a, c, sizeof a);
	keys_close();

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(keys_get("journal", b, 0, err, sizeof err), 0);
	assert_memory_equal(a, b, sizeof a);
	/* create=1 on an existing key returns it, never replaces it. */
	assert_int_equal(keys_get("journal", b, 1, err, sizeof err), 0);
	assert_memory_equal(a, b, sizeof a);
	assert_int_equal(keys_get("ca", b, 0, err, sizeof err), 0);
	assert_memory_equal(c, b, sizeof c);
}

/* Asking without create for a key that does not exist is an error. */
static void
test_missing_key(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES];
	char		 err[512];

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	err[0] = '\0';
	assert_int_equal(keys_get("nope", a, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "nope.wkey"));
	assert_false(keys_exists("nope"));
	assert_int_equal(keys_get("", a, 1, err, sizeof err), -1);
	assert_int_equal(keys_get(NULL, a, 1, err, sizeof err), -1);
	keys_close();
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), -1);
}

/* Directory 0700, files 0600, even under a permissive umask. */
static void
test_modes(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES];
	char		 err[512], path[PATH_MAX];
	struct stat	 st;
	mode_t		 old;

	old = umask(0);
	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), 0);
	umask(old);

	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof path, "%s/master.key", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	wrapped_path(f, "journal", path, sizeof path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* A directory someone opened up is closed again at the next open. */
	keys_close();
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

/* Every single flipped byte of a wrapped key file is caught and named. */
static void
test_tamper_wrapped(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES];
	char		 err[512], path[PATH_MAX];
	off_t		 size, off;

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), 0);
	wrapped_path(f, "journal", path, sizeof path);
	size = file_size(path);
	assert_true(size > 0);
	for (off = 0; off < size; off++) {
		flip_byte(path, off);
		err[0] = '\0';
		assert_int_equal(keys_get("journal", a, 0, err, sizeof err), -1);
		assert_non_null(strstr(err, path));
		flip_byte(path, off);
	}
	assert_int_equal(keys_get("journal", a, 0, err, sizeof err), 0);

	/* A truncated file is damaged, not missing: create must not replace it. */
	assert_int_equal(truncate(path, size - 1), 0);
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
}

/* A wrapped key copied over another name's file fails: the AAD binds the name. */
static void
test_swapped_files(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES], b[KEYS_KEY_BYTES];
	char		 err[512], pa[PATH_MAX], pb[PATH_MAX];

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(keys_get("alpha", a, 1, err, sizeof err), 0);
	assert_int_equal(keys_get("beta", b, 1, err, sizeof err), 0);
	wrapped_path(f, "alpha", pa, sizeof pa);
	wrapped_path(f, "beta", pb, sizeof pb);
	assert_int_equal(rename(pa, pb), 0);
	assert_int_equal(keys_get("beta", b, 0, err, sizeof err), -1);
	assert_non_null(strstr(err, "authentication"));
}

/* Without the master key, wrapped keys are unreadable: refuse to start. */
static void
test_master_missing(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES];
	char		 err[512], path[PATH_MAX];

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), 0);
	keys_close();
	snprintf(path, sizeof path, "%s/master.key", f->dir);
	assert_int_equal(unlink(path), 0);
	err[0] = '\0';
	assert_int_equal(keys_open(f->dir, err, sizeof err), -1);
	assert_non_null(strstr(err, "missing"));
	/* And no new master key was made behind our back. */
	assert_int_equal(file_size(path), -1);
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), -1);
}

/* A damaged master key file (size, magic, checksum) is an error at open. */
static void
test_master_damaged(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES], b[KEYS_KEY_BYTES];
	unsigned char	 saved[256];
	char		 err[512], path[PATH_MAX];
	off_t		 size, off;
	int		 fd;

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), 0);
	keys_close();
	snprintf(path, sizeof path, "%s/master.key", f->dir);
	size = file_size(path);
	assert_true(size > 0 && size <= (off_t)sizeof saved);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, saved, sizeof saved), size);
	close(fd);

	for (off = 0; off < size; off++) {
		flip_byte(path, off);
		err[0] = '\0';
		assert_int_equal(keys_open(f->dir, err, sizeof err), -1);
		assert_non_null(strstr(err, path));
		flip_byte(path, off);
	}

	/* One byte too many. */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(keys_open(f->dir, err, sizeof err), -1);
	assert_non_null(strstr(err, "damaged"));
	assert_int_equal(truncate(path, size), 0);

	/* Empty. */
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(keys_open(f->dir, err, sizeof err), -1);
	assert_non_null(strstr(err, "damaged"));

	/* Putting the original back (a restore from backup) opens the keys. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, saved, (size_t)size), size);
	close(fd);
	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(keys_get("journal", b, 0, err, sizeof err), 0);
	assert_memory_equal(a, b, sizeof a);
}

/* Names with '/', '..' or odd bytes stay inside the directory and round-trip. */
static void
test_name_sanitizing(void **state)
{
	struct fixture	*f = *state;
	static const char *names[] = {
		"volume:foo/bar", "../escape", "..", ".", "/abs/path",
		"a/../../b", "dnssec:example.org.", "%2F", "%252F", "=x",
		"sp ace\ttab\nnl", "\xff\xfe",
	};
	unsigned char	 keys1[sizeof names / sizeof names[0]][KEYS_KEY_BYTES];
	unsigned char	 k[KEYS_KEY_BYTES];
	char		 err[512], longname[1001];
	struct stat	 st;
	size_t		 i, j;
	int		 before_top;

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	before_top = count_entries(f->top);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_int_equal(keys_get(names[i], keys1[i], 1, err,
		    sizeof err), 0);
	/* master.key + one file per name, all distinct, nothing elsewhere. */
	assert_int_equal(count_entries(f->dir), 1 + (int)(sizeof names /
	    sizeof names[0]));
	assert_int_equal(count_entries(f->top), before_top);
	assert_int_equal(stat("/abs/path.wkey", &st), -1);

	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(keys_get(longname, k, 1, err, sizeof err), 0);
	assert_int_equal(count_entries(f->dir), 2 + (int)(sizeof names /
	    sizeof names[0]));
	keys_close();

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_true(keys_exists(names[i]));
		assert_int_equal(keys_get(names[i], k, 0, err, sizeof err), 0);
		assert_memory_equal(k, keys1[i], sizeof k);
		for (j = 0; j < i; j++)
			assert_memory_not_equal(keys1[i], keys1[j], sizeof k);
	}
	assert_true(keys_exists(longname));
	assert_int_equal(keys_get(longname, k, 0, err, sizeof err), 0);
	assert_false(keys_exists("volume:foo"));
}

/* A temporary file left by a crash is cleaned up and does not count as a key. */
static void
test_stale_temp(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[KEYS_KEY_BYTES];
	char		 err[512], path[PATH_MAX];
	int		 fd;

	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	keys_close();
	snprintf(path, sizeof path, "%s/.journal.wkey.tmp", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "half", 4), 4);
	close(fd);
	assert_int_equal(keys_open(f->dir, err, sizeof err), 0);
	assert_int_equal(file_size(path), -1);
	assert_int_equal(keys_get("journal", a, 1, err, sizeof err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_wrapped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_swapped_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_master_missing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_master_damaged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_name_sanitizing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_temp, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
