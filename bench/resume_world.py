#!/usr/bin/env python3
"""Write a simulated world whose crawl journals about 150 MB, for the resume benchmark.

Usage: resume_world.py WORLD.toml [ACCOUNTS] [PADDING_BYTES]

One seed, big@hub.example, on an ActivityPub-only instance (its REST API answers 404), follows
ACCOUNTS (default 3200) accounts spread over 32 ActivityPub-only instances; each account's
actor document is padded to about PADDING_BYTES (default 48 KiB), so each actor fetch journals
that much. Deterministic.
"""
import sys

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 3200
pad = int(sys.argv[3]) if len(sys.argv) > 3 else 48 * 1024
hosts = ["n%d.example" % i for i in range(32)]
with open(path, "w") as w:
    for d in ["hub.example"] + hosts:
        w.write('[[instance]]\ndomain = "%s"\nprovider = "hetzner"\napi = "none"\n\n' % d)
    follows = ["u%d@%s" % (i, hosts[i % len(hosts)]) for i in range(n)]
    w.write('[[account]]\nhandle = "big@hub.example"\nfollows = [%s]\n\n'
            % ", ".join('"%s"' % f for f in follows))
    for f in follows:
        w.write('[[account]]\nhandle = "%s"\nactor_padding = %d\n\n' % (f, pad))
