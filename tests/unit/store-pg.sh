#!/bin/sh
# store-pg.sh: the store unit tests (tests/unit/test_store.c) against a
# private PostgreSQL 15, started here in a temporary directory and stopped at
# the end.  Skips (77) with the reason only when the server binaries are absent.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
. "$top_srcdir/tests/helpers/pg.sh"

if ! pg_available; then
	echo "SKIP: PostgreSQL 15 server binaries not found in $PG_BINDIR (install postgresql-15)"
	exit 77
fi
D=$(mktemp -d "${TMPDIR:-/tmp}/nc-pg.XXXXXX")
trap 'pg_stop; rm -rf "$D"' EXIT
trap 'exit 1' INT TERM
pg_start "$D" || { echo "FAIL: cannot start PostgreSQL"; exit 1; }
NETCRAVE_TEST_PG=$PG_CONNINFO "$top_builddir/tests/unit/test_store"
