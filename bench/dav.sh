#!/bin/sh
# dav.sh: WebDAV side by side in one run.  GET of 4 KiB files with wrk
# (keep-alive) against netcraved (encrypted store), nginx (nginx-extras
# dav_methods, one worker) and Apache mod_dav serving the same files; then a
# 64 MiB PUT and GET, netcraved encrypted against nginx plaintext.  Prints
# requests/s, MB/s and the ratios to nginx (targets: GET >= 1.0, PUT/GET of a
# big file >= 0.8).  The figures are steadier than one run of each: the
# servers share CPU 0 and the clients run on CPU 1 (taskset), so each server
# gets the same one core; both are warmed up first (netcraved keeps a file's
# plaintext only once it is two seconds old), and ROUNDS rounds (default 9)
# take turns between the servers, the first of each pair alternating; the
# medians are reported, with the spread of the ratio over the rounds.  Both
# serve the same 4 KiB files over a plaintext loopback listener, with
# ETag and Last-Modified; the heads are printed and the bytes compared.
# Usage: bench/dav.sh [build-dir]  (root; needs wrk, nginx-extras, apache2,
# curl: sudo tools/install-deps --bench)
# ONLY=get skips the 64 MiB part; APACHE=0 leaves Apache out.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top}
NETCRAVED=$build/netcraved
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-9}
ONLY=${ONLY:-}
APACHE=${APACHE:-1}
CONNS=${CONNS:-16}
NFILES=100
need="wrk nginx curl python3 taskset"
[ "$APACHE" = 1 ] && need="$need apache2"
for p in $need; do
	command -v $p >/dev/null || { echo "dav.sh: $p not installed (tools/install-deps --bench)" >&2; exit 1; }
done
T=$(mktemp -d /tmp/nc-bench-dav.XXXXXX)
chmod 0755 "$T"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	[ -f "$T/apache.pid" ] && kill "$(cat "$T/apache.pid")" 2>/dev/null || true
	sleep 0.5
	rm -rf "$T"
}
trap cleanup EXIT
# Servers on CPU 0, clients on CPU 1 (when there are two).
if [ "$(nproc)" -ge 2 ]; then SRV="taskset -c 0"; CLI="taskset -c 1"; else SRV=; CLI=; fi
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "no server on $1" >&2; exit 1; }

P_NC=$(port); P_NG=$(port); P_AP=$(port)

# netcraved, plaintext loopback listener, its own state.
cat > "$T/nc.json" <<JSON
{ "instance": "bench$$", "paths": { "run_dir": "$T/run", "state_dir": "$T/state",
  "plugin_socket": "$T/run/plugin.sock", "control_socket": "$T/run/control.sock" },
  "metrics": { "listen": "" }, "dav": { "socket": "", "plain_listen": "127.0.0.1:$P_NC" } }
JSON
$SRV "$NETCRAVED" -f -c "$T/nc.json" > "$T/nc.log" 2>&1 &
NC_PID=$!
PIDS="$PIDS $!"
wait_port "$P_NC"
curl -sf -X MKCOL "http://127.0.0.1:$P_NC/bench/" >/dev/null

# nginx: one worker, dav_methods, the same files in plaintext.
mkdir -p "$T/www/bench" "$T/nginx"
cat > "$T/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $T/nginx/body;
	client_max_body_size 0;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$P_NG;
		root $T/www;
		dav_methods PUT DELETE MKCOL COPY MOVE;
		create_full_put_path on;
	}
}
CONF
$SRV nginx -c "$T/nginx.conf" -p "$T/nginx" &
PIDS="$PIDS $!"

# Apache mod_dav (event MPM), the same tree.
mods=/usr/lib/apache2/modules
cat > "$T/apache.conf" <<CONF
ServerRoot $T
PidFile $T/apache.pid
Listen 127.0.0.1:$P_AP
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dav_module $mods/mod_dav.so
LoadModule dav_fs_module $mods/mod_dav_fs.so
User www-data
Group www-data
ErrorLog $T/apache-error.log
DAVLockDB $T/davlock
DocumentRoot $T/www
MaxKeepAliveRequests 0
<Directory $T/www>
	Dav On
	Require all granted
</Directory>
CONF
if [ "$APACHE" = 1 ]; then
	$SRV apache2 -f "$T/apache.conf" -DFOREGROUND 2>/dev/null &
	PIDS="$PIDS $!"
	wait_port "$P_AP"
fi
wait_port "$P_NG"

