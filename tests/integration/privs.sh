#!/bin/sh
# privs.sh: least privilege (issue 12): netcraved started as root keeps only
# the capabilities of privs.c (effective = permitted, nothing inheritable) and
# sets no_new_privs when it runs no child; with a child it leaves no_new_privs
# off, and the child (root, exec'd) has its full bounding set again.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "skip - needs root (capabilities of a root daemon)"; finish; }
: "${NC_TESTCHILD:?NC_TESTCHILD must name tests/helpers/nc-testchild}"

field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# The kept set: CAP_CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, KILL 5,
# NET_BIND_SERVICE 10, NET_ADMIN 12, SYS_ADMIN 21 -- within the bounding set
# this test runs with (a container may have less).
bnd=$(field $$ CapBnd)
want=$(printf '%016x' $(( 0x$bnd & 0x20142b )))

nc_write_conf
nc_start || finish
check "no children: CapEff is the kept set ($want)" [ "$(field "$NC_PID" CapEff)" = "$want" ]
check "no children: CapPrm equals CapEff" [ "$(field "$NC_PID" CapPrm)" = "$want" ]
check "no children: nothing inheritable" [ "$(field "$NC_PID" CapInh)" = 0000000000000000 ]
check "no children: NoNewPrivs set" [ "$(field "$NC_PID" NoNewPrivs)" = 1 ]
check "the log says what was kept" grep -q "privileges: kept cap_net_admin" "$LOG"
check "still serves after the drop" contains "$(plugin_call /Plugin.Activate)" '200 {"Implements"'
nc_stop

nc_write_conf '"children": [ { "role": "sleeper", "argv": ["'"$NC_TESTCHILD"'",
	  "--pidfile", "'"$T"'/sleeper.pid"], "restart": "always" } ]'
nc_start || finish
check "a child: CapEff is still the kept set" [ "$(field "$NC_PID" CapEff)" = "$want" ]
check "a child: NoNewPrivs not set" [ "$(field "$NC_PID" NoNewPrivs)" = 0 ]
check "the child wrote its pid" wait_for 5 test -s "$T/sleeper.pid"
child=$(cat "$T/sleeper.pid")
check "the child regained its bounding set at exec" [ "$(field "$child" CapEff)" = "$(field "$child" CapBnd)" ]
check "the child's bounding set is whole" [ "$(field "$child" CapBnd)" = "$bnd" ]
nc_stop
finish
