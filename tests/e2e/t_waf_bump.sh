#!/bin/bash
# t_waf_bump: TLS inspection of egress (waf.squid.ssl_bump) with a real
# squid-openssl and a real dockerd.  A container on a network whose egress
# names waf.egress_tag asks squid at its gateway's proxy port for an HTTPS page
# of an openssl s_server in a namespace this test makes: squid bumps the
# CONNECT with its CA (issued by netcraved's internal CA), netcraved's ICAP
# server judges the decrypted request, an attack in the path gets 403 with an
# incident id, a clean request the page, over IPv4 and IPv6 gateways.
#
# Squid must be built with OpenSSL: NETCRAVE_SQUID names it (default
# /usr/sbin/squid; Debian's "squid" is GnuTLS, "squid-openssl" can bump),
# NETCRAVE_SQUID_CERTGEN its security_file_certgen (default beside it).
# The client is the host's curl in the container's network namespace.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
SQUID=${NETCRAVE_SQUID:-/usr/sbin/squid}
CERTGEN=${NETCRAVE_SQUID_CERTGEN:-$(dirname "$SQUID")/../lib/squid/security_file_certgen}
e2e_need "$SQUID" openssl curl nsenter ip
"$SQUID" -v 2>/dev/null | grep -q -- --with-openssl ||
    e2e_skip "$SQUID is built without OpenSSL and cannot bump (install squid-openssl, or set NETCRAVE_SQUID)"
[ -x "$CERTGEN" ] || e2e_skip "no security_file_certgen at $CERTGEN (squid-openssl has it)"
CERTGEN=$(readlink -f "$CERTGEN")
getent passwd proxy >/dev/null || e2e_skip "no proxy user for squid to drop to"
e2e_start_dockerd
e2e_import_busybox

