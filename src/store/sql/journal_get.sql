SELECT final_url, status, headers, body, remote
  FROM journal WHERE snapshot_id = ?1 AND url = ?2 AND accept = ?3 AND authenticated = ?4
