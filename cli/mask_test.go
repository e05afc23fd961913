package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/maskgen"
)

func TestMaskCommand(t *testing.T) {
	in := apptest.MaskInput(t)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"mask"}, args...), Stdio{Out: &out, Err: &errb})
		return code, out.String(), errb.String()
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := run("--in", in, "--out", out, "--aligned", "--style", "mix:surgical=0.5,n95=0.3,cloth=0.2", "--color", "#336699", "--seed", "7")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "5 images: 5 masked, 0 already done, 0 failed") || !strings.Contains(stderr, "5/5") {
		t.Errorf("stdout %q\nstderr %q", stdout, stderr)
	}
	m := readManifest(t, out)
	if m.Style != "mix:surgical=0.5,n95=0.3,cloth=0.2" || m.Color != "#336699" || m.Seed != 7 {
		t.Errorf("manifest header %+v", m)
	}
	for _, rec := range m.Images {
		if rec.Color != "#336699" || rec.Params.Style == "paper" {
			t.Errorf("%s: %+v", rec.Key, rec.Params)
		}
	}
	code, stdout, _ = run("-in", in, "-out", out, "-aligned", "-style", "mix:surgical=0.5,n95=0.3,cloth=0.2", "-color", "#336699", "-seed", "7")
	if code != 0 || !strings.Contains(stdout, "0 masked, 5 already done") {
		t.Errorf("rerun: exit %d, %q", code, stdout)
	}

	for name, args := range map[string][]string{
		"no flags":     {},
		"no out":       {"--in", in, "--aligned"},
		"bad style":    {"--in", in, "--out", out, "--aligned", "--style", "mix:gaiter=1"},
		"bad colour":   {"--in", in, "--out", out, "--aligned", "--color", "#12"},
		"bad seed":     {"--in", in, "--out", out, "--aligned", "--seed", "-1"},
		"stray arg":    {"--in", in, "--out", out, "--aligned", "extra"},
		"unknown flag": {"--in", in, "--out", out, "--aligned", "--fast"},
		"nested":       {"--in", in, "--out", filepath.Join(in, "m"), "--aligned"},
	} {
		if code, _, stderr := run(args...); code != 2 {
			t.Errorf("%s: exit %d, want 2 (usage)\n%s", name, code, stderr)
		}
	}
	if code, _, stderr := run("-h"); code != 0 || !strings.Contains(stderr, "--in DIR --out DIR") {
		t.Errorf("-h: exit %d\n%s", code, stderr)
	}

	// Failures are recorded, the run finishes, and the exit status is 1.
	if err := os.WriteFile(filepath.Join(in, "broken.png"), []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = run("--in", in, "--out", filepath.Join(t.TempDir(), "o2"), "--aligned")
	if code != 1 || !strings.Contains(stdout, "5 masked") || !strings.Contains(stderr, "1 of 6 images failed") {
		t.Errorf("with a broken image: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestMaskCommandRawWithFinder wires a finder the way the integrator will.
func TestMaskCommandRawWithFinder(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in")
	apptest.WriteImage(t, filepath.Join(in, "p.png"), apptest.Crop(200, 200, 0))
	out := filepath.Join(t.TempDir(), "out")
	cmd := maskCommand(apptest.LandmarkFinder{Offset: maskgen.Point{X: 40, Y: 40}})
	var o, e bytes.Buffer
	if err := cmd.Run(context.Background(), []string{"--in", in, "--out", out, "--style", "n95"}, Stdio{Out: &o, Err: &e}); err != nil {
		t.Fatalf("%v\n%s", err, e.String())
	}
	m := readManifest(t, out)
	if m.Aligned || len(m.Images) != 1 || m.Images[0].Points5 == nil || m.Images[0].Points5[0].X != 40+38.2946 {
		t.Errorf("manifest %+v", m)
	}
}

func readManifest(t *testing.T, out string) *app.MaskManifest {
	t.Helper()
	m, err := app.ReadMaskManifestFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMaskScanNotes: mask says what it skipped; an unreadable path fails
// the command, a link into the output folder is not followed (its files
// would be inputs and outputs at once).
func TestMaskScanNotes(t *testing.T) {
	in := apptest.MaskInput(t)
	out := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "x.png"), []byte("the user's"), 0o644); err != nil {
		t.Fatal(err)
	}
	apptest.Symlink(t, out, filepath.Join(in, "into-out"))
	apptest.Symlink(t, filepath.Join(out, "x.png"), filepath.Join(in, "out-file.png"))
	sum, err := app.MaskDataset(context.Background(), app.MaskOptions{In: in, Out: out, Aligned: true, Config: maskgen.Config{Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(sum.Notes, "\n")
	if sum.Images != 5 || sum.Unreadable != 0 || strings.Count(notes, "overlaps the output folder") != 2 {
		t.Errorf("summary %+v", sum)
	}
	if b, err := os.ReadFile(filepath.Join(out, "x.png")); err != nil || string(b) != "the user's" {
		t.Errorf("a file of the output folder that mask does not write changed: %q, %v", b, err)
	}
	apptest.Symlink(t, "gone.png", filepath.Join(in, "broken.png"))
	var o, e bytes.Buffer
	code := Run(context.Background(), []string{"mask", "--in", in, "--out", out, "--aligned", "--style", "paper", "--seed", "1"}, Stdio{Out: &o, Err: &e})
	if code != 1 || !strings.Contains(e.String(), "broken.png: broken symbolic link") || !strings.Contains(e.String(), "1 paths under") {
		t.Errorf("exit %d\n%s%s", code, o.String(), e.String())
	}
}

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
