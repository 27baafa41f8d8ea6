-- summary: one line per snapshot: when it ran, how it ended, what it holds, and how
-- concentrated its accounts are by hosting organisation (the stored metrics).
--
-- Parameters:
--   (none)
-- Columns:
--   snapshot_id       the snapshot
--   started_at        when its crawl started (UTC)
--   status            running, complete, interrupted or failed
--   seeds             seeds crawled
--   failed_seeds      seeds that failed
--   hidden_lists      follow lists their owners hide
--   accounts          distinct accounts listed
--   follows           follow edges listed
--   instances         instances with listed accounts
--   organisations     hosting organisations (accounts weight; CDN-fronted hosts apart)
--   top_organisation  the largest of them
--   top_share         its share of the accounts (0 to 1)
--   hhi               Herfindahl-Hirschman index over organisations (0 to 10,000)
SELECT s.snapshot_id, s.started_at, s.status, s.seeds,
       (SELECT count(*) FROM seed d
         WHERE d.snapshot_id = s.snapshot_id AND d.failure_kind IS NOT NULL) AS failed_seeds,
       (SELECT count(*) FROM follow_list l
         WHERE l.snapshot_id = s.snapshot_id AND l.status = 'hidden') AS hidden_lists,
       s.accounts, s.follows, s.instances,
       m.buckets AS organisations, b.label AS top_organisation, b.share AS top_share, m.hhi
  FROM snapshot_summary s
  LEFT JOIN metric_summary m
    ON m.snapshot_id = s.snapshot_id AND m.level = 'organisation' AND m.weight = 'accounts'
  LEFT JOIN metric_bucket b
    ON b.snapshot_id = s.snapshot_id AND b.level = 'organisation' AND b.weight = 'accounts'
   AND b.rank = 1
 ORDER BY s.snapshot_id;
