package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/facetest"
)

// dirListing maps every file under dir to its contents, so that a test
// can show a command left a folder exactly as it was (no temp files).
func dirListing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameListing(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestWriteComparison runs compare's output step on comparisons made by
// the fake engine: with no face in any photo it must write nothing and
// leave an earlier file at the path as it was; with faces in some photos
// it writes both files and names every other photo with its reason, at
// most maxListedFailures of them.
func TestWriteComparison(t *testing.T) {
	faceless := func(n int) fstest.MapFS {
		m := fstest.MapFS{}
		for k := range n {
			m[fmt.Sprintf("x_%04d.png", k)] = &fstest.MapFile{Data: facetest.BlackPhoto()}
		}
		return m
	}
	many := faceless(25)
	many["ann_0001.png"] = &fstest.MapFile{Data: facetest.Person(0, 0)}
	many["bob_0001.png"] = &fstest.MapFile{Data: facetest.Person(1, 0)}
	tests := []struct {
		name    string
		src     fstest.MapFS
		wantErr bool
		listed  []string // substrings of stderr, in order
		lines   int      // lines of stderr
	}{
		{"no faces", faceless(3), true, []string{"3 of 3 photos in DIR left out:", "x_0000.png: detect: ", "x_0002.png: detect: "}, 4},
		{"some faceless", facetest.Folder(), false, []string{"2 of 10 photos in DIR left out:", "bob/bob_0099.png: detect: ", "decode carol/broken.jpg: not a supported image format"}, 3},
		{"many faceless", many, false, []string{"25 of 27 photos in DIR left out:", "x_0019.png: detect: ", "… and 5 more"}, 22},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := compare.Folder(context.Background(), &facetest.Engine{}, tc.src, compare.Options{Source: "test", Threshold: 0.5})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			out, csvPath := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.csv")
			os.WriteFile(out, []byte("the user's earlier file"), 0o644)
			before := dirListing(t, dir)
			var stdout, stderr bytes.Buffer
			err = writeComparison(c, c, "DIR", out, csvPath, compare.RenderOptions{}, Stdio{Out: &stdout, Err: &stderr})
			got := stderr.String()
			rest := got
			for _, s := range tc.listed {
				k := strings.Index(rest, s)
				if k < 0 {
					t.Fatalf("stderr lacks %q (in order):\n%s", s, got)
				}
				rest = rest[k+len(s):]
			}
			if n := strings.Count(got, "\n"); n != tc.lines {
				t.Errorf("stderr has %d lines, want %d:\n%s", n, tc.lines, got)
			}
			if tc.wantErr {
				if !errors.Is(err, compare.ErrNoFaces) || !strings.Contains(err.Error(), "DIR") || !strings.Contains(err.Error(), "nothing written") {
					t.Errorf("error %v: want compare.ErrNoFaces naming DIR and saying nothing was written", err)
				}
				if after := dirListing(t, dir); !sameListing(before, after) {
					t.Errorf("folder changed: before %v, after %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img, err := imageio.Decode(out); err != nil || img.Rect.Dx() < 960 {
				t.Errorf("PNG: %v, err %v", img.Bounds(), err)
			}
			if b, err := os.ReadFile(csvPath); err != nil || bytes.Count(b, []byte("\n")) != 1+c.N()*(c.N()-1)/2 {
				t.Errorf("CSV: %d lines for %d rows, err %v", bytes.Count(b, []byte("\n")), c.N(), err)
			}
		})
	}
}

// plainPNG is a w×h image of one colour, or of noise when noise is set: no
// face for the real detector.
func plainPNG(t *testing.T, path string, w, h int, c color.NRGBA, noise bool) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
		if noise {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDemo copies demo photos (keys of assets.Demo) into dir under their
// base names.
func copyDemo(t *testing.T, dir string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		b, err := fs.ReadFile(assets.Demo(), k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(k)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompareCommandFaceless runs `maskinv compare` with the real engine on
// folders without faces, with a face in some photos, and with a --csv
// that cannot be written: a failure leaves the output folder as it was
// (an earlier --out file included) and says why; a partial folder names the
// photos left out.
func TestCompareCommandFaceless(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine")
	}
	none, some := t.TempDir(), t.TempDir()
	plainPNG(t, filepath.Join(none, "red.png"), 120, 140, color.NRGBA{200, 30, 30, 255}, false)
	plainPNG(t, filepath.Join(none, "noise.png"), 160, 120, color.NRGBA{}, true)
	plainPNG(t, filepath.Join(some, "blue.png"), 120, 140, color.NRGBA{30, 30, 200, 255}, false)
	copyDemo(t, some, "Colin_Powell/Colin_Powell_0001.jpg", "Serena_Williams/Serena_Williams_0001.jpg")
	tests := []struct {
		name   string
		in     string
		csv    string // relative to the output folder
		code   int
		stderr []string // substrings; {out} is the output folder
	}{
		{"no faces", none, "c.csv", 1, []string{"2 of 2 photos in " + none + " left out", "noise.png: detect: no face", "red.png: detect: no face",
			none + ": no photo has a face (2 photos tried): nothing written"}},
		{"csv folder missing", some, "missing/c.csv", 1, []string{"--csv {out}/missing/c.csv: ", "no such file"}},
		{"some faceless", some, "c.csv", 0, []string{"1 of 3 photos in " + some + " left out", "blue.png: detect: no face"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, csvPath := filepath.Join(dir, "c.png"), filepath.Join(dir, tc.csv)
			os.WriteFile(out, []byte("an earlier comparison"), 0o644)
			before := dirListing(t, dir)
			stdout, stderr, code := runCLI(t, "compare", "--in", tc.in, "--out", out, "--csv", csvPath)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, stderr)
			}
			for _, s := range tc.stderr {
				if s = strings.ReplaceAll(s, "{out}", dir); !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if tc.code != 0 {
				if after := dirListing(t, dir); !sameListing(before, after) {
					t.Errorf("output folder changed: before %v, after %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
				}
				if strings.Contains(stdout, "wrote") {
					t.Errorf("stdout claims a file was written: %q", stdout)
				}
				return
			}
			if !strings.Contains(stdout, "3 photos: 2 analysed, 1 failed") {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := imageio.Decode(out); err != nil {
				t.Errorf("PNG: %v", err)
			}
			if b, err := os.ReadFile(csvPath); err != nil || bytes.Count(b, []byte("\n")) != 2 {
				t.Errorf("CSV %q, err %v: want a header and one pair", b, err)
			}
		})
	}
}
