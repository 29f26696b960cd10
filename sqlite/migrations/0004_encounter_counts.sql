-- Encounter counts by site, nationality and UTC day, kept by triggers in
-- the transaction that changes encounters, so that the counts by site,
-- nationality and month read a few rows per day instead of every
-- encounter. A day is captured_at divided by 86,400,000,000 µs.

CREATE TABLE encounter_counts (
	site_code   TEXT NOT NULL,
	day         INTEGER NOT NULL,
	nationality TEXT NOT NULL,
	n           INTEGER NOT NULL,
	PRIMARY KEY (site_code, day, nationality)
) WITHOUT ROWID;

INSERT INTO encounter_counts (site_code, day, nationality, n)
	SELECT site_code, captured_at / 86400000000, nationality, count(*) FROM encounters GROUP BY 1, 2, 3;

CREATE TRIGGER encounters_count_insert AFTER INSERT ON encounters BEGIN
	INSERT INTO encounter_counts (site_code, day, nationality, n)
		VALUES (NEW.site_code, NEW.captured_at / 86400000000, NEW.nationality, 1)
		ON CONFLICT (site_code, day, nationality) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER encounters_count_delete AFTER DELETE ON encounters BEGIN
	UPDATE encounter_counts SET n = n - 1
		WHERE site_code = OLD.site_code AND day = OLD.captured_at / 86400000000 AND nationality = OLD.nationality;
END;

CREATE TRIGGER encounters_count_update AFTER UPDATE OF site_code, captured_at, nationality ON encounters BEGIN
	UPDATE encounter_counts SET n = n - 1
		WHERE site_code = OLD.site_code AND day = OLD.captured_at / 86400000000 AND nationality = OLD.nationality;
	INSERT INTO encounter_counts (site_code, day, nationality, n)
		VALUES (NEW.site_code, NEW.captured_at / 86400000000, NEW.nationality, 1)
		ON CONFLICT (site_code, day, nationality) DO UPDATE SET n = n + 1;
END;
