-- Identification: each sample's template, each encounter's 1:N outcome,
-- watchlists with their entries, the hits examiners decide, and merges.

CREATE TABLE templates (
	sample_id text PRIMARY KEY REFERENCES samples (id),
	modality  text NOT NULL,
	position  integer NOT NULL,
	eye       text NOT NULL,
	algorithm text NOT NULL,
	version   integer NOT NULL,
	quality   integer NOT NULL,
	data      bytea NOT NULL
);

CREATE TABLE identifications (
	encounter_id text PRIMARY KEY REFERENCES encounters (id),
	decision     text NOT NULL,
	candidates   jsonb NOT NULL,
	recapture    jsonb NOT NULL
);

CREATE TABLE watchlists (
	id          text PRIMARY KEY,
	name        text NOT NULL,
	owner       text NOT NULL,
	category    text NOT NULL,
	valid_from  timestamptz NOT NULL,
	valid_until timestamptz, -- NULL: open-ended
	created_at  timestamptz NOT NULL
);

CREATE TABLE watch_entries (
	id           text PRIMARY KEY,
	watchlist_id text NOT NULL REFERENCES watchlists (id),
	reference    text NOT NULL,
	biographics  jsonb NOT NULL,
	created_at   timestamptz NOT NULL
);

CREATE INDEX watch_entries_list ON watch_entries (watchlist_id);

CREATE TABLE watch_samples (
	id                 text PRIMARY KEY,
	entry_id           text NOT NULL REFERENCES watch_entries (id),
	ordinal            integer NOT NULL,
	sample             jsonb NOT NULL,
	template_algorithm text NOT NULL,
	template_version   integer NOT NULL,
	template_quality   integer NOT NULL,
	template_data      bytea -- NULL when extraction failed
);

CREATE INDEX watch_samples_entry ON watch_samples (entry_id, ordinal);

CREATE TABLE hits (
	id                   text PRIMARY KEY,
	kind                 text NOT NULL,
	encounter_id         text NOT NULL REFERENCES encounters (id),
	subject_id           text NOT NULL,
	site                 text NOT NULL,
	candidate_subject_id text NOT NULL,
	watchlist_id         text NOT NULL,
	watch_entry_id       text NOT NULL,
	category             text NOT NULL,
	candidate            jsonb NOT NULL,
	state                text NOT NULL,
	examiner             text NOT NULL,
	reason               text NOT NULL,
	decided_at           timestamptz, -- NULL while pending
	created_at           timestamptz NOT NULL
);

CREATE INDEX hits_queue ON hits (state, site, created_at);
CREATE INDEX hits_encounter ON hits (encounter_id);

CREATE TABLE merges (
	subject_id text NOT NULL REFERENCES subjects (id),
	into_id    text NOT NULL REFERENCES subjects (id),
	hit_id     text NOT NULL,
	merged_by  text NOT NULL,
	merged_at  timestamptz NOT NULL,
	undone_at  timestamptz -- NULL while in force
);

CREATE INDEX merges_subject ON merges (subject_id);
CREATE INDEX subjects_merged ON subjects (merged_into);
