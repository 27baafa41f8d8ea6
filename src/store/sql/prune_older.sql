SELECT id FROM snapshot WHERE status <> 'running' AND started_at < ?1
