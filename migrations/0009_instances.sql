-- 0009: instance-list surveys (`whohosts instances FILE`, kind 'instances'). Each instance of
-- the list is stored where the crawl stores the instances it met: its NodeInfo and failure in
-- `instance_state` (accounts 0: a survey lists no accounts), who hosts it in `dns_answer`,
-- `address` and `host_share`, so the `failure` and `instance_hosting` views read surveys too.
-- Its figures (levels as, organisation, instance …; weights users, active, instances) are in
-- the metric tables. What is below is what only a survey has.

-- The kind 'instances' is allowed. SQLite cannot alter a CHECK constraint; loosening one is
-- the change its documentation allows through the schema text (ALTER TABLE, section 7): every
-- row already stored still satisfies it, and the file format does not change.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'CHECK (kind IN (''follows'', ''contacts''))',
                          'CHECK (kind IN (''follows'', ''contacts'', ''instances''))')
 WHERE type = 'table' AND name = 'snapshot';
PRAGMA writable_schema = OFF;

-- Each instance of a survey, in the order of the list (`position`, from 0).
CREATE TABLE survey_instance (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    position    INTEGER NOT NULL,
    instance_id INTEGER NOT NULL REFERENCES instance (id),
    -- Why its NodeInfo user counts are not trusted (a JSON array of reasons), NULL when they are;
    -- an untrusted instance's counts are not stored (instance_state.users_* NULL).
    implausible TEXT,
    PRIMARY KEY (snapshot_id, position)
) WITHOUT ROWID;
CREATE INDEX survey_instance_by_instance ON survey_instance (snapshot_id, instance_id);

-- Each entry of the list that named no usable host: its line (item number in a JSON list),
-- the entry as written (cut short) and why.
CREATE TABLE survey_bad_entry (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    line        INTEGER NOT NULL,
    text        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, line)
) WITHOUT ROWID;
