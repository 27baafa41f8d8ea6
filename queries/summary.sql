-- summary: one line per snapshot: when it ran, how it ended, what it holds and how
-- concentrated its accounts are by hosting organisation, all from the metrics stored with
-- it (counts are empty for a snapshot that has not completed).
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
--   top_share         its share of the attributed accounts (0 to 1)
--   hhi               Herfindahl-Hirschman index over organisations (0 to 10,000)
WITH population AS (
  SELECT snapshot_id,
         CAST(max(CASE name WHEN 'seeds' THEN value END) AS INTEGER) AS seeds,
         CAST(max(CASE name WHEN 'seeds_failed' THEN value END) AS INTEGER) AS failed_seeds,
         CAST(max(CASE name WHEN 'lists_hidden' THEN value END) AS INTEGER) AS hidden_lists,
         CAST(max(CASE name WHEN 'accounts' THEN value END) AS INTEGER) AS accounts,
         CAST(max(CASE name WHEN 'edges' THEN value END) AS INTEGER) AS follows,
         CAST(max(CASE name WHEN 'instances' THEN value END) AS INTEGER) AS instances
    FROM metric_population
   GROUP BY snapshot_id
)
SELECT s.id AS snapshot_id, s.started_at, s.status, p.seeds, p.failed_seeds, p.hidden_lists,
       p.accounts, p.follows, p.instances,
       m.buckets AS organisations, b.label AS top_organisation, b.share AS top_share, m.hhi
  FROM snapshot s
  LEFT JOIN population p ON p.snapshot_id = s.id
  LEFT JOIN metric_summary m
    ON m.snapshot_id = s.id AND m.level = 'organisation' AND m.weight = 'accounts'
  LEFT JOIN metric_bucket b
    ON b.snapshot_id = s.id AND b.level = 'organisation' AND b.weight = 'accounts' AND b.rank = 1
 ORDER BY s.id;
