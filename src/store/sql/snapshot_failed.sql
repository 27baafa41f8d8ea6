UPDATE snapshot SET status = 'failed' WHERE id = ?1 AND status = 'complete'
