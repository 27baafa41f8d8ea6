# The name server of bench/node_keepalive/run.sh.
# A loopback DNS server: every A question gets 127.0.0.1, every other type an empty answer.
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
while True:
    data, addr = s.recvfrom(512)
    if len(data) < 12: continue
    tid, flags, qd = struct.unpack(">HHH", data[:6])
    i = 12
    while data[i] != 0: i += 1 + data[i]
    qtype, qclass = struct.unpack(">HH", data[i+1:i+5])
    q = data[12:i+5]
    an = b""
    if qtype == 1:
        an = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127,0,0,1])
    hdr = struct.pack(">HHHHHH", tid, 0x8180, 1, 1 if an else 0, 0, 0)
    s.sendto(hdr + q + an, addr)
