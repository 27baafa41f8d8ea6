#!/bin/sh
# What a resume costs: a crawl whose response journal grows to about 150 MB is killed
# (SIGKILL) once the journal passes JOURNAL_MB, then resumed; peak RSS and wall time of the
# resume are compared with the same crawl uncut, both under /usr/bin/time -v.
# Usage (from the repository root, after `cargo build --release`):
#   bench/resume_memory.sh [ACCOUNTS] [PADDING_BYTES] [JOURNAL_MB]
set -eu
N=${1:-3200}
PAD=${2:-49152}
KILL_MB=${3:-140}
BIN=${BIN:-target/release/whohosts}
DIR=$(mktemp -d)
python3 bench/resume_world.py "$DIR/world.toml" "$N" "$PAD"
"$BIN" sim --world "$DIR/world.toml" --write-config "$DIR/config.toml" >"$DIR/sim.log" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do [ -s "$DIR/config.toml" ] && break; sleep 0.2; done
sleep 1
SEED=@big@hub.example
journal_mb() {
    python3 - "$1" <<'PY'
import sqlite3, sys
try:
    c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=1)
    n, b = c.execute("SELECT count(*), ifnull(sum(length(body) + length(headers) + length(url) + length(final_url)), 0) FROM journal").fetchone()
    print(n, b // 1000000)
except Exception:
    print(0, 0)
PY
}
# 1. Uncut.
/usr/bin/time -v "$BIN" --config "$DIR/config.toml" --quiet --db "$DIR/uncut.db" crawl "$SEED" \
    --format json >"$DIR/uncut.json" 2>"$DIR/uncut.time"
# 2. Killed once its journal holds KILL_MB MB.
"$BIN" --config "$DIR/config.toml" --quiet --db "$DIR/cut.db" crawl "$SEED" --format json \
    >/dev/null 2>"$DIR/cut.err" &
CRAWL=$!
while kill -0 $CRAWL 2>/dev/null; do
    set -- $(journal_mb "$DIR/cut.db")
    [ "$2" -ge "$KILL_MB" ] && break
    sleep 0.2
done
kill -9 $CRAWL 2>/dev/null || { echo "the crawl ended before its journal reached $KILL_MB MB"; exit 1; }
wait $CRAWL 2>/dev/null || true
set -- $(journal_mb "$DIR/cut.db")
echo "killed: journal of $1 responses, $2 MB; database file $(du -m "$DIR/cut.db" | cut -f1) MB (+ WAL $(du -m "$DIR/cut.db-wal" 2>/dev/null | cut -f1 || echo 0) MB)"
# 3. Resumed.
/usr/bin/time -v "$BIN" --config "$DIR/config.toml" --quiet --db "$DIR/cut.db" crawl "$SEED" \
    --format json >"$DIR/resumed.json" 2>"$DIR/resumed.time"
for run in uncut resumed; do
    echo "$run: $(grep -E 'Maximum resident' "$DIR/$run.time" | sed 's/^\s*//'); $(grep -E 'Elapsed' "$DIR/$run.time" | sed 's/^\s*//')"
done
python3 - "$DIR/uncut.json" "$DIR/resumed.json" <<'PY'
import json, sys
u, r = (json.load(open(p)) for p in sys.argv[1:])
for name, s in (("uncut", u), ("resumed", r)):
    print("%s: %d accounts, %d requests (all runs)" % (name, s["population"]["accounts"], s["crawl"]["requests"]))
PY
