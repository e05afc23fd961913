package face

import (
	"context"
	"errors"
	"image"
	"image/color"
	"slices"
	"testing"

	"github.com/maskinv/workbench/model"
)

func TestLandmarkCrop(t *testing.T) {
	tests := []struct {
		name     string
		w, h     int
		box      Box
		wantRect image.Rectangle
		wantGeom landmarkGeom
	}{
		// A golden LFW box: truncated to 60,70–197,206.
		{"inside", 250, 250, Box{60.973, 70.002, 197.963, 206.992}, image.Rect(60, 70, 197, 206), landmarkGeom{60, 70, 137, 136}},
		{"touching w-1, h-1", 100, 100, Box{70, 60, 99, 99}, image.Rect(70, 60, 99, 99), landmarkGeom{70, 60, 29, 39}},
		// Box 150 in a 100×80 photo: scaled to 79 (h−1), centred at 75, then
		// pushed inside: x 20..99, y 0..79. The mapping keeps the box.
		{"larger than photo", 100, 80, Box{0, 0, 150, 150}, image.Rect(20, 0, 99, 79), landmarkGeom{0, 0, 150, 150}},
		{"pushed right", 100, 100, Box{-10, 5, 30, 45}, image.Rect(0, 5, 40, 45), landmarkGeom{-10, 5, 40, 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, g, err := landmarkCrop(tc.w, tc.h, tc.box)
			if err != nil {
				t.Fatal(err)
			}
			if r != tc.wantRect || g != tc.wantGeom {
				t.Errorf("crop %v geom %+v, want %v %+v", r, g, tc.wantRect, tc.wantGeom)
			}
		})
	}
	for _, box := range []Box{{10, 10, 10.9, 50}, {10, 10, 50, 10}} {
		if _, _, err := landmarkCrop(100, 100, box); !errors.Is(err, ErrSize) {
			t.Errorf("box %v: err = %v, want ErrSize", box, err)
		}
	}
}

func TestLandmarkInput(t *testing.T) {
	// A 64×64 box makes the resize a copy, so values are hand-computable.
	img := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 200, 100, 50, 255
	}
	img.SetNRGBA(13, 12, color.NRGBA{0, 0, 255, 255})
	in, g, err := landmarkInput(img, Box{10.7, 10.2, 74.9, 74.1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Shape, []int{1, 1, 64, 64}) || g != (landmarkGeom{10, 10, 64, 64}) {
		t.Fatalf("shape %v geom %+v", in.Shape, g)
	}
	// (200·3735 + 100·19235 + 50·9798 + 2¹⁴) >> 15 = 96: red weighs 0.114.
	if in.Data[0] != 96.0/256 {
		t.Errorf("grey %v, want 96/256", in.Data[0])
	}
	// Pure blue weighs 0.299: (255·9798 + 2¹⁴) >> 15 = 76.
	if got := in.Data[2*64+3]; got != 76.0/256 {
		t.Errorf("blue pixel grey %v, want 76/256", got*256)
	}
}

func TestLandmarksToPhoto(t *testing.T) {
	out := make([]float32, 136)
	out[0], out[1] = 0.5, 0.25    // → 10+68.5, 20+34
	out[2], out[3] = -0.05, 0.999 // → 10−6.85, 20+135.864
	g := landmarkGeom{10, 20, 137, 136}
	trunc := g.toPhoto(out, false)
	if trunc[0] != (Point{78, 54}) || trunc[1] != (Point{3, 155}) {
		t.Errorf("truncated: %v %v", trunc[0], trunc[1])
	}
	sub := g.toPhoto(out, true)
	if d := sub[0].X - 78.5; d > 1e-6 || d < -1e-6 {
		t.Errorf("subpixel: %v", sub[0])
	}
}

func TestLandmarkerOutputErrors(t *testing.T) {
	l := Landmarker{Net: &fakeNet{fn: func(model.Tensor) ([]model.Tensor, error) {
		return []model.Tensor{{Shape: []int{1, 10}, Data: make([]float32, 10)}}, nil
	}}}
	if _, err := l.Landmarks(context.Background(), picture(100, 100), Box{10, 10, 60, 60}); !errors.Is(err, ErrOutput) {
		t.Errorf("err = %v, want ErrOutput", err)
	}
}

func BenchmarkLandmarkInput(b *testing.B) {
	src := picture(250, 250)
	box := Box{60.973, 70.002, 197.963, 206.992}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := landmarkInput(src, box); err != nil {
			b.Fatal(err)
		}
	}
}
