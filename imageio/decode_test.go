package imageio

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/maskinv/workbench/internal/testfile"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecodeKinds decodes every supported input kind and checks the working
// type, the size and a pixel.
func TestDecodeKinds(t *testing.T) {
	pic := testPicture(21, 13)
	gray := image.NewGray(image.Rect(0, 0, 9, 7))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 3)
	}
	n64 := image.NewNRGBA64(image.Rect(0, 0, 5, 4))
	n64.SetNRGBA64(2, 1, color.NRGBA64{0xabcd, 0x1234, 0xff00, 0x8000})
	g16 := image.NewGray16(image.Rect(0, 0, 5, 4))
	g16.SetGray16(3, 2, color.Gray16{0x7f80})
	r64 := image.NewRGBA64(image.Rect(0, 0, 5, 4))
	for i := 0; i < len(r64.Pix); i += 8 {
		r64.Pix[i+6], r64.Pix[i+7] = 0xff, 0xff // opaque
	}
	r64.SetRGBA64(1, 1, color.RGBA64{0x1122, 0x3344, 0x5566, 0xffff})
	pal := image.NewPaletted(image.Rect(0, 0, 6, 6), color.Palette{color.Black, color.NRGBA{200, 100, 50, 255}})
	pal.SetColorIndex(4, 5, 1)

	enc := func(f func(io.Writer, image.Image) error, img image.Image) []byte {
		var b bytes.Buffer
		if err := f(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tiffEnc := func(w io.Writer, m image.Image) error { return tiff.Encode(w, m, nil) }
	gifEnc := func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) }

	tests := []struct {
		name   string
		data   []byte
		w, h   int
		at     image.Point
		want   color.NRGBA
		approx int // allowed per-channel difference (lossy formats)
	}{
		{"nrgba.png", encodePNG(t, pic), 21, 13, image.Pt(5, 3), pic.NRGBAAt(5, 3), 0},
		{"gray.png", encodePNG(t, gray), 9, 7, image.Pt(2, 1), color.NRGBA{33, 33, 33, 255}, 0},
		{"nrgba64.png", encodePNG(t, n64), 5, 4, image.Pt(2, 1), color.NRGBA{0xab, 0x12, 0xff, 0x80}, 0},
		{"gray16.png", encodePNG(t, g16), 5, 4, image.Pt(3, 2), color.NRGBA{0x7f, 0x7f, 0x7f, 255}, 0},
		{"rgb48.png", encodePNG(t, r64), 5, 4, image.Pt(1, 1), color.NRGBA{0x11, 0x33, 0x55, 255}, 0},
		{"paletted.png", encodePNG(t, pal), 6, 6, image.Pt(4, 5), color.NRGBA{200, 100, 50, 255}, 0},
		{"paletted.gif", enc(gifEnc, pal), 6, 6, image.Pt(4, 5), color.NRGBA{200, 100, 50, 255}, 0},
		{"pic.bmp", enc(bmp.Encode, pic), 21, 13, image.Pt(5, 3), pic.NRGBAAt(5, 3), 0},
		{"pic.tiff", enc(tiffEnc, pic), 21, 13, image.Pt(5, 3), pic.NRGBAAt(5, 3), 0},
		{"ycbcr.jpg", encodeJPEG(t, pic), 21, 13, image.Pt(10, 6), pic.NRGBAAt(10, 6), 40},
		{"gray.jpg", encodeJPEG(t, gray), 9, 7, image.Pt(2, 1), color.NRGBA{33, 33, 33, 255}, 3},
		// CMYK ink (0, 128, 255, 64): R=(255-0)(255-64)/255, G≈(127)(191)/255, B=0.
		{"cmyk.jpg", cmykJPEG([4]uint8{0, 128, 255, 64}, true), 8, 8, image.Pt(3, 3), color.NRGBA{191, 95, 0, 255}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(writeTemp(t, tc.name, tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if got.Rect != image.Rect(0, 0, tc.w, tc.h) {
				t.Fatalf("bounds %v, want %dx%d at origin", got.Rect, tc.w, tc.h)
			}
			c := got.NRGBAAt(tc.at.X, tc.at.Y)
			if !near(c, tc.want, tc.approx) {
				t.Errorf("pixel %v = %v, want %v (±%d)", tc.at, c, tc.want, tc.approx)
			}
		})
	}
}

func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

// TestDecodeBadInput: each bad input gives an *Error of the right kind that
// names the file, and never a panic.
func TestDecodeBadInput(t *testing.T) {
	jpg := encodeJPEG(t, testPicture(64, 48))
	pngb := encodePNG(t, testPicture(64, 48))
	tests := []struct {
		name string
		data []byte
		kind error
		msg  string // fragment the message must contain
	}{
		{"empty.jpg", nil, ErrFormat, "empty file"},
		{"empty.png", []byte{}, ErrFormat, "empty file"},
		{"notes.txt", []byte("name,score\nalice,0.9\n"), ErrFormat, "unrecognised header"},
		{"fake.jpg", []byte("<html>not an image</html>"), ErrFormat, "unrecognised header"},
		{"truncated.jpg", jpg[:len(jpg)/2], ErrCorrupt, ""},
		{"header-only.jpg", jpg[:200], ErrCorrupt, ""},
		{"signature-only.jpg", jpg[:2], ErrCorrupt, ""},
		{"truncated.png", pngb[:len(pngb)/2], ErrCorrupt, ""},
		{"signature-only.png", pngb[:8], ErrCorrupt, ""},
		{"bad-crc.png", flipByte(pngb, 20), ErrCorrupt, ""},
		{"huge.png", pngHeaderOnly(20000, 20000), ErrTooLarge, "20000×20000"},
		{"zero.png", pngHeaderOnly(0, 10), ErrCorrupt, ""},
		{"cmyk-no-adobe.jpg", cmykJPEG([4]uint8{1, 2, 3, 4}, false), ErrUnsupported, ""},
		{"truncated.gif", encodeGIF(t)[:30], ErrCorrupt, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, tc.name, tc.data)
			img, err := Decode(path)
			if err == nil {
				t.Fatalf("decoded %v, want error", img.Bounds())
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			var e *Error
			if !errors.As(err, &e) || e.Path != path {
				t.Errorf("error %q: want *Error with Path %s", err, path)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q should name %s and say %q", err, path, tc.msg)
			}
		})
	}
}

