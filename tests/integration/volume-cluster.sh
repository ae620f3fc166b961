#!/bin/sh
# volume-cluster.sh: a volume created on one host mounted on another.  Two
# netcraved (A and B, distinct cluster.host_address) share one PostgreSQL store
# and the internal CA; A creates a volume, B sees it through the VolumeDriver
# API and mounts it, its FUSE client speaking HTTP/2 to A's WebDAV listener
# with mutual TLS.  Bytes written on B are read on A and the reverse; the
# listener refuses TLS without a certificate of the cluster's CA; with A down
# B's mount answers EIO at once instead of hanging (within 15 s when A hangs),
# and works again when A is back; Remove belongs to the owner.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/helpers/pg.sh"

if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "SKIP: needs root, /dev/fuse and fusermount3"
	exit 77
fi
if ! pg_available; then
	echo "SKIP: PostgreSQL 15 server binaries not found in $PG_BINDIR (install postgresql-15)"
	exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }

B_PID=
cleanup_cluster() {
	[ -n "$B_PID" ] && kill -TERM "$B_PID" 2>/dev/null && wait "$B_PID" 2>/dev/null
	if [ "$FAILURES" -ne 0 ] && [ -f "$T/b.log" ]; then
		echo "---- host B log ----"; cat "$T/b.log"; echo "--------------------"
	fi
	pg_stop
	nc_cleanup
}
trap cleanup_cluster EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$T/pg"
pg_start "$T/pg" || { fail "PostgreSQL did not start"; finish; }

# The hosts' names on the underlay: never reached here (the WebDAV listeners
# are on loopback), only told apart.
HA=198.19.$(($(od -An -N1 -tu1 /dev/urandom) % 250)).1
HB=${HA%.1}.2
PA=$(free_port)
PB=$(free_port)
store='"store": { "backend": "pg", "host": "'$PG_SOCKDIR'", "port": "'$PG_PORT'",
	"dbname": "netcrave", "user": "netcrave", "sslmode": "disable",
	"poll_ms": 100 }'
nc_write_conf "$store, \"cluster\": { \"host_address\": \"$HA\" },
	\"dav\": { \"listen\": [\"127.0.0.1:$PA\"] }"
nc_start || finish
check "A publishes its WebDAV listener" wait_for 5 grep -q \
    "this host ($HA) serves its volumes to the others at 127.0.0.1:$PA" "$LOG"

# Host B: its own sockets and state, the cluster's keys and internal CA.
CONF_B=$T/b.json
sed -e "s|\"$INSTANCE\"|\"${INSTANCE}b\"|" -e "s|$T/run|$T/runb|g" \
    -e "s|$T/state|$T/stateb|g" -e "s|\"$HA\"|\"$HB\"|" \
    -e "s|127.0.0.1:$PA|127.0.0.1:$PB|" "$CONF" >"$CONF_B"
mkdir -p "$T/stateb/ca"
chmod 0700 "$T/stateb"
cp -a "$T/state/keys" "$T/stateb/keys"
cp -a "$T/state/ca/ca.crt" "$T/state/ca/ca.key.sealed" "$T/stateb/ca/"
"$NETCRAVED" -f -c "$CONF_B" >>"$T/b.log" 2>&1 &
B_PID=$!
SB=$T/runb/plugin.sock
check "host B starts on the same database" wait_for 10 curl -sf \
    --unix-socket "$SB" -X POST http://localhost/Plugin.Activate -o /dev/null

# call SOCKET PATH [BODY]: plugin_call on either host.
call() {
	curl -s --unix-socket "$1" -o "$T/resp" -w '%{http_code}' \
	    -H 'Accept: application/vnd.docker.plugins.v1.2+json' \
	    -H 'Content-Type:' -X POST --data-binary "${3:-}" \
	    "http://localhost$2" >"$T/code" || true
	printf '%s %s' "$(cat "$T/code")" "$(cat "$T/resp" 2>/dev/null)"
}
SA=$PLUGIN_SOCK

