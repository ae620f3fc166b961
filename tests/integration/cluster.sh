#!/bin/sh
# cluster.sh: two "hosts" (issue 10): each a routing namespace of its own
# (created here, joined by a veth underlay on 198.18.61.0/24), a netcraved per
# host with clustering on and its own zebra+bgpd.  A network is created on
# host 1 through the plugin API with the calls and bodies dockerd sends
# (IpamDriver.RequestPool, then NetworkDriver.CreateNetwork); host 2 must learn
# its subnet over iBGP (ttl-security), and containers on the two hosts reach
# each other through both hosts' tag policies (ping).  Not with a
# real dockerd per host: each would need a mount namespace of its own for
# /run/docker/plugins.  Both hosts share one store on a private PostgreSQL 15
# (tests/helpers/pg.sh) and one address schema: their pools are cluster-unique
# and each host learns the other's.  A network named with netcrave.network on
# both hosts is one subnet across them, its addresses cluster-unique (200
# concurrent RequestAddress from both hosts) and routed per address; it lives
# until the last host deletes it.  Also checked:
# the WireGuard detection and `netcravectl status` host-pair report (the
# WireGuard path itself where the kernel has the module; here a skip), and
# GetCapabilities' ConnectivityScope.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/helpers/pg.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces)"; exit 77; }
FRR=${FRR_BIN_DIR:-/usr/lib/frr}
[ -x "$FRR/bgpd" ] && [ -x "$FRR/zebra" ] ||
    { echo "SKIP: FRR is not installed (frr, tools/install-deps)"; exit 77; }

LP=c$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-3)
pg_available || { echo "SKIP: PostgreSQL 15 not found in $PG_BINDIR (postgresql-15)"; exit 77; }
R1=${INSTANCE}r1
R2=${INSTANCE}r2
cl_cleanup() {
	for _p in $PID1 $PID2; do
		kill -CONT "$_p" 2>/dev/null
		kill -TERM "$_p" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$_p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$_p" 2>/dev/null
	done
	pg_stop
	ip netns delete "$R1" 2>/dev/null
	ip netns delete "$R2" 2>/dev/null
	ip netns delete "${INSTANCE}c1" 2>/dev/null
	ip netns delete "${INSTANCE}c2" 2>/dev/null
	ip netns delete "${INSTANCE}s1" 2>/dev/null
	ip netns delete "${INSTANCE}s2" 2>/dev/null
	ip netns delete "${INSTANCE}c3" 2>/dev/null
	if [ "$FAILURES" -ne 0 ]; then
		for _f in "$T"/h1/log "$T"/h2/log; do echo "---- $_f"; cat "$_f"; done
	fi
	nc_cleanup
}
PID1= PID2=
trap cl_cleanup EXIT

# The underlay: one veth, an end in each host's routing namespace.
ip netns add "$R1" && ip netns add "$R2" || { fail "ip netns add"; finish; }
ip link add "${INSTANCE}u1" netns "$R1" type veth peer name "${INSTANCE}u2" netns "$R2"
ip -n "$R1" addr add 198.18.61.1/24 dev "${INSTANCE}u1"
ip -n "$R2" addr add 198.18.61.2/24 dev "${INSTANCE}u2"
for r in "$R1" "$R2"; do ip -n "$r" link set lo up; done
ip -n "$R1" link set "${INSTANCE}u1" up
ip -n "$R2" link set "${INSTANCE}u2" up

pg_start "$T/pg" || { fail "PostgreSQL starts"; finish; }

# host_conf N ADDR PEER DEAD_AFTER: the config of host N.
host_conf() {
	mkdir -p "$T/h$1"
	cat > "$T/h$1/conf.json" <<JSON
{
	"instance": "${INSTANCE}h$1",
	"paths": { "run_dir": "$T/h$1/run", "state_dir": "$T/h$1/state",
	  "plugin_socket": "$T/h$1/plugin.sock",
	  "control_socket": "$T/h$1/control.sock" },
	"names": { "netns": "$(eval echo \$R$1)", "link_prefix": "${LP}$1",
	  "nft_table": "${INSTANCE}h$1" },
	"metrics": { "listen": "" },
	"store": { "backend": "pg", "host": "$PG_SOCKDIR", "port": "$PG_PORT",
	  "dbname": "netcrave", "user": "netcrave", "sslmode": "disable",
	  "poll_ms": 100 },
	"follower": { "docker_socket": null },
	"cluster": { "enabled": true, "asn": 64700, "host_address": "$2",
	  "peers": [ $3 ], "announce": [ "198.18.62.0/23" ],
	  "frr_bin_dir": "$FRR", "dead_after": $4 },
	"scopes": [ { "name": "cl", "ipv4_network": "198.18.62.0/24",
	  "ipv4_prefix_length": 28, "tags": ["default"],
	  "egress": ["default"], "ingress": ["default"] },
	  { "name": "bulk", "ipv4_network": "198.18.64.0/22",
	  "ipv4_prefix_length": 24, "tags": ["bulk"],
	  "egress": ["bulk"], "ingress": ["bulk"] },
	  { "name": "ot", "ipv4_network": "198.18.63.0/24",
	  "ipv4_prefix_length": 28, "tags": ["other"] } ]
}
JSON
}
# No peers configured: each host registers in the store's membership and
# peers with the hosts it finds there, at start or as they join.
# cluster.dead_after: host 1 refreshes its record every 3.5 s, longer than
# host 2's 3 s: host 2 must wait host 1's 14 s, not count it dead between
# refreshes.
host_conf 1 198.18.61.1 "" 14
host_conf 2 198.18.61.2 "" 3

