INSERT INTO address (snapshot_id, instance_id, position, ip, asn, as_name, organisation, cdn,
                     range_start, range_end, cidr, block, country, source, lookup_error)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
