#!/bin/sh
# valgrind.sh: the daemon's start/serve/stop path under valgrind (memcheck):
# plugin, IPAM, control, metrics, a supervised child, a bad request, a reload
# and SIGTERM — with no memory error and no definite leak.  Skipped for
# sanitizer builds (ASan and valgrind cannot share a process).
. "$(dirname "$0")/lib.sh"

command -v valgrind >/dev/null 2>&1 || { echo "skip - valgrind not installed"; finish; }
# (gcc links libasan dynamically: the name is then not in the binary itself.)
if grep -q AddressSanitizer "$NETCRAVED" 2>/dev/null ||
    ldd "$NETCRAVED" 2>/dev/null | grep -q libasan; then
	echo "skip - $NETCRAVED is built with AddressSanitizer; valgrind cannot run it"
	finish
fi

nc_write_conf '"children": [ { "role": "sleeper", "argv": ["'"$NC_TESTCHILD"'"],
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
