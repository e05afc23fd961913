package face

import (
	"context"
	"image"
	"image/color"
	"sync"
	"testing"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/model"
)

func points(ps [][2]float64) []Point {
	out := make([]Point, len(ps))
	for i, p := range ps {
		out[i] = Point{p[0], p[1]}
	}
	return out
}

func mustDecode(t testing.TB, path string) *image.NRGBA {
	t.Helper()
	img, err := imageio.Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// meanAbsDiff is the mean absolute difference over the RGB channels.
func meanAbsDiff(a, b *image.NRGBA) (mean float64, worst int) {
	var sum, n int
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			pa, pb := a.Pix[a.PixOffset(x, y):], b.Pix[b.PixOffset(x, y):]
			for c := 0; c < 3; c++ {
				d := int(pa[c]) - int(pb[c])
				d = max(d, -d)
				sum += d
				worst = max(worst, d)
				n++
			}
		}
	}
	return float64(sum) / float64(n), worst
}

// picture is a deterministic smooth RGB test picture.
func picture(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(20 + 200*x/max(w-1, 1)), uint8(230 - 180*y/max(h-1, 1)), uint8(40 + 150*(x+y)/max(w+h-2, 1)), 255})
		}
	}
	return m
}

// fakeNet is a Runner answering with a function; it records the inputs.
type fakeNet struct {
	mu    sync.Mutex
	calls []model.Tensor
	fn    func(in model.Tensor) ([]model.Tensor, error)
}

func (f *fakeNet) Run(ctx context.Context, in model.Tensor) ([]model.Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.calls = append(f.calls, in)
	f.mu.Unlock()
	return f.fn(in)
}
