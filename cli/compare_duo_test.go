package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine/enginetest"
)

// secondModel is the second model of the CLI's two-model tests (their
// goldens predate the embedded student): the teacher's ONNX with its last 1×1
// convolution's weights moved by noise of one standard deviation from
// seed 1 (enginetest.PerturbedTeacher(1, 1)).
var secondModel = sync.OnceValues(func() ([]byte, error) { return enginetest.PerturbedTeacher(1, 1) })

func writeSecondModel(t *testing.T, dir string) string {
	t.Helper()
	b, err := secondModel()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "perturbed.onnx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompareTwoModelsGolden renders the demo folder with the teacher and
// the perturbed teacher (testdata/compare_duo_demo.png; rerun with -update
// to rewrite it) and reads the CSV back: each model's columns, named after
// it, and its threshold.
func TestCompareTwoModelsGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine and two recognisers on 12 photos")
	}
	dir := t.TempDir()
	second := writeSecondModel(t, dir)
	out, csvPath := filepath.Join(dir, "duo.png"), filepath.Join(dir, "duo.csv")
	stdout, stderr, code := runCLI(t, "compare", "--demo", "--model", "teacher", "--model", second,
		"--threshold", "0.2797", "--threshold", "0.25", "--out", out, "--csv", csvPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"model 1, teacher", "model 2, perturbed: perturbed.onnx", "threshold 0.2500", "Pairs whose decision masks flip, by model"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	assertGolden(t, "compare_duo_demo.png", out)
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 67 || len(rows[0]) != 21 || rows[0][5] != "teacher_unmasked" || rows[0][11] != "perturbed_unmasked" || rows[0][17] != "change_unmasked" {
		t.Fatalf("CSV: %d rows, header %q", len(rows), rows[0])
	}
	if rows[1][9] != "0.2797" || rows[1][15] != "0.25" {
		t.Errorf("thresholds %q, %q", rows[1][9], rows[1][15])
	}
}

// TestCompareOneModelUnchanged: compare with one model writes what it
// wrote before two-model comparisons existed (testdata/compare_demo_one.*,
// written by the command before them).
func TestCompareOneModelUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine on 12 photos")
	}
	dir := t.TempDir()
	out, csvPath := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.csv")
	if _, stderr, code := runCLI(t, "compare", "--demo", "--out", out, "--csv", csvPath, "--mask-style", "n95", "--seed", "4", "--cell", "2"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	assertGolden(t, "compare_demo_one.png", out)
	assertSameCSV(t, csvPath, filepath.Join("testdata", "compare_demo_one.csv"), 1e-5)
}

// TestCompareModelErrors: what is wrong with --model and --threshold is a
// usage error naming the problem and how to fix it; a model the engine
// refuses is an error naming the file. None writes anything.
func TestCompareModelErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(app.ModelsEnv, filepath.Join(dir, "models.json"))
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("not a model"), 0o644)
	out := filepath.Join(dir, "x.png")
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--model", "teacher", "--model", "teacher", "--model", "teacher"}, 2, []string{"at most 2"}},
		{[]string{"--model", "teacher", "--model", garbage, "--threshold", "0.3"}, 2, []string{"1 --threshold for 2 models"}},
		{[]string{"--model", "teacher", "--model", garbage, "--threshold", "0.3", "--threshold", "x"}, 2, []string{`--threshold "x"`}},
		{[]string{"--model", "teacher", "--model", garbage}, 2, []string{"garbage", "no threshold", "--threshold", "models threshold", "models calibrate"}},
		{[]string{"--model", "nosuchmodel"}, 2, []string{"nosuchmodel", "models.json", "models list"}},
		{[]string{"--model", "teacher", "--model", "teacher", "--diff", "um"}, 2, []string{"--diff is for one model"}},
		{[]string{"--model", "teacher", "--model", garbage, "--threshold", "0.3", "--threshold", "0.3"}, 1, []string{"garbage.onnx"}},
	}
	for _, tc := range tests {
		args := append([]string{"compare", "--demo", "--out", out}, tc.args...)
		_, stderr, code := runCLI(t, args...)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d; stderr %s", tc.args, code, tc.code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%q wrote %s", tc.args, out)
		}
	}
}
