-- Removing a watchlist entry keeps it, with who removed it, when and why,
-- for the audit trail and subject access reports; it is no longer searched.
ALTER TABLE watch_entries ADD COLUMN removed_at timestamptz; -- NULL while on the list
ALTER TABLE watch_entries ADD COLUMN removed_by text NOT NULL DEFAULT '';
ALTER TABLE watch_entries ADD COLUMN removal_reason text NOT NULL DEFAULT '';

-- The pending hits of an entry, withdrawn when it is removed.
CREATE INDEX hits_watch_entry ON hits (watch_entry_id) WHERE watch_entry_id <> '';
