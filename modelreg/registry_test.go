package modelreg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/model"
)

// The embedded models' hashes (assets/models/PROVENANCE.md).
const (
	teacherSHA256 = "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"
	studentSHA256 = "d3a07def881366d3510845bc96251c9311a101f5fe148ffe1c641632678fe5b3"
)

// nEmbedded is how many models every list starts with.
const nEmbedded = 2

func writeModel(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func newRegistry(t testing.TB) (*Registry, string) {
	t.Helper()
	dir := t.TempDir()
	r := Open(filepath.Join(dir, "config", "maskinv", "models.json"))
	r.now = func() time.Time { return time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC) }
	return r, dir
}

// registryWith is a new registry that holds one model, data (written to
// dir as name), and a check that fails the test (what names the change)
// unless the list file is byte for byte what it was once the model was
// added.
func registryWith(t *testing.T, name string, data []byte) (r *Registry, dir string, unchanged func(t *testing.T, what string)) {
	t.Helper()
	r, dir = newRegistry(t)
	if _, _, err := r.Add(context.Background(), writeModel(t, dir, name, data)); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(r.Path())
	if err != nil {
		t.Fatal(err)
	}
	return r, dir, func(t *testing.T, what string) {
		t.Helper()
		after, err := os.ReadFile(r.Path())
		if err != nil || !bytes.Equal(after, before) {
			t.Fatalf("%s altered the list file (%v)", what, err)
		}
	}
}

// TestEmbeddedAlwaysListed: an empty list holds the teacher, then the
// student, each with its published threshold; neither can be removed,
// and listing writes nothing.
func TestEmbeddedAlwaysListed(t *testing.T) {
	r, dir := newRegistry(t)
	list, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != nEmbedded {
		t.Fatalf("empty registry lists %d models, want the teacher and the student", len(list))
	}
	want := []struct {
		name, sha string
		threshold float64
	}{{TeacherName, teacherSHA256, TeacherThreshold}, {StudentName, studentSHA256, StudentThreshold}}
	for i, w := range want {
		e := list[i]
		if e.Name != w.name || !e.Embedded || e.SHA256 != w.sha || e.Path != "" || e.OutputDim != 512 ||
			e.Threshold != w.threshold || e.ThresholdSource != ThresholdDefault || !e.Added.IsZero() ||
			!reflect.DeepEqual(e.Input, []int{1, 3, 112, 112}) {
			t.Errorf("entry %d: %+v, want %s", i, e, w.name)
		}
		// 0.442 GFLOP per face (docs/benchmarks.md): the student has the
		// teacher's graph.
		if e.FLOPs < 0.44e9 || e.FLOPs > 0.445e9 {
			t.Errorf("%s: FLOPs %v, want about 0.442e9", e.Name, e.FLOPs)
		}
		if err := r.Remove(w.sha); !errors.Is(err, ErrEmbedded) {
			t.Errorf("removing %s: %v, want ErrEmbedded", w.name, err)
		}
		if p, err := r.Published(w.sha); err != nil || p != w.threshold {
			t.Errorf("%s: published threshold %v, %v", w.name, p, err)
		}
		// Adding an embedded model's bytes as a file gives its entry.
		if e, _, err := r.Add(context.Background(), writeModel(t, dir, "copy.onnx", must(engine.BuiltInWithSHA256(w.sha)).Data)); err != nil || e.Name != w.name || !e.Embedded {
			t.Errorf("adding a copy of %s: %+v, %v", w.name, e, err)
		}
	}
	if _, err := r.Published(strings.Repeat("ab", 32)); !errors.Is(err, ErrThreshold) {
		t.Errorf("published threshold of another model: %v", err)
	}
	if _, err := os.Stat(r.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("listing wrote the file: %v", err)
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("not found")
	}
	return v
}

