-- 0011: the steps taken to find who serves each domain of a contacts snapshot (`MX 10
-- mx1.example`, `no SRV _matrix-fed._tcp.example.org`, `.well-known/matrix/server: …`), as a
-- JSON array of strings in the order taken; NULL in rows stored before they were kept.
ALTER TABLE contact_domain ADD COLUMN steps TEXT;
