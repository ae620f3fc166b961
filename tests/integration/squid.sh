#!/bin/sh
# squid.sh: real squid, written and supervised by netcraved, as a forward
# proxy on loopback in front of a python3 http.server backend, with every
# request and response through netcraved's ICAP server: attacks answered 403
# with an incident id, clean requests answered by the backend, a cacheable
# page served from cache the second time, squid killed and restarted.
# waf.squid.ssl_bump is on: a squid with OpenSSL (squid-openssl) bumps, one
# without (Debian's squid: GnuTLS) is logged and runs without; NETCRAVE_SQUID
# names the squid (default /usr/sbin/squid).
. "$(dirname "$0")/lib.sh"

SQUID=${NETCRAVE_SQUID:-/usr/sbin/squid}
CERTGEN=${NETCRAVE_SQUID_CERTGEN:-$(dirname "$SQUID")/../lib/squid/security_file_certgen}
if [ ! -x "$SQUID" ]; then
	echo "ok - skipped: squid is not installed (Debian package squid)"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! getent passwd proxy >/dev/null; then
	echo "ok - skipped: squid needs root and the proxy user to drop to"
	exit 0
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
ICAP_PORT=$(free_port)
SQUID_PORT=$(free_port)
BACKEND_PORT=$(free_port)
ACCEL_PORT=$(free_port)

mkdir -p "$T/www"
echo "hello from the backend" > "$T/www/index.html"
echo "a cacheable page" > "$T/www/cached.html"
touch -d '2020-01-01' "$T/www/cached.html"
(cd "$T/www" && exec python3 -m http.server "$BACKEND_PORT" --bind 127.0.0.1) \
    >"$T/backend.log" 2>&1 &
BACKEND_PID=$!
trap 'kill $BACKEND_PID 2>/dev/null; nc_cleanup' EXIT
wait_for 5 curl -sf -o /dev/null "http://127.0.0.1:$BACKEND_PORT/" ||
    fail "backend did not start"

nc_write_conf "\"waf\": { \"icap_listen\": \"127.0.0.1:$ICAP_PORT\",
	\"squid\": { \"enabled\": true, \"program\": \"$SQUID\",
	\"ssl_bump\": true, \"certgen_program\": \"$(readlink -f "$CERTGEN" || echo /nonexistent)\",
	\"listen\": \"127.0.0.1:$SQUID_PORT\",
	\"accel_listen\": \"127.0.0.1:$ACCEL_PORT\",
	\"accel_peer\": \"127.0.0.1:$BACKEND_PORT\" } }"
nc_start || finish
check "squid becomes ready" wait_for 20 grep -q "squid: starting -> ready" "$LOG"
J=$T/run/squid/judge.conf
check "the judge squid is ready first" grep -q "squid-judge: starting -> ready" "$LOG"
check "judge.conf enables ICAP" grep -q "^icap_enable on" "$J"
check "judge.conf has the reqmod service" grep -q "reqmod_precache.*icap://127.0.0.1:$ICAP_PORT/waf/default/reqmod" "$J"
check "judge.conf has a judge port on loopback" grep -q "^http_port 127.0.0.1:[0-9]* name=netcrave_judge$" "$J"
check "the judge port is adapted" grep -q "^adaptation_access netcrave_req allow netcrave_judge$" "$J"
check "the judge caches nothing" grep -q "^cache deny all$" "$J"
check "the judge refuses loopback on the egress judge port (where it connects)" grep -q "^http_access deny netcrave_judge_egress to_localhost$" "$J"
check "the probe host is matched by name only" grep -q "^acl netcrave_probe dstdomain -n netcrave-ready.invalid$" "$J"
jport=$(sed -n 's/^http_port 127.0.0.1:\([0-9]*\) name=netcrave_judge$/\1/p' "$J")
check "the front's misses go to the judge port" grep -q "^cache_peer 127.0.0.1 parent $jport 0 .*default name=netcrave_to_judge$" "$T/run/squid/squid.conf"
check "the front squid adapts no plain request" not grep -q "^adaptation_access netcrave_req allow netcrave_forward" "$T/run/squid/squid.conf"
check "the judge port is privileged (no user can take it)" test "$jport" -lt 1024
check "squid.conf and judge.conf are not world-readable" sh -c "[ \$(stat -c %a '$J') = 640 ] && [ \$(stat -c %a '$T/run/squid/squid.conf') = 640 ]"
if "$SQUID" -v | grep -q -- --with-openssl; then
	check "squid with OpenSSL: the forward port bumps" grep -q "^http_port 127.0.0.1:$SQUID_PORT name=netcrave_forward ssl-bump tls-cert=$T/run/squid/bump-ca.crt" "$T/run/squid/squid.conf"
	check "squid with OpenSSL: the certificate helper" grep -q "^sslcrtd_program .* -s $T/run/squid/ssl_db" "$T/run/squid/squid.conf"
	check "squid with OpenSSL: the front judges the bumped requests" grep -q "^adaptation_access netcrave_req allow netcrave_bumped$" "$T/run/squid/squid.conf"
	check "the bump CA is a root of its own" openssl verify -CAfile "$T/run/squid/bump-ca.crt" "$T/run/squid/bump-ca.crt"
	check "the bump CA is not under the internal CA" not openssl verify -CAfile "$T/run/squid/ca.crt" "$T/run/squid/bump-ca.crt"
