package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/facecheck/facecheck/camera"
)

// runCameras is `facecheck cameras`: the cameras of this machine by index
// and name, for --camera and the settings pane's camera choice.
func runCameras(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cameras", stderr)
	ids := fs.Bool("ids", false, "also print each camera's ID (what finds it again when its index moves)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	devs, err := camera.List(ctx)
	if err != nil {
		return err
	}
	return printCameras(stdout, devs, *ids)
}

func printCameras(w io.Writer, devs []camera.Device, ids bool) error {
	backend := camera.DefaultBackend()
	if len(devs) == 0 {
		_, err := fmt.Fprintf(w, "no camera found (backend %s); a video file or an image folder works as --camera too\n", backend)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "index\tname"
	if ids {
		header += "\tid"
	}
	fmt.Fprintln(tw, header)
	for _, d := range devs {
		line := fmt.Sprintf("%d\t%s", d.Index, d.Name)
		if ids {
			line += "\t" + d.ID
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "indices as backend %s numbers them; open one with --camera INDEX\n", backend)
	return err
}
