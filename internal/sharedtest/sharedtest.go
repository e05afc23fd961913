// Package sharedtest finds the read-only ../shared folder (datasets, models,
// golden outputs) for tests, and skips them with a clear reason when it is
// absent, so that a missing folder is never mistaken for a pass. It also
// reads the golden reference there (LoadReference).
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/testfile"
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

// RefFace is one face of shared/golden/reference.json: what a reference
// runtime computed with the shared models (see golden/README.md).
type RefFace struct {
	Key         string       `json:"key"`
	Source      string       `json:"source"`  // the photo, relative to shared/
	Aligned     string       `json:"aligned"` // its 112×112 crop, relative to shared/golden/
	Embedding   []float32    `json:"embedding"`
	Box         [4]float64   `json:"box_x1y1x2y2"`
	Landmarks68 [][2]float64 `json:"landmarks68"`
	Landmarks5  [][2]float64 `json:"landmarks5"`
}

// Reference is shared/golden/reference.json.
type Reference struct {
	ModelSHA256 string    `json:"model_sha256"`
	Runtime     string    `json:"runtime"`
	Items       []RefFace `json:"items"`
}

// LoadReference reads shared/golden/reference.json and returns it with
// the shared folder. It skips when the file is absent and fails the test
// when it does not parse or holds no faces.
func LoadReference(tb testing.TB) (shared string, ref Reference) {
	tb.Helper()
	testfile.ReadJSON(tb, Path(tb, "golden", "reference.json"), &ref)
	if len(ref.Items) == 0 {
		tb.Fatal("shared/golden/reference.json holds no faces")
	}
	return Dir(tb), ref
}
