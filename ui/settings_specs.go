package ui

import "github.com/facecheck/facecheck/kiosk"

// overlayLimits are the kiosk settings the preview overlays show as
// limits (the face-size boxes, the limits next to the live measures).
var overlayLimits = map[string]Limit{
	"face.min_size":       LimitMinFace,
	"face.max_size":       LimitMaxFace,
	"face.blur":           LimitMinBlur,
	"face.min_brightness": LimitMinBrightness,
	"face.max_brightness": LimitMaxBrightness,
	"face.max_yaw":        LimitMaxYaw,
	"face.max_pitch":      LimitMaxPitch,
	"face.max_roll":       LimitMaxRoll,
}

// SettingSpecs maps every kiosk setting (kiosk.Registry) to the settings
// pane with its current value; a setting that needs a restart says so.
func SettingSpecs(values kiosk.Values) []SettingSpec {
	var out []SettingSpec
	for _, d := range kiosk.Registry() {
		if d.Hidden {
			continue // set by another field (the camera's name, by the camera field)
		}
		help := d.Help
		if d.Type == kiosk.TypeChoice || d.Type == kiosk.TypeBool {
			help += " (" + d.Range() + ")"
		}
		if d.Restart {
			help += " Takes effect after a restart."
		}
		v, ok := values[d.Key]
		if !ok {
			v = d.Default
		}
		spec := SettingSpec{Key: d.Key, Label: d.Label, Help: help, Value: v, Validate: d.Validate, Limit: overlayLimits[d.Key]}
		if d.Key == cameraKey {
			spec.Device = values[cameraDeviceKey]
		}
		if d.Type == kiosk.TypeFloat || d.Type == kiosk.TypeInt {
			spec.Min, spec.Max = d.Min, d.Max
		}
		out = append(out, spec)
	}
	return out
}
