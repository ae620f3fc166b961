#!/bin/sh
# dns.sh: the authoritative DNS server on a private port: records from
# dns.records, asked with dig and kdig over UDP and TCP on IPv4 and IPv6,
# answers diffed against tests/integration/golden/dns/; FORMERR, BADVERS,
# truncation and TCP fallback, AXFR (allowed and refused), NOTIFY to a test
# listener, the serial rising on reload.
. "$(dirname "$0")/lib.sh"

for tool in dig kdig python3 jq; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (tools/install-deps)"; exit 77
	fi
done

GOLDEN=$top_srcdir/tests/integration/golden/dns
PORT=$(shuf -i 20000-40000 -n 1)
NPORT=$((PORT + 1))
# (no group starting with 0: dig would print it shorter and the sed below,
# which hides the random part, would miss it)
ula=fd$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n' | sed 's/^\(..\)\(....\)\(....\)$/\1:\2:\3/' | sed 's/:0/:1/g')
big=
for i in $(seq 1 60); do big="$big\"big A 198.18.1.$i\", "; done

# dns_conf EXTRA_RECORD: the config, with one more record (for reload).
dns_conf() {
	nc_write_conf '"default_tag": "t", "scopes": [ { "name": "it",
	  "ipv4_network": "198.18.0.0/16", "ipv6_network": "'$ula'::/48",
	  "ipv4_prefix_length": 24, "ipv6_prefix_length": 64, "tags": ["t"] } ],
	"dns": { "listen": ["127.0.0.1:'$PORT'", "[::1]:'$PORT'"], "ttl": 30,
	  "axfr_allow": ["127.0.0.1"], "notify": ["127.0.0.1:'$NPORT'"],
	  "records": [ "web A 198.18.0.5", "web AAAA '$ula'::5",
	    "db.blue A 198.18.0.6", "5.0.18.198.in-addr.arpa. PTR web.netcrave.internal.",
	    "_http._tcp.web SRV 0 0 80 web", "mail MX 10 web",
	    '"$big"' "txt TXT \"netcrave\""'"${1:+, $1}"' ] }'
}

python3 "$top_srcdir/tests/helpers/dns-listen.py" 127.0.0.1 "$NPORT" "$T/notify" &
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null; nc_cleanup' EXIT
dns_conf ""
nc_start || finish

# ask ARGS...: dig's answer without what changes from run to run.
ask() {
	dig -p "$PORT" +norec +nocookie +noall +comments +answer +authority \
	    +additional +tries=1 +time=2 "$@" 2>&1 |
	    sed -e 's/id: [0-9]*/id: ID/' -e "s/$ula/ULA/g" \
		-e 's/\(SOA[[:space:]].*[[:space:]]\)[0-9]\{10\}\( 3600\)/\1SERIAL\2/' \
		-e '/^;; Query time/d' -e '/^;; SERVER/d' -e '/^;; WHEN/d' \
		-e '/^;; MSG SIZE/d' -e '/^$/d'
}
answers() {
	echo "# A"; ask @127.0.0.1 web.netcrave.internal. A
	echo "# AAAA over IPv6"; ask @::1 web.netcrave.internal. AAAA
	echo "# the case of the question comes back"; ask @127.0.0.1 WeB.NetCrave.INTERNAL. A
	echo "# NXDOMAIN with the SOA"; ask @127.0.0.1 nope.netcrave.internal. A
	echo "# NODATA with the SOA"; ask @127.0.0.1 web.netcrave.internal. SRV
	echo "# an empty non-terminal is NODATA"; ask @127.0.0.1 blue.netcrave.internal. A
	echo "# REFUSED outside"; ask @127.0.0.1 example.com. A
	echo "# NS at the apex"; ask @127.0.0.1 netcrave.internal. NS
	echo "# PTR"; ask @127.0.0.1 -x 198.18.0.5
	echo "# reverse zone apex"; ask @127.0.0.1 18.198.in-addr.arpa. SOA
	echo "# SRV, targets in additional"; ask @127.0.0.1 _http._tcp.web.netcrave.internal. SRV
	echo "# MX"; ask @127.0.0.1 mail.netcrave.internal. MX
	echo "# ANY: one RRset"; ask @127.0.0.1 netcrave.internal. ANY
	echo "# EDNS version 1: BADVERS"; ask @127.0.0.1 +edns=1 +noednsneg web.netcrave.internal. A
	echo "# no EDNS, too big: TC"; ask @127.0.0.1 +noedns +ignore big.netcrave.internal. A
	echo "# TCP: all of it"; ask @127.0.0.1 +tcp +bufsize=512 txt.netcrave.internal. TXT
}
answers > "$T/answers"
[ -n "${DNS_GOLDEN_UPDATE:-}" ] && cp "$T/answers" "$GOLDEN/answers"
check "answers match golden/dns/answers" diff -u "$GOLDEN/answers" "$T/answers"

