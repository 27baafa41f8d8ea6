SELECT id FROM instance WHERE host = ?1
