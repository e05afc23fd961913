package goldentest

import (
	"image"
	"testing"
)

func TestPixelsOff(t *testing.T) {
	a := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	tests := []struct {
		name string
		edit func(b *image.NRGBA)
		want int
	}{
		{"same", func(*image.NRGBA) {}, 0},
		{"within 2", func(b *image.NRGBA) { b.Pix[0], b.Pix[5] = 2, 2 }, 0},
		{"one off by 3", func(b *image.NRGBA) { b.Pix[3] = 3 }, 1},
		{"two off", func(b *image.NRGBA) { b.Pix[1], b.Pix[15] = 200, 9 }, 2},
	}
	for _, tt := range tests {
		b := image.NewNRGBA(a.Rect)
		tt.edit(b)
		if got := PixelsOff(a, b); got != tt.want {
			t.Errorf("%s: %d off, want %d", tt.name, got, tt.want)
		}
	}
}
