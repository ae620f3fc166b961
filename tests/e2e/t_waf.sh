#!/bin/bash
# t_waf: the web-application firewall for ingress with a real squid and a real
# dockerd: a busybox httpd container on a netcrave network whose ingress admits
# the host sits behind squid's accelerator; its labels (io.netcrave.ingress.host,
# io.netcrave.waf) pick the rule set for its host.  Attacks are answered 403
# with an incident id, clean requests by the backend, a cacheable page from
# squid's cache the second time (X-Cache), and a killed squid is restarted by
# netcraved and serves again.
#
# HAProxy is not part of this test: squid's origin peer (waf.squid.accel_peer)
# is the container's own address, which the host reaches through the uplink
# (the host tag, as t_network shows).
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
SQUID=${NETCRAVE_SQUID:-/usr/sbin/squid}	# squid-openssl's, say
e2e_need "$SQUID"
getent passwd proxy >/dev/null || e2e_skip "no proxy user for squid to drop to"
e2e_start_dockerd
e2e_import_busybox

ula=$(e2e_ula)
# A /20 of its own in 198.19.128.0/17: the route to the backend is on the
# host, where other tests may run at the same time (and netcraved refuses a
# schema overlapping the host's addresses).
b=$(( $(shuf -i 8-15 -n 1) * 16 ))
sub=198.19.$(( b + 4 + $(shuf -i 0-3 -n 1) ))
BACKEND=$sub.50
ICAP_PORT=$(shuf -i 20000-29999 -n 1)
ACCEL_PORT=$(shuf -i 30000-39999 -n 1)
PROXY_PORT=$(shuf -i 40000-49999 -n 1)
cat >"$E2E_D/strict.json" <<'EOF'
{ "name": "strict", "rules": [
  { "id": "no-admin", "action": "block", "msg": "admin area",
    "if": [ { "target": "path", "transforms": ["url", "path", "lower"],
              "op": "prefix", "value": "/admin" } ] },
  { "id": "no-sqli", "action": "block", "msg": "SQL injection",
    "if": [ { "target": "args", "transforms": ["url", "lower"],
              "op": "regex", "value": "'\\s*or\\s*'?\\d" } ] } ] }
EOF
E2E_RUN_DIR_MODE=0711
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'" },
	"waf": { "icap_listen": "127.0.0.1:'$ICAP_PORT'",
	  "rule_files": ["'$E2E_D/strict.json'"],
	  "squid": { "enabled": true, "program": "'$SQUID'",
	    "listen": "127.0.0.1:'$PROXY_PORT'",
	    "accel_listen": "127.0.0.1:'$ACCEL_PORT'",
	    "accel_peer": "'$BACKEND':80" },
	  "egress_tag": "proxied" },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.19.'$b'.0/20",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "default", "ipv4_network": "198.19.'$b'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["default"] },
	  { "name": "svc", "ipv4_network": "198.19.'$((b + 4))'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["svc"],
	    "ingress": ["host"] },
	  { "name": "out", "ipv4_network": "198.19.'$((b + 8))'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["out"],
	    "ipv6_network": "'$ula':100::/56", "ipv6_prefix_length": 64,
	    "egress": ["proxied"] } ] } ]'
e2e_start_netcraved
e2e_wait 30 grep -q "squid: starting -> ready" "$E2E_D/netcraved.log" ||
    { e2e_show_log squid "$E2E_D/run/squid/cache.log"; e2e_fail "squid did not become ready"; }

dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=svc \
    --subnet "$sub.0/24" svc >/dev/null || e2e_fail "network create svc ($sub.0/24)"
# The backend: static pages; page.html dates from 2020, so squid may keep it
# (heuristic freshness) and serves it from memory the second time.
dk run -d --name shop --network svc --ip "$BACKEND" \
    --label io.netcrave.ingress.host=shop.test --label io.netcrave.waf=strict \
    local/busybox sh -c 'mkdir -p /www/admin &&
	echo "hello from the backend" >/www/index.html &&
	echo "admin page" >/www/admin/index.html &&
	echo "first version" >/www/page.html && touch -d "2020-01-01 00:00:00" /www/page.html &&
	httpd -f -p 80 -h /www' >/dev/null ||
    e2e_fail "docker run shop"
e2e_wait 10 sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | timeout 3 busybox nc -w 2 $BACKEND 80 | grep -q hello" ||
    e2e_fail "the host cannot reach the backend at $BACKEND:80"
e2e_wait 10 grep -q "icap: host shop.test judged by rule set strict" "$E2E_D/netcraved.log" ||
    e2e_fail "the ICAP server did not take the rule set from shop's labels"

