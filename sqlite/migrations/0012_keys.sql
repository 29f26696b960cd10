-- Encryption at rest (issue 19): the keys, wrapped by a key-encryption key
-- that is never in the database (keyring). Biographics, criminal history
-- offences and templates are sealed in their columns from now on (BLOBs in
-- the old columns: SQLite keeps what it is given), and the name and document
-- indexes hold keyed tokens of every word's prefixes instead of the words.
-- Rows written before stay readable as plain text until "huella keys
-- reencrypt" (which serve runs at start) seals and re-indexes them.
CREATE TABLE keys (
	id         TEXT PRIMARY KEY,
	purpose    TEXT NOT NULL,    -- data, index or blob
	kek_id     TEXT NOT NULL,    -- the KEK that wrapped it
	wrapped    BLOB,             -- NULL once retired
	active     INTEGER NOT NULL, -- the data key new fields are sealed with
	created_at INTEGER NOT NULL,
	retired_at INTEGER NOT NULL  -- 0 while in use
);
