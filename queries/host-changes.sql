-- host-changes: instances whose AS or hosting organisation changed between two snapshots:
-- a migration to another provider, a move behind a CDN or away from one. Instances that did
-- not resolve in either snapshot are not here (see instance-changes).
--
-- Parameters:
--   :to = null    the later snapshot (default: the latest complete one)
--   :from = null  the earlier snapshot (default: the complete one before :to)
-- Columns:
--   instance       the instance host
--   from_snapshot  the earlier snapshot
--   to_snapshot    the later snapshot
--   from_asn       its AS numbers then (comma-separated)
--   to_asn         its AS numbers now
--   from_hosting   its hosting buckets then (organisations, or behind CDN X)
--   to_hosting     its hosting buckets now
WITH later AS (
  SELECT coalesce(:to, (SELECT max(id) FROM snapshot WHERE status = 'complete')) AS to_id
), pair AS (
  SELECT coalesce(:from, (SELECT max(id) FROM snapshot
                           WHERE status = 'complete' AND id < later.to_id)) AS from_id,
         later.to_id
    FROM later
), hosting AS (
  SELECT h.snapshot_id, h.instance_id,
         group_concat(h.bucket, '; ' ORDER BY h.bucket) AS buckets,
         (SELECT group_concat(asn, ',' ORDER BY asn)
            FROM (SELECT DISTINCT a.asn FROM address a
                   WHERE a.snapshot_id = h.snapshot_id AND a.instance_id = h.instance_id)) AS asns
    FROM host_share h, pair
   WHERE h.snapshot_id IN (pair.from_id, pair.to_id)
   GROUP BY h.snapshot_id, h.instance_id
)
SELECT i.host AS instance, pair.from_id AS from_snapshot, pair.to_id AS to_snapshot,
       f.asns AS from_asn, t.asns AS to_asn, f.buckets AS from_hosting, t.buckets AS to_hosting
  FROM pair
  JOIN hosting f ON f.snapshot_id = pair.from_id
  JOIN hosting t ON t.snapshot_id = pair.to_id AND t.instance_id = f.instance_id
  JOIN instance i ON i.id = f.instance_id
 WHERE f.asns IS NOT NULL AND t.asns IS NOT NULL
   AND (f.asns IS NOT t.asns OR f.buckets IS NOT t.buckets)
 ORDER BY i.host;
