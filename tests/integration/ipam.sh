#!/bin/sh
# ipam.sh: the IpamDriver on the plugin socket: pools by tag, by default tag and
# by explicit subnet; addresses next-free and exact; clear errors; idempotent
# releases; every allocation survives a kill -9; a named pool
# (netcrave.network) is shared by the networks naming it, freed with the last.
. "$(dirname "$0")/lib.sh"

# A random ULA /48, written as inet_ntop writes it (no leading zeros).
set -- $(od -An -N5 -tu1 /dev/urandom)
ula=$(printf 'fd%02x:%x:%x' "$1" $(($2 * 256 + $3)) $(($4 * 256 + $5)))
nc_write_conf '"default_tag": "web",
	"scopes": [ { "name": "it", "ipv4_network": "198.18.0.0/16",
	  "ipv6_network": "'$ula'::/48", "scopes": [
	  { "name": "web", "ipv4_network": "198.18.0.0/20", "ipv4_prefix_length": 24,
	    "ipv6_network": "'$ula':100::/56", "ipv6_prefix_length": 64,
	    "tags": ["web"], "egress": ["db"] },
	  { "name": "db", "ipv4_network": "198.18.16.0/23", "ipv4_prefix_length": 24,
	    "tags": ["db"], "ingress": ["web"] },
	  { "name": "auto", "ipv4_network": "auto/20", "ipv4_prefix_length": 26,
	    "tags": ["auto"] } ] } ]'
nc_start || finish

# field JSON KEY
field() { printf '%s' "$1" | sed 's/^[0-9]* //' | jq -r ".$2"; }
status() { printf '%s' "$1" | cut -d' ' -f1; }

r=$(plugin_call /IpamDriver.GetDefaultAddressSpaces)
check "address spaces" contains "$r" '200 {"LocalDefaultAddressSpace":"netcrave-local","GlobalDefaultAddressSpace":"netcrave-global"}'

r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{"netcrave.tag":"web"},"V6":false}
')
check "pool by tag: 200" [ "$(status "$r")" = 200 ]
check "pool by tag: first /24 of the web scope" [ "$(field "$r" Pool)" = 198.18.0.0/24 ]
web=$(field "$r" PoolID)
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","Options":{},"V6":false}')
check "pool without a tag: default tag's scope" [ "$(field "$r" Pool)" = 198.18.1.0/24 ]
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"db"},"V6":false}')
check "pool by tag db" [ "$(field "$r" Pool)" = 198.18.16.0/24 ]
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"db"},"V6":false}')
check "second db pool" [ "$(field "$r" Pool)" = 198.18.17.0/24 ]
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"db"},"V6":false}')
check "db scope exhausted: clear error" contains "$r" 'netcrave: scope it/db (198.18.16.0/23) is exhausted: every /24 network in it is allocated'
check "exhausted is not a 200" [ "$(status "$r")" != 200 ]
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"nope"},"V6":false}')
check "unknown tag" contains "$r" 'netcrave: unknown tag \"nope\": the schema defines web, db, auto'
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"198.18.9.0/24","Options":{},"V6":false}')
check "explicit subnet inside a scope" [ "$(field "$r" Pool)" = 198.18.9.0/24 ]
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"198.18.9.0/25","Options":{},"V6":false}')
check "overlapping explicit subnet refused" contains "$r" 'netcrave: 198.18.9.0/25 overlaps a network already allocated in scope it/web'
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"203.0.113.0/24","Options":{},"V6":false}')
check "subnet outside the schema refused" contains "$r" 'netcrave: 203.0.113.0/24 is outside the address schema'
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"web"},"V6":true}')
check "IPv6 pool from the web scope" [ "$(field "$r" Pool)" = "$ula:100::/64" ]
v6=$(field "$r" PoolID)
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"db"},"V6":true}')
check "IPv6 from a v4-only scope refused" contains "$r" 'netcrave: scope it/db hands out no IPv6 networks'
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"auto"},"V6":false}')
auto=$(field "$r" Pool)
check "auto scope resolved inside its parent" contains "$auto" "198.18."
check "auto scope avoids explicit siblings" [ "$auto" = 198.18.32.0/26 ]

