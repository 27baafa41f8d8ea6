-- survey-changes: the instances of two instance-list surveys compared: an instance that
-- joined the list or left it, whose NodeInfo could no longer be read or could again, that
-- runs other software, or that moved to other hosting (another AS or organisation).
-- Surveys only (`whohosts instances`); `diff` reads the same rows.
--
-- Parameters:
--   :to = null    the later survey (default: the latest complete one)
--   :from = null  the earlier one (default: the complete survey before :to of its series,
--                 one list and --software filter, which whohosts gives; :to itself when
--                 there is none, said on stderr)
-- Columns:
--   instance       the instance host
--   change         joined, left, failed (NodeInfo no longer read), recovered (read
--                  again), software (other software) or moved (other AS or organisation;
--                  an instance no longer attributed to an AS, say dead, did not move)
--   from_software  its NodeInfo software then (with version), or why it was not read
--   to_software    the same now
--   from_hosting   who hosted it then: its hosting buckets ('; '-separated) and AS numbers
--   to_hosting     who hosts it now
--   from_users     the users it declared then (trusted counts only)
--   to_users       the users it declares now
WITH pair AS (
  SELECT coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'instances')) AS to_id,
         coalesce(:from, (SELECT previous_id FROM snapshot_step
                           WHERE snapshot_id = coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step
                                                               WHERE kind = 'instances'))))
           AS from_id
),
side AS (
  SELECT v.snapshot_id, v.instance_id, h.instance,
         s.nodeinfo_failure_kind AS failure,
         CASE WHEN s.nodeinfo_failure_kind IS NOT NULL THEN s.nodeinfo_failure_kind
              ELSE coalesce(s.software, 'unknown') || coalesce(' ' || s.version, '') END AS software,
         coalesce(s.software, '') AS name,
         CASE WHEN h.hosting IS NULL AND h.asns IS NULL THEN NULL
              ELSE coalesce(h.hosting, '') || ' (AS ' || coalesce(h.asns, '?') || ')' END AS hosting,
         h.asns, s.users_total AS users
    FROM survey_instance v
    JOIN instance_state s ON s.snapshot_id = v.snapshot_id AND s.instance_id = v.instance_id
    JOIN instance_hosting h ON h.snapshot_id = v.snapshot_id AND h.instance_id = v.instance_id
),
f AS (SELECT side.* FROM side JOIN pair ON side.snapshot_id = pair.from_id),
t AS (SELECT side.* FROM side JOIN pair ON side.snapshot_id = pair.to_id)
SELECT instance, change, from_software, to_software, from_hosting, to_hosting, from_users, to_users
  FROM (
    SELECT t.instance, 'joined' AS change, NULL AS from_software, t.software AS to_software,
           NULL AS from_hosting, t.hosting AS to_hosting, NULL AS from_users, t.users AS to_users,
           0 AS section
      FROM t LEFT JOIN f ON f.instance_id = t.instance_id
     WHERE f.instance_id IS NULL
    UNION ALL
    SELECT f.instance, 'left', f.software, NULL, f.hosting, NULL, f.users, NULL, 1
      FROM f LEFT JOIN t ON t.instance_id = f.instance_id
     WHERE t.instance_id IS NULL
    UNION ALL
    SELECT t.instance, CASE WHEN t.failure IS NOT NULL THEN 'failed' ELSE 'recovered' END,
           f.software, t.software, f.hosting, t.hosting, f.users, t.users, 2
      FROM t JOIN f ON f.instance_id = t.instance_id
     WHERE (f.failure IS NULL) <> (t.failure IS NULL)
    UNION ALL
    SELECT t.instance, 'software', f.software, t.software, f.hosting, t.hosting, f.users, t.users, 3
      FROM t JOIN f ON f.instance_id = t.instance_id
     WHERE f.failure IS NULL AND t.failure IS NULL AND f.name <> t.name
    UNION ALL
    SELECT t.instance, 'moved', f.software, t.software, f.hosting, t.hosting, f.users, t.users, 4
      FROM t JOIN f ON f.instance_id = t.instance_id
     WHERE f.asns IS NOT NULL AND t.asns IS NOT NULL AND f.hosting <> t.hosting
  )
 ORDER BY section, instance;
