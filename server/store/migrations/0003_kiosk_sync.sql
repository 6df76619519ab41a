-- A kiosk's own view of its sync, from its heartbeat (issue 20): the
-- dashboard shows a kiosk whose queue grows, whose last successful sync is
-- old, or that refuses what the server sends.
ALTER TABLE kiosks ADD COLUMN sync_state TEXT NOT NULL DEFAULT '';
ALTER TABLE kiosks ADD COLUMN last_sync BIGINT;
ALTER TABLE kiosks ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE kiosks ADD COLUMN gallery INTEGER NOT NULL DEFAULT 0;
-- The queue of the heartbeat before the last one.
ALTER TABLE kiosks ADD COLUMN queued_before INTEGER NOT NULL DEFAULT 0;
