"""Recompute a whohosts export's headline figures with DuckDB, from the exported rows.

Usage: python3 headline.py EXPORT_DIR csv|parquet

For each snapshot: the organisation-level figures under the `accounts` weight, rebuilt from
`accounts` + `opted_out` (distinct accounts per instance) and `host_shares` (how each
instance's weight is shared between organisations), not read from the metric tables.
Prints one JSON object: {snapshot_id: {"top3": .., "k50": .., "hhi": .., "buckets": ..}}.
"""
import json
import sys

import duckdb

# Buckets the metrics count apart rather than as organisations.
APART = ("(unresolved)", "(no AS found)")


def table(con, directory, name, fmt):
    if fmt == "parquet":
        return f"read_parquet('{directory}/{name}.parquet')"
    return f"read_csv('{directory}/{name}.csv*', header = true, auto_detect = true)"


def main():
    directory, fmt = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    t = lambda n: table(con, directory, n, fmt)
    rows = con.execute(f"""
        WITH per_instance AS (
            SELECT snapshot_id, instance, sum(n) AS n FROM (
                SELECT snapshot_id, instance, count(*) AS n FROM {t('accounts')}
                 WHERE instance IS NOT NULL GROUP BY ALL
                UNION ALL
                SELECT snapshot_id, instance, CAST(accounts AS BIGINT) AS n FROM {t('opted_out')}
            ) GROUP BY ALL
        )
        SELECT p.snapshot_id, h.bucket, sum(p.n * CAST(h.share AS DOUBLE)) AS amount
          FROM per_instance p JOIN {t('host_shares')} h USING (snapshot_id, instance)
         WHERE h.bucket NOT IN {APART}
         GROUP BY ALL HAVING amount > 0
    """).fetchall()
    per = {}
    for snap, bucket, amount in rows:
        per.setdefault(int(snap), []).append(float(amount))
    out = {}
    for snap, amounts in per.items():
        amounts.sort(reverse=True)
        total = sum(amounts)
        shares = [a / total for a in amounts]
        cumulative, k50 = 0.0, len(shares)
        for i, s in enumerate(shares):
            cumulative += s
            if cumulative >= 0.5 - 1e-9:
                k50 = i + 1
                break
        out[snap] = {
            "top3": sum(shares[:3]),
            "k50": k50,
            "hhi": sum((100 * s) ** 2 for s in shares),
            "buckets": len(shares),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