func flipByte(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

func encodeGIF(t *testing.T) []byte {
	var b bytes.Buffer
	if err := gif.Encode(&b, testPicture(16, 16), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTooLargeAllocatesNothing: refusing a 20,000×20,000 header must not
// allocate anything near its 1.6 GB.
func TestTooLargeAllocatesNothing(t *testing.T) {
	path := writeTemp(t, "huge.png", pngHeaderOnly(20000, 20000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(path)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Errorf("allocated %d bytes refusing the image", d)
	}
}

func TestBudgetOptions(t *testing.T) {
	data := encodePNG(t, testPicture(100, 100))
	if _, err := DecodeReader(bytes.NewReader(data), "mem.png", MaxPixels(100*100)); err != nil {
		t.Errorf("exactly at budget: %v", err)
	}
	_, err := DecodeReader(bytes.NewReader(data), "mem.png", MaxPixels(100*100-1))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "mem.png") {
		t.Errorf("over pixel budget: %v", err)
	}
	_, err = DecodeReader(bytes.NewReader(data), "mem.png", MaxBytes(int64(len(data)-1)))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("over byte budget: %v", err)
	}
	_, err = Decode(writeTemp(t, "f.png", data), MaxBytes(10))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("over byte budget (file): %v", err)
	}
}

func TestDecodeMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.jpg")
	_, err := Decode(p)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want not-exist naming the file", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		w, h   int
		format string
		kind   error
	}{
		{"a.png", encodePNG(t, testPicture(30, 20)), 30, 20, "png", nil},
		{"a.jpg", encodeJPEG(t, testPicture(30, 20)), 30, 20, "jpeg", nil},
		{"huge.png", pngHeaderOnly(20000, 20000), 20000, 20000, "png", nil}, // no budget here
		{"empty.png", nil, 0, 0, "", ErrFormat},
		{"text.png", []byte("hello"), 0, 0, "", ErrFormat},
		{"trunc.jpg", encodeJPEG(t, testPicture(30, 20))[:20], 0, 0, "jpeg", ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, f, err := DecodeConfig(writeTemp(t, tc.name, tc.data))
			if tc.kind != nil {
				if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.name) {
					t.Errorf("err = %v, want %v naming the file", err, tc.kind)
				}
				return
			}
			if err != nil || c.Width != tc.w || c.Height != tc.h || f != tc.format {
				t.Errorf("got %dx%d %q %v, want %dx%d %q", c.Width, c.Height, f, err, tc.w, tc.h, tc.format)
			}
		})
	}
}

// TestLibjpegMatch: our JPEG pixels equal OpenCV's (libjpeg-turbo) except
// for the inverse DCT, which Go implements differently (±1-2 levels).
func TestLibjpegMatch(t *testing.T) {
	tests := []struct{ jpg, ref string }{
		{"photo.jpg", "photo_cv2.png"},
		{"exif6.jpg", "exif6_cv2.png"},
	}
	for _, tc := range tests {
		t.Run(tc.jpg, func(t *testing.T) {
			got, err := Decode(filepath.Join("testdata", "libjpeg", tc.jpg))
			if err != nil {
				t.Fatal(err)
			}
			want := readPNG(t, filepath.Join("testdata", "libjpeg", tc.ref))
			if got.Rect != want.Rect {
				t.Fatalf("bounds %v, OpenCV %v", got.Rect, want.Rect)
			}
			var sum, worst int
			for i := range got.Pix {
				d := int(got.Pix[i]) - int(want.Pix[i])
				d = max(d, -d)
				sum += d
				worst = max(worst, d)
			}
			mean := float64(sum) / float64(len(got.Pix)*3/4)
			t.Logf("mean |Δ| %.3f levels, max %d", mean, worst)
			if mean > 0.2 || worst > 4 {
				t.Errorf("mean |Δ| %.3f, max %d: want ≤ 0.2 and ≤ 4", mean, worst)
			}
		})
	}
}

func readPNG(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	return ToNRGBA(testfile.ReadPNG(t, path))
}

// TestDecoderPanicBecomesError: a panicking decoder yields an error.
func TestDecoderPanicBecomesError(t *testing.T) {
	f := format{
		name:   "boom",
		decode: func(io.Reader) (image.Image, error) { panic("index out of range") },
		config: func(io.Reader) (image.Config, error) { panic("nil map") },
	}
	if _, err := safeDecode(f, bytes.NewReader(nil)); err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("decode: %v", err)
	}
	if _, err := safeConfig(f, bytes.NewReader(nil)); err == nil || !strings.Contains(err.Error(), "nil map") {
		t.Errorf("config: %v", err)
	}
}
