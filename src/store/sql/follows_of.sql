SELECT f.list_id, a.actor_uri, a.handle, i.host, st.display_name, st.bot, st.moved_to,
       st.discoverable, st.indexable, st.noindex, st.hide_collections, st.followers_count,
       st.following_count, st.nobot_tag, st.fetch_error, st.last_status_at
  FROM follow_list l
  JOIN follow f ON f.list_id = l.id
  JOIN account_state st ON st.id = f.account_state_id
  JOIN account a ON a.id = st.account_id
  LEFT JOIN instance i ON i.id = a.instance_id
 WHERE l.snapshot_id = ?1
 ORDER BY f.list_id, f.position
