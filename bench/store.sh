#!/bin/sh
# store.sh: durable address allocations per second through the store, the
# pg backend (a private PostgreSQL 15 on a unix socket, fsync on) beside the
# file backend (journal, fsync per change), in one run, with the ratio.  Each
# inserts N distinct address records with up to K in flight, as the IPAM
# does.  Usage: bench/store.sh [build-dir [N [K]]]  (a built tree: its
# config.h and libnetcrave.a are used)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
N=${2:-5000}
K=${3:-64}
if [ ! -f "$build/libnetcrave.a" ]; then
	echo "store.sh: no libnetcrave.a in $build: give a built directory" >&2
	exit 1
fi
. "$top/tests/helpers/pg.sh"
if ! pg_available; then
	echo "store.sh: PostgreSQL 15 server binaries not found in $PG_BINDIR" >&2
	exit 1
fi
CC=${CC:-cc}
T=$(mktemp -d /tmp/nc-bench-store.XXXXXX)
trap 'pg_stop; rm -rf "$T"' EXIT
chmod 0755 "$T"

# shellcheck disable=SC2046
$CC -O2 -I"$build" -I"$top/src/core" -o "$T/store_insert" \
    "$top/bench/store_insert.c" "$build/libnetcrave.a" \
    $(pkg-config --libs libevent libpq libcrypto)

pg_start "$T/pg" >/dev/null
mkdir -p "$T/file"
set -- $("$T/store_insert" file "$T/file" "$N" "$K")
file=$3
set -- $("$T/store_insert" pg "$PG_CONNINFO" "$N" "$K")
pg=$3
echo "store: $N durable inserts, up to $K in flight"
echo "  file backend: $file inserts/s"
echo "  pg backend:   $pg inserts/s (PostgreSQL 15, unix socket, fsync on)"
awk -v a="$pg" -v b="$file" 'BEGIN { printf "  ratio pg/file: %.2f\n", a / b }'
