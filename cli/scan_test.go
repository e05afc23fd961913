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

// TestEmbedScanErrorsArePerPath: what a folder scan skips comes back as a
// record naming the path, and the other images are still listed.
func TestEmbedScanErrorsArePerPath(t *testing.T) {
	dir := t.TempDir()
	apptest.WriteImage(t, filepath.Join(dir, "a", "x.png"), apptest.Crop(8, 8, 0))
	apptest.Symlink(t, "gone", filepath.Join(dir, "a", "y.png"))
	paths, skipped, err := app.ImagePaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || paths[0] != filepath.Join(dir, "a", "x.png") {
		t.Errorf("paths %v", paths)
	}
	bad := filepath.Join(dir, "a", "y.png")
	if len(skipped) != 1 || skipped[0].Path != bad || !strings.Contains(skipped[0].Error, bad) || !strings.Contains(skipped[0].Error, "broken symbolic link") {
		t.Errorf("skipped %+v", skipped)
	}
	// Only skipped paths: they are still reported, then the error.
	only := t.TempDir()
	apptest.Symlink(t, "gone", filepath.Join(only, "z.png"))
	stdout, stderr, code := runCLI(t, "embed", "--json", only)
	if code != 1 || !strings.Contains(stdout, "broken symbolic link") || !strings.Contains(stderr, "no images found") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

// TestEmbedUnreadableSubfolderChmod is the same through permissions,
// which root ignores.
func TestEmbedUnreadableSubfolderChmod(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop reads (TestScanUnreadableFolder covers it through an fs.FS)")
	}
	dir := t.TempDir()
	apptest.WriteImage(t, filepath.Join(dir, "a", "x.png"), apptest.Crop(8, 8, 0))
	apptest.WriteImage(t, filepath.Join(dir, "b", "y.png"), apptest.Crop(8, 8, 1))
	if err := os.Chmod(filepath.Join(dir, "b"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, "b"), 0o755)
	paths, skipped, err := app.ImagePaths([]string{dir})
	if err != nil || len(paths) != 1 || len(skipped) != 1 || !strings.Contains(skipped[0].Error, "permission denied") {
		t.Errorf("paths %v, skipped %+v, err %v", paths, skipped, err)
	}
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
