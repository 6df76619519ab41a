-- Initial schema. Portable between SQLite and PostgreSQL: TEXT, BIGINT,
-- INTEGER, REAL, BOOLEAN and BYTEA (BLOB-like in SQLite) only; times are
-- unix milliseconds in BIGINT; no autoincrement (cursors come from
-- events.gallery_cursor, see attendees.gallery_cursor).

CREATE TABLE events (
	id             TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	-- The event's AES-256 template key, sealed with the server key that is
	-- kept outside the database.
	template_key   BYTEA NOT NULL,
	thresholds     TEXT NOT NULL, -- JSON api.Thresholds
	settings       TEXT NOT NULL, -- JSON map of kiosk setting defaults
	gallery_cursor BIGINT NOT NULL DEFAULT 0, -- last cursor handed out
	created_at     BIGINT NOT NULL
);

CREATE TABLE admins (
	username      TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL, -- argon2id, PHC string format
	created_at    BIGINT NOT NULL
);

CREATE TABLE admin_sessions (
	token_hash TEXT PRIMARY KEY, -- sha256 of the cookie value
	username   TEXT NOT NULL REFERENCES admins (username) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);

CREATE TABLE attendees (
	id                TEXT PRIMARY KEY,
	event_id          TEXT NOT NULL REFERENCES events (id),
	name              TEXT NOT NULL,
	email             TEXT, -- lower-cased; NULL when unknown or deleted
	info              TEXT NOT NULL DEFAULT '',
	code_hash         TEXT, -- api.HashShortCode; NULL when deleted
	code_sealed       BYTEA, -- the short code sealed with the event key, to show it again
	manage_token_hash TEXT, -- sha256 of the attendee's withdraw-link token
	consent           BOOLEAN NOT NULL,
	source            TEXT NOT NULL, -- web, kiosk, admin
	checkins          INTEGER NOT NULL DEFAULT 0,
	-- Position in the event's gallery delta feed: set from
	-- events.gallery_cursor on every change, so a feed since C is the rows
	-- with gallery_cursor > C (deleted rows are the tombstones).
	gallery_cursor    BIGINT NOT NULL,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL,
	deleted_at        BIGINT -- tombstone: personal data blanked, templates deleted
);
CREATE INDEX attendees_event_cursor ON attendees (event_id, gallery_cursor);
CREATE UNIQUE INDEX attendees_event_code ON attendees (event_id, code_hash);
CREATE UNIQUE INDEX attendees_event_email ON attendees (event_id, email);

CREATE TABLE templates (
	id          TEXT PRIMARY KEY,
	attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
	model       TEXT NOT NULL,
	version     INTEGER NOT NULL,
	-- api.SealTemplate under the event key, bound to attendee_id: the feed
	-- sends it as is, a copied database file reveals nothing without the
	-- server key.
	data        BYTEA NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX templates_attendee ON templates (attendee_id);

CREATE TABLE kiosks (
	id             TEXT PRIMARY KEY,
	event_id       TEXT NOT NULL REFERENCES events (id),
	name           TEXT NOT NULL,
	token_hash     TEXT NOT NULL UNIQUE, -- sha256 of the bearer token
	revoked        BOOLEAN NOT NULL DEFAULT FALSE,
	app_version    TEXT NOT NULL DEFAULT '',
	queued         INTEGER NOT NULL DEFAULT 0,
	gallery_cursor BIGINT NOT NULL DEFAULT 0,
	last_seen      BIGINT,
	created_at     BIGINT NOT NULL,
	revoked_at     BIGINT
);
CREATE INDEX kiosks_event ON kiosks (event_id);

CREATE TABLE pairing_codes (
	code_hash  TEXT PRIMARY KEY, -- sha256 of the normalised code
	event_id   TEXT NOT NULL REFERENCES events (id),
	created_by TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT,
	kiosk_id   TEXT
);

CREATE TABLE checkins (
	id            TEXT PRIMARY KEY, -- client-generated UUID: the idempotency key
	event_id      TEXT NOT NULL REFERENCES events (id),
	attendee_id   TEXT NOT NULL REFERENCES attendees (id),
	kiosk_id      TEXT REFERENCES kiosks (id),
	method        TEXT NOT NULL,
	score         REAL NOT NULL,
	margin        REAL NOT NULL,
	checked_in_at BIGINT NOT NULL, -- kiosk clock
	received_at   BIGINT NOT NULL, -- server clock
	is_repeat     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX checkins_event_attendee ON checkins (event_id, attendee_id);
CREATE INDEX checkins_event_time ON checkins (event_id, checked_in_at);

CREATE TABLE audit_log (
	id     TEXT PRIMARY KEY,
	at     BIGINT NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL,
	ip     TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
