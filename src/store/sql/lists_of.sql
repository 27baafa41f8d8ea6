SELECT id, seed_position, direction, source, declared, status, unseen, reason, pages,
       failure_kind, skipped
  FROM follow_list WHERE snapshot_id = ?1
 ORDER BY seed_position, id
