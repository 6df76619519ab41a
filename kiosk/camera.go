package kiosk

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/facecheck/facecheck/camera"
	"github.com/facecheck/facecheck/engine"
)

// Camera is a source of frames. Read returns io.EOF when a finite source
// (video file, image folder) is exhausted; a device that stops answering
// returns an error wrapping engine.ErrCamera.
type Camera interface {
	Read() (engine.Image, error)
	Close() error
}

// OpenCamera opens source: a directory is a folder of images (each returned
// repeat times), anything else a device index ("0") or a video file.
func OpenCamera(source string, width, height, repeat int) (Camera, error) {
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		return OpenFolder(source, repeat)
	}
	return OpenVideo(source, width, height)
}

// CameraSpec is a frame source: a device index, video file or image
// folder, and for the demo a lead-in of empty frames.
type CameraSpec struct {
	Source                string
	Width, Height, Repeat int
	// Device is the chosen camera's camera.Device Ref ("Name (ID)"), kept
	// with its index so Open finds the same camera when the index moved
	// (another camera plugged in first); "" opens Source's index as is.
	Device string
	// Backend is the OpenCV capture API for a device (camera.Auto: the
	// system's default).
	Backend camera.Backend
	// Lister lists the cameras for Device (nil: this system's).
	Lister camera.Lister
	// LeadIn shows this many frames of an empty scene before each pass
	// of the source (the demo's idle screen between rounds).
	LeadIn int
}

// listTimeout bounds a camera listing before an open; macOS's takes about
// a second.
const listTimeout = 20 * time.Second

// Resolve finds the camera Device names among this machine's and returns
// the spec with Source set to the index it has now and Device cleared,
// and a line for the log when it is not where it was: moved to another
// index, or gone (then the stored index is opened, whatever camera is
// there now, so a kiosk keeps running on the camera it has). A spec
// without Device, or not a device index, comes back as it is.
func (c CameraSpec) Resolve(ctx context.Context) (CameraSpec, string) {
	idx, err := strconv.Atoi(c.Source)
	if c.Device == "" || err != nil {
		return c, ""
	}
	ref, l := c.Device, c.Lister
	c.Device = ""
	if l == nil {
		l = camera.System()
	}
	ctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	devs, err := l.List(ctx)
	name, _ := camera.ParseRef(ref)
	if err != nil {
		return c, fmt.Sprintf("camera %q: cannot list the cameras (%v); opening index %d", name, err, idx)
	}
	n, m := camera.Resolve(devs, ref, idx)
	c.Source = strconv.Itoa(n)
	switch {
	case m == camera.NotFound:
		return c, fmt.Sprintf("camera %q is not connected (%d cameras found); opening index %d", name, len(devs), idx)
	case n != idx:
		return c, fmt.Sprintf("camera %q is now at index %d (was %d)", name, n, idx)
	}
	return c, ""
}

// Open opens the source (a device found again by Device first), behind
// its lead-in.
func (c CameraSpec) Open() (Camera, error) {
	c, _ = c.Resolve(context.Background())
	cam, err := c.open()
	if err != nil || c.LeadIn <= 0 {
		return cam, err
	}
	return &leadInCamera{Camera: cam, n: c.LeadIn}, nil
}

func (c CameraSpec) open() (Camera, error) {
	if st, err := os.Stat(c.Source); err == nil && st.IsDir() {
		return OpenFolder(c.Source, c.Repeat)
	}
	if idx, err := strconv.Atoi(c.Source); err == nil {
		v, err := engine.OpenDevice(idx, c.Backend, c.Width, c.Height)
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	return OpenVideo(c.Source, c.Width, c.Height)
}

// Camera is the current frame source, its device found again by name
// (Resolve); where it moved or is gone is logged once.
func (s *Station) Camera() CameraSpec {
	s.mu.Lock()
	c := s.camera
	s.mu.Unlock()
	c, note := c.Resolve(context.Background())
	s.mu.Lock()
	changed := note != s.cameraNote
	s.cameraNote = note
	s.mu.Unlock()
	if changed && note != "" {
		s.printf("%s", note)
	}
	return c
}

// followCamera takes the camera from the settings in force: the backend
// always (--camera-backend is an override of it), the device when the
// command line named none. It reports whether the camera changed.
// Only a change of those settings moves the camera: a camera chosen on
// the error screen (UseCamera) stays when other settings change.
func (s *Station) followCamera() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := [3]string{s.values["process.camera_backend"], s.values["process.camera"], s.values["process.camera_device"]}
	last := s.cameraSettings
	s.cameraSettings = &v
	c := s.camera
	if b, err := camera.ParseBackend(v[0]); err == nil && (last == nil || last[0] != v[0]) {
		c.Backend = b
	}
	if s.cfg.CameraFromSettings && (last == nil || last[1] != v[1] || last[2] != v[2]) {
		c.Source, c.Device = v[1], v[2]
	}
	changed := c.Source != s.camera.Source || c.Device != s.camera.Device || c.Backend != s.camera.Backend
	s.camera = c
	return changed
}

// OpenVideo opens a device index or a video file through engine.OpenVideo.
func OpenVideo(source string, width, height int) (Camera, error) {
	v, err := engine.OpenVideo(source, width, height)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Folder replays the .jpg/.jpeg/.png files of a directory in name order,
// each Repeat times, to simulate a person standing still in front of the
// camera; then io.EOF.
type Folder struct {
	files  []string
	repeat int
	i, n   int
	cur    engine.Image
	loaded bool
}

// OpenFolder lists the images of dir; repeat < 1 means 1.
func OpenFolder(dir string, repeat int) (*Folder, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: image folder: %v", engine.ErrCamera, err)
	}
	var files []string
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png":
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: image folder %s holds no .jpg or .png file", engine.ErrCamera, dir)
	}
	return &Folder{files: files, repeat: max(1, repeat)}, nil
}

// Read returns the next frame.
func (f *Folder) Read() (engine.Image, error) {
	if f.loaded && f.n >= f.repeat {
		f.i++
		f.loaded, f.n = false, 0
	}
	if f.i >= len(f.files) {
		return engine.Image{}, io.EOF
	}
	if !f.loaded {
		im, err := engine.LoadImage(f.files[f.i])
		if err != nil {
			return engine.Image{}, fmt.Errorf("image folder: %s: %w", f.files[f.i], err)
		}
		f.cur, f.loaded = im, true
	}
	f.n++
	return f.cur, nil
}

// Close does nothing; it is there for Camera.
func (f *Folder) Close() error { return nil }

// leadInCamera shows n frames of an empty scene before its camera's, so a
// demo round starts with nobody there (the idle screen).
type leadInCamera struct {
	Camera
	n  int
	im engine.Image
}

func (c *leadInCamera) Read() (engine.Image, error) {
	if c.n <= 0 {
		return c.Camera.Read()
	}
	if !c.im.Valid() {
		first, err := c.Camera.Read()
		if err != nil {
			return first, err
		}
		c.im = engine.Image{W: first.W, H: first.H, Pix: make([]byte, len(first.Pix))}
		for i := 0; i+2 < len(c.im.Pix); i += 3 { // the fixture's backdrop, BGR
			c.im.Pix[i], c.im.Pix[i+1], c.im.Pix[i+2] = 104, 96, 90
		}
	}
	c.n--
	return c.im, nil
}

// FPS is the wrapped video's rate, so the runner paces the demo as filmed.
func (c *leadInCamera) FPS() float64 {
	if v, ok := c.Camera.(interface{ FPS() float64 }); ok {
		return v.FPS()
	}
	return 0
}
