DELETE FROM account_state
 WHERE id NOT IN (SELECT account_state_id FROM follow)
   AND id NOT IN (SELECT account_state_id FROM seed WHERE account_state_id IS NOT NULL);
DELETE FROM account WHERE id NOT IN (SELECT account_id FROM account_state);
DELETE FROM instance
 WHERE id NOT IN (SELECT instance_id FROM account WHERE instance_id IS NOT NULL)
   AND id NOT IN (SELECT instance_id FROM seed WHERE instance_id IS NOT NULL)
   AND id NOT IN (SELECT instance_id FROM instance_state)
   AND id NOT IN (SELECT instance_id FROM dns_answer)
   AND id NOT IN (SELECT instance_id FROM address)
   AND id NOT IN (SELECT instance_id FROM host_share);
DELETE FROM asn_database
 WHERE id NOT IN (SELECT asn_database_id FROM snapshot WHERE asn_database_id IS NOT NULL);
