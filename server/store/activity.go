package store

import (
	"context"
	"fmt"
	"time"
)

// FeedItem is one check-in as the dashboard's live feed shows it.
type FeedItem struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	AttendeeID string    `json:"attendee_id"`
	Name       string    `json:"name"`
	Kiosk      string    `json:"kiosk"`
	Method     string    `json:"method"`
	Repeat     bool      `json:"repeat"`
	// CheckIns is the attendee's check-in count now.
	CheckIns int `json:"attendee_checkins"`
}

// CheckInFeed returns an event's latest check-ins (by arrival at the
// server), newest first, with the attendee's name and the kiosk's name.
func (db *DB) CheckInFeed(ctx context.Context, eventID string, limit int) ([]FeedItem, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT c.id, c.checked_in_at, c.attendee_id, a.name, COALESCE(k.name, ''),
		c.method, c.is_repeat, a.checkins
		FROM checkins c JOIN attendees a ON a.id = c.attendee_id LEFT JOIN kiosks k ON k.id = c.kiosk_id
		WHERE c.event_id = $1 ORDER BY c.received_at DESC, c.checked_in_at DESC, c.id DESC LIMIT $2`, eventID, limit)
	if err != nil {
		return nil, fmt.Errorf("check-in feed: %w", err)
	}
	defer rows.Close()
	out := []FeedItem{}
	for rows.Next() {
		var f FeedItem
		var at int64
		if err := rows.Scan(&f.ID, &at, &f.AttendeeID, &f.Name, &f.Kiosk, &f.Method, &f.Repeat, &f.CheckIns); err != nil {
			return nil, fmt.Errorf("check-in feed: %w", err)
		}
		f.At = fromMS(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// AttendeeCheckInCounts returns the check-in count of every attendee of the
// event with a check-in received at or after since, by attendee id.
func (db *DB) AttendeeCheckInCounts(ctx context.Context, eventID string, since time.Time) (map[string]int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT a.id, a.checkins FROM attendees a WHERE a.event_id = $1 AND a.id IN
		(SELECT c.attendee_id FROM checkins c WHERE c.event_id = $1 AND c.received_at >= $2)`, eventID, ms(since))
	if err != nil {
		return nil, fmt.Errorf("check-in counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("check-in counts: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// CheckInsPerMinute counts an event's check-ins (by the kiosk's check-in
// time) in each of the n whole minutes up to and including the one of end,
// oldest first.
func (db *DB) CheckInsPerMinute(ctx context.Context, eventID string, end time.Time, n int) ([]int, error) {
	last := end.Truncate(time.Minute)
	first := last.Add(-time.Duration(n-1) * time.Minute)
	rows, err := db.db.QueryContext(ctx, `SELECT checked_in_at FROM checkins WHERE event_id = $1
		AND checked_in_at >= $2 AND checked_in_at < $3`, eventID, ms(first), ms(last.Add(time.Minute)))
	if err != nil {
		return nil, fmt.Errorf("check-ins per minute: %w", err)
	}
	defer rows.Close()
	out := make([]int, n)
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, fmt.Errorf("check-ins per minute: %w", err)
		}
		if i := int(fromMS(at).Sub(first) / time.Minute); i >= 0 && i < n {
			out[i]++
		}
	}
	return out, rows.Err()
}
