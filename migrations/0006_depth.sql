-- 0006: crawls deeper than one hop (`whohosts crawl --depth N`).

-- 0 for a seed the command named; for an account a deeper crawl expanded (its lists read),
-- how many lists away from a seed it was first listed. Expanded accounts are stored as seeds
-- after the command's own, so their lists and follows are ordinary rows.
ALTER TABLE seed ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;

-- What a deeper crawl did (its depth, budgets and what they cut), JSON; NULL at depth 1.
ALTER TABLE snapshot ADD COLUMN depth TEXT;

-- The frontier of a running deeper crawl: every account met, once per snapshot (keyed by
-- actor URI, else handle), with the depth it was first met at and what became of it. A killed
-- crawl continues from it (with the journal's responses); deleted when the snapshot completes.
CREATE TABLE frontier (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    key         TEXT NOT NULL,
    position    INTEGER NOT NULL,
    depth       INTEGER NOT NULL,
    handle      TEXT,
    host        TEXT,
    state       TEXT NOT NULL CHECK (state IN ('seed', 'pending', 'expanded', 'opted_out',
                    'no_handle', 'cut_accounts', 'cut_hosts', 'cut_requests')),
    PRIMARY KEY (snapshot_id, key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX frontier_order ON frontier (snapshot_id, position);
