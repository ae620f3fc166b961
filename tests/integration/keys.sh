#!/bin/sh
# keys.sh: keys are made once and kept across restarts; a missing or tampered key
# file stops the start with an error naming it, and the state stays untouched.
. "$(dirname "$0")/lib.sh"

KEYS=$T/state/keys

# flip FILE OFFSET: invert every bit of one byte (writing a fixed value would
# leave a byte that already had it unchanged).
flip() {
	_b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - _b)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
nc_write_conf
nc_start || finish
nc_stop
check "keys dir is 0700" [ "$(stat -c %a "$KEYS")" = 700 ]
check "master key is 0600" [ "$(stat -c %a "$KEYS/master.key")" = 600 ]
check "journal key is 0600" [ "$(stat -c %a "$KEYS/journal.wkey")" = 600 ]
check "journal exists" [ -f "$T/state/journal" ]
check "no key material in the log" not grep -qi "$(od -An -tx1 -j 12 -N 8 "$KEYS/master.key" | tr -d ' \n')" "$LOG"
sum_master=$(sha256sum < "$KEYS/master.key")
sum_journal=$(sha256sum < "$KEYS/journal.wkey")

nc_start || finish
nc_stop
check "restart keeps the master key" [ "$(sha256sum < "$KEYS/master.key")" = "$sum_master" ]
check "restart keeps the journal key" [ "$(sha256sum < "$KEYS/journal.wkey")" = "$sum_journal" ]

# start_fails TEXT: netcraved must refuse to start and say TEXT.
start_fails() {
	timeout 10 "$NETCRAVED" -f -c "$CONF" > "$T/fail.log" 2>&1 && _rc=0 || _rc=$?
	if [ "$_rc" -ne 0 ] && [ "$_rc" -ne 124 ] && grep -qF -- "$1" "$T/fail.log"; then
		ok "refused to start: $1"
	else
		fail "expected a refusal with '$1', rc=$_rc: $(cat "$T/fail.log")"
	fi
}

cp "$KEYS/journal.wkey" "$T/journal.wkey.good"
flip "$KEYS/journal.wkey" 40
start_fails "journal.wkey"
cp "$T/journal.wkey.good" "$KEYS/journal.wkey"

cp "$KEYS/master.key" "$T/master.key.good"
flip "$KEYS/master.key" 20
start_fails "master.key"
rm "$KEYS/master.key"
start_fails "master"
check "a missing master key is not made anew" [ ! -e "$KEYS/master.key" ]
cp "$T/master.key.good" "$KEYS/master.key"

rm "$KEYS/journal.wkey"
start_fails "journal key is missing"
check "a missing journal key is not made anew" [ ! -e "$KEYS/journal.wkey" ]
cp "$T/journal.wkey.good" "$KEYS/journal.wkey"

cp "$T/state/journal" "$T/journal.good"
flip "$T/state/journal" 30
start_fails "journal"
cp "$T/journal.good" "$T/state/journal"

nc_start || finish
check "with the files restored it starts again" contains "$(plugin_call /Plugin.Activate)" '200 {"Implements"'
nc_stop
finish
