SELECT i.host, s.accounts, s.connected_address, s.nodeinfo_schema, s.software, s.version,
       s.users_total, s.users_active_month, s.nodeinfo_failure_class, s.nodeinfo_failure_message
  FROM instance_state s JOIN instance i ON i.id = s.instance_id
 WHERE s.snapshot_id = ?1
