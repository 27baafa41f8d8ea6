UPDATE snapshot SET status = 'running', finished_at = NULL WHERE id = ?1