# The origin: a /30 of 198.18.192.0/18 between the host and a namespace of
# this test, where openssl s_server serves files on 443 with a certificate
# of the test's own CA (squid trusts it through waf.squid.ssl_bump_cafile).
n=$(shuf -i 0-4095 -n 1)
net=198.18.$(( 192 + n / 64 )).$(( (n % 64) * 4 ))
HOSTSIDE=${net%.*}.$(( ${net##*.} + 1 ))
ORIGIN=${net%.*}.$(( ${net##*.} + 2 ))
ns="e2ebump$$"
ip netns add "$ns" || e2e_fail "ip netns add $ns"
e2e_at_cleanup "ip netns pids $ns 2>/dev/null | xargs -r kill; ip netns delete $ns 2>/dev/null; ip link delete e2eb$$ 2>/dev/null"
ip link add "e2eb$$" type veth peer name eth0 netns "$ns" || e2e_fail "veth"
ip addr add "$HOSTSIDE/30" dev "e2eb$$" && ip link set "e2eb$$" up
ip -n "$ns" addr add "$ORIGIN/30" dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up

P=$E2E_D/pub
mkdir -p "$P/www" && chmod 0755 "$P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=t_waf_bump test CA" -keyout "$P/testca.key" -out "$P/testca.pem" \
    2>/dev/null || e2e_fail "openssl: test CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$ORIGIN" -keyout "$P/origin.key" -out "$P/origin.csr" 2>/dev/null &&
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$ORIGIN" >"$P/ext" &&
    openssl x509 -req -in "$P/origin.csr" -CA "$P/testca.pem" -CAkey "$P/testca.key" \
    -CAcreateserial -days 2 -extfile "$P/ext" -out "$P/origin.pem" 2>/dev/null ||
    e2e_fail "openssl: origin certificate"
chmod 0644 "$P/testca.pem"
echo "hello over TLS" >"$P/www/index.html"
(cd "$P/www" && exec ip netns exec "$ns" openssl s_server -quiet -accept 443 \
    -cert "$P/origin.pem" -key "$P/origin.key" -WWW) >"$E2E_D/s_server.log" 2>&1 &
e2e_wait 10 sh -c "curl -s --max-time 3 --cacert '$P/testca.pem' https://$ORIGIN/index.html | grep -q hello" ||
    e2e_fail "the host cannot reach the origin at https://$ORIGIN/"

ula=$(e2e_ula)
b=$(( $(shuf -i 8-15 -n 1) * 16 ))
ICAP_PORT=$(shuf -i 20000-29999 -n 1)
PROXY_PORT=$(shuf -i 40000-49999 -n 1)
E2E_RUN_DIR_MODE=0711
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'" },
	"waf": { "icap_listen": "127.0.0.1:'$ICAP_PORT'",
	  "squid": { "enabled": true, "program": "'$SQUID'",
	    "listen": "127.0.0.1:'$PROXY_PORT'", "ssl_bump": true,
	    "certgen_program": "'$CERTGEN'",
	    "ssl_bump_cafile": "'$P/testca.pem'" },
	  "egress_tag": "proxied" },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.19.'$b'.0/20",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "default", "ipv4_network": "198.19.'$b'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["default"] },
	  { "name": "out", "ipv4_network": "198.19.'$((b + 8))'.0/22",
	    "ipv4_prefix_length": 24, "tags": ["out"],
	    "ipv6_network": "'$ula':100::/56", "ipv6_prefix_length": 64,
	    "egress": ["proxied"] } ] } ]'
e2e_start_netcraved
e2e_wait 30 grep -q "squid: starting -> ready" "$E2E_D/netcraved.log" ||
    { grep -E "Accepting|ERROR|FATAL|WARNING" "$E2E_D/run/squid/cache.log" >&2
      ss -ltnp 2>/dev/null | grep ":$PROXY_PORT " >&2
      e2e_show_log squid "$E2E_D/run/squid/cache.log"; e2e_fail "squid did not become ready"; }
grep -q "squid: ssl-bump on" "$E2E_D/netcraved.log" || e2e_fail "netcraved did not turn ssl-bump on"
C=$E2E_D/run/squid
grep -q "^http_port 169.254.[0-9]*.1:$PROXY_PORT name=netcrave_egress ssl-bump " "$C/squid.conf" ||
    e2e_fail "squid.conf: the egress port does not bump"
grep -q "^ssl_bump bump all" "$C/squid.conf" || e2e_fail "squid.conf: no ssl_bump rule"
[ -d "$C/ssl_db/certs" ] || e2e_fail "no certificate database in $C/ssl_db"
openssl x509 -in "$C/bump-ca.crt" -noout -text | grep -q "CA:TRUE" ||
    e2e_fail "bump-ca.crt is not a CA"
openssl verify -CAfile "$C/bump-ca.crt" "$C/bump-ca.crt" >/dev/null ||
    e2e_fail "the bump CA is not a root of its own"
openssl verify -CAfile "$C/ca.crt" "$C/bump-ca.crt" >/dev/null 2>&1 &&
    e2e_fail "the bump CA is under the internal CA"
e2e_log "squid-openssl bumps; its CA is a root of its own"

dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag=out \
    --ipv6 out >/dev/null || e2e_fail "network create out"
gws=$(dk network inspect out -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}')
gw=$(printf '%s\n' $gws | grep -v : | head -1)
gw=${gw%/*}
gw6=$(printf '%s\n' $gws | grep : | head -1)
gw6=${gw6%/*}
dk run -d --name cli --network out local/busybox sleep 300 >/dev/null ||
    e2e_fail "docker run cli"
pid=$(dk inspect -f '{{.State.Pid}}' cli)
https() {	# https PROXY URL: the status; headers and TLS in $E2E_D/v, body in $E2E_D/b
	nsenter -t "$pid" -n curl -sv --max-time 15 --proxy "$1" \
	    --cacert "$C/bump-ca.crt" -o "$E2E_D/b" -w '%{http_code}' "$2" \
	    2>"$E2E_D/v"
}
for proxy in "http://$gw:$PROXY_PORT" "http://[$gw6]:$PROXY_PORT"; do
	ok=0
	for _ in 1 2 3 4 5; do
		[ "$(https "$proxy" "https://$ORIGIN/index.html")" = 200 ] && { ok=1; break; }
		sleep 1
	done
	[ "$ok" = 1 ] || { cat "$E2E_D/v" >&2; e2e_fail "$proxy: clean HTTPS request failed"; }
	grep -q "hello over TLS" "$E2E_D/b" || e2e_fail "$proxy: the body is not the origin's"
	grep -q "issuer: .*ssl-bump CA" "$E2E_D/v" ||
	    { grep -i "issuer" "$E2E_D/v" >&2; e2e_fail "$proxy: the certificate is not squid's"; }
	code=$(https "$proxy" "https://$ORIGIN/index.html?id=1%27%20OR%20%271%27%3D%271")
	[ "$code" = 403 ] || e2e_fail "$proxy: attack over HTTPS got $code, want 403"
	grep -q "Incident ID: [0-9a-f]\{16\}" "$E2E_D/b" || e2e_fail "$proxy: no incident id"
	id=$(sed -n 's/.*Incident ID: \([0-9a-f]\{16\}\).*/\1/p' "$E2E_D/b" | head -1)
	grep -q "incident $id " "$E2E_D/netcraved.log" ||
	    e2e_fail "$proxy: the log does not name incident $id"
	e2e_log "HTTPS through $proxy: bumped, clean page served, attack 403 (incident $id)"
	# openssl takes no partial chain: the made-up certificate verifies
	# with bump-ca.crt alone as its root, in any TLS client.
	case $proxy in *\[*) continue ;; esac
	echo | nsenter -t "$pid" -n openssl s_client -proxy "${proxy#http://}" \
	    -connect "$ORIGIN:443" 2>/dev/null |
	    openssl x509 > "$E2E_D/leaf.pem" 2>/dev/null ||
	    e2e_fail "$proxy: no certificate from openssl s_client"
	openssl verify -CAfile "$C/bump-ca.crt" "$E2E_D/leaf.pem" >/dev/null ||
	    e2e_fail "$proxy: the made-up certificate does not verify with bump-ca.crt as root"
	e2e_log "the made-up certificate verifies with bump-ca.crt as its root (openssl, no partial chain)"
done

dk rm -f cli >/dev/null
dk network rm out >/dev/null || e2e_fail "network rm out"
e2e_stop_netcraved
e2e_log "pass"
