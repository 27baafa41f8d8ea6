DELETE FROM journal WHERE snapshot_id = ?1