# The same 4 KiB files everywhere.
i=0
while [ $i -lt $NFILES ]; do
	head -c 4096 /dev/urandom > "$T/www/bench/f$i"
	curl -sf -T "$T/www/bench/f$i" "http://127.0.0.1:$P_NC/bench/f$i" >/dev/null
	i=$((i + 1))
done
for p in $P_NC $P_NG; do
	curl -sf "http://127.0.0.1:$p/bench/f7" | cmp -s - "$T/www/bench/f7" ||
	    { echo "the server on $p serves different bytes" >&2; exit 1; }
	# The same kind of answer: 200, 4096 bytes, with validators.
	curl -sf -D "$T/head.$p" -o /dev/null "http://127.0.0.1:$p/bench/f7"
	for h in "HTTP/1.1 200" "Content-Length: 4096" "ETag:" "Last-Modified:"; do
		grep -qi "^$h" "$T/head.$p" ||
		    { echo "the server on $p answers without $h" >&2; exit 1; }
	done
done
echo "heads (netcraved, then nginx):"
sed 's/^/  /' "$T/head.$P_NC" "$T/head.$P_NG" | tr -d '\r' | grep -v '^  $'
cat > "$T/rotate.lua" <<LUA
local i = 0
request = function()
	i = (i + 1) % $NFILES
	return wrk.format("GET", "/bench/f" .. i)
end
LUA

# CPU time (ms) a server process has used: a figure other load on the
# machine hardly moves, unlike the requests/s.
cpu_ms() { awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"; }
NG_PID=$(pgrep -P "$(cat "$T/nginx/nginx.pid")" | head -1)
rps() {	# port name [seconds]; the server's CPU us per request in $T/us.name
	case $2 in netcraved) _p=$NC_PID ;; nginx) _p=$NG_PID ;; *) _p= ;; esac
	[ -n "$_p" ] && _c0=$(cpu_ms "$_p")
	$CLI wrk -t1 -c"$CONNS" -d"${3:-$DURATION}s" -s "$T/rotate.lua" "http://127.0.0.1:$1/" > "$T/wrk.out" 2>&1
	grep -q "Non-2xx" "$T/wrk.out" && { echo "errors from $2:" >&2; cat "$T/wrk.out" >&2; exit 1; }
	if [ -n "$_p" ]; then
		_c1=$(cpu_ms "$_p")
		awk -v c=$((_c1 - _c0)) '/requests in/ { printf "%.2f\n", c * 1000 / $1 }' \
		    "$T/wrk.out" > "$T/us.$2"
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$T/wrk.out"
}
# Warm-up: netcraved caches a file's plaintext once it is 2 s old, both
# fill their page cache and allocator pools.
sleep 2
rps "$P_NC" netcraved 2 >/dev/null
rps "$P_NG" nginx 2 >/dev/null
echo "GET 4 KiB files, wrk -t1 -c$CONNS -d${DURATION}s, keep-alive, $ROUNDS rounds, servers on one CPU"
: > "$T/get.nc"; : > "$T/get.ng"; : > "$T/get.ap"; : > "$T/get.ratio"; : > "$T/get.cpuratio"
r=1
while [ $r -le "$ROUNDS" ]; do
	# Who goes first alternates: a trend in the load hits both alike.
	if [ $((r % 2)) = 1 ]; then
		nc=$(rps "$P_NC" netcraved); ng=$(rps "$P_NG" nginx)
	else
		ng=$(rps "$P_NG" nginx); nc=$(rps "$P_NC" netcraved)
	fi
	ap=0
	[ "$APACHE" = 1 ] && ap=$(rps "$P_AP" apache)
	echo "$nc" >> "$T/get.nc"; echo "$ng" >> "$T/get.ng"; echo "$ap" >> "$T/get.ap"
	echo "$nc $ng" | awk '{ printf "%.3f\n", $1 / $2 }' >> "$T/get.ratio"
	# nginx's CPU per request over netcraved's: > 1 when netcraved is cheaper.
	echo "$(cat "$T/us.nginx") $(cat "$T/us.netcraved")" |
	    awk '{ printf "%.3f\n", ($2 > 0 ? $1 / $2 : 0) }' >> "$T/get.cpuratio"
	echo "  round $r: netcraved $nc, nginx $ng, apache $ap req/s; server CPU per request netcraved $(cat "$T/us.netcraved") us, nginx $(cat "$T/us.nginx") us"
	r=$((r + 1))
