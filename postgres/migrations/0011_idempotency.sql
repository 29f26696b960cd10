-- The Idempotency-Key a client sent with the request that created an
-- encounter, unique per officer, with the SHA-256 of the request's content:
-- a retry is answered with the encounter, the key with other content is
-- refused. Written in the encounter's transaction; purged with it.
CREATE TABLE idempotency_keys (
	officer      text NOT NULL,
	key          text NOT NULL,
	digest       text NOT NULL,
	encounter_id text NOT NULL REFERENCES encounters (id),
	PRIMARY KEY (officer, key)
);
CREATE INDEX idempotency_keys_encounter ON idempotency_keys (encounter_id);
