package engine

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"gocv.io/x/gocv"

	"github.com/facecheck/facecheck/camera"
)

// ErrCamera is returned when a camera or video cannot be opened or stops
// delivering frames.
var ErrCamera = errors.New("camera error")

// Video reads frames from a camera device or a video file. Read returns
// io.EOF at the end of a file.
type Video struct {
	cap    *gocv.VideoCapture
	mat    gocv.Mat
	source string
	device bool
}

// OpenVideo opens a device index ("0", "1", ...) with this system's
// default backend (camera.DefaultBackend), or a video file path.
// Width and height request a capture size from a device (0 keeps its default).
func OpenVideo(source string, width, height int) (*Video, error) {
	if idx, err := strconv.Atoi(source); err == nil {
		return OpenDevice(idx, camera.Auto, width, height)
	}
	c, err := gocv.VideoCaptureFile(source)
	if err != nil || c == nil || !c.IsOpened() {
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("%w: video %s cannot be opened: is it a readable video file?", ErrCamera, source)
	}
	return &Video{cap: c, mat: gocv.NewMat(), source: source}, nil
}

// captureAPIs are OpenCV's numbers for the backends camera names.
var captureAPIs = map[camera.Backend]gocv.VideoCaptureAPI{
	camera.Auto:            gocv.VideoCaptureAny,
	camera.V4L2:            gocv.VideoCaptureV4L2,
	camera.DirectShow:      gocv.VideoCaptureDshow,
	camera.MediaFoundation: gocv.VideoCaptureMSMF,
	camera.AVFoundation:    gocv.VideoCaptureAVFoundation,
}

// OpenDevice opens camera index (as camera.List numbers them) through
// backend (camera.Auto: this system's default, e.g. DirectShow on
// Windows), asking for width x height when both are set. A backend this
// system does not have is refused before OpenCV is asked.
func OpenDevice(index int, backend camera.Backend, width, height int) (*Video, error) {
	b := backend.Resolve()
	api, ok := captureAPIs[b]
	if !ok || (b != camera.Auto && !slices.Contains(camera.Backends(), b)) {
		return nil, fmt.Errorf("%w: camera backend %q is not available on this system", ErrCamera, backend)
	}
	if index < 0 || index >= camera.MaxDevices {
		return nil, fmt.Errorf("%w: camera index %d out of range 0-%d", ErrCamera, index, camera.MaxDevices-1)
	}
	c, err := gocv.OpenVideoCaptureWithAPI(index, api)
	if err != nil || c == nil || !c.IsOpened() {
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("%w: camera %d (%s) cannot be opened: is it plugged in and not used by another program?", ErrCamera, index, b)
	}
	if width > 0 && height > 0 {
		c.Set(gocv.VideoCaptureFrameWidth, float64(width))
		c.Set(gocv.VideoCaptureFrameHeight, float64(height))
	}
	return &Video{cap: c, mat: gocv.NewMat(), source: strconv.Itoa(index), device: true}, nil
}

// FPS is the source's frame rate as reported by OpenCV (0 when unknown).
func (v *Video) FPS() float64 { return v.cap.Get(gocv.VideoCaptureFPS) }

// Read returns the next frame, io.EOF at the end of a file, or ErrCamera
// when a device stops answering (unplugged).
func (v *Video) Read() (Image, error) {
	if ok := v.cap.Read(&v.mat); !ok || v.mat.Empty() {
		if v.device {
			return Image{}, fmt.Errorf("%w: camera %s returned no frame (unplugged?)", ErrCamera, v.source)
		}
		return Image{}, io.EOF
	}
	switch v.mat.Channels() {
	case 3:
		return imageFromMat(v.mat), nil
	case 1, 4:
		bgr := gocv.NewMat()
		defer bgr.Close()
		code := gocv.ColorGrayToBGR
		if v.mat.Channels() == 4 {
			code = gocv.ColorBGRAToBGR
		}
		gocv.CvtColor(v.mat, &bgr, code)
		return imageFromMat(bgr), nil
	}
	return Image{}, fmt.Errorf("%w: %d-channel frame", ErrBadImage, v.mat.Channels())
}

// Close releases the device or file.
func (v *Video) Close() error {
	v.mat.Close()
	return v.cap.Close()
}

// VideoWriter writes frames to an MJPG AVI file, a codec every OpenCV build
// can write and read without extra libraries.
type VideoWriter struct {
	w    *gocv.VideoWriter
	W, H int
}

// CreateVideo opens path for writing w x h frames at fps.
func CreateVideo(path string, fps float64, w, h int) (*VideoWriter, error) {
	vw, err := gocv.VideoWriterFile(path, "MJPG", fps, w, h, true)
	if err != nil || !vw.IsOpened() {
		return nil, fmt.Errorf("create video %s: %v", path, err)
	}
	return &VideoWriter{w: vw, W: w, H: h}, nil
}

// Write appends one frame; its size must match the writer's.
func (v *VideoWriter) Write(im Image) error {
	if im.W != v.W || im.H != v.H {
		return fmt.Errorf("write video frame: %dx%d, writer is %dx%d", im.W, im.H, v.W, v.H)
	}
	m, err := matView(im)
	if err != nil {
		return err
	}
	defer keep(im)
	defer m.Close()
	return v.w.Write(m)
}

// Close finishes the file.
func (v *VideoWriter) Close() error { return v.w.Close() }
