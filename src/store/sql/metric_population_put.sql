INSERT INTO metric_population (snapshot_id, name, value) VALUES (?1, ?2, ?3)
