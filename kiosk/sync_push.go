package kiosk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/storage"
)

// PushStats describes one outbox drain.
type PushStats struct {
	Sent      int // accepted or duplicate (already on the server)
	Rejected  int // answered rejected / invalid: dropped from the outbox, logged
	Failed    int // kept, retried later
	Remaining int // still in the outbox
}

// PushCheckIns drains the due items of the outbox: check-ins go to
// POST /v1/checkins in batches (Idempotency-Key derived from the batch's
// check-in ids, and each check-in id is itself the server's idempotency
// key), walk-up enrolments to POST /v1/enrol one by one. Delivered items
// (accepted or duplicate) are removed; a check-in the server rejects for
// good (StatusRejected, or invalid) is removed too and written to the
// audit log, never retried forever; on a failure the items stay with an
// exponential backoff with jitter and the drain stops.
func (s *Syncer) PushCheckIns(ctx context.Context) (PushStats, error) {
	return s.pushNoted(ctx, s.cfg.Now())
}

// PushAll pushes every queued item now, those waiting out their backoff
// too: the last push of a kiosk that is stopping, which will not be
// running when the backoff ends.
func (s *Syncer) PushAll(ctx context.Context) (PushStats, error) {
	return s.pushNoted(ctx, s.cfg.Now().Add(ignoreBackoff))
}

// ignoreBackoff put on the clock makes every queued item due.
const ignoreBackoff = 100 * 365 * 24 * time.Hour

func (s *Syncer) pushNoted(ctx context.Context, dueBy time.Time) (PushStats, error) {
	s.round.Lock()
	defer s.round.Unlock()
	st, err := s.push(ctx, dueBy)
	s.noteOp("push", err)
	s.emitChanged()
	s.react(ctx, err)
	return st, err
}

func (s *Syncer) push(ctx context.Context, dueBy time.Time) (PushStats, error) {
	var st PushStats
	p, err := s.paired()
	if err != nil {
		return st, err
	}
	var firstErr error
	resealed := false // once per push: a key that keeps changing is not chased
	for round := 0; round < 10000; round++ {
		items, err := s.db.PendingOutbox(ctx, s.cfg.Batch, dueBy)
		if err != nil {
			return st, err
		}
		if len(items) == 0 {
			break
		}
		var checkins, enrols []storage.OutboxItem
		for _, it := range items {
			if it.Kind == storage.OutboxEnrol {
				enrols = append(enrols, it)
			} else {
				checkins = append(checkins, it)
			}
		}
		if len(checkins) > 0 {
			if err := s.pushCheckIns(ctx, p, checkins, &st); err != nil {
				firstErr = err
				break
			}
		}
		if err := s.pushEnrols(ctx, p, enrols, &st, resealed); err != nil {
			if errors.Is(err, errResealed) && !resealed {
				resealed, p = true, s.Pairing()
				continue
			}
			firstErr = err
			break
		}
	}
	n, err := s.db.OutboxLen(ctx)
	if err == nil {
		st.Remaining = n
	}
	if firstErr != nil {
		return st, fmt.Errorf("kiosk: push: %w", firstErr)
	}
	return st, err
}

func (s *Syncer) nextAttempt(attempts int) time.Time {
	return s.cfg.Now().Add(jitter(expo(s.cfg.OutboxBackoffMin, s.cfg.OutboxBackoffMax, attempts)))
}

func (s *Syncer) fail(ctx context.Context, items []storage.OutboxItem, cause error, st *PushStats) error {
	var errs []error
	for _, it := range items {
		if err := s.db.MarkFailed(ctx, it.Seq, cause, s.nextAttempt(it.Attempts)); err != nil && !errors.Is(err, storage.ErrNotFound) {
			errs = append(errs, err)
		}
		st.Failed++
	}
	return errors.Join(append([]error{cause}, errs...)...)
}

// drop removes items the server will never take, with an audit entry each.
func (s *Syncer) drop(ctx context.Context, it storage.OutboxItem, why string, st *PushStats) error {
	s.cfg.Logger.Warn("sync: server refused an outbox item for good; dropped", "kind", it.Kind, "ref", it.Ref, "why", why)
	if err := s.db.Audit(ctx, "sync", it.Kind+".rejected", fmt.Sprintf("%s %s dropped from the outbox: %s", it.Kind, it.Ref, why)); err != nil {
		return err
	}
	st.Rejected++
	return s.db.MarkSent(ctx, it.Seq)
}

