#!/bin/sh
# dns.sh: netcraved's DNS against NSD and Knot, serving the same 10,000-name
# zone, in one run: each server pinned to CPU 0, dnsperf on CPU 1, rate
# limiting and DNSSEC off for all three.  The gate is server CPU per query (CPU
# time over the run from /proc/PID/stat, divided by queries answered) as a
# ratio to Knot's; qps and latency beside.  Then the RSS and rebuild time of
# the zone model with 10,000 containers' records (bench/dns_rss.c).
#
# Usage: bench/dns.sh [build-dir] [seconds]  (an optimised build: not
# --enable-debug, which is -O0)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
secs=${2:-10}
for p in nsd knotd dnsperf taskset; do
	command -v $p >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	command -v $p >/dev/null 2>&1 || { echo "dns.sh: $p is not installed (tools/install-deps)"; exit 1; }
done
[ -x "$build/netcraved" ] || { echo "dns.sh: no netcraved in $build"; exit 1; }
T=$(mktemp -d /tmp/nc-dnsbench.XXXXXX)
chmod 0755 "$T"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	sleep 0.3
	[ -n "${DNS_BENCH_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
PORT=$(shuf -i 41000-50000 -n 1)
Z=bench.internal.
N=10000
HZ=$(getconf CLK_TCK)

# The zone: SOA, NS and 10,000 A records; queries: every name once, and one
# in ten a name that does not exist (NXDOMAIN), shuffled with a fixed seed.
{
	echo "\$ORIGIN $Z"
	echo "\$TTL 10"
	echo "@ SOA ns.$Z hostmaster.$Z 1 3600 600 86400 10"
	echo "@ NS ns.$Z"
	awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
	    printf "h%d A 198.18.%d.%d\n", i, int(i / 250), i % 250 + 1 }'
} > "$T/zone"
awk -v n=$N -v z=$Z 'BEGIN { for (i = 0; i < n; i++) {
    printf "h%d.%s A\n", i, z; if (i % 10 == 0) printf "nx%d.%s A\n", i, z } }' |
    shuf --random-source="$T/zone" > "$T/queries"

# NSD: one server process, no rate limiting.
mkdir -p "$T/nsd"
cat > "$T/nsd/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$PORT
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$T"
	database: ""
	zonelistfile: "$T/nsd/zone.list"
	xfrdfile: "$T/nsd/xfrd.state"
	pidfile: "$T/nsd/nsd.pid"
	xfrdir: "$T/nsd"
	rrl-ratelimit: 0
	verbosity: 0
remote-control:
	control-enable: no
zone:
	name: $Z
	zonefile: "$T/zone"
CONF
# Knot: one UDP worker, no modules (no RRL).
mkdir -p "$T/knot"
cat > "$T/knot/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$((PORT + 1))
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    rundir: "$T/knot"
    user: root
database:
    storage: "$T/knot"
zone:
  - domain: $Z
    file: "$T/zone"
    storage: "$T/knot"
log:
  - target: stderr
    any: warning
CONF
# netcraved: the same records as dns.records, nothing else of its own.
awk 'NR > 4 { printf "%s\"%s\"", (n++ ? ", " : ""), $0 }' "$T/zone" > "$T/records"
cat > "$T/netcraved.json" <<CONF
{
	"instance": "ncbench",
	"paths": { "run_dir": "$T/nc/run", "state_dir": "$T/nc/state",
	  "plugin_socket": "$T/nc/plugin.sock", "control_socket": "$T/nc/control.sock" },
	"metrics": { "listen": "" },
	"follower": { "docker_socket": null },
	"dns": { "zone": "$Z", "ttl": 10, "rrl_rate": 0,
	  "listen": ["127.0.0.1:$((PORT + 2))"], "records": [ $(cat "$T/records") ] }
}
CONF
# The second figure: the same with the zone signed, queries with DO set.
sed -e 's/"dns": {/"dns": { "dnssec": "on",/' -e "s/ncbench/ncbenchsec/" \
    -e "s|$T/nc/|$T/ncsec/|g" "$T/netcraved.json" > "$T/netcraved-dnssec.json"

