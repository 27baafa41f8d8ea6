#!/usr/bin/env python3
"""Write a simulated world of N instances for the `whohosts instances` benchmark, and the
instance list naming them (plus a few dead and bad entries).

Usage: instances_world.py N WORLD.toml LIST.txt

Heavy-tailed sizes (one instance ~30 % of the users), software and providers mixed, 20-50 ms
latency per response, and Mastodon's limit (300 requests / 5 min) enforced by the simulator
with its headers. Deterministic (seed 17).
"""
import random
import sys

n, world_path, list_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = random.Random(17)
providers = ["hetzner", "hetzner-cloud", "cloudflare", "ovh", "amazon", "amazon-aes",
             "digitalocean", "contabo", "netcup", "scaleway", "fastly", "association", "home"]
weights = [30, 8, 12, 14, 8, 2, 6, 7, 6, 3, 1, 2, 1]
software = ["mastodon", "pleroma", "misskey", "gotosocial", "pixelfed", "generic"]
sw_weights = [60, 10, 10, 8, 6, 6]
sizes = [max(1, int(1000 / (i + 1) ** 1.1)) for i in range(n)]
sizes[0] = int(sum(sizes[1:]) * 0.43)  # ~30 % of all users
with open(world_path, "w") as w, open(list_path, "w") as l:
    l.write("# benchmark list: %d instances, 2 dead, 1 bad line\n" % n)
    for i in range(n):
        d = "inst%d.example" % i
        sw = rng.choices(software, sw_weights)[0]
        w.write('[[instance]]\ndomain = "%s"\nsoftware = "%s"\nprovider = "%s"\n'
                'users_total = %d\nlatency_ms = %d\nrate_limit = { limit = 300, window_secs = 300.0 }\n\n'
                % (d, sw, rng.choices(providers, weights)[0], sizes[i], rng.randint(20, 50)))
        l.write(d + "\n")
    l.write("dead1.example\ndead2.example\nnot a host\n")
