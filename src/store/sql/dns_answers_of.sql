SELECT d.instance_id, i.host, d.cname_chain, d.ttl, d.error, d.connected_address, d.hosting_service
  FROM dns_answer d JOIN instance i ON i.id = d.instance_id
 WHERE d.snapshot_id = ?1
