package cli

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/maskinv/workbench/imageio"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// assertGolden compares the PNG at got with testdata/name: every channel
// within 2, and at most 0.2% of pixels further off (text whose last digit
// moved on another CPU). On a mismatch it copies got to
// testdata/failed/name.
func assertGolden(t *testing.T, name, got string) {
	t.Helper()
	img, err := imageio.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := imageio.WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
		return
	}
	fail := func(format string, a ...any) {
		t.Helper()
		failed := filepath.Join("testdata", "failed", name)
		os.MkdirAll(filepath.Dir(failed), 0o755)
		if err := imageio.WritePNG(failed, img); err != nil {
			t.Error(err)
		}
		t.Errorf("%s: %s; got written to %s (review it, then rerun with -update)", path, fmt.Sprintf(format, a...), failed)
	}
	want, err := imageio.Decode(path)
	if errors.Is(err, fs.ErrNotExist) {
		fail("no golden")
		return
	} else if err != nil {
		t.Fatal(err)
	}
	if want.Rect != img.Rect {
		fail("size %v, want %v", img.Rect, want.Rect)
		return
	}
	if off, limit := pixelsOff(want, img), len(want.Pix)/4/500; off > limit {
		fail("%d channel values differ by more than 2 (limit %d)", off, limit)
	}
}

func pixelsOff(a, b *image.NRGBA) int {
	off := 0
	for i := range a.Pix {
		if d := int(a.Pix[i]) - int(b.Pix[i]); d > 2 || d < -2 {
			off++
		}
	}
	return off
}

// assertSameCSV compares two CSV files field by field: text exactly,
// numbers within tol (the last digit of a score may differ between CPUs).
func assertSameCSV(t *testing.T, got, want string, tol float64) {
	t.Helper()
	read := func(p string) [][]string {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return rows
	}
	g, w := read(got), read(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d rows, want %d", got, len(g), len(w))
	}
	for i := range w {
		if len(g[i]) != len(w[i]) {
			t.Fatalf("%s row %d: %d fields, want %d", got, i, len(g[i]), len(w[i]))
		}
		for k := range w[i] {
			a, errA := strconv.ParseFloat(g[i][k], 64)
			b, errB := strconv.ParseFloat(w[i][k], 64)
			// tol·(1+1e-9): a difference of exactly tol between two printed
			// decimals (one unit in the last place) parses to a hair more.
			if g[i][k] == w[i][k] || (errA == nil && errB == nil && math.Abs(a-b) <= tol*(1+1e-9)) {
				continue
			}
			t.Fatalf("%s row %d field %d = %q, want %q", got, i, k, g[i][k], w[i][k])
		}
	}
}
