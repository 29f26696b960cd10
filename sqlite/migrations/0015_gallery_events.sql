-- Gallery changes as events: every change to the galleries (an
-- enrollment's templates, a merge, an unmerge, a purge, a watch entry put
-- on or taken off a list) appends a row here in its own transaction. The
-- seq comes from gallery_event_seq, whose one row each writer updates, so
-- that seqs follow commit order without gaps. The relay publishes the rows
-- to JetStream in order and records how far it got in gallery_event_relay.
-- Rows hold IDs only, never biographic data.
CREATE TABLE gallery_event_seq (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
);
INSERT INTO gallery_event_seq (id, seq) VALUES (1, 0);

CREATE TABLE gallery_event_relay (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	sent INTEGER NOT NULL
);
INSERT INTO gallery_event_relay (id, sent) VALUES (1, 0);

CREATE TABLE gallery_events (
	seq            INTEGER PRIMARY KEY,
	op             TEXT NOT NULL,
	subject_id     TEXT NOT NULL,
	other_id       TEXT NOT NULL,
	subjects       TEXT NOT NULL, -- JSON list
	encounter_id   TEXT NOT NULL,
	watch_entry_id TEXT NOT NULL,
	sample_ids     TEXT NOT NULL, -- JSON list
	created_at     INTEGER NOT NULL
);

-- Partial searches (a matcher shard did not answer) waiting for their
-- complete search, queued with the encounter in its transaction.
CREATE TABLE research_queue (
	encounter_id TEXT PRIMARY KEY,
	subject_id   TEXT NOT NULL,
	sample_ids   TEXT NOT NULL, -- JSON list
	known        TEXT NOT NULL, -- JSON list of candidate subjects with a hit already
	queued_at    INTEGER NOT NULL
);
CREATE INDEX research_queue_order ON research_queue (queued_at, encounter_id);