start_host() {
	"$NETCRAVED" -f -c "$T/h$1/conf.json" >> "$T/h$1/log" 2>&1 &
	eval PID$1=\$!
	wait_for 10 curl -sf --unix-socket "$T/h$1/plugin.sock" -X POST \
	    http://localhost/Plugin.Activate -o /dev/null
}
check "host 1 netcraved starts" start_host 1
bgpd_pid() { cat "$T/h$1/run/frr/bgpd.pid" 2>/dev/null; }
check "host 1's bgpd runs" wait_for 20 sh -c "[ -n \"\$(cat '$T/h1/run/frr/bgpd.pid' 2>/dev/null)\" ]"
pid_before=$(bgpd_pid 1)
# The cluster's keys (the store's records are sealed with them) go to host 2.
mkdir -p "$T/h2/state" && chmod 0700 "$T/h2/state"
cp -a "$T/h1/state/keys" "$T/h2/state/keys"
check "host 2 netcraved starts on the same database" start_host 2
check "host 2 peers with host 1 from the membership at start" wait_for 10 \
    grep -q "neighbor 198.18.61.1 peer-group" "$T/h2/run/frr/frr.conf"
check "host 1 learns that host 2 joined" wait_for 10 grep -q \
    "cluster: host 198.18.61.2 joined" "$T/h1/log"
# (frr.conf is written just after the log line: waited for, not raced.)
check "host 1's frr.conf now names host 2" wait_for 5 grep -q \
    "neighbor 198.18.61.2 peer-group" "$T/h1/run/frr/frr.conf"

# call N PATH BODY: as dockerd posts to a plugin.
call() {
	PLUGIN_SOCK=$T/h$1/plugin.sock plugin_call "$2" "$3"
}

r=$(call 1 /NetworkDriver.GetCapabilities '')
check "clustering on: ConnectivityScope global, Scope local" \
    contains "$r" '200 {"Scope":"local","ConnectivityScope":"global"}'

# WireGuard: what the kernel has, asked independently of netcraved.
if [ -d /sys/module/wireguard ] || modprobe -n wireguard 2>/dev/null; then
	wg=yes
else
	wg=no
fi
pair_listed() { "$NETCRAVECTL" -s "$T/h1/control.sock" status 2>&1 | grep -q "198.18.61.2 UNENCRYPTED"; }
[ "$wg" = no ] && wait_for 10 pair_listed
out=$("$NETCRAVECTL" -s "$T/h1/control.sock" status 2>&1)
if [ "$wg" = no ]; then
	check "no WireGuard here: start-up warns" grep -q \
	    "traffic between hosts is not encrypted" "$T/h1/log"
	check "status: encryption none" contains "$out" "encryption       none"
	check "status: the host pair is marked unencrypted" contains "$out" \
	    "host pair        198.18.61.1 <-> 198.18.61.2 UNENCRYPTED"
else
	echo "ok - skipped: WireGuard is present here; the unencrypted report is not reachable"
fi
check "status lists the FRR children" contains "$out" "frr-bgpd"

# The BGP session, as bgpd itself reports it.
established() {
	"$FRR/../../bin/vtysh" --vty_socket "$T/h$1/run/frr" \
	    -c "show bgp neighbors $2 json" 2>/dev/null | grep -q '"bgpState":"Established"'
}
check "host 1 and host 2 reach Established over iBGP" wait_for 60 established 1 198.18.61.2
check "host 1 added host 2 to its running bgpd (no restart: same pid)" \
    [ "$(bgpd_pid 1)" = "$pid_before" ]
check "bgpd took every command netcraved sent it" sh -c \
    "! grep -q 'bgpd refused\\|bgpd.s vty' '$T/h1/log' '$T/h2/log'"

