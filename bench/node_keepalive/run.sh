#!/bin/sh
# A crawl against Node's own HTTP server (not the simulator), RUNS times per keep-alive
# timeout: Node closes an idle keep-alive connection on its own timer, and a request the
# client sends on it as it closes meets a reset (the flake of issue 14). Prints, per run, the
# accounts listed, those whose actor fetch failed, requests and retries. Loopback only: the
# names resolve through dns.py (every A question: 127.0.0.1), the world is served by server.js
# on one port (10 hosts of 12 accounts, the seed follows all 120), over plain HTTP allowed by
# the config below. Usage, from the repository root after `cargo build --release`:
#   bench/node_keepalive/run.sh RUNS KEEPALIVE_MS...     e.g.  run.sh 5 990 995 1000
set -eu
RUNS=$1; shift
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${WHOHOSTS_BIN:-target/release/whohosts}")
W=$(mktemp -d)
ASN=$(realpath tests/fixtures/asn)
cat > "$W/config.toml" <<EOT
data_dir = "$W/data"
[network]
allow_http = true
allow_private_addresses = ["127.0.0.0/8"]
port = 18080
[dns]
nameservers = ["127.0.0.1:15353"]
[attribution]
online_fallback = false
asn_database = ["$ASN/asn-ipv4-cut.csv.gz", "$ASN/asn-ipv6-cut.csv.gz"]
EOT
python3 "$HERE/dns.py" 15353 > /dev/null 2>&1 &
DNS=$!
trap 'kill $DNS 2>/dev/null; kill $NODE 2>/dev/null; rm -rf "$W"' EXIT
NODE=
for kat in "$@"; do
  node "$HERE/server.js" 18080 10 12 "$kat" > /dev/null 2>&1 &
  NODE=$!
  sleep 0.5
  for i in $(seq "$RUNS"); do
    rm -f "$W"/run.db*
    rc=0
    "$BIN" --config "$W/config.toml" --quiet crawl seed@h0.example --db "$W/run.db" --format json -o "$W/run.json" || rc=$?
    python3 -c "
import json; d = json.load(open('$W/run.json')); p = d['population']; c = d['crawl']
print('keep-alive $kat ms, run $i: exit $rc, accounts', p['accounts'], 'failed', p['accounts_fetch_failed'], 'requests', c['requests'], 'retries', c['retries'])"
  done
  kill $NODE; wait $NODE 2>/dev/null || true
done
