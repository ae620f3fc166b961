#!/bin/sh
# volume.sh: the VolumeDriver as dockerd drives it (curl on the plugin socket),
# and the FUSE mount it hands out exercised with ordinary shell tools: data
# written through the mount is stored as ciphertext by the dav server, and
# volumes, mounts and data survive a restart of netcraved.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "skip - needs root, /dev/fuse and fusermount3"
	exit 77
fi

# Certificates of 30 s: renewal (at two thirds) happens within the test.
nc_write_conf '"volume": { "cert_lifetime": 30 }'
nc_start || finish

r=$(plugin_call /VolumeDriver.Capabilities)
check "Capabilities: local" contains "$r" '200 {"Capabilities":{"Scope":"local"}}'
r=$(plugin_call /VolumeDriver.Create '{"Name":"v1","Opts":{"colour":"red"}}')
check "unknown option refused" contains "$r" '400 {"Err":"netcrave: volume v1: unknown option colour'
r=$(plugin_call /VolumeDriver.Create '{"Name":"v1","Opts":{"type":"certs","names":"a.test","issuer":"acme"}}')
check "issuer=acme without an acme section: refused" contains "$r" 'issuer=acme needs the acme section'
r=$(plugin_call /VolumeDriver.Create '{"Name":"../x","Opts":{}}')
check "bad name refused" contains "$r" '400 {"Err":"netcrave: VolumeDriver.Create: volume name ../x'
r=$(plugin_call /VolumeDriver.Create '{"Name":"v1","Opts":{"type":"data"}}')
check "Create v1" contains "$r" '200 {}'
r=$(plugin_call /VolumeDriver.Create '{"Name":"v1","Opts":null}')
check "Create again is fine" contains "$r" '200 {}'
r=$(plugin_call /VolumeDriver.List '{}')
check "List shows v1" contains "$r" '{"Volumes":[{"Name":"v1","Mountpoint":"","CreatedAt":"'
r=$(plugin_call /VolumeDriver.Get '{"Name":"v1"}')
check "Get: RFC 3339 CreatedAt" sh -c "echo '$r' | grep -Eq '\"CreatedAt\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\"'"
check "Get: status with encryption" contains "$r" '"encryption":"AES-256-GCM'

r=$(plugin_call /VolumeDriver.Mount '{"Name":"v1","ID":"c1"}')
MP=$T/run/volumes/v1
check "Mount answers the mountpoint" contains "$r" "200 {\"Mountpoint\":\"$MP\"}"
r=$(plugin_call /VolumeDriver.Mount '{"Name":"v1","ID":"c2"}')
check "second Mount: same mountpoint" contains "$r" "200 {\"Mountpoint\":\"$MP\"}"
check "one FUSE mount" [ "$(grep -c " $MP fuse" /proc/mounts)" = 1 ]
check "mounted allow_other" grep -q " $MP fuse.netcrave .*allow_other" /proc/mounts
r=$(plugin_call /VolumeDriver.Path '{"Name":"v1"}')
check "Path" contains "$r" "200 {\"Mountpoint\":\"$MP\"}"
r=$(plugin_call /VolumeDriver.Remove '{"Name":"v1"}')
check "Remove refused while mounted" contains "$r" '409 {"Err":"netcrave: volume v1 is mounted by 2 container(s)'

