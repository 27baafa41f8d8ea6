-- concentration: how concentrated the accounts (or contacts, messages …) are, snapshot by
-- snapshot, at one level under one weight, as computed when each snapshot was stored (never
-- re-derived here). Complete snapshots only. A level with no buckets (nothing to attribute)
-- is not rated, as in the reports: its figures are empty.
--
-- Parameters:
--   :level = organisation  instance, organisation, as, range, block, country or hosting;
--                          of contacts snapshots also protocol, domain, server, provider
--                          or gateway
--   :weight = accounts     accounts, edges, instances, users or active; contacts or
--                          messages of contacts snapshots (in a database with none of the
--                          default, the weight of the latest snapshot)
-- Columns:
--   snapshot_id  the snapshot
--   started_at   when its crawl started (UTC)
--   buckets      how many instances, organisations, ASes … hold the weight
--   top1         share of the largest (0 to 1)
--   top3         share of the three largest
--   k50          fewest buckets that hold half the weight (the Nakamoto coefficient)
--   k75          fewest buckets that hold three quarters
--   hhi          Herfindahl-Hirschman index (0 to 10,000)
--   band         unconcentrated (under 1,000), moderate (to 1,800) or high
--   effective    effective number of buckets (e to the Shannon entropy)
--   gini         Gini coefficient (0 even, 1 one bucket holds all)
SELECT snapshot_id, started_at, buckets,
       CASE WHEN buckets > 0 THEN top1 END AS top1,
       CASE WHEN buckets > 0 THEN top3 END AS top3,
       CASE WHEN buckets > 0 THEN k50 END AS k50,
       CASE WHEN buckets > 0 THEN k75 END AS k75,
       CASE WHEN buckets > 0 THEN hhi END AS hhi,
       CASE WHEN buckets > 0 THEN band END AS band,
       CASE WHEN buckets > 0 THEN effective END AS effective,
       CASE WHEN buckets > 0 THEN gini END AS gini
  FROM concentration
 WHERE level = :level AND weight = :weight
 ORDER BY snapshot_id;
