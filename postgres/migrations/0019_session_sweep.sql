-- The sign-in's sweep of expired console sessions (seen_at < idle limit OR
-- started_at < absolute limit) and the rate limiter's sweep of old windows
-- scanned their whole tables: with these indexes each reads only the rows
-- it deletes (the OR through both indexes), so a sign-in costs the same
-- with 10 sessions or 100,000.
CREATE INDEX IF NOT EXISTS console_sessions_seen ON console_sessions (seen_at);
CREATE INDEX IF NOT EXISTS console_sessions_started ON console_sessions (started_at);
CREATE INDEX IF NOT EXISTS rate_limits_window ON rate_limits (window_start);
