-- Gallery changes as events: every change to the galleries (an
-- enrollment's templates, a merge, an unmerge, a purge, a watch entry put
-- on or taken off a list) appends a row here in its own transaction. The
-- seq comes from gallery_event_seq, whose one row each writer updates (and
-- so locks until it commits), so that seqs follow commit order without
-- gaps. The relay publishes the rows to JetStream in order and records how
-- far it got in gallery_event_relay. Rows hold IDs only, never biographic
-- data.
CREATE TABLE gallery_event_seq (
	id  integer PRIMARY KEY CHECK (id = 1),
	seq bigint NOT NULL
);
INSERT INTO gallery_event_seq (id, seq) VALUES (1, 0);

CREATE TABLE gallery_event_relay (
	id   integer PRIMARY KEY CHECK (id = 1),
	sent bigint NOT NULL
);
INSERT INTO gallery_event_relay (id, sent) VALUES (1, 0);

CREATE TABLE gallery_events (
	seq            bigint PRIMARY KEY,
	op             text NOT NULL,
	subject_id     text NOT NULL,
	other_id       text NOT NULL,
	subjects       text[] NOT NULL,
	encounter_id   text NOT NULL,
	watch_entry_id text NOT NULL,
	sample_ids     text[] NOT NULL,
	created_at     timestamptz NOT NULL
);

-- Partial searches (a matcher shard did not answer) waiting for their
-- complete search, queued with the encounter in its transaction.
CREATE TABLE research_queue (
	encounter_id text PRIMARY KEY,
	subject_id   text NOT NULL,
	sample_ids   text[] NOT NULL,
	known        text[] NOT NULL, -- candidate subjects with a hit already
	queued_at    timestamptz NOT NULL
);
CREATE INDEX research_queue_order ON research_queue (queued_at, encounter_id);
