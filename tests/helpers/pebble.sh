# pebble.sh: pebble, the ACME test CA, for tests and benchmarks: its own TLS
# certificate for localhost, listening on loopback ports the caller picks,
# validation real (PEBBLE_VA_NOSLEEP=1 only drops its random pauses) against
# the caller's DNS server.  Sourced; pebble_start starts it and sets
# PEBBLE_PID, pebble_restart runs it again with another environment,
# pebble_stop ends it.  The files a client needs are in the directory given:
# pebble.crt (the ca_file for the ACME directory's TLS) and root.pem (the
# root pebble issues under).

PEBBLE_DIR=
PEBBLE_PID=
PEBBLE_DNS=
PEBBLE_MGMT=

# pebble_start DIR DNSPORT ACMEPORT MGMTPORT HTTPPORT [VALIDITY]: pebble's
# certificate and configuration written in DIR, pebble started (directory on
# ACMEPORT, management API on MGMTPORT, http-01 checked on HTTPPORT and
# tls-alpn-01 on HTTPPORT+1, names looked up at 127.0.0.1:DNSPORT,
# certificates valid VALIDITY seconds, pebble's default if not given).
pebble_start() {
	PEBBLE_DIR=$1 PEBBLE_DNS=$2 PEBBLE_MGMT=$4
	mkdir -p "$PEBBLE_DIR"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 2 -subj /CN=localhost \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -keyout "$PEBBLE_DIR/pebble.key" -out "$PEBBLE_DIR/pebble.crt" \
	    2>/dev/null || return 1
	_pb_validity=
	if [ -n "${6:-}" ]; then
		_pb_validity=", \"certificateValidityPeriod\": $6"
	fi
	cat > "$PEBBLE_DIR/pebble.json" <<JSON
{ "pebble": {
	"listenAddress": "127.0.0.1:$3",
	"managementListenAddress": "127.0.0.1:$4",
	"certificate": "$PEBBLE_DIR/pebble.crt",
	"privateKey": "$PEBBLE_DIR/pebble.key",
	"httpPort": $5, "tlsPort": $(($5 + 1)),
	"ocspResponderURL": "", "externalAccountBindingRequired": false$_pb_validity
} }
JSON
	pebble_run pebble.log
}

# pebble_run LOG [VAR=VALUE...]: start pebble with that environment, its
# output in DIR/LOG, and wait (10 s at most) until its management API gives
# the root, saved as DIR/root.pem.  setsid: a ^C to the test is for the
# test's shell, which stops pebble itself.
pebble_run() {
	_pb_log=$PEBBLE_DIR/$1; shift
	env PEBBLE_VA_NOSLEEP=1 "$@" setsid pebble \
	    -config "$PEBBLE_DIR/pebble.json" \
	    -dnsserver "127.0.0.1:$PEBBLE_DNS" >"$_pb_log" 2>&1 &
	PEBBLE_PID=$!
	_pb_n=100
	while [ "$_pb_n" -gt 0 ]; do
		curl -sfk "https://127.0.0.1:$PEBBLE_MGMT/roots/0" \
		    -o "$PEBBLE_DIR/root.pem" && return 0
		kill -0 "$PEBBLE_PID" 2>/dev/null || break
		sleep 0.1
		_pb_n=$((_pb_n - 1))
	done
	echo "pebble did not start:"
	cat "$_pb_log"
	return 1
}

# pebble_restart LOG [VAR=VALUE...]: pebble stopped and started again with
# that environment (PEBBLE_WFE_NONCEREJECT=40, PEBBLE_ALTERNATE_ROOTS=1...).
pebble_restart() {
	pebble_stop
	pebble_run "$@"
}

# pebble_stop: stop pebble if it runs.
pebble_stop() {
	if [ -n "$PEBBLE_PID" ]; then
		kill "$PEBBLE_PID" 2>/dev/null
		wait "$PEBBLE_PID" 2>/dev/null
		PEBBLE_PID=
	fi
	return 0
}
