INSERT INTO account (actor_uri, handle, instance_id) VALUES (?1, ?2, ?3)