# netcravectl records: what is served, as a table and as JSON; each record
# listed is what dig gets.
out=$("$NETCRAVECTL" -c "$CONF" records 2>&1)
check "netcravectl records: a table with a header" contains "$out" "NAME"
check "netcravectl records: web A" sh -c 'printf "%s\n" "$1" | grep -Eq "^web\.netcrave\.internal\. +30 +A +198\.18\.0\.5$"' - "$out"
check "netcravectl records: the SRV" contains "$out" "0 0 80 web.netcrave.internal."
check "netcravectl records: the PTR" sh -c 'printf "%s\n" "$1" | grep -Eq "^5\.0\.18\.198\.in-addr\.arpa\. +30 +PTR +web\.netcrave\.internal\.$"' - "$out"
json=$("$NETCRAVECTL" -c "$CONF" -j records)
check "netcravectl -j records: the serial is the SOA's" [ "$(printf '%s' "$json" | jq .serial)" = "$(dig -p "$PORT" +short @127.0.0.1 netcrave.internal. SOA | awk '{print $3}')" ]
check "netcravectl -j records: the MX" [ "$(printf '%s' "$json" | jq -r '.records[] | select(.name == "mail.netcrave.internal." and .type == "MX") | .data')" = "10 web.netcrave.internal." ]
n=$(printf '%s' "$json" | jq '[.records[] | select(.name == "big.netcrave.internal.")] | length')
check "netcravectl -j records: all 60 A of big ($n)" [ "$n" -eq 60 ]

n=$(dig -p "$PORT" +norec +noedns +short @127.0.0.1 big.netcrave.internal. A | wc -l)
check "dig falls back to TCP after TC: 60 addresses" [ "$n" -eq 60 ]
n=$(kdig -p "$PORT" +norec +short +bufsize=1232 @127.0.0.1 big.netcrave.internal. A | wc -l)
check "60 A fit in 1232 bytes of EDNS payload (kdig)" [ "$n" -eq 60 ]
n=$(kdig -p "$PORT" +norec +short +tcp @::1 big.netcrave.internal. A | wc -l)
check "kdig over TCP on IPv6: 60 addresses" [ "$n" -eq 60 ]

# formerr HEX: rcode of the answer to raw bytes sent over UDP.
formerr() {
	python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(bytes.fromhex(sys.argv[2]), ("127.0.0.1", int(sys.argv[1])))
try:
    print(s.recv(65535)[3] & 0xf)
except socket.timeout:
    print("none")
PY
}
check "two questions: FORMERR" [ "$(formerr 123401000002000000000000)" = 1 ]
check "a name running past the end: FORMERR" [ "$(formerr 1234010000010000000000000561626364)" = 1 ]
check "a response is not answered" [ "$(formerr 123481000001000000000000)" = none ]
check "an UPDATE is NOTIMP" [ "$(formerr 123428000001000000000000036e6574000006000100)" = 4 ]

