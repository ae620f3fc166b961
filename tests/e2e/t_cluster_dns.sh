#!/bin/bash
# t_cluster_dns: in a cluster every host answers for every container (issue
# 10).  Host 1 is the usual e2e netcraved following a real dockerd; host 2 a
# second netcraved with no dockerd of its own (a second dockerd would need a
# mount namespace of its own for /run/docker/plugins).  Both share one store
# on a private PostgreSQL 15 and have clustering on.  A container started by
# dockerd on host 1 is answered by host 2's DNS (A and PTR), and stops being
# answered once it is removed; host 2 restarted still answers for it.  A
# container description host 2 reads makes only the records the container
# may own there (its label confined to its names), whatever host 1 claims.
# Host 1 stopped past cluster.dead_after is dead to host 2, which stops
# answering for its containers until host 1 refreshes its record again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../helpers/pg.sh"
e2e_init
e2e_need_netcraved
e2e_need dig
pg_available || e2e_skip "PostgreSQL 15 not found in $PG_BINDIR (postgresql-15)"
[ -x /usr/lib/frr/bgpd ] || e2e_skip "FRR is not installed (frr): clustering runs bgpd"
e2e_start_dockerd
e2e_import_busybox

pg_start "$E2E_D/pg" || e2e_fail "PostgreSQL does not start"
e2e_at_cleanup pg_stop

P1=$(shuf -i 20000-30000 -n 1)
P2=$(shuf -i 30001-40000 -n 1)
store='"store": { "backend": "pg", "host": "'$PG_SOCKDIR'", "port": "'$PG_PORT'",
	  "dbname": "netcrave", "user": "netcrave", "sslmode": "disable",
	  "poll_ms": 100 }'
scopes='"scopes": [ { "name": "cd", "ipv4_network": "198.19.128.0/20",
	  "ipv4_prefix_length": 24, "tags": ["default"] } ]'
E2E_NETCRAVED_EXTRA='"follower": { "docker_socket": "'$E2E_D/docker.sock'",
	  "network_driver": "bridge" },
	"dns": { "listen": ["127.0.0.1:'$P1'"] }, '"$store"',
	"cluster": { "enabled": true, "asn": 64710,
	  "host_address": "198.18.64.1", "dead_after": 3 }, '"$scopes"
e2e_start_netcraved

# Host 2: its own run and state dirs, the cluster's keys (the store's records
# are sealed with them), no dockerd.
H2=$E2E_D/h2
mkdir -p "$H2/run" "$H2/state"
chmod 0700 "$H2/run" "$H2/state"
cp -a "$E2E_D/state/keys" "$H2/state/keys"
cat >"$H2/netcraved.json" <<JSON
{
	"instance": "${E2E_INSTANCE}b",
	"paths": { "run_dir": "$H2/run", "state_dir": "$H2/state",
	  "plugin_socket": "$H2/plugin.sock", "control_socket": "$H2/control.sock" },
	"metrics": { "listen": "" },
	"follower": { "docker_socket": null },
	"dns": { "listen": ["127.0.0.1:$P2"], "gateway_port": 0 },
	$store,
	"cluster": { "enabled": true, "asn": 64710, "host_address": "198.18.64.2",
	  "dead_after": 3 },
	$scopes
}
JSON
H2_PID=
start_h2() {
	setsid "$NETCRAVED" -f -c "$H2/netcraved.json" </dev/null >>"$H2/log" 2>&1 &
	H2_PID=$!
	e2e_wait 15 curl -sf --unix-socket "$H2/plugin.sock" -X POST \
	    http://localhost/Plugin.Activate -o /dev/null ||
	    { cat "$H2/log"; e2e_fail "host 2's netcraved does not start"; }
}
e2e_at_cleanup 'e2e_stop_pid "$H2_PID" host2'
start_h2

Z=netcrave.internal.
q() { dig -p "$1" +norec +short +tries=1 +time=1 @127.0.0.1 "$2" "$3"; }
answers() { [ "$(q "$1" "$2" "$3")" = "$4" ]; }
nxdomain() { dig -p "$1" +norec +tries=1 +time=1 @127.0.0.1 "$2" "$3" | grep -q 'status: NXDOMAIN'; }

dk network create -d bridge --ipam-driver "$PLUGIN" cdnet >/dev/null ||
    e2e_fail "network create cdnet"
dk run -d --name web --network cdnet local/busybox sleep 300 >/dev/null ||
    e2e_fail "docker run web"
ip4=$(dk inspect web -f '{{(index .NetworkSettings.Networks "cdnet").IPAddress}}')
[ -n "$ip4" ] || e2e_fail "web has no address"
rev=$(echo "$ip4" | awk -F. '{ print $4"."$3"."$2"."$1".in-addr.arpa." }')

e2e_wait 5 answers "$P1" "web.$Z" A "$ip4" ||
    e2e_fail "host 1 does not answer web.$Z A $ip4: $(q "$P1" "web.$Z" A)"
t0=$(e2e_now_ms)
e2e_wait 10 answers "$P2" "web.$Z" A "$ip4" ||
    { cat "$H2/log"; e2e_fail "host 2 does not answer web.$Z A $ip4: $(q "$P2" "web.$Z" A)"; }
e2e_log "host 2 answers web.$Z A $ip4 after $(( $(e2e_now_ms) - t0 )) ms"
answers "$P2" "$rev" PTR "web.cdnet.$Z" ||
    e2e_fail "host 2: $rev PTR is '$(q "$P2" "$rev" PTR)', not web.cdnet.$Z"
e2e_log "host 2 answers the PTR of host 1's container"

