package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestProcessAdvances: work on the CPU moves the figure forward, never
// back.
func TestProcessAdvances(t *testing.T) {
	c0, ok := Process()
	if !supported {
		t.Skipf("SKIP: the CPU time is not read on %s", runtime.GOOS)
	}
	if !ok {
		t.Fatal("the OS gave no CPU time")
	}
	// Spin until the figure moves; the deadline only stops a broken clock
	// from hanging the test.
	x := 1.0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < 1e6; i++ {
			x = x*1.0000001 + 1e-9
		}
		c1, ok := Process()
		if !ok || c1 < c0 {
			t.Fatalf("CPU time went from %v to %v (ok %v)", c0, c1, ok)
		}
		if c1 > c0 {
			return
		}
	}
	t.Fatalf("CPU time stayed at %v after 10 s of work (%g)", c0, x)
}
