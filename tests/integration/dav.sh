#!/bin/sh
# dav.sh: the WebDAV server over plain HTTP on loopback: litmus (all suites,
# every test passed and no warnings), what litmus never checks (listings,
# PROPPATCH atomicity, error bodies, LOCK on unmapped URLs, If lists, ranges,
# PATCH, traversal tricks, tamper and truncation of the encrypted store,
# properties and locks across a restart) and cadaver as a second client.
. "$(dirname "$0")/lib.sh"

command -v litmus >/dev/null || { echo "ok - skipped: litmus not installed (apt-get install litmus)"; exit 0; }

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
MTLS_PORT=$(freeport)
TLS_PORT=$(freeport)
nc_write_conf "\"http\": { \"idle_timeout_ms\": 1500 }, \"dav\": { \"plain_listen\": \"127.0.0.1:0\", \"listen\": [\"127.0.0.1:$MTLS_PORT\", \"tls://127.0.0.1:$TLS_PORT\"] }"
nc_start || finish
PORT=$(sed -n 's/.*dav: plaintext HTTP on .*, port \([0-9]*\).*/\1/p' "$LOG" | tail -1)
check "plaintext listener on loopback" [ -n "$PORT" ]
U=http://127.0.0.1:$PORT
VOLDIR=$T/state/volumes

# code METHOD URL [curl args...]: print the status code, body in $T/body.
code() {
	_m=$1; _u=$2; shift 2
	curl -s --path-as-is -o "$T/body" -D "$T/head" -w '%{http_code}' -X "$_m" "$@" "$_u"
}
refused() { [ "$1" = 400 ] || [ "$1" = 403 ]; }
hdr() { sed -n "s/^$1: *//Ip" "$T/head" | tr -d '\r' | head -1; }

check "MKCOL at the root makes a volume" [ "$(code MKCOL $U/v1/)" = 201 ]
check "the volume has its own wrapped key" [ -n "$(ls "$T/state/keys" | grep -i volume)" ]

# litmus, every suite; the summary lines stay in the test log.
# (litmus reads its suite list from $TESTS, which make check sets too.)
TESTS="basic copymove props locks http" litmus "$U/v1/" > "$T/litmus.out" 2>&1
grep -E '^<- summary|WARNING|FAIL' "$T/litmus.out" | sed 's/^/  litmus: /'
for s in basic copymove props locks http; do
	check "litmus $s: all passed" grep -q "summary for \`$s': of [0-9]* tests run: \([0-9]*\) passed, 0 failed" "$T/litmus.out"
done
n=$(sed -n "s/.*tests run: \([0-9]*\) passed.*/\1/p" "$T/litmus.out" | awk '{s+=$1} END {print s}')
check "litmus: 104 tests passed ($n)" [ "$n" = 104 ]
check "litmus: no warnings" not grep -q WARNING "$T/litmus.out"

# PROPFIND Depth 1 lists the members with their sizes.
printf 'hello' > "$T/f5"
code PUT $U/v1/a.txt --data-binary @"$T/f5" >/dev/null
code PUT $U/v1/b%20c.txt --data-binary @"$T/f5" >/dev/null
code MKCOL $U/v1/sub/ >/dev/null
st=$(code PROPFIND $U/v1/ -H 'Depth: 1')
b=$(cat "$T/body")
check "PROPFIND Depth 1: 207" [ "$st" = 207 ]
check "listing has the collection" contains "$b" "<D:href>/v1/</D:href>"
check "listing has a.txt" contains "$b" "<D:href>/v1/a.txt</D:href>"
check "listing has an encoded name" contains "$b" "<D:href>/v1/b%20c.txt</D:href>"
check "listing has sub/ as a collection" contains "$b" "<D:href>/v1/sub/</D:href>"
check "listing has sizes" contains "$b" "<D:getcontentlength>5</D:getcontentlength>"
check "PROPFIND Depth infinity refused" [ "$(code PROPFIND $U/v1/ -H 'Depth: infinity')" = 403 ]
check "... with propfind-finite-depth" grep -q propfind-finite-depth "$T/body"
check "PROPFIND on the root lists volumes" contains "$(code PROPFIND $U/ -H 'Depth: 1'; cat "$T/body")" "<D:href>/v1/</D:href>"

