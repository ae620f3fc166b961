#!/bin/sh
# valgrind.sh: the daemon's start/serve/stop path under valgrind (memcheck):
# plugin, IPAM, control, metrics, DNS (UDP and TCP), WebDAV (PUT, GET,
# PROPFIND), ICAP, a supervised child, bad requests, a reload and SIGTERM —
# with no memory error and no definite leak.  Skipped for
# sanitizer builds (ASan and valgrind cannot share a process).
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null 2>&1 || { echo "skip - valgrind not installed"; finish; }
# (gcc links libasan dynamically: the name is then not in the binary itself.)
if grep -q AddressSanitizer "$NETCRAVED" 2>/dev/null ||
    ldd "$NETCRAVED" 2>/dev/null | grep -q libasan; then
	echo "skip - $NETCRAVED is built with AddressSanitizer; valgrind cannot run it"
	finish
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DNS_PORT=$(free_port)
ICAP_PORT=$(free_port)
nc_write_conf '"dns": { "listen": ["127.0.0.1:'$DNS_PORT'"], "records": ["vg A 198.18.64.9"] },
	"dav": { "plain_listen": "127.0.0.1:0" },
	"waf": { "icap_listen": "127.0.0.1:'$ICAP_PORT'" },
	"children": [ { "role": "sleeper", "argv": ["'"$NC_TESTCHILD"'"],
	  "restart": "always", "stop_timeout_ms": 2000 } ],
	"scopes": [ { "name": "vg", "ipv4_network": "198.18.64.0/20",
	  "ipv4_prefix_length": 24, "tags": ["default"] } ]'
valgrind --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=99 --log-file="$T/valgrind.log" \
    "$NETCRAVED" -f -c "$CONF" >>"$LOG" 2>&1 &
NC_PID=$!
up() { curl -sf --unix-socket "$PLUGIN_SOCK" -X POST http://localhost/Plugin.Activate >/dev/null 2>&1; }
check "netcraved starts under valgrind" wait_for 60 up

r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{},"V6":false}')
check "a pool" contains "$r" '200 {"PoolID":'
pool=$(printf '%s' "$r" | sed 's/^[0-9]* //' | jq -r .PoolID)
r=$(plugin_call /IpamDriver.RequestAddress '{"PoolID":"'"$pool"'","Address":"","Options":{}}')
check "an address" contains "$r" '200 {"Address":"198.18.64.'
addr=$(printf '%s' "$r" | sed 's/^[0-9]* //' | jq -r .Address | cut -d/ -f1)
r=$(plugin_call /IpamDriver.ReleaseAddress '{"PoolID":"'"$pool"'","Address":"'"$addr"'"}')
check "address released" contains "$r" '200 {}'
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"", "Options":')
check "malformed JSON answered 400" contains "$r" '400 {"Err":'
r=$(plugin_call /IpamDriver.ReleasePool '{"PoolID":"'"$pool"'"}')
check "pool released" contains "$r" '200 {}'
check "control status" "$NETCRAVECTL" -s "$CONTROL_SOCK" status
check "control pools" "$NETCRAVECTL" -s "$CONTROL_SOCK" -j pools
check "metrics" curl -sf --unix-socket "$METRICS_SOCK" http://localhost/metrics -o /dev/null
if command -v dig >/dev/null 2>&1; then
	r=$(dig -p "$DNS_PORT" +short +tries=1 +time=5 @127.0.0.1 vg.netcrave.internal A)
	check "DNS over UDP" [ "$r" = 198.18.64.9 ]
	r=$(dig -p "$DNS_PORT" +tcp +short +tries=1 +time=5 @127.0.0.1 vg.netcrave.internal A)
	check "DNS over TCP" [ "$r" = 198.18.64.9 ]
	r=$(dig -p "$DNS_PORT" +tries=1 +time=5 @127.0.0.1 nope.netcrave.internal A)
	check "DNS NXDOMAIN" contains "$r" "status: NXDOMAIN"
else
	echo "skip - dig not installed: no DNS requests"
fi
DAV_PORT=$(sed -n 's/.*dav: plaintext HTTP on .*, port \([0-9]*\).*/\1/p' "$LOG" | tail -1)
U=http://127.0.0.1:$DAV_PORT
head -c 100000 /dev/urandom > "$T/file"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X MKCOL "$U/vg/")
# valgrind before 3.20 does not know openat2: the store then confines paths
# one component at a time, as on kernels before 5.6.
check "WebDAV MKCOL" [ "$code" = 201 ]
check "WebDAV PUT" [ "$(curl -s -o /dev/null -w '%{http_code}' -T "$T/file" "$U/vg/f")" = 201 ]
check "WebDAV GET, same bytes" sh -c "curl -sf '$U/vg/f' | cmp -s - '$T/file'"
check "WebDAV PROPFIND" [ "$(curl -s -o /dev/null -w '%{http_code}' -X PROPFIND -H 'Depth: 1' "$U/vg/")" = 207 ]
# Refused at the end of its headers with no body to wait for (a use after
# free this test found), then a PUT refused with a body to read and drop.
check "WebDAV: chunked PUT into a missing volume is 409" \
    [ "$(printf 'abc' | curl -s -o /dev/null -w '%{http_code}' -T - "$U/novol/f")" = 409 ]
check "WebDAV: PUT of a file into a missing volume is 409" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' -T "$T/file" "$U/novol/f")" = 409 ]
check "WebDAV: a head over the cap is 431" [ "$(curl -s -o /dev/null -w '%{http_code}' \
    -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' b)" "$U/vg/")" = 431 ]
r=$(printf 'OPTIONS icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n' |
    python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",'$ICAP_PORT')); s.sendall(sys.stdin.buffer.read()); print(s.recv(4096).split(b"\r\n")[0].decode())')
check "ICAP OPTIONS" [ "$r" = "ICAP/1.0 200 OK" ]
sleeping() { "$NETCRAVECTL" -s "$CONTROL_SOCK" -j status | jq -e '.children[0].state == "ready"' >/dev/null; }
check "the child is up" wait_for 20 sleeping
kill -HUP "$NC_PID"
check "reload applied" wait_for 30 grep -q "reload: configuration applied" "$LOG"

kill -TERM "$NC_PID"
rc=0
wait "$NC_PID" || rc=$?
NC_PID=
check "netcraved exits 0 under valgrind (99: memcheck errors)" [ "$rc" = 0 ]
if grep -q "ERROR SUMMARY: 0 errors" "$T/valgrind.log"; then
	ok "valgrind: 0 errors, no definite leak"
else
	fail "valgrind found errors"; cat "$T/valgrind.log"
fi
grep -E "definitely lost|indirectly lost|ERROR SUMMARY" "$T/valgrind.log" | sed 's/^==[0-9]*== */  /'
finish
