package imageio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: any bytes give an image within budget or an *Error of one of
// our kinds, and never a panic.
func FuzzDecode(f *testing.F) {
	jpg := encodeJPEG(f, testPicture(16, 12))
	pngb := encodePNG(f, testPicture(16, 12))
	seeds := [][]byte{
		nil, []byte("not an image"), jpg, jpg[:len(jpg)/2], pngb, pngb[:40],
		pngHeaderOnly(20000, 20000), pngHeaderOnly(3, 3),
		cmykJPEG([4]uint8{10, 20, 30, 40}, true), cmykJPEG([4]uint8{10, 20, 30, 40}, false),
	}
	for _, name := range []string{"photo.jpg", "exif6.jpg"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "libjpeg", name)); err == nil {
			seeds = append(seeds, b)
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	const budget = 1 << 16 // keep the fuzzer's memory small
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := DecodeReader(bytes.NewReader(data), "fuzz", MaxPixels(budget))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not *Error", err, err)
			}
			for _, k := range []error{ErrFormat, ErrUnsupported, ErrCorrupt, ErrTooLarge} {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error %v has no kind", err)
		}
		if b := img.Bounds(); b.Min.X != 0 || b.Min.Y != 0 || int64(b.Dx())*int64(b.Dy()) > budget {
			t.Fatalf("bounds %v", b)
		}
	})
}
