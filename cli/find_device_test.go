package cli

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/gallery/clkernel"
	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/model"
)

// findScoreTolerance is how far a find score on an OpenCL device may be
// from the CPU's: the search's scores are the CPU kernels' within float32
// rounding, but the queries are embedded on the device, within cosine
// 0.99999 of the CPU engine's embeddings.
const findScoreTolerance = 1e-4

// TestFindOnOpenCLDevice: find --device opencl searches on the device
// (searchKernel picks the device kernel there, OpenBLAS on the CPU) and
// answers as --device cpu does on the demo store: the same queries, faces
// and errors, the whole gallery ranked in the same order (rows whose CPU
// scores are within the tolerance may swap) with scores within it.
func TestFindOnOpenCLDevice(t *testing.T) {
	if _, err := model.Devices(); err != nil {
		opencltest.Unavailable(t, err)
	}
	dev, err := model.OpenDevice(model.DeviceSpec{Kind: model.DeviceOpenCL, Platform: -1, Device: -1}, model.DeviceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	for _, d := range []*model.Device{model.CPU(), dev} {
		k, closeKernel, err := searchKernel(d)
		if err != nil {
			t.Fatal(err)
		}
		_, onDevice := k.(*clkernel.Kernel)
		_, scans := k.(gallery.Scanner)
		closeKernel()
		if onDevice != !d.IsCPU() || scans != onDevice {
			t.Fatalf("models on %s: find searches with %T", d, k)
		}
	}

	demo := demoFolder(t)
	st := filepath.Join(t.TempDir(), "store")
	mustRun(t, "embed", "--device", "cpu", "--out", st, demo)
	queries := []string{
		filepath.Join(demo, "Colin_Powell", "Colin_Powell_0001.jpg"),
		filepath.Join(demo, "Serena_Williams", "Serena_Williams_0002.jpg"),
		filepath.Join(demo, "SOURCE.md"), // not a photo: its error, on both
	}
	args := append([]string{"find", "--json", "--k", "12", "--gallery", st}, queries...)
	onCPU, _ := mustRun(t, append([]string{args[0], "--device", "cpu"}, args[1:]...)...)
	onCL, stderr := mustRun(t, append([]string{args[0], "--device", "opencl"}, args[1:]...)...)
	if !strings.Contains(stderr, "device: opencl:") {
		t.Errorf("stderr %q does not name the OpenCL device", stderr)
	}
	want, got := jsonLines[app.FindResult](t, onCPU), jsonLines[app.FindResult](t, onCL)
	if len(got) != len(want) || len(want) != len(queries) {
		t.Fatalf("%d results on the device, %d on the CPU, for %d queries", len(got), len(want), len(queries))
	}
	for i, w := range want {
		g := got[i]
		if g.Query != w.Query || g.Face != w.Face || g.Error != w.Error || len(g.Hits) != len(w.Hits) {
			t.Fatalf("query %d: device %+v, CPU %+v", i, g, w)
		}
		if w.Error == "" && len(w.Hits) != 12 {
			t.Fatalf("%s: %d hits, want the 12 demo photos", w.Query, len(w.Hits))
		}
		checkSameRanking(t, w.Query, g.Hits, w.Hits)
	}
}

// checkSameRanking fails unless got ranks the rows of want in its order,
// where rows may swap only when their scores in want are within
// findScoreTolerance, and every score is within it of want's for its row.
func checkSameRanking(t *testing.T, query string, got, want []gallery.Hit) {
	t.Helper()
	score := map[int]float32{}
	for _, h := range want {
		score[h.Row] = h.Score
	}
	for j, h := range got {
		s, ok := score[h.Row]
		switch {
		case !ok:
			t.Errorf("%s: hit %d is row %d, not among the CPU's hits", query, j, h.Row)
		case math.Abs(float64(h.Score-s)) > findScoreTolerance:
			t.Errorf("%s: row %d scores %v on the device, %v on the CPU", query, h.Row, h.Score, s)
		case h.Row != want[j].Row && math.Abs(float64(s-want[j].Score)) > findScoreTolerance:
			t.Errorf("%s: hit %d is row %d (%v on the CPU), the CPU's is row %d (%v)", query, j, h.Row, s, want[j].Row, want[j].Score)
		case h.Path != want[j].Path && h.Row == want[j].Row:
			t.Errorf("%s: row %d is %s on the device, %s on the CPU", query, h.Row, h.Path, want[j].Path)
		}
	}
}
