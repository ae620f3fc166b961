#!/bin/sh
# lifecycle.sh: SIGHUP reloads (a bad file keeps the old config), SIGTERM stops
# cleanly, and supervised children are restarted and stopped with the daemon.
. "$(dirname "$0")/lib.sh"

: "${NC_TESTCHILD:?NC_TESTCHILD must name tests/helpers/nc-testchild}"

child_members() {
	cat <<JSON
"children": [
	{ "role": "crasher", "argv": ["$NC_TESTCHILD", "--crash-after", "200"],
	  "restart": "always", "backoff_initial_ms": 100, "backoff_max_ms": 400 },
	{ "role": "sleeper", "argv": ["$NC_TESTCHILD", "--pidfile", "$T/sleeper.pid",
	  "--spawn-grandchild", "$T/grandchild.pid", "--ignore-term"],
	  "restart": "always", "stop_timeout_ms": 500 }
]
JSON
}
nc_write_conf "$(child_members)"
nc_start || finish

restarts() { "$NETCRAVECTL" -s "$CONTROL_SOCK" -j status | jq -r '.children[] | select(.role=="crasher") | .restarts'; }
crasher_restarted() { [ "$(restarts)" -ge 2 ] 2>/dev/null; }
check "a crashing child is restarted" wait_for 10 crasher_restarted
check "status lists both children" [ "$("$NETCRAVECTL" -s "$CONTROL_SOCK" -j status | jq '.children | length')" = 2 ]
check "sleeper wrote its pid" wait_for 5 test -s "$T/grandchild.pid"
sleeper=$(cat "$T/sleeper.pid"); grandchild=$(cat "$T/grandchild.pid")
# netcravectl children: the same children, with pid, state, restarts, uptime.
kids=$("$NETCRAVECTL" -s "$CONTROL_SOCK" -j children)
check "children -j lists both, in order" [ "$(printf '%s' "$kids" | jq -r '[.children[].name] | join(",")')" = crasher,sleeper ]
check "children -j: the sleeper's pid" [ "$(printf '%s' "$kids" | jq -r '.children[1].pid')" = "$sleeper" ]
check "children -j: uptime of a running child" [ "$(printf '%s' "$kids" | jq -r '.children[1].uptime_seconds')" -ge 0 ]
check "children -j: the crasher's restarts" [ "$(printf '%s' "$kids" | jq -r '.children[0].restarts')" -ge 2 ]
out=$("$NETCRAVECTL" -s "$CONTROL_SOCK" children)
check "children table" contains "$out" "sleeper  "
check "children table header" contains "$out" "UPTIME"

# A reload with a broken file keeps the running config.
cp "$CONF" "$T/good.json"
echo '{ "instance": ' > "$CONF"
kill -HUP "$NC_PID"
check "broken config on reload is reported" wait_for 5 grep -q "keeping the running configuration" "$LOG"
check "daemon still serves after a bad reload" contains "$(plugin_call /Plugin.Activate)" '200 {"Implements"'

# A reload that changes a live key is applied.
cp "$T/good.json" "$CONF"
sed -i 's|"instance": "'"$INSTANCE"'",|"instance": "'"$INSTANCE"'", "log_level": "debug",|' "$CONF"
kill -HUP "$NC_PID"
check "valid reload applied" wait_for 5 grep -q "reload: configuration applied" "$LOG"

# A reload that would rename the instance needs a restart and is refused.
sed -i 's|"instance": "'"$INSTANCE"'"|"instance": "other"|' "$CONF"
kill -HUP "$NC_PID"
check "instance change refused on reload" wait_for 5 grep -q "reload: instance changed, which needs a restart" "$LOG"
check "still the same instance" [ "$("$NETCRAVECTL" -s "$CONTROL_SOCK" -j status | jq -r .instance)" = "$INSTANCE" ]

# SIGTERM: children (and their children) stopped, sockets removed, exit 0.
nc_stop && rc=0 || rc=$?
check "SIGTERM: exit status 0" [ "$rc" = 0 ]
# gone PID: no such process, or a zombie waiting for init to reap it (an orphan
# is reparented to PID 1, which this test does not control).
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
check "SIGTERM: child gone" wait_for 3 gone "$sleeper"
check "SIGTERM: grandchild gone" wait_for 3 gone "$grandchild"
check "SIGTERM: no testchild left" not pgrep -f "$T/sleeper.pid" >/dev/null
check "SIGTERM: plugin socket removed" [ ! -e "$PLUGIN_SOCK" ]
check "SIGTERM: control socket removed" [ ! -e "$CONTROL_SOCK" ]
check "SIGTERM: logged" grep -q "netcraved stopped" "$LOG"
finish
