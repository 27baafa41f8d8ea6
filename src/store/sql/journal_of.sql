SELECT url, accept, authenticated, final_url, status, headers, body, remote
  FROM journal WHERE snapshot_id = ?1 ORDER BY id
