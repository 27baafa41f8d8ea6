#!/usr/bin/env python3
"""Convert ip-location-db ASN CSVs (start,end,asn,org; gzip or not) into pyasn's ipasn format.

pyasn's own converter reads MRT dumps, so this writes the `prefix/len<TAB>asn` lines itself:
each CSV range becomes the CIDR blocks that cover it exactly (AS 0 rows are left out, as
whohosts leaves them out). Usage: pyasn_convert.py OUT.ipasn IN.csv[.gz]...
"""
import gzip
import ipaddress
import sys


def rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split(",", 3)
            if len(parts) < 3:
                continue
            try:
                start, end = ipaddress.ip_address(parts[0]), ipaddress.ip_address(parts[1])
                asn = int(parts[2])
            except ValueError:
                continue  # a header
            if asn:
                yield start, end, asn


def main():
    out, inputs = sys.argv[1], sys.argv[2:]
    n = 0
    with open(out, "w") as o:
        o.write("; IP-ASN32-DAT file\n; converted from ip-location-db CSV by bench/pyasn_convert.py\n")
        for path in inputs:
            for start, end, asn in rows(path):
                for net in ipaddress.summarize_address_range(start, end):
                    o.write(f"{net}\t{asn}\n")
                    n += 1
    print(f"{n} prefixes written to {out}", file=sys.stderr)


main()
