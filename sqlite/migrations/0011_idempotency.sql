-- The Idempotency-Key a client sent with the request that created an
-- encounter, unique per officer, with the SHA-256 of the request's content:
-- a retry is answered with the encounter, the key with other content is
-- refused. Written in the encounter's transaction; purged with it.
CREATE TABLE idempotency_keys (
	officer      TEXT NOT NULL,
	key          TEXT NOT NULL,
	digest       TEXT NOT NULL,
	encounter_id TEXT NOT NULL REFERENCES encounters (id),
	PRIMARY KEY (officer, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_encounter ON idempotency_keys (encounter_id);
