-- `prune --keep N`: the snapshots older than the N newest complete ones (a failed or
-- interrupted run is no measurement, so it does not count among the N; one newer than the
-- oldest kept stays, for its rows say what went wrong). Nothing goes when fewer than N are
-- complete; `--keep 0` names every snapshot. A running snapshot is never named unless it is
-- abandoned (a later snapshot completed, so its crawl cannot be alive).
WITH kept AS (SELECT id FROM snapshot WHERE status = 'complete' ORDER BY id DESC LIMIT ?1),
floor AS (
  SELECT CASE WHEN ?1 = 0 THEN 9223372036854775807
              WHEN (SELECT count(*) FROM kept) < ?1 THEN NULL
              ELSE (SELECT min(id) FROM kept) END AS id
)
SELECT id FROM snapshot
 WHERE id < (SELECT id FROM floor)
   AND (status <> 'running'
        OR EXISTS (SELECT 1 FROM snapshot l WHERE l.id > snapshot.id AND l.status = 'complete'))
 ORDER BY id DESC
