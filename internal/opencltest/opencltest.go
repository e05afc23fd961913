// Package opencltest decides what a test does when OpenCL is missing: skip
// with the reason, or fail when the environment says OpenCL must be there
// (CI sets MASKINV_REQUIRE_OPENCL=1 after installing a loader and PoCL),
// so that a missing driver is never mistaken for a pass.
package opencltest

import (
	"os"
	"testing"
)

// RequireEnv is the variable that turns a missing OpenCL into a failure.
const RequireEnv = "MASKINV_REQUIRE_OPENCL"

// Required reports whether the environment requires OpenCL.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Unavailable ends the test because OpenCL (or a usable device) is missing:
// a failure when Required, else a skip. reason says why.
func Unavailable(tb testing.TB, reason error) {
	tb.Helper()
	if Required() {
		tb.Fatalf("OpenCL required (%s=1) but unavailable: %v", RequireEnv, reason)
	}
	tb.Skipf("SKIP: OpenCL unavailable, device tests did not run (set %s=1 to make this a failure): %v", RequireEnv, reason)
}