done
nc=$(median < "$T/get.nc"); ng=$(median < "$T/get.ng"); ap=$(median < "$T/get.ap")
echo "  netcraved (encrypted)  $nc req/s (median)"
echo "  nginx (1 worker)       $ng req/s (median)"
[ "$APACHE" = 1 ] && echo "  apache mod_dav         $ap req/s (median)"
echo "  ratio netcraved/nginx  $(median < "$T/get.ratio") median of rounds, $(sort -n "$T/get.ratio" | head -1)-$(sort -n "$T/get.ratio" | tail -1) (target >= 1.0)"
echo "  CPU per request nginx/netcraved $(median < "$T/get.cpuratio") median of rounds, $(sort -n "$T/get.cpuratio" | head -1)-$(sort -n "$T/get.cpuratio" | tail -1) (the same ratio by CPU cost, steadier under load)"
[ "$APACHE" = 1 ] && echo "  ratio nginx/apache     $(echo "$ng $ap" | awk '{printf "%.2f", $1 / $2}')"
[ "$ONLY" = get ] && exit 0

# 64 MiB PUT then GET, best of three.
head -c 67108864 /dev/urandom > "$T/big"
mbs() {	# MB/s of one curl run: METHOD URL
	if [ "$1" = PUT ]; then
		_t=$($CLI curl -sf -T "$T/big" -o /dev/null -w '%{time_total}' "$2")
	else
		_t=$($CLI curl -sf -o "$T/big.out" -w '%{time_total}' "$2")
		cmp -s "$T/big" "$T/big.out" || { echo "GET $2: wrong bytes" >&2; exit 1; }
	fi
	echo "$_t" | awk '{ printf "%.1f\n", 64 / $1 }'
}
echo "64 MiB PUT then GET (MB/s, median of $ROUNDS rounds taking turns)"
for f in ncp ngp ncg ngg rp rg; do : > "$T/big.$f"; done
cpu_put_nc=0; cpu_put_ng=0; cpu_get_nc=0; cpu_get_ng=0
r=1
while [ $r -le "$ROUNDS" ]; do
	c0=$(cpu_ms "$NC_PID"); a=$(mbs PUT "http://127.0.0.1:$P_NC/bench/big"); c1=$(cpu_ms "$NC_PID")
	cpu_put_nc=$((cpu_put_nc + c1 - c0))
	c0=$(cpu_ms "$NG_PID"); b=$(mbs PUT "http://127.0.0.1:$P_NG/bench/big"); c1=$(cpu_ms "$NG_PID")
	cpu_put_ng=$((cpu_put_ng + c1 - c0))
	c0=$(cpu_ms "$NC_PID"); c=$(mbs GET "http://127.0.0.1:$P_NC/bench/big"); c1=$(cpu_ms "$NC_PID")
	cpu_get_nc=$((cpu_get_nc + c1 - c0))
	c0=$(cpu_ms "$NG_PID"); d=$(mbs GET "http://127.0.0.1:$P_NG/bench/big"); c1=$(cpu_ms "$NG_PID")
	cpu_get_ng=$((cpu_get_ng + c1 - c0))
	echo "$a" >> "$T/big.ncp"; echo "$b" >> "$T/big.ngp"; echo "$c" >> "$T/big.ncg"; echo "$d" >> "$T/big.ngg"
	echo "$a $b" | awk '{ printf "%.3f\n", $1 / $2 }' >> "$T/big.rp"
	echo "$c $d" | awk '{ printf "%.3f\n", $1 / $2 }' >> "$T/big.rg"
	echo "  round $r: PUT netcraved $a nginx $b, GET netcraved $c nginx $d"
	r=$((r + 1))
done
spread() { echo "$(sort -n "$1" | head -1)-$(sort -n "$1" | tail -1)"; }
echo "  PUT netcraved (encrypted) $(median < "$T/big.ncp"), nginx (plaintext) $(median < "$T/big.ngp"), ratio $(median < "$T/big.rp") median, $(spread "$T/big.rp") (target >= 0.8)"
echo "  GET netcraved (encrypted) $(median < "$T/big.ncg"), nginx (plaintext) $(median < "$T/big.ngg"), ratio $(median < "$T/big.rg") median, $(spread "$T/big.rg") (target >= 0.8)"
echo "  server CPU per 64 MiB (ms, mean): PUT netcraved $((cpu_put_nc / ROUNDS)) nginx $((cpu_put_ng / ROUNDS)); GET netcraved $((cpu_get_nc / ROUNDS)) nginx $((cpu_get_ng / ROUNDS)) (sendfile)"
