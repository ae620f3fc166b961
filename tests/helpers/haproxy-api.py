#!/usr/bin/env python3
# haproxy-api.py SOCKET COMMAND: one command on haproxy's runtime API (its
# stats socket, non-interactive: it answers and closes); prints the answer.
import socket
import sys

s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode())
