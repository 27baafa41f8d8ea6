-- 0007: contacts snapshots (`whohosts contacts FILE...`, kind 'contacts'). Their figures are
-- in the metric tables like those of follows (levels protocol, domain, server, provider,
-- gateway, organisation, as, country; weight contacts or messages); what is below says who
-- serves each domain and which contacts were counted, without their user names.

-- Each domain (or Matrix server name) of a contacts snapshot, and who serves it.
CREATE TABLE contact_domain (
    snapshot_id  INTEGER NOT NULL REFERENCES snapshot (id),
    protocol     TEXT NOT NULL CHECK (protocol IN ('email', 'xmpp', 'matrix', 'fediverse')),
    domain       TEXT NOT NULL,
    -- Distinct addresses at the domain, and the messages exchanged with them.
    contacts     INTEGER NOT NULL,
    messages     INTEGER NOT NULL,
    -- NULL when the server was found; else why not, as the report says it.
    not_found    TEXT,
    -- The host that serves it (MX, XMPP or Matrix server).
    server       TEXT,
    -- The provider level's bucket (a company, 'behind gateway X', or the server's
    -- organisations separated by '; '), the service a rule named, the filtering gateway.
    provider     TEXT,
    service      TEXT,
    gateway      TEXT,
    -- Who hosts the server (organisations, AS numbers; '; '-separated) and its countries.
    organisation TEXT,
    asns         TEXT,
    country      TEXT,
    PRIMARY KEY (snapshot_id, protocol, domain)
) WITHOUT ROWID;

-- Each contact of a contacts snapshot, by a keyed hash of its normalised address
-- (HMAC-SHA256 under a key derived from the database's key file, 96 bits in hex): the same
-- contact has the same hash in every snapshot of the database, so contacts added and removed
-- can be counted, but the address, its user part above all, is not stored.
CREATE TABLE contact (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),
    hash        TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    domain      TEXT NOT NULL,
    messages    INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, hash)
) WITHOUT ROWID;

-- The comparing queries pair a snapshot with the complete one before it of the same kind
-- (a contacts snapshot is never the "previous" of a follows snapshot, nor the reverse), and
-- pick the latest of the kind they read.
DROP VIEW snapshot_step;
CREATE VIEW snapshot_step AS
SELECT s.id AS snapshot_id,
       (SELECT max(p.id) FROM snapshot p
         WHERE p.status = 'complete' AND p.id < s.id AND p.kind = s.kind) AS previous_id,
       s.kind
  FROM snapshot s
 WHERE s.status = 'complete';
