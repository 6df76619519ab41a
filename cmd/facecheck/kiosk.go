package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/facecheck/facecheck/engine"
	"github.com/facecheck/facecheck/internal/enrol"
	"github.com/facecheck/facecheck/kiosk"
	"github.com/facecheck/facecheck/storage"
)

// runKiosk is `facecheck kiosk --headless`: frames from a camera, a video
// or an image folder through a kiosk.Station, one JSON line per event on
// stdout.
func runKiosk(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("kiosk", stderr)
	headless := fs.Bool("headless", false, "run without a display, JSON lines on stdout (without it: the kiosk window, as facecheck ui)")
	sf := addStationFlags(fs)
	autoConfirm := fs.String("auto-confirm", "no", `answer "Are you NAME?" with yes or no`)
	faces := fs.Bool("faces", false, "also write a line per frame with the face box")
	sf.setting(fs, "still", "process.still_frames", "good frames in a row that make holding still (default %s)")
	sf.setting(fs, "fuse", "process.fuse_frames", "good frames embedded and fused (default %s)")
	enrolLabels := fs.String("enrol-labels", "", "labels CSV (path,identity) to enrol people from before running")
	enrolRoot := fs.String("enrol-root", "", "image root of --enrol-labels")
	enrolFirst := fs.Int("enrol-first", 0, "enrol the first photo of the first N identities of --enrol-labels")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*headless {
		return fmt.Errorf("kiosk: only --headless is implemented; the window is `facecheck ui`")
	}
	if *autoConfirm != "yes" && *autoConfirm != "no" {
		return fmt.Errorf("kiosk: --auto-confirm %q: want yes or no", *autoConfirm)
	}
	out := kiosk.NewHeadlessOut(stdout)
	cfg := sf.cfg
	cfg.Log, cfg.OnEvent = stderr, out.SyncLine
	if *enrolLabels != "" && *enrolFirst > 0 {
		pairing := cfg.Pairing
		if pairing == "" {
			pairing = kiosk.PairingPathFor(cfg.Key)
		}
		if err := kiosk.CheckLocalEnrol(pairing, cfg.PairCode); err != nil {
			return err
		}
		cfg.Setup = func(ctx context.Context, eng *engine.Engine, db *storage.DB) (string, error) {
			people, err := enrol.ReadPeople(*enrolLabels)
			if err != nil {
				return "", err
			}
			done, err := enrol.First(ctx, eng, db, people, *enrolRoot, *enrolFirst, stderr)
			fmt.Fprintf(stderr, "kiosk: enrolled %d people\n", len(done))
			return "", err
		}
	}
	st, err := kiosk.OpenStation(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	st.StartSync(ctx) // beside the camera loop: frames never wait for the network
	cam, err := st.Camera().Open()
	if err != nil {
		return err
	}
	defer cam.Close()
	_, err = st.RunHeadless(ctx, cam, kiosk.HeadlessOptions{AutoConfirm: *autoConfirm == "yes", Faces: *faces}, out)
	return err
}
