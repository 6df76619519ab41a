-- The confirmation e-mail (issue 17, item 6). A web registration can be
-- pending until the attendee opens the link mailed to them: a pending
-- attendee is left out of the gallery feed, so no kiosk knows their face
-- before the address is proven. The link's token is kept as a sha256 hash
-- and cleared when used. Mail waits in mail_outbox until the SMTP server
-- took it, so a restart loses none; its payload (address, links) is sealed
-- with the server key and the row is deleted once sent.
ALTER TABLE attendees ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE attendees ADD COLUMN confirm_token_hash TEXT;
ALTER TABLE attendees ADD COLUMN confirm_expires_at BIGINT;
CREATE UNIQUE INDEX attendees_confirm_token ON attendees (confirm_token_hash);

-- Per event: do new web registrations wait for the confirmation of the
-- address? On unless an admin turns it off; no effect without --smtp.
ALTER TABLE events ADD COLUMN confirm_email BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE mail_outbox (
	id          TEXT PRIMARY KEY,
	event_id    TEXT NOT NULL,
	attendee_id TEXT NOT NULL,
	payload     BYTEA NOT NULL, -- JSON sealed with the server key, bound to id
	attempts    INTEGER NOT NULL DEFAULT 0,
	next_at     BIGINT NOT NULL,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL
);
CREATE INDEX mail_outbox_next ON mail_outbox (next_at);
