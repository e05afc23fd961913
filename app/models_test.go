package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/engine/enginetest"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/modelreg"
)

// perturbed are two deterministic recognisers other than the teacher,
// made once for the package's tests.
var perturbed = sync.OnceValues(func() ([2][]byte, error) {
	var out [2][]byte
	for k := range out {
		b, err := enginetest.PerturbedTeacher(uint64(k+1), 1)
		if err != nil {
			return out, err
		}
		out[k] = b
	}
	return out, nil
})

func writeModel(t *testing.T, path string, k int) string {
	t.Helper()
	models, err := perturbed()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, models[k], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolveModel(t *testing.T) {
	dir := t.TempDir()
	reg := modelreg.Open(filepath.Join(dir, "models.json"))
	for _, ref := range []string{"", "teacher"} {
		c, err := ResolveModel(reg, ref)
		if err != nil {
			t.Fatal(err)
		}
		if c.Label != "teacher" || !c.Source.Embedded() || c.Threshold != engine.DefaultThreshold || c.ThresholdSource != modelreg.ThresholdDefault || !c.Listed {
			t.Errorf("%q: %+v", ref, c)
		}
	}
	studentSHA, err := engine.Student().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	// The embedded student by its keyword, its name on the list and a
	// prefix of its hash.
	for _, ref := range []string{"student", engine.StudentName, studentSHA[:8]} {
		c, err := ResolveModel(reg, ref)
		if err != nil {
			t.Fatalf("%q: %v", ref, err)
		}
		if c.Label != "student" || !c.Source.Embedded() || c.Source.Name != engine.StudentName || c.SHA256 != studentSHA ||
			c.Threshold != engine.StudentThreshold || c.ThresholdSource != modelreg.ThresholdDefault || !c.Listed {
			t.Errorf("%q: %+v", ref, c)
		}
	}
	file := writeModel(t, filepath.Join(dir, "a", "student.onnx"), 0)
	c, err := ResolveModel(reg, file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Label != "student" || c.Source.Path != file || c.Listed || c.Threshold != 0 || c.ThresholdSource != modelreg.ThresholdNone {
		t.Errorf("file not on the list: %+v", c)
	}
	e, _, err := reg.Add(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetThreshold(e.SHA256, 0.31, modelreg.ThresholdManual, nil); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{file, "student", "student.onnx", e.SHA256[:6], e.SHA256} {
		if ref == "student" {
			continue // the keyword: the embedded student, not this file
		}
		c, err := ResolveModel(reg, ref)
		if err != nil {
			t.Fatalf("%q: %v", ref, err)
		}
		if c.SHA256 != e.SHA256 || !c.Listed || c.Threshold != 0.31 || c.ThresholdSource != modelreg.ThresholdManual || c.Label != "student" {
			t.Errorf("%q: %+v", ref, c)
		}
	}
	// The keyword wins over a listed model of that name.
	if c, err := ResolveModel(reg, "student"); err != nil || c.SHA256 != studentSHA {
		t.Errorf("student with student.onnx listed: %.12s…, %v", c.SHA256, err)
	}
	// Two listed models of one name: ambiguous, both named.
	other := writeModel(t, filepath.Join(dir, "b", "student.onnx"), 1)
	if _, _, err := reg.Add(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveModel(reg, "student.onnx"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("two models named student.onnx: %v", err)
	}
	for _, ref := range []string{"nosuch", "abcdef0"} {
		if _, err := ResolveModel(reg, ref); !errors.Is(err, ErrUnknownModel) || !strings.Contains(err.Error(), reg.Path()) {
			t.Errorf("%q: %v, want ErrUnknownModel naming the list", ref, err)
		}
	}
	if _, err := ResolveModel(reg, dir); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("a folder: %v", err)
	}
	// A listed file that changed since it was added is refused.
	writeModel(t, file, 1)
	if _, err := ResolveModel(reg, e.SHA256[:8]); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Errorf("changed file: %v", err)
	}
}

// TestResolveModelCorruptList: a file and the teacher resolve without the
// list (saying why it was not read); a name on it cannot.
func TestResolveModelCorruptList(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "models.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := modelreg.Open(path)
	c, err := ResolveModel(reg, "teacher")
	if err != nil || !errors.Is(c.ListErr, modelreg.ErrCorrupt) || c.Threshold != engine.DefaultThreshold {
		t.Errorf("teacher: %+v, %v", c, err)
	}
	file := writeModel(t, filepath.Join(dir, "m.onnx"), 0)
	if c, err := ResolveModel(reg, file); err != nil || !errors.Is(c.ListErr, modelreg.ErrCorrupt) {
		t.Errorf("file: %+v, %v", c, err)
	}
	if _, err := ResolveModel(reg, "m"); !errors.Is(err, modelreg.ErrCorrupt) {
		t.Errorf("name: %v, want ErrCorrupt", err)
	}
}

func TestModelListPath(t *testing.T) {
	p, err := ModelListPath(func(k string) string { return map[string]string{ModelsEnv: "/x/models.json"}[k] })
	if err != nil || p != "/x/models.json" {
		t.Errorf("with %s: %q, %v", ModelsEnv, p, err)
	}
}

// TestCalibrateLFW calibrates the teacher on the demo photos laid out as
// LFW: the demo separates perfectly, so the threshold lies between the
// highest impostor and the lowest genuine score, the record says so, and
// a second run comes from the cache.
func TestCalibrateLFW(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine on 12 photos")
	}
	lfw := apptest.DemoLFW(t)
	set, err := dataset.Builtin().OpenEval("lfw", lfw, dataset.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	cache, err := OpenEmbeddingCache(t.TempDir(), eng.Recogniser.Hash())
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	opt := EvalOptions{ModelHash: eng.Recogniser.Hash(), Pipeline: eng.PipelineID(false), Cache: cache}
	th, cal, res, err := CalibrateLFW(context.Background(), eng, set, opt)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := -1.0, 1.0
	for _, p := range res.Protocols[0].Pairs {
		if set.Pairs[p.Pair].Same {
			hi = min(hi, p.Score)
		} else {
			lo = max(lo, p.Score)
		}
	}
	if !(lo < th && th <= hi) || cal.Accuracy != 1 || cal.Pairs != 8 || len(cal.FoldThresholds) != 2 || cal.Dataset != CalibrationSet {
		t.Errorf("threshold %v (impostors up to %v, genuine from %v), record %+v", th, lo, hi, cal)
	}
	th2, _, res2, err := CalibrateLFW(context.Background(), eng, set, opt)
	if err != nil || th2 != th || res2.Stats.Embedded != 0 || res2.Stats.Cached != 12 {
		t.Errorf("second run: threshold %v, stats %+v, err %v; want %v from the cache", th2, res2.Stats, err, th)
	}
}
