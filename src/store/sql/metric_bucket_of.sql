SELECT level, weight, key, label, amount, share
  FROM metric_bucket WHERE snapshot_id = ?1 ORDER BY level, weight, rank
