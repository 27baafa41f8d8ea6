SELECT count(*) FROM journal WHERE snapshot_id = ?1
