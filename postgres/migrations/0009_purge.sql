-- Purging a subject (court order, erasure request, end of retention)
-- deletes its encounters but keeps the delivery rows about them for the
-- bookkeeping of what was sent to whom: encounter_id stays as a plain ID,
-- no longer a foreign key.
-- The constraint is found by what it is, whatever it was named.
DO $$
DECLARE c text;
BEGIN
	FOR c IN SELECT con.conname FROM pg_constraint con
		JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)
		WHERE con.contype = 'f' AND con.conrelid = 'deliveries'::regclass AND a.attname = 'encounter_id'
	LOOP
		EXECUTE format('ALTER TABLE deliveries DROP CONSTRAINT %I', c);
	END LOOP;
END $$;
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
