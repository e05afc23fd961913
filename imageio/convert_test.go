package imageio

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"testing"
)

// TestYCbCrColour: libjpeg's fixed-point conversion stays within one level of
// the floating-point JFIF formula for every input.
func TestYCbCrColour(t *testing.T) {
	for y := 0; y < 256; y += 5 {
		for cb := 0; cb < 256; cb += 3 {
			for cr := 0; cr < 256; cr += 3 {
				r, g, b := ycbcrRGB(uint8(y), uint8(cb), uint8(cr))
				fr := float64(y) + 1.402*float64(cr-128)
				fg := float64(y) - 0.34414*float64(cb-128) - 0.71414*float64(cr-128)
				fb := float64(y) + 1.772*float64(cb-128)
				for _, p := range []struct {
					got uint8
					f   float64
				}{{r, fr}, {g, fg}, {b, fb}} {
					want := clamp8(int(p.f + 0.5))
					if d := int(p.got) - int(want); d < -1 || d > 1 {
						t.Fatalf("YCbCr(%d,%d,%d) = %d,%d,%d; float %.2f,%.2f,%.2f", y, cb, cr, r, g, b, fr, fg, fb)
					}
				}
			}
		}
	}
}

// TestFancyUpsampling checks the triangle filters on hand-computed rows.
func TestFancyUpsampling(t *testing.T) {
	// h2v1 on one row of chroma samples 0, 100: outputs
	// [0, (0*3+100+2)>>2=25, (100*3+0+1)>>2=75, 100].
	if got := fancyH2V1([]uint8{0, 100}, 2, 4, 1); !bytes.Equal(got, []uint8{0, 25, 75, 100}) {
		t.Errorf("h2v1 = %v", got)
	}
	// h1v2 on one column 0, 100: [0, (0+100+2)>>2=25, (300+0+1)>>2=75, 100].
	if got := fancyH1V2([]uint8{0, 100}, 1, 1, 4); !bytes.Equal(got, []uint8{0, 25, 75, 100}) {
		t.Errorf("h1v2 = %v", got)
	}
	// h2v2 on a 2×2 chroma block [[0,160],[160,0]] → 4×4.
	// Column sums for output row 0 (far row = row 0 itself): 0, 640.
	// Row 1 (far row 1): 3·0+160=160, 3·160+0=480. Then horizontally:
	// row 0: (0·4+8)>>4=0, (0·3+640+7)>>4=40, (640·3+0+8)>>4=120, (640·4+7)>>4=160.
	// row 1: (640+8)>>4=40, (480+480+7)>>4=60, (1440+160+8)>>4=100, (1920+7)>>4=120.
	// Rows 2 and 3 mirror rows 1 and 0.
	got := fancyH2V2([]uint8{0, 160, 160, 0}, 2, 4, 4)
	want := []uint8{
		0, 40, 120, 160,
		40, 60, 100, 120,
		120, 100, 60, 40,
		160, 120, 40, 0,
	}
	if !bytes.Equal(got, want) {
		t.Errorf("h2v2 =\n%v\nwant\n%v", got, want)
	}
}

// TestToNRGBAMatchesDraw: the fast paths agree with draw.Draw (the slow,
// generic path) for exact types, including sub-images with offsets.
func TestToNRGBAMatchesDraw(t *testing.T) {
	pic := testPicture(17, 11)
	gray := image.NewGray(pic.Rect)
	draw.Draw(gray, gray.Rect, pic, image.Point{}, draw.Src)
	rgba := image.NewRGBA(pic.Rect)
	draw.Draw(rgba, rgba.Rect, pic, image.Point{}, draw.Src)
	pal := image.NewPaletted(pic.Rect, color.Palette{color.Black, color.White, color.NRGBA{1, 2, 3, 255}})
	draw.Draw(pal, pal.Rect, pic, image.Point{}, draw.Src)
	sub := image.Rect(3, 2, 12, 9)
	tests := []struct {
		name string
		img  image.Image
	}{
		{"nrgba", pic},
		{"nrgba-sub", pic.SubImage(sub)},
		{"gray-sub", gray.SubImage(sub)},
		{"rgba-sub", rgba.SubImage(sub)},
		{"paletted-sub", pal.SubImage(sub)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ToNRGBA(tc.img)
			b := tc.img.Bounds()
			want := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
			draw.Draw(want, want.Rect, tc.img, b.Min, draw.Src)
			if got.Rect != want.Rect || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("fast path differs from draw.Draw")
			}
		})
	}
}

