#!/bin/sh
# hostile.sh: hostile input to every server, one case each (issue 12).  Each
# case checks the clear error that client gets (HTTP status and error JSON,
# DNS RCODE, ICAP status) and that the daemon then still answers a good
# request with its data intact: an IPAM pool still listed, a WebDAV file's
# checksum, a DNS record.  Servers: the plugin socket, DNS (UDP and TCP),
# WebDAV, ICAP and the control socket.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "ok - skipped: python3 is needed for the raw clients"; exit 0; }
command -v jq >/dev/null || { echo "ok - skipped: jq is needed"; exit 0; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DNS_PORT=$(free_port)
ICAP_PORT=$(free_port)
nc_write_conf "\"default_tag\": \"web\",
	\"scopes\": [ { \"name\": \"it\", \"ipv4_network\": \"198.18.200.0/21\",
	  \"ipv4_prefix_length\": 24, \"tags\": [\"web\"] } ],
	\"http\": { \"max_header_bytes\": 8192, \"max_body_bytes\": 65536,
	  \"header_timeout_ms\": 1500, \"body_timeout_ms\": 1500 },
	\"dns\": { \"listen\": [\"127.0.0.1:$DNS_PORT\"], \"records\": [ \"web A 198.18.200.5\" ] },
	\"dav\": { \"plain_listen\": \"127.0.0.1:0\", \"max_file_bytes\": 65536 },
	\"waf\": { \"icap_listen\": \"127.0.0.1:$ICAP_PORT\" }"
nc_start || finish
DAV_PORT=$(sed -n 's/.*dav: plaintext HTTP on .*, port \([0-9]*\).*/\1/p' "$LOG" | tail -1)
check "WebDAV plaintext listener" [ -n "$DAV_PORT" ]

# The data every case must leave intact: an IPAM pool, a WebDAV file, a record.
r=$(plugin_call /IpamDriver.RequestPool '{"Pool":"","Options":{"netcrave.tag":"web"},"V6":false}')
POOL=$(printf '%s' "$r" | sed 's/^[0-9]* //' | jq -r .Pool)
check "an IPAM pool to keep" [ "$POOL" = 198.18.200.0/24 ]
head -c 40000 /dev/urandom > "$T/file"
SUM=$(sha256sum < "$T/file" | cut -d' ' -f1)
curl -s -o /dev/null -X MKCOL "http://127.0.0.1:$DAV_PORT/v1/"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$T/file" "http://127.0.0.1:$DAV_PORT/v1/file")
check "a WebDAV file to keep" [ "$code" = 201 ]

python3 - "$PLUGIN_SOCK" "$CONTROL_SOCK" "$DNS_PORT" "$DAV_PORT" "$ICAP_PORT" "$POOL" "$SUM" \
    "$NETCRAVECTL" "$CONF" > "$T/py.out" 2>&1 <<'PY'
import hashlib, json, socket, struct, subprocess, sys, time
(plug, ctl, dnsp, davp, icapp, pool, fsum, ctlbin, conf) = sys.argv[1:]
dnsp, davp, icapp = int(dnsp), int(davp), int(icapp)

def out(ok, what):
    print(("ok - " if ok else "FAIL - ") + what, flush=True)

def connect(where):
    if isinstance(where, str):
        s = socket.socket(socket.AF_UNIX); s.connect(where)
    else:
        s = socket.create_connection(("127.0.0.1", where))
    s.settimeout(10)
    return s

def talk(where, data, shut=False):
    """Send data, read until the server closes; (reply, seconds)."""
    s = connect(where)
    t = time.monotonic()
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, TimeoutError):
        got += b"<no close in 10 s>"
    except ConnectionResetError:
        pass
    s.close()
    return got, time.monotonic() - t

