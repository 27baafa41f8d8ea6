-- 0004: opted-out accounts stored as a keyed hash and their instance in databases written
-- before whohosts hashed them. The rewrite itself needs the database's key (DB.optout-key),
-- so it is done in Rust (src/store/rehash.rs) in this migration's transaction, through the
-- same OptOut::redact that every new row goes through; the database is vacuumed afterwards
-- so the names are not left in free pages. Nothing changes in the schema.
SELECT 1;
