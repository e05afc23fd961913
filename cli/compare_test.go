package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/imageio"
)

func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"compare", "--out", "x.png"},
		{"compare", "--demo", "--in", dir, "--out", "x.png"},
		{"compare", "--demo"},
		{"compare", "--demo", "--out", "x.png", "--shift", "1"},
		{"compare", "--demo", "--out", "x.png", "--diff", "xx"},
		{"compare", "--demo", "--out", "x.png", "--mask-style", "scarf"},
		{"compare", "--demo", "--out", "x.png", "--csv", "./x.png"},
	} {
		if _, stderr, code := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage); stderr %s", args, code, stderr)
		}
	}
	if testing.Short() {
		return
	}
	out, csvPath := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.csv")
	stdout, stderr, code := runCLI(t, "compare", "--demo", "--out", out, "--csv", csvPath, "--mask-style", "n95", "--seed", "4", "--cell", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "12 photos: 12 analysed") || !strings.Contains(stdout, "EER") {
		t.Errorf("stdout %q", stdout)
	}
	img, err := imageio.Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if img.Rect.Dx() < 960 || img.Rect.Dy() < 400 {
		t.Errorf("PNG is %v", img.Rect)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil || bytes.Count(b, []byte("\n")) != 67 {
		t.Errorf("CSV: %d lines, err %v", bytes.Count(b, []byte("\n")), err)
	}
}
