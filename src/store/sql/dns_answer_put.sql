INSERT INTO dns_answer (snapshot_id, instance_id, cname_chain, ttl, failure_kind, error,
                        connected_address, hosting_service)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
