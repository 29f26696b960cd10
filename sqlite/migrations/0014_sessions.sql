-- Console sessions and rate-limit counters live in the database, so that
-- any API node serves any request (issue 17). A session is stored under the
-- hash of its ID; private holds what the console sealed with a key made
-- from the ID (nothing the database could open). Times in microseconds.
CREATE TABLE console_sessions (
	id_hash    BLOB PRIMARY KEY,
	user_id    TEXT NOT NULL,
	token_hash BLOB, -- NULL for single sign-on
	csrf       TEXT NOT NULL,
	private    BLOB,
	started_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- One counter per key (its hash), in the fixed window that began at window_start.
CREATE TABLE rate_limits (
	key_hash     BLOB PRIMARY KEY,
	window_start INTEGER NOT NULL,
	n            INTEGER NOT NULL
);