A=http://127.0.0.1:$ACCEL_PORT
get() {	# get HOST PATH: the status; headers in $E2E_D/h, body in $E2E_D/b
	curl -s --max-time 10 -H "Host: $1" -D "$E2E_D/h" -o "$E2E_D/b" \
	    -w '%{http_code}' "$A$2"
}
code=$(get shop.test /index.html)
[ "$code" = 200 ] || e2e_fail "clean request through the accelerator: $code"
grep -q "hello from the backend" "$E2E_D/b" || e2e_fail "the body is not the backend's"
e2e_log "clean request answered by the backend"

# The container's set (strict) judges shop.test: /admin is blocked there...
code=$(get shop.test /admin/)
[ "$code" = 403 ] || e2e_fail "/admin for shop.test: $code, want 403 (set strict from the label)"
grep -q "Incident ID: [0-9a-f]\{16\}" "$E2E_D/b" || e2e_fail "no incident id in the 403 page"
id=$(sed -n 's/.*Incident ID: \([0-9a-f]\{16\}\).*/\1/p' "$E2E_D/b")
grep -q "incident $id set strict rule no-admin" "$E2E_D/netcraved.log" ||
    e2e_fail "the log does not name incident $id with set strict"
# ...but not for a host without labels, which gets the default set.
code=$(get other.test /admin/)
[ "$code" = 200 ] || e2e_fail "/admin for other.test: $code, want 200 (default set)"
for path in "/index.html?id=1%27%20or%20%271%27%3D%271" "/index.html?q=1'%20OR%202"; do
	code=$(get shop.test "$path")
	[ "$code" = 403 ] || e2e_fail "attack $path: $code, want 403"
	grep -q "Incident ID: [0-9a-f]\{16\}" "$E2E_D/b" || e2e_fail "attack $path: no incident id"
done
# The default set still stops the classic attacks on unlabelled hosts.
code=$(get other.test "/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E")
[ "$code" = 403 ] || e2e_fail "XSS for other.test: $code, want 403"
e2e_log "attacks 403 with an incident id; the set follows the container's labels"

code=$(get shop.test /page.html)
[ "$code" = 200 ] || e2e_fail "cacheable page: $code"
grep -q "first version" "$E2E_D/b" || e2e_fail "cacheable page: not the backend's"
# A new version on the backend: a fresh cached copy is still the first.
dk exec shop sh -c 'echo "second version" >/www/page.html'
code=$(get shop.test /page.html)
[ "$code" = 200 ] || e2e_fail "cacheable page, second fetch: $code"
grep -qi "^X-Cache: HIT" "$E2E_D/h" || { cat "$E2E_D/h" >&2; e2e_fail "second fetch is not a cache hit"; }
grep -q "first version" "$E2E_D/b" || e2e_fail "second fetch did not come from the cache"
grep -q "TCP_.*HIT/200 .*page.html" "$E2E_D/run/squid/access.log" ||
    e2e_fail "squid's access log has no hit for page.html"
e2e_log "cacheable page served from squid's cache the second time"

# Egress: a container on a network whose egress names waf.egress_tag reaches
# the outside (here the backend's address) only through squid, at its
# gateway's proxy port, under the egress rule set.  The network is dual-stack:
# its IPv6 gateway leads to squid's port on the uplink's IPv6 host address.
dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=out \
    --ipv6 out >/dev/null || e2e_fail "network create out"
