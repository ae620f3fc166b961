#!/bin/sh
# store-pg.sh: netcraved with store.backend "pg" on a private PostgreSQL 15
# serving the IpamDriver: TLS verify-full with client certificates (made here
# with openssl), allocations kept across kill -9, nothing lost when the
# database connection is killed or the server restarts mid-run, and two
# netcraved on one database answering 1,000 concurrent address requests in
# the same pool without a duplicate, and both at once through kill -9 of one
# and a cut connection of the other.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/helpers/pg.sh"

if ! pg_available; then
	echo "SKIP: PostgreSQL 15 server binaries not found in $PG_BINDIR (install postgresql-15)"
	exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }

B_PID=
cleanup_pg() {
	[ -n "$B_PID" ] && kill -KILL "$B_PID" 2>/dev/null
	pg_stop
	nc_cleanup
}
trap cleanup_pg EXIT

# Certificates: a CA, the server's (localhost, 127.0.0.1), the client's
# (CN = the database user), and a second CA nobody trusts.
PKI=$T/pki
mkdir -p "$PKI"
cert() {	# cert NAME SUBJECT CA [SAN]
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "$2" 2>/dev/null
	printf '%s\n' "${4:-basicConstraints=CA:FALSE}" >"$PKI/$1.ext"
	openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$3.crt" -CAkey "$PKI/$3.key" \
	    -CAcreateserial -days 2 -out "$PKI/$1.crt" -extfile "$PKI/$1.ext" \
	    2>/dev/null
}
for ca in ca otherca; do
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$PKI/$ca.key" -out "$PKI/$ca.crt" -days 2 \
	    -subj "/CN=netcrave test $ca" 2>/dev/null
