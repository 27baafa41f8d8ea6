-- 0002: the concentration metrics of each snapshot, computed once in Rust (src/metrics.rs)
-- and stored here; SQL reads them, never re-derives them.

-- Who was counted: one row per population figure (accounts listed, hidden, refused, ...).
CREATE TABLE metric_population (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    name        TEXT NOT NULL,
    value       NUMERIC NOT NULL,
    PRIMARY KEY (snapshot_id, name)
) WITHOUT ROWID;

-- Concentration at one level (instance, organisation, as, range, block, country, hosting)
-- under one weight (accounts, edges, instances, users, active).
CREATE TABLE metric_summary (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    level       TEXT NOT NULL,
    weight      TEXT NOT NULL,
    total       REAL NOT NULL,
    buckets     INTEGER NOT NULL,
    top1        REAL NOT NULL,
    top3        REAL NOT NULL,
    top5        REAL NOT NULL,
    top10       REAL NOT NULL,
    k50         INTEGER NOT NULL,
    k75         INTEGER NOT NULL,
    hhi         REAL NOT NULL,
    band        TEXT NOT NULL,
    entropy     REAL NOT NULL,
    effective   REAL NOT NULL,
    gini        REAL NOT NULL,
    PRIMARY KEY (snapshot_id, level, weight)
) WITHOUT ROWID;

-- Each bucket's amount and share at a level under a weight, largest first (rank 1).
CREATE TABLE metric_bucket (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    level       TEXT NOT NULL,
    weight      TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    key         TEXT NOT NULL,
    label       TEXT NOT NULL,
    amount      REAL NOT NULL,
    share       REAL NOT NULL,
    PRIMARY KEY (snapshot_id, level, weight, rank)
) WITHOUT ROWID;

-- What a level under a weight counted apart (say, users of instances without NodeInfo).
CREATE TABLE metric_apart (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    level       TEXT NOT NULL,
    weight      TEXT NOT NULL,
    what        TEXT NOT NULL,
    amount      REAL NOT NULL,
    PRIMARY KEY (snapshot_id, level, weight, what)
) WITHOUT ROWID;

-- Concentration over time, one row per complete snapshot, level and weight.
CREATE VIEW concentration AS
SELECT s.id AS snapshot_id, s.started_at, m.level, m.weight, m.buckets, m.top1, m.top3, m.k50,
       m.k75, m.hhi, m.band, m.effective, m.gini
  FROM metric_summary m JOIN snapshot s ON s.id = m.snapshot_id
 WHERE s.status = 'complete';
