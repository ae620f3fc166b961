#!/bin/bash
# t_network_restart: netcrave networks survive netcraved and dockerd.  kill -9
# netcraved with containers running: they keep their connectivity (the links stay
# in the kernel), and after the restart new containers get fresh addresses; an
# orphan link with netcrave's alias is removed by the reconcile at start; after a
# dockerd restart, restarted containers join again.
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_need_netcraved
e2e_start_dockerd
e2e_import_busybox

# The netns VRF backend always (l3mdev has t_network_l3mdev.sh).
: "${E2E_VRF_BACKEND:=netns}"
E2E_NETCRAVED_EXTRA='"default_tag": "web",
	"scopes": [ { "name": "e2e", "ipv4_network": "198.18.0.0/16", "scopes": [
	  { "name": "web", "ipv4_network": "198.18.0.0/20", "ipv4_prefix_length": 24,
	    "tags": ["web"], "egress": ["db"] },
	  { "name": "db", "ipv4_network": "198.18.16.0/20", "ipv4_prefix_length": 24,
	    "tags": ["db"], "ingress": ["web"] } ] } ]'
e2e_start_netcraved

netcreate() { dk network create -d "$PLUGIN" --ipam-driver "$PLUGIN" --ipam-opt netcrave.tag="$2" "$1"; }
ip4() { dk inspect "$1" -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}"; }
ping_ok() { dk exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1; }
rns() { ip netns exec "_$E2E_INSTANCE" "$@"; }

netcreate web1 web >/dev/null || e2e_fail "network create web1"
netcreate db1 db >/dev/null || e2e_fail "network create db1"
# The namespace of web's bridge: its VRF's (netns backend), else the routing one.
bns_name="_$E2E_INSTANCE-vrf-web"
[ -e "/run/netns/$bns_name" ] || bns_name="_$E2E_INSTANCE"
bns() { ip netns exec "$bns_name" "$@"; }
dk run -d --name cw --restart always --network web1 local/busybox sleep 600 >/dev/null
dk run -d --name cd --restart always --network db1 local/busybox sleep 600 >/dev/null
w=$(ip4 cw web1) d=$(ip4 cd db1)
ping_ok cw "$d" || e2e_fail "web -> db before the restart"

e2e_kill9_netcraved
ping_ok cw "$d" || e2e_fail "web -> db while netcraved is down"
# An orphan: a link with netcrave's alias that no record owns.
rns ip link add "${E2E_INSTANCE}o" type veth peer name "${E2E_INSTANCE}p"
rns ip link set "${E2E_INSTANCE}o" alias "netcrave:$E2E_INSTANCE:ep:0rphan"
# A VRF namespace of a tag without networks is an orphan too.
ip netns add "_$E2E_INSTANCE-vrf-ghost"
# A bridge of a known network lost while netcraved was away comes back.
br=$(bns ip -o link show type bridge | grep "netcrave:$E2E_INSTANCE:net:" | head -1 | awk -F': ' '{print $2}')
[ -n "$br" ] || e2e_fail "no bridge with netcrave's alias"
bns ip link delete "$br"
e2e_start_netcraved
e2e_wait 5 sh -c "! ip netns exec _$E2E_INSTANCE ip link show ${E2E_INSTANCE}o" ||
    e2e_fail "the orphan link was not removed at start"
ping_ok cw "$d" || e2e_fail "web -> db after the restart"
ping_ok cd "$w" && e2e_fail "db -> web passes after the restart (policy lost)"
n=$(dk run --rm --network web1 local/busybox ip -4 -o addr show eth0 | awk '{print $4}')
[ -n "$n" ] && [ "${n%/*}" != "$w" ] || e2e_fail "new container got $n, the running one has $w"
grep -q "removing orphan link ${E2E_INSTANCE}o" "$E2E_D/netcraved.log" ||
    e2e_fail "the orphan removal is not logged"
[ ! -e "/run/netns/_$E2E_INSTANCE-vrf-ghost" ] ||
    e2e_fail "the orphan VRF namespace _$E2E_INSTANCE-vrf-ghost was not removed"