# A network on each host, as dockerd creates one: RequestPool, RequestAddress
# (the gateway), CreateNetwork.
# net N: prints the pool host N got.
net() {
	_id=${2:-$1}
	_o={}
	[ -n "${3:-}" ] && _o='{"netcrave.tag":"'"$3"'"}'
	_r=$(call "$1" /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":'"$_o"',"V6":false}')
	_pool=$(printf '%s' "$_r" | sed -n 's/.*"Pool":"\([^"]*\)".*/\1/p')
	printf '%s' "$_r" | sed -n 's/.*"PoolID":"\([^"]*\)".*/\1/p' > "$T/poolid$_id"
	# dockerd asks for the gateway address next.
	_r=$(call "$1" /IpamDriver.RequestAddress '{"PoolID":"'"$(cat "$T/poolid$_id")"'","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}')
	_gw=$(printf '%s' "$_r" | sed -n 's/.*"Address":"\([^"/]*\)\/.*/\1/p')
	_r=$(call "$1" /NetworkDriver.CreateNetwork '{"NetworkID":"'"${INSTANCE}"'net'"$_id"'","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{}},"IPv4Data":[{"AddressSpace":"netcrave-local","Gateway":"'"$_gw"'/28","Pool":"'"$_pool"'"}],"IPv6Data":[]}')
	case "$_r" in "200 {}") echo "$_pool" ;; *) echo "CreateNetwork: $_r" >&2 ;; esac
}
t0=$(date +%s%N)
pool1=$(net 1)
pool2=$(net 2)
check "host 1: a pool and its network ($pool1)" [ -n "$pool1" ]
check "host 2: a pool and its network ($pool2)" [ -n "$pool2" ]
check "the shared store keeps the pools cluster-unique" [ "$pool1" != "$pool2" ]
gw() { printf '%s' "$1" | awk -F'[./]' '{ printf "%s.%s.%s.%d", $1, $2, $3, $4 + 1 }'; }
learned() { ip -n "$1" route show "$2" | grep -q "via $3"; }
check "host 2 learns $pool1 via 198.18.61.1 (BGP)" wait_for 30 learned "$R2" "$pool1" 198.18.61.1
echo "# host 1's new network routable on host 2 after $(( ($(date +%s%N) - t0) / 1000000 )) ms (CreateNetwork to kernel route, 100 ms polls)"
check "host 1 learns $pool2 via 198.18.61.2 (BGP)" wait_for 30 learned "$R1" "$pool2" 198.18.61.2
# Each host follows the other's networks through the store's change log: its
# tag policy admits their pools as it admits its own networks of the tag.
policy_knows() { ip netns exec "$1" nft list table inet "${INSTANCE}h$2" 2>/dev/null | grep -q "daddr $3"; }
check "host 1's tag policy admits host 2's pool $pool2" wait_for 10 policy_knows "$R1" 1 "$pool2"
check "host 2's tag policy admits host 1's pool $pool1" wait_for 10 policy_knows "$R2" 2 "$pool1"

# An endpoint on each network, joined as dockerd joins a container: the
# address from RequestAddress, CreateEndpoint, Join; then the SrcName veth end
# moved into the container's namespace, named from DstPrefix, addressed, and
# routed by the Join answer's Gateway.
# container N NETWORK ENDPOINT NETNS POOLID: a container on host N, joined as
# dockerd joins one; prints its address.  endpoint N: on host N's network.
container() {
	_ns=$4
	ip netns add "$_ns"
	_r=$(call "$1" /IpamDriver.RequestAddress '{"PoolID":"'"$5"'","Address":"","Options":{}}')
	_addr=$(printf '%s' "$_r" | sed -n 's/.*"Address":"\([^"]*\)".*/\1/p')
	call "$1" /NetworkDriver.CreateEndpoint '{"NetworkID":"'"$2"'","EndpointID":"'"$3"'","Interface":{"Address":"'"$_addr"'","AddressIPv6":"","MacAddress":""},"Options":{}}' >/dev/null
	_r=$(call "$1" /NetworkDriver.Join '{"NetworkID":"'"$2"'","EndpointID":"'"$3"'","SandboxKey":"/var/run/netns/'"$_ns"'","Options":{}}')
	_src=$(printf '%s' "$_r" | sed -n 's/.*"SrcName":"\([^"]*\)".*/\1/p')
	_gw=$(printf '%s' "$_r" | sed -n 's/.*"Gateway":"\([^"]*\)".*/\1/p')
	ip link set "$_src" netns "$_ns" &&
	ip -n "$_ns" link set "$_src" name eth0 &&
	ip -n "$_ns" addr add "$_addr" dev eth0 &&
	ip -n "$_ns" link set eth0 up &&
	ip -n "$_ns" link set lo up &&
	ip -n "$_ns" route add default via "$_gw" &&
	echo "${_addr%/*}"
}
endpoint() {
	container "$1" "${INSTANCE}net$1" "${INSTANCE}ep$1" "${INSTANCE}c$1" \
	    "$(cat "$T/poolid$1")"
}
c1=$(endpoint 1)
c2=$(endpoint 2)
check "container on host 1 joined ($c1)" [ -n "$c1" ]
check "container on host 2 joined ($c2)" [ -n "$c2" ]
check "the containers' addresses are distinct" [ "$c1" != "$c2" ]
check "host 2 routes to the container on host 1 over the underlay" sh -c \
    "ip -n '$R2' route get '$c1' | grep -q 'via 198.18.61.1'"
# Container to container across hosts, over the BGP-learned routes and
# through both hosts' tag policies; and to the other host's gateway.
check "container on host 1 pings the container on host 2 ($c2)" wait_for 10 \
    ip netns exec "${INSTANCE}c1" ping -c1 -W1 "$c2"
check "container on host 2 pings the container on host 1 ($c1)" \
    ip netns exec "${INSTANCE}c2" ping -c1 -W1 "$c1"
check "container on host 1 pings host 2's gateway ($(gw "$pool2"))" \
    ip netns exec "${INSTANCE}c1" ping -c1 -W1 "$(gw "$pool2")"
# The underlay itself is no network: its addresses do not reach containers.
check "host 2's underlay address cannot reach the container on host 1" \
    sh -c "! ip netns exec '$R2' ping -c1 -W1 '$c1' >/dev/null"
# Another tag on host 2 ("other": no egress, no ingress): its container and
# host 1's stay apart, though the underlay routes between them.
pool3=$(net 2 3 other)
check "host 2: a network of tag other ($pool3)" [ -n "$pool3" ]
c3=$(container 2 "${INSTANCE}net3" "${INSTANCE}ep3" "${INSTANCE}c3" "$(cat "$T/poolid3")")
check "container of tag other on host 2 joined ($c3)" [ -n "$c3" ]
check "host 1 learns $pool3 via 198.18.61.2 (BGP)" wait_for 30 learned "$R1" "$pool3" 198.18.61.2
check "host 1's ruleset admits host 2's $pool2, not $pool3" sh -c \
    "ip netns exec '$R1' nft list table inet '${INSTANCE}h1' | grep -q 'daddr $pool2 accept' &&
    ! ip netns exec '$R1' nft list table inet '${INSTANCE}h1' | grep -q '$pool3'"