addr() { plugin_call /IpamDriver.RequestAddress "{\"PoolID\":\"$1\",\"Address\":\"${2:-}\",\"Options\":${3:-{\}}}"; }
r=$(addr "$web" "" '{"RequestAddressType":"com.docker.network.gateway"}')
check "gateway: first address" [ "$(field "$r" Address)" = 198.18.0.1/24 ]
r=$(addr "$web")
check "next free" [ "$(field "$r" Address)" = 198.18.0.2/24 ]
r=$(addr "$web" 198.18.0.50)
check "exact address" [ "$(field "$r" Address)" = 198.18.0.50/24 ]
r=$(addr "$web" 198.18.0.50)
check "exact address in use refused" contains "$r" 'netcrave: address 198.18.0.50 is already in use'
r=$(addr "$web" 198.18.5.5)
check "address outside the pool refused" contains "$r" 'is not inside pool 198.18.0.0/24'
r=$(addr "nosuchpool")
check "unknown pool" contains "$r" 'netcrave: unknown pool nosuchpool'
r=$(addr "$v6")
check "IPv6 address" [ "$(field "$r" Address)" = "$ula:100::1/64" ]

r=$(plugin_call /IpamDriver.ReleaseAddress "{\"PoolID\":\"$web\",\"Address\":\"198.18.0.2\"}")
check "release address" [ "$r" = "200 {}" ]
r=$(plugin_call /IpamDriver.ReleaseAddress "{\"PoolID\":\"$web\",\"Address\":\"198.18.0.2\"}")
check "release address again: idempotent" [ "$r" = "200 {}" ]
r=$(addr "$web")
check "a released address is not reused at once" [ "$(field "$r" Address)" = 198.18.0.3/24 ]

# kill -9: every allocation is in the store already.
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
nc_start || finish
r=$(addr "$web" 198.18.0.50)
check "after kill -9: an exact address taken before stays taken" contains "$r" 'already in use'
r=$(addr "$web")
a=$(field "$r" Address)
check "after kill -9: next free ($a) skips addresses held before" \
    not contains " 198.18.0.1/24 198.18.0.3/24 198.18.0.50/24 null " " $a "
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"web"},"V6":false}')
check "after kill -9: pools handed out before stay taken" [ "$(field "$r" Pool)" = 198.18.2.0/24 ]
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"auto"},"V6":false}')
check "after kill -9: the auto scope kept its prefix" [ "$(field "$r" Pool)" = 198.18.32.64/26 ]

r=$(plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$web\"}")
check "release pool" [ "$r" = "200 {}" ]
r=$(plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$web\"}")
check "release pool again: idempotent" [ "$r" = "200 {}" ]
r=$(addr "$web")
check "addresses of a released pool are gone" contains "$r" 'unknown pool'
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"web"},"V6":false}')
check "a released prefix is handed out again" [ "$(field "$r" Pool)" = 198.18.0.0/24 ]
new=$(field "$r" PoolID)
check "with a new pool ID" [ "$new" != "$web" ]
r=$(addr "$new" 198.18.0.50)
check "and none of the old pool's addresses" [ "$(field "$r" Address)" = 198.18.0.50/24 ]

# SIGHUP: an added scope applies live ...
cp "$CONF" "$T/base.json"
sed -i 's|{ "name": "auto"|{ "name": "extra", "ipv4_network": "198.18.64.0/20", "ipv4_prefix_length": 24, "tags": ["extra"] },\
	  { "name": "auto"|' "$CONF"
