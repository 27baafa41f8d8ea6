#!/bin/sh
# `whohosts lookup -` against a pyasn script, end to end (whole process, same input, same
# machine), RUNS times each. Usage, from the repository root after `cargo build --release`
# and `pip install pyasn`:
#   bench/lookup_vs_pyasn.sh [RUNS] [WORKDIR]
# Writes WORKDIR/addrs.txt (150,000 addresses, seed 17), WORKDIR/db.ipasn (converted from
# ../shared/data/asn), a config whose data directory holds the compiled index, and prints
# one line per run: wall seconds, CPU seconds (user, system) and peak RSS. whohosts and pyasn
# run alternately.
set -eu
RUNS=${1:-5}
W=${2:-/tmp/whohosts-lookup-bench}
DATA=${WHOHOSTS_ASN_DATA:-../shared/data/asn}
BIN=${WHOHOSTS_BIN:-target/release/whohosts}
mkdir -p "$W"
[ -f "$W/addrs.txt" ] || python3 bench/random_addresses.py 150000 17 > "$W/addrs.txt"
[ -f "$W/db.ipasn" ] || python3 bench/pyasn_convert.py "$W/db.ipasn" "$DATA/asn-ipv4.csv.gz" "$DATA/asn-ipv6.csv.gz"
cat > "$W/config.toml" <<EOT
data_dir = "$W/data"
[attribution]
asn_database = ["$(realpath "$DATA/asn-ipv4.csv.gz")", "$(realpath "$DATA/asn-ipv6.csv.gz")"]
EOT
t() { /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak" "$@"; }
echo "== whohosts: first run (builds the compiled index)"
rm -f "$W/data/asn/compiled-index.bin"
t "$BIN" --config "$W/config.toml" --quiet lookup - < "$W/addrs.txt" > "$W/whohosts.out" || true
echo "== whohosts: start and load only (empty input, index cached)"
for i in $(seq "$RUNS"); do t "$BIN" --config "$W/config.toml" --quiet lookup - < /dev/null > /dev/null; done
# Alternately, so both see the same load on a shared machine.
for i in $(seq "$RUNS"); do
  echo "== run $i: whohosts lookup - (index cached), then the pyasn script"
  t "$BIN" --config "$W/config.toml" --quiet lookup - < "$W/addrs.txt" > "$W/whohosts.out"
  t python3 bench/pyasn_lookup.py "$W/db.ipasn" < "$W/addrs.txt" > "$W/pyasn.out"
done
echo "rows: whohosts $(($(wc -l < "$W/whohosts.out") - 1)), pyasn $(wc -l < "$W/pyasn.out")"
echo "no AS: whohosts $(grep -c 'no AS found$' "$W/whohosts.out"), pyasn $(grep -c '	-	-$' "$W/pyasn.out")"
