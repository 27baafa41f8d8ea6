INSERT INTO metric_summary (snapshot_id, level, weight, total, buckets, top1, top3, top5, top10, k50,
                            k75, hhi, band, entropy, effective, gini)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
