INSERT OR IGNORE INTO journal (snapshot_id, url, accept, authenticated, final_url, status, headers,
                               body, remote)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