r=$(call "$SB" /VolumeDriver.Capabilities)
check "Capabilities stay local" contains "$r" '"Scope":"local"'
r=$(call "$SA" /VolumeDriver.Create '{"Name":"shared","Opts":{}}')
check "A: Create" contains "$r" '200 {}'
check "B: List shows A's volume" wait_for 5 sh -c \
    "curl -s --unix-socket '$SB' -X POST -H 'Content-Type:' http://localhost/VolumeDriver.List | grep -q '\"Name\":\"shared\"'"
r=$(call "$SB" /VolumeDriver.Get '{"Name":"shared"}')
check "B: Get names the owner" contains "$r" "\"owner\":\"$HA\""
r=$(call "$SA" /VolumeDriver.Get '{"Name":"shared"}')
check "A: Get names itself" contains "$r" "\"owner\":\"$HA\""

r=$(call "$SB" /VolumeDriver.Mount '{"Name":"shared","ID":"b1"}')
MB=$T/runb/volumes/shared
check "B: Mount" contains "$r" "200 {\"Mountpoint\":\"$MB\"}"
check "B: a FUSE mount" grep -q " $MB fuse" /proc/mounts
check "B: logged the owner's listener" grep -q \
    "volume shared: mounted from its owner $HA at 127.0.0.1:$PA" "$T/b.log"

# B writes, A's WebDAV reads.
head -c $((2 * 1024 * 1024 + 7)) /dev/urandom >"$T/fromb"
check "B: write 2 MiB with fsync" dd if="$T/fromb" of="$MB/fromb" bs=64k conv=fsync status=none
check "B: mkdir and a small file" sh -c "mkdir $MB/d && echo hello-from-b > $MB/d/note && sync $MB/d/note"
curl -sf --unix-socket "$T/run/dav.sock" -o "$T/fromb.a" http://x/shared/fromb
check "A's WebDAV has B's bytes" cmp "$T/fromb" "$T/fromb.a"
check "A's WebDAV has B's directory" [ "$(curl -sf --unix-socket "$T/run/dav.sock" http://x/shared/d/note)" = hello-from-b ]
check "B's mount speaks to A over TCP (TLS port)" sh -c \
    "ss -Htn state established '( dport = :$PA )' | grep -q ."
check "B's own WebDAV has no such volume: the data is on A" [ "$(curl -s \
    -o /dev/null -w '%{http_code}' --unix-socket "$T/runb/dav.sock" \
    http://x/shared/fromb)" = 404 ]

# The reverse: A mounts its own volume, writes; B reads.
r=$(call "$SA" /VolumeDriver.Mount '{"Name":"shared","ID":"a1"}')
MA=$T/run/volumes/shared
check "A: Mount" contains "$r" "200 {\"Mountpoint\":\"$MA\"}"
head -c $((1024 * 1024 + 3)) /dev/urandom >"$T/froma"
check "A: write 1 MiB with fsync" dd if="$T/froma" of="$MA/froma" bs=64k conv=fsync status=none
check "B reads A's bytes" cmp "$T/froma" "$MB/froma"
check "A reads B's bytes through its own mount" cmp "$T/fromb" "$MA/fromb"

# The listener wants a client certificate of the cluster's CA.
CA=$T/state/ca/ca.crt
check "TLS without a client certificate refused" not curl -sf -o /dev/null \
    --cacert "$CA" "https://127.0.0.1:$PA/shared/fromb"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/rogue.key" -out "$T/rogue.crt" -subj /CN=rogue -days 1 2>/dev/null
check "TLS with a certificate of another CA refused" not curl -sf -o /dev/null \
    --cacert "$CA" --cert "$T/rogue.crt" --key "$T/rogue.key" \
    "https://127.0.0.1:$PA/shared/fromb"
check "A's server certificate names A's host address" sh -c \
    "openssl s_client -connect 127.0.0.1:$PA -cert '$T/stateb/ca/clients/local.crt' \
    -key '$T/stateb/ca/clients/local.key' </dev/null 2>/dev/null |
    openssl x509 -noout -ext subjectAltName | grep -q 'IP Address:$HA'"