func batchKey(items []storage.OutboxItem) string {
	refs := make([]string, len(items))
	for i, it := range items {
		refs[i] = it.Ref
	}
	sort.Strings(refs)
	h := sha256.Sum256([]byte(strings.Join(refs, "\n")))
	return "checkins-" + hex.EncodeToString(h[:16])
}

func (s *Syncer) pushCheckIns(ctx context.Context, p *Pairing, items []storage.OutboxItem, st *PushStats) error {
	batch := api.CheckInBatch{CheckIns: make([]api.CheckIn, 0, len(items))}
	valid := items[:0:0]
	for _, it := range items {
		var c api.CheckIn
		if err := json.Unmarshal(it.Payload, &c); err != nil || c.ID == "" {
			if err := s.drop(ctx, it, fmt.Sprintf("unreadable payload: %v", err), st); err != nil {
				return err
			}
			continue
		}
		batch.CheckIns = append(batch.CheckIns, c)
		valid = append(valid, it)
	}
	if len(valid) == 0 {
		return nil
	}
	var res api.CheckInBatchResult
	err := s.doJSON(ctx, p.ServerURL, p.Token, http.MethodPost, api.Version+"/checkins", batchKey(valid), batch, &res)
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusUnprocessableEntity {
		if len(valid) > 1 {
			// One bad check-in refuses the whole batch: find it.
			for _, it := range valid {
				if err := s.pushCheckIns(ctx, p, []storage.OutboxItem{it}, st); err != nil {
					return err
				}
			}
			return nil
		}
		return s.drop(ctx, valid[0], he.Error(), st)
	}
	if err != nil {
		return s.fail(ctx, valid, err, st)
	}
	byID := make(map[string]api.CheckInResult, len(res.Results))
	for _, r := range res.Results {
		byID[r.ID] = r
	}
	var sent []int64
	var missing []storage.OutboxItem
	for _, it := range valid {
		r, ok := byID[it.Ref]
		switch {
		case !ok:
			missing = append(missing, it)
		case r.Status == api.StatusAccepted || r.Status == api.StatusDuplicate:
			sent = append(sent, it.Seq)
			st.Sent++
		case r.Status == api.StatusRejected:
			if err := s.drop(ctx, it, "the server rejected it (attendee not of this event)", st); err != nil {
				return err
			}
		default:
			missing = append(missing, it)
		}
	}
	if err := s.db.MarkSent(ctx, sent...); err != nil {
		return err
	}
	if len(missing) > 0 {
		return s.fail(ctx, missing, fmt.Errorf("%w: POST /v1/checkins: %d check-ins missing from the answer", ErrProtocol, len(missing)), st)
	}
	return nil
}

func (s *Syncer) pushEnrols(ctx context.Context, p *Pairing, items []storage.OutboxItem, st *PushStats, resealed bool) error {
	for _, it := range items {
		var req api.EnrolRequest
		if err := json.Unmarshal(it.Payload, &req); err != nil {
			if err := s.drop(ctx, it, fmt.Sprintf("unreadable payload: %v", err), st); err != nil {
				return err
			}
			continue
		}
		var resp api.EnrolResponse
		err := s.doJSON(ctx, p.ServerURL, p.Token, http.MethodPost, api.Version+"/enrol", req.ID, req, &resp)
		var he *HTTPError
		switch {
		case err == nil:
			if err := s.db.MarkSent(ctx, it.Seq); err != nil {
				return err
			}
			st.Sent++
			if err := s.db.Audit(ctx, "sync", "enrol.sent", fmt.Sprintf("enrolment %s stored on the server as attendee %s", req.ID, resp.AttendeeID)); err != nil {
				s.cfg.Logger.Warn("sync: audit", "err", err)
			}
		case endOf(err) != "":
			return err // the kiosk is revoked or the event closed: the round wipes
		case errors.As(err, &he) && he.Status == http.StatusUnprocessableEntity && he.Problem != nil &&
			he.Problem.Code == "template_invalid" && !resealed:
			// Perhaps sealed under a key rotated meanwhile: then sealed
			// again and sent again (errResealed), not dropped.
			if err := s.checkRotated(ctx, p); err != nil {
				return err
			}
			if err := s.drop(ctx, it, he.Error(), st); err != nil {
				return err
			}
		case errors.As(err, &he) && he.Status/100 == 4 && !errors.Is(he, ErrUnauthorized) &&
			he.Status != http.StatusRequestTimeout && he.Status != http.StatusTooManyRequests:
			// 409 e-mail taken, 410 deleted since, 422 invalid: final.
			if err := s.drop(ctx, it, he.Error(), st); err != nil {
				return err
			}
		default:
			return s.fail(ctx, []storage.OutboxItem{it}, err, st)
		}
	}
	return nil
}
