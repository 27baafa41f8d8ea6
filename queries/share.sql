-- share: one organisation's (or AS's, instance's …) share over time, from the stored
-- metrics; 0 in complete snapshots where it holds nothing. One series of one kind: crawls of
-- the same seeds, surveys of one list and software filter, or contacts snapshots of one
-- series and weight, never a mix.
--
-- Parameters:
--   :name                  the bucket, as reports name it (Hetzner, behind CDN Cloudflare,
--                          origin unknown …) or by its key
--   :level = organisation  instance, organisation, as, range, block, country or hosting;
--                          of contacts snapshots also protocol, domain, server, provider
--                          or gateway
--   :weight = accounts     accounts, edges, instances, users or active; contacts or
--                          messages of contacts snapshots (in a database with none of the
--                          default, the weight of the latest snapshot)
--   :kind = null           only snapshots of this kind: follows, contacts or instances
--                          (surveys); null: the kind of the series, else of the latest
--                          complete snapshot measured at :level under :weight
--   :series = null         only these snapshots, a JSON array of ids ([1, 4]); null:
--                          whohosts gives the series of the latest complete snapshot of
--                          the kind, and says so when it leaves others out
-- Columns:
--   snapshot_id  the snapshot
--   started_at   when its crawl started (UTC)
--   rank         its rank that week (1 is the largest; empty when absent)
--   amount       the weight it holds (accounts, edges …)
--   share        its share of the weight (0 to 1)
SELECT m.snapshot_id, s.started_at, b.rank,
       coalesce(b.amount, 0.0) AS amount, coalesce(b.share, 0.0) AS share
  FROM metric_summary m
  JOIN snapshot s ON s.id = m.snapshot_id
  LEFT JOIN metric_bucket b
    ON b.snapshot_id = m.snapshot_id AND b.level = m.level AND b.weight = m.weight
   AND (b.label = :name OR b.key = :name)
 WHERE m.level = :level AND m.weight = :weight AND s.status = 'complete'
   AND (s.kind = :kind
        OR :kind IS NULL AND :series IS NOT NULL
        OR :kind IS NULL AND s.kind = (SELECT l.kind FROM metric_summary lm JOIN snapshot l ON l.id = lm.snapshot_id
                                        WHERE lm.level = :level AND lm.weight = :weight AND l.status = 'complete'
                                        ORDER BY l.id DESC LIMIT 1))
   AND (:series IS NULL OR m.snapshot_id IN (SELECT value FROM json_each(:series)))
 ORDER BY m.snapshot_id;
