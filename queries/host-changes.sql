-- host-changes: instances whose AS or hosting organisation changed between two snapshots:
-- a migration to another provider, a move behind a CDN or away from one. Instances that did
-- not resolve in either snapshot are not here (see instance-changes).
--
-- Parameters:
--   :to = null    the later snapshot (default: the latest complete one)
--   :from = null  the earlier snapshot (default: the complete one before :to of its series,
--                 crawls of the same seeds, which whohosts gives; :to itself when there
--                 is none, said on stderr)
-- Columns:
--   instance       the instance host
--   from_snapshot  the earlier snapshot
--   to_snapshot    the later snapshot
--   from_asn       its AS numbers then (comma-separated)
--   to_asn         its AS numbers now
--   from_hosting   its hosting buckets then (organisations, or behind CDN X)
--   to_hosting     its hosting buckets now
WITH pair AS (
  SELECT coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows')) AS to_id,
         coalesce(:from, (SELECT previous_id FROM snapshot_step
                           WHERE snapshot_id = coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows'))))
           AS from_id
)
SELECT f.instance, pair.from_id AS from_snapshot, pair.to_id AS to_snapshot,
       f.asns AS from_asn, t.asns AS to_asn, f.hosting AS from_hosting, t.hosting AS to_hosting
  FROM pair
  JOIN instance_hosting f ON f.snapshot_id = pair.from_id
  JOIN instance_hosting t ON t.snapshot_id = pair.to_id AND t.instance_id = f.instance_id
 WHERE f.asns IS NOT NULL AND t.asns IS NOT NULL
   AND (f.asns IS NOT t.asns OR f.hosting IS NOT t.hosting)
 ORDER BY f.instance;
