UPDATE snapshot
   SET status = 'complete', finished_at = ?2, tool = ?3, address_policy = ?4,
       online_fallback = ?5, asn_database_id = ?6, requests = ?7, retries = ?8
 WHERE id = ?1 AND status = 'running'
