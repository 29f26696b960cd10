-- Huella's records in SQLite. Times are INTEGER microseconds since the Unix
-- epoch, in UTC; repeated groups (names, documents, colours, user sites) are
-- JSON text. Sample images live in the BlobStore, named by image_ref.

CREATE TABLE sites (
	code       TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	country    TEXT NOT NULL,
	time_zone  TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL,
	sites      TEXT NOT NULL, -- JSON array of site codes
	partner    TEXT NOT NULL,
	token_hash BLOB NOT NULL UNIQUE,
	disabled   INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE subjects (
	id          TEXT PRIMARY KEY,
	created_at  INTEGER NOT NULL,
	merged_into TEXT REFERENCES subjects (id)
);

CREATE TABLE encounters (
	id              TEXT PRIMARY KEY,
	subject_id      TEXT NOT NULL REFERENCES subjects (id),
	site_code       TEXT NOT NULL REFERENCES sites (code),
	captured_at     INTEGER NOT NULL,
	officer         TEXT NOT NULL,
	reason          TEXT NOT NULL,
	history_status  TEXT NOT NULL,
	history_offence TEXT NOT NULL,
	purpose         TEXT NOT NULL,
	nationality     TEXT NOT NULL, -- copied out of biographics for the counts
	biographics     TEXT NOT NULL, -- JSON huella.Biographics
	original_ref    TEXT NOT NULL,
	created_at      INTEGER NOT NULL
);

-- Listing by site and time, and the counts by site, nationality and month,
-- read these indexes alone (they cover the counts).
CREATE INDEX encounters_site_time ON encounters (site_code, captured_at, nationality);
CREATE INDEX encounters_time ON encounters (captured_at, site_code, nationality);
CREATE INDEX encounters_subject ON encounters (subject_id, captured_at);

CREATE TABLE samples (
	id           TEXT PRIMARY KEY,
	encounter_id TEXT NOT NULL REFERENCES encounters (id),
	ordinal      INTEGER NOT NULL,
	modality     TEXT NOT NULL,
	position     INTEGER NOT NULL,
	impression   TEXT NOT NULL,
	eye          TEXT NOT NULL,
	image_ref    TEXT NOT NULL,
	format       TEXT NOT NULL,
	width        INTEGER NOT NULL,
	height       INTEGER NOT NULL,
	ppi          INTEGER NOT NULL,
	device       TEXT NOT NULL,
	quality      INTEGER -- NULL until measured
);

CREATE INDEX samples_encounter ON samples (encounter_id, ordinal);

CREATE TABLE smts (
	id           TEXT PRIMARY KEY,
	encounter_id TEXT NOT NULL REFERENCES encounters (id),
	ordinal      INTEGER NOT NULL,
	type         TEXT NOT NULL,
	code         TEXT NOT NULL,
	class        TEXT NOT NULL,
	subclass     TEXT NOT NULL,
	colors       TEXT NOT NULL, -- JSON array of ANSI/NIST 10.043 codes
	description  TEXT NOT NULL,
	sample_index INTEGER,
	sample_id    TEXT REFERENCES samples (id)
);

CREATE INDEX smts_encounter ON smts (encounter_id, ordinal);

CREATE TABLE audit_events (
	seq       INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	actor     TEXT NOT NULL,
	role      TEXT NOT NULL,
	action    TEXT NOT NULL,
	object    TEXT NOT NULL,
	site      TEXT NOT NULL,
	purpose   TEXT NOT NULL,
	detail    TEXT NOT NULL,
	prev_hash BLOB NOT NULL,
	hash      BLOB NOT NULL
);
