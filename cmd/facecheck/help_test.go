package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelpExitsZero: --help of every command prints its usage and exits 0
// (it was 1 for ui, eval, kiosk, demo and bench); kiosk's --headless no
// longer claims to be required; the top usage says how to choose the
// window's language.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"ui", "--help"}, {"eval", "--help"}, {"kiosk", "--help"},
		{"demo", "--help"}, {"bench", "--help"}, {"eval", "--open-set", "--help"}, {"cameras", "--help"}} {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, &out, &errb)
		if code := exitCode(err, &errb); code != 0 {
			t.Errorf("facecheck %s: exit %d (%v)", strings.Join(args, " "), code, err)
		}
		if out.Len()+errb.Len() == 0 {
			t.Errorf("facecheck %s printed no usage", strings.Join(args, " "))
		}
		if len(args) == 1 && !strings.Contains(errb.String()+out.String(), "--lang en|ja|ko") {
			t.Errorf("facecheck --help does not say how to choose the language:\n%s%s", out.String(), errb.String())
		}
		if args[0] == "kiosk" && (!strings.Contains(errb.String()+out.String(), "-headless") || strings.Contains(errb.String()+out.String(), "required for now")) {
			t.Errorf("kiosk --help:\n%s%s", out.String(), errb.String())
		}
	}
}
