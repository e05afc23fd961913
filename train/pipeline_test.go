package train

import (
	"context"
	"errors"
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/sharedtest"
	"github.com/maskinv/workbench/maskgen"
)

// TestPhotoMasker masks real LFW photos before alignment: every key gives
// its own crop of the same face, masked below the nose and aligned from
// the masked photo (so it differs from the unmasked crop around the eyes
// too, as real masked photos do).
func TestPhotoMasker(t *testing.T) {
	lfw := sharedtest.Path(t, "data", "lfw")
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	style, err := maskgen.ParseStyle("surgical")
	if err != nil {
		t.Fatal(err)
	}
	mask := photoMasker(eng, maskgen.Config{Style: style, Seed: 1})
	ctx := context.Background()
	for _, name := range []string{"Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Alex_Sink/Alex_Sink_0002.jpg", "Serena_Williams/Serena_Williams_0004.jpg"} {
		img, err := imageio.Decode(filepath.Join(lfw, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := eng.Locate(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		crops, err := mask(ctx, img, []string{name + "#0", name + "#1"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(crops) != 2 || crops[0].Bounds() != image.Rect(0, 0, 112, 112) {
			t.Fatalf("%s: %d crops", name, len(crops))
		}
		// mean absolute difference over a region of the crop
		diff := func(a, b *image.NRGBA, r image.Rectangle) float64 {
			var s float64
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					for c := 0; c < 3; c++ {
						s += math.Abs(float64(a.Pix[a.PixOffset(x, y)+c]) - float64(b.Pix[b.PixOffset(x, y)+c]))
					}
				}
			}
			return s / float64(3*r.Dx()*r.Dy())
		}
		mouth := image.Rect(40, 88, 72, 100)
		if d := diff(crops[0], plain.Aligned, mouth); d < 20 {
			t.Errorf("%s: mouth region differs by %.1f from the unmasked crop: no mask?", name, d)
		}
		if d := diff(crops[0], crops[1], mouth); d == 0 {
			t.Errorf("%s: two keys drew the same mask", name)
		}
	}
	// An aligned input has no landmarks to place a mask on the photo.
	aligned, err := eng.ProcessAligned(ctx, image.NewNRGBA(image.Rect(0, 0, 112, 112)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.MaskPhoto(ctx, eng, aligned.Aligned, aligned, maskgen.Config{Style: style}, "x"); !errors.Is(err, maskgen.ErrLandmarks) {
		t.Errorf("MaskPhoto on an aligned crop: %v, want ErrLandmarks", err)
	}
}
