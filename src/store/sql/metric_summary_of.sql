SELECT level, weight, total, buckets, top1, top3, top5, top10, k50, k75, hhi, band, entropy,
       effective, gini
  FROM metric_summary WHERE snapshot_id = ?1
