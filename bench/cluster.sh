#!/bin/sh
# cluster.sh: clustering figures (issue 10) in one run.  (1) Durable address
# allocations per second, the pg backend (what hosts share) beside the file
# backend, with the ratio: bench/store.sh.  (2) How long a network created on
# host 1 takes to be routable on host 2 (CreateNetwork to the BGP route in
# host 2's kernel): tests/integration/cluster.sh run ROUNDS times (two
# routing namespaces, a netcraved and FRR each, one PostgreSQL), min and max.
# Usage: bench/cluster.sh [build-dir [ROUNDS]]  (root; FRR, PostgreSQL 15)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
rounds=${2:-3}

echo "allocations/s, pg vs file backend:"
sh "$top/bench/store.sh" "$build" 2000 32

echo "new network routable on the other host ($rounds rounds):"
i=0 times=
while [ "$i" -lt "$rounds" ]; do
	out=$(NETCRAVED=$build/netcraved NETCRAVECTL=$build/netcravectl \
	    top_srcdir=$top sh "$top/tests/integration/cluster.sh" 2>&1) || {
		printf '%s\n' "$out" | tail -20; exit 1; }
	ms=$(printf '%s\n' "$out" | sed -n 's/.*routable on host 2 after \([0-9]*\) ms.*/\1/p')
	echo "  round $((i + 1)): $ms ms"
	times="$times $ms"
	i=$((i + 1))
done
echo "$times" | tr ' ' '\n' | grep . | sort -n | awk '
	NR == 1 { min = $1 } { max = $1 }
	END { printf "  min %d ms, max %d ms (BGP: no timers lowered)\n", min, max }'
