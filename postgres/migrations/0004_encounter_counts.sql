-- Encounter counts by site, nationality and UTC day, kept by a trigger in
-- the transaction that changes encounters, so that the counts by site,
-- nationality and month read a few rows per day instead of every
-- encounter. A day is the whole number of UTC days since the Unix epoch.

CREATE TABLE encounter_counts (
	site_code   text NOT NULL,
	day         integer NOT NULL,
	nationality text NOT NULL,
	n           bigint NOT NULL,
	PRIMARY KEY (site_code, day, nationality)
);

CREATE FUNCTION encounter_day(t timestamptz) RETURNS integer
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN floor(extract(epoch FROM t) / 86400)::integer;

INSERT INTO encounter_counts (site_code, day, nationality, n)
	SELECT site_code, encounter_day(captured_at), nationality, count(*) FROM encounters GROUP BY 1, 2, 3;

-- The search path is pinned so that a session with another one (an
-- operator's psql naming tables by schema) still finds the counts.
CREATE FUNCTION encounter_counts_apply() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE encounter_counts SET n = n - 1
			WHERE site_code = OLD.site_code AND day = encounter_day(OLD.captured_at) AND nationality = OLD.nationality;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO encounter_counts (site_code, day, nationality, n)
			VALUES (NEW.site_code, encounter_day(NEW.captured_at), NEW.nationality, 1)
			ON CONFLICT (site_code, day, nationality) DO UPDATE SET n = encounter_counts.n + 1;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER encounters_count AFTER INSERT OR DELETE OR UPDATE OF site_code, captured_at, nationality ON encounters
	FOR EACH ROW EXECUTE FUNCTION encounter_counts_apply();
