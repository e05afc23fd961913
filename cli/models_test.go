package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/modelreg"
)

// modelList runs `models list --json` and returns the entries.
func modelList(t *testing.T) []modelreg.Entry {
	t.Helper()
	stdout, stderr, code := runCLI(t, "models", "list", "--json")
	if code != 0 {
		t.Fatalf("models list: exit %d: %s", code, stderr)
	}
	var out struct {
		Path   string           `json:"path"`
		Models []modelreg.Entry `json:"models"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("models list --json: %v: %s", err, stdout)
	}
	if out.Path != os.Getenv(app.ModelsEnv) {
		t.Fatalf("list at %s, want $%s = %s", out.Path, app.ModelsEnv, os.Getenv(app.ModelsEnv))
	}
	return out.Models
}

func readFileOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestModelsCommand: add, threshold, remove, and refused models that
// leave the list (its file, byte for byte) as it was.
func TestModelsCommand(t *testing.T) {
	dir := t.TempDir()
	listPath := filepath.Join(dir, "config", "models.json")
	t.Setenv(app.ModelsEnv, listPath)
	if l := modelList(t); len(l) != 2 || !l[0].Embedded || l[0].Threshold != engine.DefaultThreshold ||
		!l[1].Embedded || l[1].Name != engine.StudentName || l[1].Threshold != engine.StudentThreshold {
		t.Fatalf("empty list: %+v, want the teacher and the student", l)
	}
	second := writeSecondModel(t, dir)
	if _, stderr, code := runCLI(t, "models", "add", second); code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	l := modelList(t)
	if len(l) != 3 || l[2].Name != "perturbed.onnx" || l[2].Path != second || l[2].ThresholdSource != modelreg.ThresholdNone || l[2].OutputDim != 512 {
		t.Fatalf("after add: %+v", l)
	}
	sha := l[2].SHA256
	before := readFileOrEmpty(listPath)
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("not a model"), 0o644)
	shape := filepath.Join(dir, "landmarks.onnx") // a valid ONNX whose input is not 3×112×112
	os.WriteFile(shape, assets.Landmarker(), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add", garbage}, 1, "garbage.onnx"},
		{[]string{"add", shape}, 1, "112"},
		{[]string{"add", filepath.Join(dir, "missing.onnx")}, 1, "missing.onnx"},
		{[]string{"threshold", "perturbed", "2"}, 2, "[−1, 1]"},
		{[]string{"threshold", "perturbed", "high"}, 2, `"high"`},
		{[]string{"remove", "teacher"}, 1, "cannot be removed"},
		{[]string{"remove", "student"}, 1, "cannot be removed"},
		{[]string{"threshold", "perturbed", "default"}, 2, "published threshold"},
		{[]string{"remove", "nosuch"}, 2, "nosuch"},
		{[]string{"frobnicate"}, 2, "unknown action"},
		{[]string{"add"}, 2, "takes 1 argument"},
		{[]string{"calibrate", "perturbed"}, 2, "--lfw"},
	} {
		_, stderr, code := runCLI(t, append([]string{"models"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("models %q: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if after := readFileOrEmpty(listPath); after != before {
			t.Fatalf("models %q changed the list:\n%s\nwas\n%s", tc.args, after, before)
		}
	}
	// A threshold by hand; the flag may come before or after the arguments.
	stdout, stderr, code := runCLI(t, "models", "--json", "threshold", sha[:8], "0.25")
	if code != 0 || !strings.Contains(stdout, `"threshold":0.25`) {
		t.Fatalf("threshold: exit %d, %s %s", code, stdout, stderr)
	}
	if l := modelList(t); l[2].Threshold != 0.25 || l[2].ThresholdSource != modelreg.ThresholdManual {
		t.Fatalf("after threshold: %+v", l[2])
	}
	// The student's threshold by hand, then back to its published one.
	for _, tc := range []struct {
		value string
		want  float64
	}{{"0.3", 0.3}, {"default", engine.StudentThreshold}} {
		if _, stderr, code := runCLI(t, "models", "threshold", "student", tc.value); code != 0 {
			t.Fatalf("threshold student %s: exit %d: %s", tc.value, code, stderr)
		}
		if l := modelList(t); l[1].Name != engine.StudentName || l[1].Threshold != tc.want {
			t.Errorf("after threshold student %s: %+v", tc.value, l[1])
		}
	}
	// compare finds the model by name, and its threshold on the list.
	if !testing.Short() {
		out, csvPath := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.csv")
		if _, stderr, code := runCLI(t, "compare", "--demo", "--model", "teacher", "--model", "perturbed", "--out", out, "--csv", csvPath); code != 0 {
			t.Fatalf("compare by name: exit %d: %s", code, stderr)
		}
		if csv := readFileOrEmpty(csvPath); !strings.Contains(strings.SplitN(csv, "\n", 3)[1], ",0.2797,") || !strings.Contains(strings.SplitN(csv, "\n", 3)[1], ",0.25,") {
			t.Errorf("CSV thresholds: %s", strings.SplitN(csv, "\n", 3)[1])
		}
	}
	if _, stderr, code := runCLI(t, "models", "remove", "perturbed.onnx"); code != 0 {
		t.Fatalf("remove: exit %d: %s", code, stderr)
	}
	if l := modelList(t); len(l) != 2 {
		t.Fatalf("after remove: %+v", l)
	}
	// A corrupt list: the embedded models are listed, the error named, exit 1;
	// adding refuses to overwrite it.
	os.WriteFile(listPath, []byte("{broken"), 0o644)
	stdout, stderr, code = runCLI(t, "models")
	if code != 1 || !strings.Contains(stdout, "fr_feature.onnx") || !strings.Contains(stdout, "maskinv_student.onnx") || !strings.Contains(stderr, "corrupt") {
		t.Errorf("corrupt list: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "models", "add", second); code != 1 || readFileOrEmpty(listPath) != "{broken" {
		t.Errorf("add to a corrupt list: exit %d, %s; file now %q", code, stderr, readFileOrEmpty(listPath))
	}
}

// TestModelsCalibrate calibrates a model file not on the list yet (it is
// added) on the demo photos laid out as LFW, and stores the threshold with
// its record; a second calibration comes from the embedding cache.
func TestModelsCalibrate(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine on 12 photos")
	}
	dir := t.TempDir()
	t.Setenv(app.ModelsEnv, filepath.Join(dir, "models.json"))
	lfw, cache := apptest.DemoLFW(t), filepath.Join(dir, "cache")
	second := writeSecondModel(t, dir)
	stdout, stderr, code := runCLI(t, "models", "calibrate", second, "--lfw", lfw, "--cache", cache, "--device", "cpu")
	if code != 0 || !strings.Contains(stdout, "8 pairs, 2 folds") || !strings.Contains(stderr, "added perturbed.onnx") || !strings.Contains(stderr, "12 embedded") {
		t.Fatalf("calibrate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	l := modelList(t)
	if len(l) != 3 || l[2].ThresholdSource != modelreg.ThresholdLFW || l[2].Calibration == nil || l[2].Calibration.Pairs != 8 ||
		len(l[2].Calibration.FoldThresholds) != 2 || l[2].Calibration.Accuracy != 1 {
		t.Fatalf("after calibrate: %+v", l)
	}
	mean := (l[2].Calibration.FoldThresholds[0] + l[2].Calibration.FoldThresholds[1]) / 2
	if l[2].Threshold != mean {
		t.Errorf("threshold %v, want the mean of the fold thresholds %v", l[2].Threshold, mean)
	}
	_, stderr, code = runCLI(t, "models", "calibrate", "perturbed", "--lfw", lfw, "--cache", cache, "--device", "cpu")
	if code != 0 || !strings.Contains(stderr, "0 embedded, 12 from the cache") {
		t.Errorf("second calibrate: exit %d: %s", code, stderr)
	}
}