else
	check "squid without OpenSSL: a clear error" grep -q "squid: waf.squid.ssl_bump: $SQUID is built without OpenSSL" "$LOG"
	check "squid without OpenSSL: no ssl-bump in squid.conf" not grep -q "ssl.bump\|sslcrtd" "$T/run/squid/squid.conf"
	check "squid without OpenSSL: the front squid has no ICAP" grep -q "^icap_enable off$" "$T/run/squid/squid.conf"
fi

get() { curl -s -x "http://127.0.0.1:$SQUID_PORT" -D "$T/h" -o "$T/b" -w '%{http_code}' "$@"; }
B=http://127.0.0.1:$BACKEND_PORT

check "clean request answered by the backend" test "$(get "$B/index.html")" = 200
check "the body is the backend's" grep -q "hello from the backend" "$T/b"

for attack in "/index.html?id=1%27%20OR%20%271%27%3D%271" \
    "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E" \
    "/download?file=..%2F..%2F..%2Fetc%2Fpasswd" \
    "/ping?host=127.0.0.1%3B%20cat%20%2Fetc%2Fpasswd"; do
	code=$(get "$B$attack")
	check "attack $attack: 403" test "$code" = 403
	check "attack $attack: incident id in the page" grep -q "Incident ID: [0-9a-f]\{16\}" "$T/b"
done
code=$(get -X POST -H 'Content-Type: application/json' \
    --data '{"comment":"<img src=x onerror=alert(1)>"}' "$B/api/comments")
check "attack in a JSON body: 403" test "$code" = 403
code=$(get -X POST --data-urlencode "bio=I like to select the script of a play" "$B/index.html")
check "prose with select and script is not blocked" test "$code" != 403
check "the backend saw no attack" not grep -q "etc/passwd\|alert\|OR%20" "$T/backend.log"
# The backend's X-Forwarded-For names the client alone, not the front squid
# the judge squid got the request from.
RAW_PORT=$(free_port)
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(20)
c, _ = s.accept(); d = b""
while b"\r\n\r\n" not in d:
    d += c.recv(65536)
open(sys.argv[2], "wb").write(d)
c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"); c.close()' "$RAW_PORT" "$T/raw.head" &
RAW_PID=$!
sleep 0.3
check "a request to a second backend" test "$(get "http://127.0.0.1:$RAW_PORT/xff")" = 200
wait $RAW_PID
check "its X-Forwarded-For names the client alone" grep -q "^X-Forwarded-For: 127.0.0.1.$" "$T/raw.head"

get "$B/cached.html" >/dev/null
get "$B/cached.html" >/dev/null
check "second fetch of a cacheable page is a cache hit" grep -qi "^X-Cache: HIT" "$T/h"
check "the access log records the hit" grep -q "TCP_.*HIT/200.*cached.html" "$T/run/squid/access.log"
check "a miss went through the judge port" grep -q "TCP_MISS/200 .*/index.html - FIRSTUP_PARENT/127.0.0.1" "$T/run/squid/access.log"
check "and from there to the backend" grep -q "TCP_MISS/200 .*/index.html - HIER_DIRECT/127.0.0.1" "$T/run/squid/judge-access.log"
# A cache hit reaches no backend and is not judged again: an attack tool's
# User-Agent on the cached page gets the page, the backend sees nothing; the
# same request for a page not in the cache is judged and refused.
seen=$(grep -c "cached.html" "$T/backend.log")
judged=$(grep -c "cached.html" "$T/run/squid/judge-access.log")
check "hit with an attack header: served from the cache" test "$(get -A "sqlmap/1.7" "$B/cached.html")" = 200
check "hit with an attack header: a cache hit" grep -qi "^X-Cache: HIT" "$T/h"
check "hit with an attack header: the backend saw nothing" test "$(grep -c "cached.html" "$T/backend.log")" = "$seen"
check "hit with an attack header: the judge squid saw nothing" test "$(grep -c "cached.html" "$T/run/squid/judge-access.log")" = "$judged"
check "miss with an attack header: 403" test "$(get -A "sqlmap/1.7" "$B/cached.html?fresh")" = 403
check "miss with an attack header: incident id" grep -q "Incident ID: [0-9a-f]\{16\}" "$T/b"

