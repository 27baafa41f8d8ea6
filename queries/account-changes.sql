-- account-changes: accounts that entered or left the follow lists between two snapshots, and
-- accounts that moved (Mastodon `moved`, ActivityPub `movedTo`) since the earlier one.
--
-- Parameters:
--   :to = null    the later snapshot (default: the latest complete one)
--   :opted_out = counted  accounts that opted out of crawlers: counted (one row per change,
--                 instance and target, "2 opted-out accounts") or hashed (one row each, under
--                 the keyed hash the database stores: what diff reads to count them)
--   :from = null  the earlier snapshot (default: the complete one before :to of its series,
--                 crawls of the same seeds, which whohosts gives; :to itself when there
--                 is none, said on stderr)
-- Columns:
--   account   the account's handle (or actor URI); accounts that opted out of crawlers
--             only counted ("2 opted-out accounts") unless :opted_out = hashed
--   change    added, removed or moved
--   instance  the instance that serves it
--   moved_to  where it moved to (moved only): the new account's handle when the database
--             knows it, else the URI it gave; its instance only ("an opted-out account on
--             HOST", "an account on HOST") for one that opted out of crawlers or that the
--             crawl did not see
WITH pair AS (
  SELECT coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows')) AS to_id,
         coalesce(:from, (SELECT previous_id FROM snapshot_step
                           WHERE snapshot_id = coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'follows'))))
           AS from_id
), before AS (
  SELECT DISTINCT e.account_id, coalesce(e.handle, e.actor_uri) AS account, e.instance, e.moved_to
    FROM follow_edge e JOIN pair ON e.snapshot_id = pair.from_id
), after AS (
  SELECT DISTINCT e.account_id, coalesce(e.handle, e.actor_uri) AS account, e.instance, e.moved_to
    FROM follow_edge e JOIN pair ON e.snapshot_id = pair.to_id
), target AS (
  -- The handle of each move target the database holds an account for (by its actor URI).
  SELECT m.moved_to,
         (SELECT t.handle FROM account t
           WHERE ifnull(t.actor_uri, '') = m.moved_to AND t.handle IS NOT NULL
           ORDER BY t.id LIMIT 1) AS handle
    FROM (SELECT DISTINCT moved_to FROM after WHERE moved_to IS NOT NULL) m
)
SELECT CASE WHEN account LIKE 'opted-out:%' AND :opted_out = 'counted'
            THEN count(*) || CASE count(*) WHEN 1 THEN ' opted-out account' ELSE ' opted-out accounts' END
            ELSE account END AS account,
       change, instance, moved_to FROM (
  SELECT account, 'added' AS change, instance, NULL AS moved_to
    FROM after WHERE account_id NOT IN (SELECT account_id FROM before)
  UNION
  SELECT account, 'removed', instance, NULL
    FROM before WHERE account_id NOT IN (SELECT account_id FROM after)
  UNION
  SELECT account, 'moved', instance,
         coalesce((SELECT handle FROM target WHERE target.moved_to = after.moved_to), moved_to)
    FROM after
   WHERE moved_to IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM before b
                      WHERE b.account_id = after.account_id AND b.moved_to IS after.moved_to)
)
 GROUP BY CASE WHEN account LIKE 'opted-out:%' AND :opted_out = 'counted' THEN NULL ELSE account END,
          change, instance, moved_to
 ORDER BY change, account;
