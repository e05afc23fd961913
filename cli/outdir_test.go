package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/internal/apptest"
)

// TestMaskCommandForce: the refusal is exit status 1 with the file named;
// --force goes on.
func TestMaskCommandForce(t *testing.T) {
	in := apptest.MaskInput(t)
	out := filepath.Join(t.TempDir(), "out")
	apptest.WriteFile(t, filepath.Join(out, "alice", "alice_0001.png"), "my notes")
	_, stderr, code := runCLI(t, "mask", "--in", in, "--out", out, "--aligned")
	if code != 1 || !strings.Contains(stderr, "alice/alice_0001.png") || !strings.Contains(stderr, "--force") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "alice", "alice_0001.png")); string(b) != "my notes" {
		t.Error("refused run replaced the file")
	}
	stdout, stderr, code := runCLI(t, "mask", "--in", in, "--out", out, "--aligned", "--force")
	if code != 0 || !strings.Contains(stdout, "5 masked") || !strings.Contains(stderr, "--force: replacing 1 files maskinv did not write (alice/alice_0001.png)") {
		t.Errorf("--force: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestEvalReportRefusesForeign: eval checks --report before any work and
// names the file; a report folder of its own is accepted.
func TestEvalReportRefusesForeign(t *testing.T) {
	report := t.TempDir()
	apptest.WriteFile(t, filepath.Join(report, app.ReportROC), "my chart")
	_, stderr, code := runCLI(t, "eval", "--dataset", "folder="+filepath.Join(t.TempDir(), "missing"), "--report", report)
	if code != 1 || !strings.Contains(stderr, app.ReportROC) || !strings.Contains(stderr, "--force") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(report, app.ReportROC)); string(b) != "my chart" {
		t.Error("roc.png replaced")
	}
	// Forced, or our own folder: the check passes and the run goes on
	// (to fail on the missing dataset here).
	for _, args := range [][]string{{"--force"}, {}} {
		if len(args) == 0 {
			if err := folder.Claim(report, "eval", nil, true); err != nil {
				t.Fatal(err)
			}
		}
		_, stderr, _ = runCLI(t, append([]string{"eval", "--dataset", "folder=" + filepath.Join(t.TempDir(), "missing"), "--report", report}, args...)...)
		if strings.Contains(stderr, "--force") || !strings.Contains(stderr, "missing") {
			t.Errorf("%v: %s", args, stderr)
		}
	}
}

// TestTrainRefusesForeign: train checks --out before loading anything.
func TestTrainRefusesForeign(t *testing.T) {
	out := t.TempDir()
	apptest.WriteFile(t, filepath.Join(out, "student.onnx"), "my model")
	_, stderr, code := runCLI(t, "train", "--data", filepath.Join(t.TempDir(), "missing"), "--out", out)
	if code != 1 || !strings.Contains(stderr, "student.onnx") || !strings.Contains(stderr, "--force") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "train", "--data", filepath.Join(t.TempDir(), "missing"), "--out", out, "--force")
	if code != 1 || strings.Contains(stderr, "--force") {
		t.Errorf("--force: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "student.onnx")); string(b) != "my model" {
		t.Error("student.onnx replaced by a run that wrote nothing")
	}
}

// TestResultsFoldersAreMarked: the README's eval commands rewrite
// docs/results/{lfw,mfr2}; those folders carry eval's marker, so the
// commands run as documented, without --force.
func TestResultsFoldersAreMarked(t *testing.T) {
	for _, d := range []string{"lfw", "mfr2"} {
		dir := filepath.Join("..", "docs", "results", d)
		if err := folder.Check(dir, "eval", reportFiles(), false); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}