ask @127.0.0.1 netcrave.internal. AXFR > "$T/axfr"
[ -n "${DNS_GOLDEN_UPDATE:-}" ] && cp "$T/axfr" "$GOLDEN/axfr"
check "AXFR to 127.0.0.1 matches golden/dns/axfr" diff -u "$GOLDEN/axfr" "$T/axfr"
out=$(dig -p "$PORT" +norec @::1 netcrave.internal. AXFR 2>&1)
check "AXFR refused to ::1 (not in dns.axfr_allow)" contains "$out" "Transfer failed"

serial() { dig -p "$PORT" +norec +short @127.0.0.1 netcrave.internal. SOA | awk '{print $3}'; }
s1=$(serial)
: > "$T/notify"
dns_conf '"new A 198.18.0.9"'
kill -HUP "$NC_PID"
has_new() { [ "$(dig -p "$PORT" +short @127.0.0.1 new.netcrave.internal. A)" = 198.18.0.9 ]; }
check "SIGHUP: the new record is served" wait_for 5 has_new
s2=$(serial)
check "the serial went up ($s1 -> $s2)" [ "$s2" -gt "$s1" ]
# IXFR (RFC 1995) from the journal: since s1, the one difference (old SOA,
# nothing gone, new SOA, the new record) between the new SOA twice; a client
# up to date gets the SOA alone; a serial the journal does not reach gets the
# whole zone; an address not allowed to transfer is refused.
ixfr() { dig -p "$PORT" +norec +tries=1 +time=2 @127.0.0.1 netcrave.internal. "IXFR=$1" \
    +noall +answer | awk '{ print $1, $4, ($4 == "SOA" ? $7 : $5) }'; }
out=$(ixfr "$s1")
want="netcrave.internal. SOA $s2
netcrave.internal. SOA $s1
netcrave.internal. SOA $s2
new.netcrave.internal. A 198.18.0.9
netcrave.internal. SOA $s2"
check "IXFR=$s1: the difference since" [ "$out" = "$want" ]
[ "$out" = "$want" ] || printf '  got:\n%s\n' "$out"
check "IXFR=$s2 (up to date): the SOA alone" [ "$(ixfr "$s2")" = "netcrave.internal. SOA $s2" ]
n=$(ixfr 1 | grep -c .)
check "IXFR=1 (not in the journal): the whole zone ($n records)" [ "$n" -ge 70 ]
out=$(dig -p "$PORT" +norec @::1 netcrave.internal. IXFR=$s1 2>&1)
check "IXFR refused to ::1 (not in dns.axfr_allow)" contains "$out" "Transfer failed"
notified() { grep -q "opcode=4 qname=netcrave.internal. qtype=6 aa=1 ancount=1" "$T/notify"; }
check "NOTIFY for netcrave.internal. reached the listener" wait_for 5 notified
check "NOTIFY for the reverse zone too" grep -q "qname=18.198.in-addr.arpa." "$T/notify"

dns_conf '"bad A not-an-address"'
kill -HUP "$NC_PID"
sleep 0.5
check "a bad dns.records line is refused on reload, old zone kept" has_new
check "... and named in the log" grep -q "not-an-address" "$LOG"
check "netcraved is still running" kill -0 "$NC_PID"

# dns.listen changed on SIGHUP: the new port answers, the old one no more.
OLDPORT=$PORT
PORT=$((PORT + 2))
dns_conf '"new A 198.18.0.9"'
kill -HUP "$NC_PID"
check "SIGHUP: the new dns.listen port answers" wait_for 5 has_new
out=$(dig -p "$OLDPORT" +norec +tries=1 +time=1 @127.0.0.1 new.netcrave.internal. A 2>&1)
check "... and the old port no more" contains "$out" "no servers could be reached"
check "netcraved stops cleanly" nc_stop

