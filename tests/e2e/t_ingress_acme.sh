#!/bin/bash
# t_ingress_acme: an ingress host's certificate from an ACME CA (issue 7): a
# busybox httpd container labelled io.netcrave.ingress.host and
# io.netcrave.ingress.cert=acme is served by haproxy with the internal CA's
# certificate at first, then with one pebble issued (dns-01 answered by
# netcraved's DNS, validation real), swapped into the running worker; the
# chain verifies against pebble's root for the host name.  pebble issues
# 30 s certificates, so the swap happens again at renewal.
# e2e-timeout: 180
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_need haproxy pebble curl openssl
e2e_start_dockerd
e2e_import_busybox

set -- $(shuf -i 20000-40000 -n 6)
DNS=$1 HTTP=$2 HTTPS=$3 ACME=$4 MGMT=$5 PHTTP=$6
P=$E2E_D/pebble
. "$(dirname "$0")/../helpers/pebble.sh"
e2e_at_cleanup pebble_stop
pebble_start "$P" "$DNS" "$ACME" "$MGMT" "$PHTTP" 30 ||
    e2e_fail "pebble did not start"

B=$(( $(shuf -i 1-15 -n 1) * 16 ))
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'",
	  "network_driver": "bridge" },
	"dns": { "listen": ["127.0.0.1:'$DNS'"], "ttl": 5 },
	"ingress": { "enabled": true, "http_listen": "127.0.0.1:'$HTTP'",
	  "https_listen": "127.0.0.1:'$HTTPS'", "slots": 2 },
	"acme": { "directory": "https://localhost:'$ACME'/dir",
	  "ca_file": "'$P/pebble.crt'", "email": "ops@example.org",
	  "challenge": "dns-01", "renew_percent": 50,
	  "cert_dir": "'$E2E_D/acme'" },
	"scopes": [ { "name": "e2e", "ipv4_network": "198.19.'$B'.0/20",
	  "ipv4_prefix_length": 24, "tags": ["default"], "ingress": ["host"] } ]'
e2e_start_netcraved
CA=$E2E_D/state/ca/ca.crt
H=app.netcrave.internal

dk network create -d bridge --ipam-driver "$PLUGIN" ia >/dev/null ||
    e2e_fail "network create"
dk run -d --name app --network ia --label io.netcrave.ingress.host=$H \
    --label io.netcrave.ingress.cert=acme local/busybox \
    sh -c 'mkdir -p /www && echo app > /www/index.html && exec httpd -f -p 80 -h /www' \
    >/dev/null || e2e_fail "docker run app"

# served CAFILE: the page over HTTPS, the certificate verified with CAFILE.
served() {
	[ "$(curl -s --max-time 3 --cacert "$1" --resolve "$H:$HTTPS:127.0.0.1" \
	    "https://$H:$HTTPS/")" = app ]
}
# The leaf haproxy presents, as PEM.
leaf() {
	openssl s_client -connect "127.0.0.1:$HTTPS" -servername "$H" \
	    </dev/null 2>/dev/null | openssl x509 2>/dev/null
}
# pebble's chain: the intermediate comes from pebble's management API.
curl -sfk "https://127.0.0.1:$MGMT/intermediates/0" -o "$P/inter.pem" ||
    e2e_fail "pebble's intermediate"
cat "$P/root.pem" "$P/inter.pem" > "$P/bundle.pem"
t0=$(e2e_now_ms)
e2e_wait 60 served "$P/bundle.pem" || {
	e2e_show_log netcraved "$E2E_D/netcraved.log"
	e2e_fail "$H is not served with a certificate from pebble"; }
e2e_log "$H served with pebble's certificate $(( $(e2e_now_ms) - t0 )) ms after docker run"
served "$CA" && e2e_fail "$H still verifies against the internal CA"
leaf > "$P/leaf1.pem"
openssl verify -CAfile "$P/root.pem" -untrusted "$P/inter.pem" \
    -verify_hostname "$H" "$P/leaf1.pem" >/dev/null ||
    e2e_fail "the served leaf does not verify for $H against pebble's root"
e2e_log "the leaf verifies for $H against pebble's root"
out=$(e2e_ctl certs 2>&1)
e2e_expect_contains "$out" "$H" "netcravectl certs"

# Renewal (30 s certificates, renewed at half): a new leaf, same worker.
renewed() { leaf > "$P/leaf2.pem" && ! cmp -s "$P/leaf1.pem" "$P/leaf2.pem"; }
e2e_wait 40 renewed || e2e_fail "the certificate of $H was not renewed"
served "$P/bundle.pem" || e2e_fail "$H not served after the renewal"
e2e_log "renewed certificate served"
dk rm -f app >/dev/null
dk network rm ia >/dev/null
