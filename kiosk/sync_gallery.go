package kiosk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

// GalleryStats describes one gallery pull.
type GalleryStats struct {
	Since, Cursor    int64
	Upserts, Deletes int
	SkippedTemplates int // templates of another model or version, not usable here
	Full             bool
}

// galleryLine is either an api.GalleryRecord or the api.GalleryEnd line.
type galleryLine struct {
	api.GalleryRecord
	End      bool `json:"end"`
	Count    int  `json:"count"`
	Snapshot bool `json:"snapshot"`
}

// ErrUnannouncedSnapshot: the server's gallery feed went back to an older
// cursor without announcing a snapshot (api.GalleryEnd.Snapshot), and
// applying it as one would drop more than maxUnannouncedDrop of the
// gallery. The kiosk keeps its cache and its cursor.
var ErrUnannouncedSnapshot = errors.New("kiosk: the server's gallery answer would drop attendees without announcing a snapshot; kept the cached gallery")

// maxUnannouncedDrop is the share of the local gallery a feed whose
// cursor went back may drop without the snapshot marker (servers before
// the marker send such feeds after a database restore). Beyond it the
// answer is refused: one bogus answer must not leave a kiosk that
// recognises nobody.
const maxUnannouncedDrop = 0.05

// maxGalleryLine bounds one NDJSON line (an attendee with a few sealed
// templates is a few KiB).
const maxGalleryLine = 4 << 20

// PullGallery fetches the gallery changes since the stored cursor and
// applies them: upserts replace an attendee's templates, tombstones remove
// the attendee, in the database (one transaction, with the new cursor) and
// then in the in-memory gallery. Nothing is applied unless the feed is
// complete (its end line arrived) and every line parsed and every template
// opened: a cut stream, garbage or a bad seal is an error and leaves the
// cursor where it was. A snapshot (the pull from cursor 0, or a feed the
// server marks api.GalleryEnd.Snapshot) replaces the gallery: local
// attendees missing from it are removed. A feed whose cursor went back
// without the marker is applied as a snapshot only when it drops at most
// maxUnannouncedDrop of the gallery; otherwise it fails with
// ErrUnannouncedSnapshot and nothing changes.
func (s *Syncer) PullGallery(ctx context.Context) (GalleryStats, error) {
	s.round.Lock()
	defer s.round.Unlock()
	st, err := s.pullGallery(ctx)
	s.noteOp("gallery", err)
	s.emitChanged()
	s.react(ctx, err)
	return st, err
}

func (s *Syncer) pullGallery(ctx context.Context) (GalleryStats, error) {
	var st GalleryStats
	p, err := s.paired()
	if err != nil {
		return st, err
	}
	since, err := s.db.GetCursor(ctx)
	if err != nil {
		return st, err
	}
	st.Since = since
	ctx, cancel := context.WithTimeout(ctx, s.cfg.GalleryTimeout)
	defer cancel()
	feed, err := s.fetchGallery(ctx, p, since)
	if kc := (*keyChanged)(nil); errors.As(err, &kc) {
		// The event key was rotated: the new key, then the whole gallery
		// (sealed under it, with the new short-code hashes).
		var changed bool
		if p, changed, err = s.adoptKey(ctx, p); err != nil {
			return st, err
		}
		if changed {
			since, st.Since = 0, 0
		}
		feed, err = s.fetchGallery(ctx, p, since)
		if errors.As(err, &kc) {
			err = fmt.Errorf("kiosk: pull gallery: %w: the gallery is at key version %d, GET /v1/key answered %d", ErrProtocol, kc.version, p.KeyVersion)
		}
	}
	st.SkippedTemplates = feed.skipped
	if err != nil {
		return st, err
	}
	st.Full = since == 0 || feed.end.Snapshot || feed.end.Cursor < since
	upserts, deletes := feed.split()
	var stale []string
	if st.Full {
		if stale, err = s.staleAttendees(ctx, feed); err != nil {
			return st, err
		}
		if err := s.checkSnapshot(ctx, since, feed, stale); err != nil {
			return st, err
		}
		deletes = append(deletes, stale...)
	}
	if err := s.applyGallery(ctx, feed, upserts, deletes, stale); err != nil {
		return st, err
	}
	st.Cursor, st.Upserts, st.Deletes = feed.end.Cursor, len(upserts), len(deletes)
	if len(upserts)+len(deletes) > 0 {
		s.cfg.Logger.Info("sync: gallery", "since", since, "cursor", feed.end.Cursor, "upserts", len(upserts), "deletes", len(deletes), "full", st.Full)
	}
	return st, nil
}

