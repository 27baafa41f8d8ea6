-- 0005: why accounts left a seed's complete follow list since the previous snapshot of the
-- same seeds, learnt by fetching each once (crawl.max_departure_checks bounds how many).
-- `account` is the account's identity as stored then (its handle, actor URI, or an opted-out
-- account's hash: those are never fetched and count as unknown). Read by `diff` and trends.
CREATE TABLE departure (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    account     TEXT NOT NULL,
    cause       TEXT NOT NULL CHECK (cause IN ('moved', 'deleted', 'suspended', 'unfollowed', 'unknown')),
    -- Where a moved account went (its new account as listed now, or the movedTo URI).
    moved_to    TEXT,
    PRIMARY KEY (snapshot_id, account)
) WITHOUT ROWID;
