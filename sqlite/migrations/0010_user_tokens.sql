-- Tokens expire, rotate, and record their last use (0: never). Tokens
-- issued before this migration run DefaultTokenLifetime (90 days) from it.
ALTER TABLE users ADD COLUMN token_issued_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN token_expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN token_used_at INTEGER NOT NULL DEFAULT 0;
UPDATE users SET token_issued_at = created_at,
	token_expires_at = (CAST(strftime('%s', 'now') AS INTEGER) + 90 * 86400) * 1000000;