kill -HUP "$NC_PID"
check "reload with an added scope applied" wait_for 5 grep -q "ipam: schema reloaded" "$LOG"
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"extra"},"V6":false}')
check "the added scope hands out pools" [ "$(field "$r" Pool)" = 198.18.64.0/24 ]
r=$(addr "$new" 198.18.0.51)
check "pools from before the reload still serve" [ "$(field "$r" Address)" = 198.18.0.51/24 ]
# ... removing a scope that holds pools is refused, the old schema stays ...
cp "$CONF" "$T/extra.json"
sed -i -e '/"name": "db"/,+1d' -e 's/"egress": \["db"\]/"egress": []/' "$CONF"
kill -HUP "$NC_PID"
check "removing a scope with pools is refused" wait_for 5 grep -q \
    "reload: ipam: scope it/db cannot be removed: pool 198.18.16.0/24 is allocated in it; keeping the running configuration" "$LOG"
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"db"},"V6":false}')
check "the db tag still names its scope" contains "$r" "scope it/db (198.18.16.0/23) is exhausted"
# ... and so is shrinking one below what it handed out.
cp "$T/extra.json" "$CONF"
sed -i 's|"198.18.0.0/20", "ipv4_prefix_length": 24|"198.18.0.0/22", "ipv4_prefix_length": 24|' "$CONF"
kill -HUP "$NC_PID"
check "shrinking a scope below its pools is refused" wait_for 5 grep -q \
    "reload: ipam: scope it/web cannot shrink or change: pool 198.18.9.0/24 is allocated in it" "$LOG"
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"198.18.10.0/24","Options":{},"V6":false}')
check "the web scope keeps its /20" [ "$(field "$r" Pool)" = 198.18.10.0/24 ]
cp "$T/extra.json" "$CONF"

# Swarm on one node: the manager asks for a pool in the global space, then the
# node's dockerd asks for that same pool (local space, explicit) and for the
# manager's addresses again.  The second gets a twin with addresses of its own.
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-global","Pool":"","Options":{"netcrave.tag":"extra"},"V6":false}')
swp=$(field "$r" Pool); sw=$(field "$r" PoolID)
check "swarm: the manager's pool" [ "$swp" = 198.18.65.0/24 ]
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"198.18.65.0/24","Options":null,"V6":false}')
tw=$(field "$r" PoolID)
check "swarm: the node's explicit request of it is granted" [ "$(field "$r" Pool)" = 198.18.65.0/24 ]
check "... as a twin with a PoolID of its own" [ -n "$tw" ] && [ "$tw" != "$sw" ]
check "... and logged" grep -q "ipam: pool $tw, twin of swarm pool $sw" "$LOG"
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"198.18.65.0/25","Options":null,"V6":false}')
check "swarm: a mere overlap is still refused" contains "$r" "198.18.65.0/25 overlaps a network already allocated"
# The node built its part; a local network's --subnet naming the swarm pool is
# an overlap like any other (this host's dockerd builds a swarm network once).
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"198.18.65.0/24","Options":{},"V6":false}')
check "swarm: a local --subnet equal to a swarm pool with its node's twin: 409" \
    contains "$r" '409 {"Err":"netcrave: 198.18.65.0/24 overlaps a network already allocated'
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-global","Pool":"198.18.65.0/24","Options":{"netcrave.tag":"extra"},"V6":false}')
check "swarm: the manager asking again (its restart) still gets a twin" \
    [ "$(field "$r" Pool)" = 198.18.65.0/24 ]
plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$(field "$r" PoolID)\"}" >/dev/null
r=$(addr "$sw" 198.18.65.3)
check "swarm: the manager's task address" [ "$(field "$r" Address)" = 198.18.65.3/24 ]
r=$(addr "$tw" 198.18.65.3)
check "swarm: the node asks for the same address in its twin" [ "$(field "$r" Address)" = 198.18.65.3/24 ]
r=$(addr "$tw" 198.18.65.1)
check "swarm: the node's gateway" [ "$(field "$r" Address)" = 198.18.65.1/24 ]
r=$(addr "$tw" 198.18.65.2)
r=$(addr "$sw")
check "swarm: next free in the manager's pool skips what the twin holds" \
    [ "$(field "$r" Address)" = 198.18.65.4/24 ]
