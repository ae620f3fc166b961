/* test_frr.c: the FRR configuration for clustering against golden files, and
 * the values frr_check refuses (they would inject commands into the file). */

#include "config.h"

#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frr.h"
#include "prefix.h"

/*
 * The golden file's text; fails the test when it cannot be read.  With
 * FRR_REGEN=DIR in the environment, got is first written to DIR/name, to be
 * checked with `bgpd -C -f` and reviewed before it replaces the fixture.
 */
static char *
golden(const char *name, const char *got)
{
	char		 path[1024], *buf;
	const char	*regen = getenv("FRR_REGEN");
	FILE		*f;
	long		 len;

	if (regen != NULL) {
		snprintf(path, sizeof path, "%s/%s", regen, name);
		assert_non_null(f = fopen(path, "w"));
		fputs(got, f);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/%s", FRR_FIXTURES, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, len, f), (size_t)len);
	fclose(f);
	return (buf);
}

static void
parse(const char *text, struct prefix *p)
{
	char	err[128];

	assert_int_equal(prefix_parse(text, 1, p, err, sizeof err), 0);
}

/* iBGP, two static peers, a listen range, route reflector, ttl-security. */
static void
test_golden_ibgp(void **state)
{
	char			 a[] = "198.18.61.2", b[] = "198.18.61.3";
	char			*peers[] = { a, b, NULL };
	char			 s4[] = "198.18.64.0/18", s6[] = "fd3c:5a1e:77b0::/48";
	char			*space[] = { s4, s6, NULL };
	struct prefix		 nets[3];
	struct frr_params	 p;
	char			 err[256], *out, *want;
	size_t			 len;

	parse("198.18.64.0/24", &nets[0]);
	parse("fd3c:5a1e:77b0:1::/64", &nets[1]);
	parse("198.18.65.0/26", &nets[2]);
	memset(&p, 0, sizeof p);
	p.hostname = "netcrave-h1";
	p.asn = 64512;
	p.router_id = "198.18.61.1";
	p.peers = peers;
	p.listen_range = "198.18.61.0/24";
	p.route_reflector = 1;
	p.announce = space;
	p.prefixes = nets;
	p.nprefixes = 3;
	assert_null(frr_check(&p, err, sizeof err));
	out = frr_render(&p, &len);
	want = golden("ibgp-rr.conf", out);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);
}

/* TCP-MD5 instead of ttl-security, in a VRF, no prefixes yet. */
static void
test_golden_password_vrf(void **state)
{
	char			 a[] = "fd3c:5a1e:77b0::2";
	char			*peers[] = { a, NULL };
	struct frr_params	 p;
	char			 err[256], *out, *want;

	memset(&p, 0, sizeof p);
	p.hostname = "h2";
	p.asn = 4200000001U;
	p.router_id = "198.18.61.2";
	p.peers = peers;
	p.password = "s3cret-Key";
	p.vrf = "blue";
	assert_null(frr_check(&p, err, sizeof err));
	out = frr_render(&p, NULL);
	want = golden("password-vrf.conf", out);
	assert_string_equal(out, want);
	free(out);
	free(want);
}

/* Every field that lands in the file is vetted: no second command sneaks in. */
static void
test_check_refuses(void **state)
{
	char			 a[] = "198.18.61.2\nline vty";
	char			 b[] = "198.18.61.0/24";
	char			*bad_peer[] = { a, NULL }, *cidr_peer[] = { b, NULL };
	struct frr_params	 p, base;
	char			 err[256];

	memset(&base, 0, sizeof base);
	base.hostname = "h1";
	base.asn = 64512;
	base.router_id = "198.18.61.1";

	p = base;
	assert_null(frr_check(&p, err, sizeof err));
	p = base; p.asn = 0;
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.router_id = "fd3c::1";
	assert_non_null(frr_check(&p, err, sizeof err));
	assert_non_null(strstr(err, "router_id"));
	p = base; p.router_id = NULL;
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.hostname = "h1\nline vty";
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.password = "two words";
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.password = "pw!comment";
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.password = "";
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.vrf = "blue red";
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.peers = bad_peer;
	assert_non_null(frr_check(&p, err, sizeof err));
	assert_non_null(strstr(err, "peer"));
	p = base; p.peers = cidr_peer;
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.listen_range = "198.18.61.1/24";	/* host bits set */
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.announce = bad_peer;
	assert_non_null(frr_check(&p, err, sizeof err));
	p = base; p.listen_range = "nonsense";
	assert_non_null(frr_check(&p, err, sizeof err));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_ibgp),
		cmocka_unit_test(test_golden_password_vrf),
		cmocka_unit_test(test_check_refuses),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
