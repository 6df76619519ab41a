package camera

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestRefRoundTrip(t *testing.T) {
	for _, d := range []Device{
		{Name: "HD Pro Webcam C920", ID: "devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0"},
		{Name: "Integrated Camera (front)", ID: `USB\VID_04F2&PID_B6D9&MI_00\6&2C1A&0&0000`},
		{Name: "Integrated Camera (front)"},
		{Name: "FaceTime HD Camera", ID: "0x8020000005ac8514"},
	} {
		name, id := ParseRef(d.Ref())
		if name != d.Name || id != d.ID {
			t.Errorf("ParseRef(%q) = %q, %q; want %q, %q", d.Ref(), name, id, d.Name, d.ID)
		}
	}
	// An ID with parentheses cannot be split back: the name alone is kept.
	if got := (Device{Name: "Cam", ID: "a(b)"}).Ref(); got != "Cam" {
		t.Errorf("Ref with a parenthesised ID = %q, want the name alone", got)
	}
}

// TestResolve: the camera chosen in the settings is found again when
// plugging order moved its index, by ID first, then by name.
func TestResolve(t *testing.T) {
	front := Device{Index: 0, Name: "Integrated Camera", ID: "usb1/1-6"}
	c920a := Device{Index: 2, Name: "HD Pro Webcam C920", ID: "usb1/1-2"}
	c920b := Device{Index: 4, Name: "HD Pro Webcam C920", ID: "usb1/1-3"}
	devs := []Device{front, c920a, c920b}
	for _, tc := range []struct {
		name  string
		ref   string
		index int
		want  int
		match Match
	}{
		{"NoRef", "", 3, 3, NotFound},
		{"SameIDMoved", Device{Name: c920b.Name, ID: c920b.ID}.Ref(), 2, 4, ByID},
		{"SameIDInPlace", c920a.Ref(), 2, 2, ByID},
		{"NameAtIndex", "HD Pro Webcam C920 (usb2/2-1)", 4, 4, ByName},
		{"NameElsewhere", "HD Pro Webcam C920", 7, 2, ByName},
		{"NameWithoutID", "Integrated Camera", 5, 0, ByName},
		{"Gone", "Brio 4K (usb9/9-1)", 1, 1, NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, m := Resolve(devs, tc.ref, tc.index)
			if got != tc.want || m != tc.match {
				t.Errorf("Resolve(%q, %d) = %d, %v; want %d, %v", tc.ref, tc.index, got, m, tc.want, tc.match)
			}
		})
	}
}

func TestParseBackend(t *testing.T) {
	for _, s := range []string{"", "auto", " AUTO "} {
		if b, err := ParseBackend(s); err != nil || b != Auto {
			t.Errorf("ParseBackend(%q) = %q, %v; want auto", s, b, err)
		}
	}
	for _, b := range Backends() {
		if got, err := ParseBackend(strings.ToUpper(string(b))); err != nil || got != b {
			t.Errorf("ParseBackend(%q) = %q, %v", b, got, err)
		}
	}
	if _, err := ParseBackend("gstreamer"); err == nil || !strings.Contains(err.Error(), "not one of this system's") {
		t.Errorf("ParseBackend(gstreamer) = %v, want an error naming this system's backends", err)
	}
	want := map[string]Backend{"linux": V4L2, "windows": DirectShow, "darwin": AVFoundation}[runtime.GOOS]
	if got := Auto.Resolve(); got != want {
		t.Errorf("the default backend on %s is %q, want %q", runtime.GOOS, got, want)
	}
}