check "container on host 1 cannot ping one of tag other on host 2 ($c3)" \
    sh -c "! ip netns exec '${INSTANCE}c1' ping -c2 -W1 '$c3' >/dev/null 2>&1"
check "the same-tag container on host 2 still answers" \
    ip netns exec "${INSTANCE}c1" ping -c1 -W1 "$c2"
# WireGuard between the hosts (cluster.wireguard auto): a wg-<instance> link
# in each routing namespace, the other host as its peer, host 2's pools routed
# over it, and the pair reported "wireguard".  Needs the kernel module.
if [ "$wg" = yes ]; then
	wgl1=wg-${INSTANCE}h1
	check "host 1 made $wgl1 in its routing namespace" \
	    ip -n "$R1" -d link show "$wgl1"
	check "the link is of kind wireguard" sh -c \
	    "ip -n '$R1' -d link show '$wgl1' | grep -q wireguard"
	check "host 1 routes host 2's $pool2 over $wgl1" wait_for 10 sh -c \
	    "ip -n '$R1' route get '$c2' | grep -q 'dev $wgl1'"
	check "status reports the pair wireguard" wait_for 10 sh -c \
	    "'$NETCRAVECTL' -s '$T/h1/control.sock' status | grep -q '198.18.61.2 wireguard'"
	check "container on host 1 pings host 2's container over WireGuard" \
	    ip netns exec "${INSTANCE}c1" ping -c1 -W1 "$c2"
	if command -v wg >/dev/null 2>&1; then
		check "wg(8): host 1's peer shook hands" sh -c \
		    "ip netns exec '$R1' wg show '$wgl1' latest-handshakes | awk '\$2 > 0' | grep -q ."
	fi
else
	echo "ok - skip: kernel lacks WireGuard (no wireguard module): the WireGuard path is not tested here"
	check "no wg link made without WireGuard" sh -c \
	    "! ip -n '$R1' link show 'wg-${INSTANCE}h1' >/dev/null 2>&1"
fi

# Dead host cleanup (cluster.dead_after, 14 s for host 1 as it says): host
# 1's netcraved stopped (SIGSTOP: its record is no longer refreshed, nothing
# is deleted) drops out of host 2's tag policy, so host 2's container no
# longer reaches host 1's; resumed, it refreshes its record and its networks
# are admitted again.
check "host 2 waited host 1's dead_after, not its own 3 s" sh -c \
    "! grep -q 'host 198.18.61.1 has not refreshed' '$T/h2/log'"
kill -STOP "$PID1"
t0=$(date +%s%N)
check "host 1 stopped: host 2's policy drops its pool $pool1" wait_for 25 \
    sh -c "! ip netns exec '$R2' nft list table inet '${INSTANCE}h2' | grep -q 'daddr $pool1'"
echo "# host 1 out of host 2's policy $(( ($(date +%s%N) - t0) / 1000000 )) ms after SIGSTOP (its dead_after 14 s)"
check "host 2 logs host 1 dead" grep -q \
    "cluster: host 198.18.61.1 has not refreshed its record for 14 s: dead" "$T/h2/log"
check "host 2 logs its networks out of the policy" grep -q \
    "network: host 198.18.61.1 dead: its 1 networks out of the tag policy" "$T/h2/log"
check "host 1 dead: host 2's container cannot reach host 1's" sh -c \
    "! ip netns exec '${INSTANCE}c2' ping -c1 -W1 '$c1' >/dev/null"
kill -CONT "$PID1"
check "host 1 resumed: host 2's policy admits $pool1 again" wait_for 10 \
    policy_knows "$R2" 2 "$pool1"
check "host 1 back: host 2's container reaches host 1's again" wait_for 10 \
    ip netns exec "${INSTANCE}c2" ping -c1 -W1 "$c1"
check "host 1 did not count host 2 dead for its own stop" sh -c \
    "! grep -q 'host 198.18.61.2 has not refreshed' '$T/h1/log'"
# kill -9 host 1's netcraved: its FRR keeps the routes; a new netcraved takes
# over (the orphaned zebra and bgpd are replaced).
kill -KILL "$PID1"
wait "$PID1" 2>/dev/null
PID1=
check "after kill -9: host 2 still routes to host 1's network" learned "$R2" "$pool1" 198.18.61.1
check "host 1 netcraved starts again" start_host 1
bgpd_running() { "$NETCRAVECTL" -s "$T/h1/control.sock" status 2>/dev/null | grep -q "frr-bgpd *ready"; }
check "host 1: its new bgpd runs" wait_for 30 bgpd_running
check "host 1 and host 2 are Established again" wait_for 60 established 1 198.18.61.2
# Announced again: the new netcraved builds only host 1's own networks (host
# 2's records in the shared store are host 2's: followed, never built here).
check "host 2 routes to host 1's network again" wait_for 30 learned "$R2" "$pool1" 198.18.61.1
check "after the restart: container on host 2 pings the container on host 1" \
    wait_for 10 ip netns exec "${INSTANCE}c2" ping -c1 -W1 "$c1"