# A host publishing what netcraved never would: nc-storeput writes as host 1
# (its key, sealed with the cluster's journal key) a container whose label
# claims a name that is not its own and an NS for the zone, and records in
# the form hosts once shared, lines ready to serve.  Host 2 makes the records
# itself from the description: the container's own name is served, the rest
# is not.
STOREPUT=${NC_STOREPUT:-$(dirname "$NETCRAVED")/tests/helpers/nc-storeput}
[ -x "$STOREPUT" ] || e2e_fail "no $STOREPUT (make builds it)"
put() { "$STOREPUT" "$E2E_D/state/keys" "$PG_CONNINFO" "$@"; }
rid=$(printf 'e%.0s' $(seq 64))
put dns.source "198.18.64.1/$rid" '{"host": "198.18.64.1",
  "records": ["lines.netcrave.internal. 5 IN A 198.19.128.97"]}' ||
    e2e_fail "nc-storeput dns.source"
put dns.container "198.18.64.1/$rid" '{"Id": "'$rid'", "Name": "/rogue",
  "State": {"Running": true},
  "Config": {"Labels": {"io.netcrave.dns.records":
    "@ TXT \"mine\"\nevil.netcrave.internal. A 198.19.128.99\n@ NS ns.evil.example."}},
  "NetworkSettings": {"Networks": {"cdnet": {"IPAddress": "198.19.128.98"}}}}' ||
    e2e_fail "nc-storeput dns.container"
e2e_wait 10 answers "$P2" "rogue.$Z" A 198.19.128.98 ||
    e2e_fail "host 2 does not answer rogue.$Z A: $(q "$P2" "rogue.$Z" A)"
answers "$P2" "rogue.$Z" TXT '"mine"' ||
    e2e_fail "host 2: rogue.$Z TXT is '$(q "$P2" "rogue.$Z" TXT)'"
nxdomain "$P2" "evil.$Z" A ||
    e2e_fail "host 2 serves a name rogue does not own: $(q "$P2" "evil.$Z" A)"
nxdomain "$P2" "lines.$Z" A ||
    e2e_fail "host 2 serves records published as lines: $(q "$P2" "lines.$Z" A)"
q "$P2" "$Z" NS | grep -q evil &&
    e2e_fail "host 2 serves the NS rogue's label claims: $(q "$P2" "$Z" NS)"
grep -q 'rogue: io.netcrave.dns.records: "evil.netcrave.internal. A' "$H2/log" ||
    e2e_fail "host 2 does not say why it refused rogue's record"
e2e_log "a published label is confined on the host serving it: evil.$Z, lines.$Z, the NS refused"
put dns.source "198.18.64.1/$rid" && put dns.container "198.18.64.1/$rid" ||
    e2e_fail "nc-storeput: delete"
e2e_wait 10 nxdomain "$P2" "rogue.$Z" A ||
    e2e_fail "host 2 still answers rogue.$Z after its record went"
# A name dockerd would refuse, carrying a record after a space: refused whole.
put dns.container "198.18.64.1/$rid" '{"Id": "'$rid'",
  "Name": "/inject.netcrave.internal. 5 IN A 198.19.128.96\nx",
  "State": {"Running": true},
  "NetworkSettings": {"Networks": {"cdnet": {"IPAddress": "198.19.128.95"}}}}' ||
    e2e_fail "nc-storeput dns.container (injected name)"
e2e_wait 10 grep -q "a container name dockerd would refuse" "$H2/log" ||
    e2e_fail "host 2 does not refuse a container name with a record in it"
nxdomain "$P2" "inject.$Z" A ||
    e2e_fail "host 2 serves a record smuggled in a name: $(q "$P2" "inject.$Z" A)"
put dns.container "198.18.64.1/$rid" || e2e_fail "nc-storeput: delete"
e2e_log "a container name with a record in it is refused"

# Dead host cleanup (cluster.dead_after 3 s): host 1's netcraved stopped
# (SIGSTOP: its record is no longer refreshed, its containers stay in the
# store) is dead to host 2, which stops answering for its containers; resumed,
# host 1 refreshes its record and host 2 answers again.
kill -STOP "$E2E_NETCRAVED_PID"
e2e_at_cleanup 'kill -CONT "$E2E_NETCRAVED_PID" 2>/dev/null'
t0=$(e2e_now_ms)
e2e_wait 10 nxdomain "$P2" "web.$Z" A ||
    { kill -CONT "$E2E_NETCRAVED_PID"; e2e_fail "host 2 still answers web.$Z for a dead host 1"; }
e2e_log "host 1 stopped: host 2 drops web.$Z after $(( $(e2e_now_ms) - t0 )) ms (dead_after 3 s)"
grep -q "dns: host 198.18.64.1 dead: 1 containers no longer served" "$H2/log" ||
    { kill -CONT "$E2E_NETCRAVED_PID"; e2e_fail "host 2 does not log host 1's containers dropped"; }
kill -CONT "$E2E_NETCRAVED_PID"
t0=$(e2e_now_ms)
e2e_wait 10 answers "$P2" "web.$Z" A "$ip4" ||
    e2e_fail "host 2 does not answer web.$Z again once host 1 is back"
e2e_log "host 1 resumed: host 2 answers web.$Z again after $(( $(e2e_now_ms) - t0 )) ms"

# Host 2 restarted: the records come from the store at start.
e2e_stop_pid "$H2_PID" host2
start_h2
e2e_wait 10 answers "$P2" "web.$Z" A "$ip4" ||
    e2e_fail "restarted host 2 does not answer web.$Z A $ip4"
e2e_log "restarted host 2 answers for host 1's container"

dk rm -f web >/dev/null
e2e_wait 10 nxdomain "$P2" "web.$Z" A ||
    e2e_fail "host 2 still answers web.$Z after docker rm: $(q "$P2" "web.$Z" A)"
e2e_log "host 2 forgets the container once it is removed"
dk network rm cdnet >/dev/null
