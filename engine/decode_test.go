package engine_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"runtime"
	"testing"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/imagebomb"
)

// allocated runs f and returns the bytes the Go heap handed out meanwhile.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// Decompression bombs are refused on their header: no pixel memory is
// allocated for them. A huge JPEG is decoded at a reduced scale instead.
func TestDecodeImageBudget(t *testing.T) {
	hugeJPEG := func() []byte {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8000, 6000)), nil); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}()
	tests := []struct {
		name     string
		data     []byte
		wantErr  error
		wantW    int
		maxAlloc uint64
	}{
		{"6300x6300 RGB PNG bomb", imagebomb.PNG(6300, 6300, 8, imagebomb.RGB), engine.ErrImageTooLarge, 0, 1 << 20},
		{"16-bit PNG", imagebomb.PNG(1000, 1000, 16, imagebomb.RGB), engine.ErrImageTooLarge, 0, 1 << 20},
		{"16-bit gray PNG", imagebomb.PNG(300, 300, 16, imagebomb.Gray), engine.ErrImageTooLarge, 0, 1 << 20},
		{"3000x2500 RGB PNG", imagebomb.PNG(3000, 2500, 8, imagebomb.RGB), nil, engine.MaxSide, 64 << 20},
		// 8000x6000: decoded at 1/4 (2000x1500), then to 1920 wide; a
		// full decode would take 48 MB of gray plus 144 MB of BGR.
		{"48 MP JPEG", hugeJPEG, nil, engine.MaxSide, 24 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var im engine.Image
			var err error
			n := allocated(func() { im, err = engine.DecodeImage(tt.data) })
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, engine.ErrBadImage) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
			} else if err != nil || im.W != tt.wantW {
				t.Fatalf("%dx%d, %v; want width %d", im.W, im.H, err, tt.wantW)
			}
			if n > tt.maxAlloc {
				t.Errorf("decoding allocated %d MiB, want at most %d MiB", n>>20, tt.maxAlloc>>20)
			}
			t.Logf("%d KiB file: %d MiB allocated", len(tt.data)>>10, n>>20)
		})
	}
}
