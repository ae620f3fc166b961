#!/bin/sh
# ipam.sh: the address pool at scale: a million addresses of a /64 in and out,
# a million interleaved allocs and releases, and a nearly full /16; time and
# peak RSS of each.  Usage: bench/ipam.sh [build-dir]  (a configured build: its
# config.h is used; default the source tree when configured in-tree)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
if [ ! -f "$build/config.h" ]; then
	echo "ipam.sh: no config.h in $build: give a configured build directory" >&2
	exit 1
fi
CC=${CC:-cc}
T=$(mktemp -d /tmp/nc-bench-ipam.XXXXXX)
trap 'rm -rf "$T"' EXIT

core=$top/src/core
# shellcheck disable=SC2046
$CC -O2 -I"$build" -I"$core" $(pkg-config --cflags libcrypto 2>/dev/null) \
    -o "$T/ipam_alloc" "$top/bench/ipam_alloc.c" "$core/ipam.c" \
    "$core/prefix.c" "$core/xmalloc.c" "$core/log.c" \
    $(pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)

for what in sequential interleaved nearly-full; do
	"$T/ipam_alloc" "$what"
done
