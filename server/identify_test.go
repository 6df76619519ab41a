package server_test

import (
	"math"
	"testing"

	"github.com/facecheck/facecheck"
	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/internal/decisiontest"
	"github.com/facecheck/facecheck/server/store"
)

// unitVec is the unit vector along axis i.
func unitVec(i int) []float32 {
	e := make([]float32, facecheck.Dim)
	e[i] = 1
	return e
}

// wire quantises e into a wire template of the test model.
func wire(t testing.TB, e []float32) api.Template {
	t.Helper()
	q, err := facecheck.Quantize(testModel, e)
	if err != nil {
		t.Fatal(err)
	}
	return q.Wire()
}

// TestIdentifyDecisionTable drives the shared decision table
// (testdata/decisions.csv) through POST /v1/identify: Ann and Bob are
// orthogonal templates, the probe scores tc.Score against Ann and
// tc.Score-tc.Margin against Bob, under the case's thresholds pinned by an
// admin. The identify API has no liveness or repeat of its own and always
// answers verify for a client to ask for the code, so rows with a caller's
// risk or without verification are the kiosk's.
func TestIdentifyDecisionTable(t *testing.T) {
	s := newTestServer(t)
	a := login(t, s)
	k := pair(t, s, a, s.Event.ID, "Thin kiosk")
	for _, p := range []struct {
		name string
		axis int
	}{{"Ann", 0}, {"Bob", 1}} {
		if _, err := s.DB.CreateAttendee(t.Context(), store.AttendeeCreate{EventID: s.Event.ID, Name: p.name, Consent: true,
			Templates: []api.Template{wire(t, unitVec(p.axis))}}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, tc := range decisiontest.Table(t) {
		if tc.Risk != facecheck.RiskNone || !tc.CanVerify || tc.NearThreshold(0.01) {
			continue
		}
		n++
		t.Run(tc.Name, func(t *testing.T) {
			th := api.Thresholds{Accept: tc.Th.Accept, Confirm: tc.Th.Confirm, Margin: tc.Th.Margin}
			a.json(t, "PUT", "/v1/admin/events/"+s.Event.ID+"/settings", api.EventSettingsUpdate{Thresholds: &th}, 200, nil)
			sa, sb := float64(tc.Score), float64(tc.Score-tc.Margin)
			probe := make([]float32, facecheck.Dim)
			probe[0], probe[1], probe[2] = float32(sa), float32(sb), float32(math.Sqrt(1-sa*sa-sb*sb))
			st, err := api.SealTemplate(k.TemplateKey, api.ProbeID, wire(t, probe))
			if err != nil {
				t.Fatal(err)
			}
			var res api.IdentifyResponse
			k.json(t, "POST", "/v1/identify", api.IdentifyRequest{Template: st}, 200, &res)
			if res.Decision != string(tc.Want) || res.Found != (tc.Want != facecheck.Reject) {
				t.Fatalf("identify = %+v, want %s", res, tc.Want)
			}
		})
	}
	if n < 5 {
		t.Fatalf("%d rows of the decision table apply to identify, want at least 5", n)
	}
}
