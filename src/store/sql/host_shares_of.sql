SELECT instance_id, bucket, share FROM host_share WHERE snapshot_id = ?1
