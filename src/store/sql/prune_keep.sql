SELECT id FROM snapshot WHERE status <> 'running' ORDER BY id DESC LIMIT -1 OFFSET ?1
