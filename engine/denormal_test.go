package engine_test

import (
	"runtime"
	"testing"

	"github.com/facecheck/facecheck/engine"
)

//go:noinline
func scaleDown(x, k float32) float32 { return x * k }

// FlushDenormals really changes the calling thread's arithmetic: a product
// that would be denormal becomes zero, and turning it off restores it.
func TestFlushDenormals(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "386" {
		t.Skip("SSE control is x86 only")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !engine.FlushDenormals(true) {
		t.Fatal("FlushDenormals(true) unsupported on x86")
	}
	if got := scaleDown(1e-38, 1e-3); got != 0 {
		t.Errorf("with FTZ/DAZ 1e-38*1e-3 = %g, want 0", got)
	}
	engine.FlushDenormals(false)
	if got := scaleDown(1e-38, 1e-3); got == 0 {
		t.Error("without FTZ/DAZ the denormal product is still 0")
	}
}
