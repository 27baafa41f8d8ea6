INSERT INTO asn_database (sha256, file, format, date, licence, ranges_v4, ranges_v6, skipped_lines,
                          skipped_by_file)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
