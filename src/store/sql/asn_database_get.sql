SELECT id FROM asn_database
 WHERE sha256 = ?1 AND file = ?2 AND format = ?3 AND date = ?4 AND licence = ?5
   AND ranges_v4 = ?6 AND ranges_v6 = ?7 AND skipped_lines = ?8 AND skipped_by_file = ?9
