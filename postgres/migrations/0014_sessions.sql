-- Console sessions and rate-limit counters live in the database, so that
-- any API node serves any request (issue 17). A session is stored under the
-- hash of its ID; private holds what the console sealed with a key made
-- from the ID (nothing the database could open).
CREATE TABLE console_sessions (
	id_hash    bytea PRIMARY KEY,
	user_id    text NOT NULL,
	token_hash bytea, -- NULL for single sign-on
	csrf       text NOT NULL,
	private    bytea,
	started_at timestamptz NOT NULL,
	seen_at    timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- One counter per key (its hash), in the fixed window that began at window_start.
CREATE TABLE rate_limits (
	key_hash     bytea PRIMARY KEY,
	window_start timestamptz NOT NULL,
	n            integer NOT NULL
);
