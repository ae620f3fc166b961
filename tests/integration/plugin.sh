#!/bin/sh
# plugin.sh: the Docker plugin socket answers as dockerd expects, and bad input
# gets a clear error while the daemon stays up.
. "$(dirname "$0")/lib.sh"

nc_write_conf
nc_start || finish

check "plugin socket is mode 0600" [ "$(stat -c %a "$PLUGIN_SOCK")" = 600 ]

r=$(plugin_call /Plugin.Activate)
check "Activate answers 200" contains "$r" "200 "
check "Activate implements the three APIs" \
    contains "$r" '{"Implements":["NetworkDriver","IpamDriver","VolumeDriver"]}'
check "Activate is logged" grep -q "plugin: activated" "$LOG"

r=$(plugin_call /NetworkDriver.GetCapabilities)
check "NetworkDriver.GetCapabilities" contains "$r" '200 {"Scope":"local","ConnectivityScope":"local"}'
r=$(plugin_call /IpamDriver.GetCapabilities)
check "IpamDriver.GetCapabilities" contains "$r" '200 {"RequiresMACAddress":false'
r=$(plugin_call /VolumeDriver.Capabilities)
check "VolumeDriver.Capabilities" contains "$r" '200 {"Capabilities":{"Scope":"local"}}'

# A body as Go's encoder writes it: \u003c escapes, trailing newline.
body='{"NetworkID":"4c3b\u003cx\u003e","Options":{"com.docker.network.generic":{"netcrave.tag":"web"}},"IPv4Data":[{"AddressSpace":"","Pool":"198.18.10.0/24","Gateway":"198.18.10.1/24"}],"IPv6Data":[]}
'
r=$(plugin_call /NetworkDriver.CreateNetwork "$body")
check "CreateNetwork of a pool outside the schema: 400" contains "$r" "400 "
check "CreateNetwork says why in netcrave's words" \
    contains "$r" "is not from netcrave's address schema"
r=$(plugin_call /NetworkDriver.Join '{"NetworkID":"n","EndpointID":"e","SandboxKey":"/x","Options":{}}')
check "Join of an unknown endpoint: never a 200" contains "$r" '404 {"Err":"netcrave: no such endpoint e"}'
r=$(plugin_call /NetworkDriver.DeleteNetwork '{"NetworkID":"gone"}')
check "DeleteNetwork of an unknown network is idempotent" contains "$r" '200 {}'
r=$(plugin_call /VolumeDriver.Create '{"Name":"v1","Opts":{"colour":"red"}}')
check "VolumeDriver.Create: unknown option refused" contains "$r" '400 {"Err":"netcrave: volume v1: unknown option colour'