done
cert server /CN=localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1"
cert client /CN=netcrave ca
chmod 0600 "$PKI"/*.key

PGD=$T/pg
mkdir -p "$PGD"
cp "$PKI/server.crt" "$PKI/server.key" "$PKI/ca.crt" "$PGD/"
chown postgres "$PGD/server.key" 2>/dev/null
# TCP only with TLS and a client certificate; the unix socket trusts (host B).
pg_start "$PGD" "ssl = on
ssl_cert_file = '$PGD/server.crt'
ssl_key_file = '$PGD/server.key'
ssl_ca_file = '$PGD/ca.crt'" "local all all trust
hostssl all all 127.0.0.1/32 cert" || { fail "PostgreSQL did not start"; finish; }

check "the database refuses TCP without a client certificate" not \
    psql "host=127.0.0.1 port=$PG_PORT user=netcrave dbname=netcrave sslmode=require" \
    -qAtc 'select 1' 2>/dev/null

# A /19 of 198.18.0.0/15 that no address of this machine is in (other tests
# may hold some); its first /20 in /21 pools: 2046 addresses a pool.
net=$(python3 -c '
import ipaddress, json, random, subprocess
used = [ipaddress.ip_interface(a["local"] + "/" + str(a["prefixlen"])).network
    for i in json.loads(subprocess.run(["ip", "-j", "-4", "addr"],
    capture_output=True, text=True).stdout) for a in i.get("addr_info", [])]
nets = list(ipaddress.ip_network("198.18.0.0/15").subnets(new_prefix=19))
random.shuffle(nets)
print(next(n for n in nets if not any(n.overlaps(u) for u in used)))')
b1=$(echo "$net" | cut -d. -f1-3)		# e.g. 198.18.32
b2=$(echo "$b1" | awk -F. '{ print $1 "." $2 "." $3 + 8 }')
scopes='"default_tag": "web",
	"scopes": [ { "name": "pg", "ipv4_network": "'$net'", "scopes": [
	  { "name": "web", "ipv4_network": "'$b1'.0/20",
	    "ipv4_prefix_length": 21, "tags": ["web"] } ] } ]'
tls='"store": { "backend": "pg", "host": "localhost", "port": "'$PG_PORT'",
	"dbname": "netcrave", "user": "netcrave", "sslmode": "verify-full",
	"sslrootcert": "'$PKI/ca.crt'", "sslcert": "'$PKI/client.crt'",
	"sslkey": "'$PKI/client.key'", "poll_ms": 100, "timeout_ms": 60000 }'
nc_write_conf "$scopes, $tls"
nc_start || finish
check "host A is connected over TLS" wait_for 5 sh -c \
    "psql -h '$PG_SOCKDIR' -p $PG_PORT -U netcrave -d netcrave -qAtc \
    \"select count(*) from pg_stat_ssl s join pg_stat_activity a using (pid) \
    where a.application_name = 'netcraved' and s.ssl and \
    s.client_dn = '/CN=netcrave'\" | grep -qx 1"

field() { printf '%s' "$1" | sed 's/^[0-9]* //' | jq -r ".$2"; }
status() { printf '%s' "$1" | cut -d' ' -f1; }

r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"web"},"V6":false}')
check "pool from the pg store: 200" [ "$(status "$r")" = 200 ]
pool=$(field "$r" PoolID)
check "the pool is the first /21" [ "$(field "$r" Pool)" = $b1.0/21 ]
first=
for i in 1 2 3; do
	r=$(plugin_call /IpamDriver.RequestAddress '{"PoolID":"'$pool'","Address":"","Options":{}}')
	[ -z "$first" ] && first=$(field "$r" Address)
done
check "first address" [ "$first" = $b1.1/21 ]
check "records are in the database" [ "$(pg_psql \
    "select count(*) from netcrave_records where kind = 'ipam.address' and not deleted")" = 3 ]
check "values are sealed in the database" [ "$(pg_psql \
    "select count(*) from netcrave_records where position('$b1' in \
    encode(value, 'escape')) > 0")" = 0 ]

# kill -9 and restart: everything handed out stays handed out.
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
nc_start || finish
r=$(plugin_call /IpamDriver.RequestAddress '{"PoolID":"'$pool'","Address":"'$b1'.2","Options":{}}')
check "after kill -9: an address handed out is still taken" contains "$r" "already in use"
r=$(plugin_call /IpamDriver.RequestAddress '{"PoolID":"'$pool'","Address":"","Options":{}}')
check "after kill -9: next free continues" [ "$(field "$r" Address)" = $b1.4/21 ]

# burst N OUT SOCKET: N concurrent RequestAddress on one plugin socket.
burst() {
	seq "$1" | xargs -P 24 -I{} curl -s --unix-socket "$3" -X POST \
	    -H 'Content-Type:' -w ' %{http_code}\n' \
	    --data-binary '{"PoolID":"'$pool'","Address":"","Options":{}}' \
	    http://localhost/IpamDriver.RequestAddress >>"$2" 2>/dev/null
}
addresses() { jq -r .Address "$@" 2>/dev/null | grep -v '^null$'; }
ok200() { grep -c ' 200$' "$1"; }

# The connection killed while 100 requests are in flight.
burst 100 "$T/killed" "$PLUGIN_SOCK" &
bp=$!
sleep 0.2
pg_psql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'netcraved'" >/dev/null
wait $bp
check "connection killed mid-run: 100 of 100 answered 200" [ "$(ok200 "$T/killed")" = 100 ]
check "netcraved said it reconnected" wait_for 5 grep -q "connected again" "$LOG"

# The server restarted (every connection dropped) while 100 more run.
burst 100 "$T/restarted" "$PLUGIN_SOCK" &
bp=$!
sleep 0.2
check "PostgreSQL restarts" pg_restart
wait $bp
check "server restarted mid-run: 100 of 100 answered 200" [ "$(ok200 "$T/restarted")" = 100 ]
check "every answered address is in the database" [ "$(pg_psql \
    "select count(*) from netcrave_records where kind = 'ipam.address' and not deleted")" = 204 ]

# Host B: a second netcraved on the same database (unix socket, trust), with
# the cluster's keys copied, its own sockets and state directory.
CONF_B=$T/b.json
sed -e "s|\"$INSTANCE\"|\"${INSTANCE}b\"|" -e "s|$T/run|$T/runb|g" \
    -e "s|$T/state|$T/stateb|g" \
    -e 's|"host": "localhost"|"host": "'$PG_SOCKDIR'"|' \
    -e 's|"sslmode": "verify-full"|"sslmode": "disable"|' \
    -e 's|"timeout_ms": 60000|"timeout_ms": 2000|' "$CONF" >"$CONF_B"
mkdir -p "$T/stateb"
chmod 0700 "$T/stateb"
cp -a "$T/state/keys" "$T/stateb/keys"
"$NETCRAVED" -f -c "$CONF_B" >>"$T/b.log" 2>&1 &
B_PID=$!
check "host B starts on the same database" wait_for 10 curl -sf \
    --unix-socket "$T/runb/plugin.sock" -X POST http://localhost/Plugin.Activate -o /dev/null

# 1,000 concurrent requests for the same pool, half through each host.
burst 500 "$T/a.out" "$PLUGIN_SOCK" &
pa=$!
burst 500 "$T/b.out" "$T/runb/plugin.sock" &
pb=$!
wait $pa; wait $pb
check "host A: 500 of 500 answered 200" [ "$(ok200 "$T/a.out")" = 500 ]
check "host B: 500 of 500 answered 200" [ "$(ok200 "$T/b.out")" = 500 ]
sed 's/ [0-9]*$//' "$T/a.out" "$T/b.out" "$T/killed" "$T/restarted" >"$T/all.json"
addresses "$T/all.json" | sort >"$T/all"
check "1,200 addresses in all" [ "$(wc -l <"$T/all")" = 1200 ]
check "no address handed out twice" [ -z "$(uniq -d "$T/all")" ]
check "none collides with the first four" not grep -qE "^$b1\\.[1-4]/21\$" "$T/all"
check "the database holds exactly these 1,204" [ "$(pg_psql \
    "select count(*) from netcrave_records where kind = 'ipam.address' and not deleted")" = 1204 ]
lost=$(cat "$LOG" "$T/b.log" | grep -c "went to another host first")
echo "# the hosts lost $lost races for an address to each other and moved on"

# A database whose certificate another CA signed is refused at start.
sed "s|$PKI/ca.crt|$PKI/otherca.crt|" "$CONF" | sed -e "s|\"$INSTANCE\"|\"${INSTANCE}c\"|" \
    -e "s|$T/run|$T/runc|g" -e "s|$T/state|$T/statec|g" >"$T/c.json"
mkdir -p "$T/statec"; cp -a "$T/state/keys" "$T/statec/keys"
out=$(timeout 20 "$NETCRAVED" -f -c "$T/c.json" 2>&1)
check "verify-full: an untrusted server certificate stops start-up" contains "$out" "certificate verify failed"

# Both hosts ask for a new pool of the same scope at the same moment: one /21
# is left, and only one host gets it.
pool_req() {
	curl -s --unix-socket "$1" -X POST -H 'Content-Type:' -o "$2" \
	    --data-binary '{"Pool":"","Options":{"netcrave.tag":"web"},"V6":false}' \
	    http://localhost/IpamDriver.RequestPool
}
pool_req "$PLUGIN_SOCK" "$T/pa" & pa=$!
pool_req "$T/runb/plugin.sock" "$T/pb" & pb=$!
wait $pa; wait $pb
check "the last /21 went to exactly one host" [ "$(cat "$T/pa" "$T/pb" |
    grep -c "\"Pool\":\"$b2.0/21\"")" = 1 ]
check "the other host was told the scope is exhausted" \
    grep -q "exhausted" "$T/pa" "$T/pb"
grep -q "the last by another host" "$T/pa" "$T/pb" &&
    echo "# (the loser lost at the database, not by hearing of it first)"
check "one prefix claim per pool in the database" [ "$(pg_psql \
    "select count(*) from netcrave_records where kind = 'ipam.net' and not deleted")" = 2 ]
# The winner's new pool reaches the other host through the change log.
if grep -q '"PoolID"' "$T/pa"; then
	newpool=$(jq -r .PoolID "$T/pa"); other=$T/runb/plugin.sock
else
	newpool=$(jq -r .PoolID "$T/pb"); other=$PLUGIN_SOCK
fi
check "the other host serves the new pool it heard of" wait_for 5 sh -c \
    "curl -s --unix-socket '$other' -X POST -H 'Content-Type:' \
    --data-binary '{\"PoolID\":\"$newpool\",\"Address\":\"\",\"Options\":{}}' \
    http://localhost/IpamDriver.RequestAddress | grep -q '\"Address\":\"$b2.1/21\"'"

# The database away for longer than host B's timeout: a clear error, and
# service again once it is back.
pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
r=$(curl -s --unix-socket "$T/runb/plugin.sock" -X POST -H 'Content-Type:' \
    --data-binary '{"PoolID":"'$pool'","Address":"","Options":{}}' \
    http://localhost/IpamDriver.RequestAddress)
check "database down: the request fails, saying why" contains "$r" \
    "the database has been unreachable for 2000 ms"
pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start >/dev/null
check "database back: host B serves again" wait_for 15 sh -c \
    "curl -s --unix-socket '$T/runb/plugin.sock' -X POST -H 'Content-Type:' \
    --data-binary '{\"PoolID\":\"$pool\",\"Address\":\"\",\"Options\":{}}' \
    http://localhost/IpamDriver.RequestAddress | grep -q '\"Address\"'"
check "the failed request left no record behind" [ "$(pg_psql \
    "select count(*) from netcrave_records where kind = 'ipam.address' and not deleted")" = 1206 ]

# Both hosts allocating at once when host A is killed -9 and host B's
# database connection is cut: nothing host B answered is lost, host A's
# answered requests are all recorded, no address twice, and both hosts agree
# afterwards.
burst 300 "$T/ca.out" "$PLUGIN_SOCK" &
pa=$!
burst 300 "$T/cb.out" "$T/runb/plugin.sock" &
pb=$!
# mid-run: once host A has answered a third of its share
wait_for 20 sh -c "[ \$(grep -c ' 200\$' '$T/ca.out' 2>/dev/null) -ge 100 ]"
kill -KILL "$NC_PID"
pg_psql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'netcraved'" >/dev/null
echo "# host B had answered $(grep -c ' 200$' "$T/cb.out") of 300 when its connection was cut"
wait $pa; wait $pb
wait "$NC_PID" 2>/dev/null; NC_PID=
check "chaos: host B answered 300 of 300 with its connection cut" [ "$(ok200 "$T/cb.out")" = 300 ]
echo "# host A answered $(ok200 "$T/ca.out") of 300 before kill -9"
sed 's/ [0-9]*$//' "$T/ca.out" "$T/cb.out" >"$T/chaos.json"
addresses "$T/chaos.json" | sort >"$T/chaos"
cat "$T/all" "$T/chaos" | sort >"$T/every"
check "chaos: no address handed out twice, before or during" [ -z "$(uniq -d "$T/every")" ]
pg_psql "select key from netcrave_records where kind = 'ipam.address' and not deleted" >"$T/keys"
missing=0
for a in $(sed 's|/.*||' "$T/chaos"); do
	grep -q "[^0-9.]$a\([^0-9]\|\$\)" "$T/keys" || missing=$((missing + 1))
done
check "chaos: every address answered is in the database ($missing missing)" [ "$missing" = 0 ]
nc_start || finish
check "chaos: host A is back" wait_for 10 curl -sf --unix-socket "$PLUGIN_SOCK" \
    -X POST http://localhost/Plugin.Activate -o /dev/null
# Both hosts see every address the other gave out: each refuses one of the
# other's, and their next free addresses differ.
one_of() { sed -n 's|/.*||p' "$1" | head -1; }
ask() {	# ask SOCKET ADDRESS
	curl -s --unix-socket "$1" -X POST -H 'Content-Type:' \
	    --data-binary '{"PoolID":"'$pool'","Address":"'$2'","Options":{}}' \
	    http://localhost/IpamDriver.RequestAddress
}
bsample=$(sed 's/ [0-9]*$//' "$T/cb.out" | addresses | sed -n 's|/.*||p' | head -1)
check "chaos: host A refuses an address host B gave out ($bsample)" \
    contains "$(ask "$PLUGIN_SOCK" "$bsample")" "already in use"
asample=$(sed 's/ [0-9]*$//' "$T/ca.out" | addresses | sed -n 's|/.*||p' | head -1)
if [ -n "$asample" ]; then
	check "chaos: host B refuses an address host A gave out ($asample)" \
	    contains "$(ask "$T/runb/plugin.sock" "$asample")" "already in use"
fi
na=$(ask "$PLUGIN_SOCK" "" | jq -r .Address)
nb=$(ask "$T/runb/plugin.sock" "" | jq -r .Address)
check "chaos: the hosts' next addresses differ ($na, $nb)" sh -c \
    "[ -n '$na' ] && [ '$na' != null ] && [ '$na' != '$nb' ] && ! grep -qx '$na' '$T/every' && ! grep -qx '$nb' '$T/every'"

kill -TERM "$B_PID"; brc=0; wait "$B_PID" || brc=$?; B_PID=
check "host B stops cleanly" [ "$brc" = 0 ]
[ "$brc" = 0 ] || cat "$T/b.log"
check "host A stops cleanly" nc_stop
finish
