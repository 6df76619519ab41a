package camera

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxDevices bounds a listing: no machine has more cameras than this, and
// a broken enumerator cannot make the kiosk loop or allocate without end.
const MaxDevices = 64

// Device is one camera.
type Device struct {
	// Index is what OpenCV opens the device with, using this system's
	// default backend (DefaultBackend).
	Index int
	// Name is the device's own name ("Logitech HD Pro Webcam C920").
	Name string
	// ID is what stays the same for this device while its index moves,
	// where the system gives one: the sysfs device path on Linux (fixed
	// per USB port), the device instance ID on Windows, the unique ID on
	// macOS. Empty when unknown.
	ID string
}

// String is the device as a person reads it in a list: "1: Name".
func (d Device) String() string { return fmt.Sprintf("%d: %s", d.Index, d.Name) }

// Ref is what the kiosk stores beside the index to find this camera again:
// "Name (ID)", or the name alone without an ID. It reads well in the
// settings' audit log; ParseRef splits it.
func (d Device) Ref() string {
	id := d.ID
	if strings.ContainsAny(id, "()") {
		id = "" // an ID ParseRef could not split back is left out
	}
	if id == "" && !strings.HasSuffix(d.Name, ")") {
		return d.Name
	}
	return d.Name + " (" + id + ")" // "Cam (front) ()": the name's own parentheses stay in it
}

// ParseRef splits a Ref into name and ID. IDs hold no parentheses, so the
// ID is the last parenthesised group; a name may hold some.
func ParseRef(ref string) (name, id string) {
	ref = strings.TrimSpace(ref)
	if strings.HasSuffix(ref, ")") {
		if i := strings.LastIndex(ref, " ("); i >= 0 && !strings.ContainsAny(ref[i+2:len(ref)-1], "()") {
			return ref[:i], ref[i+2 : len(ref)-1]
		}
	}
	return ref, ""
}

// Match is how Resolve found the camera.
type Match int

const (
	// NotFound: no device has the stored ID or name; the stored index is
	// all there is.
	NotFound Match = iota
	// ByID: the same physical device (same ID), wherever its index went.
	ByID
	// ByName: a device of the same name (the same model, perhaps another
	// unit or another port).
	ByName
)

// Resolve finds the camera stored as ref at index among devs, as a product
// that remembers a chosen camera does: the device with the same ID first
// (the same unit, even when plugging order moved its index); else one with
// the same name, preferring the one still at index (two cameras of one
// model are told apart by where they were); else NotFound with index
// unchanged, and the caller says so. An empty ref is just the index.
func Resolve(devs []Device, ref string, index int) (int, Match) {
	name, id := ParseRef(ref)
	if name == "" && id == "" {
		return index, NotFound
	}
	if id != "" {
		if i := slices.IndexFunc(devs, func(d Device) bool { return d.ID == id }); i >= 0 {
			return devs[i].Index, ByID
		}
	}
	same := func(d Device) bool { return d.Name == name }
	if i := slices.IndexFunc(devs, func(d Device) bool { return same(d) && d.Index == index }); i >= 0 {
		return index, ByName
	}
	if i := slices.IndexFunc(devs, same); i >= 0 {
		return devs[i].Index, ByName
	}
	return index, NotFound
}

// Lister lists the cameras of a system.
type Lister interface {
	List(ctx context.Context) ([]Device, error)
}

// ErrUnsupported is returned by List on a system without a camera listing.
var ErrUnsupported = errors.New("camera: listing cameras is not supported on this system")

// List lists this machine's cameras in index order.
func List(ctx context.Context) ([]Device, error) { return System().List(ctx) }

// bound sorts devs by index, drops repeated indices and keeps at most
// MaxDevices.
func bound(devs []Device) []Device {
	slices.SortStableFunc(devs, func(a, b Device) int { return a.Index - b.Index })
	devs = slices.CompactFunc(devs, func(a, b Device) bool { return a.Index == b.Index })
	if len(devs) > MaxDevices {
		devs = devs[:MaxDevices]
	}
	return devs
}

// cleanName trims a device name and bounds it; a device without one is
// "Camera N".
func cleanName(s string, index int) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 128 {
		s = strings.ToValidUTF8(s[:128], "")
	}
	if s == "" {
		return fmt.Sprintf("Camera %d", index)
	}
	return s
}
