#!/bin/sh
# acme.sh: one ACME order (http-01) against the same pebble
# (PEBBLE_VA_NOSLEEP=1, validation real), netcraved against lego, 10 runs each
# in one run; prints the medians and netcraved's time as a ratio to lego's
# (target <= 0.2).  netcraved's time is from its exec to the certificate on
# disk, start-up included; lego's from its exec to its exit.
#
# Usage: bench/acme.sh [build-dir] [runs]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
runs=${2:-10}
for p in pebble lego openssl python3 curl; do
	command -v $p >/dev/null 2>&1 || { echo "acme.sh: $p is not installed (tools/install-deps --bench)"; exit 1; }
done
[ -x "$build/netcraved" ] || { echo "acme.sh: no netcraved in $build"; exit 1; }
T=$(mktemp -d /tmp/nc-acmebench.XXXXXX)
chmod 0755 "$T"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	[ -n "${ACME_BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
BASE=$(shuf -i 41000-50000 -n 1)
DNSPORT=$BASE ACMEPORT=$((BASE + 1)) MGMTPORT=$((BASE + 2))
HTTPPORT=$((BASE + 3))
now() { date +%s.%N; }

. "$top/tests/helpers/pebble.sh"
pebble_start "$T" "$DNSPORT" "$ACMEPORT" "$MGMTPORT" "$HTTPPORT"
PIDS="$PIDS $PEBBLE_PID"
recs=
for i in $(seq 1 "$runs"); do
	recs="$recs\"n$i A 127.0.0.1\", \"l$i A 127.0.0.1\", "
done

# conf RUN ACME: netcraved's config; ACME 0 serves DNS only (for lego).
conf() {
	if [ "$2" = 1 ]; then
		acme=', "acme": { "directory": "https://localhost:'$ACMEPORT'/dir",
		  "ca_file": "'$T/pebble.crt'", "challenge": "http-01",
		  "http01_listen": "127.0.0.1:'$HTTPPORT'",
		  "names": ["n'$1'.bench.internal"], "cert_dir": "'$T/acme'" }'
	else
		acme=
	fi
	mkdir -p "$T/nc$1"
	cat > "$T/nc$1/conf.json" <<JSON
{ "instance": "ab$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')",
  "paths": { "run_dir": "$T/nc$1/run", "state_dir": "$T/nc$1/state",
    "plugin_socket": "$T/nc$1/run/p.sock", "control_socket": "$T/nc$1/run/c.sock" },
  "metrics": { "listen": "unix:$T/nc$1/run/m.sock" },
  "follower": { "docker_socket": "$T/nc$1/docker.sock" },
  "dns": { "zone": "bench.internal.", "listen": ["127.0.0.1:$DNSPORT"],
    "records": [ $recs "x A 127.0.0.1" ] }$acme }
JSON
}

median() { sort -n | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

: > "$T/nc.times"
for i in $(seq 1 "$runs"); do
	conf "$i" 1
	t0=$(now)
	"$build/netcraved" -f -c "$T/nc$i/conf.json" >"$T/nc$i/log" 2>&1 &
	pid=$!
	while [ ! -s "$T/acme/n$i.bench.internal/tls.crt" ]; do
		kill -0 $pid 2>/dev/null || { echo "netcraved died"; cat "$T/nc$i/log"; exit 1; }
		sleep 0.005
	done
	t1=$(now)
	kill $pid; wait $pid || true
	echo "$t1 - $t0" | python3 -c 'import sys; print(eval(sys.stdin.read()))' >> "$T/nc.times"
done

conf 0 0
"$build/netcraved" -f -c "$T/nc0/conf.json" >"$T/nc0/log" 2>&1 &
ncdns=$!
PIDS="$PIDS $ncdns"
sleep 1
: > "$T/lego.times"
for i in $(seq 1 "$runs"); do
	t0=$(now)
	LEGO_CA_CERTIFICATES=$T/pebble.crt lego --accept-tos \
	    --server "https://localhost:$ACMEPORT/dir" --email bench@example.org \
	    --domains "l$i.bench.internal" --path "$T/lego$i" --http \
	    --http.port "127.0.0.1:$HTTPPORT" run >"$T/lego$i.log" 2>&1 ||
	    { echo "lego failed"; cat "$T/lego$i.log"; exit 1; }
	t1=$(now)
	echo "$t1 - $t0" | python3 -c 'import sys; print(eval(sys.stdin.read()))' >> "$T/lego.times"
done
nc=$(median < "$T/nc.times")
lg=$(median < "$T/lego.times")
echo "netcraved: median $nc s over $runs orders (start-up included)"
echo "lego:      median $lg s over $runs orders"
python3 -c "print('ratio netcraved/lego: %.3f (target <= 0.2)' % ($nc / $lg))"