r=$(plugin_call /NetworkDriver.CreateNetwork '{"NetworkID": "abc",')
check "malformed JSON: 400" contains "$r" "400 "
check "malformed JSON: clear Err with position" contains "$r" 'NetworkDriver.CreateNetwork: malformed JSON at 1:'
r=$(plugin_call /NetworkDriver.CreateNetwork '[1,2,3]')
check "non-object JSON: 400" contains "$r" '400 {"Err":"netcrave: NetworkDriver.CreateNetwork: request body must be a JSON object'
r=$(plugin_call /NetworkDriver.CreateNetwork "$(printf '{"a":"\377"}')")
check "invalid UTF-8: 400" contains "$r" "400 "
r=$(plugin_call /Plugin.Nonsense '{}')
check "unknown endpoint: 404 with Err" contains "$r" '404 {"Err":"netcrave:'
code=$(curl -s --unix-socket "$PLUGIN_SOCK" -o /dev/null -w '%{http_code}' http://localhost/Plugin.Activate)
check "GET on a POST endpoint: 405" [ "$code" = 405 ]
r=$(plugin_call /Plugin.Activate)
check "daemon unaffected by bad input" contains "$r" '200 {"Implements"'

# Several requests over one keep-alive connection.
curl -s --unix-socket "$PLUGIN_SOCK" -X POST -w '%{http_code} %{num_connects}\n' \
    -o /dev/null -o /dev/null -o /dev/null http://localhost/Plugin.Activate \
    http://localhost/NetworkDriver.GetCapabilities \
    http://localhost/VolumeDriver.Capabilities > "$T/ka"
check "keep-alive: three answers" [ "$(grep -c '^200 ' "$T/ka")" = 3 ]
check "keep-alive: over one connection" [ "$(awk '{s += $2} END {print s}' "$T/ka")" = 1 ]

# Swarm (managed plugin): AllocateNetwork checks the pool is the schema's and
# hands the tag back as an option; FreeNetwork keeps nothing.
r=$(plugin_call /IpamDriver.RequestPool '{"AddressSpace":"netcrave-global","Pool":"","Options":{},"V6":false}')
pool=$(printf '%s' "$r" | sed 's/^[0-9]* //' | jq -r .Pool)
check "a pool from the default schema" [ "${r%% *}" = 200 ]
r=$(plugin_call /NetworkDriver.AllocateNetwork '{"NetworkID":"sw1","Options":{"com.docker.network.enable_ipv6":"false"},"IPv4Data":[{"AddressSpace":"netcrave-global","Pool":"'$pool'","Gateway":"'${pool%.*}.1/${pool#*/}'"}],"IPv6Data":[]}
')
check "AllocateNetwork of a schema pool: the tag as an option" \
    contains "$r" '200 {"Options":{"netcrave.tag":"default"}}'
check "AllocateNetwork is logged" grep -q "allocated swarm network sw1, tag default" "$LOG"
r=$(plugin_call /NetworkDriver.AllocateNetwork '{"NetworkID":"sw2","Options":{"netcrave.tag":"nope"},"IPv4Data":[{"Pool":"'$pool'","Gateway":"'${pool%.*}.1/${pool#*/}'"}]}')
check "AllocateNetwork: a tag the pool's scope lacks is refused" \
    contains "$r" '400 {"Err":"netcrave: -o netcrave.tag=nope disagrees with the pool'
r=$(plugin_call /NetworkDriver.AllocateNetwork "$body")
check "AllocateNetwork of a pool outside the schema: 400" \
    contains "$r" "is not from netcrave's address schema: create the network with --ipam-driver"
# One pool, one swarm network: the IPAM driver grants a node's request for the
# manager's pool as a twin, and cannot tell it from a second --subnet.
sw() { printf '{"NetworkID":"%s","Options":{},"IPv4Data":[{"AddressSpace":"netcrave-global","Pool":"%s","Gateway":"%s"}],"IPv6Data":[]}' \
    "$1" "$pool" "${pool%.*}.1/${pool#*/}"; }
r=$(plugin_call /NetworkDriver.AllocateNetwork "$(sw sw3)")
check "AllocateNetwork of another network's pool: 409" \
    contains "$r" "409 {\"Err\":\"netcrave: pool $pool overlaps swarm network sw1's: choose another --subnet\"}"
r=$(plugin_call /NetworkDriver.AllocateNetwork "$(sw sw1)")
check "AllocateNetwork of the same network again (a manager's restart): 200" contains "$r" '200 {"Options"'
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
nc_start
r=$(plugin_call /NetworkDriver.AllocateNetwork "$(sw sw3)")
check "after kill -9, the pool is still sw1's" contains "$r" "overlaps swarm network sw1's"
r=$(plugin_call /NetworkDriver.FreeNetwork '{"NetworkID":"sw1"}')
check "FreeNetwork: 200 {}" contains "$r" '200 {}'
r=$(plugin_call /NetworkDriver.AllocateNetwork "$(sw sw3)")
check "once freed, another network may have the pool" contains "$r" '200 {"Options"'
r=$(plugin_call /NetworkDriver.FreeNetwork '{"NetworkID":"sw3"}')
r=$(plugin_call /NetworkDriver.FreeNetwork '{"NetworkID":"sw3"}')
check "FreeNetwork is idempotent" contains "$r" '200 {}'

# plugin.scope global: the driver's networks are swarm networks.
nc_stop
nc_write_conf '"plugin": { "scope": "global" }'
nc_start
r=$(plugin_call /NetworkDriver.GetCapabilities)
check "plugin.scope global: Scope global" contains "$r" '200 {"Scope":"global","ConnectivityScope":"local"}'
nc_stop
nc_write_conf
nc_start

# A crash leaves a stale socket: the next start replaces it.
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
check "stale socket left by SIGKILL" [ -S "$PLUGIN_SOCK" ]
nc_start
r=$(plugin_call /Plugin.Activate)
check "restart replaced the stale socket" contains "$r" '200 {"Implements"'

# A second daemon on the same sockets must refuse, not steal them.
"$NETCRAVED" -f -c "$CONF" > "$T/second.log" 2>&1 && second=0 || second=$?
check "second instance on a live socket exits non-zero" [ "$second" -ne 0 ]
check "second instance says the state is in use" grep -q "in use by another process" "$T/second.log"
r=$(plugin_call /Plugin.Activate)
check "first instance still serves" contains "$r" '200 {"Implements"'

nc_stop
check "plugin socket removed at shutdown" [ ! -e "$PLUGIN_SOCK" ]
finish
