-- Forwarding to partner agencies: partners, sharing agreements, examiners'
-- confirmations that forward, and the deliveries outbox. A delivery row is
-- written in the transaction of the decision that calls for it; the relay
-- publishes pending rows to NATS JetStream. (0002 is the identification
-- schema's number.)

CREATE TABLE partners (
	code             text PRIMARY KEY,
	name             text NOT NULL,
	endpoint         text NOT NULL,
	format           text NOT NULL,
	ca_file          text NOT NULL,
	client_cert_file text NOT NULL,
	client_key_file  text NOT NULL,
	key_id           text NOT NULL,
	disabled         boolean NOT NULL,
	created_at       timestamptz NOT NULL,
	updated_at       timestamptz NOT NULL
);

CREATE TABLE agreements (
	id           text PRIMARY KEY,
	partner_code text NOT NULL REFERENCES partners (code),
	triggers     text[] NOT NULL,
	categories   text[] NOT NULL,
	modalities   text[] NOT NULL,
	fields       text[] NOT NULL,
	legal_basis  text NOT NULL,
	require_ack  boolean NOT NULL,
	active       boolean NOT NULL,
	created_at   timestamptz NOT NULL,
	revoked_at   timestamptz
);

CREATE INDEX agreements_partner ON agreements (partner_code, created_at);

CREATE TABLE confirmations (
	id           text PRIMARY KEY,
	kind         text NOT NULL,
	hit_id       text NOT NULL,
	category     text NOT NULL,
	subject_id   text NOT NULL REFERENCES subjects (id),
	encounter_id text NOT NULL REFERENCES encounters (id),
	examiner     text NOT NULL,
	reason       text NOT NULL,
	created_at   timestamptz NOT NULL
);

CREATE TABLE deliveries (
	id              text PRIMARY KEY, -- also the Idempotency-Key and the NATS message ID
	partner_code    text NOT NULL REFERENCES partners (code),
	agreement_id    text NOT NULL REFERENCES agreements (id),
	trigger_kind    text NOT NULL,
	confirmation_id text NOT NULL,
	category        text NOT NULL,
	subject_id      text NOT NULL,
	encounter_id    text NOT NULL REFERENCES encounters (id),
	site_code       text NOT NULL,
	state           text NOT NULL,
	attempts        integer NOT NULL,
	last_error      text NOT NULL,
	receipt         text NOT NULL,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	published_at    timestamptz,
	delivered_at    timestamptz
);

-- The relay reads pending rows oldest first; the sweeper, published rows
-- by last activity; lists go by partner and time.
CREATE INDEX deliveries_state ON deliveries (state, updated_at);
CREATE INDEX deliveries_partner ON deliveries (partner_code, created_at);
CREATE INDEX deliveries_subject ON deliveries (subject_id, partner_code, state);
CREATE INDEX deliveries_agreement ON deliveries (agreement_id, state);
CREATE INDEX deliveries_created ON deliveries (created_at);

CREATE TABLE delivery_attempts (
	delivery_id text NOT NULL REFERENCES deliveries (id),
	n           integer NOT NULL,
	at          timestamptz NOT NULL,
	status      integer NOT NULL,
	error       text NOT NULL,
	duration_us bigint NOT NULL,
	receipt     text NOT NULL,
	PRIMARY KEY (delivery_id, n)
);
