INSERT INTO metric_apart (snapshot_id, level, weight, what, amount) VALUES (?1, ?2, ?3, ?4, ?5)
