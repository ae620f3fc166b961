#!/usr/bin/env python3
# dns-listen.py: a test secondary: prints one line per DNS message received on
# UDP ADDR PORT ("opcode=4 qname=... qtype=6 aa=1 ancount=1"), answers NOTIFY
# as a secondary would, until killed.
import socket
import struct
import sys


def qname(msg, pos):
    labels = []
    while msg[pos] != 0:
        n = msg[pos]
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += n + 1
    return ".".join(labels) + ".", pos + 1


def main():
    addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    with open(out, "a", buffering=1) as f:
        while True:
            msg, peer = s.recvfrom(65535)
            if len(msg) < 12:
                continue
            ident, flags, qd, an = struct.unpack("!HHHH", msg[:8])
            name, pos = qname(msg, 12)
            qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
            f.write("opcode=%d qname=%s qtype=%d aa=%d ancount=%d\n" % (
                (flags >> 11) & 0xf, name, qtype, (flags >> 10) & 1, an))
            # The acknowledgement: the same question back, QR set.
            reply = struct.pack("!HHHHHH", ident, flags | 0x8000, 1, 0, 0, 0)
            s.sendto(reply + msg[12:pos + 4], peer)


main()
