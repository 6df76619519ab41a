package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/facecheck/facecheck/api"
	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/models"
	"github.com/facecheck/facecheck/server"
)

// engineEncoder implements server.FaceEncoder with a pool of engines: an
// Engine serves one goroutine at a time, so concurrent registrations each
// borrow one (and wait when all are busy).
type engineEncoder struct {
	pool chan *engine.Engine
	all  []*engine.Engine
}

var _ server.FaceEncoder = (*engineEncoder)(nil)

func newEngineEncoder(modelDir string, n int) (*engineEncoder, error) {
	st, err := models.Open(modelDir)
	if err != nil {
		return nil, err
	}
	enc := &engineEncoder{pool: make(chan *engine.Engine, n)}
	for i := 0; i < n; i++ {
		e, err := engine.New(st, engine.DefaultConfig())
		if err != nil {
			enc.Close()
			return nil, err
		}
		enc.all = append(enc.all, e)
		enc.pool <- e
	}
	return enc, nil
}

// Encode takes an engine first, then decodes the photo and runs it through
// the registration gates: decoding happens inside the slot, so at most n
// photos are decoded at once, each within engine.MaxDecodeBytes.
func (p *engineEncoder) Encode(ctx context.Context, img []byte) (api.Template, error) {
	var e *engine.Engine
	select {
	case e = <-p.pool:
	case <-ctx.Done():
		return api.Template{}, ctx.Err()
	}
	defer func() { p.pool <- e }()
	im, err := engine.DecodeImage(img)
	if errors.Is(err, engine.ErrImageTooLarge) {
		return api.Template{}, &server.Rejection{Reason: server.ReasonTooLarge, Detail: err.Error()}
	}
	if err != nil {
		return api.Template{}, &server.Rejection{Reason: server.ReasonNotAnImage, Detail: err.Error()}
	}
	enc, err := e.EnrolPhoto(im)
	var rej *engine.RejectedError
	if errors.As(err, &rej) {
		is := rej.Issues[0]
		return api.Template{}, &server.Rejection{Reason: serverReason(is.Reason), Detail: is.String()}
	}
	if err != nil {
		return api.Template{}, fmt.Errorf("encode registration photo: %w", err)
	}
	t, err := engine.Quantize(enc.Embedding)
	if err != nil {
		return api.Template{}, fmt.Errorf("encode registration photo: %w", err)
	}
	return api.Template{Model: t.Model, Version: t.Version, Data: t.Bytes()}, nil
}

// serverReason maps an engine gate to the registration page's reason codes.
func serverReason(r engine.Reason) string {
	switch r {
	case engine.ReasonNoFace:
		return server.ReasonNoFace
	case engine.ReasonManyFaces:
		return server.ReasonManyFaces
	case engine.ReasonBlur:
		return server.ReasonBlurry
	case engine.ReasonTooSmall:
		return server.ReasonTooSmall
	case engine.ReasonTooBig:
		return server.ReasonTooBig
	case engine.ReasonCut:
		return server.ReasonCut
	case engine.ReasonEyesClosed:
		return server.ReasonEyesClosed
	case engine.ReasonYaw, engine.ReasonPitch, engine.ReasonRoll:
		return server.ReasonTurnedAway
	case engine.ReasonTooDark:
		return server.ReasonTooDark
	case engine.ReasonTooBright:
		return server.ReasonTooBright
	}
	return string(r)
}

// Close releases every engine.
func (p *engineEncoder) Close() {
	for _, e := range p.all {
		e.Close()
	}
}
