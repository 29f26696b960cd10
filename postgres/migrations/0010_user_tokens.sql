-- Tokens expire, rotate, and record their last use (NULL: never). Tokens
-- issued before this migration run DefaultTokenLifetime (90 days) from it.
ALTER TABLE users ADD COLUMN token_issued_at timestamptz;
ALTER TABLE users ADD COLUMN token_expires_at timestamptz;
ALTER TABLE users ADD COLUMN token_used_at timestamptz;
UPDATE users SET token_issued_at = created_at, token_expires_at = now() + interval '90 days';
ALTER TABLE users ALTER COLUMN token_issued_at SET NOT NULL;
ALTER TABLE users ALTER COLUMN token_expires_at SET NOT NULL;