nets1=$("$NETCRAVECTL" -s "$T/h1/control.sock" networks 2>&1)
check "host 1 lists its own network" contains "$nets1" "${INSTANCE}net1"
check "host 1 does not build host 2's network" sh -c \
    "! printf '%s' '$nets1' | grep -q '${INSTANCE}net2'"
# Docker's IDs are random: link names take their first 8 characters, so
# these differ there from the networks above.
# ---- One network by name across both hosts (netcrave.network).
# snet N: RequestPool for "web" on host N, its gateway, CreateNetwork; prints
# the pool, leaves the PoolID in $T/spool$N and the gateway in $T/sgw$N.
snet() {
	_r=$(call "$1" /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{"netcrave.network":"web"},"V6":false}')
	_pool=$(printf '%s' "$_r" | sed -n 's/.*"Pool":"\([^"]*\)".*/\1/p')
	printf '%s' "$_r" | sed -n 's/.*"PoolID":"\([^"]*\)".*/\1/p' > "$T/spool$1"
	_r=$(call "$1" /IpamDriver.RequestAddress '{"PoolID":"'"$(cat "$T/spool$1")"'","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}')
	printf '%s' "$_r" | sed -n 's/.*"Address":"\([^"/]*\)\/.*/\1/p' > "$T/sgw$1"
	_r=$(call "$1" /NetworkDriver.CreateNetwork '{"NetworkID":"web'"$1${INSTANCE}"'","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{"netcrave.network":"web"}},"IPv4Data":[{"AddressSpace":"netcrave-local","Gateway":"'"$(cat "$T/sgw$1")"'/28","Pool":"'"$_pool"'"}],"IPv6Data":[]}')
	case "$_r" in "200 {}") echo "$_pool" ;; *) echo "CreateNetwork: $_r" >&2 ;; esac
}
spool1=$(snet 1)
spool2=$(snet 2)
check "named network: host 1 has a pool ($spool1)" [ -n "$spool1" ]
check "named network: host 2 joined the same subnet ($spool2)" [ "$spool1" = "$spool2" ]
check "named network: one PoolID on both hosts" [ "$(cat "$T/spool1")" = "$(cat "$T/spool2")" ]
check "named network: it is none of the per-host pools" sh -c "[ '$spool1' != '$pool1' ] && [ '$spool1' != '$pool2' ]"
check "named network: distinct gateways ($(cat "$T/sgw1"), $(cat "$T/sgw2"))" \
    sh -c "[ -n \"\$(cat '$T/sgw1')\" ] && [ \"\$(cat '$T/sgw1')\" != \"\$(cat '$T/sgw2')\" ]"
r=$(call 1 /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{"netcrave.network":"web","netcrave.tag":"bulk"},"V6":false}')
check "named network: the name with another tag is refused (409)" contains "$r" "409 "
r=$(call 1 /NetworkDriver.CreateNetwork '{"NetworkID":"webx'"${INSTANCE}"'","Options":{"com.docker.network.generic":{"netcrave.network":"other"}},"IPv4Data":[{"AddressSpace":"netcrave-local","Gateway":"'"$(cat "$T/sgw1")"'/28","Pool":"'"$spool1"'"}],"IPv6Data":[]}')
check "named network: -o netcrave.network naming another network is refused (400)" contains "$r" "400 "
check "named network: pg holds one name record and a reference per host" \
    [ "$(pg_psql "SELECT count(*) FROM netcrave_records WHERE NOT deleted AND kind IN ('net.shared', 'net.shared.ref')")" = 3 ]

# sendpoint N: a container on host N's member of "web".
sendpoint() {
	container "$1" "web$1${INSTANCE}" "sep$1${INSTANCE}" "${INSTANCE}s$1" \
	    "$(cat "$T/spool$1")"
}
s1=$(sendpoint 1)
s2=$(sendpoint 2)
check "named network: container on host 1 ($s1)" [ -n "$s1" ]
check "named network: container on host 2 ($s2)" [ -n "$s2" ]
check "named network: the two containers' addresses are distinct" [ "$s1" != "$s2" ]
check "named network: both in the one subnet" sh -c \
    "[ '${s1%.*}' = '${spool1%.*}' ] && [ '${s2%.*}' = '${spool1%.*}' ]"
check "host 2 learns $s1/32 via 198.18.61.1 (the address, over BGP)" wait_for 30 learned "$R2" "$s1" 198.18.61.1
check "host 1 learns $s2/32 via 198.18.61.2 (the address, over BGP)" wait_for 30 learned "$R1" "$s2" 198.18.61.2
check "named network: container on host 1 pings the one on host 2 ($s2)" wait_for 10 \
    ip netns exec "${INSTANCE}s1" ping -c1 -W1 "$s2"
check "named network: container on host 2 pings the one on host 1 ($s1)" wait_for 10 \
    ip netns exec "${INSTANCE}s2" ping -c1 -W1 "$s1"
check "named network: container on host 1 pings its own gateway" \
    ip netns exec "${INSTANCE}s1" ping -c1 -W1 "$(cat "$T/sgw1")"