// galleryOp is the last operation a feed carries for one attendee.
type galleryOp struct {
	del bool
	up  storage.GalleryUpsert
	ts  []engine.Template
}

// galleryFeed is a gallery stream read to its end line, every record parsed
// and every template opened.
type galleryFeed struct {
	ops     map[string]*galleryOp
	order   []string // attendee ids in the order of their first record
	end     galleryLine
	records int
	skipped int // templates of another model or version
}

// split returns the feed's upserts and tombstones in feed order.
func (f *galleryFeed) split() (upserts []storage.GalleryUpsert, deletes []string) {
	for _, id := range f.order {
		if o := f.ops[id]; o.del {
			deletes = append(deletes, id)
		} else {
			upserts = append(upserts, o.up)
		}
	}
	return upserts, deletes
}

// fetchGallery opens GET /v1/gallery?since= and reads the whole feed. A
// stall watchdog cancels the stream when no byte arrives for Timeout.
func (s *Syncer) fetchGallery(ctx context.Context, p *Pairing, since int64) (*galleryFeed, error) {
	feed := &galleryFeed{ops: map[string]*galleryOp{}}
	ctx, stall := context.WithCancelCause(ctx)
	defer stall(nil)
	resp, err := s.do(ctx, s.stream, p.ServerURL, p.Token, http.MethodGet,
		api.Version+"/gallery?since="+strconv.FormatInt(since, 10), "", nil)
	if err != nil {
		return feed, fmt.Errorf("kiosk: pull gallery: %w", err)
	}
	defer resp.Body.Close()
	if v, ok := keyVersionOf(resp); ok && v != p.KeyVersion {
		return feed, &keyChanged{version: v}
	}
	watchdog := time.AfterFunc(s.cfg.Timeout, func() {
		stall(fmt.Errorf("%w: gallery stream stalled for %s", ErrOffline, s.cfg.Timeout))
	})
	defer watchdog.Stop()
	body := &progressReader{r: resp.Body, onRead: func() { watchdog.Reset(s.cfg.Timeout) }}
	if err := feed.read(body, p.TemplateKey); err != nil {
		if body.err != nil && !errors.As(err, new(*streamCut)) {
			err = &streamCut{records: feed.records, err: body.err} // the last line was cut
		}
		var cut *streamCut
		if errors.As(err, &cut) {
			rerr := cut.err
			if c := context.Cause(ctx); c != nil {
				rerr = c // the watchdog's or the deadline's reason
			}
			return feed, fmt.Errorf("kiosk: pull gallery: stream cut after %d records, nothing applied: %w", cut.records, errors.Join(ErrOffline, rerr))
		}
		return feed, fmt.Errorf("kiosk: pull gallery: %w", err)
	}
	return feed, nil
}

// streamCut is a read error of the gallery stream, as opposed to a line
// that is not the API.
type streamCut struct {
	records int
	err     error
}

func (e *streamCut) Error() string {
	return fmt.Sprintf("stream cut after %d records: %v", e.records, e.err)
}

// read parses the NDJSON feed from r. It fails unless the end line
// arrived, its count matches the records and every line parsed.
func (f *galleryFeed) read(r io.Reader, key []byte) error {
	var end *galleryLine
	lastCursor := int64(-1)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxGalleryLine)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: line %d: %s", ErrProtocol, line, fmt.Sprintf(format, args...))
		}
		if end != nil {
			return bad("data after the end line")
		}
		var l galleryLine
		if err := json.Unmarshal(b, &l); err != nil {
			return bad("%v (line starts %q)", err, truncate(b, 60))
		}
		if l.End {
			end = &l
			continue
		}
		if l.AttendeeID == "" {
			return bad("record without attendee id")
		}
		if l.Cursor < lastCursor {
			return bad("cursor %d goes back from %d", l.Cursor, lastCursor)
		}
		lastCursor = l.Cursor
		f.records++
		o, skipped, err := parseGalleryRecord(l.GalleryRecord, key)
		f.skipped += skipped
		if err != nil {
			return bad("%v", err)
		}
		if _, seen := f.ops[l.AttendeeID]; !seen {
			f.order = append(f.order, l.AttendeeID)
		}
		f.ops[l.AttendeeID] = o // the last operation on an attendee wins
	}
	if err := sc.Err(); err != nil {
		return &streamCut{records: f.records, err: err}
	}
	if end == nil {
		return fmt.Errorf("%w: stream ended after %d records without its end line, nothing applied", ErrProtocol, f.records)
	}
	if end.Count != f.records {
		return fmt.Errorf("%w: end line counts %d records, %d arrived", ErrProtocol, end.Count, f.records)
	}
	if end.Cursor < lastCursor {
		return fmt.Errorf("%w: end cursor %d before record cursor %d", ErrProtocol, end.Cursor, lastCursor)
	}
	f.end = *end
	return nil
}