# The accelerator (ingress): squid in front of the backend as its origin,
# judged by the set of the request's Host (no container labels here: the
# default set).
check "squid.conf has the accelerator port" grep -q "^http_port 127.0.0.1:$ACCEL_PORT accel vhost" "$T/run/squid/squid.conf"
check "judge.conf has the origin peer" grep -q "^cache_peer 127.0.0.1 parent $BACKEND_PORT 0 .*originserver" "$J"
check "the front squid has no origin peer" not grep -q "originserver" "$T/run/squid/squid.conf"
check "the accelerator's services choose by Host" grep -q "reqmod_precache.*icap://127.0.0.1:$ICAP_PORT/waf-host/reqmod" "$J"
A=http://127.0.0.1:$ACCEL_PORT
aget() { curl -s -H "Host: shop.test" -D "$T/h" -o "$T/b" -w '%{http_code}' "$@"; }
check "accelerator: clean request answered by the backend" test "$(aget "$A/index.html")" = 200
check "accelerator: the body is the backend's" grep -q "hello from the backend" "$T/b"
check "accelerator: SQL injection 403" test "$(aget "$A/index.html?id=1%27%20OR%20%271%27%3D%271")" = 403
check "accelerator: incident id in the page" grep -q "Incident ID: [0-9a-f]\{16\}" "$T/b"
aget "$A/cached.html?accel" >/dev/null
aget "$A/cached.html?accel" >/dev/null
check "accelerator: second fetch is a cache hit" grep -qi "^X-Cache: HIT" "$T/h"

pid=$(pgrep -f "squid -N -f $T/run/squid/squid.conf" | head -1)
check "squid runs as a child" test -n "$pid"
kill -KILL "$pid" 2>/dev/null
check "netcraved restarts squid" wait_for 20 sh -c "grep -q 'squid: backoff -> starting' '$LOG' && [ \$(grep -c 'squid: starting -> ready' '$LOG') -ge 2 ]"
check "through squid again after the restart" test "$(get "$B/index.html")" = 200
# The judge squid killed: misses fail closed (no backend is reached
# unjudged) until netcraved has restarted it, then pass again.
pid=$(pgrep -f "squid -N -f $J" | head -1)
check "the judge squid runs as a child" test -n "$pid"
kill -KILL "$pid" 2>/dev/null
check "the judge down stops the front squid (its port would be free)" wait_for 10 grep -q "squid: the judge squid is down, stopping the front squid" "$LOG"
check "netcraved restarts the judge squid" wait_for 20 sh -c "[ \$(grep -c 'squid-judge: starting -> ready' '$LOG') -ge 2 ]"
check "then the front squid again" wait_for 20 grep -q "squid: judge ready again, starting the front squid" "$LOG"
check "the front was stopped before the judge was back" awk '/the judge squid is down/ { d = 1 } d && /^netcraved: squid: stopping -> stopped/ { s = 1 } /judge ready again/ { exit !s } END { if (!d) exit 1 }' "$LOG"
check "judged misses pass again after the judge's restart" wait_for 30 sh -c "[ \$(curl -s -x http://127.0.0.1:$SQUID_PORT -o /dev/null -w '%{http_code}' '$B/index.html?after-judge') = 200 ]"
check "attacks are refused after the judge's restart" test "$(get "$B/index.html?id=1%27%20OR%20%271%27%3D%271")" = 403

check "netcraved stops cleanly" nc_stop
check "squid is gone after the stop" not pgrep -f "squid -N -f $T/run/squid/squid.conf"
check "the judge squid is gone after the stop" not pgrep -f "squid -N -f $J"

# With OpenSSL: the bump CA is kept across a restart while it is valid, its
# certificate database made afresh.
if "$SQUID" -v | grep -q -- --with-openssl; then
	cp "$T/run/squid/bump-ca.crt" "$T/bump-ca.first"
	nc_start || finish
	check "squid with OpenSSL: ready again" wait_for 20 sh -c "[ \$(grep -c 'squid: starting -> ready' '$LOG') -ge 3 ]"
	check "the bump CA is kept across a restart" cmp -s "$T/bump-ca.first" "$T/run/squid/bump-ca.crt"
	check "one bump CA made in both runs" test "$(grep -c 'squid: new ssl-bump CA' "$LOG")" = 1
	check "the certificate database is there" test -d "$T/run/squid/ssl_db/certs"
	check "netcraved stops cleanly again" nc_stop
fi

# A squid that hangs when asked its version (-v, for ssl_bump) is killed
# after 10 s: netcraved starts all the same, says so, and stops cleanly.
printf '#!/bin/sh\nexec sleep 60\n' > "$T/hang-squid"
chmod 0755 "$T/hang-squid"
nc_write_conf "\"waf\": { \"icap_listen\": \"127.0.0.1:$ICAP_PORT\",
	\"squid\": { \"enabled\": true, \"program\": \"$T/hang-squid\",
	\"ssl_bump\": true, \"listen\": \"127.0.0.1:$SQUID_PORT\" } }"
"$NETCRAVED" -f -c "$CONF" >>"$LOG" 2>&1 &
NC_PID=$!
check "a hanging squid -v is killed after 10 s" wait_for 20 grep -q "squid: $T/hang-squid -v: $T/hang-squid: no answer in 10 s, killed" "$LOG"
check "netcraved answers after it" wait_for 10 curl -sf --unix-socket "$PLUGIN_SOCK" -X POST http://localhost/Plugin.Activate -o /dev/null
check "netcraved stops cleanly with that squid" nc_stop
finish
