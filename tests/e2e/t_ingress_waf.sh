#!/bin/bash
# t_ingress_waf: the whole ingress path of a firewalled service, with real
# haproxy, squid and dockerd: a busybox httpd labelled io.netcrave.ingress.host
# and io.netcrave.waf is reached over HTTPS through haproxy, which sends it to
# squid's accelerator (ingress.waf_address taken from waf.squid.accel_listen);
# squid asks netcraved's ICAP server, which judges by the container's rule
# set, and hands clean traffic back to haproxy's loopback return frontend
# (waf.squid.accel_peer taken from ingress.waf_return_listen), which routes by
# Host to the container.  Attacks get 403 with an incident id, clean requests
# the backend's page, a cacheable page comes from squid's cache the second
# time, and a service without the label bypasses squid.
# e2e-timeout: 180
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
SQUID=${NETCRAVE_SQUID:-/usr/sbin/squid}	# squid-openssl's, say
e2e_need haproxy "$SQUID" curl
getent passwd proxy >/dev/null || e2e_skip "no proxy user for squid to drop to"
e2e_start_dockerd
e2e_import_busybox

ula=$(e2e_ula)
# A /20 of its own in 198.19.0.0/17 (t_waf uses the upper half).
B=$(( $(shuf -i 1-7 -n 1) * 16 ))
set -- $(shuf -i 20000-45000 -n 5)
HTTP=$1 HTTPS=$2 ICAP=$3 ACCEL=$4 RET=$5
cat >"$E2E_D/strict.json" <<'EOF'
{ "name": "strict", "rules": [
  { "id": "no-admin", "action": "block", "msg": "admin area",
    "if": [ { "target": "path", "transforms": ["url", "path", "lower"],
              "op": "prefix", "value": "/admin" } ] } ] }
EOF
E2E_RUN_DIR_MODE=0711
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'",
	  "network_driver": "bridge" },
	"ingress": { "enabled": true, "http_listen": "127.0.0.1:'$HTTP'",
	  "https_listen": "127.0.0.1:'$HTTPS'",
	  "waf_return_listen": "127.0.0.1:'$RET'" },
	"waf": { "icap_listen": "127.0.0.1:'$ICAP'",
	  "rule_files": ["'$E2E_D/strict.json'"],
	  "squid": { "enabled": true, "program": "'$SQUID'",
	    "listen": "127.0.0.1:'$(( ACCEL + 1 ))'",
	    "accel_listen": "127.0.0.1:'$ACCEL'" } },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.19.'$B'.0/20",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "default", "ipv4_network": "198.19.'$B'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["default"] },
	  { "name": "web", "ipv4_network": "198.19.'$((B + 4))'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["web"], "ingress": ["host"] } ] } ]'
e2e_start_netcraved
CA=$E2E_D/state/ca/ca.crt
e2e_wait 30 grep -q "squid: starting -> ready" "$E2E_D/netcraved.log" ||
    { e2e_show_log squid "$E2E_D/run/squid/cache.log"; e2e_fail "squid did not become ready"; }
e2e_wait 20 grep -q "haproxy: starting -> ready" "$E2E_D/netcraved.log" ||
    e2e_fail "haproxy did not become ready"
grep -q "cache_peer 127.0.0.1 parent $RET " "$E2E_D/run/squid/judge.conf" ||
    e2e_fail "squid's origin peer is not haproxy's return frontend: $(grep cache_peer "$E2E_D/run/squid/judge.conf")"
dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=web \
    "$PLUGIN-web" >/dev/null || e2e_fail "network create $PLUGIN-web"

web() {	# web NAME HOST [LABELS...]
	local name=$1 host=$2
	shift 2
	dk run -d --name "$name" --network "$PLUGIN-web" \
	    --label io.netcrave.ingress.host="$host" "$@" local/busybox sh -c '
		mkdir -p /www/admin && echo "hello from $(hostname)" >/www/index.html &&
		echo "admin page" >/www/admin/index.html &&
		echo "first version" >/www/page.html &&
		touch -d "2020-01-01 00:00:00" /www/page.html &&
		exec httpd -f -p 80 -h /www' >/dev/null || e2e_fail "docker run $name"
}
get() {	# get HOST PATH: the status; headers in $E2E_D/h, body in $E2E_D/b
	curl -s --max-time 10 --cacert "$CA" --resolve "$1:$HTTPS:127.0.0.1" \
	    -D "$E2E_D/h" -o "$E2E_D/b" -w '%{http_code}' "https://$1:$HTTPS$2"
}
web shop shop.e2e.test --hostname shop --label io.netcrave.waf=strict
web blog blog.e2e.test --hostname blog
e2e_wait 20 eval '[ "$(get shop.e2e.test /index.html)" = 200 ] && grep -q "hello from shop" "$E2E_D/b"' ||
    e2e_fail "shop.e2e.test not served through haproxy and squid: $(cat "$E2E_D/b")"
grep -q "waf_address .* is empty" "$E2E_D/netcraved.log" &&
    e2e_fail "ingress did not take squid's accelerator as its WAF address"
grep -q "icap: host shop.e2e.test judged by rule set strict" "$E2E_D/netcraved.log" ||
    e2e_fail "the ICAP server did not take shop's rule set from its labels"
grep -qi "^X-Cache: " "$E2E_D/h" ||
    { cat "$E2E_D/h" >&2; e2e_fail "the clean request did not pass through squid (no X-Cache)"; }
e2e_log "clean request: haproxy -> squid -> haproxy -> shop"

code=$(get shop.e2e.test /admin/)
[ "$code" = 403 ] || e2e_fail "/admin/ of the firewalled service: $code, want 403"
grep -q "Incident ID: [0-9a-f]\{16\}" "$E2E_D/b" || e2e_fail "no incident id in the 403 page"
id=$(sed -n 's/.*Incident ID: \([0-9a-f]\{16\}\).*/\1/p' "$E2E_D/b")
grep -q "incident $id set strict rule no-admin" "$E2E_D/netcraved.log" ||
    e2e_fail "the log does not name incident $id with set strict"
e2e_log "attacks through ingress answered 403 with an incident id"

[ "$(get shop.e2e.test /page.html)" = 200 ] || e2e_fail "cacheable page"
dk exec shop sh -c 'echo "second version" >/www/page.html'
[ "$(get shop.e2e.test /page.html)" = 200 ] || e2e_fail "cacheable page, second fetch"
grep -qi "^X-Cache: HIT" "$E2E_D/h" || { cat "$E2E_D/h" >&2; e2e_fail "second fetch is not a cache hit"; }
grep -q "first version" "$E2E_D/b" || e2e_fail "second fetch did not come from squid's cache"
e2e_log "cacheable page served from squid's cache through ingress"

# Without the label: straight to the backend, /admin/ allowed, squid unused.
e2e_wait 20 eval '[ "$(get blog.e2e.test /admin/)" = 200 ]' ||
    e2e_fail "blog.e2e.test /admin/: $(cat "$E2E_D/b")"
grep -q "admin page" "$E2E_D/b" || e2e_fail "blog's admin page"
grep -qi "^X-Cache: " "$E2E_D/h" &&
    e2e_fail "an unlabelled service went through squid (X-Cache)"
e2e_log "a service without io.netcrave.waf bypasses squid"
e2e_stop_netcraved
pgrep -f "squid -N -f $E2E_D/run/squid/" >/dev/null && e2e_fail "a squid (front or judge) outlived netcraved"
pgrep -f "haproxy .*$E2E_D/run/ingress" >/dev/null && e2e_fail "haproxy outlived netcraved"
e2e_log "pass"
