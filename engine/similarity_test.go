package engine

import (
	"math"
	"testing"
)

// apply maps p through s.
func (s similarity) apply(p Point) Point {
	x, y := float64(p.X), float64(p.Y)
	return Point{
		X: float32(s[0][0]*x + s[0][1]*y + s[0][2]),
		Y: float32(s[1][0]*x + s[1][1]*y + s[1][2]),
	}
}

func sse(s similarity, src, dst []Point) float64 {
	var e float64
	for i := range src {
		p := s.apply(src[i])
		dx, dy := float64(p.X-dst[i].X), float64(p.Y-dst[i].Y)
		e += dx*dx + dy*dy
	}
	return e
}

// known is scale 0.4, rotation 20 degrees, translation (13, -7).
func known() similarity {
	c, s := 0.4*math.Cos(20*math.Pi/180), 0.4*math.Sin(20*math.Pi/180)
	return similarity{{c, -s, 13}, {s, c, -7}}
}

func TestFitSimilarityRecoversTransform(t *testing.T) {
	want := known()
	src := arcfaceRef[:]
	dst := make([]Point, len(src))
	for i, p := range src {
		dst[i] = want.apply(p)
	}
	got, err := fitSimilarity(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	for r := range got {
		for c := range got[r] {
			if math.Abs(got[r][c]-want[r][c]) > 1e-4 {
				t.Fatalf("fit = %v, want %v", got, want)
			}
		}
	}
}

// TestFitSimilarityUsesEveryPoint: with the mouth corners off a rigid
// fit (a smiling, turned face), the least-squares transform spreads the
// error over all five points. RANSAC with a 3 px threshold, which the
// alignment used before, fits the eyes and nose alone; that fit must
// leave a larger total error over the five points.
func TestFitSimilarityUsesEveryPoint(t *testing.T) {
	src := make([]Point, 5)
	for i, p := range arcfaceRef {
		src[i] = Point{X: p.X*2 + 200, Y: p.Y*2 + 100}
	}
	src[3].X -= 9
	src[4].X += 9
	src[3].Y += 6
	src[4].Y += 6
	dst := arcfaceRef[:]

	all, err := fitSimilarity(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	upper, err := fitSimilarity(src[:3], dst[:3])
	if err != nil {
		t.Fatal(err)
	}
	if a, u := sse(all, src, dst), sse(upper, src, dst); a >= u {
		t.Fatalf("squared error over five points: all-point fit %.2f, upper-face fit %.2f; want the all-point fit lower", a, u)
	}
	if d := math.Hypot(all[0][2]-upper[0][2], all[1][2]-upper[1][2]); d < 0.1 {
		t.Fatalf("mouth corners moved the fit by %.3f px; every point should count", d)
	}
}

func TestFitSimilarityRejects(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst []Point
	}{
		{"coincident points", []Point{{5, 5}, {5, 5}, {5, 5}}, arcfaceRef[:3]},
		{"one point", []Point{{1, 2}}, arcfaceRef[:1]},
		{"length mismatch", []Point{{1, 2}, {3, 4}}, arcfaceRef[:3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := fitSimilarity(tc.src, tc.dst); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
