SELECT s.started_at, ifnull(s.finished_at, ''), s.tool, s.address_policy, s.online_fallback,
       s.requests, s.retries, d.file, d.format, d.sha256, d.date, d.ranges_v4, d.ranges_v6,
       d.skipped_lines, d.licence
  FROM snapshot s LEFT JOIN asn_database d ON d.id = s.asn_database_id
 WHERE s.id = ?1
