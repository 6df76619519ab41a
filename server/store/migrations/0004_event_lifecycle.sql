-- The event's lifecycle (issue 17): an end date and a retention window
-- after it; past the end (or the hand close, when earlier) plus the window
-- the server purges the event's personal data and templates. A closed
-- event refuses registration and kiosk traffic but keeps its data; a
-- purged one keeps only this row, so kiosks are told it is gone (410).
ALTER TABLE events ADD COLUMN ends_at BIGINT; -- NULL: no end date, kept until closed
ALTER TABLE events ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 30;
ALTER TABLE events ADD COLUMN closed_at BIGINT;
ALTER TABLE events ADD COLUMN purged_at BIGINT;
