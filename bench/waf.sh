#!/bin/sh
# waf.sh: requests per second through squid, side by side in one run, with
# wrk on loopback against the same python3 http.server backend and the same
# page (cacheable, so squid serves it and the backend is out of the way):
#   squid alone | squid + netcraved's ICAP (REQMOD with the default rules) |
#   squid + c-icap's echo service | squid + netcraved's ICAP with an empty
#   rule set (what the protocol costs without the rules).  "squid + ICAP" is
#   netcraved's pair of squids: the front one that clients reach, whose misses
#   go to the judge one that asks the ICAP server.
# Each round runs the four one after the other; the figures are the medians
# over ROUNDS rounds.  Reports each rate and the ratios: netcraved's overhead
# on squid alone (target <= 15%) and netcraved vs c-icap echo, and the CPU
# time each ICAP server spends per request (its own cost, apart from what
# squid's ICAP client costs squid).  Root (squid drops to proxy).
# Usage: bench/waf.sh [build-dir]   DURATION=10 CONNECTIONS=32 ROUNDS=3
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
NETCRAVED=$build/netcraved
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-3}
SQUID=${NETCRAVE_SQUID:-/usr/sbin/squid}	# squid-openssl's, say
for tool in wrk "$SQUID" c-icap python3; do
	command -v "$tool" >/dev/null || { echo "waf.sh: $tool missing (tools/install-deps)" >&2; exit 1; }
done
[ -x "$NETCRAVED" ] || { echo "waf.sh: no $NETCRAVED" >&2; exit 1; }

T=$(mktemp -d /tmp/nc-bench-waf.XXXXXX)
chmod 0755 "$T"
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	sleep 1
	rm -rf "$T"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND=$(port); ICAP=$(port); SQ_NC=$(port); SQ_ALONE=$(port); SQ_ECHO=$(port); CICAP=$(port)
SQ_EMPTY=$(port)

mkdir -p "$T/www"
head -c 2048 /dev/zero | tr '\0' 'x' > "$T/www/page.html"
touch -d 2020-01-01 "$T/www/page.html"
(cd "$T/www" && exec python3 -m http.server "$BACKEND" --bind 127.0.0.1) >/dev/null 2>&1 &
pids="$pids $!"

# netcraved: its ICAP server and the squid it writes and supervises.
cat > "$T/nc.json" <<JSON
{ "instance": "ncbenchwaf", "log_level": "info",
  "paths": { "run_dir": "$T/run", "state_dir": "$T/state",
    "plugin_socket": "$T/run/plugin.sock", "control_socket": "$T/run/control.sock" },
  "metrics": { "listen": "" },
  "waf": { "icap_listen": "127.0.0.1:$ICAP", "rule_files": ["$T/empty.json"],
    "squid": { "enabled": true, "program": "$SQUID", "listen": "127.0.0.1:$SQ_NC" } } }
JSON
echo '{ "name": "empty", "rules": [] }' > "$T/empty.json"
"$NETCRAVED" -f -c "$T/nc.json" >"$T/nc.log" 2>&1 &
NC_PID=$!
pids="$pids $!"
for _ in $(seq 100); do grep -q "squid: starting -> ready" "$T/nc.log" && break; sleep 0.2; done

# The other squids, made from netcraved's two configurations with other
# ports and files: its front squid alone, sending every miss direct (squid
# alone), or a front and judge pair of their own whose judge asks c-icap's echo
# service or another netcraved service.
judge=$(awk '$1 == "http_port" && / name=netcrave_judge$/ { print $2 }' "$T/run/squid/judge.conf")
variant() {	# NAME PORT ICAP-URI-or-empty
	mkdir -p "$T/$1"; chown proxy:proxy "$T/$1"
	sed -e "s|^http_port [^ ]* name=netcrave_forward|http_port 127.0.0.1:$2 name=netcrave_forward|" \
	    -e "s|$T/run/squid|$T/$1|g" "$T/run/squid/squid.conf" > "$T/$1/squid.conf"
	if [ -z "$3" ]; then
		sed -i -e '/netcrave_to_judge/d' -e '/^never_direct allow all/d' \
		    "$T/$1/squid.conf"
	else
		jp=$(port)
		sed -i -e "s| parent ${judge#*:} 0 | parent $jp 0 |" "$T/$1/squid.conf"
		sed -e "s|icap://[^ ]*/reqmod|$3|" -e "s|icap://[^ ]*/respmod|$3|" \
		    -e "s|$judge|127.0.0.1:$jp|g" -e "s|$T/run/squid|$T/$1|g" \
		    "$T/run/squid/judge.conf" > "$T/$1/judge.conf"
		"$SQUID" -N -f "$T/$1/judge.conf" >"$T/$1/judge.out" 2>&1 &
		pids="$pids $!"
	fi
	"$SQUID" -N -f "$T/$1/squid.conf" >"$T/$1/out" 2>&1 &
	pids="$pids $!"
}
mkdir -p "$T/cicap"; chown proxy:proxy "$T/cicap"
cat > "$T/cicap/c-icap.conf" <<CONF
PidFile $T/cicap/c-icap.pid
CommandsSocket $T/cicap/c-icap.ctl
Port 127.0.0.1:$CICAP
User proxy
Group proxy
StartServers 1
MaxServers 2
ThreadsPerChild 64
MinSpareThreads 8
MaxSpareThreads 64
MaxKeepAliveRequests 0
KeepAliveTimeout 600
ServerLog $T/cicap/server.log
AccessLog /dev/null
ModulesDir /usr/lib/x86_64-linux-gnu/c_icap
ServicesDir /usr/lib/x86_64-linux-gnu/c_icap
Service echo srv_echo.so
CONF
c-icap -N -f "$T/cicap/c-icap.conf" >"$T/cicap/out" 2>&1 &
CICAP_PID=$!
pids="$pids $!"
variant alone "$SQ_ALONE" ""
variant echo "$SQ_ECHO" "icap://127.0.0.1:$CICAP/echo"
variant empty "$SQ_EMPTY" "icap://127.0.0.1:$ICAP/waf/empty"

