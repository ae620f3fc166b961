#!/bin/sh
# acme.sh: the ACME client against pebble (real validation: no
# PEBBLE_VA_ALWAYS_VALID; 5% of nonces rejected): an order by dns-01 answered
# by our own DNS, an order by http-01 served by our HTTP layer, the chain
# verified against pebble's root, a renewal, a refused challenge's error,
# `netcravectl certs`, a certificate volume (issuer=acme, two names) driven
# through the VolumeDriver API, and an alternate chain chosen by issuer.
. "$(dirname "$0")/lib.sh"

for tool in pebble openssl curl; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (tools/install-deps)"; exit 77
	fi
done

BASE=$(shuf -i 20000-39000 -n 1)
DNSPORT=$BASE
ACMEPORT=$((BASE + 1))
MGMTPORT=$((BASE + 2))
HTTPPORT=$((BASE + 3))

. "$top_srcdir/tests/helpers/pebble.sh"
trap 'pebble_stop; nc_cleanup' EXIT
pebble_start "$T" "$DNSPORT" "$ACMEPORT" "$MGMTPORT" "$HTTPPORT" 30 ||
    { fail "pebble did not start"; finish; }

# acme_conf CHALLENGE NAME [RENEW_PERCENT]
acme_conf() {
	nc_write_conf '"dns": { "listen": ["127.0.0.1:'$DNSPORT'"], "ttl": 30,
	  "records": [ "web A 127.0.0.1", "down A 127.0.0.2" ] },
	"acme": { "directory": "https://localhost:'$ACMEPORT'/dir",
	  "ca_file": "'$T/pebble.crt'", "email": "ops@example.org",
	  "challenge": "'$1'", "http01_listen": "127.0.0.1:'$HTTPPORT'",
	  "renew_percent": '${3:-66}', "names": ["'$2'"],
	  "cert_dir": "'$T/acme'" }'
}

# chain_of CRT OUT: the certificates after the leaf, the untrusted chain.
chain_of() {
	awk 'BEGIN{n=0} /BEGIN CERT/{n++} n>1{print}' "$1" > "$2"
}

# verified NAME: the chain on disk verifies against pebble's root for NAME,
# and the key matches the certificate.
verified() {
	_vd=$T/acme/$1
	[ -s "$_vd/tls.crt" ] || return 1
	chain_of "$_vd/tls.crt" "$T/chain.pem"
	openssl verify -CAfile "$T/root.pem" -untrusted "$T/chain.pem" \
	    -verify_hostname "$1" "$_vd/tls.crt" >/dev/null 2>&1 || return 1
	[ "$(openssl x509 -in "$_vd/tls.crt" -noout -pubkey | openssl sha256)" = \
	  "$(openssl pkey -in "$_vd/tls.key" -pubout | openssl sha256)" ]
}

# 1. dns-01: pebble asks our DNS server for _acme-challenge.dns1.
t0=$(date +%s.%N)
acme_conf dns-01 dns1.netcrave.internal
nc_start || { cat "$LOG"; finish; }
check "dns-01: certificate issued and verified against pebble's root" \
    wait_for 20 verified dns1.netcrave.internal
t1=$(date +%s.%N)
echo "# dns-01 order: $(echo "$t1 - $t0" | bc 2>/dev/null) s from start"
check "dns-01: the challenge record is removed afterwards" \
    sh -c "! dig -p $DNSPORT @127.0.0.1 +short _acme-challenge.dns1.netcrave.internal TXT | grep -q ."
check "certs: the acme.names certificate listed" sh -c "'$NETCRAVECTL' -s '$CONTROL_SOCK' certs | grep -E -q '^- +acme +20[0-9-]+T.* dns1.netcrave.internal'"
check "metric: one issued" sh -c "curl -s --unix-socket '$METRICS_SOCK' http://localhost/metrics | grep -q '^netcrave_acme_issued_total 1'"
check "netcraved stops cleanly" nc_stop

