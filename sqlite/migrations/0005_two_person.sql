-- The two-person rule: the first examiner's confirmation of a hit, kept
-- while the hit waits for a second examiner.
ALTER TABLE hits ADD COLUMN first_examiner TEXT NOT NULL DEFAULT '';
ALTER TABLE hits ADD COLUMN first_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE hits ADD COLUMN first_at INTEGER NOT NULL DEFAULT 0;
