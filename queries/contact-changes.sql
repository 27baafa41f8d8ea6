-- contact-changes: the domains of two contacts snapshots compared: a domain whose contacts
-- now reach another provider (example.org moved from OVH to Google), whose server is no
-- longer found or found again, that is new among the contacts, or that no contact has any
-- more. Contacts snapshots only (`whohosts contacts`); `diff` reads the same rows.
--
-- Parameters:
--   :to = null    the later contacts snapshot (default: the latest complete one)
--   :from = null  the earlier one (default: the complete contacts snapshot before :to of its
--                 series, one --series and weight, which whohosts gives; :to itself when
--                 there is none, said on stderr). Two snapshots of different weights are
--                 refused, as `diff` refuses them
-- Columns:
--   domain         the domain (or Matrix server name)
--   protocol       email, xmpp, matrix or fediverse
--   change         moved, lost (its server no longer found), found (found again), added
--                  or removed
--   from_provider  who served it then: the provider, or why its server was not found
--   to_provider    who serves it now
--   from_contacts  contacts at the domain then
--   to_contacts    contacts at the domain now
WITH pair AS (
  SELECT coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step WHERE kind = 'contacts')) AS to_id,
         coalesce(:from, (SELECT previous_id FROM snapshot_step
                           WHERE snapshot_id = coalesce(:to, (SELECT max(snapshot_id) FROM snapshot_step
                                                               WHERE kind = 'contacts'))))
           AS from_id
),
f AS (SELECT d.* FROM contact_domain d JOIN pair ON d.snapshot_id = pair.from_id),
t AS (SELECT d.* FROM contact_domain d JOIN pair ON d.snapshot_id = pair.to_id)
SELECT domain, protocol, change, from_provider, to_provider, from_contacts, to_contacts
  FROM (
    SELECT t.domain, t.protocol,
           CASE WHEN t.not_found IS NOT NULL THEN 'lost'
                WHEN f.not_found IS NOT NULL THEN 'found'
                ELSE 'moved' END AS change,
           coalesce(f.provider, f.not_found) AS from_provider,
           coalesce(t.provider, t.not_found) AS to_provider,
           f.contacts AS from_contacts, t.contacts AS to_contacts, 0 AS section
      FROM t JOIN f ON f.protocol = t.protocol AND f.domain = t.domain
     WHERE coalesce(f.provider, f.not_found) IS NOT coalesce(t.provider, t.not_found)
    UNION ALL
    SELECT t.domain, t.protocol, 'added', NULL, coalesce(t.provider, t.not_found), NULL, t.contacts, 1
      FROM t LEFT JOIN f ON f.protocol = t.protocol AND f.domain = t.domain
     WHERE f.domain IS NULL
    UNION ALL
    SELECT f.domain, f.protocol, 'removed', coalesce(f.provider, f.not_found), NULL, f.contacts, NULL, 2
      FROM f LEFT JOIN t ON t.protocol = f.protocol AND t.domain = f.domain
     WHERE t.domain IS NULL
  )
 ORDER BY section, domain, protocol;
