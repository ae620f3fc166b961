#!/bin/sh
# systemd.sh: the unit file passes `systemd-analyze verify`, and netcraved speaks
# the readiness protocol (READY=1 once serving, RELOADING=1 then READY=1 around
# SIGHUP, STOPPING=1 on SIGTERM) to a NOTIFY_SOCKET listener, path or abstract.
. "$(dirname "$0")/lib.sh"

: "${NC_UNIT:?NC_UNIT must name the generated contrib/netcraved.service}"

# The generated unit names the installed daemon and has no template left.
check "unit is generated from its template" test -s "$NC_UNIT"
check "unit has no unsubstituted @...@" not grep -q '@[a-z]*@' "$NC_UNIT"
check "unit is Type=notify" grep -qx 'Type=notify' "$NC_UNIT"
check "unit runs netcraved in the foreground" grep -q '^ExecStart=/.*/netcraved -f$' "$NC_UNIT"

# verify checks that ExecStart programs exist: point them at this build.
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify also opens the Documentation= man pages: install ours privately.
	mkdir -p "$T/unit" "$T/man/man5" "$T/man/man8"
	cp "$top_srcdir"/man/*.5 "$T/man/man5/"; cp "$top_srcdir"/man/*.8 "$T/man/man8/"
	sed "s|^\(Exec[A-Za-z]*=\)/.*/netcraved|\1$NETCRAVED|" "$NC_UNIT" \
	    >"$T/unit/netcraved.service"
	if MANPATH=$T/man systemd-analyze verify "$T/unit/netcraved.service" >"$T/verify.out" 2>&1 &&
	    ! grep -q netcraved.service "$T/verify.out"; then
		ok "systemd-analyze verify finds nothing wrong"
	else
		cat "$T/verify.out"; fail "systemd-analyze verify"
	fi
else
	echo "skip - systemd-analyze not installed (package systemd)"
fi

# A NOTIFY_SOCKET listener: every datagram appended to a file, one per line
# with the newlines inside shown as '|'.
listen_notify() {	# listen_notify ADDRESS FILE
	python3 - "$1" "$2" <<'PY' &
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".ready", "w").close()
while True:
    msg = s.recv(4096).decode()
    with open(out, "a") as f:
        f.write(msg.replace("\n", "|") + "\n")
PY
	LISTENER=$!
	wait_for 20 test -e "$2.ready"
}

# count_is N PATTERN FILE: FILE has exactly N lines matching PATTERN (a
# function, so that wait_for counts again on every try).
count_is() {
	test "$(grep -c "$2" "$3")" = "$1"
}

nc_write_conf
for addr in "$T/notify.sock" "@netcrave-test-$INSTANCE"; do
	msgs=$T/notify.$(echo "$addr" | cut -c1 | tr '/@' 'pa')
	listen_notify "$addr" "$msgs"
	NOTIFY_SOCKET=$addr nc_start || finish
	check "READY=1 with MAINPID after start ($addr)" \
	    wait_for 20 grep -q "^READY=1|STATUS=serving instance $INSTANCE|MAINPID=$NC_PID\$" "$msgs"
	kill -HUP "$NC_PID"
	check "RELOADING=1 with MONOTONIC_USEC on SIGHUP ($addr)" \
	    wait_for 20 grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*|' "$msgs"
	check "READY=1 again after the reload ($addr)" \
	    wait_for 20 count_is 2 '^READY=1' "$msgs"
	check "netcraved exits 0 on SIGTERM ($addr)" nc_stop
	check "STOPPING=1 on SIGTERM ($addr)" grep -q '^STOPPING=1' "$msgs"
	kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null
done

# No NOTIFY_SOCKET, or one nobody listens on: netcraved runs all the same.
NOTIFY_SOCKET=$T/nobody.sock nc_start || finish
check "an unreachable NOTIFY_SOCKET is logged, not fatal" grep -q "notify: $T/nobody.sock" "$LOG"
check "still serving" contains "$(plugin_call /Plugin.Activate)" '200 {"Implements"'
check "stops cleanly" nc_stop
finish
