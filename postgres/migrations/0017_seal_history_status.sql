-- The criminal history status is sealed like the offence (issue 19), in a
-- bytea column from now on. Rows written before keep their text, as bytes,
-- readable until "huella keys reencrypt" seals them. Retention finds the
-- convictions by opening the status, so no query filters on it.
ALTER TABLE encounters ALTER COLUMN history_status TYPE bytea USING convert_to(history_status, 'UTF8');
