#!/usr/bin/env python3
"""The pyasn side of the `lookup -` comparison: one address a line on stdin, one TSV line
out (address, AS, prefix; `-` when no prefix holds it). Usage: pyasn_lookup.py DB.ipasn"""
import sys

import pyasn

db = pyasn.pyasn(sys.argv[1])
out = sys.stdout
write = out.write
for line in sys.stdin:
    ip = line.strip()
    asn, prefix = db.lookup(ip)
    write(f"{ip}\t{asn if asn is not None else '-'}\t{prefix or '-'}\n")
