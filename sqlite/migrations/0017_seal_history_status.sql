-- The criminal history status is sealed like the offence (issue 19): new
-- rows hold a ciphertext, a BLOB in the TEXT column, which SQLite keeps as
-- given. Rows written before stay readable as plain text until "huella keys
-- reencrypt" (which serve runs at start) seals them. Retention finds the
-- convictions by opening the status, so no query filters on it.
SELECT 1;
