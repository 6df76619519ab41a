package engine

import "gocv.io/x/gocv"

// prepared holds per-frame conversions several steps share, made once.
type prepared struct {
	gray gocv.Mat
}

func (e *Engine) prepare(frame gocv.Mat) (*prepared, error) {
	p := &prepared{gray: gocv.NewMat()}
	gocv.CvtColor(frame, &p.gray, gocv.ColorBGRToGray)
	return p, nil
}

func (p *prepared) Close() { p.gray.Close() }
