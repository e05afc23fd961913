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

// teacherSHA256 is fr_feature.onnx's hash (assets/models/PROVENANCE.md).
const teacherSHA256 = "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"

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

func TestTeacherAlwaysListed(t *testing.T) {
	r, _ := newRegistry(t)
	list, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("empty registry lists %d models, want the teacher alone", len(list))
	}
	te := list[0]
	if !te.Embedded || te.SHA256 != teacherSHA256 || te.Path != "" || te.OutputDim != 512 ||
		te.Threshold != TeacherThreshold || te.ThresholdSource != ThresholdDefault ||
		!reflect.DeepEqual(te.Input, []int{1, 3, 112, 112}) {
		t.Fatalf("teacher entry %+v", te)
	}
	// 0.442 GFLOP per face (docs/benchmarks.md).
	if te.FLOPs < 0.44e9 || te.FLOPs > 0.445e9 {
		t.Errorf("teacher FLOPs %v, want about 0.442e9", te.FLOPs)
	}
	if err := r.Remove(teacherSHA256); !errors.Is(err, ErrEmbedded) {
		t.Errorf("removing the teacher: %v, want ErrEmbedded", err)
	}
	if _, err := os.Stat(r.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("listing wrote the file: %v", err)
	}
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
	if len(list) != 3 || list[0].SHA256 != teacherSHA256 || list[1].SHA256 != sum(a) || list[2].SHA256 != sum(b) {
		t.Fatalf("list %+v", list)
	}
	if list[0].Threshold != 0.25 || list[0].ThresholdSource != ThresholdManual {
		t.Errorf("teacher after a manual threshold: %+v", list[0])
	}
	if e := list[1]; e.Threshold != 0.305 || e.ThresholdSource != ThresholdLFW || !reflect.DeepEqual(e.Calibration, cal) || e.Path != moved {
		t.Errorf("calibrated model: %+v", e)
	}
	if e := list[2]; e.Threshold != -0.1 || e.ThresholdSource != ThresholdManual || e.Calibration != nil || e.OutputDim != 4*4*4 {
		t.Errorf("manual model: %+v", e)
	}
	// Back to the default, then remove one.
	if _, err := r2.SetThreshold(teacherSHA256, TeacherThreshold, ThresholdDefault, nil); err != nil {
		t.Fatal(err)
	}
	if err := r2.Remove(sum(b)); err != nil {
		t.Fatal(err)
	}
	list, err = r.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ThresholdSource != ThresholdDefault || list[1].SHA256 != sum(a) {
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
		{"default for a student", sum(a), TeacherThreshold, ThresholdDefault, nil, ErrThreshold},
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
	if len(list) != 1 || !list[0].Embedded {
		t.Fatalf("corrupt list gives %+v, want the teacher", list)
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
	for _, e := range list[1:] {
		got[e.SHA256] = e.Threshold
	}
	for i, h := range hashes {
		if th, ok := got[h]; !ok || th != float64(i)/100 {
			t.Errorf("model %d: listed %v, threshold %v", i, ok, th)
		}
	}
	if len(list) != n+1 {
		t.Errorf("%d models listed, want %d", len(list), n+1)
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
