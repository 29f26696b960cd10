-- A site node's upstream replication (issue 16): every encounter enrolled
-- at the site enters site_outbox in its own transaction; the site's relay
-- sends it to the center over the NATS leaf link and records here the
-- center's identification, which the site shows (pending until then).
-- seq, not a clock, orders the outbox. A center never writes this table.
-- (The center's change feed to matcher shards is 0015's, apart.)
CREATE TABLE site_outbox (
	seq                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	encounter_id         text NOT NULL UNIQUE,
	queued_at            timestamptz NOT NULL,
	attempts             integer NOT NULL DEFAULT 0,
	central_state        text NOT NULL DEFAULT 'pending',
	central_decision     text NOT NULL DEFAULT '',
	central_subject_id   text NOT NULL DEFAULT '',
	central_encounter_id text NOT NULL DEFAULT '',
	central_hits         integer NOT NULL DEFAULT 0,
	identified_at        timestamptz
);
CREATE INDEX site_outbox_pending ON site_outbox (seq) WHERE central_state = 'pending';

-- At a center: what each site must do to its copies, in seq order (a purge
-- ordered at the center of an encounter a site sent), written in the
-- purge's transaction; a site pulls the rows after its cursor, so one that
-- was offline catches up.
CREATE TABLE site_downstream (
	seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	site_code         text NOT NULL,
	kind              text NOT NULL,
	site_encounter_id text NOT NULL,
	reason            text NOT NULL,
	created_at        timestamptz NOT NULL
);
CREATE INDEX site_downstream_site ON site_downstream (site_code, seq);

-- At a site: the last center seq applied.
CREATE TABLE site_downstream_cursor (
	id  integer PRIMARY KEY CHECK (id = 1),
	seq bigint NOT NULL
);
