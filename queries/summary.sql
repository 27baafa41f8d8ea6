-- summary: one line per snapshot: when it ran, how it ended, what it holds and how
-- concentrated it is by hosting organisation, all from the metrics stored with it (counts
-- are empty for a snapshot that has not completed). A follows snapshot is weighed by
-- accounts; a survey (kind instances) by the users its instances declare, its instances
-- being those listed.
--
-- Parameters:
--   (none)
-- Columns:
--   snapshot_id       the snapshot
--   started_at        when its crawl started (UTC)
--   status            running, complete, interrupted or failed
--   kind              follows (a crawl), contacts or instances (a survey)
--   seeds             seeds crawled
--   failed_seeds      seeds that failed
--   hidden_lists      follow lists their owners hide
--   accounts          distinct accounts listed
--   follows           follow edges listed
--   instances         instances with listed accounts (a survey: instances listed)
--   weight            what the organisation figures weigh: accounts (users for a survey;
--                     empty for a contacts snapshot, whose report has its own levels)
--   organisations     hosting organisations (CDN-fronted hosts apart)
--   top_organisation  the largest of them
--   top_share         its share of the attributed weight (0 to 1)
--   hhi               Herfindahl-Hirschman index over organisations (0 to 10,000); empty
--                     when no organisation holds any weight (nothing to attribute: not rated)
WITH population AS (
  SELECT snapshot_id,
         CAST(max(CASE name WHEN 'seeds' THEN value END) AS INTEGER) AS seeds,
         CAST(max(CASE name WHEN 'seeds_failed' THEN value END) AS INTEGER) AS failed_seeds,
         CAST(max(CASE name WHEN 'lists_hidden' THEN value END) AS INTEGER) AS hidden_lists,
         CAST(max(CASE name WHEN 'accounts' THEN value END) AS INTEGER) AS accounts,
         CAST(max(CASE name WHEN 'edges' THEN value END) AS INTEGER) AS follows,
         CAST(max(CASE name WHEN 'instances' THEN value END) AS INTEGER) AS instances,
         CAST(max(CASE name WHEN 'listed' THEN value END) AS INTEGER) AS listed
    FROM metric_population
   GROUP BY snapshot_id
), weighed AS (
  SELECT id, CASE kind WHEN 'instances' THEN 'users' WHEN 'follows' THEN 'accounts' END AS weight FROM snapshot
)
SELECT s.id AS snapshot_id, s.started_at, s.status, s.kind, p.seeds, p.failed_seeds, p.hidden_lists,
       p.accounts, p.follows, coalesce(p.instances, p.listed) AS instances, w.weight,
       m.buckets AS organisations, b.label AS top_organisation, b.share AS top_share,
       CASE WHEN m.buckets > 0 THEN m.hhi END AS hhi
  FROM snapshot s
  JOIN weighed w ON w.id = s.id
  LEFT JOIN population p ON p.snapshot_id = s.id
  LEFT JOIN metric_summary m
    ON m.snapshot_id = s.id AND m.level = 'organisation' AND m.weight = w.weight
  LEFT JOIN metric_bucket b
    ON b.snapshot_id = s.id AND b.level = 'organisation' AND b.weight = w.weight AND b.rank = 1
 ORDER BY s.id;
