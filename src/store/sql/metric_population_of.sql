SELECT name, value FROM metric_population WHERE snapshot_id = ?1