gws=$(dk network inspect out -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}')
gw=$(printf '%s\n' $gws | grep -v : | head -1)
gw6=$(printf '%s\n' $gws | grep : | head -1)
gw6=${gw6%/*}
case $gw6 in "$ula":1*) ;; *) e2e_fail "out: no IPv6 gateway in $ula:100::/56 ($gw6)" ;; esac
dk run -d --name cli --network out -e "http_proxy=http://$gw:$PROXY_PORT" \
    local/busybox sleep 300 >/dev/null || e2e_fail "docker run cli"
grep -q "^http_port 169.254.[0-9]*.1:$PROXY_PORT name=netcrave_egress" "$E2E_D/run/squid/squid.conf" ||
    e2e_fail "squid.conf has no egress port on the uplink"
proxied() {	# proxied URL [GATEWAY]: the answer through the gateway's proxy port
	# (the request stays open a while: squid aborts on a half-close)
	timeout 10 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" exec cli sh -c "(printf 'GET %s HTTP/1.0\r\n\r\n' '$1'; sleep 2) |
	    nc -w 3 ${2:-$gw} $PROXY_PORT" 2>/dev/null
}
ok=0
for _ in 1 2 3 4 5; do
	proxied "http://$BACKEND/index.html" | grep -q 'hello from the backend' && { ok=1; break; }
	sleep 1
done
[ "$ok" = 1 ] || e2e_fail "egress: no answer through squid at $gw:$PROXY_PORT: $(proxied "http://$BACKEND/index.html" | head -3)"
out=$(proxied "http://$BACKEND/index.html?id=1%27%20OR%20%271%27%3D%271")
e2e_expect_contains "$out" "403 Forbidden" "egress attack"
e2e_expect_contains "$out" "Incident ID:" "egress attack"
out=$(proxied "http://127.0.0.1:$ICAP_PORT/")
e2e_expect_contains "$out" "403 Forbidden" "egress to the host's loopback"
e2e_expect_not_contains "$out" "ICAP/1.0" "egress to the host's loopback"
timeout 8 "$E2E_DOCKER" -H "unix://$E2E_D/docker.sock" exec cli sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 $BACKEND 80" 2>/dev/null | grep -q hello &&
    e2e_fail "egress: the container reached $BACKEND directly, past squid"
e2e_log "egress through squid at the gateway: clean passes, attacks 403, loopback and direct refused"
grep -q "^http_port \[fd6e:6372:[0-9a-f:]*::1\]:$PROXY_PORT name=netcrave_egress6" "$E2E_D/run/squid/squid.conf" ||
    e2e_fail "squid.conf has no IPv6 egress port on the uplink"
ok=0
for _ in 1 2 3 4 5; do
	proxied "http://$BACKEND/index.html" "$gw6" | grep -q 'hello from the backend' && { ok=1; break; }
	sleep 1
done
[ "$ok" = 1 ] || e2e_fail "IPv6 egress: no answer through squid at [$gw6]:$PROXY_PORT: $(proxied "http://$BACKEND/index.html" "$gw6" | head -3)"
out=$(proxied "http://$BACKEND/index.html?id=1%27%20OR%20%271%27%3D%271" "$gw6")
e2e_expect_contains "$out" "403 Forbidden" "IPv6 egress attack"
e2e_expect_contains "$out" "Incident ID:" "IPv6 egress attack"
id=$(printf '%s\n' "$out" | sed -n 's/.*Incident ID: \([0-9a-f]\{16\}\).*/\1/p' | head -1)
grep -q "incident $id " "$E2E_D/netcraved.log" || e2e_fail "IPv6 egress: the log does not name incident $id"
grep -q "TCP_.*/200 .*$BACKEND/index.html" "$E2E_D/run/squid/access.log" ||
    e2e_fail "squid's access log has no egress request"
# The egress misses went through the judge's egress port, which refuses
# loopback where it connects.
jport=$(sed -n 's/^http_port 127.0.0.1:\([0-9]*\) name=netcrave_judge_egress$/\1/p' "$E2E_D/run/squid/judge.conf")
grep -q "^cache_peer 127.0.0.1 parent $jport .*name=netcrave_to_judge_egress$" "$E2E_D/run/squid/squid.conf" ||
    e2e_fail "the front's egress misses do not go to the judge's egress port $jport"
grep -q "TCP_MISS/200 .*$BACKEND/index.html - HIER_DIRECT/" "$E2E_D/run/squid/judge-access.log" ||
    e2e_fail "the judge squid's access log has no egress request"
e2e_log "egress over IPv6 at [$gw6]:$PROXY_PORT: clean passes, attacks 403 with an incident id"
dk rm -f cli >/dev/null
dk network rm out >/dev/null || e2e_fail "network rm out"

# The label goes with the container: removed, shop.test falls back to default.
dk rm -f shop >/dev/null
dk run -d --name shop2 --network svc --ip "$BACKEND" local/busybox sh -c \
    'mkdir -p /www/admin && echo admin2 >/www/admin/index.html && httpd -f -p 80 -h /www' \
    >/dev/null || e2e_fail "docker run shop2"
e2e_wait 10 grep -q "icap: host shop.test no longer judged" "$E2E_D/netcraved.log" ||
    e2e_fail "the ICAP server kept the set of a removed container"
code=$(get shop.test /admin/)
[ "$code" = 200 ] || e2e_fail "/admin for shop.test after the labelled container left: $code"
e2e_log "container gone: its host judged by the default set again"

pid=$(pgrep -f "squid -N -f $E2E_D/run/squid/squid.conf" | head -1)
[ -n "$pid" ] || e2e_fail "squid is not running as netcraved's child"
n=$(grep -c "squid: starting -> ready" "$E2E_D/netcraved.log")
kill -KILL "$pid"
e2e_wait 30 sh -c "[ \$(grep -c 'squid: starting -> ready' '$E2E_D/netcraved.log') -gt $n ]" ||
    e2e_fail "netcraved did not restart squid"
e2e_wait 10 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.test' $A/admin/) = 200 ]" ||
    e2e_fail "no answer through squid after its restart"
code=$(get other.test "/index.html?id=1%27%20OR%20%271%27%3D%271")
[ "$code" = 403 ] || e2e_fail "after the restart an attack got $code"
e2e_log "squid killed, restarted by netcraved, serving and filtering again"

dk rm -f shop2 >/dev/null
dk network rm svc >/dev/null || e2e_fail "network rm svc"
e2e_stop_netcraved
pgrep -f "squid -N -f $E2E_D/run/squid/" >/dev/null && e2e_fail "a squid (front or judge) outlived netcraved"
e2e_log "pass"