# DNSSEC: the zone signed online; the transfer verifies with ldns-verify-zone
# and delv validates answers, NXDOMAIN and NODATA with the published key.
if command -v delv >/dev/null 2>&1 && command -v ldns-verify-zone >/dev/null 2>&1; then
	dns_conf ""
	sed -i 's/"dns": {/"dns": { "dnssec": "on",/' "$CONF"
	nc_start || finish
	dig -p "$PORT" +norec @127.0.0.1 netcrave.internal. AXFR +noall +answer > "$T/signed"
	check "DNSSEC: the transferred zone has RRSIG and NSEC records" grep -q "NSEC" "$T/signed"
	check "DNSSEC: ldns-verify-zone verifies the transferred zone" ldns-verify-zone "$T/signed"
	dig -p "$PORT" +short @127.0.0.1 netcrave.internal. DNSKEY |
	    awk '{ k = ""; for (i = 4; i <= NF; i++) k = k $i;
		print "trust-anchors { netcrave.internal. static-key", $1, $2, $3, "\"" k "\"; };" }' > "$T/anchor"
	validate() { delv -p "$PORT" @127.0.0.1 -a "$T/anchor" +root=netcrave.internal "$@" 2>&1; }
	out=$(validate web.netcrave.internal. A)
	check "DNSSEC: delv validates an A answer" contains "$out" "; fully validated"
	out=$(validate _http._tcp.web.netcrave.internal. SRV)
	check "DNSSEC: delv validates an SRV answer" contains "$out" "; fully validated"
	out=$(validate nope.netcrave.internal. A)
	check "DNSSEC: delv validates NXDOMAIN" contains "$out" "negative response, fully validated"
	out=$(validate web.netcrave.internal. MX)
	check "DNSSEC: delv validates NODATA" contains "$out" "negative response, fully validated"
	out=$(validate blue.netcrave.internal. A)
	check "DNSSEC: delv validates NODATA at an empty non-terminal" contains "$out" "negative response, fully validated"
	out=$(dig -p "$PORT" +norec +dnssec @127.0.0.1 web.netcrave.internal. A)
	check "DNSSEC: DO echoed in the OPT record" contains "$out" "flags: do;"
	out=$(dig -p "$PORT" +norec @127.0.0.1 web.netcrave.internal. A)
	check "DNSSEC: no RRSIG without DO" not contains "$out" "RRSIG" >/dev/null

	# Incremental signing: a change signs only what it touched (the new
	# name, its NSEC neighbours, the SOA); the rest keeps its signatures,
	# and the zone still verifies.
	sig() { dig -p "$PORT" +norec +dnssec +short @127.0.0.1 "$1" "$2" | grep "^$2 13 "; }
	web_sig=$(sig web.netcrave.internal. A)
	soa_sig=$(sig netcrave.internal. SOA)
	dns_conf '"new A 198.18.0.9"'
	sed -i 's/"dns": {/"dns": { "dnssec": "on",/' "$CONF"
	kill -HUP "$NC_PID"
	check "DNSSEC: SIGHUP: the new record is served" wait_for 5 has_new
	sleep 1	# a second later, so that a new signature would differ
	ser_a=$(serial)
	dns_conf '"new A 198.18.0.9", "newer A 198.18.0.10"'
	sed -i 's/"dns": {/"dns": { "dnssec": "on",/' "$CONF"
	kill -HUP "$NC_PID"
	has_newer() { [ "$(dig -p "$PORT" +short @127.0.0.1 newer.netcrave.internal. A)" = 198.18.0.10 ]; }
	check "DNSSEC: a second change is served" wait_for 5 has_newer
	check "DNSSEC: an unchanged RRset keeps its signature" [ -n "$web_sig" ] && [ "$(sig web.netcrave.internal. A)" = "$web_sig" ]
	check "DNSSEC: the SOA is signed again" [ -n "$soa_sig" ] && [ "$(sig netcrave.internal. SOA)" != "$soa_sig" ]
	check "DNSSEC: the new name is signed" [ -n "$(sig newer.netcrave.internal. A)" ]
	out=$(ixfr "$ser_a")
	check "DNSSEC: IXFR brings the new name, its RRSIG and the NSEC chain's change" \
	    sh -c 'printf "%s\n" "$1" | grep -qx "newer.netcrave.internal. A 198.18.0.10" &&
	    printf "%s\n" "$1" | grep -qx "newer.netcrave.internal. RRSIG A" &&
	    printf "%s\n" "$1" | grep -qx "new.netcrave.internal. NSEC newer.netcrave.internal."' - "$out"
	check "DNSSEC: ... and not the unchanged RRsets" not contains "$out" "web.netcrave.internal. A"
	dig -p "$PORT" +norec @127.0.0.1 netcrave.internal. AXFR +noall +answer > "$T/signed2"
	check "DNSSEC: the zone verifies after incremental changes" ldns-verify-zone "$T/signed2"
	out=$(validate newer.netcrave.internal. A)
	check "DNSSEC: delv validates the new name" contains "$out" "; fully validated"
	out=$(validate newest.netcrave.internal. A)
	check "DNSSEC: delv validates NXDOMAIN beside the new names" contains "$out" "negative response, fully validated"
	out=$(validate web.netcrave.internal. A)
	check "DNSSEC: delv validates an answer with a reused signature" contains "$out" "; fully validated"

	# The keys come from the keys module: kept wrapped, the same after a
	# restart (the trust anchor stays valid).
	key1=$(dig -p "$PORT" +short @127.0.0.1 netcrave.internal. DNSKEY)
	check "netcraved (DNSSEC) stops cleanly" nc_stop
	check "DNSSEC: the zone's key is stored wrapped in the keys directory" \
	    test -s "$T/state/keys/dnssec%3Anetcrave%2Einternal%2E.wkey"
	nc_start || finish
	key2=$(dig -p "$PORT" +short @127.0.0.1 netcrave.internal. DNSKEY)
	check "DNSSEC: the same DNSKEY after a restart" [ -n "$key1" ] && [ "$key1" = "$key2" ]
	out=$(validate web.netcrave.internal. A)
	check "DNSSEC: the old trust anchor validates after the restart" contains "$out" "; fully validated"
	check "netcraved (DNSSEC) stops cleanly after the restart" nc_stop

	# NSEC3 (dns.nsec3): the zone verifies, delv validates the denials
	# (closest encloser proofs) and the answers.
	dns_conf ""
	sed -i 's/"dns": {/"dns": { "dnssec": "on", "nsec3": true,/' "$CONF"
	nc_start || finish
	dig -p "$PORT" +norec @127.0.0.1 netcrave.internal. AXFR +noall +answer > "$T/nsec3"
	check "NSEC3: the zone has NSEC3PARAM and NSEC3, no NSEC" sh -c \
	    'grep -Eq "IN[[:space:]]+NSEC3PARAM[[:space:]]+1 0 0 -" "$1" &&
	    grep -Eq "IN[[:space:]]+NSEC3[[:space:]]+1 0 0 - " "$1" &&
	    ! grep -Eq "IN[[:space:]]+NSEC[[:space:]]" "$1"' - "$T/nsec3"
	check "NSEC3: ldns-verify-zone verifies the transferred zone" ldns-verify-zone "$T/nsec3"
	out=$(validate web.netcrave.internal. A)
	check "NSEC3: delv validates an A answer" contains "$out" "; fully validated"
	out=$(validate nope.netcrave.internal. A)
	check "NSEC3: delv validates NXDOMAIN" contains "$out" "negative response, fully validated"
	out=$(validate deeper.nope.netcrave.internal. A)
	check "NSEC3: delv validates NXDOMAIN two labels down" contains "$out" "negative response, fully validated"
	out=$(validate web.netcrave.internal. MX)
	check "NSEC3: delv validates NODATA" contains "$out" "negative response, fully validated"
	out=$(validate blue.netcrave.internal. A)
	check "NSEC3: delv validates NODATA at an empty non-terminal" contains "$out" "negative response, fully validated"
	out=$(dig -p "$PORT" +norec +dnssec @127.0.0.1 9.0.18.198.in-addr.arpa. PTR)
	check "NSEC3: NXDOMAIN in a reverse zone carries NSEC3 records" sh -c \
	    'printf "%s\n" "$1" | grep -q "status: NXDOMAIN" &&
	    printf "%s\n" "$1" | grep -Eq "IN[[:space:]]+NSEC3[[:space:]]"' - "$out"
	check "netcraved (NSEC3) stops cleanly" nc_stop
