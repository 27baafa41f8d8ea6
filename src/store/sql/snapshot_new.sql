INSERT INTO snapshot (kind, status, request, started_at, tool, configuration)
VALUES (?1, 'running', ?2, ?3, ?4, ?5)