// parseGalleryRecord turns one feed record into its operation, opening
// its templates with the event key; templates of another model or version
// are skipped (and counted).
func parseGalleryRecord(l api.GalleryRecord, key []byte) (*galleryOp, int, error) {
	o := &galleryOp{}
	skipped := 0
	switch l.Op {
	case api.OpDelete:
		o.del = true
	case api.OpUpsert:
		if strings.TrimSpace(l.Name) == "" {
			return nil, 0, fmt.Errorf("attendee %s has no name", l.AttendeeID)
		}
		o.up.Attendee = storage.Attendee{ID: l.AttendeeID, Name: l.Name, Info: l.Info, CodeHash: l.CodeHash,
			CaptureConsent: l.CaptureConsent}
		for i, sealed := range l.Templates {
			t, err := api.OpenTemplate(key, l.AttendeeID, sealed)
			if err != nil {
				return nil, skipped, fmt.Errorf("template %d of attendee %s: %v", i, l.AttendeeID, err)
			}
			if t.Model != engine.ModelID || t.Version != engine.TemplateVersion {
				skipped++
				continue
			}
			et, err := engine.TemplateFromBytes(t.Model, t.Version, t.Data)
			if err != nil {
				return nil, skipped, fmt.Errorf("template %d of attendee %s: %v", i, l.AttendeeID, err)
			}
			o.up.Templates = append(o.up.Templates, t)
			o.ts = append(o.ts, et)
		}
	default:
		return nil, 0, fmt.Errorf("unknown op %q", l.Op)
	}
	return o, skipped, nil
}

// checkSnapshot refuses a feed that went back to an older cursor without
// the snapshot marker when applying it would drop more than
// maxUnannouncedDrop of the gallery (stale: the attendees it drops).
func (s *Syncer) checkSnapshot(ctx context.Context, since int64, f *galleryFeed, stale []string) error {
	if since == 0 || f.end.Snapshot || len(stale) == 0 {
		return nil
	}
	have, err := s.db.CountAttendees(ctx)
	if err != nil {
		return fmt.Errorf("kiosk: pull gallery: %w", err)
	}
	if s.gallery != nil {
		have = max(have, s.gallery.Len())
	}
	if float64(len(stale)) <= maxUnannouncedDrop*float64(have) {
		return nil
	}
	s.cfg.Logger.Warn("sync: refused a gallery answer that would drop attendees without announcing a snapshot; keeping the cached gallery",
		"since", since, "end_cursor", f.end.Cursor, "records", f.records, "would_drop", len(stale), "gallery", have)
	return fmt.Errorf("%w: GET /v1/gallery?since=%d answered cursor %d with %d records, which would drop %d of %d attendees",
		ErrUnannouncedSnapshot, since, f.end.Cursor, f.records, len(stale), have)
}

// staleAttendees lists the attendees a snapshot drops: stored locally or in
// the in-memory gallery, and missing from the feed.
func (s *Syncer) staleAttendees(ctx context.Context, f *galleryFeed) ([]string, error) {
	local, err := s.db.ListAttendees(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var stale []string
	add := func(id string) {
		if _, inFeed := f.ops[id]; !inFeed && !seen[id] {
			seen[id] = true
			stale = append(stale, id)
		}
	}
	for _, a := range local {
		add(a.ID)
	}
	if s.gallery != nil {
		for _, id := range s.gallery.IDs() {
			add(id)
		}
	}
	return stale, nil
}

// applyGallery writes the delta and the new cursor in one transaction, then
// brings the in-memory gallery in step.
func (s *Syncer) applyGallery(ctx context.Context, f *galleryFeed, upserts []storage.GalleryUpsert, deletes, stale []string) error {
	if err := s.db.ApplyGalleryDelta(ctx, upserts, deletes, f.end.Cursor); err != nil {
		return fmt.Errorf("kiosk: pull gallery: %w", err)
	}
	if s.gallery == nil {
		return nil
	}
	for _, id := range f.order {
		if o := f.ops[id]; o.del {
			s.gallery.Remove(id)
		} else if err := s.gallery.Replace(id, o.ts...); err != nil {
			return fmt.Errorf("kiosk: pull gallery: in-memory gallery: %w", err)
		}
	}
	for _, id := range stale {
		s.gallery.Remove(id)
	}
	return nil
}