else
	echo "SKIP: DNSSEC checks: delv or ldns-verify-zone is not installed"
fi

# Response rate limiting: loopback is exempt by default, so here it is not
# (dns.rrl_exempt_own false); a flood of 200 queries from 127.0.0.1 gets
# about the rate answered, every second limited answer slipped with TC, the
# rest dropped; a client of another /24 (127.0.1.1), an exempt one
# (127.0.2.0/24 in dns.rrl_exempt) and TCP are unaffected.
dns_conf ""
sed -i 's/"dns": {/"dns": { "rrl_rate": 20, "rrl_slip": 2, "rrl_exempt_own": false, "rrl_exempt": ["127.0.2.0\/24"],/' "$CONF"
nc_start || finish
# flood SOURCE COUNT: send COUNT queries for web A at once, then count for a
# second: "answered truncated silent".
flood() {
	python3 - "$PORT" "$1" "$2" <<'PY'
import socket, struct, sys, time
port, src, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
q = lambda i: struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0) + \
    b"\x03web\x08netcrave\x08internal\x00" + struct.pack(">HH", 1, 1)
for i in range(n):
    s.sendto(q(i), ("127.0.0.1", port))
    if i % 10 == 9:
        time.sleep(0.001)	# no overflow of the server's socket buffer
