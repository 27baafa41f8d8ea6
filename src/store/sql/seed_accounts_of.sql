SELECT DISTINCT coalesce(sd.handle, sd.input)
  FROM seed sd
 WHERE sd.snapshot_id = ?1 AND sd.duplicate_of IS NULL AND sd.depth = 0
 ORDER BY 1
