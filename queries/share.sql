-- share: one organisation's (or AS's, instance's …) share over time, from the stored
-- metrics; 0 in complete snapshots where it holds nothing.
--
-- Parameters:
--   :name                  the bucket, as reports name it (Hetzner, behind CDN Cloudflare,
--                          origin unknown …) or by its key
--   :level = organisation  instance, organisation, as, range, block, country or hosting
--   :weight = accounts     accounts, edges, instances, users or active
--   :kind = null           only snapshots of this kind: follows, contacts or instances
--                          (surveys); null: every kind
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
   AND (:kind IS NULL OR s.kind = :kind)
 ORDER BY m.snapshot_id;
