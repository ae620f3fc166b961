#!/bin/sh
# reset.sh: netcravectl reset without dockerd: refused without --yes when
# stdin is no terminal; with it, the running netcraved is stopped and its run
# and state directories and plugin socket are gone; a configuration naming a
# system directory (/var/lib) as state_dir gets an error and that directory
# is left alone.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "skip - needs root (reset removes kernel objects)"; finish; }

nc_write_conf
nc_start || finish
"$NETCRAVECTL" -c "$CONF" reset </dev/null >"$T/out" 2>&1 && rc=0 || rc=$?
check "no --yes, no terminal: refused" [ "$rc" = 1 ]
check "with the reason" grep -q "refusing without --yes" "$T/out"
check "the daemon still runs" kill -0 "$NC_PID"
check "its state is still there" test -d "$T/state"

"$NETCRAVECTL" -c "$CONF" reset --yes >"$T/out" 2>&1 && rc=0 || rc=$?
check "reset --yes succeeds" [ "$rc" = 0 ]
check "it stopped netcraved" grep -q "stopping netcraved (pid $NC_PID)" "$T/out"
wait "$NC_PID" 2>/dev/null
check "netcraved is gone" not kill -0 "$NC_PID" 2>/dev/null
NC_PID=
check "run dir removed" not test -e "$T/run"
check "state dir removed" not test -e "$T/state"
check "plugin socket removed" not test -e "$PLUGIN_SOCK"
check "the configuration stays" test -f "$CONF"
cat "$T/out"

# A state_dir that is a system directory: refused, left alone, exit 1.
sed -i "s|\"state_dir\": \"$T/state\"|\"state_dir\": \"/var/lib\"|" "$CONF"
mkdir -p "$T/run"
"$NETCRAVECTL" -c "$CONF" reset --yes >"$T/out" 2>&1 && rc=0 || rc=$?
check "a system state_dir: exit 1" [ "$rc" = 1 ]
check "said so" grep -q "/var/lib: left alone" "$T/out"
check "/var/lib is still there" test -d /var/lib/dpkg
check "the run dir of that configuration went" not test -e "$T/run"
finish
