-- 0001: snapshots of follow lists, normalised with integer keys.
-- An account or instance seen in many snapshots is stored once; what a snapshot saw of it
-- sits beside it. Foreign keys are declared for readers (Datasette, DuckDB); whohosts
-- itself deletes in order (prune) rather than cascading.

-- An IP-to-ASN database a snapshot was attributed with.
CREATE TABLE asn_database (
    id            INTEGER PRIMARY KEY,
    file          TEXT NOT NULL,
    format        TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    date          TEXT NOT NULL,
    licence       TEXT NOT NULL,
    ranges_v4     INTEGER NOT NULL,
    ranges_v6     INTEGER NOT NULL,
    skipped_lines INTEGER NOT NULL,
    -- The same per file that had any, as a JSON object {"file": count}; '{}' when none.
    skipped_by_file TEXT NOT NULL DEFAULT '{}',
    UNIQUE (sha256, file, format, date, licence, ranges_v4, ranges_v6, skipped_lines, skipped_by_file)
);

-- One crawl. `request` is the command that made it (seeds and options, JSON): the same
-- command again continues a running or interrupted snapshot.
CREATE TABLE snapshot (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('follows', 'contacts')),
    status          TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted', 'failed')),
    request         TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    tool            TEXT NOT NULL,
    configuration   TEXT NOT NULL,
    address_policy  TEXT,
    online_fallback INTEGER,
    asn_database_id INTEGER REFERENCES asn_database (id),
    requests        INTEGER NOT NULL DEFAULT 0,
    retries         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX snapshot_by_request ON snapshot (request, status);

-- A server host (the host of actor URIs), stored once.
CREATE TABLE instance (
    id   INTEGER PRIMARY KEY,
    host TEXT NOT NULL UNIQUE
);

-- An account's identity, stored once.
CREATE TABLE account (
    id          INTEGER PRIMARY KEY,
    actor_uri   TEXT,
    handle      TEXT,
    instance_id INTEGER REFERENCES instance (id)
);
CREATE UNIQUE INDEX account_identity
    ON account (ifnull(actor_uri, ''), ifnull(handle, ''), ifnull(instance_id, 0));

-- What a crawl saw of an account. A state seen again (same fields) is stored once and shared
-- by every snapshot that saw it: an unchanged repeat snapshot adds no rows here.
CREATE TABLE account_state (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES account (id),
    digest           INTEGER NOT NULL,
    display_name     TEXT,
    bot              INTEGER,
    moved_to         TEXT,
    discoverable     INTEGER,
    indexable        INTEGER,
    noindex          INTEGER,
    hide_collections INTEGER,
    followers_count  INTEGER,
    following_count  INTEGER,
    nobot_tag        INTEGER NOT NULL,
    last_status_at   TEXT,
    fetch_error      TEXT,
    fetch_failure_kind TEXT,
    UNIQUE (account_id, digest)
);

-- A seed of a snapshot and what became of it (failure_* set when it failed).
CREATE TABLE seed (
    snapshot_id      INTEGER NOT NULL REFERENCES snapshot (id),
    position         INTEGER NOT NULL,
    input            TEXT NOT NULL,
    handle           TEXT,
    instance_id      INTEGER REFERENCES instance (id),
    actor_uri        TEXT,
    account_state_id INTEGER REFERENCES account_state (id),
    duplicate_of     TEXT,
    failure_kind     TEXT,
    failure_class    TEXT,
    failure_message  TEXT,
    PRIMARY KEY (snapshot_id, position)
) WITHOUT ROWID;

