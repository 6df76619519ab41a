package server

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facecheck/facecheck/server/store"
)

// maxImportRows bounds the rows of one CSV import; the body itself is
// bounded by Config.MaxBodyBytes.
const maxImportRows = 5000

// csvCell defuses a value that a spreadsheet would run as a formula.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// handleAttendeesCSV exports an event's attendees (not deleted ones) as CSV.
func (s *Server) handleAttendeesCSV(w http.ResponseWriter, r *http.Request) {
	ev, err := s.store.FindEventByID(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, notFoundError(err, "event"))
		return
	}
	// Read everything first so a store error can still get an error page.
	var all []*store.Attendee
	for off := 0; ; {
		as, total, err := s.store.ListAttendees(r.Context(), store.AttendeeFilter{EventID: ev.ID, Limit: 500, Offset: off})
		if err != nil {
			s.renderInternal(w, r, err)
			return
		}
		all = append(all, as...)
		off += len(as)
		if len(as) == 0 || off >= total {
			break
		}
	}
	s.audit(r, sessionFrom(r.Context()).Username, "attendees.export", ev.ID, fmt.Sprintf("%d attendees", len(all)))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="attendees-`+ev.ID+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	// A UTF-8 byte-order mark: without it Excel reads the file in the
	// system's code page and shows Japanese and Korean names as mojibake.
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		s.logger.Debug("attendees csv", "err", err)
		return
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "name", "email", "info", "source", "checkins", "templates", "registered_at"})
	for _, a := range all {
		cw.Write([]string{a.ID, csvCell(a.Name), csvCell(a.Email), csvCell(a.Info), a.Source,
			strconv.Itoa(a.CheckIns), strconv.Itoa(a.Templates), a.CreatedAt.UTC().Format(time.RFC3339)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.logger.Debug("attendees csv", "err", err)
	}
}

type importRow struct {
	Line            int
	Name, Email     string
	ShortCode, Link string
	Error           string
}

type importPage struct {
	User, CSRF string
	Event      struct{ ID, Name string }
	Rows       []importRow
	Imported   int
	Failed     int
	Error      string
}

// handleAttendeesImport reads a CSV upload (multipart field "file") of
// name,email[,info] rows, an optional header row first, and creates an
// attendee without a template for each valid row. Each gets a short code
// and a link to their registration page; each bad row gets its error.
func (s *Server) handleAttendeesImport(w http.ResponseWriter, r *http.Request) {
	ev, err := s.openEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderErr(w, r, err)
		return
	}
	sess := sessionFrom(r.Context())
	p := importPage{User: sess.Username, CSRF: sess.CSRFToken}
	p.Event.ID, p.Event.Name = ev.ID, ev.Name
	f, _, err := r.FormFile("file")
	if err != nil {
		p.Error = "Choose a CSV file to import."
		s.render(w, r, http.StatusBadRequest, "import.html", p)
		return
	}
	defer f.Close()

	// Never r.Host: a forged Host header would put the attacker's site in
	// the links an admin mails to attendees.
	origin := s.PublicURL()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			p.Rows = append(p.Rows, importRow{Line: pe.Line, Error: "not valid CSV: " + pe.Err.Error()})
			p.Failed++
			if pe.Err == csv.ErrBareQuote || pe.Err == csv.ErrQuote {
				// The reader cannot resynchronise inside a broken quote.
				break
			}
			continue
		}
		if err != nil {
			p.Error = "The file could not be read: " + err.Error()
			break
		}
		line, _ := cr.FieldPos(0)
		if first && len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
			if strings.EqualFold(strings.TrimSpace(rec[0]), "name") {
				continue // header row
			}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(p.Rows) >= maxImportRows {
			p.Error = fmt.Sprintf("Only the first %d rows were read; split the file.", maxImportRows)
			break
		}
		row := importRow{Line: line}
		if len(rec) < 2 || len(rec) > 3 {
			row.Error = fmt.Sprintf("expected name,email[,info]: got %d fields", len(rec))
		} else {
			row.Name, row.Email = normText(rec[0]), strings.ToLower(strings.TrimSpace(rec[1]))
			info := ""
			if len(rec) == 3 {
				info = normText(rec[2])
			}
			if err := s.importAttendee(r, ev, &row, info, origin); err != nil {
				var e *Error
				if !errors.As(err, &e) {
					s.renderInternal(w, r, err)
					return
				}
				row.Error = e.Detail
			}
		}
		if row.Error != "" {
			p.Failed++
		} else {
			p.Imported++
		}
		p.Rows = append(p.Rows, row)
	}
	if p.Imported > 0 {
		s.audit(r, sess.Username, "attendees.import", ev.ID, fmt.Sprintf("%d imported, %d failed", p.Imported, p.Failed))
		s.hub.publish(ev.ID)
	}
	status := http.StatusOK
	if p.Imported == 0 && (p.Failed > 0 || p.Error != "") {
		status = http.StatusUnprocessableEntity
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "import.html", p)
}

func (s *Server) importAttendee(r *http.Request, ev *store.Event, row *importRow, info, origin string) error {
	if err := checkText("name", row.Name, 1, 200); err != nil {
		return err
	}
	if err := checkText("email", row.Email, 1, 254); err != nil {
		return err
	}
	if err := checkEmail(row.Email, true); err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid_email", "%q is not an e-mail address", row.Email)
	}
	if err := checkText("info", info, 0, 200); err != nil {
		return err
	}
	reg, err := s.store.CreateAttendee(r.Context(), store.AttendeeCreate{
		EventID: ev.ID, Name: row.Name, Email: row.Email, Info: info, Source: store.SourceAdmin,
	})
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, "email_taken", "%s is already registered for this event", row.Email)
	}
	if err != nil {
		return err
	}
	row.ShortCode = reg.ShortCode
	row.Link = origin + registeredPath(ev.ID, reg.Attendee.ID, reg.ManageToken)
	return nil
}
