INSERT INTO host_share (snapshot_id, instance_id, bucket, share) VALUES (?1, ?2, ?3, ?4)
