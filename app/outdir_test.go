package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/folder"
)

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMaskRefusesForeignFiles: a file in --out that no record of ours
// vouches for is never replaced: the run refuses before writing anything,
// naming it; Force replaces it, and the result is a normal run's.
func TestMaskRefusesForeignFiles(t *testing.T) {
	in := maskTestInput(t)
	full := filepath.Join(t.TempDir(), "full")
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, full, "paper", 1)); err != nil {
		t.Fatal(err)
	}
	want := maskContentHashes(t, full)
	var otherJPEG bytes.Buffer
	if err := jpeg.Encode(&otherJPEG, crop(112, 112, 6), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		setup func(out string) // makes the output folder
		names []string         // the error must name these
	}{
		{"text file at an image's output", func(out string) {
			writeFile(t, filepath.Join(out, "alice", "alice_0001.png"), "my notes")
		}, []string{"alice/alice_0001.png"}},
		{"unrelated image", func(out string) {
			writeFile(t, filepath.Join(out, "carol.JPEG"), otherJPEG.String())
		}, []string{"carol.JPEG"}},
		{"a user's file that would be copied over", func(out string) {
			writeFile(t, filepath.Join(out, "pairs.txt"), "my own pairs\n")
		}, []string{"pairs.txt"}},
		{"foreign manifest", func(out string) {
			writeFile(t, filepath.Join(out, ManifestName), `{"tool":"someone else","version":1,"images":[]}`)
		}, []string{ManifestName, "someone else"}},
		{"unparseable manifest", func(out string) {
			writeFile(t, filepath.Join(out, ManifestName), "not json")
		}, []string{ManifestName}},
		{"our manifest, an output changed since", func(out string) {
			if err := os.CopyFS(out, os.DirFS(full)); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(out, "big.png"), "edited")
		}, []string{"big.png"}},
		{"a folder at an output's name", func(out string) {
			if err := os.MkdirAll(filepath.Join(out, "big.png"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"big.png"}},
		{"many", func(out string) {
			for _, k := range []string{"alice/alice_0001.png", "alice/alice_0002.jpg", "big.png", "bob/sub/bob_0001.png", "carol.JPEG", "pairs.txt"} {
				writeFile(t, filepath.Join(out, filepath.FromSlash(k)), "x")
			}
		}, []string{"6 files", "alice/alice_0001.png", "carol.JPEG", "and 1 more"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			tc.setup(out)
			before := maskTreeHashes(t, out)
			_, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1))
			if !errors.Is(err, folder.ErrForeignFiles) {
				t.Fatalf("error %v, want folder.ErrForeignFiles", err)
			}
			for _, n := range append(tc.names, out, "--force") {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %q", err, n)
				}
			}
			if after := maskTreeHashes(t, out); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the refused run wrote:\nbefore %v\nafter  %v", before, after)
			}
			opt := maskAlignedOpts(in, out, "paper", 1)
			opt.Force = true
			if tc.name == "a folder at an output's name" {
				os.Remove(filepath.Join(out, "big.png")) // Force replaces files, not folders
			}
			if _, err := MaskDataset(context.Background(), opt); err != nil {
				t.Fatalf("forced: %v", err)
			}
			if got := maskContentHashes(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("forced run differs from a normal one:\n%v\n%v", got, want)
			}
		})
	}
}

// TestMaskAcceptsHarmlessFiles: files mask does not write, and copies
// that already hold the input's bytes, are no reason to refuse, and are
// left as they are.
func TestMaskAcceptsHarmlessFiles(t *testing.T) {
	in := maskTestInput(t)
	out := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(out, "README.txt"), "the user's")
	writeFile(t, filepath.Join(out, "alice", "notes.md"), "the user's")
	writeFile(t, filepath.Join(out, "pairs.txt"), "alice 1 2\n") // the input's bytes
	sum, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1))
	if err != nil || sum.Masked != 5 || sum.Copied != 1 {
		t.Fatalf("%+v, %v", sum, err)
	}
	for _, k := range []string{"README.txt", "alice/notes.md"} {
		if b, _ := os.ReadFile(filepath.Join(out, k)); string(b) != "the user's" {
			t.Errorf("%s changed: %q", k, b)
		}
	}
	// The copy is recorded: a changed input is copied again on a rerun.
	if m := readMaskManifestFile(t, out); len(m.Copies) != 1 || m.Copies[0].Path != "pairs.txt" || m.Copies[0].SHA256 != sha256Hex([]byte("alice 1 2\n")) {
		t.Errorf("copies %+v", m.Copies)
	}
	writeFile(t, filepath.Join(in, "pairs.txt"), "alice 1 3\n")
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1)); err != nil {
		t.Fatalf("rerun after the input's pairs.txt changed: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "pairs.txt")); string(b) != "alice 1 3\n" {
		t.Errorf("pairs.txt not updated: %q", b)
	}
}

// TestMaskCommandForce: the refusal is exit status 1 with the file named;
// --force goes on.
func TestMaskCommandForce(t *testing.T) {
	in := maskTestInput(t)
	out := filepath.Join(t.TempDir(), "out")
	writeFile(t, filepath.Join(out, "alice", "alice_0001.png"), "my notes")
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
	writeFile(t, filepath.Join(report, ReportROC), "my chart")
	_, stderr, code := runCLI(t, "eval", "--dataset", "folder="+filepath.Join(t.TempDir(), "missing"), "--report", report)
	if code != 1 || !strings.Contains(stderr, ReportROC) || !strings.Contains(stderr, "--force") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(report, ReportROC)); string(b) != "my chart" {
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
	writeFile(t, filepath.Join(out, "student.onnx"), "my model")
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
