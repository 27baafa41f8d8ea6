#!/usr/bin/env python3
"""N random addresses, IPv4 and IPv6 alternating, from a fixed seed: the input of the
`lookup -` comparison. IPv6 ones are drawn in 2000::/3 (global unicast), so some fall in
ranges. Usage: random_addresses.py [N] [SEED]"""
import ipaddress
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 150_000
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 17)
for i in range(n):
    if i % 2 == 0:
        print(ipaddress.IPv4Address(rng.getrandbits(32)))
    else:
        print(ipaddress.IPv6Address((0b001 << 125) | rng.getrandbits(125)))
