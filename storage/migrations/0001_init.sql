-- 0001_init: the kiosk's local store. Times are TEXT in UTC with nanoseconds,
-- fixed width ("2006-01-02T15:04:05.000000000Z"), so they sort as strings.

-- meta holds single values: the gallery cursor and the key check.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value ANY NOT NULL
) STRICT;

-- attendees is the local copy of the event's gallery (server delta feed).
-- name_fold is name lowercased by Go (SQLite's lower() is ASCII only) for
-- manual check-in search.
CREATE TABLE attendees (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	name_fold  TEXT NOT NULL,
	info       TEXT NOT NULL DEFAULT '',
	code_hash  TEXT NOT NULL DEFAULT '',
	updated_at TEXT NOT NULL
) STRICT;

-- templates are sealed with AES-256-GCM under the key kept outside this file,
-- bound to (attendee_id, model, version): a copied database reveals nothing
-- and a blob moved to another attendee fails to open.
CREATE TABLE templates (
	id          INTEGER PRIMARY KEY,
	attendee_id TEXT NOT NULL REFERENCES attendees (id) ON DELETE CASCADE,
	model       TEXT NOT NULL,
	version     INTEGER NOT NULL,
	sealed      BLOB NOT NULL
) STRICT;
CREATE INDEX templates_attendee ON templates (attendee_id);

-- checkins is the kiosk's own record. id is the client UUID and idempotency
-- key. No foreign key to attendees: a check-in outlives a later tombstone.
CREATE TABLE checkins (
	id          TEXT PRIMARY KEY,
	attendee_id TEXT NOT NULL,
	method      TEXT NOT NULL,
	score       REAL NOT NULL,
	margin      REAL NOT NULL,
	at          TEXT NOT NULL,
	recorded_at TEXT NOT NULL,
	synced_at   TEXT
) STRICT;
CREATE INDEX checkins_attendee_at ON checkins (attendee_id, at);
CREATE INDEX checkins_at ON checkins (at);

-- outbox is the durable queue the sync worker drains. ref is the payload's
-- idempotency key (check-in id, enrolment id).
CREATE TABLE outbox (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	kind            TEXT NOT NULL CHECK (kind IN ('checkin', 'enrol')),
	ref             TEXT NOT NULL,
	payload         TEXT NOT NULL CHECK (json_valid(payload)),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at TEXT NOT NULL,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	UNIQUE (kind, ref)
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at, seq);

-- settings holds values that differ from the built-in defaults: the event's
-- defaults from the server (source 'server') and local overrides made in the
-- settings pane (source 'local'), which win.
CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	source     TEXT NOT NULL CHECK (source IN ('local', 'server')),
	updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	at     TEXT NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
