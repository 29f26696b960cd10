-- Forwarding to partner agencies: partners, sharing agreements, examiners'
-- confirmations that forward, and the deliveries outbox. A delivery row is
-- written in the transaction of the decision that calls for it; the relay
-- publishes pending rows to NATS JetStream. (0002 is the identification
-- schema's number.)

CREATE TABLE partners (
	code             TEXT PRIMARY KEY,
	name             TEXT NOT NULL,
	endpoint         TEXT NOT NULL,
	format           TEXT NOT NULL,
	ca_file          TEXT NOT NULL,
	client_cert_file TEXT NOT NULL,
	client_key_file  TEXT NOT NULL,
	key_id           TEXT NOT NULL,
	disabled         INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);

CREATE TABLE agreements (
	id           TEXT PRIMARY KEY,
	partner_code TEXT NOT NULL REFERENCES partners (code),
	triggers     TEXT NOT NULL, -- JSON array
	categories   TEXT NOT NULL, -- JSON array
	modalities   TEXT NOT NULL, -- JSON array
	fields       TEXT NOT NULL, -- JSON array
	legal_basis  TEXT NOT NULL,
	require_ack  INTEGER NOT NULL,
	active       INTEGER NOT NULL,
	created_at   INTEGER NOT NULL,
	revoked_at   INTEGER
);

CREATE INDEX agreements_partner ON agreements (partner_code, created_at);

CREATE TABLE confirmations (
	id           TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	hit_id       TEXT NOT NULL,
	category     TEXT NOT NULL,
	subject_id   TEXT NOT NULL REFERENCES subjects (id),
	encounter_id TEXT NOT NULL REFERENCES encounters (id),
	examiner     TEXT NOT NULL,
	reason       TEXT NOT NULL,
	created_at   INTEGER NOT NULL
);

CREATE TABLE deliveries (
	id              TEXT PRIMARY KEY, -- also the Idempotency-Key and the NATS message ID
	partner_code    TEXT NOT NULL REFERENCES partners (code),
	agreement_id    TEXT NOT NULL REFERENCES agreements (id),
	trigger_kind    TEXT NOT NULL,
	confirmation_id TEXT NOT NULL,
	category        TEXT NOT NULL,
	subject_id      TEXT NOT NULL,
	encounter_id    TEXT NOT NULL REFERENCES encounters (id),
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

-- The relay reads pending rows oldest first; the sweeper, published rows
-- by last activity; lists go by partner and time.
CREATE INDEX deliveries_state ON deliveries (state, updated_at);
CREATE INDEX deliveries_partner ON deliveries (partner_code, created_at);
CREATE INDEX deliveries_subject ON deliveries (subject_id, partner_code, state);
CREATE INDEX deliveries_agreement ON deliveries (agreement_id, state);

CREATE TABLE delivery_attempts (
	delivery_id TEXT NOT NULL REFERENCES deliveries (id),
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status      INTEGER NOT NULL,
	error       TEXT NOT NULL,
	duration_us INTEGER NOT NULL,
	receipt     TEXT NOT NULL,
	PRIMARY KEY (delivery_id, n)
);
