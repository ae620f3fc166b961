#!/bin/sh
# waf-instructions.sh: what a cache hit costs squid, in instructions counted
# by callgrind, so the figure does not move with the machine's load the way
# requests per second do (bench/waf.sh).  Side by side in one run: squid alone
# (netcraved's front squid.conf with its misses sent direct) and netcraved's
# front squid as it runs (ICAP off, misses to the judge squid), each under
# valgrind for N1 and then N2 keep-alive requests of one cached 2 KiB page
# (ab); the per-hit cost is the difference over N2 - N1, so start-up and
# shutdown cancel out.  Root (squid drops to proxy); valgrind and ab.
# Usage: bench/waf-instructions.sh [build-dir]   N1=1000 N2=5000
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
NETCRAVED=$build/netcraved
N1=${N1:-1000}
N2=${N2:-5000}
SQUID=${NETCRAVE_SQUID:-/usr/sbin/squid}
for tool in valgrind ab curl python3 "$SQUID"; do
	command -v "$tool" >/dev/null || { echo "waf-instructions.sh: $tool missing (apt-get install valgrind apache2-utils)" >&2; exit 1; }
done
[ -x "$NETCRAVED" ] || { echo "waf-instructions.sh: no $NETCRAVED" >&2; exit 1; }

T=$(mktemp -d /tmp/nc-bench-wafi.XXXXXX)
chmod 0755 "$T"
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 1
	rm -rf "$T"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND=$(port); ICAP=$(port); SQ_NC=$(port)

mkdir -p "$T/www"
head -c 2048 /dev/zero | tr '\0' 'x' > "$T/www/page.html"
touch -d 2020-01-01 "$T/www/page.html"
(cd "$T/www" && exec python3 -m http.server "$BACKEND" --bind 127.0.0.1) >/dev/null 2>&1 &
pids="$pids $!"
cat > "$T/nc.json" <<JSON
{ "instance": "ncbenchwafi", "log_level": "info",
  "paths": { "run_dir": "$T/run", "state_dir": "$T/state",
    "plugin_socket": "$T/run/plugin.sock", "control_socket": "$T/run/control.sock" },
  "metrics": { "listen": "" },
  "waf": { "icap_listen": "127.0.0.1:$ICAP",
    "squid": { "enabled": true, "program": "$SQUID", "listen": "127.0.0.1:$SQ_NC" } } }
JSON
"$NETCRAVED" -f -c "$T/nc.json" >"$T/nc.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 100); do grep -q "squid: starting -> ready" "$T/nc.log" && break; sleep 0.2; done
grep -q "squid: starting -> ready" "$T/nc.log" || { echo "waf-instructions.sh: squid not ready" >&2; exit 1; }

# Two configurations, each a copy of netcraved's front squid.conf on a port
# and in a directory of its own: as it is (its misses to netcraved's judge),
# and alone (misses direct).
conf() {	# NAME ALONE
	mkdir -p "$T/$1"; chown proxy:proxy "$T/$1"
	p=$(port)
	sed -e "s|^http_port [^ ]* name=netcrave_forward|http_port 127.0.0.1:$p name=netcrave_forward|" \
	    -e "s|$T/run/squid|$T/$1|g" "$T/run/squid/squid.conf" > "$T/$1/squid.conf"
	[ "$2" = alone ] && sed -i -e '/netcrave_to_judge/d' -e '/^never_direct allow all/d' "$T/$1/squid.conf"
	echo "$p" > "$T/$1/port"
}
conf alone alone
conf front front

# Instructions squid runs for N hits on the page (after one miss).
count() {	# NAME N
	out=$T/$1/callgrind.$2
	: > "$out"; chmod 0666 "$out"	# squid writes it as proxy
	valgrind --tool=callgrind --callgrind-out-file="$out" "$SQUID" -N -f "$T/$1/squid.conf" \
	    >"$T/$1/valgrind.log" 2>&1 &
	vp=$!
	p=$(cat "$T/$1/port")
	for _ in $(seq 200); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -x "127.0.0.1:$p" "http://127.0.0.1:$BACKEND/page.html")" = 200 ] && break
		sleep 0.3
	done
	ab -q -k -n "$2" -c 8 -X "127.0.0.1:$p" "http://127.0.0.1:$BACKEND/page.html" > "$T/$1/ab.$2" 2>&1
	grep -q "^Failed requests: *0" "$T/$1/ab.$2" || { echo "waf-instructions.sh: $1: failed requests" >&2; exit 1; }
	kill "$vp"; wait "$vp" || true
	awk '/^(summary|totals):/ { print $2; exit }' "$out"
}
a1=$(count alone "$N1"); a2=$(count alone "$N2")
f1=$(count front "$N1"); f2=$(count front "$N2")
hits=$(grep -c "TCP_MEM_HIT/200" "$T/front/access.log" || true)
awk -v a1="$a1" -v a2="$a2" -v f1="$f1" -v f2="$f2" -v n1="$N1" -v n2="$N2" -v h="$hits" 'BEGIN {
	a = (a2 - a1) / (n2 - n1); f = (f2 - f1) / (n2 - n1)
	printf "squid instructions per cache hit (callgrind, %d - %d requests; front squid hits: %d)\n", n2, n1, h
	printf "squid alone:                   %10.0f\n", a
	printf "netcraved front squid:         %10.0f\n", f
	printf "netcraved overhead on a hit:   %9.1f%% (bench/waf.sh target <= 15%% in req/s)\n", (f - a) / a * 100
}'