CL=$T/stateb/ca/clients
check "B's client certificate of the shared CA is accepted" [ "$(curl -sf \
    --cacert "$CA" --cert "$CL/local.crt" --key "$CL/local.key" \
    "https://127.0.0.1:$PA/shared/d/note")" = hello-from-b ]

# Remove stays with the owner, and waits for every host's containers.
r=$(call "$SB" /VolumeDriver.Remove '{"Name":"shared"}')
check "B: Remove refused, naming the owner" contains "$r" "volume shared belongs to host $HA: remove it there"
r=$(call "$SA" /VolumeDriver.Unmount '{"Name":"shared","ID":"a1"}')
check "A: Unmount" contains "$r" '200 {}'
r=$(call "$SA" /VolumeDriver.Remove '{"Name":"shared"}')
check "A: Remove refused while B holds a mount" contains "$r" "mounted by 1 container(s) on other hosts"

# failed_fast RC SECONDS: the command failed, by itself and within 5 s.
failed_fast() { [ "$1" != 124 ] && [ "$1" != 0 ] && [ "$2" -le 5 ]; }

# The owner down: B's mount fails at once (EIO), no hang; back when A is.
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
fusermount3 -uz "$MA" 2>/dev/null
sleep 1.5	# past the 1 s the mount keeps names and attributes
t0=$(date +%s)
out=$(timeout 30 ls "$MB/d" 2>&1); rc=$?
t1=$(date +%s)
check "A down: ls on B fails, not hangs (rc $rc, $((t1 - t0)) s)" \
    failed_fast "$rc" $((t1 - t0))
echo "# A down: ls said: $out"
check "A down: the error is EIO or ENOTCONN" sh -c \
    "echo '$out' | grep -Eq 'Input/output error|not connected'"
t0=$(date +%s)
timeout 30 dd if="$T/froma" of="$MB/whiledown" bs=64k conv=fsync status=none 2>"$T/dd.err"; rc=$?
t1=$(date +%s)
check "A down: a write with fsync on B fails, not hangs (rc $rc, $((t1 - t0)) s)" \
    failed_fast "$rc" $((t1 - t0))
nc_start || finish
check "A back: B reads through the same mount" wait_for 10 cmp "$T/fromb" "$MB/fromb"
check "A back: B writes again" sh -c "echo after-restart > $MB/after && sync $MB/after"
check "A back: A's WebDAV has it" [ "$(curl -sf --unix-socket "$T/run/dav.sock" http://x/shared/after)" = after-restart ]

# The owner hung (SIGSTOP: its kernel still holds the connection open and
# acknowledges, nothing answers): B's client gives up after two PING ticks
# of silence (10 to 15 s), not after the 120 s timeout of a request.
kill -STOP "$NC_PID"
sleep 1.5
t0=$(date +%s)
out=$(timeout 60 ls "$MB/d" 2>&1); rc=$?
t1=$(date +%s)
echo "# A hung: ls said after $((t1 - t0)) s: $out"
check "A hung: ls on B fails with EIO within 20 s (rc $rc, $((t1 - t0)) s)" \
    sh -c "[ $rc != 124 ] && [ $rc != 0 ] && [ $((t1 - t0)) -le 20 ] &&
    echo '$out' | grep -q 'Input/output error'"
check "A hung: B logged why" grep -q "127.0.0.1:$PA: no answer to PING for 10000 ms" "$T/b.log"
kill -CONT "$NC_PID"
check "A resumed: B lists again" wait_for 10 sh -c "ls $MB/d | grep -qx note"
check "A resumed: B writes, A's WebDAV has it" sh -c "echo resumed > $MB/resumed && sync $MB/resumed &&
    [ \"\$(curl -sf --unix-socket $T/run/dav.sock http://x/shared/resumed)\" = resumed ]"

# B restarts while Docker holds its mount ID: the mount comes back, from A.
kill -TERM "$B_PID"; wait "$B_PID" 2>/dev/null
"$NETCRAVED" -f -c "$CONF_B" >>"$T/b.log" 2>&1 &
B_PID=$!
check "B restarted" wait_for 10 curl -sf \
    --unix-socket "$SB" -X POST http://localhost/Plugin.Activate -o /dev/null
check "B restarted: its mount is back" wait_for 5 grep -q " $MB fuse" /proc/mounts
check "B restarted: reads A's bytes afresh" cmp "$T/froma" "$MB/froma"
r=$(call "$SA" /VolumeDriver.Remove '{"Name":"shared"}')
check "B restarted: A still counts B's mount" contains "$r" "on other hosts"

r=$(call "$SB" /VolumeDriver.Unmount '{"Name":"shared","ID":"b1"}')
check "B: Unmount" contains "$r" '200 {}'
check "B: unmounted" wait_for 5 not grep -q " $MB fuse" /proc/mounts
check "A: Remove once no host holds it" wait_for 5 sh -c \
    "curl -s --unix-socket '$SA' -X POST -H 'Content-Type:' --data-binary '{\"Name\":\"shared\"}' http://localhost/VolumeDriver.Remove | grep -qx '{}'"
check "B: the volume is gone from List" wait_for 5 sh -c \
    "! curl -s --unix-socket '$SB' -X POST -H 'Content-Type:' http://localhost/VolumeDriver.List | grep -q '\"Name\":\"shared\"'"

# Both hosts create one name at the same moment: one record goes in, and
# both hosts agree whose the volume is.
create() {
	curl -s --unix-socket "$1" -X POST -H 'Content-Type:' -o "$2" \
	    -w '%{http_code}' --data-binary '{"Name":"race","Opts":{}}' \
	    http://localhost/VolumeDriver.Create >"$2.code"
}
create "$SA" "$T/ra" & pa=$!
create "$SB" "$T/rb" & pb=$!
wait $pa; wait $pb
echo "# race: A answered $(cat "$T/ra.code") $(cat "$T/ra"), B $(cat "$T/rb.code") $(cat "$T/rb")"
check "race: at least one Create succeeded" grep -qx 200 "$T/ra.code" "$T/rb.code"
told() { [ "$(cat "$1")" = '{}' ] || grep -q 'created on another host at the same time' "$1"; }
both_told() { told "$T/ra" && told "$T/rb"; }
check "race: each answer is {} or says another host won" both_told
owner_of() {
	curl -s --unix-socket "$1" -X POST -H 'Content-Type:' \
	    --data-binary '{"Name":"race"}' http://localhost/VolumeDriver.Get |
	    jq -r .Volume.Status.owner
}
check "race: both hosts name the same owner" wait_for 5 sh -c \
    "[ \"\$(curl -s --unix-socket '$SA' -X POST -H 'Content-Type:' --data-binary '{\"Name\":\"race\"}' http://localhost/VolumeDriver.Get | jq -r .Volume.Status.owner)\" = \
    \"\$(curl -s --unix-socket '$SB' -X POST -H 'Content-Type:' --data-binary '{\"Name\":\"race\"}' http://localhost/VolumeDriver.Get | jq -r .Volume.Status.owner)\" ]"
if [ "$(owner_of "$SA")" = "$HA" ]; then OWN=$SA; OTHER=$SB; else OWN=$SB; OTHER=$SA; fi
r=$(call "$OTHER" /VolumeDriver.Mount '{"Name":"race","ID":"r1"}')
check "race: the other host mounts the winner's volume" contains "$r" '"Mountpoint"'
r=$(call "$OTHER" /VolumeDriver.Unmount '{"Name":"race","ID":"r1"}')
check "race: Unmount" contains "$r" '200 {}'
check "race: Remove on the winner" wait_for 5 sh -c \
    "curl -s --unix-socket '$OWN' -X POST -H 'Content-Type:' --data-binary '{\"Name\":\"race\"}' http://localhost/VolumeDriver.Remove | grep -qx '{}'"

kill -TERM "$B_PID"; brc=0; wait "$B_PID" || brc=$?; B_PID=
check "host B stops cleanly" [ "$brc" = 0 ]
check "host A stops cleanly" nc_stop
finish
