INSERT INTO follow (list_id, position, account_state_id) VALUES (?1, ?2, ?3)
