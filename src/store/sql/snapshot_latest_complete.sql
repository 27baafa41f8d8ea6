SELECT id FROM snapshot WHERE status = 'complete' AND (?1 IS NULL OR kind = ?1) ORDER BY id DESC LIMIT 1
