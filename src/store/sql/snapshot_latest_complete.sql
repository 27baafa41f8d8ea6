SELECT id FROM snapshot WHERE status = 'complete' ORDER BY id DESC LIMIT 1
