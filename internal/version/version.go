// Package version says which build of facecheck is running: the release
// version, the commit and the build date. scripts/package sets them with
// -ldflags -X; a plain `go build` falls back to what the Go toolchain
// records in the binary (runtime/debug.ReadBuildInfo: the module version
// and the VCS commit and time), so a source build still names its commit.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time by scripts/package:
//
//	-X github.com/facecheck/facecheck/internal/version.version=1.0.0
//	-X github.com/facecheck/facecheck/internal/version.commit=<sha>
//	-X github.com/facecheck/facecheck/internal/version.date=<RFC 3339>
var version, commit, date string

// Info is one build's identity.
type Info struct {
	Version string // "1.0.0", or "dev" for a source build
	Commit  string // full commit hash, "+dirty" when built from a modified tree; "" if unknown
	Date    string // build (or, for a source build, commit) time, RFC 3339; "" if unknown
	Go      string // the Go release that built it
}

// Get returns the running binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, date, bi)
}

// resolve prefers the link-time values and fills what is missing from the
// build info.
func resolve(v, c, d string, bi *debug.BuildInfo) Info {
	in := Info{Version: v, Commit: c, Date: d, Go: runtime.Version()}
	if bi != nil {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		var rev, when string
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if in.Commit == "" && rev != "" {
			in.Commit = rev
			if dirty {
				in.Commit += "+dirty"
			}
		}
		if in.Date == "" {
			in.Date = when
		}
		if bi.GoVersion != "" {
			in.Go = bi.GoVersion
		}
	}
	if in.Version == "" {
		in.Version = "dev"
	}
	return in
}

// String is the one line `--version` prints:
// "facecheck 1.0.0 (commit 0123abcdef01, built 2026-12-05T08:00:00Z, go1.26.8)".
func (in Info) String() string {
	return fmt.Sprintf("%s (commit %s, built %s, %s)", in.Version, orUnknown(short(in.Commit)), orUnknown(in.Date), in.Go)
}

// Short is what a kiosk reports to the server (at most 64 characters, the
// server's bound): "1.0.0+0123abcdef01", or "dev+0123abcdef01".
func (in Info) Short() string {
	s := in.Version
	if c := short(in.Commit); c != "" {
		s += "+" + c
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

func short(c string) string {
	rev, dirty := strings.CutSuffix(c, "+dirty")
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
