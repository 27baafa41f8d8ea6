SELECT id FROM account_state WHERE account_id = ?1 AND digest = ?2
