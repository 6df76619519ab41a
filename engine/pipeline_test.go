package engine_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/testenv"
)

func newEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	e, err := engine.New(testenv.Models(tb), engine.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

func loadFace(tb testing.TB, rel string) engine.Image {
	tb.Helper()
	im, err := engine.LoadImage(filepath.Join(testenv.Faces(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	return im
}

func encode(tb testing.TB, e *engine.Engine, rel string) engine.Encoded {
	tb.Helper()
	enc, err := e.Encode(loadFace(tb, rel))
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return enc
}

func TestEncodeSeparatesPeople(t *testing.T) {
	e := newEngine(t)
	a1 := encode(t, e, "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	a2 := encode(t, e, "images/colin_powell/lfw_Colin_Powell_0002.jpg")
	b1 := encode(t, e, "images/jennifer_lopez/lfw_Jennifer_Lopez_0001.jpg")
	same := engine.Cosine(a1.Embedding, a2.Embedding)
	diff := engine.Cosine(a1.Embedding, b1.Embedding)
	if same < 0.45 || diff > 0.3 {
		t.Errorf("same person %.3f (want >= 0.45), different people %.3f (want <= 0.3)", same, diff)
	}
	var n float64
	for _, x := range a1.Embedding {
		n += float64(x) * float64(x)
	}
	if n < 0.999 || n > 1.001 {
		t.Errorf("embedding norm² %.4f, want 1", n)
	}
	// Boxes are in frame pixels and landmarks inside the box's neighbourhood.
	b := a1.Face.Box
	if b.X1 < 0 || b.Y1 < 0 || b.X2 > 250 || b.Y2 > 250 || b.W() < 50 {
		t.Errorf("box %+v not a face-sized box inside a 250x250 LFW photo", b)
	}
	five := a1.Landmarks.Five()
	if !(five[0].X < five[2].X && five[2].X < five[1].X && five[2].Y < five[3].Y) {
		t.Errorf("landmark geometry wrong: %+v", five)
	}
}

func TestAlignPutsEyesOnReference(t *testing.T) {
	e := newEngine(t)
	im := loadFace(t, "images/colin_powell/lfw_Colin_Powell_0003.jpg")
	enc, err := e.Encode(im)
	if err != nil {
		t.Fatal(err)
	}
	al, err := e.Align(im, enc.Landmarks)
	if err != nil {
		t.Fatal(err)
	}
	if al.W != 112 || al.H != 112 {
		t.Fatalf("aligned %dx%d", al.W, al.H)
	}
	// Landmarks found again on the aligned face sit near the reference points.
	faces, err := e.Detect(padded(al, 56))
	if err != nil || len(faces) == 0 {
		t.Fatalf("no face in the aligned crop: %v", err)
	}
	lm, err := e.Landmarks(padded(al, 56), faces[0])
	if err != nil {
		t.Fatal(err)
	}
	f := lm.Five()
	ref := [][2]float32{{38.29 + 56, 51.70 + 56}, {73.53 + 56, 51.50 + 56}}
	for i, r := range ref {
		if dx, dy := f[i].X-r[0], f[i].Y-r[1]; dx*dx+dy*dy > 6*6 {
			t.Errorf("eye %d at (%.1f,%.1f), reference (%.1f,%.1f)", i, f[i].X, f[i].Y, r[0], r[1])
		}
	}
}

// padded surrounds im with a gray border of p pixels.
func padded(im engine.Image, p int) engine.Image {
	out := engine.Image{W: im.W + 2*p, H: im.H + 2*p}
	out.Pix = bytes.Repeat([]byte{100}, out.W*out.H*3)
	for y := 0; y < im.H; y++ {
		copy(out.Pix[((y+p)*out.W+p)*3:], im.Pix[y*im.W*3:(y+1)*im.W*3])
	}
	return out
}

func TestDetectGroups(t *testing.T) {
	e := newEngine(t)
	dir := filepath.Join(testenv.Faces(t), "groups")
	tests := []struct {
		file    string
		atLeast int
	}{
		{"face_recognition__two_people.jpg", 2},
		{"deepface__couple.jpg", 2},
		{"face-api.js__bbt1.jpg", 4},
		{"facenet-pytorch__multiface.jpg", 5},
	}
	for _, tt := range tests {
		im, err := engine.LoadImage(filepath.Join(dir, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		faces, err := e.Detect(im)
		if err != nil {
			t.Fatal(err)
		}
		if len(faces) < tt.atLeast {
			t.Errorf("%s: %d faces, want >= %d", tt.file, len(faces), tt.atLeast)
		}
		for i := 1; i < len(faces); i++ {
			if faces[i].Box.Area() > faces[i-1].Box.Area() {
				t.Errorf("%s: faces not sorted largest first", tt.file)
			}
		}
		a, err := e.Analyze(im, engine.AnalyzeOptions{Gates: engine.DefaultGates()})
		if err != nil {
			t.Fatal(err)
		}
		if tt.file == "face_recognition__two_people.jpg" && !hasReason(a.Issues, engine.ReasonManyFaces) {
			t.Errorf("%s: issues %v, want many_faces", tt.file, a.Issues)
		}
	}
}

func hasReason(is []engine.Issue, r engine.Reason) bool {
	for _, i := range is {
		if i.Reason == r {
			return true
		}
	}
	return false
}

func TestEyesAndPoseOnDevFaces(t *testing.T) {
	e := newEngine(t)
	// Ordinary frontal photos: eyes open, head roughly straight.
	for _, rel := range []string{
		"images/colin_powell/lfw_Colin_Powell_0001.jpg",
		"images/jennifer_lopez/lfw_Jennifer_Lopez_0002.jpg",
		"images/alejandro_toledo/lfw_Alejandro_Toledo_0004.jpg",
	} {
		im := loadFace(t, rel)
		enc := encode(t, e, rel)
		eyes, err := e.Eyes(im, enc.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		if eyes.Left < 0.5 || eyes.Right < 0.5 {
			t.Errorf("%s: eyes open %.2f/%.2f, want both > 0.5", rel, eyes.Left, eyes.Right)
		}
		pose, err := e.Pose(im, enc.Face, enc.Landmarks)
		if err != nil {
			t.Fatal(err)
		}
		if abs(pose.Yaw) > 25 || abs(pose.Roll) > 20 || abs(pose.EyeRoll) > 20 {
			t.Errorf("%s: pose %+v, want a near-frontal head", rel, pose)
		}
		live, err := e.Liveness(im, enc.Face)
		if err != nil || live < 0 || live > 1 {
			t.Errorf("%s: liveness %v %v", rel, live, err)
		}
	}
	// The same face mirrored has the opposite yaw sign (or both near zero).
	im := loadFace(t, "images/alejandro_toledo/lfw_Alejandro_Toledo_0005.jpg")
	enc := encode(t, e, "images/alejandro_toledo/lfw_Alejandro_Toledo_0005.jpg")
	p1, _ := e.Pose(im, enc.Face, enc.Landmarks)
	m := mirror(im)
	encM, err := e.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := e.Pose(m, encM.Face, encM.Landmarks)
	if p1.Yaw*p2.Yaw > 0 && abs(p1.Yaw) > 8 {
		t.Errorf("yaw %.1f and mirrored %.1f have the same sign", p1.Yaw, p2.Yaw)
	}
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func mirror(im engine.Image) engine.Image {
	out := engine.Image{W: im.W, H: im.H, Pix: make([]byte, len(im.Pix))}
	for y := 0; y < im.H; y++ {
		for x := 0; x < im.W; x++ {
			copy(out.Pix[(y*im.W+x)*3:(y*im.W+x)*3+3], im.Pix[(y*im.W+im.W-1-x)*3:])
		}
	}
	return out
}

// pngHeader is a valid PNG signature and IHDR chunk claiming w x h; the
// decoder must refuse on the header alone, before allocating pixels.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestBadInput(t *testing.T) {
	e := newEngine(t)
	face := loadFace(t, "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	jpg, err := os.ReadFile(filepath.Join(testenv.Faces(t), "images/colin_powell/lfw_Colin_Powell_0001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	gray := image.NewGray(image.Rect(0, 0, face.W, face.H))
	rgba := image.NewNRGBA(image.Rect(0, 0, face.W, face.H))
	for i := 0; i < face.W*face.H; i++ {
		b, g, r := face.Pix[3*i], face.Pix[3*i+1], face.Pix[3*i+2]
		gray.Pix[i] = uint8((299*int(r) + 587*int(g) + 114*int(b)) / 1000)
		rgba.Pix[4*i], rgba.Pix[4*i+1], rgba.Pix[4*i+2], rgba.Pix[4*i+3] = r, g, b, 255
	}
	blank := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range blank.Pix {
		blank.Pix[i] = 128
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr error // nil: a face must be found
	}{
		{"empty", nil, engine.ErrBadImage},
		{"text", []byte("hello, I am not an image"), engine.ErrBadImage},
		{"truncated jpeg", jpg[:len(jpg)/3], engine.ErrBadImage},
		{"1x1", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1))), engine.ErrBadImage},
		{"10000x10000 header", pngHeader(10000, 10000), engine.ErrBadImage},
		{"grayscale face", encodePNG(t, gray), nil},
		{"RGBA face", encodePNG(t, rgba), nil},
		{"no face", encodePNG(t, blank), engine.ErrNoFace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := engine.DecodeImage(tt.data)
			if err == nil {
				_, err = e.Encode(im)
			}
			if !errors.Is(err, tt.wantErr) && !(tt.wantErr == nil && err == nil) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if err != nil && err.Error() == "" {
				t.Fatal("empty error message")
			}
		})
	}
	// Frames that bypass decoding are checked too.
	for _, im := range []engine.Image{{}, {W: 10, H: 10, Pix: make([]byte, 5)}} {
		if _, err := e.Detect(im); !errors.Is(err, engine.ErrBadImage) {
			t.Errorf("Detect(%dx%d, %d bytes) = %v, want ErrBadImage", im.W, im.H, len(im.Pix), err)
		}
	}
	// A large photo is scaled down, not rejected.
	big := image.NewNRGBA(image.Rect(0, 0, 3000, 2500))
	im, err := engine.DecodeImage(encodePNG(t, big))
	if err != nil || max(im.W, im.H) != engine.MaxSide {
		t.Errorf("3000x2500: %dx%d %v, want scaled to %d", im.W, im.H, err, engine.MaxSide)
	}
	_ = color.Black
}

func FuzzDecodeImage(f *testing.F) {
	for _, s := range [][]byte{nil, []byte("GIF89a"), pngHeader(20, 20), pngHeader(1<<30, 1<<30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := engine.DecodeImage(b)
		if err == nil && !im.Valid() {
			t.Fatalf("decoded an invalid image %dx%d", im.W, im.H)
		}
		if err != nil && !errors.Is(err, engine.ErrBadImage) {
			t.Fatalf("error not ErrBadImage: %v", err)
		}
	})
}

func BenchmarkDetect(b *testing.B) {
	e := newEngine(b)
	im := engine.Downscale(loadFace(b, "groups/face_recognition__two_people.jpg"), 640)
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Detect(im); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	e := newEngine(b)
	im := loadFace(b, "images/colin_powell/lfw_Colin_Powell_0001.jpg")
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Encode(im); err != nil {
			b.Fatal(err)
		}
	}
}
