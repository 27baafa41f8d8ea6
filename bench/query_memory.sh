#!/bin/bash
# Peak memory of `whohosts query --sql` under `query.memory_limit_mb`, each query its own
# process under /usr/bin/time (its maximum resident set size, from wait4).
#
#   bench/query_memory.sh [WHOHOSTS] [LIMIT_MB] [DB]
#
# WHOHOSTS defaults to target/release/whohosts, LIMIT_MB to 64; DB is any whohosts database
# (made with `whohosts --db DB demo` when it does not exist). The queries read none of its
# tables: five million generated rows of 40 characters, and large blobs, written as CSV;
# 200,000 rows of 150 characters (and a blob of 2 KB each) written as JSON, as a table and
# as CSV (wide*).
set -eu
BIN=${1:-target/release/whohosts}
MB=${2:-64}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
DB=${3:-$DIR/demo.db}
[ -e "$DB" ] || "$BIN" --quiet --db "$DB" demo > /dev/null
printf '[query]\ntime_limit_seconds = 120\nmemory_limit_mb = %s\n' "$MB" > "$DIR/config.toml"
ROWS="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000000)"
declare -A Q=(
  [one]="SELECT 1"
  [distinct]="$ROWS SELECT count(*) FROM (SELECT DISTINCT x, printf('%040d', x) FROM c)"
  [sort]="$ROWS SELECT x, printf('%040d', x) AS t FROM c ORDER BY t DESC"
  [rows]="$ROWS SELECT x, printf('%040d', x) FROM c"
  [sortedrows]="$ROWS SELECT x, printf('%040d', x) AS t FROM c ORDER BY t DESC LIMIT 500000"
  [blob]="SELECT randomblob(90000000)"
  [blobs]="SELECT randomblob(30000000), randomblob(30000000)"
)
WIDE="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)"
Q[widejson]="$WIDE SELECT x, printf('%0150d', x) AS t FROM c"
Q[widetable]="${Q[widejson]}"
Q[widecsv]="${Q[widejson]}"
Q[wideblobs]="$WIDE SELECT x, zeroblob(2000) AS b FROM c WHERE x <= 20000"
declare -A F=([widejson]=json [widetable]=table [wideblobs]=json)
for name in one distinct sort rows sortedrows blob blobs widejson widetable widecsv wideblobs; do
  echo "${Q[$name]}" > "$DIR/$name.sql"
  code=0
  /usr/bin/time -f "%M" -o "$DIR/time" "$BIN" --config "$DIR/config.toml" --db "$DB" \
    query --format "${F[$name]:-csv}" --sql "$DIR/$name.sql" > /dev/null 2> "$DIR/err" || code=$?
  echo "$name: exit $code, peak $(( $(tail -1 "$DIR/time") / 1024 )) MiB $(cut -c1-200 "$DIR/err" | sed 's|.*: stopped|stopped|')"
done