// TestSysfs lists the fake sysfs tree of testdata/sysfs: two UVC webcams
// (a video and a metadata node each), a Raspberry Pi codec (a
// memory-to-memory node, no camera), a sensor subdevice and badly named
// nodes.
func TestSysfs(t *testing.T) {
	root := filepath.Join("testdata", "sysfs")
	front := Device{Index: 0, Name: "Integrated Camera: Integrated C", ID: "devices/pci0000_00/0000_00_14.0/usb1/1-6/1-6_1.0"}
	c920 := Device{Index: 2, Name: "HD Pro Webcam C920", ID: "devices/pci0000_00/0000_00_14.0/usb1/1-2/1-2_1.0"}
	codec := Device{Index: 10, Name: "bcm2835-codec-decode", ID: "devices/platform/soc/bcm2835-codec"}
	// What VIDIOC_QUERYCAP says of each node.
	caps := map[string]bool{"video0": true, "video1": false, "video2": true, "video3": false, "video10": false}
	for _, tc := range []struct {
		name  string
		query func(string) (bool, error)
		want  []Device
	}{
		{"QueryCap", func(node string) (bool, error) {
			c, ok := caps[filepath.Base(node)]
			if !ok {
				return false, fmt.Errorf("no node %s", node)
			}
			return c, nil
		}, []Device{front, c920}},
		// Without access to the nodes, each device's first node counts:
		// the codec is taken for a camera (it would fail to open).
		{"NoAccess", func(node string) (bool, error) { return false, os.ErrPermission }, []Device{front, c920, codec}},
		{"NoQuery", nil, []Device{front, c920, codec}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Sysfs{Root: root, Dev: "/nonexistent/dev", Query: tc.query}
			got, err := s.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if runtime.GOOS == "windows" { // a checkout without symlinks
				for i := range got {
					got[i].ID = ""
				}
				for i := range tc.want {
					tc.want[i].ID = ""
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	t.Run("NoVideo4Linux", func(t *testing.T) {
		got, err := (&Sysfs{Root: t.TempDir(), Dev: "/dev"}).List(context.Background())
		if err != nil || len(got) != 0 {
			t.Errorf("List of a sysfs without video4linux = %v, %v; want none, no error", got, err)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := (&Sysfs{Root: root}).List(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("List on a canceled context = %v", err)
		}
	})
}

// fakePnP is a SetupAPI enumerator with fixed answers.
type fakePnP struct {
	devices map[InterfaceClass][]PnPDevice
	err     error
}

func (f fakePnP) Devices(c InterfaceClass) ([]PnPDevice, error) { return f.devices[c], f.err }

// TestPnP: Windows' cameras are the capture devices that are video
// devices too, numbered in the capture class's order as DirectShow does.
func TestPnP(t *testing.T) {
	const (
		hello = `USB\VID_04F2&PID_B6D9&MI_00\6&2C1A&0&0000`
		mic   = `USB\VID_046D&PID_082D&MI_02\7&1B&0&0002`
		c920  = `USB\VID_046D&PID_082D&MI_00\7&1B&0&0000`
		tuner = `PCI\VEN_14F1&DEV_8880\4&2&0&00E0`
	)
	e := fakePnP{devices: map[InterfaceClass][]PnPDevice{
		ClassCapture: {{hello, "Integrated Webcam"}, {mic, "Microphone (HD Pro Webcam C920)"}, {c920, "HD Pro Webcam C920"}, {c920, "HD Pro Webcam C920"}, {"", "no id"}, {tuner, ""}},
		ClassVideo:   {{tuner, ""}, {c920, "HD Pro Webcam C920"}, {hello, "Integrated Webcam"}},
	}}
	got, err := (&PnP{Enum: e}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{{0, "Integrated Webcam", hello}, {1, "HD Pro Webcam C920", c920}, {2, "Camera 2", tuner}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	boom := errors.New("access denied")
	if _, err := (&PnP{Enum: fakePnP{err: boom}}).List(context.Background()); !errors.Is(err, boom) {
		t.Errorf("an enumerator error gave %v", err)
	}
	many := make([]PnPDevice, 3*MaxDevices)
	for i := range many {
		many[i] = PnPDevice{InstanceID: fmt.Sprint(i), Name: strings.Repeat("x", 300) + "\x00\n"}
	}
	got, err = (&PnP{Enum: fakePnP{devices: map[InterfaceClass][]PnPDevice{ClassCapture: many, ClassVideo: many}}}).List(context.Background())
	if err != nil || len(got) != MaxDevices || len(got[0].Name) != 128 {
		t.Errorf("an enumerator listing %d devices with long names gave %d devices (name %d bytes), %v", len(many), len(got), len(got[0].Name), err)
	}
}

// TestProfiler parses system_profiler's JSON as a Mac prints it.
func TestProfiler(t *testing.T) {
	read := func(name string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) {
			return os.ReadFile(filepath.Join("testdata", "system_profiler", name))
		}
	}
	got, err := (&Profiler{Run: read("two.json")}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{{0, "FaceTime HD Camera", "3F45E80A-0176-46F7-B185-BB9E2C0E436A"}, {1, "HD Pro Webcam C920", "0x14200000046d082d"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got, err := (&Profiler{Run: read("none.json")}).List(context.Background()); err != nil || len(got) != 0 {
		t.Errorf("no cameras: %v, %v", got, err)
	}
	for name, run := range map[string]func(context.Context) ([]byte, error){
		"NotJSON": func(context.Context) ([]byte, error) { return []byte("system_profiler: unknown data type"), nil },
		"TooBig":  func(context.Context) ([]byte, error) { return make([]byte, maxProfilerOutput+1), nil },
		"Failed":  func(context.Context) ([]byte, error) { return nil, errors.New("exit status 1") },
	} {
		if _, err := (&Profiler{Run: run}).List(context.Background()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