answered = truncated = 0
s.settimeout(1)
try:
    while True:
        r = s.recv(4096)
        if r[2] & 0x02:
            truncated += 1
        elif struct.unpack(">H", r[6:8])[0] > 0:
            answered += 1
except socket.timeout:
    pass
print(answered, truncated, n - answered - truncated)
PY
}
set -- $(flood 127.0.0.1 200)
check "RRL: a flood of 200 gets about the rate answered ($1)" [ "$1" -ge 15 ] && [ "$1" -le 60 ]
check "RRL: limited answers slip with TC, one in two ($2)" [ "$2" -ge 60 ] && [ "$2" -le 100 ]
check "RRL: the rest is dropped ($3)" [ "$3" -ge 60 ]
n=$(dig -p "$PORT" -b 127.0.1.1 +norec +short +tries=1 +time=2 @127.0.0.1 web.netcrave.internal. A)
check "RRL: a client of another network is answered during the flood" [ "$n" = 198.18.0.5 ]
set -- $(flood 127.0.1.1 10)
check "RRL: a clean client gets all of its 10 answers ($1)" [ "$1" -eq 10 ]
set -- $(flood 127.0.2.1 100)
check "RRL: an exempt network gets all 100 answers ($1)" [ "$1" -eq 100 ]
set -- $(flood 127.0.0.1 50)
n=$(dig -p "$PORT" +tcp +norec +short +tries=1 +time=2 @127.0.0.1 web.netcrave.internal. A)
check "RRL: TCP is never limited (a flooded client over TCP)" [ "$n" = 198.18.0.5 ]
out=$(curl -s --unix-socket "$METRICS_SOCK" http://localhost/metrics)
check "RRL: counted in netcrave_dns_rrl_total" contains "$out" 'netcrave_dns_rrl_total{action="dropped"}'
check "metrics: queries by RCODE" contains "$out" 'netcrave_dns_queries_total{transport="udp",rcode="NOERROR"}'
check "metrics: TCP queries counted apart" contains "$out" 'netcrave_dns_queries_total{transport="tcp",rcode="NOERROR"} 1'
check "netcraved (RRL) stops cleanly" nc_stop

# A listen address that is no address stops the start, with the reason.
nc_write_conf '"dns": { "listen": ["unix:/tmp/nope.sock"] }'
timeout 10 "$NETCRAVED" -f -c "$CONF" > "$T/bad.log" 2>&1 && rc=0 || rc=$?
check "dns.listen unix:...: the start fails" [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
check "... naming the address" grep -q "dns.listen: unix:/tmp/nope.sock: expected ADDRESS:PORT" "$T/bad.log"
finish
