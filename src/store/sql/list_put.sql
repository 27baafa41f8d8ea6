INSERT INTO follow_list (snapshot_id, seed_position, direction, source, declared, status, unseen,
                         failure_kind, reason, pages, skipped)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
