package kiosk

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/storage"
)

// Settings (DESIGN.md, "Settings"): every face, network and process
// setting with its default, range and validation. Values are strings as
// stored in SQLite (storage.Setting); built-in defaults < the event's
// defaults from the server < local overrides.

// SettingType is how a setting's value is written.
type SettingType string

// Setting types.
const (
	TypeFloat  SettingType = "float"
	TypeInt    SettingType = "int"
	TypeBool   SettingType = "bool"   // "true" / "false"
	TypeString SettingType = "string" // free text, checked by Check
	TypeChoice SettingType = "choice" // one of Choices
)

// Setting groups.
const (
	GroupFace    = "face"
	GroupNetwork = "network"
	GroupProcess = "process"
)

// SettingDef describes one setting.
type SettingDef struct {
	Key, Group, Label, Help string
	Type                    SettingType
	Default                 string
	// Min and Max bound TypeFloat and TypeInt values (inclusive).
	Min, Max float64
	Choices  []string
	// Restart is set for settings read at start-up only (network, camera):
	// stored at once, in effect after a restart.
	Restart bool
	// Check, when set, validates a TypeString value further.
	Check func(string) error
	// Hidden settings are no field of their own in the settings pane:
	// another field sets them (the camera's name and ID, with its index).
	Hidden bool
}

// Validate checks v, with a message naming the setting and what it allows.
func (d SettingDef) Validate(v string) error {
	v = strings.TrimSpace(v)
	switch d.Type {
	case TypeFloat, TypeInt:
		f, err := strconv.ParseFloat(v, 64)
		if d.Type == TypeInt {
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			f = float64(n)
		}
		if err != nil {
			kind := "a number"
			if d.Type == TypeInt {
				kind = "a whole number"
			}
			return fmt.Errorf("%s (%s): %q is not %s; allowed %s", d.Label, d.Key, v, kind, d.Range())
		}
		if f < d.Min || f > d.Max {
			return fmt.Errorf("%s (%s): %s is out of range; allowed %s", d.Label, d.Key, v, d.Range())
		}
	case TypeBool:
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%s (%s): %q is not true or false", d.Label, d.Key, v)
		}
	case TypeChoice:
		for _, c := range d.Choices {
			if v == c {
				return nil
			}
		}
		return fmt.Errorf("%s (%s): %q is not allowed; choose one of %s", d.Label, d.Key, v, strings.Join(d.Choices, ", "))
	case TypeString:
		if d.Check != nil {
			if err := d.Check(v); err != nil {
				return fmt.Errorf("%s (%s): %v", d.Label, d.Key, err)
			}
		}
	}
	return nil
}