# POSIX through the mount.
check "write a file" sh -c "echo 'hello netcrave volume' > $MP/hello.txt"
check "read it back" [ "$(cat "$MP/hello.txt")" = "hello netcrave volume" ]
check "append" sh -c "echo more >> $MP/hello.txt && [ \"\$(tail -n1 $MP/hello.txt)\" = more ]"
check "size" [ "$(stat -c %s "$MP/hello.txt")" = 27 ]
check "mkdir" mkdir "$MP/d1"
check "mkdir existing: EEXIST" sh -c "mkdir $MP/d1 2>&1 | grep -q 'File exists'"
check "rename into a directory" mv "$MP/hello.txt" "$MP/d1/renamed.txt"
check "old name gone" not test -e "$MP/hello.txt"
check "new name reads" [ "$(head -n1 "$MP/d1/renamed.txt")" = "hello netcrave volume" ]
check "readdir" [ "$(ls "$MP/d1")" = "renamed.txt" ]
check "rmdir non-empty: ENOTEMPTY" sh -c "rmdir $MP/d1 2>&1 | grep -q 'not empty'"
check "cat missing: ENOENT" sh -c "cat $MP/nope 2>&1 | grep -q 'No such file'"
check "truncate shrinks" sh -c "truncate -s 5 $MP/d1/renamed.txt && [ \"\$(cat $MP/d1/renamed.txt)\" = hello ]"
check "truncate grows with zeros" sh -c "truncate -s 8 $MP/d1/renamed.txt && [ \"\$(od -An -c $MP/d1/renamed.txt | tr -d ' ')\" = 'hello\\0\\0\\0' ]"
# Writes at any offset, reads at any offset.
check "write at an offset" sh -c "printf XY | dd of=$MP/d1/renamed.txt bs=1 seek=1 conv=notrunc status=none && [ \"\$(head -c 4 $MP/d1/renamed.txt)\" = hXYl ]"
check "read at an offset" [ "$(dd if="$MP/d1/renamed.txt" bs=1 skip=3 count=2 status=none)" = lo ]
# close(2) starts the upload of a new file; fsync, or sync of a directory
# (fsyncdir: every upload of the mount), waits until it is stored.
check "touch stores an empty file" sh -c "touch $MP/t && sync $MP && curl -sf --unix-socket $T/run/dav.sock http://x/v1/t -o $T/got && [ ! -s $T/got ]"
check "a closed file is on the server after sync DIR" sh -c "echo abc > $MP/t2 && sync $MP && [ \"\$(curl -sf --unix-socket $T/run/dav.sock http://x/v1/t2)\" = abc ]"
check "a closed file reads back at once" sh -c "echo def > $MP/t3 && [ \"\$(cat $MP/t3)\" = def ] && rm $MP/t3"
check "fsync of a file waits for it" sh -c "echo ghi | dd of=$MP/t4 conv=fsync status=none && [ \"\$(curl -sf --unix-socket $T/run/dav.sock http://x/v1/t4)\" = ghi ] && rm $MP/t4"
check "fsync of a new file: synced on the server when it returns" sh -c "echo jkl | dd of=$MP/t6 conv=fsync status=none && [ \"\$(curl -s --unix-socket $METRICS_SOCK http://x/metrics | awk '\$1 == \"netcrave_dav_unsynced_files\" { print \$2 }')\" = 0 ] && rm $MP/t6"
check "a closed file reaches the server (a second client) with its content, no sync asked" sh -c "echo c2o > $MP/t7 && for i in \$(seq 30); do [ \"\$(curl -sf --unix-socket $T/run/dav.sock http://x/v1/t7)\" = c2o ] && exit 0; sleep 0.1; done; exit 1"
check "... and is read back through the mount" [ "$(cat "$MP/t7")" = c2o ]
rm -f "$MP/t7"
# Many small files: uploads in flight together, lookups of new names in a
# directory made here answered without a round trip.
check "mkdir for many files" mkdir "$MP/many"
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
mval() { curl -s --unix-socket "$METRICS_SOCK" http://x/metrics | awk -v k="$1" '$1 == k { print $2 }'; }
reqs() { curl -s --unix-socket "$METRICS_SOCK" http://x/metrics | awk '/^netcrave_dav_requests_total/ { n += $2 } END { print n + 0 }'; }
r0=$(reqs)
check "200 small files then sync DIR" sh -c "i=0; while [ \$i -lt 200 ]; do echo \$i > $MP/many/f\$i || exit 1; i=\$((i + 1)); done; sync $MP/many"
# New files go out as PUT "X-Netcrave-Sync: later" (in place on the server
# at once, its fsync batched); sync DIR returns once the server synced them.
check "... nothing left unsynced on the server" [ "$(mval netcrave_dav_unsynced_files)" = 0 ]
check "... all stored unsynced, then synced ($(mval netcrave_dav_later_synced_files_total))" [ "$(mval netcrave_dav_later_synced_files_total)" -ge 200 ]
r1=$(reqs)
check "... one request per file, and few more ($((r1 - r0)))" between $((r1 - r0)) 200 215
n=$(curl -s --unix-socket "$T/run/dav.sock" -X PROPFIND -H 'Depth: 1' http://x/v1/many/ | grep -o '<D:href>' | wc -l)
check "... all 200 on the server ($((n - 1)))" [ "$n" = 201 ]
check "... with their bytes" [ "$(curl -sf --unix-socket "$T/run/dav.sock" http://x/v1/many/f137)" = 137 ]
check "... listed through the mount" [ "$(ls "$MP/many" | wc -l)" = 200 ]
curl -sf --unix-socket "$T/run/dav.sock" -T /dev/null http://x/v1/many/outside
check "a file made behind the mount's back is seen within a second" wait_for 3 test -e "$MP/many/outside"
check "rm of many" rm -r "$MP/many"
check "removed before and after storing" sh -c "rm $MP/t $MP/t2 && ! test -e $MP/t && ! curl -sf --unix-socket $T/run/dav.sock http://x/v1/t2 -o /dev/null"
check "O_EXCL on an existing file: EEXIST" sh -c "echo x > $MP/ex && ! (set -C; echo y > $MP/ex) 2>/dev/null && rm $MP/ex"
check "unlink" rm "$MP/d1/renamed.txt"
check "rmdir" rmdir "$MP/d1"
check "empty again" [ -z "$(ls -A "$MP")" ]

# 100 MiB through the write-back buffer and ranged reads.
head -c $((100 * 1024 * 1024)) /dev/urandom > "$T/big"
want=$(sha256sum < "$T/big" | cut -d' ' -f1)
check "dd 100 MiB in" dd if="$T/big" of="$MP/big" bs=1M conv=fsync status=none
check "100 MiB size" [ "$(stat -c %s "$MP/big")" = $((100 * 1024 * 1024)) ]
gets() { curl -s --unix-socket "$METRICS_SOCK" http://x/metrics | awk '/^netcrave_dav_requests_total\{method="GET"/ { n += $2 } END { print n + 0 }'; }
g0=$(gets)
check "100 MiB sha256 through the mount" [ "$(sha256sum < "$MP/big" | cut -d' ' -f1)" = "$want" ]
g1=$(gets)
check "the mount reads ahead 1 MiB ($(cat /sys/class/bdi/$(mountpoint -d "$MP")/read_ahead_kb) KiB)" [ "$(cat /sys/class/bdi/$(mountpoint -d "$MP")/read_ahead_kb)" = 1024 ]
check "... a sequential read of 100 MiB is 1 MiB GETs ($((g1 - g0)))" between $((g1 - g0)) 100 130
check "random-offset read matches" [ "$(dd if="$MP/big" bs=4096 skip=12345 count=3 status=none | sha256sum)" = "$(dd if="$T/big" bs=4096 skip=12345 count=3 status=none | sha256sum)" ]
echo "secret-marker-$INSTANCE" > "$MP/plain.txt"
stored=$(find "$T/state/volumes" -type f -path '*v1*' | head -n 100)
check "the dav store holds the files" [ -n "$stored" ]
check "no plaintext on disk" not grep -rq "secret-marker-$INSTANCE" "$T/state/volumes"
check "big file on disk is not the plaintext" sh -c "! find $T/state/volumes -type f -size +90M -exec cmp -s {} $T/big \; -print | grep -q ."

# Restart: the mount of the old run is replaced, volume and data stay.
curl -sf --unix-socket "$METRICS_SOCK" http://x/metrics > "$T/metrics"
check "the mount speaks h2c (prior knowledge) on the local socket" grep -Eq '^netcrave_dav_requests_by_protocol_total\{protocol="h2c"\} [1-9]' "$T/metrics"
check "netcraved stops cleanly" nc_stop
check "unmounted on stop" not grep -q " $MP fuse" /proc/mounts
nc_start || finish
check "remounted for the IDs Docker still holds" wait_for 5 grep -q " $MP fuse" /proc/mounts
check "data after restart" [ "$(sha256sum < "$MP/big" | cut -d' ' -f1)" = "$want" ]
r=$(plugin_call /VolumeDriver.List '{}')
check "List after restart" contains "$r" '"Name":"v1"'

# A crash leaves a dead mount (ENOTCONN); the next start detaches it and
# mounts afresh.
kill -KILL "$NC_PID"; wait "$NC_PID" 2>/dev/null; NC_PID=
check "crash leaves a dead mount" sh -c "stat $MP 2>&1 | grep -q 'not connected'"
nc_start || finish
check "stale mount replaced" wait_for 5 test -f "$MP/plain.txt"
check "data after a crash" [ "$(cat "$MP/plain.txt")" = "secret-marker-$INSTANCE" ]
check "one FUSE mount after the crash" [ "$(grep -c " $MP fuse" /proc/mounts)" = 1 ]
check "stale mount logged" grep -q "stale mount $MP detached" "$LOG"

r=$(plugin_call /VolumeDriver.Unmount '{"Name":"v1","ID":"c1"}')
check "Unmount c1" contains "$r" '200 {}'
check "still mounted for c2" grep -q " $MP fuse" /proc/mounts
r=$(plugin_call /VolumeDriver.Unmount '{"Name":"v1","ID":"c2"}')
check "Unmount c2" contains "$r" '200 {}'
check "unmounted after the last" not grep -q " $MP fuse" /proc/mounts
# The last Unmount right after many close(2)s: unmounted once all is stored.
r=$(plugin_call /VolumeDriver.Mount '{"Name":"v1","ID":"c3"}')
check "Mount c3" contains "$r" "200 {\"Mountpoint\":\"$MP\"}"
check "100 files, no sync" sh -c "mkdir $MP/last && i=0; while [ \$i -lt 100 ]; do echo \$i > $MP/last/f\$i || exit 1; i=\$((i + 1)); done"
r=$(plugin_call /VolumeDriver.Unmount '{"Name":"v1","ID":"c3"}')
check "Unmount c3 at once" contains "$r" '200 {}'
check "unmounted once stored" wait_for 10 sh -c "! grep -q ' $MP fuse' /proc/mounts"
n=$(curl -s --unix-socket "$T/run/dav.sock" -X PROPFIND -H 'Depth: 1' http://x/v1/last/ | grep -o '<D:href>' | wc -l)
check "... all 100 on the server ($((n - 1)))" [ "$n" = 101 ]
r=$(plugin_call /VolumeDriver.Remove '{"Name":"v1"}')
check "Remove" contains "$r" '200 {}'
r=$(plugin_call /VolumeDriver.Get '{"Name":"v1"}')
check "Get after Remove: 404" contains "$r" '404 '
# Certificate volumes from the internal CA, read-only.
r=$(plugin_call /VolumeDriver.Create '{"Name":"c1","Opts":{"type":"certs","names":"bad name"}}')
check "certs: bad name refused" contains "$r" '400 {"Err":"netcrave: volume c1: names: bad name is not a DNS name'
t_issued=$(date +%s)
r=$(plugin_call /VolumeDriver.Create '{"Name":"c1","Opts":{"type":"certs","names":"web.netcrave.internal,web.example.test"}}')
check "certs: Create" contains "$r" '200 {}'
r=$(plugin_call /VolumeDriver.Mount '{"Name":"c1","ID":"k1"}')
CP=$T/run/volumes/c1
check "certs: Mount" contains "$r" "200 {\"Mountpoint\":\"$CP\"}"
check "certs: three files" [ "$(ls "$CP" | tr '\n' ' ')" = "ca.crt tls.crt tls.key " ]
check "certs: read-only" sh -c "! echo x > $CP/tls.crt 2>/dev/null"
check "certs: tls.crt verifies against ca.crt" openssl verify -CAfile "$CP/ca.crt" "$CP/tls.crt"
sans=$(openssl x509 -in "$CP/tls.crt" -noout -ext subjectAltName 2>&1)
check "certs: SANs" sh -c "echo '$sans' | grep -q 'DNS:web.netcrave.internal, DNS:web.example.test'"
check "certs: key matches" [ "$(openssl pkey -in "$CP/tls.key" -pubout | sha256sum)" = "$(openssl x509 -in "$CP/tls.crt" -noout -pubkey | sha256sum)" ]
check "certs: P-256" sh -c "openssl x509 -in $CP/tls.crt -noout -text | grep -q 'prime256v1\\|P-256'"
check "certs: chain in tls.crt" [ "$(grep -c 'BEGIN CERTIFICATE' "$CP/tls.crt")" = 2 ]
check "certs: no plaintext key on disk" not grep -rq "PRIVATE KEY" "$T/state/volumes"
r=$(curl -s --unix-socket "$CONTROL_SOCK" http://localhost/certs)
check "control /certs lists it" contains "$r" '"volume":"c1","names":"web.netcrave.internal,web.example.test"'
# renew_at: a third of the lifetime before the end, from the certificate's own
# dates (the internal CA's rule, which acme_cert_renew_next keeps).
nb=$(date -u -d "$(openssl x509 -in "$CP/tls.crt" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -u -d "$(openssl x509 -in "$CP/tls.crt" -noout -enddate | cut -d= -f2)" +%s)
want=$(date -u -d "@$((na - (na - nb) / 3))" +%Y-%m-%dT%H:%M:%SZ)
check "control /certs: renew_at a third before not_after ($want)" \
    contains "$r" "\"renew_at\":\"$want\""
r=$("$NETCRAVECTL" -s "$CONTROL_SOCK" certs 2>&1)
check "netcravectl certs" contains "$r" "web.example.test"
r=$("$NETCRAVECTL" -s "$CONTROL_SOCK" volumes 2>&1)
check "netcravectl volumes" contains "$r" "c1"
# Renewal at two thirds of the lifetime, each file replaced atomically: a
# reader looping over the files meanwhile never sees one half-written.
serial1=$(openssl x509 -in "$CP/tls.crt" -noout -serial)
(
	while [ ! -e "$T/reader.stop" ]; do
		c=$(cat "$CP/tls.crt"); k=$(cat "$CP/tls.key"); a=$(cat "$CP/ca.crt")
		if [ "$(echo "$c" | grep -c -e '-----BEGIN CERTIFICATE-----' -e '-----END CERTIFICATE-----')" != 4 ] ||
		    [ "$(echo "$a" | grep -c -e '-----BEGIN CERTIFICATE-----' -e '-----END CERTIFICATE-----')" != 2 ] ||
		    ! echo "$k" | grep -q -e '-----END PRIVATE KEY-----' ||
		    ! echo "$c" | openssl x509 -noout 2>/dev/null; then
			echo "$c" >> "$T/reader.bad"
		fi
		echo . >> "$T/reader.n"
	done
) &
reader=$!
check "certs: renewed within the lifetime" wait_for 40 grep -q "volume c1: certificate renewed" "$LOG"
t_renewed=$(date +%s)
sleep 1
touch "$T/reader.stop"; wait "$reader"
check "certs: renewal at about two thirds of 30 s ($((t_renewed - t_issued)) s), not at once" [ $((t_renewed - t_issued)) -ge 15 ]
check "certs: a reader never saw a partial file ($(wc -l < "$T/reader.n") reads)" [ ! -e "$T/reader.bad" ]
check "certs: a new certificate" [ "$(openssl x509 -in "$CP/tls.crt" -noout -serial)" != "$serial1" ]
check "certs: renewed tls.crt verifies" openssl verify -CAfile "$CP/ca.crt" "$CP/tls.crt"
check "certs: renewed key matches" [ "$(openssl pkey -in "$CP/tls.key" -pubout | sha256sum)" = "$(openssl x509 -in "$CP/tls.crt" -noout -pubkey | sha256sum)" ]
check "certs: lifetime 30 s (+3 s backdated)" [ $(( $(date -d "$(openssl x509 -in "$CP/tls.crt" -noout -enddate | cut -d= -f2)" +%s) - $(date -d "$(openssl x509 -in "$CP/tls.crt" -noout -startdate | cut -d= -f2)" +%s) )) = 33 ]
r=$(plugin_call /VolumeDriver.Unmount '{"Name":"c1","ID":"k1"}')
check "certs: Unmount" contains "$r" '200 {}'
check "daemon still up" kill -0 "$NC_PID"
check "netcraved stops cleanly again" nc_stop

# The FUSE client over TCP with mutual TLS (volume.dav_remote), against
# netcraved's own WebDAV listener that requires a client certificate of the
# internal CA: as a volume on another host would be reached.
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nc_write_conf "\"volume\": { \"dav_remote\": \"127.0.0.1:$P\" }, \"dav\": { \"listen\": [\"127.0.0.1:$P\"] }"
nc_start || finish
check "remote: logged" grep -q "mounts speak WebDAV to 127.0.0.1:$P over mutual TLS" "$LOG"
r=$(plugin_call /VolumeDriver.Create '{"Name":"r1"}')
check "remote: Create" contains "$r" '200 {}'
r=$(plugin_call /VolumeDriver.Mount '{"Name":"r1","ID":"m1"}')
RP=$T/run/volumes/r1
check "remote: Mount" contains "$r" "200 {\"Mountpoint\":\"$RP\"}"
check "remote: write, mkdir, rename" sh -c "echo over-tls > $RP/a && mkdir $RP/d && mv $RP/a $RP/d/b && sync $RP"
check "remote: read back" [ "$(cat "$RP/d/b")" = over-tls ]
head -c $((3 * 1024 * 1024 + 5)) /dev/urandom > "$T/rbig"
check "remote: 3 MiB with fsync" dd if="$T/rbig" of="$RP/big" bs=64k conv=fsync status=none
check "remote: 3 MiB read back" cmp "$T/rbig" "$RP/big"
check "remote: the server has it" [ "$(curl -sf --unix-socket "$T/run/dav.sock" http://x/r1/d/b)" = over-tls ]
check "remote: connections are TCP to the TLS port" sh -c "ss -Htn state established '( dport = :$P )' | grep -q ."
check "remote: one HTTP/2 connection, not a pool" [ "$(ss -Htn state established "( dport = :$P )" | wc -l)" = 1 ]
curl -sf --unix-socket "$METRICS_SOCK" http://x/metrics > "$T/metrics"
check "remote: the mount speaks h2 (ALPN)" grep -Eq '^netcrave_dav_requests_by_protocol_total\{protocol="h2"\} [1-9]' "$T/metrics"
check "remote: plain HTTP on the TLS port refused" not curl -sf -o /dev/null "http://127.0.0.1:$P/r1/d/b"
check "remote: TLS without a client certificate refused" not curl -sf -o /dev/null --cacert "$T/state/ca/ca.crt" "https://127.0.0.1:$P/r1/d/b"
check "remote: h2 without a client certificate refused" not curl -sf --http2 -o /dev/null --cacert "$T/state/ca/ca.crt" "https://127.0.0.1:$P/r1/d/b"
r=$(plugin_call /VolumeDriver.Unmount '{"Name":"r1","ID":"m1"}')
check "remote: Unmount" contains "$r" '200 {}'
check "netcraved stops cleanly at last" nc_stop
finish
