package engine

import (
	"fmt"

	"gocv.io/x/gocv"
)

// similarity is a 2x3 affine matrix restricted to rotation, uniform scale
// and translation: [a -b tx; b a ty].
type similarity [2][3]float64

// fitSimilarity returns the similarity transform that maps src onto dst
// with the least sum of squared distances over all points (the closed form
// of Umeyama's method, as insightface's norm_crop uses).
//
// It replaces cv::estimateAffinePartial2D, whose default RANSAC drops every
// point more than 3 px from a two-point fit: turned, tilted or smiling
// faces lost a mouth corner or the nose that way and were aligned on the
// eyes alone. Least squares raised verification and open-set accuracy on
// the dev faces (docs/performance.md, "Accuracy on the dev faces").
func fitSimilarity(src, dst []Point) (similarity, error) {
	if len(src) != len(dst) || len(src) < 2 {
		return similarity{}, fmt.Errorf("similarity: %d source and %d target points", len(src), len(dst))
	}
	n := float64(len(src))
	var msx, msy, mdx, mdy float64
	for i := range src {
		msx += float64(src[i].X)
		msy += float64(src[i].Y)
		mdx += float64(dst[i].X)
		mdy += float64(dst[i].Y)
	}
	msx, msy, mdx, mdy = msx/n, msy/n, mdx/n, mdy/n
	var spread, a, b float64
	for i := range src {
		xs, ys := float64(src[i].X)-msx, float64(src[i].Y)-msy
		xd, yd := float64(dst[i].X)-mdx, float64(dst[i].Y)-mdy
		spread += xs*xs + ys*ys
		a += xs*xd + ys*yd
		b += xs*yd - ys*xd
	}
	// Points closer together than a hundredth of a pixel carry no scale or
	// rotation: a landmark model that collapsed, not a face.
	if spread < 1e-4 {
		return similarity{}, fmt.Errorf("similarity: source points coincide")
	}
	a, b = a/spread, b/spread
	return similarity{
		{a, -b, mdx - (a*msx - b*msy)},
		{b, a, mdy - (b*msx + a*msy)},
	}, nil
}

// mat returns s as the CV_64F 2x3 Mat that warpAffine takes.
func (s similarity) mat() gocv.Mat {
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	for r := range s {
		for c := range s[r] {
			m.SetDoubleAt(r, c, s[r][c])
		}
	}
	return m
}