// TestYCbCrSubImage: sub-images replicate chroma and still convert.
func TestYCbCrSubImage(t *testing.T) {
	m := image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i * 4)
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 128, 128
	}
	got := ToNRGBA(m.SubImage(image.Rect(1, 1, 5, 6)))
	if got.Rect != image.Rect(0, 0, 4, 5) {
		t.Fatalf("bounds %v", got.Rect)
	}
	if c, want := got.NRGBAAt(0, 0), m.Y[m.YOffset(1, 1)]; c.R != want || c.G != want || c.B != want {
		t.Errorf("neutral chroma: %v, want grey %d", c, want)
	}
}

func TestOrient(t *testing.T) {
	// A 3×2 image whose pixels are numbered 0..5 in the red channel:
	//   0 1 2
	//   3 4 5
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := 0; i < 6; i++ {
		src.Pix[4*i] = uint8(i)
	}
	tests := []struct {
		o    int
		w, h int
		want []uint8
	}{
		{1, 3, 2, []uint8{0, 1, 2, 3, 4, 5}},
		{2, 3, 2, []uint8{2, 1, 0, 5, 4, 3}},
		{3, 3, 2, []uint8{5, 4, 3, 2, 1, 0}},
		{4, 3, 2, []uint8{3, 4, 5, 0, 1, 2}},
		{5, 2, 3, []uint8{0, 3, 1, 4, 2, 5}},
		{6, 2, 3, []uint8{3, 0, 4, 1, 5, 2}},
		{7, 2, 3, []uint8{5, 2, 4, 1, 3, 0}},
		{8, 2, 3, []uint8{2, 5, 1, 4, 0, 3}},
		{9, 3, 2, []uint8{0, 1, 2, 3, 4, 5}},
	}
	for _, tc := range tests {
		got := Orient(src, tc.o)
		if got.Rect.Dx() != tc.w || got.Rect.Dy() != tc.h {
			t.Errorf("orientation %d: %v, want %dx%d", tc.o, got.Rect, tc.w, tc.h)
			continue
		}
		var red []uint8
		for i := 0; i < len(got.Pix); i += 4 {
			red = append(red, got.Pix[i])
		}
		if !bytes.Equal(red, tc.want) {
			t.Errorf("orientation %d: %v, want %v", tc.o, red, tc.want)
		}
	}
}

func TestEXIFOrientation(t *testing.T) {
	app1 := func(order string, tag uint16, typ uint16, val uint16) []byte {
		var tiff []byte
		le := order == "II"
		u16 := func(v uint16) []byte {
			if le {
				return []byte{byte(v), byte(v >> 8)}
			}
			return []byte{byte(v >> 8), byte(v)}
		}
		u32 := func(v uint32) []byte {
			if le {
				return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
			}
			return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		}
		tiff = append(tiff, order...)
		tiff = append(tiff, u16(42)...)
		tiff = append(tiff, u32(8)...)
		tiff = append(tiff, u16(1)...)
		tiff = append(tiff, u16(tag)...)
		tiff = append(tiff, u16(typ)...)
		tiff = append(tiff, u32(1)...)
		tiff = append(tiff, u16(val)...)
		tiff = append(tiff, 0, 0, 0, 0, 0, 0)
		body := append([]byte("Exif\x00\x00"), tiff...)
		n := len(body) + 2
		return append([]byte{0xff, 0xd8, 0xff, 0xe1, byte(n >> 8), byte(n)}, body...)
	}
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"little-endian 6", app1("II", 0x0112, 3, 6), 6},
		{"big-endian 8", app1("MM", 0x0112, 3, 8), 8},
		{"other tag", app1("II", 0x0110, 3, 6), 1},
		{"wrong type", app1("II", 0x0112, 4, 6), 1},
		{"out of range", app1("II", 0x0112, 3, 42), 1},
		{"truncated", app1("II", 0x0112, 3, 6)[:20], 1},
		{"no exif", []byte{0xff, 0xd8, 0xff, 0xda, 0, 2}, 1},
	}
	for _, tc := range tests {
		if got := exifOrientation(tc.data); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func BenchmarkToNRGBAYCbCr420(b *testing.B) {
	m := image.NewYCbCr(image.Rect(0, 0, 250, 250), image.YCbCrSubsampleRatio420)
	for i := range m.Y {
		m.Y[i] = uint8(i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ToNRGBA(m)
	}
}
