SELECT instance_id, ip, asn, as_name, organisation, cdn, range_start, range_end, cidr, block,
       country, source, lookup_error
  FROM address WHERE snapshot_id = ?1
 ORDER BY instance_id, position
