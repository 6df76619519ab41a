package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/facecheck/facecheck/kiosk"
)

// runKiosk is `facecheck kiosk --headless`: frames from a camera, a video or
// an image folder through the check-in state machine, one JSON line per
// event on stdout.
func runKiosk(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiosk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := kiosk.DefaultConfig()
	headless := fs.Bool("headless", false, "run without a display, JSON lines on stdout (required for now)")
	kf := addKioskFlags(fs, &cfg)
	camera, width, height, repeat := kf.camera, kf.width, kf.height, kf.repeat
	keyPath, sf := kf.keyPath, kf.sync
	autoConfirm := fs.String("auto-confirm", "no", `answer "Are you NAME?" with yes or no`)
	faces := fs.Bool("faces", false, "also write a line per frame with the face box")
	fs.IntVar(&cfg.StillFrames, "still", cfg.StillFrames, "good frames in a row that make holding still")
	fs.IntVar(&cfg.FuseFrames, "fuse", cfg.FuseFrames, "good frames embedded and fused")
	enrolLabels := fs.String("enrol-labels", "", "labels CSV (path,identity) to enrol people from before running")
	enrolRoot := fs.String("enrol-root", "", "image root of --enrol-labels")
	enrolFirst := fs.Int("enrol-first", 0, "enrol the first photo of the first N identities of --enrol-labels")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*headless {
		return fmt.Errorf("kiosk: only --headless is implemented; the display UI is a separate issue")
	}
	var yes bool
	switch *autoConfirm {
	case "yes":
		yes = true
	case "no":
	default:
		return fmt.Errorf("kiosk: --auto-confirm %q: want yes or no", *autoConfirm)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	parts, err := kf.open()
	if err != nil {
		return err
	}
	defer parts.Close()
	db, eng := parts.db, parts.eng
	if *enrolLabels != "" && *enrolFirst > 0 {
		pairing := *sf.pairingPath
		if pairing == "" {
			pairing = kiosk.PairingPathFor(*keyPath)
		}
		if err := kiosk.CheckLocalEnrol(pairing, *sf.pairCode); err != nil {
			return err
		}
		people, err := kiosk.ReadPeople(*enrolLabels)
		if err != nil {
			return err
		}
		done, err := kiosk.EnrolFirst(ctx, eng, db, people, *enrolRoot, *enrolFirst)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "kiosk: enrolled %d people\n", len(done))
	}
	gallery, err := kiosk.LoadGallery(ctx, db, 3)
	if err != nil {
		return err
	}
	out := &lockedWriter{w: stdout}
	ks, err := startSync(ctx, sf, *keyPath, db, gallery, out, nil, nil, stderr)
	if err != nil {
		return err
	}
	defer ks.Stop()
	if p := ks.s.Pairing(); p != nil {
		cfg.CodeKey = p.TemplateKey // second verification by short code / QR
	}
	_, applied, err := parts.applyStored(ctx, fs, cfg, "kiosk", stderr)
	if err != nil {
		return err
	}
	cfg = applied.Kiosk
	fmt.Fprintf(stderr, "kiosk: gallery of %d people\n", gallery.Len())
	k, err := kiosk.New(cfg, eng, gallery, db, time.Now)
	if err != nil {
		return err
	}
	cam, err := kiosk.OpenCamera(*camera, *width, *height, *repeat)
	if err != nil {
		return err
	}
	defer cam.Close()
	_, err = kiosk.RunHeadless(ctx, cam, k, kiosk.HeadlessOptions{AutoConfirm: yes, Faces: *faces}, out)
	return err
}

func float32Flag(p *float32) func(string) error {
	return func(s string) error {
		var v float64
		if _, err := fmt.Sscan(s, &v); err != nil {
			return err
		}
		*p = float32(v)
		return nil
	}
}

// overrideFromFlags puts the thresholds given on the command line over the
// stored settings. (--accept and friends are fs.Func flags, whose Value
// does not print the parsed number: it is read back from cfg.)
func overrideFromFlags(fs *flag.FlagSet, values map[string]string, cfg kiosk.Config) {
	given := map[string]string{
		"accept":  strconv.FormatFloat(float64(cfg.Accept), 'f', -1, 32),
		"confirm": strconv.FormatFloat(float64(cfg.Confirm), 'f', -1, 32),
		"margin":  strconv.FormatFloat(float64(cfg.Margin), 'f', -1, 32),
		"blink":   strconv.FormatBool(cfg.RequireBlink),
	}
	fs.Visit(func(f *flag.Flag) {
		if v, ok := given[f.Name]; ok {
			values["face."+f.Name] = v
		}
	})
}
