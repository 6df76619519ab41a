-- Check-in captures as extra templates (issue 10): an attendee may consent
-- to the kiosk's capture of a confirmed check-in being kept as a second
-- template; templates say where they came from so a newer capture replaces
-- the older one and never the registration's.
ALTER TABLE attendees ADD COLUMN capture_consent BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE templates ADD COLUMN source TEXT NOT NULL DEFAULT 'enrol';
