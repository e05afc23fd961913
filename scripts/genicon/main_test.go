package main

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"testing"

	"github.com/maskinv/workbench/assets"
)

// The committed icon must be what this program draws; compare decoded pixels
// rather than file bytes, since PNG compression may change between Go
// releases.
func TestCommittedIconMatchesDrawing(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(assets.Icon()))
	if err != nil {
		t.Fatal(err)
	}
	got := image.NewNRGBA(img.Bounds())
	draw.Draw(got, got.Rect, img, img.Bounds().Min, draw.Src)
	want := Draw(512)
	if !got.Rect.Eq(want.Rect) {
		t.Fatalf("assets/icon.png is %v, want %v", got.Rect, want.Rect)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		t.Error("assets/icon.png differs from the drawing; run: go run ./scripts/genicon -o assets/icon.png")
	}
}

func TestDrawScales(t *testing.T) {
	small := Draw(64)
	if small.Rect.Dx() != 64 || small.Rect.Dy() != 64 {
		t.Fatalf("Draw(64) is %v", small.Rect)
	}
	// Corners lie outside the rounded background and stay transparent; the
	// centre is inside the face.
	if a := small.NRGBAAt(0, 0).A; a != 0 {
		t.Errorf("corner alpha %d, want 0", a)
	}
	if a := small.NRGBAAt(32, 32).A; a != 255 {
		t.Errorf("centre alpha %d, want 255", a)
	}
}
