SELECT id FROM snapshot WHERE (status <> 'running'
       OR EXISTS (SELECT 1 FROM snapshot l WHERE l.id > snapshot.id AND l.status = 'complete')) ORDER BY id DESC LIMIT -1 OFFSET ?1
