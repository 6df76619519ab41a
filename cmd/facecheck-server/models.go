package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/facecheck/facecheck/models"
)

// runModels is `facecheck-server models fetch|verify [--dir DIR]`: the
// same download and check as `facecheck models`, so a server installed
// without the kiosk (the Debian package's unit runs it before the server
// starts) gets the models photo registration needs.
func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "fetch" && args[0] != "verify") {
		fmt.Fprintln(stderr, "usage: facecheck-server models fetch|verify [--dir DIR]")
		return 2
	}
	fs := flag.NewFlagSet("facecheck-server models "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "model directory (default $FACECHECK_MODELS or the user cache dir)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	st, err := models.Open(*dir)
	if err == nil && args[0] == "verify" {
		if err = st.Verify(); err == nil {
			fmt.Fprintf(stdout, "models: all %d verified in %s\n", len(st.Manifest.Models), st.Dir)
		}
	} else if err == nil {
		st.Progress = models.ProgressLine(stdout, models.IsTerminal(stdout))
		err = st.Fetch(ctx, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "facecheck-server:", err)
		return 1
	}
	return 0
}