// Range describes the allowed values in words.
func (d SettingDef) Range() string {
	switch d.Type {
	case TypeFloat, TypeInt:
		return fmt.Sprintf("%s to %s", fmtNum(d.Min), fmtNum(d.Max))
	case TypeBool:
		return "true or false"
	case TypeChoice:
		return strings.Join(d.Choices, ", ")
	}
	return "text"
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func checkURL(v string) error {
	if v == "" {
		return nil // not paired yet
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL such as https://checkin.example.org", v)
	}
	return nil
}

func checkFile(v string) error {
	if v == "" {
		return nil // system CAs
	}
	if st, err := os.Stat(v); err != nil || st.IsDir() {
		return fmt.Errorf("%q is not a readable PEM file (leave empty for the system CAs)", v)
	}
	return nil
}

func checkCamera(v string) error {
	if v == "" {
		return fmt.Errorf("empty: give a camera index (0, 1, …), a video file or an image folder")
	}
	if n, err := strconv.Atoi(v); err == nil && (n < 0 || n >= camera.MaxDevices) {
		return fmt.Errorf("camera index %d out of range 0-%d", n, camera.MaxDevices-1)
	}
	return nil
}

// maxCameraRef bounds a stored camera name and ID (a Windows device
// instance ID is under 200 characters).
const maxCameraRef = 512

func checkCameraDevice(v string) error {
	if len(v) > maxCameraRef {
		return fmt.Errorf("%d characters, at most %d", len(v), maxCameraRef)
	}
	return nil
}

func g(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

// Registry returns every setting, face first, then network, then process.
func Registry() []SettingDef {
	kc, gt, ec := DefaultConfig(), engine.DefaultGates(), engine.DefaultConfig()
	f := func(key, label, help string, def string, min, max float64) SettingDef {
		return SettingDef{Key: key, Label: label, Help: help, Type: TypeFloat, Default: def, Min: min, Max: max}
	}
	i := func(key, label, help string, def int, min, max float64) SettingDef {
		return SettingDef{Key: key, Label: label, Help: help, Type: TypeInt, Default: strconv.Itoa(def), Min: min, Max: max}
	}
	b := func(key, label, help string, def bool) SettingDef {
		return SettingDef{Key: key, Label: label, Help: help, Type: TypeBool, Default: strconv.FormatBool(def)}
	}
	face := []SettingDef{
		f("face.confidence", "Detector confidence", "Minimum detector score for a face.", g(ec.Confidence), 0.05, 0.99),
		i("face.top_k", "Detector top-k", "Candidate boxes kept before non-maximum suppression (fewer is faster).", ec.TopK, 1, 5000),
		f("face.nms", "NMS overlap", "Overlap (IoU) above which a weaker box is dropped as the same face.", g(ec.NMSIoU), 0.05, 0.95),
		f("face.min_size", "Minimum face size", "Face height as a fraction of the frame; smaller faces are asked to come closer.", g(gt.MinFace), 0.05, 0.95),
		f("face.max_size", "Maximum face size", "Face height as a fraction of the frame; larger faces are asked to step back.", g(gt.MaxFace), 0.1, 1),
		f("face.blur", "Blur threshold", "Sharpness (variance of the Laplacian) below which a frame is too blurry.", g(gt.MinBlur), 0, 2000),
		f("face.max_yaw", "Max head turn", "Degrees left/right before \"look straight\".", g(gt.MaxYaw), 5, 90),
		f("face.max_pitch", "Max head tilt", "Degrees up/down before \"look straight\".", g(gt.MaxPitch), 5, 90),
		f("face.max_roll", "Max sideways tilt", "Degrees of eye-line tilt before \"look straight\".", g(gt.MaxRoll), 5, 90),
		f("face.max_movement", "Max movement", "Face centre shift between frames (fraction of face height) still counted as holding still.", g(gt.MaxMovement), 0.01, 1),
		f("face.min_brightness", "Minimum brightness", "Mean face brightness (0-255) below which it is too dark.", g(gt.MinBrightness), 0, 254),
		f("face.max_brightness", "Maximum brightness", "Mean face brightness (0-255) above which it is too bright.", g(gt.MaxBright), 1, 255),
		b("face.pose", "Head-pose check", "Run the head-pose network (about 15 ms a frame) for the turn and tilt limits.", kc.Pose),
		b("face.blink", "Blink required", "Wait for a blink before identifying (defeats printed photos).", kc.RequireBlink),
		f("face.liveness", "Liveness threshold", "Texture liveness score (0-1) below which a match needs second verification; 0 turns the check off.", g(kc.LivenessMin), 0, 1),
		f("face.accept", "Accept threshold", "Similarity that checks a person in directly (from the event's calibration).", g(kc.Accept), 0, 1),
		f("face.confirm", "Confirm threshold", "Similarity above which the kiosk asks \"Are you NAME?\"; must not exceed the accept threshold.", g(kc.Confirm), 0, 1),
		f("face.margin", "Margin", "Lead over the second-best person needed to check in without second verification.", g(kc.Margin), 0, 0.5),
	}
	for j := range face {
		face[j].Group = GroupFace
	}
	network := []SettingDef{
		{Key: "network.server_url", Label: "Server URL", Help: "Where check-ins are synced (set by pairing).", Type: TypeString, Check: checkURL, Restart: true},
		i("network.timeout", "Request timeout", "Seconds one request to the server may take.", 10, 1, 300),
		i("network.retries", "Retry count", "Retries of a failed request before it counts as offline.", 3, 0, 20),
		i("network.backoff_min", "Retry backoff (min)", "Milliseconds before the first retry; doubles with jitter.", 500, 10, 60000),
		i("network.backoff_max", "Retry backoff (max)", "Longest wait between retries, in seconds.", 30, 1, 3600),
		i("network.sync_interval", "Sync interval", "Seconds between gallery pulls and check-in pushes.", 15, 1, 3600),
		{Key: "network.tls_ca", Label: "TLS CA file", Help: "PEM file of a private CA the server's certificate uses; empty for the system CAs.", Type: TypeString, Check: checkFile, Restart: true},
	}
	for j := range network {
		network[j].Group, network[j].Restart = GroupNetwork, true
	}
	process := []SettingDef{
		// The camera follows a change at once in the window (Reapply).
		{Key: "process.camera", Label: "Camera", Help: "Camera index (0, 1, …; facecheck cameras lists them), video file or image folder.", Type: TypeString, Default: "0", Check: checkCamera},
		{Key: "process.camera_device", Label: "Camera name", Help: "Name and ID of the camera chosen from the list, to find it again when its index moves; empty for the index as is.", Type: TypeString, Check: checkCameraDevice, Hidden: true},
		{Key: "process.camera_backend", Label: "Camera backend", Help: "How cameras are opened: auto is DirectShow on Windows (msmf: Media Foundation), AVFoundation on macOS, V4L2 on Linux.", Type: TypeChoice, Default: "auto", Choices: camera.Choices()},
		{Key: "process.width", Label: "Capture width", Help: "Pixels requested from the camera; 0 keeps its default.", Type: TypeInt, Default: "0", Min: 0, Max: 4096, Restart: true},
		{Key: "process.height", Label: "Capture height", Help: "Pixels requested from the camera; 0 keeps its default.", Type: TypeInt, Default: "0", Min: 0, Max: 4096, Restart: true},
		i("process.skip_frames", "Frames to skip", "Analyse one frame in N+1 (saves CPU on slow machines).", kc.SkipFrames, 0, 10),
		i("process.still_frames", "Stillness frames", "Good frames in a row that make \"holding still\".", kc.StillFrames, 1, 30),
		i("process.fuse_frames", "Frames fused", "Good frames whose features are averaged for one identification.", kc.FuseFrames, 1, 10),
		{Key: "process.fusion", Label: "Fusion", Help: "How the frames are combined: max takes each person's best score over the frames, mean searches with their average.", Type: TypeChoice, Default: string(kc.Fusion), Choices: []string{string(FusionMax), string(FusionMean)}},
		f("process.early_lead", "Early decision lead", "How far above the accept threshold (and the margin above its minimum) one still frame must score to check in without waiting for the frames fused; 0 always waits.", g(kc.EarlyLead), 0, 0.5),
		i("process.leave_frames", "Leave frames", "Frames without a face that end an approach.", kc.LeaveFrames, 1, 100),
		i("process.prompt_frames", "Prompt hysteresis", "Frames a prompt must persist before it shows (no flicker).", kc.PromptFrames, 0, 30),
		i("process.dim_timeout", "Dimming timeout", "Seconds without a face before the screen dims.", 10, 1, 600),
		{Key: "process.language", Label: "Language", Help: "Language of the kiosk screens.", Type: TypeChoice, Default: "en", Choices: []string{"en", "ja", "ko"}},
		b("process.second_verify", "Second verification", "Ask risky matches (low margin, liveness doubt) for the QR code or short code of their registration.", kc.SecondVerify),
		b("process.verify_repeat", "Verify repeat check-ins", "A person already checked in today must show their QR code or short code.", kc.VerifyRepeat),
		b(api.SettingCaptureTemplates, "Keep check-in captures", "Send the features (never the image) of a face check-in to the server, which keeps them as the attendee's second template when the event allows it and the attendee agreed.", kc.CaptureTemplates),
		i("process.verify_timeout", "Verification timeout", "Seconds to show the QR code or type the short code; 0 waits until the person leaves.", int(kc.VerifyTimeout/time.Second), 0, 600),
	}
	for j := range process {
		process[j].Group = GroupProcess
	}
	return append(append(face, network...), process...)
}

// Lookup returns the setting with key.
func Lookup(key string) (SettingDef, bool) {
	for _, d := range Registry() {
		if d.Key == key {
			return d, true
		}
	}
	return SettingDef{}, false
}

// Values are settings by key (every registry key once Load filled them).
type Values map[string]string

// SettingsStore is the part of *storage.DB the settings use.
type SettingsStore interface {
	GetSettings(ctx context.Context) (map[string]storage.Setting, error)
	SetSetting(ctx context.Context, key, value, actor string) error
	ResetSetting(ctx context.Context, key, actor string) error
}

var _ SettingsStore = (*storage.DB)(nil)

// Defaults returns every setting's built-in default.
func Defaults() Values {
	v := Values{}
	for _, d := range Registry() {
		v[d.Key] = d.Default
	}
	return v
}

// Load merges built-in defaults < the event's server defaults < local
// overrides. A stored value that no longer validates (a range changed, a
// bad server default) is skipped, and reported in the returned warnings;
// unknown keys are ignored.
func Load(ctx context.Context, st SettingsStore) (Values, []error, error) {
	stored, err := st.GetSettings(ctx)
	if err != nil {
		return nil, nil, err
	}
	v := Defaults()
	var warn []error
	for _, src := range []string{storage.SourceServer, storage.SourceLocal} {
		for _, d := range Registry() {
			s, ok := stored[d.Key]
			if !ok || s.Source != src {
				continue
			}
			if err := d.Validate(s.Value); err != nil {
				warn = append(warn, fmt.Errorf("ignoring the %s value: %w", src, err))
				continue
			}
			v[d.Key] = strings.TrimSpace(s.Value)
		}
	}
	return v, warn, nil
}

// Applied is what a set of values configures.
type Applied struct {
	Kiosk  Config
	Engine engine.Config
}

// Apply turns values (missing keys take their defaults) into the kiosk and
// engine configurations, starting from base (whose CodeKey, Location and
// other fields without a setting are kept). It validates every value and
// the rules across settings (confirm ≤ accept, min face < max face, min
// brightness < max brightness).
func Apply(values Values, base Applied) (Applied, error) {
	all := Defaults()
	for k, x := range values {
		if _, ok := all[k]; !ok {
			return Applied{}, fmt.Errorf("unknown setting %q", k)
		}
		all[k] = strings.TrimSpace(x)
	}
	for _, d := range Registry() {
		if err := d.Validate(all[d.Key]); err != nil {
			return Applied{}, err
		}
	}
	fl := func(k string) float32 { x, _ := strconv.ParseFloat(all[k], 32); return float32(x) }
	in := func(k string) int { x, _ := strconv.Atoi(all[k]); return x }
	bo := func(k string) bool { x, _ := strconv.ParseBool(all[k]); return x }
	a := base
	c, gt, e := &a.Kiosk, &a.Kiosk.Gates, &a.Engine
	e.Confidence, e.TopK, e.NMSIoU = fl("face.confidence"), in("face.top_k"), fl("face.nms")
	gt.MinFace, gt.MaxFace, gt.MinBlur = fl("face.min_size"), fl("face.max_size"), fl("face.blur")
	gt.MaxYaw, gt.MaxPitch, gt.MaxRoll = fl("face.max_yaw"), fl("face.max_pitch"), fl("face.max_roll")
	gt.MaxMovement = fl("face.max_movement")
	gt.MinBrightness, gt.MaxBright = fl("face.min_brightness"), fl("face.max_brightness")
	c.Pose, c.RequireBlink, c.LivenessMin = bo("face.pose"), bo("face.blink"), fl("face.liveness")
	c.Accept, c.Confirm, c.Margin = fl("face.accept"), fl("face.confirm"), fl("face.margin")
	c.SkipFrames, c.StillFrames, c.FuseFrames = in("process.skip_frames"), in("process.still_frames"), in("process.fuse_frames")
	c.LeaveFrames, c.PromptFrames = in("process.leave_frames"), in("process.prompt_frames")
	c.SecondVerify, c.VerifyRepeat = bo("process.second_verify"), bo("process.verify_repeat")
	c.EarlyLead, c.CaptureTemplates = fl("process.early_lead"), bo(api.SettingCaptureTemplates)
	c.Fusion = Fusion(all["process.fusion"])
	c.VerifyTimeout = time.Duration(in("process.verify_timeout")) * time.Second
	switch {
	case c.Confirm > c.Accept:
		return Applied{}, fmt.Errorf("confirm threshold (face.confirm) %s must not exceed Accept threshold (face.accept) %s", all["face.confirm"], all["face.accept"])
	case gt.MinFace >= gt.MaxFace:
		return Applied{}, fmt.Errorf("minimum face size (face.min_size) %s must be below Maximum face size (face.max_size) %s", all["face.min_size"], all["face.max_size"])
	case gt.MinBrightness >= gt.MaxBright:
		return Applied{}, fmt.Errorf("minimum brightness (face.min_brightness) %s must be below Maximum brightness (face.max_brightness) %s", all["face.min_brightness"], all["face.max_brightness"])
	}
	if err := c.Validate(); err != nil {
		return Applied{}, err
	}
	if err := e.Validate(); err != nil {
		return Applied{}, err
	}
	return a, nil
}

// Set validates value for key (alone and with the other current values)
// and stores it as a local override, audited under actor.
func Set(ctx context.Context, st SettingsStore, key, value, actor string) error {
	return SetMany(ctx, st, Values{key: value}, actor)
}

// SetMany validates changes together with the stored values (so raising
// confirm and accept at once works) and stores each as a local override,
// audited under actor. Nothing is stored when any value is invalid.
func SetMany(ctx context.Context, st SettingsStore, changes Values, actor string) error {
	cur, _, err := Load(ctx, st)
	if err != nil {
		return err
	}
	for k, v := range changes {
		d, ok := Lookup(k)
		if !ok {
			return fmt.Errorf("unknown setting %q", k)
		}
		if err := d.Validate(v); err != nil {
			return err
		}
		cur[k] = strings.TrimSpace(v)
	}
	if _, err := Apply(cur, Applied{Kiosk: DefaultConfig(), Engine: engine.DefaultConfig()}); err != nil {
		return err
	}
	for _, d := range Registry() { // registry order: a stable audit log
		if v, ok := changes[d.Key]; ok {
			if err := st.SetSetting(ctx, d.Key, strings.TrimSpace(v), actor); err != nil {
				return err
			}
		}
	}
	return nil
}