# 2. http-01: pebble fetches the token from our http01 listener.
acme_conf http-01 web.netcrave.internal
nc_start || { cat "$LOG"; finish; }
check "http-01: certificate issued and verified" \
    wait_for 20 verified web.netcrave.internal
check "netcraved stops cleanly" nc_stop

# 3. renewal: 30 s certificates renewed at 10% of their lifetime.
acme_conf dns-01 dns1.netcrave.internal 10
first=$(openssl x509 -in "$T/acme/dns1.netcrave.internal/tls.crt" -noout -serial)
nc_start || { cat "$LOG"; finish; }
renewed() {
	[ "$(openssl x509 -in "$T/acme/dns1.netcrave.internal/tls.crt" -noout -serial 2>/dev/null)" != "$first" ] &&
	    verified dns1.netcrave.internal
}
check "renewal: a new certificate replaces the old one" wait_for 25 renewed
check "netcraved stops cleanly" nc_stop

# 4. refused: down resolves to 127.0.0.2 where nothing answers http-01.
acme_conf http-01 down.netcrave.internal
nc_start || { cat "$LOG"; finish; }
refused() { grep -q "http-01 challenge refused" "$LOG"; }
check "refused challenge: a clear error in the log" wait_for 20 refused
grep "challenge refused" "$LOG" | head -1
check "refused challenge: the error in netcravectl certs" sh -c "'$NETCRAVECTL' -s '$CONTROL_SOCK' certs | grep -q 'last error: http-01 challenge refused'"
check "refused challenge: no certificate written" \
    test ! -e "$T/acme/down.netcrave.internal/tls.crt"
check "refused challenge: the daemon stays up" kill -0 "$NC_PID"
check "netcraved stops cleanly" nc_stop

# 5. nonces: pebble restarted rejecting 40% of good nonces; badNonce is
# retried with the nonce that came with it, so the order still goes through.
pebble_restart pebble2.log PEBBLE_WFE_NONCEREJECT=40 ||
    { fail "pebble did not restart"; finish; }
acme_conf dns-01 dns2.netcrave.internal
nc_start || { cat "$LOG"; finish; }
check "40% of nonces refused: certificate still issued" \
    wait_for 20 verified dns2.netcrave.internal
check "netcraved stops cleanly" nc_stop

# 6. a certificate volume (-o issuer=acme) for two names, driven through the
# VolumeDriver API as dockerd drives it; its files read from the dav store.
nc_write_conf '"dns": { "listen": ["127.0.0.1:'$DNSPORT'"], "ttl": 30 },
	"acme": { "directory": "https://localhost:'$ACMEPORT'/dir",
	  "ca_file": "'$T/pebble.crt'", "issuer_root": "'$T/root.pem'",
	  "challenge": "dns-01", "renew_percent": 10,
	  "cert_dir": "'$T/acme'" }'
nc_start || { cat "$LOG"; finish; }
volfile() { curl -sf --unix-socket "$T/run/dav.sock" "http://x/acv/$1"; }
r=$(plugin_call /VolumeDriver.Create '{"Name":"acv","Opts":{"type":"certs","names":"v1.netcrave.internal,v2.netcrave.internal","issuer":"acme"}}')
check "volume: Create answers once the certificate is in" contains "$r" '200 {}'
volfile tls.crt > "$T/v.crt"; volfile tls.key > "$T/v.key"; volfile ca.crt > "$T/v.ca"
chain_of "$T/v.crt" "$T/v.chain"
check "volume: tls.crt verifies against pebble's /roots/0" \
    openssl verify -CAfile "$T/root.pem" -untrusted "$T/v.chain" "$T/v.crt"
