-- A snapshot left 'running' by a killed crawl is 'abandoned' once a later snapshot completed
-- and no process holds the database's lock now (?1 = 0): a crawl can resume an older
-- unfinished snapshot of its seeds after a contacts run or a survey completed, and while it
-- runs its snapshot is alive. A contacts
-- snapshot counts its contacts and their domains where a follows snapshot counts accounts and
-- instances; a survey (kind 'instances') the users its instances declare (trusted counts) and
-- the instances listed (summed as reals: claims near the integer limit saturate, never overflow).
SELECT s.id, s.kind,
       CASE WHEN s.status = 'running'
                 AND ?1 = 0
                 AND EXISTS (SELECT 1 FROM snapshot l WHERE l.id > s.id AND l.status = 'complete')
            THEN 'abandoned' ELSE s.status END, s.started_at, ifnull(s.finished_at, ''), s.request,
       (SELECT count(*) FROM seed WHERE seed.snapshot_id = s.id),
       CASE s.kind WHEN 'contacts' THEN (SELECT count(*) FROM contact c WHERE c.snapshot_id = s.id)
       WHEN 'instances' THEN coalesce(
         -- The users the report counts (trusted, of the --software filter), once stored;
         -- while a survey runs, what its instances declare so far.
         (SELECT CAST(p.value AS INTEGER) FROM metric_population p WHERE p.snapshot_id = s.id AND p.name = 'users'),
         (SELECT CAST(total(i.users_total) AS INTEGER) FROM instance_state i WHERE i.snapshot_id = s.id))
       ELSE (SELECT count(DISTINCT st.account_id) FROM follow_list l
          JOIN follow f ON f.list_id = l.id
          JOIN account_state st ON st.id = f.account_state_id
         WHERE l.snapshot_id = s.id) END,
       CASE s.kind WHEN 'contacts' THEN (SELECT count(*) FROM contact_domain d WHERE d.snapshot_id = s.id)
       WHEN 'instances' THEN (SELECT count(*) FROM survey_instance v WHERE v.snapshot_id = s.id)
       ELSE (SELECT count(*) FROM instance_state i WHERE i.snapshot_id = s.id AND i.accounts > 0) END
  FROM snapshot s
 ORDER BY s.id
