SELECT id FROM snapshot WHERE (status <> 'running'
       OR EXISTS (SELECT 1 FROM snapshot l WHERE l.id > snapshot.id AND l.status = 'complete')) AND started_at < ?1
