SELECT id FROM account
 WHERE ifnull(actor_uri, '') = ?1 AND ifnull(handle, '') = ?2 AND ifnull(instance_id, 0) = ?3
