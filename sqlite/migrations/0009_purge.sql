-- Purging a subject (court order, erasure request, end of retention)
-- deletes its encounters but keeps the delivery rows about them for the
-- bookkeeping of what was sent to whom: encounter_id stays as a plain ID,
-- no longer a foreign key. SQLite cannot drop a constraint, so deliveries
-- and delivery_attempts are rebuilt (foreign keys stay on: the attempts
-- move to a table referencing the new deliveries first).
CREATE TABLE deliveries_new (
	id              TEXT PRIMARY KEY, -- also the Idempotency-Key and the NATS message ID
	partner_code    TEXT NOT NULL REFERENCES partners (code),
	agreement_id    TEXT NOT NULL REFERENCES agreements (id),
	trigger_kind    TEXT NOT NULL,
	confirmation_id TEXT NOT NULL,
	category        TEXT NOT NULL,
	subject_id      TEXT NOT NULL,
	encounter_id    TEXT NOT NULL, -- the encounter may have been purged since
	site_code       TEXT NOT NULL,
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	receipt         TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	published_at    INTEGER,
	delivered_at    INTEGER
);
INSERT INTO deliveries_new SELECT id, partner_code, agreement_id, trigger_kind, confirmation_id, category, subject_id,
	encounter_id, site_code, state, attempts, last_error, receipt, created_at, updated_at, published_at, delivered_at
	FROM deliveries;

CREATE TABLE delivery_attempts_new (
	delivery_id TEXT NOT NULL REFERENCES deliveries_new (id),
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL,
	error       TEXT NOT NULL,
	duration_us INTEGER NOT NULL,
	receipt     TEXT NOT NULL,
	PRIMARY KEY (delivery_id, n)
);
INSERT INTO delivery_attempts_new SELECT delivery_id, n, at, status, error, duration_us, receipt FROM delivery_attempts;

DROP TABLE delivery_attempts;
DROP TABLE deliveries;
-- Renaming rewrites delivery_attempts_new's reference to deliveries_new.
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE delivery_attempts_new RENAME TO delivery_attempts;

CREATE INDEX deliveries_state ON deliveries (state, updated_at);
CREATE INDEX deliveries_partner ON deliveries (partner_code, created_at);
CREATE INDEX deliveries_subject ON deliveries (subject_id, partner_code, state);
CREATE INDEX deliveries_agreement ON deliveries (agreement_id, state);
CREATE INDEX deliveries_encounter ON deliveries (encounter_id);

-- A purge deletes the blobs no remaining record names: these find the
-- records that still name one. The hits and confirmations about a subject
-- are found by these too.
CREATE INDEX samples_image_ref ON samples (image_ref);
CREATE INDEX encounters_original_ref ON encounters (original_ref) WHERE original_ref <> '';
CREATE INDEX hits_subject ON hits (subject_id);
CREATE INDEX hits_candidate ON hits (candidate_subject_id) WHERE candidate_subject_id <> '';
CREATE INDEX confirmations_subject ON confirmations (subject_id);
CREATE INDEX confirmations_encounter ON confirmations (encounter_id);
CREATE INDEX merges_into ON merges (into_id);
