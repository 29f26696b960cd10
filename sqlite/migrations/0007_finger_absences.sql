-- Fingers not printed at an encounter and why (ANSI/NIST-ITL 14.018 AMP):
-- 'amputated' (XX) or 'unprintable' (UP). Each finger at most once per
-- encounter; the ordinal keeps the order they were given in.
CREATE TABLE finger_absences (
	encounter_id TEXT NOT NULL REFERENCES encounters (id),
	position     INTEGER NOT NULL CHECK (position BETWEEN 1 AND 10),
	ordinal      INTEGER NOT NULL,
	reason       TEXT NOT NULL CHECK (reason IN ('amputated', 'unprintable')),
	PRIMARY KEY (encounter_id, position)
) WITHOUT ROWID;
