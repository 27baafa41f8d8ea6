-- instance-changes: instances that appeared in the follow lists or disappeared from them
-- between two snapshots, and instances still listed that became unreachable (their name
-- stopped resolving, or they stopped answering).
--
-- Parameters:
--   :to = null    the later snapshot (default: the latest complete one)
--   :from = null  the earlier snapshot (default: the complete one before :to)
-- Columns:
--   instance       the instance host
--   change         appeared, disappeared or unreachable
--   from_accounts  accounts listed on it in the earlier snapshot
--   to_accounts    accounts listed on it in the later snapshot
--   failure        why it was unreachable (dns, connection, timeout …)
WITH later AS (
  SELECT coalesce(:to, (SELECT max(id) FROM snapshot WHERE status = 'complete')) AS to_id
), pair AS (
  SELECT coalesce(:from, (SELECT max(id) FROM snapshot
                           WHERE status = 'complete' AND id < later.to_id)) AS from_id,
         later.to_id
    FROM later
), seen AS (
  SELECT s.snapshot_id, s.instance_id, s.accounts,
         coalesce(d.failure_kind,
                  CASE WHEN s.nodeinfo_failure_kind IN ('dns', 'dns_timeout', 'connection', 'timeout')
                       THEN s.nodeinfo_failure_kind END) AS failure
    FROM instance_state s
    JOIN pair ON s.snapshot_id IN (pair.from_id, pair.to_id)
    LEFT JOIN dns_answer d ON d.snapshot_id = s.snapshot_id AND d.instance_id = s.instance_id
   WHERE s.accounts > 0
), joined AS (
  SELECT ids.instance_id, f.accounts AS from_accounts, t.accounts AS to_accounts,
         f.failure AS from_failure, t.failure AS to_failure, f.snapshot_id IS NOT NULL AS was,
         t.snapshot_id IS NOT NULL AS is_now
    FROM (SELECT DISTINCT instance_id FROM seen) ids
    JOIN pair
    LEFT JOIN seen f ON f.instance_id = ids.instance_id AND f.snapshot_id = pair.from_id
    LEFT JOIN seen t ON t.instance_id = ids.instance_id AND t.snapshot_id = pair.to_id
)
SELECT i.host AS instance,
       CASE WHEN NOT was THEN 'appeared'
            WHEN NOT is_now THEN 'disappeared'
            ELSE 'unreachable' END AS change,
       from_accounts, to_accounts, to_failure AS failure
  FROM joined JOIN instance i ON i.id = joined.instance_id
 WHERE NOT was OR NOT is_now OR (from_failure IS NULL AND to_failure IS NOT NULL)
 ORDER BY change, i.host;
