// Package sharedtest finds the read-only ../shared folder (datasets, models,
// golden outputs) for tests, and skips them with a clear reason when it is
// absent, so that a missing folder is never mistaken for a pass.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared folder, looking for a sibling "shared" beside the
// repository (or any folder above the test's working directory), or skips.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("MASKINV_SHARED"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		tb.Skipf("SKIP: ../shared not found (%v): golden/dataset checks did not run", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared")
		if _, err := os.Stat(filepath.Join(cand, "README.md")); err == nil {
			return cand
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	tb.Skipf("SKIP: ../shared not found above %s: golden/dataset checks did not run", wd)
	return ""
}

// Path joins elements onto the shared folder and skips if that file is absent.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Dir(tb)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("SKIP: %s missing: %v", p, err)
	}
	return p
}
