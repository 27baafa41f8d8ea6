UPDATE snapshot SET status = ?2, finished_at = ?3 WHERE id = ?1 AND status IN ('running', 'interrupted')
