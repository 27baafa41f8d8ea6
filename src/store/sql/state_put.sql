INSERT INTO account_state (account_id, digest, display_name, bot, moved_to, discoverable, indexable,
                           noindex, hide_collections, followers_count, following_count, nobot_tag,
                           fetch_error, fetch_failure_kind, last_status_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
