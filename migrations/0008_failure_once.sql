-- An instance whose name does not resolve failed once, not twice: its DNS answer failed, and
-- the NodeInfo fetch that needed the name failed for that reason. The `failure` view gave it
-- both a `dns` and a `nodeinfo` row, so `GROUP BY kind` counted it twice. Now a NodeInfo
-- failure is a row only when the instance's DNS answer in the same snapshot did not fail.
DROP VIEW failure;
CREATE VIEW failure AS
SELECT snapshot_id, 'seed' AS subject, input AS about, failure_kind AS kind, failure_message AS message
  FROM seed WHERE failure_kind IS NOT NULL
UNION ALL
SELECT l.snapshot_id, 'list', sd.input || ' ' || l.direction, l.failure_kind, l.reason
  FROM follow_list l
  JOIN seed sd ON sd.snapshot_id = l.snapshot_id AND sd.position = l.seed_position
 WHERE l.failure_kind IS NOT NULL
UNION ALL
SELECT s.snapshot_id, 'nodeinfo', i.host, s.nodeinfo_failure_kind, s.nodeinfo_failure_message
  FROM instance_state s JOIN instance i ON i.id = s.instance_id
 WHERE s.nodeinfo_failure_kind IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM dns_answer d
                    WHERE d.snapshot_id = s.snapshot_id AND d.instance_id = s.instance_id
                      AND d.failure_kind IS NOT NULL)
UNION ALL
SELECT d.snapshot_id, 'dns', i.host, d.failure_kind, d.error
  FROM dns_answer d JOIN instance i ON i.id = d.instance_id
 WHERE d.failure_kind IS NOT NULL
UNION ALL
SELECT DISTINCT l.snapshot_id, 'actor', coalesce(a.handle, a.actor_uri), st.fetch_failure_kind, st.fetch_error
  FROM follow f
  JOIN follow_list l ON l.id = f.list_id
  JOIN account_state st ON st.id = f.account_state_id
  JOIN account a ON a.id = st.account_id
 WHERE st.fetch_failure_kind IS NOT NULL;
