#!/bin/sh
# ingress.sh: haproxy.cfg as netcraved writes it passes `haproxy -c` (the unit
# test's golden config, with its paths filled in, and the one netcraved writes
# at start); netcraved supervises real haproxy in master-worker mode on
# loopback ports: HTTP redirected to HTTPS, HTTPS verified against the internal
# CA, the runtime API answering, and haproxy SIGKILLed is restarted and serves;
# ACME http-01 challenges routed to acme_address; a restart issues fresh
# certificates; a WAF return listener off loopback, or a missing haproxy,
# stops the start with the key named.
. "$(dirname "$0")/lib.sh"

HAPROXY=/usr/sbin/haproxy
if [ ! -x $HAPROXY ]; then
	echo "ok - skipped: haproxy is not installed (Debian package haproxy)"
	exit 0
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# api CMD: one line to haproxy's runtime API, its answer on stdout.
api() { python3 "$top_srcdir/tests/helpers/haproxy-api.py" "$T/run/ingress/haproxy.sock" "$1"; }

# The golden config of test_ingress, with a crt-list and CA of its own.
mkdir -p "$T/g"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -keyout "$T/g/key.pem" -out "$T/g/ca.crt" 2>/dev/null
cat "$T/g/ca.crt" "$T/g/key.pem" > "$T/g/default.pem"
echo "$T/g/default.pem" > "$T/g/crt-list"
sed "s|@DIR@|$T/g|g" "$top_srcdir/tests/unit/fixtures/ingress/haproxy.cfg" > "$T/g/haproxy.cfg"
out=$($HAPROXY -c -f "$T/g/haproxy.cfg" 2>&1)
check "the golden haproxy.cfg is valid for haproxy -c" contains "$out" "Configuration file is valid"

HTTP=$(free_port)
HTTPS=$(free_port)
DNS=$(free_port)
ACME=$(free_port)
# An http-01 responder standing where ingress.acme_address says.
mkdir -p "$T/acme/.well-known/acme-challenge"
echo "token-from-the-responder" > "$T/acme/.well-known/acme-challenge/tok1"
(cd "$T/acme" && exec python3 -m http.server "$ACME" --bind 127.0.0.1) \
    >"$T/acme.log" 2>&1 &
ACME_PID=$!
trap 'kill $ACME_PID 2>/dev/null; nc_cleanup' EXIT
nc_write_conf "\"dns\": { \"listen\": [\"127.0.0.1:$DNS\"] },
	\"ingress\": { \"enabled\": true, \"http_listen\": \"127.0.0.1:$HTTP\",
	  \"https_listen\": \"127.0.0.1:$HTTPS\", \"acme_address\": \"127.0.0.1:$ACME\" }"
nc_start || finish
check "haproxy becomes ready" wait_for 20 grep -q "haproxy: starting -> ready" "$LOG"
CFG=$T/run/ingress/haproxy.cfg
out=$($HAPROXY -c -f "$CFG" 2>&1)
check "the written haproxy.cfg is valid for haproxy -c" contains "$out" "Configuration file is valid"
check "the resolver is netcraved's DNS" grep -q "nameserver netcraved 127.0.0.1:$DNS" "$CFG"
check "haproxy runs in master-worker mode" pgrep -f "haproxy -W -db -f $CFG" >/dev/null

code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: shop.example.test' \
    "http://127.0.0.1:$HTTP/x?y=1")
check "HTTP is redirected to HTTPS ($code)" test "$code" = "301 https://shop.example.test/x?y=1"
wait_for 5 curl -sf -o /dev/null "http://127.0.0.1:$ACME/.well-known/acme-challenge/tok1" ||
    fail "the http-01 responder did not start"
code=$(curl -s -o "$T/tok" -w '%{http_code}' -H 'Host: shop.example.test' \
    "http://127.0.0.1:$HTTP/.well-known/acme-challenge/tok1")
check "ACME challenges go to acme_address, not redirected ($code)" test "$code" = 200
check "the responder's token" grep -qx "token-from-the-responder" "$T/tok"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/state/ca/ca.crt" \
    --resolve "localhost:$HTTPS:127.0.0.1" "https://localhost:$HTTPS/")
check "HTTPS verifies against the internal CA; no service: 503 ($code)" test "$code" = 503
out=$(api "show info")
check "the runtime API answers" contains "$out" "Name: HAProxy"
out=$(api "set server be_nothing/s1 state ready")
check "the runtime API refuses an unknown backend" contains "$out" "No such"

pid=$(pgrep -f "haproxy -W -db -f $CFG" | head -1)
kill -KILL "$pid"
check "haproxy killed is restarted" wait_for 20 sh -c \
    "[ \$(grep -c 'haproxy: starting -> ready' '$LOG') -ge 2 ]"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/state/ca/ca.crt" \
    --resolve "localhost:$HTTPS:127.0.0.1" "https://localhost:$HTTPS/")
check "and serves again ($code)" test "$code" = 503
newpid=$(pgrep -f "haproxy -W -db -f $CFG" | head -1)
check "a new master ($pid -> $newpid)" test -n "$newpid" -a "$newpid" != "$pid"

serial() { openssl x509 -noout -serial -in "$T/run/ingress/certs/default.pem"; }
before=$(serial)
cp "$T/run/ingress/certs/default.pem" "$T/run/ingress/certs/old.example.test.pem"
nc_stop
check "haproxy is stopped with netcraved" not pgrep -f "haproxy -W -db -f $CFG" >/dev/null

# A restart issues every certificate afresh (that is how they are renewed).
nc_start || finish
check "haproxy ready after the restart" wait_for 20 sh -c \
    "[ \$(grep -c 'haproxy: starting -> ready' '$LOG') -ge 3 ]"
check "a fresh default certificate" test "$(serial)" != "$before"
check "an earlier run's host certificate is gone" test ! -e "$T/run/ingress/certs/old.example.test.pem"
nc_stop

# refused WHAT INGRESS_MEMBERS MESSAGE: netcraved with this ingress section
# must stop at start-up, saying MESSAGE.
refused() {
	nc_write_conf "\"ingress\": { \"enabled\": true, \"http_listen\": \"127.0.0.1:$HTTP\", $2 }"
	out=$(timeout 20 "$NETCRAVED" -f -c "$CONF" 2>&1)
	rc=$?
	check "$1 stops the start (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
	check "$1: $3" contains "$out" "$3"
}
# Squid's way back into haproxy skips the firewall: loopback only.
refused "a waf_return_listen off loopback" "\"https_listen\": \"\", \"waf_return_listen\": \"0.0.0.0:$HTTPS\"" \
    "ingress.waf_return_listen: 0.0.0.0:$HTTPS: expected a loopback address"
refused "a missing haproxy" "\"program\": \"$T/no-haproxy\"" \
    "ingress.program: $T/no-haproxy: No such file or directory"
finish
