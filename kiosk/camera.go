package kiosk

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
