-- The event key's version: revoking a kiosk rotates the event key (a new
-- key, every template and short code sealed again under it) and counts up
-- here, so the other kiosks see on their next sync that they must fetch
-- the new key (GET /v1/key) and the gallery again.
ALTER TABLE events ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
