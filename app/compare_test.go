package app

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/imageio"
)

// TestMaskDatasetShift: the fixed shift reaches the dataset and its
// manifest, and moves the mask.
func TestMaskDatasetShift(t *testing.T) {
	in := maskTestInput(t)
	outs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for k, sh := range []*compare.MaskShift{nil, {X: 0, Y: 120}} {
		if _, err := MaskDataset(context.Background(), MaskOptions{In: in, Out: outs[k], Aligned: true, Shift: sh}); err != nil {
			t.Fatal(err)
		}
	}
	m := readMaskManifestFile(t, outs[1])
	if m.Shift == nil || *m.Shift != (compare.MaskShift{X: 0, Y: 120}) {
		t.Errorf("manifest shift %v", m.Shift)
	}
	for _, rec := range m.Images {
		if rec.Error == "" && (rec.Params.ShiftX != 0 || rec.Params.ShiftY != 120) {
			t.Errorf("%s: params %+v, want the fixed shift", rec.Key, rec.Params)
		}
	}
	a, err := imageio.Decode(filepath.Join(outs[0], "alice", "alice_0001.png"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := imageio.Decode(filepath.Join(outs[1], "alice", "alice_0001.png"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("a shift of 10 crop pixels left the mask where it was")
	}
	if readMaskManifestFile(t, outs[0]).Shift != nil {
		t.Error("no shift given, but the manifest records one")
	}
	if _, err := MaskDataset(context.Background(), MaskOptions{In: in, Out: outs[0], Aligned: true, Shift: &compare.MaskShift{X: 0, Y: 999}}); !errors.Is(err, compare.ErrMaskShift) {
		t.Errorf("out-of-range shift: err %v", err)
	}
}

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
