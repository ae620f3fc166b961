#!/bin/bash
# t_ingress: ingress through real haproxy 2.6, written and supervised by
# netcraved, fed by the follower of a real dockerd: busybox httpd containers
# labelled io.netcrave.ingress.host are reached by Host over HTTPS verified
# with the internal CA (HTTP redirected); scaling 1 -> 3 -> 1 shows in
# `show servers state` and in traffic; a stopped container gets no traffic;
# the SRV name of a service is served and a DNS-only service is reached
# through it, as is a service whose pushed server is in maintenance (the
# fallback); a new host's certificate goes in through the runtime API (new,
# set, commit, add to the crt-list) and no command is refused; GET /ingress
# on the control socket shows the model; POST /ingress/renew swaps new
# certificates into the running worker without a reload; a backend
# with a certificate volume is reached over TLS verified against the CA; a
# label on a network whose scope does not admit ingress is refused with the
# reason logged; haproxy SIGKILLed is restarted and serves.
# e2e-timeout: 240
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need haproxy dig curl python3 openssl jq
e2e_start_dockerd
e2e_import_busybox

ula=$(e2e_ula)
# A /20 of 198.18.0.0/15 of our own (other tests on this host use others).
B=$(( $(shuf -i 1-15 -n 1) * 16 ))
set -- $(shuf -i 20000-40000 -n 3)
DNS=$1 HTTP=$2 HTTPS=$3
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'",
	  "network_driver": "bridge" },
	"dns": { "listen": ["127.0.0.1:'$DNS'"] },
	"ingress": { "enabled": true, "http_listen": "127.0.0.1:'$HTTP'",
	  "https_listen": "127.0.0.1:'$HTTPS'", "slots": 4 },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.'$B'.0/20",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "default", "ipv4_network": "198.18.'$B'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["default"] },
	  { "name": "web", "ipv4_network": "198.18.'$((B + 4))'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["web"], "ingress": ["host"] },
	  { "name": "priv", "ipv4_network": "198.18.'$((B + 8))'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["priv"] } ] } ]'
e2e_start_netcraved
CA=$E2E_D/state/ca/ca.crt
SOCK=$E2E_D/run/ingress/haproxy.sock
Z=netcrave.internal.

# get HOST: the page of HOST through haproxy's HTTPS frontend.
get() {
	curl -s --max-time 3 --cacert "$CA" --resolve "$1:$HTTPS:127.0.0.1" \
	    "https://$1:$HTTPS/"
}
serves() { [ "$(get "$1")" = "$2" ]; }
# api CMD: one command on haproxy's runtime API.
api() { python3 "$(dirname "$0")/../helpers/haproxy-api.py" "$SOCK" "$1"; }
# ready_addrs BACKEND: addresses of its pushed slots not in forced maintenance
# (admin state bit 0x01; 0x04 only records "disabled" in the config).
ready_addrs() {
	api "show servers state $1" | awk '$4 ~ /^s[0-9]+$/ && $7 % 2 == 0 { print $5 }' | sort
}
# seen HOST N: the distinct pages of N requests.
seen() {
	local i
	for i in $(seq "$2"); do get "$1"; echo; done | sort -u | grep . | tr '\n' ' '
}
web() {	# web NAME HOST NETWORK [LABELS...]
	local name=$1 host=$2 net=$3
	shift 3
	dk run -d --name "$name" --hostname "$name" --network "$net" \
	    --label io.netcrave.ingress.host="$host" "$@" local/busybox \
	    sh -c 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www' \
	    >/dev/null || e2e_fail "docker run $name"
}
ip_of() { dk inspect "$1" -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}"; }
within() {
	local t0=$(e2e_now_ms) s=$1
	shift
	e2e_wait "$s" "$@" || return 1
	e2e_log "$* after $(( $(e2e_now_ms) - t0 ))ms"
}

within 20 test -S "$SOCK" || e2e_fail "haproxy's runtime socket did not appear"
within 20 grep -q "haproxy: starting -> ready" "$E2E_D/netcraved.log" ||
    e2e_fail "haproxy did not become ready"
within 10 dk network inspect "$PLUGIN-default" >/dev/null 2>&1 ||
    e2e_fail "default network was not created"
for t in web priv; do
	dk network create -d bridge --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=$t \
	    "$PLUGIN-$t" >/dev/null || e2e_fail "network create $PLUGIN-$t"
done
NET=$PLUGIN-web

# One container: a new service (haproxy reloads), reached by Host.
web shop1 shop.e2e.test "$NET"
within 10 serves shop.e2e.test shop1 || e2e_fail "shop.e2e.test not served by shop1: $(get shop.e2e.test)"
web blog1 blog.e2e.test "$NET"
within 10 serves blog.e2e.test blog1 || e2e_fail "blog.e2e.test not served by blog1: $(get blog.e2e.test)"
serves shop.e2e.test shop1 || e2e_fail "shop.e2e.test after blog: $(get shop.e2e.test)"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: shop.e2e.test' "http://127.0.0.1:$HTTP/a")
[ "$out" = "301 https://shop.e2e.test/a" ] || e2e_fail "HTTP not redirected to HTTPS: $out"
out=$(echo | openssl s_client -connect 127.0.0.1:$HTTPS -servername shop.e2e.test 2>/dev/null |
    openssl x509 -noout -subject 2>/dev/null)
e2e_expect_contains "$out" "shop.e2e.test" "the certificate served for shop.e2e.test"
# The new host's certificate went in through the runtime API before the
# reload (new ssl cert, set ssl cert, commit ssl cert, add ssl crt-list).
for cmd in "new ssl cert" "set ssl cert" "commit ssl cert" "add ssl crt-list"; do
	grep -q "ingress: haproxy: $cmd .*" "$E2E_D/netcraved.log" ||
	    e2e_fail "no answer to $cmd in the log"
done
grep -A2 "ingress: haproxy: commit ssl cert $E2E_D/run/ingress/certs/shop.e2e.test.pem" \
    "$E2E_D/netcraved.log" | grep -q "Success" || e2e_fail "commit ssl cert of shop.e2e.test did not succeed"
if grep -q "haproxy refused" "$E2E_D/netcraved.log"; then
	e2e_fail "haproxy refused a command: $(grep -A2 'haproxy refused' "$E2E_D/netcraved.log")"
fi
ip1=$(ip_of shop1 "$NET")
[ "$(ready_addrs be_shop_e2e_test)" = "$ip1" ] ||
    e2e_fail "show servers state: $(api 'show servers state be_shop_e2e_test')"
out=$(dig -p "$DNS" +short +norec @127.0.0.1 "_ingress._tcp.shop.e2e.test.$Z" SRV)
[ "$out" = "0 256 80 shop1.$NET.$Z" ] || e2e_fail "SRV of shop.e2e.test: $out"

# The model on the control socket.
ctl() { curl -s --unix-socket "$E2E_D/run/control.sock" "$@"; }
out=$(ctl http://x/ingress | jq -r '.services[] | select(.host == "shop.e2e.test") |
    "\(.backend) \(.mode) \(.servers[0].address) \(.servers[0].port)"')
[ "$out" = "be_shop_e2e_test push $ip1 80" ] || e2e_fail "GET /ingress: $(ctl http://x/ingress)"

# Renewal in place: new certificates swapped in the running worker through
# the runtime API (set ssl cert, commit ssl cert), no reload.
served_serial() {
	echo | openssl s_client -connect 127.0.0.1:$HTTPS -servername shop.e2e.test 2>/dev/null |
	    openssl x509 -noout -serial 2>/dev/null
}
worker() { api "show info" | awk '$1 == "Pid:" { print $2 }'; }
serial0=$(served_serial) pid0=$(worker)
reloads=$(grep -c "reloading haproxy" "$E2E_D/netcraved.log")
out=$(ctl -X POST http://x/ingress/renew)
[ "$out" = '{"renewed":2}' ] || e2e_fail "POST /ingress/renew: $out"
within 5 eval '[ "$(served_serial)" != "$serial0" ]' || e2e_fail "the served certificate was not renewed"
[ -n "$serial0" ] && [ "$(worker)" = "$pid0" ] || e2e_fail "renewal replaced the worker ($pid0 -> $(worker))"
[ "$(grep -c "reloading haproxy" "$E2E_D/netcraved.log")" = "$reloads" ] || e2e_fail "renewal reloaded haproxy"
serves shop.e2e.test shop1 || e2e_fail "not served with the renewed certificate: $(get shop.e2e.test)"

# Scale 1 -> 3: pushed through the runtime API, no reload.
reloads=$(grep -c "reloading haproxy" "$E2E_D/netcraved.log")
web shop2 shop.e2e.test "$NET"
web shop3 shop.e2e.test "$NET"
want=$(printf '%s\n' "$ip1" "$(ip_of shop2 "$NET")" "$(ip_of shop3 "$NET")" | sort)
within 5 eval '[ "$(ready_addrs be_shop_e2e_test)" = "$want" ]' ||
    e2e_fail "3 servers not in show servers state: $(api 'show servers state be_shop_e2e_test')"
out=$(seen shop.e2e.test 12)
[ "$out" = "shop1 shop2 shop3 " ] || e2e_fail "traffic over 3 containers: $out"
[ "$(grep -c "reloading haproxy" "$E2E_D/netcraved.log")" = "$reloads" ] ||
    e2e_fail "scaling reloaded haproxy"

# Scale 3 -> 1: one stopped, one removed; neither gets traffic.
dk stop -t 1 shop2 >/dev/null
dk rm -f shop3 >/dev/null
within 5 eval '[ "$(ready_addrs be_shop_e2e_test)" = "$ip1" ]' ||
    e2e_fail "stopped containers still in show servers state: $(api 'show servers state be_shop_e2e_test')"
out=$(seen shop.e2e.test 12)
[ "$out" = "shop1 " ] || e2e_fail "traffic after scaling down: $out"

# The fallback: with the pushed server in maintenance (as if pushes had
# failed), the SRV-resolved backup servers serve.
slot=$(api "show servers state be_shop_e2e_test" | awk -v a="$ip1" '$4 ~ /^s[0-9]+$/ && $5 == a { print $4 }')
[ -n "$slot" ] || e2e_fail "no pushed slot holds $ip1"
api "set server be_shop_e2e_test/$slot state maint" >/dev/null
within 15 eval '[ "$(seen shop.e2e.test 6)" = "shop1 " ]' ||
    e2e_fail "the SRV fallback does not serve: $(seen shop.e2e.test 6)"
api "set server be_shop_e2e_test/$slot state ready" >/dev/null

# A DNS-only service: reached through the SRV server-template.
web dns1 dns.e2e.test "$NET" --label io.netcrave.ingress.mode=dns
within 15 serves dns.e2e.test dns1 || e2e_fail "DNS-only service not served: $(get dns.e2e.test)
$(api 'show servers state be_dns_e2e_test')
$(grep -n dns.e2e "$E2E_D/run/ingress/haproxy.cfg")
$(dig -p "$DNS" +norec @127.0.0.1 "_ingress._tcp.dns.e2e.test.$Z" SRV)"

# A network whose scope does not admit ingress: refused, logged, not served.
web priv1 priv.e2e.test "$PLUGIN-priv"
within 5 grep -q "container priv1: io.netcrave.ingress.host refused: its network's scope e2e/priv does not admit ingress" \
    "$E2E_D/netcraved.log" || e2e_fail "no refusal logged for priv1"
# (no service, so no certificate of its own: the default one, for localhost)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -H 'Host: priv.e2e.test' \
    --resolve "localhost:$HTTPS:127.0.0.1" "https://localhost:$HTTPS/")
[ "$code" = 503 ] || e2e_fail "priv.e2e.test answered $code, want 503"
out=$(dig -p "$DNS" +short +norec @127.0.0.1 "_ingress._tcp.priv.e2e.test.$Z" SRV)
[ -z "$out" ] || e2e_fail "a refused container has an SRV record: $out"

# End-to-end TLS: a backend with a certificate volume, serving with
# `openssl s_server -WWW` (an image of busybox, openssl and its libraries),
# reached over TLS that haproxy verifies against the internal CA.
r=$E2E_D/osslroot
mkdir -p "$r/bin" "$r/tmp" "$r/etc" "$r/proc" "$r/sys" "$r/dev"
cp "$(command -v busybox)" "$r/bin/busybox"
for a in sh mkdir hostname; do ln -s busybox "$r/bin/$a"; done
cp /usr/bin/openssl "$r/bin/openssl"
for lib in $(ldd /usr/bin/openssl | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do
	mkdir -p "$r$(dirname "$lib")" && cp -L "$lib" "$r$lib"
done
tar -C "$r" -c . | dk import - local/openssl >/dev/null || e2e_fail "docker import local/openssl"
out=$(dk volume create -d "$PLUGIN" -o type=certs -o names=tls.e2e.test certs-tls 2>&1) ||
    e2e_fail "certs volume create: $out"
dk run -d --name tls1 --hostname tls1 --network "$NET" -v certs-tls:/certs \
    --label io.netcrave.ingress.host=tls.e2e.test --label io.netcrave.ingress.port=443 \
    --label io.netcrave.ingress.tls=true local/openssl sh -c 'mkdir -p /www &&
    hostname > /www/index.html && cd /www && exec openssl s_server -quiet -WWW \
    -accept 443 -cert /certs/tls.crt -key /certs/tls.key' >/dev/null ||
    e2e_fail "docker run tls1"
tls_page() {
	curl -s --max-time 3 --cacert "$CA" --resolve "tls.e2e.test:$HTTPS:127.0.0.1" \
	    "https://tls.e2e.test:$HTTPS/index.html"
}
within 10 eval '[ "$(tls_page)" = tls1 ]' || e2e_fail "TLS backend not served: $(tls_page)"
grep -q "server s1 .*:443 ssl verify required ca-file $CA sni str(tls.e2e.test)" \
    "$E2E_D/run/ingress/haproxy.cfg" || e2e_fail "the TLS backend is not verified: $(grep -n tls.e2e "$E2E_D/run/ingress/haproxy.cfg")"
dk rm -f tls1 >/dev/null
dk volume rm certs-tls >/dev/null

# haproxy killed: restarted by netcraved, serving what it had.
pid=$(pgrep -f "haproxy -W -db -f $E2E_D/run/ingress/haproxy.cfg" | head -1)
[ -n "$pid" ] || e2e_fail "no haproxy master"
kill -KILL "$pid"
within 15 serves shop.e2e.test shop1 || e2e_fail "not served after haproxy was killed"
new=$(pgrep -f "haproxy -W -db -f $E2E_D/run/ingress/haproxy.cfg" | head -1)
[ -n "$new" ] && [ "$new" != "$pid" ] || e2e_fail "haproxy was not restarted ($pid -> $new)"
serves blog.e2e.test blog1 || e2e_fail "blog.e2e.test after the restart: $(get blog.e2e.test)"

if grep -q "haproxy refused" "$E2E_D/netcraved.log"; then
	e2e_fail "haproxy refused a command: $(grep -A2 'haproxy refused' "$E2E_D/netcraved.log")"
fi
dk rm -f shop1 shop2 blog1 dns1 priv1 >/dev/null
for t in web priv; do dk network rm "$PLUGIN-$t" >/dev/null; done
e2e_log "ok"