-- One follow list of a seed (a direction) and how much of it could be seen.
CREATE TABLE follow_list (
    id            INTEGER PRIMARY KEY,
    snapshot_id   INTEGER NOT NULL REFERENCES snapshot (id),
    seed_position INTEGER NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('following', 'followers')),
    source        TEXT NOT NULL,
    declared      INTEGER,
    status        TEXT NOT NULL CHECK (status IN ('complete', 'hidden', 'not-exposed', 'refused', 'partial')),
    unseen        INTEGER,
    -- For refused and partial lists, the cause (robots, opted_out, authorized_fetch,
    -- page_cap, account_cap, loop, no_progress, bad_next, page_failed).
    failure_kind  TEXT,
    reason        TEXT,
    pages         INTEGER NOT NULL,
    -- Items the server listed that are not accounts, per kind, as a JSON array of
    -- {"kind", "count", "reason"}; NULL when none.
    skipped       TEXT,
    UNIQUE (snapshot_id, seed_position, direction)
);

-- A follow edge: the account (as seen then) at `position` in a list.
CREATE TABLE follow (
    list_id          INTEGER NOT NULL REFERENCES follow_list (id),
    position         INTEGER NOT NULL,
    account_state_id INTEGER NOT NULL REFERENCES account_state (id),
    PRIMARY KEY (list_id, position)
) WITHOUT ROWID;

-- An instance in a snapshot: accounts listed on it and its NodeInfo.
CREATE TABLE instance_state (
    snapshot_id             INTEGER NOT NULL REFERENCES snapshot (id),
    instance_id             INTEGER NOT NULL REFERENCES instance (id),
    accounts                INTEGER NOT NULL,
    connected_address       TEXT,
    nodeinfo_schema         TEXT,
    software                TEXT,
    version                 TEXT,
    users_total             INTEGER,
    users_active_month      INTEGER,
    nodeinfo_failure_kind   TEXT,
    nodeinfo_failure_class  TEXT,
    nodeinfo_failure_message TEXT,
    PRIMARY KEY (snapshot_id, instance_id)
) WITHOUT ROWID;

-- The DNS answer for an instance host in a snapshot.
CREATE TABLE dns_answer (
    snapshot_id       INTEGER NOT NULL REFERENCES snapshot (id),
    instance_id       INTEGER NOT NULL REFERENCES instance (id),
    cname_chain       TEXT NOT NULL,
    ttl               INTEGER NOT NULL,
    failure_kind      TEXT,
    error             TEXT,
    connected_address TEXT,
    hosting_service   TEXT,
    PRIMARY KEY (snapshot_id, instance_id)
) WITHOUT ROWID;

-- Each address of an instance host in a snapshot, attributed.
CREATE TABLE address (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshot (id),
    instance_id  INTEGER NOT NULL REFERENCES instance (id),
    position     INTEGER NOT NULL,
    ip           TEXT NOT NULL,
    asn          INTEGER,
    as_name      TEXT,
    organisation TEXT NOT NULL,
    cdn          TEXT,
    range_start  TEXT,
    range_end    TEXT,
    cidr         TEXT,
    block        TEXT NOT NULL,
    country      TEXT,
    source       TEXT NOT NULL,
    -- Why the AS look-up itself failed (e.g. Team Cymru timed out), when it did.
    lookup_error TEXT,
    PRIMARY KEY (snapshot_id, instance_id, position)
) WITHOUT ROWID;

-- How an instance host's weight was shared between hosting buckets (sums to 1).
CREATE TABLE host_share (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    instance_id INTEGER NOT NULL REFERENCES instance (id),
    bucket      TEXT NOT NULL,
    share       REAL NOT NULL,
    PRIMARY KEY (snapshot_id, instance_id, bucket)
) WITHOUT ROWID;

-- Responses of a running snapshot, so that a killed crawl resumes without fetching them
-- again. Deleted when the snapshot completes. Never holds a token.
CREATE TABLE journal (
    id            INTEGER PRIMARY KEY,
    snapshot_id   INTEGER NOT NULL REFERENCES snapshot (id),
    url           TEXT NOT NULL,
    accept        TEXT NOT NULL,
    authenticated INTEGER NOT NULL,
    final_url     TEXT NOT NULL,
    status        INTEGER NOT NULL,
    headers       BLOB NOT NULL,
    body          BLOB NOT NULL,
    remote        TEXT,
    UNIQUE (snapshot_id, url, accept, authenticated)
);

