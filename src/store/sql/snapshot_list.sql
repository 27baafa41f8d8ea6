SELECT s.id, s.kind, s.status, s.started_at, ifnull(s.finished_at, ''), s.request,
       (SELECT count(*) FROM seed WHERE seed.snapshot_id = s.id),
       (SELECT count(DISTINCT st.account_id) FROM follow_list l
          JOIN follow f ON f.list_id = l.id
          JOIN account_state st ON st.id = f.account_state_id
         WHERE l.snapshot_id = s.id),
       (SELECT count(*) FROM instance_state i WHERE i.snapshot_id = s.id AND i.accounts > 0)
  FROM snapshot s
 ORDER BY s.id
