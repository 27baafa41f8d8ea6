#!/bin/sh
# Peak memory of a depth-2 crawl that reaches HUBS x FANOUT + HUBS + 1 distinct accounts
# (default 1,001,001), measured as its own process: the simulator serves the world of
# bench/reach_world.py from another process (`whohosts sim --world`), and the crawl runs
# under /usr/bin/time -v with the config `sim --write-config` writes (the loopback config:
# 10,000 requests/s per host, burst 100, 4 at a time per host; NOT the shipped limits).
# Usage (from the repository root, after `cargo build --release`):
#   bench/reach_memory.sh [HUBS] [FANOUT] [INSTANCES]
set -eu
HUBS=${1:-1000}
FANOUT=${2:-1000}
INST=${3:-2000}
BIN=${BIN:-target/release/whohosts}
DIR=$(mktemp -d)
python3 bench/reach_world.py "$DIR/world.json" "$HUBS" "$FANOUT" "$INST"
"$BIN" sim --world "$DIR/world.json" --write-config "$DIR/config.toml" >"$DIR/sim.log" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 600); do [ -s "$DIR/config.toml" ] && break; sleep 0.5; done
sleep 1
echo "simulator: $(grep -E '^VmHWM' /proc/$SIM/status | tr -s ' ') (its own process)"
/usr/bin/time -v "$BIN" --config "$DIR/config.toml" --quiet --db "$DIR/reach.db" crawl seed@hub.example \
    --depth 2 --max-accounts 2000000 --max-requests 1000000 >"$DIR/reach.txt" 2>"$DIR/reach.time" \
    || { tail -5 "$DIR/reach.time"; exit 1; }
grep -E 'Maximum resident|Elapsed|User time|System time' "$DIR/reach.time" | sed 's/^\s*/crawl: /'
grep -E 'accounts' "$DIR/reach.txt" | head -3 | sed 's/^/report: /'
python3 - "$DIR/reach.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
distinct = c.execute("SELECT count(*) FROM account").fetchone()[0]
rows = c.execute("SELECT count(*) FROM follow").fetchone()[0]
requests = c.execute("SELECT requests FROM snapshot ORDER BY id DESC LIMIT 1").fetchone()[0]
print("reached: %d distinct accounts stored (the seed included), %d list rows; %d requests" % (distinct, rows, requests))
PY
