-- Site nodes, continued (issue 16). Every site replicates the center's
-- watchlists (templates and the entry's reference only) so that it raises
-- watchlist hits while its link is down: a site pulls the center's
-- watch-add and watch-remove gallery events after its cursor, which this
-- index finds among the enrollments' events. site_watch_cursor is, at a
-- site, the last of them applied.
CREATE INDEX gallery_events_watch ON gallery_events (seq) WHERE op IN ('watch-add', 'watch-remove');

CREATE TABLE site_watch_cursor (
	id  integer PRIMARY KEY CHECK (id = 1),
	seq bigint NOT NULL
);
