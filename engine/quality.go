package engine

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Reason says why a frame is not good enough to recognise. The kiosk turns
// each into a prompt ("come closer", "hold still", ...).
type Reason string

// Quality-gate reasons.
const (
	ReasonNoFace   Reason = "no_face"
	ReasonTooSmall Reason = "too_small" // face small relative to the frame: come closer
	ReasonTooBig   Reason = "too_big"   // face fills the frame: step back
	ReasonCut      Reason = "cut"       // face cut by the frame edge: centre your face
	// ReasonOffCentre: the face is not in the kiosk's guide oval. The engine
	// knows no guide; the kiosk, which draws it, raises this one.
	ReasonOffCentre  Reason = "off_centre"
	ReasonManyFaces  Reason = "many_faces"  // more than one face close enough to matter
	ReasonMovement   Reason = "movement"    // face moved too much since the last frame
	ReasonYaw        Reason = "yaw"         // head turned left/right
	ReasonPitch      Reason = "pitch"       // head tilted up/down
	ReasonRoll       Reason = "roll"        // head tilted sideways
	ReasonEyesClosed Reason = "eyes_closed" // both eyes closed
	ReasonTooDark    Reason = "too_dark"
	ReasonTooBright  Reason = "too_bright"
	ReasonBlur       Reason = "blur"
)

// Issue is one failed gate with the measured value and the limit it broke.
type Issue struct {
	Reason Reason
	Value  float32
	Limit  float32
}

func (i Issue) String() string {
	return fmt.Sprintf("%s (%.3g, limit %.3g)", i.Reason, i.Value, i.Limit)
}

// Gates are the quality-gate limits. Fractions are of the frame's shorter
// side; angles in degrees; brightness is mean gray 0-255 of the face.
type Gates struct {
	MinFace, MaxFace float32 // face box height / frame height
	EdgeMargin       float32 // fraction of the face size that may stick out before "cut"
	AllowManyFaces   bool
	// SecondFaceRatio: another face counts when its height is at least this
	// fraction of the main face's (people far behind do not).
	SecondFaceRatio          float32
	MaxMovement              float32 // centre shift between frames / face height
	MaxYaw, MaxPitch         float32
	MaxRoll                  float32 // applied to the eye-line roll
	MinEyesOpen              float32 // probability; both eyes below → eyes closed
	MinBrightness, MaxBright float32
	MinBlur                  float32 // variance of Laplacian of the 128x128 face crop
	// PitchOffset is subtracted before the pitch check: the pose network
	// reads a frontal face about 8 degrees low.
	PitchOffset float32
}

// DefaultGates suit a kiosk camera at eye height, 0.5-1.5 m away, 640x480.
func DefaultGates() Gates {
	return Gates{
		MinFace: 0.22, MaxFace: 0.85, EdgeMargin: 0.05,
		SecondFaceRatio: 0.6, MaxMovement: 0.08,
		MaxYaw: 25, MaxPitch: 25, MaxRoll: 20,
		MinEyesOpen: 0.3, MinBrightness: 50, MaxBright: 220,
		MinBlur: 40, PitchOffset: -8,
	}
}

// Measures are what the gates look at for one face, exposed so the
// settings pane can show them live.
type Measures struct {
	FaceFrac   float32
	Movement   float32 // NaN when there is no previous frame
	Brightness float32
	Blur       float32
	Pose       Pose
	Eyes       Eyes
	Faces      int
}

// Check applies the gates to measured values; the first issue is the most
// important one to fix (framing before stillness before pose).
func (g Gates) Check(m Measures, b Box, fw, fh int) []Issue {
	var out []Issue
	add := func(r Reason, v, lim float32) { out = append(out, Issue{r, v, lim}) }
	if m.Faces == 0 {
		return []Issue{{Reason: ReasonNoFace}}
	}
	if !g.AllowManyFaces && m.Faces > 1 {
		add(ReasonManyFaces, float32(m.Faces), 1)
	}
	mx, my := b.W()*g.EdgeMargin, b.H()*g.EdgeMargin
	if b.X1 < -mx || b.Y1 < -my || b.X2 > float32(fw)+mx || b.Y2 > float32(fh)+my {
		out = append(out, Issue{Reason: ReasonCut})
	}
	if m.FaceFrac < g.MinFace {
		add(ReasonTooSmall, m.FaceFrac, g.MinFace)
	}
	if m.FaceFrac > g.MaxFace {
		add(ReasonTooBig, m.FaceFrac, g.MaxFace)
	}
	if m.Brightness < g.MinBrightness {
		add(ReasonTooDark, m.Brightness, g.MinBrightness)
	}
	if m.Brightness > g.MaxBright {
		add(ReasonTooBright, m.Brightness, g.MaxBright)
	}
	if !math.IsNaN(float64(m.Movement)) && m.Movement > g.MaxMovement {
		add(ReasonMovement, m.Movement, g.MaxMovement)
	}
	if abs32(m.Pose.Yaw) > g.MaxYaw {
		add(ReasonYaw, m.Pose.Yaw, g.MaxYaw)
	}
	if p := m.Pose.Pitch - g.PitchOffset; abs32(p) > g.MaxPitch {
		add(ReasonPitch, p, g.MaxPitch)
	}
	if abs32(m.Pose.EyeRoll) > g.MaxRoll {
		add(ReasonRoll, m.Pose.EyeRoll, g.MaxRoll)
	}
	if max(m.Eyes.Left, m.Eyes.Right) < g.MinEyesOpen {
		add(ReasonEyesClosed, max(m.Eyes.Left, m.Eyes.Right), g.MinEyesOpen)
	}
	if m.Blur < g.MinBlur {
		add(ReasonBlur, m.Blur, g.MinBlur)
	}
	return out
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

// faceStats returns the mean brightness and the variance of the Laplacian of
// the face box, resampled to 128x128 so the blur figure does not depend on
// how far away the person stands.
func faceStats(gray gocv.Mat, b Box) (brightness, blur float32) {
	r := image.Rect(int(b.X1), int(b.Y1), int(b.X2), int(b.Y2))
	crop := cropPadded(gray, r)
	defer crop.Close()
	if crop.Empty() {
		return 0, 0
	}
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(crop, &small, image.Pt(128, 128), 0, 0, gocv.InterpolationArea)
	lap := gocv.NewMat()
	defer lap.Close()
	gocv.Laplacian(small, &lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderDefault)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(lap, &mean, &std)
	sd := std.GetDoubleAt(0, 0)
	return float32(small.Mean().Val1), float32(sd * sd)
}
