// Package goldentest compares rendered images with the golden PNGs kept in
// a package's testdata folder. The renders come from the face engine and
// from font rasterising, whose last bits differ between CPUs: that may move
// a heatmap cell one step along the colour scale or a score's last printed
// digit, nothing more, so the comparison allows every channel within 2 and
// at most 0.2% of the pixels further off.
package goldentest

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/imageio"
)

// Assert compares img with testdata/name. With update it rewrites the
// golden instead. On a mismatch it writes img to testdata/failed/name and
// fails the test, saying where to look: review it, then rerun with -update.
func Assert(t testing.TB, name string, img *image.NRGBA, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := imageio.WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
		return
	}
	fail := func(format string, a ...any) {
		t.Helper()
		failed := filepath.Join("testdata", "failed", name)
		if err := os.MkdirAll(filepath.Dir(failed), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := imageio.WritePNG(failed, img); err != nil {
			t.Fatal(err)
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
	if off, limit := PixelsOff(want, img), len(want.Pix)/4/500; off > limit {
		fail("%d channel values differ by more than 2 (limit %d)", off, limit)
	}
}

// PixelsOff counts the channel values of a and b, same size, that differ
// by more than 2.
func PixelsOff(a, b *image.NRGBA) int {
	off := 0
	for i := range a.Pix {
		if d := int(a.Pix[i]) - int(b.Pix[i]); d > 2 || d < -2 {
			off++
		}
	}
	return off
}
