package engine

import (
	"image"
	"net/url"
	"strings"
	"sync"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"gocv.io/x/gocv"
)

// QRReader finds and decodes a QR code in camera frames (the registration
// e-mail's code held up to the kiosk for second verification). OpenCV's
// QRCodeDetector locates the code; Debian's OpenCV 4.6 is built without
// the QUIRC library, so its DetectAndDecode finds codes but never decodes
// them (and logs "Library QUIRC is not linked" on every call): the region
// Detect found is decoded with the pure-Go ZXing port (gozxing) instead. It is safe for concurrent use; calls are
// serialised. Close releases the detector.
type QRReader struct {
	mu  sync.Mutex
	det gocv.QRCodeDetector
	ok  bool
}

// NewQRReader returns a reader with its own detector.
func NewQRReader() *QRReader {
	return &QRReader{det: gocv.NewQRCodeDetector(), ok: true}
}

// QRResult is what one frame showed: Found when a QR code's corners were
// located (someone is holding a code up), Text its payload when it could
// also be decoded.
type QRResult struct {
	Found bool
	Text  string
}

// Read looks for one QR code in im (BGR). A frame without a code is not an
// error; a frame that is not a valid image is (ErrBadImage).
func (r *QRReader) Read(im Image) (QRResult, error) {
	m, err := matView(im)
	if err != nil {
		return QRResult{}, err
	}
	defer keep(im)
	defer m.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ok {
		return QRResult{}, ErrClosedQR
	}
	pts := gocv.NewMat()
	defer pts.Close()
	if !r.det.Detect(m, &pts) {
		return QRResult{}, nil
	}
	return QRResult{Found: true, Text: zxingDecode(im, qrRegion(pts, im.W, im.H))}, nil
}

// qrRegion is the bounding box of the detector's corner points, padded by
// a quarter of its size (the quiet zone) and clipped to the frame; the
// whole frame when the points are unusable.
func qrRegion(pts gocv.Mat, w, h int) image.Rectangle {
	full := image.Rect(0, 0, w, h)
	if pts.Empty() || pts.Type() != gocv.MatTypeCV32FC2 {
		return full
	}
	v, err := pts.DataPtrFloat32()
	if err != nil || len(v) < 8 {
		return full
	}
	x0, y0, x1, y1 := v[0], v[1], v[0], v[1]
	for i := 0; i+1 < len(v); i += 2 {
		x0, x1 = min(x0, v[i]), max(x1, v[i])
		y0, y1 = min(y0, v[i+1]), max(y1, v[i+1])
	}
	px, py := (x1-x0)/4, (y1-y0)/4
	r := image.Rect(int(x0-px), int(y0-py), int(x1+px)+1, int(y1+py)+1).Intersect(full)
	if r.Dx() < 21 || r.Dy() < 21 {
		return full
	}
	return r
}

// zxingDecode decodes a QR code inside region of im, trying the whole frame
// when the region alone fails. It returns "" when nothing decodes.
func zxingDecode(im Image, region image.Rectangle) string {
	rgba := im.RGBA(false)
	try := func(src image.Image) string {
		bmp, err := gozxing.NewBinaryBitmapFromImage(src)
		if err != nil {
			return ""
		}
		res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{
			gozxing.DecodeHintType_TRY_HARDER: true})
		if err != nil {
			return ""
		}
		return res.GetText()
	}
	if region != rgba.Bounds() {
		if t := try(rgba.SubImage(region)); t != "" {
			return t
		}
	}
	return try(rgba)
}

// Close releases the detector; Read fails afterwards.
func (r *QRReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ok {
		return nil
	}
	r.ok = false
	return r.det.Close()
}

// ErrClosedQR is returned by Read after Close.
var ErrClosedQR = errClosedQR{}

type errClosedQR struct{}

func (errClosedQR) Error() string { return "engine: QR reader closed" }

// ShortCodeFromQR extracts the attendee's short code from a QR payload.
// The registration page encodes the bare short code; a URL carrying it as
// a "code" query parameter, or a "scheme:CODE" / ".../CODE" form, is also
// accepted so the payload can grow into a link without breaking kiosks.
// It returns "" when the payload holds nothing that looks like a code.
func ShortCodeFromQR(payload string) string {
	p := strings.TrimSpace(payload)
	if p == "" {
		return ""
	}
	if u, err := url.Parse(p); err == nil && u.Scheme != "" {
		if c := u.Query().Get("code"); c != "" {
			return strings.TrimSpace(c)
		}
		if u.Opaque != "" { // facecheck:CODE
			p = u.Opaque
		} else if u.Path != "" {
			p = u.Path
		}
	}
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexAny(p, "/:"); i >= 0 {
		p = p[i+1:]
	}
	p = strings.TrimSpace(p)
	if len(p) > 64 {
		return "" // not a short code
	}
	return p
}
