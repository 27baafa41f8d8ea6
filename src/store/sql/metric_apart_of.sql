SELECT level, weight, what, amount FROM metric_apart WHERE snapshot_id = ?1
