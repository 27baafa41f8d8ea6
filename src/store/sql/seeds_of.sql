SELECT sd.position, sd.input, sd.handle, si.host, sd.actor_uri, sd.failure_class, sd.failure_message,
       a.actor_uri, a.handle, i.host, st.display_name, st.bot, st.moved_to, st.discoverable,
       st.indexable, st.noindex, st.hide_collections, st.followers_count, st.following_count,
       st.nobot_tag, st.fetch_error, st.last_status_at, st.id, sd.duplicate_of, sd.depth
  FROM seed sd
  LEFT JOIN instance si ON si.id = sd.instance_id
  LEFT JOIN account_state st ON st.id = sd.account_state_id
  LEFT JOIN account a ON a.id = st.account_id
  LEFT JOIN instance i ON i.id = a.instance_id
 WHERE sd.snapshot_id = ?1
 ORDER BY sd.position