# cpu PID: utime + stime in clock ticks of the process and its children
# (NSD answers from forked processes: all of them, found by their config;
# Knot's threads count in its own).
cpu() {
	case $1 in
	nsd) pids=$(pgrep -f "$T/nsd/nsd.conf" || true) ;;
	*) pids="$1 $(pgrep -P "$1" || true)" ;;
	esac
	# After the ") " that ends the command name (NSD's has spaces), utime
	# and stime are the 12th and 13th fields.
	for p in $pids; do sed 's/.*) //' "/proc/$p/stat"; done |
	    awk '{ t += $12 + $13 } END { print t + 0 }'
}
# run NAME PORT PID: dnsperf against it; prints one result line.
run() {
	name=$1 port=$2 pid=$3
	# Warm up (and check it answers).
	taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$T/queries" -l 1 -c 4 -q 200 \
	    > /dev/null 2>&1 || true
	c0=$(cpu "$pid")
	taskset -c 1 dnsperf -s 127.0.0.1 -p "$port" -d "$T/queries" -l "$secs" \
	    -c 4 -q 200 $DNSPERF_DO > "$T/$name.out" 2>&1
	c1=$(cpu "$pid")
	q=$(awk '/Queries completed:/ { print $3 }' "$T/$name.out")
	qps=$(awk '/Queries per second:/ { print $4 }' "$T/$name.out")
	lat=$(awk '/Average Latency/ { print $4 }' "$T/$name.out")
	lost=$(awk '/Queries lost:/ { print $3 }' "$T/$name.out")
	us=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v q="$q" 'BEGIN { printf "%.3f", c / hz * 1e6 / q }')
	echo "$name $q $qps $lat $lost $us"
}
# wait_port PORT: until the server answers SOA.
wait_port() {
	for _ in $(seq 100); do
		dig -p "$1" +short +tries=1 +time=1 @127.0.0.1 $Z SOA 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "dns.sh: nothing answers on port $1" >&2
	exit 1
}

# One server at a time, each started just before its turn and stopped after
# it, each in a session of its own (NSD signals its process group when one of
# its server processes restarts).
# start_server NAME PORT: start it, set SPID, wait until it answers.
start_server() {
	case $1 in
	nsd) setsid taskset -c 0 nsd -d -c "$T/nsd/nsd.conf" > "$T/nsd.log" 2>&1 & ;;
	knot) setsid taskset -c 0 knotd -c "$T/knot/knot.conf" > "$T/knot.log" 2>&1 & ;;
	netcraved) setsid taskset -c 0 "$build/netcraved" -f -c "$T/netcraved.json" \
	    > "$T/netcraved.log" 2>&1 & ;;
	netcraved-dnssec) setsid taskset -c 0 "$build/netcraved" -f \
	    -c "$T/netcraved-dnssec.json" > "$T/netcraved-dnssec.log" 2>&1 & ;;
	esac
	SPID=$!
	PIDS="$PIDS $SPID"
	wait_port "$2"
}
# stop_server: SIGTERM and wait.
stop_server() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
}
: > "$T/results"
for s in nsd knot netcraved netcraved-dnssec; do
	case $s in
	nsd) port=$PORT ;;
	knot) port=$((PORT + 1)) ;;
	netcraved|netcraved-dnssec) port=$((PORT + 2)) ;;
	esac
	[ $s = netcraved-dnssec ] && DNSPERF_DO=-D || DNSPERF_DO=
	start_server $s $port
	[ $s = nsd ] && who=nsd || who=$SPID
	run $s $port $who >> "$T/results"
	[ $s = netcraved ] && NC=$SPID && NC_RSS=$(awk '/VmRSS/ { print $2, $3 }' /proc/$NC/status)
	stop_server
done
results=$(cat "$T/results")
knot_us=$(echo "$results" | awk '$1 == "knot" { print $6 }')
echo "dns: $N names, $(wc -l < "$T/queries") queries in the file, ${secs}s each, server on CPU 0, dnsperf on CPU 1"
printf '%-10s %10s %10s %12s %8s %14s %10s\n' server queries qps avg-latency lost cpu-us/query vs-knot
echo "$results" | while read -r name q qps lat lost us; do
	printf '%-10s %10s %10.0f %12s %8s %14s %10s\n' "$name" "$q" "$qps" "$lat" "$lost" "$us" \
	    "$(awk -v a="$us" -v b="$knot_us" 'BEGIN { printf "%.2f", a / b }')"