cat > "$T/proxy.lua" <<LUA
wrk.path = "http://127.0.0.1:$BACKEND/page.html"
wrk.headers["Host"] = "127.0.0.1:$BACKEND"
LUA
# Misses: a new query string every request, so squid fetches each from the
# backend and runs REQMOD and RESPMOD (the dynamic pages of a service).
cat > "$T/miss.lua" <<LUA
local n = 0
setup = function(thread) n = n + 1; thread:set("tid", n) end
counter = 0
request = function()
	counter = counter + 1
	return wrk.format("GET", "http://127.0.0.1:$BACKEND/page.html?" .. tid .. "-" .. counter,
	    { ["Host"] = "127.0.0.1:$BACKEND" })
end
LUA
ready() { curl -s -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$1" "http://127.0.0.1:$BACKEND/page.html" 2>/dev/null; }
for p in $SQ_NC $SQ_ALONE $SQ_ECHO $SQ_EMPTY; do
	for _ in $(seq 100); do [ "$(ready "$p")" = 200 ] && break; sleep 0.2; done
	[ "$(ready "$p")" = 200 ] || { echo "waf.sh: squid on $p not answering" >&2; exit 1; }
done

# CPU ticks (user + system, threads included) of the processes named.
# netcraved alone (squid is its child); c-icap with its children.
ticks() {
	for p in "$@"; do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
	done | awk '{ t += $1 } END { print t + 0 }'
}
hz=$(getconf CLK_TCK)
# One wrk run on squid at port $1 with script $2: "requests/s requests".
rate() {
	wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$T/$2.lua" "http://127.0.0.1:$1" |
	    awk '/requests in/ { n = $1 } /^Requests\/sec/ { r = $2 } END { print r, n }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > "$T/rates"
for round in $(seq "$ROUNDS"); do
	for pair in alone:$SQ_ALONE nc:$SQ_NC echo:$SQ_ECHO empty:$SQ_EMPTY \
	    alone-miss:$SQ_ALONE nc-miss:$SQ_NC echo-miss:$SQ_ECHO; do
		name=${pair%%:*}
		script=proxy
		case $name in *-miss) script=miss ;; esac
		c0=$(ticks "$NC_PID"); e0=$(ticks "$CICAP_PID" $(pgrep -P "$CICAP_PID"))
		set -- $(rate "${pair#*:}" "$script")
		c1=$(ticks "$NC_PID"); e1=$(ticks "$CICAP_PID" $(pgrep -P "$CICAP_PID"))
		cpu=0
		case $name in
		nc*) cpu=$((c1 - c0)) ;;
		echo*) cpu=$((e1 - e0)) ;;
		esac
		# microseconds of the ICAP server's CPU per request
		us=$(awk -v t="$cpu" -v n="$2" -v hz="$hz" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }')
		echo "$name $1 $us" >> "$T/rates"
		echo "round $round: $name $1 req/s" >&2
	done
done
pick() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$T/rates" | median; }
alone=$(pick alone 2); nc=$(pick nc 2); echo_=$(pick echo 2); empty=$(pick empty 2)
nc_us=$(pick nc 3); echo_us=$(pick echo 3)
malone=$(pick alone-miss 2); mnc=$(pick nc-miss 2); mecho=$(pick echo-miss 2)
mnc_us=$(pick nc-miss 3); mecho_us=$(pick echo-miss 3)
hits=$(grep -c "HIT/200" "$T/run/squid/access.log" || true)
awk -v a="$alone" -v n="$nc" -v e="$echo_" -v z="$empty" -v d="$DURATION" \
    -v c="$CONNECTIONS" -v h="$hits" -v r="$ROUNDS" -v nu="$nc_us" -v eu="$echo_us" \
    -v ma="$malone" -v mn="$mnc" -v me="$mecho" -v mnu="$mnc_us" -v meu="$mecho_us" 'BEGIN {
	printf "wrk %ss x %s rounds (medians), %s connections, 2 KiB cacheable page (squid memory hits: %s)\n", d, r, c, h
	printf "squid alone:                   %10.0f req/s\n", a
	printf "squid + netcraved ICAP (WAF):  %10.0f req/s\n", n
	printf "squid + c-icap echo:           %10.0f req/s\n", e
	printf "squid + netcraved, no rules:   %10.0f req/s\n", z
	printf "netcraved overhead on squid:   %9.1f%% (target <= 15%%)\n", (a - n) / a * 100
	printf "c-icap echo overhead on squid: %9.1f%%\n", (a - e) / a * 100
	printf "netcraved / c-icap echo:       %10.2f\n", n / e
	printf "ICAP server CPU per request:   netcraved (WAF) %s us, c-icap echo %s us\n", nu, eu
	printf "misses (every request to the python3 backend, REQMOD and RESPMOD):\n"
	printf "squid alone:                   %10.0f req/s\n", ma
	printf "squid + netcraved ICAP (WAF):  %10.0f req/s\n", mn
	printf "squid + c-icap echo:           %10.0f req/s\n", me
	printf "netcraved overhead on squid:   %9.1f%%\n", (ma - mn) / ma * 100
	printf "c-icap echo overhead on squid: %9.1f%%\n", (ma - me) / ma * 100
	printf "ICAP server CPU per request:   netcraved (WAF) %s us, c-icap echo %s us\n", mnu, meu
}'