# PROPPATCH is all or nothing: a protected property fails it whole (403 + 424).
pp='<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>red</Z:color><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>'
st=$(code PROPPATCH $U/v1/a.txt --data-binary "$pp")
b=$(cat "$T/body")
check "PROPPATCH with a live property: 207" [ "$st" = 207 ]
check "... the live property 403" contains "$b" "HTTP/1.1 403 Forbidden"
check "... the other 424" contains "$b" "HTTP/1.1 424 Failed Dependency"
code PROPFIND $U/v1/a.txt -H 'Depth: 0' --data-binary '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:z"/></D:prop></D:propfind>' >/dev/null
check "... and nothing was set" contains "$(cat "$T/body")" "404 Not Found"
pp='<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>'
check "PROPPATCH of a dead property: 207" [ "$(code PROPPATCH $U/v1/a.txt --data-binary "$pp")" = 207 ]

# Error bodies say why.
check "PUT without parent: 409" [ "$(code PUT $U/v1/no/such/f --data-binary x)" = 409 ]
check "... with a reason" grep -q "parent collection" "$T/body"
check "malformed XML: 400" [ "$(code PROPFIND $U/v1/ -H 'Depth: 0' --data-binary '<D:propfind xmlns:D="DAV:"><D:prop>')" = 400 ]
check "... naming the place" grep -q "XML 1:" "$T/body"
check "DOCTYPE refused: 400" [ "$(code PROPFIND $U/v1/ -H 'Depth: 0' --data-binary '<!DOCTYPE x [<!ENTITY a "b">]><x/>')" = 400 ]
check "method not served: 405" [ "$(code SEARCH $U/v1/a.txt)" = 405 ]

