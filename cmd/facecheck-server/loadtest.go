package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/facecheck/facecheck/server/loadtest"
)

// runLoadtest is `facecheck-server loadtest [flags]`: simulated kiosks on
// loopback against a real server (see package server/loadtest). It returns
// the exit code: 0 when the store matches what the kiosks were told, 1 when
// a check-in was lost or duplicated (or the run failed), 2 on bad flags.
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := loadtest.DefaultConfig()
	fs := flag.NewFlagSet("facecheck-server loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "", "target a running server (http://127.0.0.1:PORT); default: start one in-process on 127.0.0.1")
	fs.StringVar(&cfg.DataDir, "data", "", "data directory (SQLite file, server.key); default a temporary directory, removed afterwards; with --url the server's --data")
	fs.StringVar(&cfg.DSN, "db", "", "PostgreSQL URL (postgres://...); default SQLite in --data")
	fs.IntVar(&cfg.Attendees, "attendees", cfg.Attendees, "attendees seeded (one random template each)")
	fs.IntVar(&cfg.Kiosks, "kiosks", cfg.Kiosks, "simulated kiosks")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "check-in phase, after every kiosk has synced")
	fs.DurationVar(&cfg.ThinkMin, "think-min", cfg.ThinkMin, "least pause before a check-in batch")
	fs.DurationVar(&cfg.ThinkMax, "think-max", cfg.ThinkMax, "longest pause before a check-in batch")
	fs.IntVar(&cfg.MaxBatch, "max-batch", cfg.MaxBatch, "check-ins per batch at most")
	fs.Float64Var(&cfg.ReplayRate, "replay", cfg.ReplayRate, "share of posts that replay an earlier batch")
	fs.DurationVar(&cfg.PollEvery, "poll", cfg.PollEvery, "delta-feed poll and heartbeat interval per kiosk")
	fs.IntVar(&cfg.OpenSample, "open-sample", cfg.OpenSample, "sealed templates per kiosk opened and compared")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed (0: time-based)")
	jsonFile := fs.String("json", "", "also write the figures as JSON to this file")
	quiet := fs.Bool("quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments: %v\n", fs.Args())
		return 2
	}
	if !*quiet {
		cfg.Log = stderr
	}
	rep, err := loadtest.Run(ctx, cfg)
	if rep != nil {
		rep.WriteText(stdout)
		if *jsonFile != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if werr := os.WriteFile(*jsonFile, append(b, '\n'), 0o644); werr != nil {
				fmt.Fprintln(stderr, "loadtest:", werr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	if !rep.Verify.OK {
		return 1
	}
	return 0
}
