-- Identification: each sample's template, each encounter's 1:N outcome,
-- watchlists with their entries, the hits examiners decide, and merges.

CREATE TABLE templates (
	sample_id TEXT PRIMARY KEY REFERENCES samples (id),
	modality  TEXT NOT NULL,
	position  INTEGER NOT NULL,
	eye       TEXT NOT NULL,
	algorithm TEXT NOT NULL,
	version   INTEGER NOT NULL,
	quality   INTEGER NOT NULL,
	data      BLOB NOT NULL
);

CREATE TABLE identifications (
	encounter_id TEXT PRIMARY KEY REFERENCES encounters (id),
	decision     TEXT NOT NULL,
	candidates   TEXT NOT NULL, -- JSON array of huella.Candidate
	recapture    TEXT NOT NULL  -- JSON array of strings
);

CREATE TABLE watchlists (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	owner       TEXT NOT NULL,
	category    TEXT NOT NULL,
	valid_from  INTEGER NOT NULL,
	valid_until INTEGER NOT NULL, -- 0: open-ended
	created_at  INTEGER NOT NULL
);

CREATE TABLE watch_entries (
	id           TEXT PRIMARY KEY,
	watchlist_id TEXT NOT NULL REFERENCES watchlists (id),
	reference    TEXT NOT NULL,
	biographics  TEXT NOT NULL, -- JSON huella.Biographics
	created_at   INTEGER NOT NULL
);

CREATE INDEX watch_entries_list ON watch_entries (watchlist_id);

-- A watch entry's samples: the sample columns, and its template inline.
CREATE TABLE watch_samples (
	id                 TEXT PRIMARY KEY,
	entry_id           TEXT NOT NULL REFERENCES watch_entries (id),
	ordinal            INTEGER NOT NULL,
	sample             TEXT NOT NULL, -- JSON huella.Sample
	template_algorithm TEXT NOT NULL,
	template_version   INTEGER NOT NULL,
	template_quality   INTEGER NOT NULL,
	template_data      BLOB -- NULL when extraction failed
);

CREATE INDEX watch_samples_entry ON watch_samples (entry_id, ordinal);

CREATE TABLE hits (
	id                   TEXT PRIMARY KEY,
	kind                 TEXT NOT NULL,
	encounter_id         TEXT NOT NULL REFERENCES encounters (id),
	subject_id           TEXT NOT NULL,
	site                 TEXT NOT NULL,
	candidate_subject_id TEXT NOT NULL,
	watchlist_id         TEXT NOT NULL,
	watch_entry_id       TEXT NOT NULL,
	category             TEXT NOT NULL,
	candidate            TEXT NOT NULL, -- JSON huella.Candidate
	state                TEXT NOT NULL,
	examiner             TEXT NOT NULL,
	reason               TEXT NOT NULL,
	decided_at           INTEGER NOT NULL, -- 0 while pending
	created_at           INTEGER NOT NULL
);

CREATE INDEX hits_queue ON hits (state, site, created_at);
CREATE INDEX hits_encounter ON hits (encounter_id);

CREATE TABLE merges (
	subject_id TEXT NOT NULL REFERENCES subjects (id),
	into_id    TEXT NOT NULL REFERENCES subjects (id),
	hit_id     TEXT NOT NULL,
	merged_by  TEXT NOT NULL,
	merged_at  INTEGER NOT NULL,
	undone_at  INTEGER NOT NULL -- 0 while in force
);

CREATE INDEX merges_subject ON merges (subject_id);
CREATE INDEX subjects_merged ON subjects (merged_into);
