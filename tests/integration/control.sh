#!/bin/sh
# control.sh: netcravectl talks to the control socket: tables and JSON.
. "$(dirname "$0")/lib.sh"

nc_write_conf
nc_start || finish

check "control socket is mode 0600" [ "$(stat -c %a "$CONTROL_SOCK")" = 600 ]
out=$("$NETCRAVECTL" -c "$CONF" status 2>&1)
check "status names the instance" contains "$out" "$INSTANCE"
check "status shows the plugin socket" contains "$out" "$PLUGIN_SOCK"
check "status shows the store backend" contains "$out" "file"
out=$("$NETCRAVECTL" -s "$CONTROL_SOCK" -j status)
check "status -j is JSON with the pid" [ "$(printf '%s' "$out" | jq -r .pid)" = "$NC_PID" ]
check "status -j has the instance" [ "$(printf '%s' "$out" | jq -r .instance)" = "$INSTANCE" ]
out=$("$NETCRAVECTL" -c "$CONF" version)
check "version shows both ends" contains "$out" "netcraved "
out=$("$NETCRAVECTL" -c "$CONF" -j version | jq -r .version)
check "version -j" [ -n "$out" ] && [ "$out" != null ]
# The dockerd follower (lib.sh points it at a socket nobody serves): away,
# retrying, nothing known, the daemon fine.
out=$("$NETCRAVECTL" -c "$CONF" containers)
check "containers: the follower is away" contains "$out" "$T/docker.sock: away"
check "containers: none known" contains "$out" "no containers"
out=$("$NETCRAVECTL" -c "$CONF" -j containers | jq -r '.follower.state + " " + (.containers | length | tostring)')
check "containers -j" [ "$out" = "away 0" ]
# SIGHUP with follower.docker_socket null: not followed any more; and back.
nc_write_conf '"follower": { "docker_socket": null }'
kill -HUP "$NC_PID"
disabled() { "$NETCRAVECTL" -c "$CONF" -j containers | jq -e '.follower.state == "disabled"' >/dev/null; }
check "SIGHUP: follower.docker_socket null disables the follower" wait_for 5 disabled
nc_write_conf '"follower": { "docker_socket": "'"$T/other.sock"'" }'
kill -HUP "$NC_PID"
other() { "$NETCRAVECTL" -c "$CONF" containers | grep -q "$T/other.sock: away"; }
check "SIGHUP: a new docker_socket is followed" wait_for 5 other
"$NETCRAVECTL" -c "$CONF" bogus >/dev/null 2>&1 && rc=0 || rc=$?
check "unknown command is an error" [ "$rc" -ne 0 ]

nc_stop
"$NETCRAVECTL" -c "$CONF" status > "$T/down" 2>&1 && rc=0 || rc=$?
check "status against a stopped daemon fails" [ "$rc" -ne 0 ]
check "with a clear message" grep -q "control.sock" "$T/down"
finish
