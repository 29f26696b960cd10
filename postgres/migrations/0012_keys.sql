-- Encryption at rest (issue 19): the keys, wrapped by a key-encryption key
-- that is never in the database (keyring). Biographics, criminal history
-- offences and templates are sealed in bytea columns from now on, and the
-- name and document indexes hold keyed tokens of every word's prefixes
-- instead of the words. Rows written before keep their text, as bytes,
-- readable until "huella keys reencrypt" seals and re-indexes them.
CREATE TABLE keys (
	id         text PRIMARY KEY,
	purpose    text NOT NULL,        -- data, index or blob
	kek_id     text NOT NULL,        -- the KEK that wrapped it
	wrapped    bytea,                -- NULL once retired
	active     boolean NOT NULL,     -- the data key new fields are sealed with
	created_at timestamptz NOT NULL,
	retired_at timestamptz           -- NULL while in use
);

ALTER TABLE encounters ALTER COLUMN biographics TYPE bytea USING convert_to(biographics::text, 'UTF8');
ALTER TABLE encounters ALTER COLUMN history_offence TYPE bytea USING convert_to(history_offence, 'UTF8');
ALTER TABLE watch_entries ALTER COLUMN biographics TYPE bytea USING convert_to(biographics::text, 'UTF8');
ALTER TABLE encounter_name_words ALTER COLUMN word TYPE bytea USING convert_to(word, 'UTF8');
ALTER TABLE encounter_documents ALTER COLUMN number TYPE bytea USING convert_to(number, 'UTF8');