# kill -9: both pools and all their addresses come back.
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
nc_start
r=$(addr "$tw" 198.18.65.2)
check "swarm: after kill -9 the twin's addresses are held" contains "$r" "198.18.65.2 is already in use"
r=$(addr "$sw")
check "swarm: after kill -9 the manager's pool still skips them" [ "$(field "$r" Address)" = 198.18.65.5/24 ]
# The prefix stays claimed while either twin holds it.
r=$(plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$sw\"}")
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"extra"},"V6":false}')
check "swarm: the manager's pool released, the twin keeps the prefix" \
    [ "$(field "$r" Pool)" = 198.18.66.0/24 ]
plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$(field "$r" PoolID)\"}" >/dev/null
plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$tw\"}" >/dev/null
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"extra"},"V6":false}')
check "swarm: both released, the prefix is free again" [ "$(field "$r" Pool)" = 198.18.65.0/24 ]
plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$(field "$r" PoolID)\"}" >/dev/null

out=$("$NETCRAVECTL" -s "$CONTROL_SOCK" scopes)
check "netcravectl scopes shows the auto scope's resolved prefix" contains "$out" "it/auto"
check "... as 198.18.32.0/20" contains "$out" "198.18.32.0/20"
out=$("$NETCRAVECTL" -s "$CONTROL_SOCK" -j pools)
check "netcravectl pools: the new web pool holds two addresses" \
    [ "$(printf '%s' "$out" | jq -r '.pools[] | select(.pool=="198.18.0.0/24") | .addresses')" = 2 ]
check "netcravectl pools: the explicit subnet is listed" contains "$out" '"pool":"198.18.9.0/24"'

# A named pool (netcrave.network) used by two networks of this host: one pool,
# a reference counting both, kept over a kill -9 until both are released.
named_pool() { plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"extra","netcrave.network":"shared"},"V6":false}'; }
r=$(named_pool)
check "named pool: 200" [ "$(status "$r")" = 200 ]
named=$(field "$r" PoolID)
npool=$(field "$r" Pool)
r=$(named_pool)
check "named pool: the name again is the same pool ($npool)" [ "$(field "$r" PoolID)" = "$named" ]
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.network":"shared"},"V6":false}')
check "named pool: the name under another tag is refused" contains "$r" '409 '
check "... saying which tag it has" contains "$r" 'exists in the cluster with tag'
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-global","Pool":"","Options":{"netcrave.tag":"extra","netcrave.network":"swarmnet"},"V6":false}')
check "named pool: refused in the global (swarm) space" contains "$r" '400 '
check "... saying a swarm network needs no name" contains "$r" 'a swarm network needs no name'
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"extra","netcrave.network":"shared"},"V6":true}')
check "named pool: IPv6 under the name is a pool of its own (extra has no IPv6: refused)" contains "$r" 'hands out no IPv6'
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
nc_start || finish
r=$(plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$named\"}")
check "named pool: first release after kill -9" [ "$r" = "200 {}" ]
r=$(addr "$named")
check "named pool: the other network still gets addresses" [ "$(status "$r")" = 200 ]
r=$(plugin_call /IpamDriver.ReleasePool "{\"PoolID\":\"$named\"}")
check "named pool: the last release" [ "$r" = "200 {}" ]
r=$(addr "$named")
check "named pool: then the pool is gone" contains "$r" 'unknown pool'
r=$(named_pool)
check "named pool: the name is free: a new pool on the freed prefix" sh -c \
    "[ '$(field "$r" PoolID)' != '$named' ] && [ '$(field "$r" Pool)' = '$npool' ]"
nc_stop
# A schema that collides with what the host routes is refused at start.
nc_write_conf '"default_tag": "lo", "scopes": [ { "name": "bad",
	"ipv4_network": "127.0.0.0/24", "ipv4_prefix_length": 28, "tags": ["lo"] } ]'
timeout 10 "$NETCRAVED" -f -c "$CONF" > "$T/bad.log" 2>&1 && rc=0 || rc=$?
check "a scope overlapping a host route stops the start" [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
check "naming the scope and the host's route" grep -q "scope bad: 127.0.0.0/24: it overlaps the host's" "$T/bad.log"
finish
