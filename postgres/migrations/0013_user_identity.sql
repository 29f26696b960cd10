-- A user who stands for a single sign-on account names it (User.Identity);
-- '' for users made with a token.
ALTER TABLE users ADD COLUMN identity TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_identity ON users (identity) WHERE identity <> '';