e2e_log "kill -9 and restart: connectivity kept, orphan removed, fresh addresses ($br kept)"

# The rtnetlink watcher, netcraved running: a bridge deleted is made again and
# keeps its endpoints; a stray link with netcrave's alias is removed; an
# endpoint's link deleted is noticed and logged.
br=$(bns ip -o link show type bridge | grep "netcrave:$E2E_INSTANCE:net:" | head -1 | awk -F': ' '{print $2}')
bns ip link delete "$br"
e2e_wait 5 ping_ok cw "$d" || e2e_fail "the watcher did not make bridge $br again"
grep -q "bridge $br vanished" "$E2E_D/netcraved.log" || e2e_fail "the lost bridge is not logged"
# A VRF's link to the routing namespace deleted is made again (netns backend).
vl=$(rns ip -o link show | grep "alias netcrave:$E2E_INSTANCE:vrf:web" | awk -F': ' '{print $2}' | cut -d@ -f1)
[ -n "$vl" ] || e2e_fail "no link with alias netcrave:$E2E_INSTANCE:vrf:web"
rns ip link delete "$vl"
e2e_wait 5 ping_ok cw "$d" || e2e_fail "the watcher did not make the vrf link $vl again"
grep -q "vrf link $vl vanished" "$E2E_D/netcraved.log" || e2e_fail "the lost vrf link is not logged"
ping_ok cd "$w" && e2e_fail "db -> web passes after the vrf link was made again"
e2e_log "watcher: vrf link $vl made again, policy kept"
rns ip link add "${E2E_INSTANCE}s" type veth peer name "${E2E_INSTANCE}t"
rns ip link set "${E2E_INSTANCE}s" alias "netcrave:$E2E_INSTANCE:ep:stray"
# (The kernel announces an alias change only for a link that is up.)
rns ip link set "${E2E_INSTANCE}s" up
e2e_wait 5 sh -c "! ip netns exec _$E2E_INSTANCE ip link show ${E2E_INSTANCE}s" ||
    e2e_fail "the watcher did not remove a stray link"
dk run -d --name cx --network web1 local/busybox sleep 600 >/dev/null
peer=$(bns ip -o link show | grep "netcrave:$E2E_INSTANCE:ep:$(dk inspect cx -f '{{.NetworkSettings.Networks.web1.EndpointID}}')" |
    awk -F': ' '{print $2}' | cut -d@ -f1)
[ -n "$peer" ] || e2e_fail "no link for cx's endpoint"
bns ip link delete "$peer"
e2e_wait 5 grep -q "the link $peer of endpoint" "$E2E_D/netcraved.log" ||
    e2e_fail "the vanished endpoint link is not logged"
dk rm -f cx >/dev/null
e2e_log "watcher: bridge made again, stray link removed, lost endpoint link logged"

# dockerd restarts: the restart-policy containers come back and join again.
e2e_stop_pid "$E2E_DOCKERD_PID" dockerd 10
e2e_start_dockerd
e2e_wait 20 sh -c "[ \"\$($E2E_DOCKER -H unix://$E2E_D/docker.sock inspect -f '{{.State.Running}}' cw cd | sort -u)\" = true ]" ||
    e2e_fail "the containers did not come back after the dockerd restart"
w=$(ip4 cw web1) d=$(ip4 cd db1)
e2e_wait 5 ping_ok cw "$d" || e2e_fail "web -> db after the dockerd restart"
dk rm -f cw cd >/dev/null
dk network rm web1 db1 >/dev/null || e2e_fail "network rm after the dockerd restart"
left=$(e2e_links_ours | grep "netcrave:$E2E_INSTANCE:" |
    grep -vc "netcrave:$E2E_INSTANCE:uplink:")
[ "$left" = 0 ] || e2e_fail "$left netcrave links left"
[ "$(e2e_netns_ours | grep -c -- -vrf-)" = 0 ] ||
    e2e_fail "VRF namespaces left: $(e2e_netns_ours | grep -- -vrf-)"
e2e_log "PASS"
