#!/bin/sh
# icap.sh: the real c-icap-client against netcraved's ICAP server on loopback:
# OPTIONS, REQMOD and RESPMOD (blocked with an incident id, passed with 204 or
# echoed), previews, a rule file selected by service URI, a reload, and
# malformed requests answered 400 and closed (python3 as the raw client).
. "$(dirname "$0")/lib.sh"

if ! command -v c-icap-client >/dev/null 2>&1; then
	echo "ok - skipped: c-icap-client is not installed (Debian package c-icap)"
	exit 0
fi

# A free loopback port for this test.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)

cat > "$T/api.json" <<'JSON'
{
	"name": "api",
	"rules": [
		{ "id": "no-admin", "action": "block", "msg": "admin area",
		  "if": [ { "target": "path", "transforms": ["url", "path", "lower"],
			    "op": "prefix", "value": "/admin" } ] }
	]
}
JSON
nc_write_conf "\"waf\": { \"icap_listen\": \"127.0.0.1:$PORT\", \"rule_files\": [\"$T/api.json\"], \"preview_bytes\": 64 }"
nc_start || finish

icap() { c-icap-client -i 127.0.0.1 -p "$PORT" "$@" 2>&1; }

out=$(icap -s waf)
check "OPTIONS answers 200" contains "$out" "ICAP/1.0 200 OK"
check "OPTIONS lists the methods" contains "$out" "Methods: REQMOD, RESPMOD"
check "OPTIONS offers a preview" contains "$out" "Preview: 64"
check "OPTIONS allows 204" contains "$out" "Allow: 204"
istag=$(printf '%s\n' "$out" | sed -n 's/.*ISTag: //p')

out=$(icap -s waf -req 'http://shop.test/search?q=red+shoes' -v)
check "clean REQMOD: 204" contains "$out" "ICAP/1.0 204 No Content"

out=$(icap -s waf -req "http://shop.test/search?q=%27%20or%201%3D1--" -v)
check "SQL injection REQMOD: replaced" contains "$out" "HTTP/1.1 403 Forbidden"
check "the 403 names an incident" contains "$out" "X-Netcrave-Incident: "
id=$(printf '%s\n' "$out" | sed -n 's/.*X-Netcrave-Incident: \([0-9a-f]*\).*/\1/p' | head -1)
check "the incident is logged" grep -q "blocked incident $id set default rule sqli-tautology" "$LOG"

out=$(icap -s waf -req 'http://shop.test/p?x=%3Cscript%3Ealert(1)%3C/script%3E' -v)
check "XSS REQMOD: replaced" contains "$out" "HTTP/1.1 403 Forbidden"

# A body larger than the preview: 100 Continue, then the verdict.
{ printf 'comment='; head -c 300 /dev/zero | tr '\0' 'a'; printf '%%3Cscript%%3Ealert(1)%%3C/script%%3E'; } > "$T/form"
out=$(icap -s waf -req 'http://shop.test/post' -f "$T/form" -hx 'Content-Type: application/x-www-form-urlencoded' -v)
check "attack after the preview: replaced" contains "$out" "HTTP/1.1 403 Forbidden"
head -c 300 /dev/zero | tr '\0' 'b' > "$T/clean"
out=$(icap -s waf/api -req 'http://shop.test/post' -f "$T/clean" -v)
check "clean body after the preview: 204" contains "$out" "ICAP/1.0 204 No Content"
out=$(icap -s waf/api -req 'http://shop.test/post' -f "$T/clean" -no204 -nopreview -v)
check "no 204 allowed: the request echoed" contains "$out" "Encapsulated: req-hdr=0, req-body="
check "the echoed body is intact" contains "$out" "bbbbbbbbbbbbbbbbbbbb"

printf '<html><pre>You have an error in your SQL syntax near x</pre></html>' > "$T/leak.html"
out=$(icap -s waf -resp 'http://shop.test/page' -f "$T/leak.html" -v)
check "RESPMOD leaking a SQL error: replaced" contains "$out" "HTTP/1.1 403 Forbidden"
printf '<html><p>Our SQL course.</p></html>' > "$T/fine.html"
out=$(icap -s waf -resp 'http://shop.test/page' -f "$T/fine.html" -v)
check "clean RESPMOD: 204" contains "$out" "ICAP/1.0 204 No Content"

out=$(icap -s waf/api -req 'http://shop.test/%61dmin/./users' -v)
check "rule file set by service URI: blocks its rule" contains "$out" "HTTP/1.1 403 Forbidden"
check "the rule file's rule is named" grep -q "set api rule no-admin" "$LOG"
out=$(icap -s waf/api -req "http://shop.test/search?q=%27%20or%201%3D1--" -v)
check "set api does not carry the default rules" contains "$out" "ICAP/1.0 204 No Content"
out=$(icap -s waf/missing -req 'http://shop.test/' -v)
lacks() { case "$1" in *"$2"*) return 1 ;; *) return 0 ;; esac; }
check "unknown set: no 200" lacks "$out" "ICAP/1.0 200"

# Malformed ICAP: 400 and the connection closed, the daemon unharmed.
raw() {
	python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.settimeout(5)
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
sys.stdout.write(data.decode("latin-1").split("\r\n")[0] + " closed\n")
PY
}
check "garbage: 400 and close" contains "$(raw 'HELLO THERE\r\n\r\n')" "ICAP/1.0 400 Bad Request closed"
check "bad Encapsulated: 400 and close" contains "$(raw 'REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: req-body=9, req-hdr=0\r\n\r\n')" "ICAP/1.0 400 Bad Request closed"
check "bad chunk: 400 and close" contains "$(raw 'REQMOD icap://h/waf ICAP/1.0\r\nEncapsulated: req-hdr=0, req-body=18\r\n\r\nGET / HTTP/1.1\r\n\r\nxyz\r\n')" "ICAP/1.0 400 Bad Request closed"
check "HTTP instead of ICAP: 400 and close" contains "$(raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')" "ICAP/1.0 400 Bad Request closed"
out=$(icap -s waf)
check "still serving after bad clients" contains "$out" "ICAP/1.0 200 OK"

# Reload: a new ISTag, so squid knows its cached OPTIONS are stale.
kill -HUP "$NC_PID"
wait_for 5 grep -q "reload: configuration applied" "$LOG"
out=$(icap -s waf)
istag2=$(printf '%s\n' "$out" | sed -n 's/.*ISTag: //p')
check "reload changes the ISTag" test -n "$istag2" -a "$istag" != "$istag2"

# A rule file that no longer parses: the reload is refused, the sets stay.
echo '{ "name": "api", "rules": [ { "id": "x", "action": "block", "if": [ { "target": "path", "op": "regex", "value": "(" } ] } ] }' > "$T/api.json"
kill -HUP "$NC_PID"
check "a broken rule file refuses the reload" wait_for 5 grep -q "reload: .*api.json.*regex" "$LOG"
out=$(icap -s waf/api -req 'http://shop.test/admin' -v)
check "the running set api still blocks" contains "$out" "HTTP/1.1 403 Forbidden"

check "netcraved stops cleanly" nc_stop
finish
