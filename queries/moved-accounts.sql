-- moved-accounts: accounts listed in a snapshot that moved (Mastodon `moved`, ActivityPub
-- `movedTo`) or whose instance is unreachable (its name does not resolve, or it does not
-- answer): the follows that need attention.
--
-- Parameters:
--   :snapshot = null  the snapshot (default: the latest complete one)
-- Columns:
--   seed      the seed whose list holds the account
--   account   the account's handle (or actor URI)
--   instance  the instance that serves it
--   what      moved, or instance unreachable
--   moved_to  where it moved to
--   failure   why its instance was unreachable (dns, connection, timeout …)
WITH pick AS (
  SELECT coalesce(:snapshot, (SELECT max(id) FROM snapshot WHERE status = 'complete')) AS id
), unreachable AS (
  SELECT s.instance_id,
         coalesce(d.failure_kind,
                  CASE WHEN s.nodeinfo_failure_kind IN ('dns', 'dns_timeout', 'connection', 'timeout')
                       THEN s.nodeinfo_failure_kind END) AS failure
    FROM instance_state s
    JOIN pick ON s.snapshot_id = pick.id
    LEFT JOIN dns_answer d ON d.snapshot_id = s.snapshot_id AND d.instance_id = s.instance_id
)
SELECT e.seed_input AS seed, coalesce(e.handle, e.actor_uri) AS account, e.instance,
       CASE WHEN e.moved_to IS NOT NULL THEN 'moved' ELSE 'instance unreachable' END AS what,
       e.moved_to, u.failure
  FROM follow_edge e
  JOIN pick ON e.snapshot_id = pick.id
  LEFT JOIN instance i ON i.host = e.instance
  LEFT JOIN unreachable u ON u.instance_id = i.id
 WHERE e.moved_to IS NOT NULL OR u.failure IS NOT NULL
 ORDER BY what, account, seed;