# LOCK on an unmapped URL makes an empty locked resource: 201.
li='<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>it</D:owner></D:lockinfo>'
check "LOCK unmapped: 201" [ "$(code LOCK $U/v1/new.txt -H 'Timeout: Second-600' --data-binary "$li")" = 201 ]
TOK=$(hdr Lock-Token | tr -d '<>')
check "... with a token" contains "$TOK" "urn:uuid:"
check "... an empty resource exists" [ "$(code GET $U/v1/new.txt)" = 200 ]
check "PUT without the token: 423" [ "$(code PUT $U/v1/new.txt --data-binary x)" = 423 ]
check "... with lock-token-submitted" grep -q lock-token-submitted "$T/body"
check "If tagged list with the token: 204" [ "$(code PUT $U/v1/new.txt --data-binary x -H "If: <$U/v1/new.txt> (<$TOK>)")" = 204 ]
check "If list (Not token): 423" [ "$(code PUT $U/v1/new.txt --data-binary x -H "If: (Not <$TOK>)")" = 423 ]
check "If second list holds: 204" [ "$(code PUT $U/v1/new.txt --data-binary y -H "If: (<urn:uuid:nope>) (<$TOK>)")" = 204 ]
ET=$(code HEAD $U/v1/a.txt >/dev/null; hdr ETag)
check "If [etag] matching: 204" [ "$(code PUT $U/v1/a.txt --data-binary hello -H "If: ([$ET])")" = 204 ]
check "If [etag] stale: 412" [ "$(code PUT $U/v1/a.txt --data-binary hello -H "If: ([$ET])")" = 412 ]
check "If (Not <DAV:no-lock>): 204" [ "$(code PUT $U/v1/a.txt --data-binary hello -H "If: (Not <DAV:no-lock>)")" = 204 ]
code MKCOL $U/v1/dl/ >/dev/null
code PUT $U/v1/dl/locked --data-binary x >/dev/null
code LOCK $U/v1/dl/locked --data-binary "$li" >/dev/null
DLTOK=$(hdr Lock-Token | tr -d '<>')
check "DELETE of a collection with a locked member: 207" [ "$(code DELETE $U/v1/dl/)" = 207 ]
check "... naming the member with 423" sh -c "grep -q '/v1/dl/locked' '$T/body' && grep -q '423 Locked' '$T/body'"
check "... nothing deleted" [ "$(code GET $U/v1/dl/locked)" = 200 ]
check "DELETE with the member's token: 204" [ "$(code DELETE $U/v1/dl/ -H "If: <$U/v1/dl/locked> (<$DLTOK>)")" = 204 ]
check "malformed If: 400" [ "$(code PUT $U/v1/a.txt --data-binary x -H "If: (<x")" = 400 ]

# Ranges, conditional GET, PATCH with X-Update-Range.
code PUT $U/v1/r.txt --data-binary '0123456789' >/dev/null
check "Range: 206" [ "$(code GET $U/v1/r.txt -H 'Range: bytes=2-5')" = 206 ]
check "... the bytes" [ "$(cat "$T/body")" = 2345 ]
check "Range suffix" [ "$(code GET $U/v1/r.txt -H 'Range: bytes=-3'; cat "$T/body")" = "206789" ]
check "Range past the end: 416" [ "$(code GET $U/v1/r.txt -H 'Range: bytes=20-')" = 416 ]
ET=$(code HEAD $U/v1/r.txt >/dev/null; hdr ETag)
check "If-None-Match: 304" [ "$(code GET $U/v1/r.txt -H "If-None-Match: $ET")" = 304 ]
check "PATCH bytes=3-4: 204" [ "$(code PATCH $U/v1/r.txt -H 'Content-Type: application/x-sabredav-partialupdate' -H 'X-Update-Range: bytes=3-4' --data-binary XY)" = 204 ]
check "... written in place" [ "$(code GET $U/v1/r.txt >/dev/null; cat "$T/body")" = 012XY56789 ]
code PATCH $U/v1/r.txt -H 'Content-Type: application/x-sabredav-partialupdate' -H 'X-Update-Range: append' --data-binary '!' >/dev/null
check "PATCH append" [ "$(code GET $U/v1/r.txt >/dev/null; cat "$T/body")" = '012XY56789!' ]
code PATCH $U/v1/r.txt -H 'Content-Type: application/x-sabredav-partialupdate' -H 'X-Update-Range: bytes=9000-9001' --data-binary 'ZZ' >/dev/null
check "PATCH past the end fills zeros" [ "$(code GET $U/v1/r.txt >/dev/null; wc -c < "$T/body")" = 9002 ]

# A large file streams both ways (several blocks, the drain path) intact.
head -c 5000000 /dev/urandom > "$T/big"
check "PUT 5 MB: 201" [ "$(code PUT $U/v1/big --data-binary @"$T/big")" = 201 ]
code GET $U/v1/big >/dev/null
check "GET 5 MB: same bytes" cmp -s "$T/big" "$T/body"
code GET $U/v1/big -H 'Range: bytes=4095-1048580' >/dev/null
check "GET across blocks with a range" sh -c "tail -c +4096 '$T/big' | head -c 1044486 | cmp -s - '$T/body'"

# On disk: ciphertext only.
printf 'PLAINTEXT-MARKER-%s' "$(od -An -N4 -tx1 /dev/urandom | tr -d ' ')" > "$T/marker"
code PUT $U/v1/m.txt --data-binary @"$T/marker" >/dev/null
check "stored file holds no plaintext" not grep -q "$(cat "$T/marker")" "$VOLDIR/v1/data/m.txt"
check "stored property holds no plaintext" not grep -rq blue "$VOLDIR/v1/data/.netcrave"

# Traversal tricks, all refused, nothing outside touched.
for p in '/v1/../etc/passwd' '/v1/%2e%2e/x' '/v1/a%2fb' '/v1/a%00b' '/v1/.netcrave/a.txt.p' \
    '/v1/%2E%2E%2Fx' '/v1/./a.txt' '/v1//a.txt' '/../x' "/v1/$(printf 'n%.0s' $(seq 300))"; do
	st=$(code GET "$U$p")
	check "traversal $p refused ($st)" refused "$st"
done
check "percent-encoded bad escape: 400" [ "$(code GET "$U/v1/a%zz")" = 400 ]
ln -s /etc "$VOLDIR/v1/data/link"
check "symlink inside storage: 403" [ "$(code GET $U/v1/link/passwd)" = 403 ]
check "symlink itself: 403" [ "$(code GET $U/v1/link)" = 403 ]
rm -f "$VOLDIR/v1/data/link"
check "COPY to another host: 502" [ "$(code COPY $U/v1/a.txt -H 'Destination: http://elsewhere.example/v1/z')" = 502 ]
check "COPY to the same host: 201" [ "$(code COPY $U/v1/a.txt -H "Destination: $U/v1/z.txt")" = 201 ]
check "COPY across volumes: 201" [ "$(code MKCOL $U/v2/)" = 201 ] && [ "$(code COPY $U/v1/r.txt -H "Destination: /v2/r.txt")" = 201 ]
check "... same bytes under the other key" [ "$(code GET $U/v2/r.txt >/dev/null; wc -c < "$T/body")" = 9002 ]

# Tampering and truncation: 5xx with a reason, other files still served.
code PUT $U/v1/t.txt --data-binary @"$T/big" >/dev/null
printf 'X' | dd of="$VOLDIR/v1/data/t.txt" bs=1 seek=5000 conv=notrunc 2>/dev/null
st=$(code GET $U/v1/t.txt -H 'Range: bytes=4000-5000')
check "tampered block: 500" [ "$st" = 500 ]
check "... saying so" grep -q "block 1 fails authentication" "$T/body"
check "untouched blocks still read" [ "$(code GET $U/v1/t.txt -H 'Range: bytes=0-100')" = 206 ]
check "whole GET of a tampered file is cut, not completed" not curl -sf -o /dev/null $U/v1/t.txt
code PUT $U/v1/u.txt --data-binary @"$T/big" >/dev/null
truncate -s $((24 + 4124 * 3)) "$VOLDIR/v1/data/u.txt"
check "truncated at a block boundary: 500" [ "$(code GET $U/v1/u.txt -H 'Range: bytes=8192-8200')" = 500 ]
check "... saying so" grep -q "fails authentication" "$T/body"
code PUT $U/v1/w.txt --data-binary @"$T/big" >/dev/null
truncate -s 100000 "$VOLDIR/v1/data/w.txt"
check "truncated mid-block: 500" [ "$(code GET $U/v1/w.txt -H 'Range: bytes=-10')" = 500 ]
check "other files still served" [ "$(code GET $U/v1/a.txt; cat "$T/body")" = 200hello ]

# Small files are served from a plaintext cache once read whole: tampering
# behind the server's back and every change made through it are still seen.
head -c 3000 /dev/urandom > "$T/small"
code PUT $U/v1/s.txt --data-binary @"$T/small" >/dev/null
# A file changed in the last two seconds is not cached (timestamps are coarse).
sleep 2.2
code GET $U/v1/s.txt >/dev/null
code GET $U/v1/s.txt >/dev/null
check "small file read twice (cached): same bytes" cmp -s "$T/small" "$T/body"
printf 'X' | dd of="$VOLDIR/v1/data/s.txt" bs=1 seek=100 conv=notrunc 2>/dev/null
check "cached small file tampered on disk: 500" [ "$(code GET $U/v1/s.txt)" = 500 ]
code PUT $U/v1/s.txt --data-binary @"$T/small" >/dev/null
code GET $U/v1/s.txt >/dev/null
check "PATCH right after a cached read: 204" [ "$(code PATCH $U/v1/s.txt -H 'X-Update-Range: bytes=0-3' -H 'Content-Type: application/x-sabredav-partialupdate' --data-binary ABCD)" = 204 ]
check "... the next GET has the new bytes" [ "$(code GET $U/v1/s.txt -H 'Range: bytes=0-5' >/dev/null; head -c 4 "$T/body")" = ABCD ]
code PUT $U/v1/s2.txt --data-binary 'other' >/dev/null
code GET $U/v1/s2.txt >/dev/null
check "MOVE over a cached file: 204" [ "$(code MOVE $U/v1/s.txt -H "Destination: $U/v1/s2.txt")" = 204 ]
check "... GET has the moved content" [ "$(code GET $U/v1/s2.txt >/dev/null; head -c 4 "$T/body")" = ABCD ]
check "... the source is gone" [ "$(code GET $U/v1/s.txt)" = 404 ]

# cadaver as a second client.
if command -v cadaver >/dev/null; then
	printf 'cadaver data %s\n' "$$" > "$T/cad.txt"
	(cd "$T" && printf 'put cad.txt\nmkcol cdir\nmove cad.txt cdir/cad.txt\nls cdir\nquit\n' |
	    timeout 20 cadaver "$U/v1/" > "$T/cadaver.out" 2>&1)
	check "cadaver: put, mkcol, move" [ "$(code GET $U/v1/cdir/cad.txt; cat "$T/body")" = "200$(cat "$T/cad.txt")" ]
	check "cadaver: ls shows the file" grep -q "cad.txt" "$T/cadaver.out"
else
	echo "ok - skipped: cadaver not installed"
fi

# HTTPS with mutual TLS: the internal CA, the local client certificate.
CL=$T/state/ca/clients
check "CA certificate written" [ -s "$T/state/ca/ca.crt" ]
check "CA key sealed, not PEM" not grep -q "PRIVATE KEY" "$T/state/ca/ca.key.sealed"
check "client PKCS#12 is 0600" [ "$(stat -c %a "$CL/local.p12")" = 600 ]
check "client certificate verifies against the CA" openssl verify -CAfile "$T/state/ca/ca.crt" "$CL/local.crt"
S=https://127.0.0.1:$MTLS_PORT
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CL/ca.crt" --cert "$CL/local.crt" --key "$CL/local.key" -X PROPFIND -H 'Depth: 0' $S/v1/)
check "mTLS with the client certificate: 207" [ "$st" = 207 ]
check "mTLS without a client certificate: refused" not curl -s -o /dev/null --cacert "$CL/ca.crt" $S/v1/
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" -out "$T/rogue.crt" -subj /CN=rogue -days 1 2>/dev/null
check "mTLS with a certificate from another CA: refused" not curl -s -o /dev/null --cacert "$CL/ca.crt" --cert "$T/rogue.crt" --key "$T/rogue.key" $S/v1/
check "server certificate verifies for 127.0.0.1" curl -sf -o /dev/null --cacert "$CL/ca.crt" https://127.0.0.1:$TLS_PORT/v1/
check "TLS 1.1 refused" not curl -s -o /dev/null --cacert "$CL/ca.crt" --tls-max 1.1 https://127.0.0.1:$TLS_PORT/v1/
check "TLS 1.3 negotiated" contains "$(curl -sv -o /dev/null --cacert "$CL/ca.crt" https://127.0.0.1:$TLS_PORT/v1/ 2>&1)" "TLSv1.3"
TESTS="basic copymove props locks http" litmus -c "$CL/local.p12" "$S/v1/" > "$T/litmus-tls.out" 2>&1
grep -E '^<- summary|WARNING|FAIL|SKIPPED' "$T/litmus-tls.out" | sed 's/^/  litmus https: /'
n=$(sed -n "s/.*tests run: \([0-9]*\) passed, 0 failed.*/\1/p" "$T/litmus-tls.out" | awk '{s+=$1} END {print s}')
check "litmus over HTTPS with -c: 103 passed, expect100 skipped by litmus ($n)" [ "$n" = 103 ]
check "litmus over HTTPS: no failures" not grep -q "FAIL" "$T/litmus-tls.out"
check "litmus over HTTPS: no warnings" not grep -q WARNING "$T/litmus-tls.out"

# HTTP/2: ALPN h2 over TLS, prior-knowledge h2c on the loopback listener.
if command -v nghttp >/dev/null; then
	out=$(nghttp -v --cert "$CL/local.crt" --key "$CL/local.key" "$S/v1/a.txt" 2>&1 | tr -d '\000')
	check "nghttp over TLS: ALPN h2" contains "$out" "The negotiated protocol: h2"
	check "nghttp over TLS: 200" contains "$out" ":status: 200"
	out=$(nghttp -v "$U/v1/r.txt" 2>&1 | tr -d '\000')
	check "nghttp h2c prior knowledge: 200 with an etag" contains "$out" "etag: "
	out=$(nghttp -v -H ':method: PROPFIND' -H 'depth: 1' "$U/v1/" 2>&1 | tr -d '\000')
	check "nghttp PROPFIND over h2c: 207" contains "$out" ":status: 207"
else
	echo "ok - skipped: nghttp not installed (nghttp2-client)"
fi
check "curl h2c PUT 5 MB: 201" [ "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code} %{http_version}' -T "$T/big" $U/v1/h2big)" = "201 2" ]
curl -s --cacert "$CL/ca.crt" --cert "$CL/local.crt" --key "$CL/local.key" -o "$T/h2big" -w '%{http_version}' $S/v1/h2big > "$T/ver"
check "curl h2 over TLS GET 5 MB: same bytes" cmp -s "$T/big" "$T/h2big"
check "... over HTTP/2" [ "$(cat "$T/ver")" = 2 ]
check "h2c traversal refused" refused "$(curl -s --http2-prior-knowledge --path-as-is -o /dev/null -w '%{http_code}' $U/v1/%2e%2e/x)"
check "h2 tampered file: 500" [ "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' -H 'Range: bytes=4000-5000' $U/v1/t.txt)" = 500 ]

# Plain HTTP bodies are read in 64 KiB gulps (a raised SO_RCVLOWAT): a body
# that trickles in slower than that per idle timeout (1.5 s here) but keeps
# moving must still be taken, and a request pipelined behind a big body on the
# same connection must be answered.
cat > "$T/trickle.py" <<'PY'
import socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
body = bytes(range(256)) * 4	# 1024 bytes, sent 100 at a time
s = socket.create_connection(("127.0.0.1", port))
s.sendall(("PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
    % (path, len(body))).encode())
for i in range(0, len(body), 100):
	s.sendall(body[i:i + 100])
	time.sleep(0.4)
big = bytes(200000)
s.sendall(("PUT %s.big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
    % (path, len(big))).encode() + big +
    ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
s.settimeout(10)
data = b""
while data.count(b"HTTP/1.1 ") < 3 or not data.endswith(body):
	chunk = s.recv(65536)
	if not chunk:
		break
	data += chunk
print(" ".join(l.split()[1].decode() for l in data.split(b"\r\n")
    if l.startswith(b"HTTP/1.1 ")), "same" if data.endswith(body) else "differ")
PY
out=$(python3 "$T/trickle.py" "$PORT" /v1/trickle 2>&1)
check "slow body over 4 s (idle 1.5 s), big body, pipelined GET: $out" [ "$out" = "201 201 200 same" ]
code GET $U/v1/trickle.big >/dev/null
check "... the big body stored whole" [ "$(wc -c < "$T/body")" = 200000 ]

# X-Netcrave-Sync: later (what the volumes' FUSE client sends for a new
# file): in place at its answer and synced soon after, or before the answer
# to a request of the volume carrying X-Netcrave-Sync: now; a file replaced
# is synced before its answer all the same.
mval() { curl -s --unix-socket "$METRICS_SOCK" http://x/metrics | awk -v k="$1" '$1 == k { print $2 }'; }
synced_is() { [ "$(mval netcrave_dav_later_synced_files_total)" = "$1" ]; }
echo later > "$T/later"
s0=$(mval netcrave_dav_later_synced_files_total)
s0=${s0:-0}
check "PUT with X-Netcrave-Sync: later of a new file: 201" [ "$(code PUT $U/v1/later1 -H 'X-Netcrave-Sync: later' -T "$T/later")" = 201 ]
check "... readable at once" [ "$(curl -s $U/v1/later1)" = later ]
check "... synced by the server within a second" wait_for 3 synced_is $((s0 + 1))
check "... none left unsynced" [ "$(mval netcrave_dav_unsynced_files)" = 0 ]
r=$(curl -s -o /dev/null -H 'X-Netcrave-Sync: later' -T "$T/later" $U/v1/later2 --next -s -o /dev/null -w '%{http_code}' -X PROPFIND -H 'Depth: 0' -H 'X-Netcrave-Sync: now' $U/v1/)
check "PROPFIND with X-Netcrave-Sync: now right after a PUT later: 207" [ "$r" = 207 ]
check "... answered with nothing left unsynced" [ "$(mval netcrave_dav_unsynced_files)" = 0 ]
check "... the file synced" synced_is $((s0 + 2))
check "PUT later over an existing file: 204" [ "$(code PUT $U/v1/later1 -H 'X-Netcrave-Sync: later' -T "$T/later")" = 204 ]
check "a plain PUT of a new file: 201" [ "$(code PUT $U/v1/later3 -T "$T/later")" = 201 ]
sleep 0.5
check "... both synced before their answer, not later" synced_is $((s0 + 2))

# Metrics: requests by method and status, body bytes in and out.
code FROB $U/v1/ >/dev/null
m=$(curl -s --unix-socket "$METRICS_SOCK" http://x/metrics)
val() { echo "$m" | grep -F "$1" | awk '{ print $2 }' | head -1; }
check "metrics: PUT 201 counted ($(val 'netcrave_dav_requests_total{method="PUT",code="201"}'))" [ "$(val 'netcrave_dav_requests_total{method="PUT",code="201"}')" -ge 10 ]
check "metrics: PROPFIND 207 counted" [ "$(val 'netcrave_dav_requests_total{method="PROPFIND",code="207"}')" -ge 1 ]
check "metrics: GET 206 counted" [ "$(val 'netcrave_dav_requests_total{method="GET",code="206"}')" -ge 1 ]
check "metrics: an unknown method is other/405" [ "$(val 'netcrave_dav_requests_total{method="other",code="405"}')" -ge 1 ]
check "metrics: bytes in (5 MB PUTs and more)" [ "$(val 'netcrave_dav_bytes_total{direction="in"}')" -gt 10000000 ]
check "metrics: bytes out (5 MB GETs and more)" [ "$(val 'netcrave_dav_bytes_total{direction="out"}')" -gt 10000000 ]
check "metrics: help text" contains "$m" "# HELP netcrave_dav_requests_total WebDAV requests by method and status."

# Properties and locks survive a restart.
check "stop" nc_stop
nc_start || finish
PORT=$(sed -n 's/.*dav: plaintext HTTP on .*, port \([0-9]*\).*/\1/p' "$LOG" | tail -1)
U=http://127.0.0.1:$PORT
code PROPFIND $U/v1/a.txt -H 'Depth: 0' --data-binary '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:z"/><D:lockdiscovery/></D:prop></D:propfind>' >/dev/null
check "dead property after restart" contains "$(cat "$T/body")" ">blue</R:color>"
code PROPFIND $U/v1/new.txt -H 'Depth: 0' --data-binary '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>' >/dev/null
check "lock after restart" contains "$(cat "$T/body")" "$TOK"
check "still locked: 423" [ "$(code DELETE $U/v1/new.txt)" = 423 ]
check "UNLOCK with the token: 204" [ "$(code UNLOCK $U/v1/new.txt -H "Lock-Token: <$TOK>")" = 204 ]
check "DELETE a volume" [ "$(code DELETE $U/v2/)" = 204 ]
check "... gone" [ ! -e "$VOLDIR/v2" ]
check "stop" nc_stop
finish