// TestRoundTrip adds models, sets thresholds every way, and reads the list
// back through a second Registry on the same file.
func TestRoundTrip(t *testing.T) {
	r, dir := newRegistry(t)
	a := convModel(3, 112, 112, 2, 16, 1)
	b := convModel(3, 112, 112, 4, 28, 2)
	pa := writeModel(t, dir, "student.onnx", a)
	pb := writeModel(t, dir, "other.onnx", b)
	ea, net, err := r.Add(context.Background(), pa)
	if err != nil {
		t.Fatal(err)
	}
	if net == nil || net.Hash() != sum(a) {
		t.Fatalf("Add returned net %v", net)
	}
	want := Entry{Name: "student.onnx", Path: pa, SHA256: sum(a), Input: []int{1, 3, 112, 112}, Layout: Layout,
		OutputDim: 2 * 7 * 7, FLOPs: 2 * (2 * 49) * (3 * 16 * 16), ThresholdSource: ThresholdNone, Added: r.now()}
	if !reflect.DeepEqual(ea, want) {
		t.Fatalf("added\n %+v\nwant\n %+v", ea, want)
	}
	if _, _, err := r.Add(context.Background(), pb); err != nil {
		t.Fatal(err)
	}
	cal := &Calibration{Dataset: "LFW View 2", Pairs: 6000, FoldThresholds: []float64{0.3, 0.31}, Accuracy: 0.99, AccuracyStd: 0.004}
	if _, err := r.SetThreshold(sum(a), 0.305, ThresholdLFW, cal); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetThreshold(sum(b), -0.1, ThresholdManual, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetThreshold(teacherSHA256, 0.25, ThresholdManual, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetThreshold(studentSHA256, 0.3, ThresholdManual, nil); err != nil {
		t.Fatal(err)
	}
	// The same bytes from another path: one entry, new path, threshold kept.
	moved := writeModel(t, dir, "moved.onnx", a)
	again, _, err := r.Add(context.Background(), moved)
	if err != nil {
		t.Fatal(err)
	}
	if again.Path != moved || again.Threshold != 0.305 {
		t.Errorf("re-added model: %+v", again)
	}

	r2 := Open(r.Path())
	list, err := r2.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 4 || list[0].SHA256 != teacherSHA256 || list[1].SHA256 != studentSHA256 || list[2].SHA256 != sum(a) || list[3].SHA256 != sum(b) {
		t.Fatalf("list %+v", list)
	}
	if list[0].Threshold != 0.25 || list[0].ThresholdSource != ThresholdManual {
		t.Errorf("teacher after a manual threshold: %+v", list[0])
	}
	if list[1].Threshold != 0.3 || list[1].ThresholdSource != ThresholdManual || !list[1].Embedded {
		t.Errorf("student after a manual threshold: %+v", list[1])
	}
	if e := list[2]; e.Threshold != 0.305 || e.ThresholdSource != ThresholdLFW || !reflect.DeepEqual(e.Calibration, cal) || e.Path != moved {
		t.Errorf("calibrated model: %+v", e)
	}
	if e := list[3]; e.Threshold != -0.1 || e.ThresholdSource != ThresholdManual || e.Calibration != nil || e.OutputDim != 4*4*4 {
		t.Errorf("manual model: %+v", e)
	}
	// Back to the defaults, then remove one.
	if _, err := r2.SetThreshold(teacherSHA256, TeacherThreshold, ThresholdDefault, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.SetThreshold(studentSHA256, StudentThreshold, ThresholdDefault, nil); err != nil {
		t.Fatal(err)
	}
	if err := r2.Remove(sum(b)); err != nil {
		t.Fatal(err)
	}
	list, err = r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ThresholdSource != ThresholdDefault || list[1].Threshold != StudentThreshold || list[1].ThresholdSource != ThresholdDefault || list[2].SHA256 != sum(a) {
		t.Fatalf("after reset and remove: %+v", list)
	}
	if err := r.Remove(sum(b)); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing twice: %v, want ErrNotFound", err)
	}
	if _, err := r.Get(sum(a)); err != nil {
		t.Error(err)
	}
}

func TestBadThresholds(t *testing.T) {
	a := convModel(3, 112, 112, 2, 16, 1)
	r, _, unchanged := registryWith(t, "a.onnx", a)
	cal := &Calibration{Dataset: "LFW View 2"}
	tests := []struct {
		name string
		hash string
		t    float64
		src  ThresholdSource
		cal  *Calibration
		want error
	}{
		{"above 1", sum(a), 1.5, ThresholdManual, nil, ErrThreshold},
		{"unknown source", sum(a), 0.3, "guess", nil, ErrThreshold},
		{"lfw without record", sum(a), 0.3, ThresholdLFW, nil, ErrThreshold},
		{"record without lfw", sum(a), 0.3, ThresholdManual, cal, ErrThreshold},
		{"default for a file", sum(a), TeacherThreshold, ThresholdDefault, nil, ErrThreshold},
		{"teacher's default for the student", studentSHA256, TeacherThreshold, ThresholdDefault, nil, ErrThreshold},
		{"student's default for the teacher", teacherSHA256, StudentThreshold, ThresholdDefault, nil, ErrThreshold},
		{"none with a value", sum(a), 0.3, ThresholdNone, nil, ErrThreshold},
		{"unknown model", strings.Repeat("0", 64), 0.3, ThresholdManual, nil, ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.SetThreshold(tc.hash, tc.t, tc.src, tc.cal); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			unchanged(t, "refused change")
		})
	}
}

// TestRefusedModels: a corrupt or wrong-shape ONNX gets the engine's error
// and leaves the list file byte for byte as it was.
func TestRefusedModels(t *testing.T) {
	good := convModel(3, 112, 112, 2, 16, 1)
	r, dir, unchanged := registryWith(t, "good.onnx", good)
	tests := []struct {
		name string
		data []byte
		want error  // nil: any error naming the file
		text string // in the message
	}{
		{"not ONNX", []byte("this is not a model"), nil, "decode ONNX"},
		{"truncated", good[:len(good)/2], nil, "decode ONNX"},
		{"64×64 input", convModel(3, 64, 64, 2, 16, 1), engine.ErrModelInput, "[1 3 64 64]"},
		{"grey input", convModel(1, 112, 112, 2, 16, 1), engine.ErrModelInput, "[1 1 112 112]"},
		{"empty file", nil, nil, "bad.onnx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeModel(t, dir, "bad.onnx", tc.data)
			_, net, err := r.Add(context.Background(), path)
			if err == nil || net != nil {
				t.Fatalf("added a bad model (net %v)", net)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not name %s and %q", err, path, tc.text)
			}
			unchanged(t, "refused model")
		})
	}
	if _, _, err := r.Add(context.Background(), filepath.Join(dir, "missing.onnx")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestCorruptList: a corrupt file is reported, never overwritten, and the
// teacher is still listed.
func TestCorruptList(t *testing.T) {
	r, dir := newRegistry(t)
	if err := os.MkdirAll(filepath.Dir(r.Path()), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := []byte(`{"schema":"maskinv-models/1","models":[{"name":`)
	if err := os.WriteFile(r.Path(), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	list, err := r.List()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), r.Path()) {
		t.Fatalf("error %v, want ErrCorrupt naming the file", err)
	}
	if len(list) != nEmbedded || !list[0].Embedded || !list[1].Embedded {
		t.Fatalf("corrupt list gives %+v, want the teacher and the student", list)
	}
	_, _, err = r.Add(context.Background(), writeModel(t, dir, "a.onnx", convModel(3, 112, 112, 2, 16, 1)))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("add to a corrupt list: %v", err)
	}
	if after, _ := os.ReadFile(r.Path()); !bytes.Equal(after, bad) {
		t.Fatal("the corrupt file was overwritten")
	}
}

// TestConcurrentAdds: two Registry values on one file (two flock holders,
// as two processes would be) add models and set thresholds at once;
// nothing is lost.
func TestConcurrentAdds(t *testing.T) {
	r1, dir := newRegistry(t)
	r2 := Open(r1.Path())
	const n = 12
	paths := make([]string, n)
	hashes := make([]string, n)
	for i := range paths {
		data := convModel(3, 112, 112, 1, 56, float32(i+10))
		paths[i] = writeModel(t, dir, fmt.Sprintf("m%d.onnx", i), data)
		hashes[i] = sum(data)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := r1
			if i%2 == 1 {
				r = r2
			}
			if _, _, err := r.Add(context.Background(), paths[i]); err != nil {
				errs <- err
				return
			}
			if _, err := r.SetThreshold(hashes[i], float64(i)/100, ThresholdManual, nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := Open(r1.Path()).List()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, e := range list[nEmbedded:] {
		got[e.SHA256] = e.Threshold
	}
	for i, h := range hashes {
		if th, ok := got[h]; !ok || th != float64(i)/100 {
			t.Errorf("model %d: listed %v, threshold %v", i, ok, th)
		}
	}
	if len(list) != n+nEmbedded {
		t.Errorf("%d models listed, want %d", len(list), n+nEmbedded)
	}
}

// TestInspectRuns: Inspect hands back a net that runs.
func TestInspectRuns(t *testing.T) {
	e, net, err := Inspect(context.Background(), "m.onnx", convModel(3, 112, 112, 3, 56, 1))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := net.Run(context.Background(), model.NewTensor(5, 3, 112, 112))
	if err != nil {
		t.Fatal(err)
	}
	if len(outs[0].Data) != 5*e.OutputDim || e.OutputDim != 12 {
		t.Errorf("output %v for 5 faces, OutputDim %d", outs[0].Shape, e.OutputDim)
	}
}
