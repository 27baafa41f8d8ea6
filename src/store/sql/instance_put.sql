INSERT INTO instance (host) VALUES (?1)