# 200 concurrent RequestAddress on one named pool, 100 from each host at once.
r=$(call 1 /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{"netcrave.network":"bulk","netcrave.tag":"bulk"},"V6":false}')
bulk1=$(printf '%s' "$r" | sed -n 's/.*"PoolID":"\([^"]*\)".*/\1/p')
r=$(call 2 /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{"netcrave.network":"bulk","netcrave.tag":"bulk"},"V6":false}')
bulk2=$(printf '%s' "$r" | sed -n 's/.*"PoolID":"\([^"]*\)".*/\1/p')
check "bulk: both hosts share one /24 pool ($bulk1)" sh -c "[ -n '$bulk1' ] && [ '$bulk1' = '$bulk2' ]"
mkdir -p "$T/bulk"
burst() {
	for _i in $(seq 100); do
		curl -s --unix-socket "$T/h$1/plugin.sock" -o "$T/bulk/$1.$_i" \
		    -X POST --data-binary '{"PoolID":"'"$bulk1"'","Address":"","Options":{}}' \
		    http://localhost/IpamDriver.RequestAddress &
	done
	wait
}
t0=$(date +%s%N)
burst 1 & b1=$!
burst 2 & b2=$!
wait "$b1" "$b2"
echo "# 200 concurrent RequestAddress from two hosts on one pool: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for _f in "$T"/bulk/*; do
	sed -n 's/.*"Address":"\([^"/]*\)\/.*/\1/p' "$_f"; echo
done | grep . | sort > "$T/bulk.all"
check "bulk: 200 addresses handed out ($(wc -l < "$T/bulk.all"))" [ "$(wc -l < "$T/bulk.all")" = 200 ]
check "bulk: no address handed out twice" [ -z "$(uniq -d "$T/bulk.all")" ]
check "bulk: pg holds 200 address records for the pool" [ "$(pg_psql "SELECT count(*) FROM netcrave_records WHERE NOT deleted AND kind = 'ipam.address' AND key LIKE '$bulk1 %'")" = 200 ]

# The same name asked for on both hosts at once: one wins the name, the other
# gives its prefix back and joins.
race() {
	curl -s --unix-socket "$T/h$1/plugin.sock" -o "$T/race$1" -X POST \
	    --data-binary '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{"netcrave.network":"race","netcrave.tag":"bulk"},"V6":false}' \
	    http://localhost/IpamDriver.RequestPool
}
race 1 & b1=$!
race 2 & b2=$!
wait "$b1" "$b2"
race1=$(sed -n 's/.*"PoolID":"\([^"]*\)".*/\1/p' "$T/race1")
race2=$(sed -n 's/.*"PoolID":"\([^"]*\)".*/\1/p' "$T/race2")
check "a name asked for on both hosts at once is one pool ($race1, $race2)" \
    sh -c "[ -n '$race1' ] && [ '$race1' = '$race2' ]"
echo "# the race's loser: $(cat "$T"/h1/log "$T"/h2/log | grep -c 'was created by another host first; joining') host(s) gave a pool back and joined, $(cat "$T"/h1/log "$T"/h2/log | grep -c 'ipam: pool .* joined as network race') joined"
check "... and only that pool holds a prefix in pg" [ "$(pg_psql "SELECT count(*) FROM netcrave_records WHERE NOT deleted AND kind = 'ipam.pool' AND key LIKE '%/24#%'")" = 2 ]

# Deleting on host 1 keeps the network on host 2; deleting there too frees it.
call 1 /NetworkDriver.Leave '{"NetworkID":"web1'"${INSTANCE}"'","EndpointID":"sep1'"${INSTANCE}"'"}' >/dev/null
call 1 /NetworkDriver.DeleteEndpoint '{"NetworkID":"web1'"${INSTANCE}"'","EndpointID":"sep1'"${INSTANCE}"'"}' >/dev/null
call 1 /IpamDriver.ReleaseAddress '{"PoolID":"'"$(cat "$T/spool1")"'","Address":"'"$s1"'"}' >/dev/null
call 1 /IpamDriver.ReleaseAddress '{"PoolID":"'"$(cat "$T/spool1")"'","Address":"'"$(cat "$T/sgw1")"'"}' >/dev/null
r=$(call 1 /NetworkDriver.DeleteNetwork '{"NetworkID":"web1'"${INSTANCE}"'"}')
check "named network: DeleteNetwork on host 1" contains "$r" "200 {}"
r=$(call 1 /IpamDriver.ReleasePool '{"PoolID":"'"$(cat "$T/spool1")"'"}')
check "named network: ReleasePool on host 1" contains "$r" "200 {}"
not_learned() { ! learned "$@"; }
check "host 2 no longer routes $s1 via host 1" wait_for 30 not_learned "$R2" "$s1" 198.18.61.1
check "host 1 no longer routes the named subnet to a bridge of its own" sh -c \
    "! ip -n '$R1' route show '$spool1' | grep -q 'proto static'"
check "host 1's own network survives: container on host 2 pings the one on host 1 ($c1)" \
    ip netns exec "${INSTANCE}c2" ping -c1 -W1 "$c1"
r=$(call 2 /IpamDriver.RequestAddress '{"PoolID":"'"$(cat "$T/spool2")"'","Address":"","Options":{}}')
check "named network: host 2's pool still hands out addresses" contains "$r" '200 {"Address":"'"${spool1%.*}"
check "named network: host 2's container still reaches its gateway" \
    ip netns exec "${INSTANCE}s2" ping -c1 -W1 "$(cat "$T/sgw2")"
