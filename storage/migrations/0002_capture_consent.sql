-- 0002_capture_consent: the attendee's capture consent from the gallery feed
-- (api.GalleryRecord.CaptureConsent). The kiosk sends a check-in's capture
-- only for attendees who consented, so nobody else's features leave it.
-- 0/1: STRICT tables have no BOOLEAN.
ALTER TABLE attendees ADD COLUMN capture_consent INTEGER NOT NULL DEFAULT 0 CHECK (capture_consent IN (0, 1));

-- Attendees cached before this migration read as not consenting until the
-- server says otherwise: move the gallery cursor back to 0 so the next sync
-- is a full feed (a snapshot) that brings every attendee's consent. The
-- cached gallery stays usable for check-ins until then.
UPDATE meta SET value = 0 WHERE key = 'gallery_cursor';