-- Views for people reading the database.

-- One line per snapshot: what it holds.
CREATE VIEW snapshot_summary AS
SELECT s.id AS snapshot_id, s.kind, s.status, s.started_at, s.finished_at,
       (SELECT count(*) FROM seed WHERE seed.snapshot_id = s.id) AS seeds,
       (SELECT count(DISTINCT st.account_id) FROM follow_list l
          JOIN follow f ON f.list_id = l.id
          JOIN account_state st ON st.id = f.account_state_id
         WHERE l.snapshot_id = s.id) AS accounts,
       (SELECT count(*) FROM follow_list l JOIN follow f ON f.list_id = l.id
         WHERE l.snapshot_id = s.id) AS follows,
       (SELECT count(*) FROM instance_state i WHERE i.snapshot_id = s.id AND i.accounts > 0) AS instances
  FROM snapshot s;

-- Every follow edge with the seed, the account as seen then, and its instance.
CREATE VIEW follow_edge AS
SELECT l.snapshot_id, sd.handle AS seed_handle, sd.input AS seed_input, l.direction, f.position,
       a.id AS account_id, a.handle, a.actor_uri, i.host AS instance,
       st.display_name, st.bot, st.moved_to, st.discoverable, st.indexable, st.noindex,
       st.hide_collections, st.followers_count, st.following_count, st.nobot_tag, st.last_status_at
  FROM follow f
  JOIN follow_list l ON l.id = f.list_id
  JOIN seed sd ON sd.snapshot_id = l.snapshot_id AND sd.position = l.seed_position
  JOIN account_state st ON st.id = f.account_state_id
  JOIN account a ON a.id = st.account_id
  LEFT JOIN instance i ON i.id = a.instance_id;

-- Every address of every instance in a snapshot, with who hosts it.
CREATE VIEW instance_address AS
SELECT ad.snapshot_id, i.host AS instance, ad.ip, ad.asn, ad.as_name, ad.organisation, ad.cdn,
       ad.range_start, ad.range_end, ad.cidr, ad.block, ad.country,
       d.cname_chain, d.hosting_service, ad.source
  FROM address ad
  JOIN instance i ON i.id = ad.instance_id
  LEFT JOIN dns_answer d ON d.snapshot_id = ad.snapshot_id AND d.instance_id = ad.instance_id;

-- Every failure of a snapshot, one kind per cause: GROUP BY kind.
CREATE VIEW failure AS
SELECT snapshot_id, 'seed' AS subject, input AS about, failure_kind AS kind, failure_message AS message
  FROM seed WHERE failure_kind IS NOT NULL
UNION ALL
SELECT l.snapshot_id, 'list', sd.input || ' ' || l.direction, l.failure_kind, l.reason
  FROM follow_list l
  JOIN seed sd ON sd.snapshot_id = l.snapshot_id AND sd.position = l.seed_position
 WHERE l.failure_kind IS NOT NULL
UNION ALL
SELECT s.snapshot_id, 'nodeinfo', i.host, s.nodeinfo_failure_kind, s.nodeinfo_failure_message
  FROM instance_state s JOIN instance i ON i.id = s.instance_id
 WHERE s.nodeinfo_failure_kind IS NOT NULL
UNION ALL
SELECT d.snapshot_id, 'dns', i.host, d.failure_kind, d.error
  FROM dns_answer d JOIN instance i ON i.id = d.instance_id
 WHERE d.failure_kind IS NOT NULL
UNION ALL
SELECT DISTINCT l.snapshot_id, 'actor', coalesce(a.handle, a.actor_uri), st.fetch_failure_kind, st.fetch_error
  FROM follow f
  JOIN follow_list l ON l.id = f.list_id
  JOIN account_state st ON st.id = f.account_state_id
  JOIN account a ON a.id = st.account_id
 WHERE st.fetch_failure_kind IS NOT NULL;
