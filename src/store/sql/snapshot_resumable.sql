SELECT id, started_at FROM snapshot
 WHERE request = ?1 AND status IN ('running', 'interrupted')
 ORDER BY id DESC LIMIT 1
