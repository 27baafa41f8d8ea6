#!/usr/bin/env python3
"""Write a simulated world whose depth-2 crawl reaches HUBS x FANOUT + HUBS + 1 distinct
accounts, for the memory benchmark of issue 17 (bench/reach_memory.sh).

Usage: reach_world.py WORLD.json [HUBS] [FANOUT] [INSTANCES]

The seed seed@hub.example follows HUBS accounts (default 1000) spread evenly over INSTANCES
Mastodon instances (default 2000, open REST API, 20-50 ms per response); hub k follows FANOUT
accounts (default 1000), the k-th block of a pool of HUBS x FANOUT accounts, so no account is
listed twice and every one is distinct. About 30 % of the pool lives on flagship.example, the
rest spread evenly. Deterministic.
"""
import json
import sys

path = sys.argv[1]
hubs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
fanout = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
n_inst = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
providers = ["hetzner", "hetzner-cloud", "cloudflare", "ovh", "amazon", "digitalocean",
             "contabo", "netcup", "scaleway", "association", "home"]
domains = ["hub.example", "flagship.example"] + ["node%d.example" % i for i in range(1, n_inst - 1)]
instances = [{"domain": d, "provider": providers[n % len(providers)], "latency_ms": 20 + (n * 7) % 31}
             for n, d in enumerate(domains)]


def leaf_domain(i):
    # 3 of every 10 on the flagship, the rest in turn over the others
    if i % 10 < 3:
        return "flagship.example"
    return domains[2 + (i * 7 // 10) % (len(domains) - 2)]


with open(path, "w") as w:
    w.write('{"instance": %s,\n"account": [\n' % json.dumps(instances))
    hub_handles = ["hub%d@%s" % (k, domains[1 + k % (len(domains) - 1)]) for k in range(hubs)]
    w.write(json.dumps({"handle": "seed@hub.example", "follows": hub_handles}))
    for k, h in enumerate(hub_handles):
        follows = ["u%d@%s" % (i, leaf_domain(i)) for i in range(k * fanout, (k + 1) * fanout)]
        w.write(",\n" + json.dumps({"handle": h, "follows": follows}))
    for i in range(hubs * fanout):
        w.write(',\n{"handle": "u%d@%s"}' % (i, leaf_domain(i)))
    w.write("\n]}\n")
