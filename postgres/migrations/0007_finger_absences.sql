-- Fingers not printed at an encounter and why (ANSI/NIST-ITL 14.018 AMP):
-- 'amputated' (XX) or 'unprintable' (UP). Each finger at most once per
-- encounter; the ordinal keeps the order they were given in.
CREATE TABLE finger_absences (
	encounter_id text NOT NULL REFERENCES encounters (id),
	position     integer NOT NULL CHECK (position BETWEEN 1 AND 10),
	ordinal      integer NOT NULL,
	reason       text NOT NULL CHECK (reason IN ('amputated', 'unprintable')),
	PRIMARY KEY (encounter_id, position)
);
