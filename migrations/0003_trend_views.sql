-- 0003: views for trend questions. queries/*.sql read them; so can you, in sqlite3, DuckDB
-- or Datasette. (Kept to SQL that older sqlite3 shells parse: no ORDER BY inside aggregates.)

-- Each instance met in a snapshot: accounts listed on it, who hosted it (its AS numbers,
-- comma-separated, and its hosting buckets, organisations or "behind CDN X", separated by
-- "; "), and why it was unreachable, if it was: its name did not resolve (the DNS failure
-- kind, such as dns_nxdomain) or it did not answer (connection, timeout).
CREATE VIEW instance_hosting AS
SELECT s.snapshot_id, s.instance_id, i.host AS instance, s.accounts,
       (SELECT group_concat(asn, ',')
          FROM (SELECT DISTINCT a.asn FROM address a
                 WHERE a.snapshot_id = s.snapshot_id AND a.instance_id = s.instance_id
                 ORDER BY a.asn)) AS asns,
       (SELECT group_concat(bucket, '; ')
          FROM (SELECT h.bucket FROM host_share h
                 WHERE h.snapshot_id = s.snapshot_id AND h.instance_id = s.instance_id
                 ORDER BY h.bucket)) AS hosting,
       coalesce(d.failure_kind,
                CASE WHEN s.nodeinfo_failure_kind IN ('dns', 'dns_timeout', 'connection', 'timeout')
                     THEN s.nodeinfo_failure_kind END) AS unreachable
  FROM instance_state s
  JOIN instance i ON i.id = s.instance_id
  LEFT JOIN dns_answer d ON d.snapshot_id = s.snapshot_id AND d.instance_id = s.instance_id;

-- Each complete snapshot and the complete snapshot before it (NULL for the first): the
-- default pair of the comparing queries.
CREATE VIEW snapshot_step AS
SELECT s.id AS snapshot_id,
       (SELECT max(p.id) FROM snapshot p WHERE p.status = 'complete' AND p.id < s.id) AS previous_id
  FROM snapshot s
 WHERE s.status = 'complete';
