package eval

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/testfile"
)

// testProtocols returns the three masking protocols with increasingly
// overlapping score distributions, from a fixed seed.
func testProtocols() []Protocol {
	rng := rand.New(rand.NewPCG(3, 5))
	var ps []Protocol
	for i, name := range []string{"blr-blr", "blr-m", "m-m"} {
		p := Protocol{Name: name}
		for k := range 600 {
			same := k%2 == 0
			mu := 0.05
			if same {
				mu = 0.7 - 0.15*float64(i)
			}
			p.Scores = append(p.Scores, mu+0.15*rng.NormFloat64())
			p.Same = append(p.Same, same)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestWritePlots(t *testing.T) {
	dir := t.TempDir()
	protos := testProtocols()
	writers := []struct {
		name  string
		write func(string, []Protocol, int, int) error
	}{
		{"roc", WriteROC}, {"det", WriteDET},
	}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			path := filepath.Join(dir, w.name+".png")
			if err := w.write(path, protos, 640, 480); err != nil {
				t.Fatal(err)
			}
			checkPNG(t, path, 640, 480)
		})
	}
	// Only the three charts: no temporary files left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(writers) {
		for _, e := range entries {
			t.Log(e.Name())
		}
		t.Errorf("%d files in the output dir, want %d", len(entries), len(writers))
	}
}

func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	if b := testfile.ReadPNG(t, path).Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
}

func TestWritePlotReplaces(t *testing.T) {
	// Writing over an existing chart replaces it whole.
	path := filepath.Join(t.TempDir(), "roc.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteROC(path, testProtocols()[:1], 300, 200); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 300, 200)
}

func TestDETPerfectSeparation(t *testing.T) {
	// Every DET point has a zero rate: nothing to draw on log axes, but
	// the chart must still render.
	p := []Protocol{{Name: "perfect", Scores: []float64{0.9, 0.8, 0.1, 0.2}, Same: []bool{true, true, false, false}}}
	path := filepath.Join(t.TempDir(), "det.png")
	if err := WriteDET(path, p, 320, 240); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 320, 240)
}

func TestWritePlotErrors(t *testing.T) {
	dir := t.TempDir()
	// A protocol with one class has no ROC.
	bad := []Protocol{{Name: "bad", Scores: []float64{0.1}, Same: []bool{true}}}
	if err := WriteROC(filepath.Join(dir, "bad.png"), bad, 100, 100); err == nil {
		t.Error("one-class protocol: no error")
	}
	// Missing directory: error, and nothing written anywhere.
	if err := WriteROC(filepath.Join(dir, "missing", "roc.png"), testProtocols(), 100, 100); err == nil {
		t.Error("missing directory: no error")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left after failed writes", len(entries))
	}
}
