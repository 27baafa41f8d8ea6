INSERT INTO seed (snapshot_id, position, input, handle, instance_id, actor_uri, account_state_id,
                  failure_kind, failure_class, failure_message, duplicate_of, depth)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
