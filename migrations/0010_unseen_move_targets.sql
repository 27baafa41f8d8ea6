-- 0010: move targets the crawl never saw, in databases written before whohosts kept such a
-- target as its instance only. A stored move (an account's moved_to, a departure's) names its
-- target only when the snapshot that stored it holds that account itself (a list row or a
-- seed's profile); any other is rewritten to 'an account on HOST' in Rust
-- (src/store/rehash.rs, unseen_targets) in this migration's transaction, and the database is
-- vacuumed so the names are not left in free pages. Nothing changes in the schema.
SELECT 1;