check "named network: the name and host 2's reference stay in pg" [ "$(pg_psql "SELECT count(*) FROM netcrave_records WHERE NOT deleted AND kind IN ('net.shared', 'net.shared.ref') AND key LIKE 'web/%'")" = 2 ]
check "named network: host 1 still follows the pool for host 2" sh -c \
    "'$NETCRAVECTL' -s '$T/h1/control.sock' pools 2>&1 | grep -q '$spool1'"
r=$(call 2 /NetworkDriver.DeleteNetwork '{"NetworkID":"web2'"${INSTANCE}"'"}')
check "named network: DeleteNetwork on host 2" contains "$r" "200 {}"
r=$(call 2 /IpamDriver.ReleasePool '{"PoolID":"'"$(cat "$T/spool2")"'"}')
check "named network: ReleasePool on host 2 (the last)" contains "$r" "200 {}"
check "named network: the name, references and pool are gone from pg" [ "$(pg_psql "SELECT count(*) FROM netcrave_records WHERE NOT deleted AND ((kind IN ('net.shared', 'net.shared.ref') AND key LIKE 'web/%') OR (kind = 'ipam.pool' AND key = '$(cat "$T/spool2")'))")" = 0 ]
check "named network: host 1 dropped the released pool" wait_for 10 sh -c \
    "! '$NETCRAVECTL' -s '$T/h1/control.sock' pools 2>&1 | grep -q '$spool1'"
# The subnet is free again: a new name takes it on host 1.
r=$(call 1 /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"'"$spool1"'","SubPool":"","Options":{"netcrave.network":"again"},"V6":false}')
check "named network: its subnet can be allocated again" contains "$r" '"Pool":"'"$spool1"'"'

# ---- A named pool let go under races and store failures: never a name
# without its pool, never a pool nobody can free.
named() {	# named HOST NAME: RequestPool for NAME on host HOST
	call "$1" /IpamDriver.RequestPool '{"AddressSpace":"netcrave-local","Pool":"","SubPool":"","Options":{"netcrave.network":"'"$2"'"},"V6":false}'
}
poolid() { printf '%s' "$1" | sed -n 's/.*"PoolID":"\([^"]*\)".*/\1/p'; }
live() {	# live KIND KEY-PATTERN: how many live records pg holds
	pg_psql "SELECT count(*) FROM netcrave_records WHERE NOT deleted AND kind = '$1' AND key LIKE '$2'"
}
pools0=$(live ipam.pool %); nets0=$(live ipam.net %)
# Both hosts release their last network on a name at the same moment, each
# having heard of the other's reference: the last release must still free it.
leaked=0
for i in 1 2 3 4 5; do
	p1=$(poolid "$(named 1 rel$i)")
	p2=$(poolid "$(named 2 rel$i)")
	[ -n "$p1" ] && [ "$p1" = "$p2" ] || fail "release race $i: both hosts on one pool ($p1, $p2)"
	# both hosts hear of both references (poll_ms 100)
	wait_for 5 sh -c "grep -q 'pool $p1 joined as network rel$i' '$T/h1/log' '$T/h2/log'"
	sleep 0.5
	call 1 /IpamDriver.ReleasePool '{"PoolID":"'"$p1"'"}' >"$T/rel1" & b1=$!
	call 2 /IpamDriver.ReleasePool '{"PoolID":"'"$p1"'"}' >"$T/rel2" & b2=$!
	wait "$b1" "$b2"
	grep -q '^200 {}' "$T/rel1" && grep -q '^200 {}' "$T/rel2" ||
	    fail "release race $i: both releases answered 200 {} ($(cat \
	    "$T/rel1"); $(cat "$T/rel2"))"
	[ "$(live net.shared "rel$i/%")$(live ipam.pool "$p1")" = 00 ] ||
	    leaked=$((leaked + 1))
done
check "named pool: released on both hosts at once, 5 times: the name and pool gone every time ($leaked leaked)" [ "$leaked" = 0 ]
check "... and every prefix claim with them" [ "$(live ipam.net %)" = "$nets0" ]

# Store failures injected by a trigger that refuses one kind of record.
pg_psql "CREATE FUNCTION nc_refuse() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN RAISE EXCEPTION 'injected failure for %', NEW.key; END\$\$" >/dev/null
refuse() {	# refuse KIND KEY-PATTERN
	pg_psql "DROP TRIGGER IF EXISTS nc_refuse ON netcrave_records;
	    CREATE TRIGGER nc_refuse BEFORE INSERT OR UPDATE ON netcrave_records
	    FOR EACH ROW WHEN (NEW.kind = '$1' AND NEW.key LIKE '$2' AND
	    NOT NEW.deleted) EXECUTE FUNCTION nc_refuse()" >/dev/null
}
allow() { pg_psql "DROP TRIGGER IF EXISTS nc_refuse ON netcrave_records" >/dev/null; }
# fails KIND PATTERN NAME WHAT: RequestPool NAME fails at KIND, leaves
# nothing behind, and the name can be made at once afterwards.
fails() {
	refuse "$1" "$2"
	r=$(named 1 "$3")
	allow
	check "named pool, $4 refused: RequestPool fails, saying why" contains "$r" "injected failure"
	check "... leaving no name, no pool record, no prefix claim" [ \
	    "$(live net.shared "$3/%") $(live ipam.pool %) $(live ipam.net %)" = "0 $pools0 $nets0" ]
	t0=$(date +%s)
	r=$(named 1 "$3")
	check "... and the name is made again at once ($(( $(date +%s) - t0 )) s)" contains "$r" '"PoolID"'
	call 1 /IpamDriver.ReleasePool '{"PoolID":"'"$(poolid "$r")"'"}' >/dev/null
	check "... and released" [ "$(live net.shared "$3/%") $(live ipam.pool %)" = "0 $pools0" ]
	check "... leaving no reference" [ "$(live net.shared.ref "$3/%")" = 0 ]
}
fails net.shared.ref "failref/%" failref "this host's reference"
fails net.shared "failname/%" failname "the name"
fails ipam.pool "%" failpool "the pool record"