def status(reply):
    try:
        return int(reply.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None

def body(reply):
    return reply.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in reply else b""

def err_json(reply):
    try:
        return json.loads(body(reply))["Err"]
    except Exception:
        return ""

# What must hold after every case.
def plugin_ok():
    r, _ = talk(plug, b"POST /IpamDriver.GetCapabilities HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    if status(r) != 200:
        return False
    p = subprocess.run([ctlbin, "-c", conf, "-j", "pools"], capture_output=True, text=True)
    return pool in p.stdout

def dav_ok():
    r, _ = talk(davp, b"GET /v1/file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return status(r) == 200 and hashlib.sha256(body(r)).hexdigest() == fsum

def dns_query(name=b"\x03web\x08netcrave\x08internal\x00", qid=0x4242):
    return struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"

def dns_udp(data, wait=2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(wait)
    s.sendto(data, ("127.0.0.1", dnsp))
    try:
        return s.recv(65535)
    except (socket.timeout, TimeoutError):
        return None
    finally:
        s.close()

def rcode(msg):
    return None if msg is None or len(msg) < 4 else msg[3] & 0x0f

def dns_ok():
    r = dns_udp(dns_query())
    return r is not None and rcode(r) == 0 and socket.inet_aton("198.18.200.5") in r

def icap_ok():
    r = icap(b"OPTIONS icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\n\r\n", keep=False)
    return r.startswith(b"ICAP/1.0 200")

def icap(data, keep=False):
    s = connect(icapp)
    s.sendall(data)
    got = b""
    try:
        while b"\r\n\r\n" not in got:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, TimeoutError, ConnectionResetError):
        pass
    s.close()
    return got

def ctl_ok():
    p = subprocess.run([ctlbin, "-c", conf, "-j", "status"], capture_output=True, text=True)
    return p.returncode == 0 and '"pid"' in p.stdout

def case(server, what, ok, after):
    out(ok, "%s: %s" % (server, what))
    out(after(), "%s: after %s, still served, data intact" % (server, what))

def post(path, payload, extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra +
        b"Content-Length: %d\r\n\r\n" % len(payload) + payload)

# The plugin socket.
r, _ = talk(plug, post(b"/NetworkDriver.CreateNetwork", b'{"NetworkID": "n1", [}'))
case("plugin", "malformed JSON: 400 with Err", status(r) == 400 and "malformed JSON" in err_json(r), plugin_ok)
r, _ = talk(plug, post(b"/IpamDriver.RequestPool", b'{"Pool": "' + b"x" * 70000 + b'"}'))
case("plugin", "oversized body: 413 with Err", status(r) == 413 and err_json(r).startswith("netcrave:"), plugin_ok)
r, dt = talk(plug, b"POST /IpamDriver.RequestPool HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 500\r\n\r\n{\"Pool\": \"\"")
case("plugin", "body shorter than Content-Length: 408 at the body deadline",
    status(r) == 408 and dt < 5, plugin_ok)
r, _ = talk(plug, post(b"/NetworkDriver.NoSuchCall", b"{}"))
case("plugin", "unknown endpoint: 404 with Err", status(r) == 404 and err_json(r).startswith("netcrave:"), plugin_ok)
r, _ = talk(plug, post(b"/NetworkDriver.Join",
    b'{"NetworkID":"nonet","EndpointID":"noep","SandboxKey":"/x","Options":{}}'))
case("plugin", "Join before CreateEndpoint: 404 no such endpoint",
    status(r) == 404 and "no such endpoint" in err_json(r), plugin_ok)
r, _ = talk(plug, post(b"/IpamDriver.RequestAddress", b'{"PoolID":"nopool","Address":"","Options":{}}'))
case("plugin", "RequestAddress before RequestPool: an error with Err",
    status(r) not in (None, 200) and err_json(r).startswith("netcrave:"), plugin_ok)

# DNS over UDP and TCP.
r = dns_udp(struct.pack(">HHHHHH", 0x1111, 0x0000, 1, 0, 0, 0) + b"\xff\xfe\x07garbage" * 5)
case("dns", "garbage question over UDP: FORMERR", rcode(r) == 1 and r[:2] == b"\x11\x11", dns_ok)
r = dns_udp(b"\x12\x34\x01", wait=1)
case("dns", "truncated header over UDP: dropped (no id to answer)", r is None, dns_ok)
r = dns_udp(struct.pack(">HHHHHH", 0x1313, 0x0000, 5, 0, 0, 0) + b"\x03web\x08netcrave\x08internal\x00\x00\x01\x00\x01")
case("dns", "qdcount lying (5, one question): FORMERR", rcode(r) == 1 and r[:2] == b"\x13\x13", dns_ok)
q = dns_query(qid=0x1414)
r, _ = talk(dnsp, struct.pack(">H", 65535) + q + b"\x00" * (65535 - len(q)))
ok = len(r) >= 6 and r[2:4] == b"\x14\x14" and rcode(r[2:]) == 1
case("dns", "TCP: 64 KiB length prefix with trailing junk: FORMERR", ok, dns_ok)
r, dt = talk(dnsp, struct.pack(">H", 40) + q[:10], shut=True)
case("dns", "TCP: frame cut mid-message: closed, nothing answered", r == b"" and dt < 5, dns_ok)
r, _ = talk(dnsp, struct.pack(">H", 8) + b"garbage!")
case("dns", "TCP: frame shorter than a header: closed, nothing answered", r == b"", dns_ok)

r = dns_udp(struct.pack(">HHHHHH", 0x1515, 0x0000, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01")
case("dns", "compression pointer loop in the question: FORMERR", rcode(r) == 1 and r[:2] == b"\x15\x15", dns_ok)
r = dns_udp(struct.pack(">HHHHHH", 0x1616, 0x0000, 1, 0, 0, 1) + b"\x03web\x08netcrave\x08internal\x00\x00\x01\x00\x01"
    + b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\xff\xff\x00\x0a\xff\xf0abc")
case("dns", "EDNS option longer than the record: FORMERR", rcode(r) == 1 and r[:2] == b"\x16\x16", dns_ok)
# Pipelined queries on TCP, then gone before the answers are read.
s = connect(dnsp)
for i in range(200):
    s.sendall(struct.pack(">H", len(q)) + q)
s.close()
time.sleep(0.3)
case("dns", "TCP: 200 pipelined queries, client gone before the answers", True, dns_ok)

# HTTP/WebDAV.
r, _ = talk(davp, b"PUT /v1/smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
case("dav", "Content-Length and Transfer-Encoding together: 400", status(r) == 400, dav_ok)
r, _ = talk(davp, b"PUT /v1/twice HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
    b"Content-Length: 7\r\n\r\nhello")
case("dav", "two different Content-Lengths: 400", status(r) == 400, dav_ok)
r, _ = talk(davp, b"GET /v1/file HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 150 + b"\r\n")
case("dav", "150 headers: 431", status(r) == 431, dav_ok)
laughs = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((98 + i,) + (97 + i,) * 10) for i in range(9))
    + b']><D:propfind xmlns:D="DAV:"><D:prop><D:j>&j;</D:j></D:prop></D:propfind>')
r, dt = talk(davp, b"PROPFIND /v1/file HTTP/1.1\r\nHost: x\r\nDepth: 0\r\nConnection: close\r\n"
    b"Content-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(laughs) + laughs)
case("dav", "PROPFIND with a billion laughs: 400 at once", status(r) == 400 and dt < 3, dav_ok)
deep = b'<?xml version="1.0"?>' + b"<a>" * 100000 + b"</a>" * 100000
r, dt = talk(davp, b"PROPFIND /v1/file HTTP/1.1\r\nHost: x\r\nDepth: 0\r\nConnection: close\r\n"
    b"Content-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(deep) + deep)
case("dav", "PROPFIND nested 100,000 deep: 400 or 413", status(r) in (400, 413), dav_ok)
r, _ = talk(davp, b"PUT /v1/file HTTP/1.1\r\nHost: x\r\nIf: (<urn:uuid:nope> [\"x\"\r\n"
    b"Content-Length: 3\r\n\r\nabc")
case("dav", "PUT with a broken If header: 400, the file untouched", status(r) == 400, dav_ok)
# Refused at the end of its headers with no body to wait for: the layer
# must not touch the request after answering (a use after free, found by
# valgrind.sh; ASan's make check catches it here).
r, _ = talk(davp, b"PUT /novol/f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
case("dav", "chunked PUT into a missing volume: 409", status(r) == 409, dav_ok)
r, _ = talk(davp, b"PUT /novol/f HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
case("dav", "empty PUT into a missing volume: 409", status(r) == 409, dav_ok)
r, _ = talk(davp, b"GET /v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
case("dav", "path traversal: refused", status(r) in (400, 403, 404) and b"root:" not in r, dav_ok)
r, _ = talk(davp, b"GET /v1/file HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 10000 + b"\r\n\r\n")
case("dav", "oversized header: 431", status(r) == 431, dav_ok)
r, _ = talk(davp, b"PUT /v1/big HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n" + b"z" * 70000)
case("dav", "oversized body: 413", status(r) == 413, dav_ok)
r, _ = talk(davp, b"PUT /v1/chunky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
case("dav", "bad chunk size: 400", status(r) == 400, dav_ok)
r, _ = talk(davp, b"PUT /v1/chunky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n")
case("dav", "chunk size overflowing 64 bits: 400", status(r) in (400, 413), dav_ok)
r, _ = talk(davp, b"\x01\x02\x03 garbage \xff\xfe\r\n\r\n")
case("dav", "request line garbage: 400", status(r) == 400, dav_ok)
r, _ = talk(davp, b"GET /v1/file HTTP/1.1\r\nHost: x\r\n\r\nBLAH \x00\x01 garbage\r\n\r\n")
first = r.split(b"HTTP/1.1 ")
ok = r.startswith(b"HTTP/1.1 200") and b"HTTP/1.1 400" in r[40000:]
case("dav", "pipelined garbage after a good request: 200 then 400", ok, dav_ok)
r, _ = talk(davp, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 64)
# A GOAWAY frame (type 7) with PROTOCOL_ERROR (1) or FRAME_SIZE_ERROR (6).
gi = -1
i = 0
while i + 9 <= len(r):
    n = int.from_bytes(r[i:i + 3], "big")
    if r[i + 3] == 7:
        gi = i
        break
    i += 9 + n
ok = gi >= 0 and int.from_bytes(r[gi + 13:gi + 17], "big") in (1, 6)
case("dav", "h2 preface then garbage frames: GOAWAY with an error", ok, dav_ok)
r, _ = talk(davp, b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
case("dav", "broken h2 preface: 400 or closed", status(r) == 400 or r == b"", dav_ok)

# ICAP.
r = icap(b"BLAH\x01\x02 nonsense\r\n\r\n")
case("icap", "malformed request line: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)
r = icap(b"OPTIONS icap://127.0.0.1/waf ICAP/1.0\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
case("icap", "oversized head: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)
r = icap(b"REQMOD icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\n"
    b"Encapsulated: req-hdr=0, null-body=99999999\r\n\r\n")
case("icap", "Encapsulated offset out of range: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)
r = icap(b"REQMOD icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\n"
    b"Encapsulated: req-hdr=50, null-body=10\r\n\r\n")
case("icap", "Encapsulated offsets decreasing: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)
r = icap(b"REQMOD icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\n"
    b"Encapsulated: req-hdr=0, req-body=19\r\n\r\nGET / HTTP/1.1\r\n\r\nzz\r\n")
case("icap", "bad chunk size in the body: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)

r = icap(b"REQMOD icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\nPreview: 99999999999999999999\r\n"
    b"Encapsulated: req-hdr=0, req-body=19\r\n\r\nGET / HTTP/1.1\r\n\r\n0\r\n\r\n")
case("icap", "Preview out of range: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)
r = icap(b"REQMOD icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\n"
    b"Encapsulated: req-hdr=0, req-body=19\r\n\r\nGET / HTTP/1.1\r\n\r\nffffffffffffffffffff\r\n")
case("icap", "chunk size overflowing 64 bits: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)
r = icap(b"REQMOD icap://127.0.0.1/waf ICAP/1.0\r\nHost: x\r\n"
    b"Encapsulated: req-hdr=0, null-body=5\r\n\r\nGARBA")
case("icap", "encapsulated HTTP head that is garbage: ICAP 400", r.startswith(b"ICAP/1.0 400"), icap_ok)

# The control socket (HTTP on a unix socket).
r, _ = talk(ctl, b"\x00\xff\xfe garbage\r\n\r\n")
case("control", "garbage: 400", status(r) == 400, ctl_ok)
r, _ = talk(ctl, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
case("control", "oversized request line: 431", status(r) == 431, ctl_ok)
r, _ = talk(ctl, b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
case("control", "unknown path: 404", status(r) == 404, ctl_ok)
PY
cat "$T/py.out"
n=$(grep -c '^FAIL' "$T/py.out")
check "no hostile case failed ($(grep -c '^ok' "$T/py.out") checks)" [ "$n" -eq 0 ] && [ -s "$T/py.out" ]
check "netcraved still running" kill -0 "$NC_PID"
nc_stop
check "netcraved exited cleanly" [ $? -eq 0 ]
finish
