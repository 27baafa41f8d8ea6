#!/bin/sh
# `whohosts instances` over N (default 2000) simulated instances, with the shipped politeness
# (robots.txt, 300 requests / 5 min per host, burst 10, 32 requests at once, 2 per host):
# serves the world with `whohosts sim`, times the survey, prints the figures.
# Usage (from the repository root, after `cargo build --release`): bench/instances.sh [N]
set -eu
# The simulator binds one socket per instance: raise the open-file limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
N=${1:-2000}
BIN=${BIN:-target/release/whohosts}
DIR=$(mktemp -d)
python3 bench/instances_world.py "$N" "$DIR/world.toml" "$DIR/list.txt"
"$BIN" sim --world "$DIR/world.toml" --write-config "$DIR/config.toml" >"$DIR/sim.log" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; rm -rf "$DIR"' EXIT
# A large world takes a while to be laid out: wait up to 5 minutes for the simulator.
for _ in $(seq 1 1500); do [ -s "$DIR/config.toml" ] && break; sleep 0.2; done
sleep 1
# `sim --write-config` loosens the client's budget for a world that is ours: put the shipped
# per-host politeness back.
sed -i 's/^requests = 10000$/requests = 300/; s/^period_secs = 1.0$/period_secs = 300.0/;
    s/^paged_requests = 10000$/paged_requests = 300/; s/^paged_period_secs = 1.0$/paged_period_secs = 900.0/;
    s/^burst = 100$/burst = 10/; s/^host_concurrency = 4$/host_concurrency = 2/' "$DIR/config.toml"
grep -E "^(requests|period_secs|burst|host_concurrency|global_concurrency) =" "$DIR/config.toml"
START=$(date +%s.%N)
# A database of its own: the default one (~/.local/share/whohosts) holds every earlier run's
# surveys of the same list, whose trend the report reads.
/usr/bin/time -v "$BIN" --config "$DIR/config.toml" --quiet --db "$DIR/survey.db" instances "$DIR/list.txt" \
    --format json >"$DIR/report.json" 2>"$DIR/time.log"
END=$(date +%s.%N)
echo "instances: $N listed; wall $(echo "$END - $START" | bc) s"
grep -E "Maximum resident|Elapsed" "$DIR/time.log"
python3 - "$DIR/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["population"]
print("nodeinfo read:", p["nodeinfo_read"], "failed:", p["failed"], "bad:", p["bad_entries"], "implausible:", p["implausible"])
for w in r["weights"]:
    print(w["headline"])
PY