# A new name never exists without a reference: were it so, another host's
# last release (seeing no reference) could delete the name and pool while
# this host answers Docker with that PoolID.  The trigger refuses a name
# written before any reference to it.
pg_psql "CREATE FUNCTION nc_ref_first() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM netcrave_records WHERE
    kind = 'net.shared.ref' AND NOT deleted AND
    key LIKE NEW.key || ' %') THEN
    RAISE EXCEPTION 'name % without a reference', NEW.key; END IF;
    RETURN NEW; END\$\$;
    CREATE TRIGGER nc_ref_first BEFORE INSERT OR UPDATE ON netcrave_records
    FOR EACH ROW WHEN (NEW.kind = 'net.shared' AND NOT NEW.deleted)
    EXECUTE FUNCTION nc_ref_first()" >/dev/null
r=$(named 1 reffirst)
pg_psql "DROP TRIGGER nc_ref_first ON netcrave_records;
    DROP FUNCTION nc_ref_first" >/dev/null
check "named pool: this host's reference is written before the name" \
    contains "$r" '"PoolID"'
call 1 /IpamDriver.ReleasePool '{"PoolID":"'"$(poolid "$r")"'"}' >/dev/null
check "... and released: no name, reference or pool left" [ "$(live net.shared \
    "reffirst/%") $(live net.shared.ref "reffirst/%") $(live ipam.pool %)" = \
    "0 0 $pools0" ]

# A RequestPool of a name while this host's last release of it runs (its
# name's delete slowed by a trigger): it must not join the pool being
# deleted, but wait and make the name afresh.
pg_psql "CREATE FUNCTION nc_slow() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN PERFORM pg_sleep(1); RETURN NEW; END\$\$;
    CREATE TRIGGER nc_slow BEFORE UPDATE ON netcrave_records
    FOR EACH ROW WHEN (NEW.kind = 'net.shared' AND NEW.key LIKE 'dropjoin/%'
    AND NEW.deleted) EXECUTE FUNCTION nc_slow()" >/dev/null
p0=$(poolid "$(named 1 dropjoin)")
call 1 /IpamDriver.ReleasePool '{"PoolID":"'"$p0"'"}' >"$T/reldj" & b1=$!
sleep 0.4
r=$(named 1 dropjoin)
wait "$b1"
pg_psql "DROP TRIGGER nc_slow ON netcrave_records; DROP FUNCTION nc_slow" >/dev/null
p1=$(poolid "$r")
check "named pool, joined during its drop: the release answered" grep -q '^200 {}' "$T/reldj"
check "... the RequestPool got a pool ($p1)" [ -n "$p1" ]
check "... whose record lives in pg (not the dropped $p0)" [ "$(live ipam.pool "$p1")" = 1 ]
check "... named, with this host's reference" [ "$(live net.shared \
    "dropjoin/%") $(live net.shared.ref "dropjoin/%")" = "1 1" ]
call 1 /IpamDriver.ReleasePool '{"PoolID":"'"$p1"'"}' >/dev/null
check "... and released: nothing left" [ "$(live net.shared "dropjoin/%" \
    ) $(live ipam.pool %) $(live ipam.net %)" = "0 $pools0 $nets0" ]

# Undoing a RequestPool whose name failed, the pool record's delete fails
# too: Docker had its error and sends no ReleasePool, so the daemon deletes
# it again (1 s, then doubling) until the store takes it.
pg_psql "CREATE FUNCTION nc_nodel() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN RAISE EXCEPTION 'injected delete failure for %', NEW.key;
    END\$\$;
    CREATE TRIGGER nc_nodel BEFORE UPDATE ON netcrave_records
    FOR EACH ROW WHEN (NEW.kind = 'ipam.pool' AND NEW.deleted)
    EXECUTE FUNCTION nc_nodel()" >/dev/null
refuse net.shared "undodel/%"
r=$(named 1 undodel)
allow
check "named pool, name and then the pool's delete refused: RequestPool fails" \
    contains "$r" "injected failure"
check "... the pool record stays while its delete is refused" \
    [ "$(live ipam.pool %)" = $((pools0 + 1)) ]
check "... the daemon tries the delete again" wait_for 5 \
    grep -q "deleting it again in 2 s" "$T/h1/log"
pg_psql "DROP TRIGGER nc_nodel ON netcrave_records; DROP FUNCTION nc_nodel" >/dev/null
pools_back() { [ "$(live ipam.pool %) $(live ipam.net %)" = "$pools0 $nets0" ]; }
check "... and once the store takes it, the pool and its prefix claim go" \
    wait_for 10 pools_back
r=$(named 1 undodel)
check "... and the name is made again" contains "$r" '"PoolID"'
call 1 /IpamDriver.ReleasePool '{"PoolID":"'"$(poolid "$r")"'"}' >/dev/null

pg_psql "DROP FUNCTION nc_refuse" >/dev/null
finish