done
nc_us=$(echo "$results" | awk '$1 == "netcraved" { print $6 }')
echo "gate: netcraved CPU per query / Knot's = $(awk -v a="$nc_us" -v b="$knot_us" 'BEGIN { printf "%.2f", a / b }') (target <= 0.80)"
echo "netcraved RSS serving the zone: $NC_RSS"

# DNS_BENCH_CALLGRIND=1: a figure that does not depend on the machine's load:
# user-space instructions per query of Knot and netcraved under callgrind
# (whole program, all threads), the query file sent twice, minus an idle
# run's (start-up and zone loading).  The kernel's share is not in it.
# cg NAME PORT IDLE CMD...: total instructions; queries answered in $T/cg.q.
cg() {
	name=$1 port=$2 idle=$3
	shift 3
	valgrind --tool=callgrind --callgrind-out-file="$T/cg.$name.%p" "$@" \
	    > "$T/cg.$name.log" 2>&1 &
	vp=$!
	PIDS="$PIDS $vp"
	for _ in $(seq 200); do
		dig -p "$port" +short +tries=1 +time=1 @127.0.0.1 $Z SOA 2>/dev/null |
		    grep -q . && break
		sleep 0.5
	done
	# Answering comes before the signal handlers: give them time, or
	# SIGTERM kills the server before callgrind writes anything.
	sleep 2
	[ "$idle" = 1 ] || dnsperf -s 127.0.0.1 -p "$port" -d "$T/queries" -n 2 -c 1 \
	    -q 20 2>&1 | awk '/Queries completed:/ { print $3 }' > "$T/cg.q"
	kill "$vp"; wait "$vp" 2>/dev/null || true
	cat "$T"/cg.$name.* | awk '/^summary:/ { t += $2 } END { print t + 0 }'
}
if [ -n "${DNS_BENCH_CALLGRIND:-}" ] && command -v valgrind >/dev/null 2>&1; then
	rm -rf "$T/nc"
	ki=$(cg knot-idle $((PORT + 1)) 1 knotd -c "$T/knot/knot.conf")
	kq=$(cg knot $((PORT + 1)) 0 knotd -c "$T/knot/knot.conf"); kn=$(cat "$T/cg.q")
	rm -rf "$T/nc"
	ni=$(cg nc-idle $((PORT + 2)) 1 "$build/netcraved" -f -c "$T/netcraved.json")
	rm -rf "$T/nc"
	nq=$(cg nc $((PORT + 2)) 0 "$build/netcraved" -f -c "$T/netcraved.json"); nn=$(cat "$T/cg.q")
	awk -v ki="$ki" -v kq="$kq" -v kn="$kn" -v ni="$ni" -v nq="$nq" -v nn="$nn" 'BEGIN {
	    k = (kq - ki) / kn; n = (nq - ni) / nn
	    printf "callgrind: user instructions per query: knot %.0f, netcraved %.0f (%.2f of Knot'"'"'s)\n", k, n, n / k }'
fi

# The zone model with 10,000 containers (two networks' worth of names each).
CC=${CC:-cc}
# shellcheck disable=SC2046
$CC -O2 -I"$build" -I"$top/src/core" -I"$top/src/servers" -I"$top/src/dns" \
    $(pkg-config --cflags ldns yajl 2>/dev/null) -o "$T/dns_rss" "$top/bench/dns_rss.c" \
    "$build/libnetcrave.a" $(pkg-config --libs libevent libevent_openssl ldns yajl \
    libssl libcrypto libnl-route-3.0 libnl-3.0 libpq libnghttp2 fuse3 expat \
    libpcre2-8 libnftables 2>/dev/null) -lhttp_parser
"$T/dns_rss" 10000
"$T/dns_rss" 10000 dnssec
