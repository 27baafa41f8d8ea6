UPDATE snapshot SET status = 'failed', finished_at = ?2 WHERE id = ?1 AND status IN ('running', 'interrupted')
