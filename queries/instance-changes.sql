-- instance-changes: instances that appeared in the follow lists or disappeared from them
-- between two snapshots, and instances still listed that became unreachable (their name
-- stopped resolving, or they stopped answering).
--
-- Parameters:
--   :to = null    the later snapshot (default: the latest complete one)
--   :from = null  the earlier snapshot (default: the complete one before :to of its series,
--                 crawls of the same seeds, which whohosts gives; :to itself when there
--                 is none, said on stderr)
-- Columns:
--   instance       the instance host
--   change         appeared, disappeared or unreachable
--   from_accounts  accounts listed on it in the earlier snapshot
--   to_accounts    accounts listed on it in the later snapshot
--   failure        why it was unreachable (dns, connection, timeout …)
WITH pair AS (
  SELECT coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows')) AS to_id,
         coalesce(:from, (SELECT previous_id FROM snapshot_step
                           WHERE snapshot_id = coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows'))))
           AS from_id
), seen AS (
  SELECT h.snapshot_id, h.instance_id, h.instance, h.accounts, h.unreachable
    FROM instance_hosting h, pair
   WHERE h.snapshot_id IN (pair.from_id, pair.to_id) AND h.accounts > 0
), joined AS (
  SELECT ids.instance, f.accounts AS from_accounts, t.accounts AS to_accounts,
         f.unreachable AS from_failure, t.unreachable AS to_failure,
         f.snapshot_id IS NOT NULL AS was, t.snapshot_id IS NOT NULL AS is_now
    FROM (SELECT DISTINCT instance_id, instance FROM seen) ids
    JOIN pair
    LEFT JOIN seen f ON f.instance_id = ids.instance_id AND f.snapshot_id = pair.from_id
    LEFT JOIN seen t ON t.instance_id = ids.instance_id AND t.snapshot_id = pair.to_id
)
SELECT instance,
       CASE WHEN NOT was THEN 'appeared' WHEN NOT is_now THEN 'disappeared' ELSE 'unreachable' END
         AS change,
       from_accounts, to_accounts, to_failure AS failure
  FROM joined
 WHERE NOT was OR NOT is_now OR (from_failure IS NULL AND to_failure IS NOT NULL)
 ORDER BY change, instance;
