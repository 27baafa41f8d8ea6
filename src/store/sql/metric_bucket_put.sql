INSERT INTO metric_bucket (snapshot_id, level, weight, rank, key, label, amount, share)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
