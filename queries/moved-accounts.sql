-- moved-accounts: accounts listed in a snapshot that moved (Mastodon `moved`, ActivityPub
-- `movedTo`) or whose instance is unreachable (its name does not resolve, or it does not
-- answer): the follows that need attention.
--
-- Parameters:
--   :snapshot = null  the snapshot (default: the latest complete one)
-- Columns:
--   seed      the seed whose list holds the account
--   account   the account's handle (or actor URI); accounts that opted out of crawlers
--             only counted ("2 opted-out accounts"), per seed, instance and target
--   instance  the instance that serves it
--   what      moved, or instance unreachable
--   moved_to  where it moved to: the new account's handle when the database knows it, else
--             the URI it gave (as account-changes gives it); its instance only ("an opted-out
--             account on HOST", "an account on HOST") for one that opted out of crawlers or
--             that the crawl did not see
--   failure   why its instance was unreachable (dns, connection, timeout …)
WITH pick AS (
  SELECT coalesce(:snapshot, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows')) AS id
), unreachable AS (
  SELECT h.instance, h.unreachable FROM pick JOIN instance_hosting h ON h.snapshot_id = pick.id
   WHERE h.unreachable IS NOT NULL
)
SELECT e.seed_input AS seed,
       CASE WHEN e.actor_uri LIKE 'opted-out:%'
            THEN count(DISTINCT e.account_id)
                 || CASE count(DISTINCT e.account_id) WHEN 1 THEN ' opted-out account' ELSE ' opted-out accounts' END
            ELSE coalesce(e.handle, e.actor_uri) END AS account,
       e.instance,
       CASE WHEN e.moved_to IS NOT NULL THEN 'moved' ELSE 'instance unreachable' END AS what,
       coalesce((SELECT t.handle FROM account t
                  WHERE ifnull(t.actor_uri, '') = e.moved_to AND t.handle IS NOT NULL
                  ORDER BY t.id LIMIT 1), e.moved_to) AS moved_to,
       u.unreachable AS failure
  FROM pick
  JOIN follow_edge e ON e.snapshot_id = pick.id
  LEFT JOIN unreachable u ON u.instance = e.instance
 WHERE e.moved_to IS NOT NULL OR u.unreachable IS NOT NULL
 -- Accounts that opted out of crawlers are only counted, per seed, instance, kind and target.
 GROUP BY e.seed_input, CASE WHEN e.actor_uri LIKE 'opted-out:%' THEN NULL ELSE e.account_id END,
          e.instance, what, moved_to, failure
 ORDER BY what, account, seed;