check "volume: ca.crt is pebble's root" cmp -s "$T/v.ca" "$T/root.pem"
check "volume: both names in the certificate" sh -c "openssl x509 -in '$T/v.crt' -noout -ext subjectAltName | grep -q 'DNS:v1.netcrave.internal, DNS:v2.netcrave.internal'"
check "volume: tls.key is the certificate's key" sh -c "[ \"\$(openssl x509 -in '$T/v.crt' -noout -pubkey | openssl sha256)\" = \"\$(openssl pkey -in '$T/v.key' -pubout | openssl sha256)\" ]"
check "certs lists the ACME volume" sh -c "'$NETCRAVECTL' -s '$CONTROL_SOCK' certs 2>&1 | grep -q acme"
vfirst=$(openssl x509 -in "$T/v.crt" -noout -serial)
vrenewed() {
	volfile tls.crt > "$T/v2.crt" &&
	    [ "$(openssl x509 -in "$T/v2.crt" -noout -serial 2>/dev/null)" != "$vfirst" ] &&
	    chain_of "$T/v2.crt" "$T/v2.chain" &&
	    openssl verify -CAfile "$T/root.pem" -untrusted "$T/v2.chain" "$T/v2.crt" >/dev/null
}
check "volume: renewal replaces tls.crt" wait_for 25 vrenewed
r=$(plugin_call /VolumeDriver.Create '{"Name":"acx","Opts":{"type":"certs","names":"x.example.test","issuer":"acme"}}')
check "volume: a refused order is Create's error" contains "$r" 'the ACME CA issued no certificate'
r=$(plugin_call /VolumeDriver.Get '{"Name":"acx"}')
check "volume: ... and the volume is not left behind" contains "$r" '404'
r=$(plugin_call /VolumeDriver.Remove '{"Name":"acv"}')
check "volume: Remove" contains "$r" '200 {}'
check "netcraved stops cleanly" nc_stop

# 7. alternate chains: pebble with a second root; acme.preferred_chain names
# it, so the chain kept is the alternate one (Link rel="alternate").
pebble_restart pebble3.log PEBBLE_ALTERNATE_ROOTS=1 ||
    { fail "pebble did not restart"; finish; }
cp "$T/root.pem" "$T/root0.pem"
curl -sfk "https://127.0.0.1:$MGMTPORT/roots/1" -o "$T/root1.pem" ||
    { fail "pebble has no second root"; finish; }
cn1=$(openssl x509 -in "$T/root1.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=CN=//')
nc_write_conf '"dns": { "listen": ["127.0.0.1:'$DNSPORT'"], "ttl": 30 },
	"acme": { "directory": "https://localhost:'$ACMEPORT'/dir",
	  "ca_file": "'$T/pebble.crt'", "challenge": "dns-01",
	  "preferred_chain": "'"$cn1"'", "names": ["alt.netcrave.internal"],
	  "cert_dir": "'$T/acme'" }'
nc_start || { cat "$LOG"; finish; }
altchain() {
	_c=$T/acme/alt.netcrave.internal/tls.crt
	[ -s "$_c" ] &&
	    chain_of "$_c" "$T/alt.chain" &&
	    openssl verify -CAfile "$T/root1.pem" -untrusted "$T/alt.chain" "$_c" >/dev/null 2>&1
}
check "preferred_chain: the alternate chain to the second root is kept" wait_for 20 altchain
check "preferred_chain: ... which does not lead to the default root" \
    sh -c "! openssl verify -CAfile '$T/root0.pem' -untrusted '$T/alt.chain' '$T/acme/alt.netcrave.internal/tls.crt' >/dev/null 2>&1"
check "netcraved stops cleanly" nc_stop

# 8. SIGHUP: a second name added to acme.names is ordered without a restart.
acme_conf dns-01 hup1.netcrave.internal
nc_start || { cat "$LOG"; finish; }
check "reload: the first name's certificate" wait_for 20 verified hup1.netcrave.internal
pid=$NC_PID
sed 's/"names": \["hup1.netcrave.internal"\]/"names": ["hup1.netcrave.internal", "hup2.netcrave.internal"]/' "$CONF" > "$T/conf.new" &&
    cat "$T/conf.new" > "$CONF"
kill -HUP "$NC_PID"
check "reload: the name added is ordered after SIGHUP" wait_for 20 verified hup2.netcrave.internal
check "reload: the same daemon" [ "$NC_PID" = "$pid" ]
check "reload: logged" grep -q "acme: section reloaded" "$LOG"
check "netcraved stops cleanly" nc_stop
finish
