INSERT INTO instance_state (snapshot_id, instance_id, accounts, connected_address, nodeinfo_schema,
                            software, version, users_total, users_active_month,
                            nodeinfo_failure_kind, nodeinfo_failure_class, nodeinfo_failure_message)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
