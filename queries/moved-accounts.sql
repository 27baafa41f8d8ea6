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
  SELECT coalesce(:snapshot, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows')) AS id
), unreachable AS (
  SELECT h.instance, h.unreachable FROM pick JOIN instance_hosting h ON h.snapshot_id = pick.id
   WHERE h.unreachable IS NOT NULL
)
SELECT e.seed_input AS seed, coalesce(e.handle, e.actor_uri) AS account, e.instance,
       CASE WHEN e.moved_to IS NOT NULL THEN 'moved' ELSE 'instance unreachable' END AS what,
       e.moved_to, u.unreachable AS failure
  FROM pick
  JOIN follow_edge e ON e.snapshot_id = pick.id
  LEFT JOIN unreachable u ON u.instance = e.instance
 WHERE e.moved_to IS NOT NULL OR u.unreachable IS NOT NULL
 ORDER BY what, account, seed;
