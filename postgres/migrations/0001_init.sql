-- Huella's records in PostgreSQL. Times are timestamptz (microseconds);
-- repeated groups are arrays (user sites, SMT colours) or jsonb
-- (biographics). Sample images live in the BlobStore, named by image_ref.

CREATE TABLE sites (
	code       text PRIMARY KEY,
	name       text NOT NULL,
	country    text NOT NULL,
	time_zone  text NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE users (
	id         text PRIMARY KEY,
	name       text NOT NULL UNIQUE,
	role       text NOT NULL,
	sites      text[] NOT NULL,
	partner    text NOT NULL,
	token_hash bytea NOT NULL UNIQUE,
	disabled   boolean NOT NULL,
	created_at timestamptz NOT NULL
);

CREATE TABLE subjects (
	id          text PRIMARY KEY,
	created_at  timestamptz NOT NULL,
	merged_into text REFERENCES subjects (id)
);

CREATE TABLE encounters (
	id              text PRIMARY KEY,
	subject_id      text NOT NULL REFERENCES subjects (id),
	site_code       text NOT NULL REFERENCES sites (code),
	captured_at     timestamptz NOT NULL,
	officer         text NOT NULL,
	reason          text NOT NULL,
	history_status  text NOT NULL,
	history_offence text NOT NULL,
	purpose         text NOT NULL,
	nationality     text NOT NULL, -- copied out of biographics for the counts
	biographics     jsonb NOT NULL,
	original_ref    text NOT NULL,
	created_at      timestamptz NOT NULL
);

-- Listing by site and time reads these in order; the counts by site,
-- nationality and month read them alone (index-only scans).
CREATE INDEX encounters_site_time ON encounters (site_code, captured_at DESC, id DESC) INCLUDE (nationality);
CREATE INDEX encounters_time ON encounters (captured_at DESC, id DESC) INCLUDE (site_code, nationality);
CREATE INDEX encounters_subject ON encounters (subject_id, captured_at);

CREATE TABLE samples (
	id           text PRIMARY KEY,
	encounter_id text NOT NULL REFERENCES encounters (id),
	ordinal      integer NOT NULL,
	modality     text NOT NULL,
	position     integer NOT NULL,
	impression   text NOT NULL,
	eye          text NOT NULL,
	image_ref    text NOT NULL,
	format       text NOT NULL,
	width        integer NOT NULL,
	height       integer NOT NULL,
	ppi          integer NOT NULL,
	device       text NOT NULL,
	quality      integer -- NULL until measured
);

CREATE INDEX samples_encounter ON samples (encounter_id, ordinal);

CREATE TABLE smts (
	id           text PRIMARY KEY,
	encounter_id text NOT NULL REFERENCES encounters (id),
	ordinal      integer NOT NULL,
	type         text NOT NULL,
	code         text NOT NULL,
	class        text NOT NULL,
	subclass     text NOT NULL,
	colors       text[] NOT NULL,
	description  text NOT NULL,
	sample_index integer,
	sample_id    text REFERENCES samples (id)
);

CREATE INDEX smts_encounter ON smts (encounter_id, ordinal);

CREATE TABLE audit_events (
	seq       bigint PRIMARY KEY,
	time      timestamptz NOT NULL,
	actor     text NOT NULL,
	role      text NOT NULL,
	action    text NOT NULL,
	object    text NOT NULL,
	site      text NOT NULL,
	purpose   text NOT NULL,
	detail    text NOT NULL,
	prev_hash bytea NOT NULL,
	hash      bytea NOT NULL
);

-- The chain's head, one row: appending locks it FOR UPDATE, so appends
-- from every connection and every process line up one after another.
CREATE TABLE audit_head (
	id   integer PRIMARY KEY CHECK (id = 1),
	seq  bigint NOT NULL,
	hash bytea
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, NULL);
