package occlusion

import (
	"context"
	"image"
	"math"
	"testing"

	"github.com/maskinv/workbench/assets"
)

// TestIncrementalMatchesPlain: the incremental embeddings of the teacher
// equal whole-crop embeddings, for patches at the corners, edges and
// middle of several grids.
func TestIncrementalMatchesPlain(t *testing.T) {
	tc := loadTeacher(t)
	img := tc.align(t, "Serena_Williams/Serena_Williams_0002.jpg")
	e, err := NewNetEmbedder("fr_feature.onnx", assets.Recognizer())
	if err != nil {
		t.Fatal(err)
	}
	if !e.Incremental() {
		t.Fatal("the teacher does not split")
	}
	for _, g := range []Grid{{112, 8, 4}, {112, 16, 8}, {112, 10, 6}, {112, 3, 3}, {112, 40, 36}} {
		all := g.Rects()
		n := g.Side()
		var rects []image.Rectangle
		for _, ij := range [][2]int{{0, 0}, {0, n - 1}, {n - 1, 0}, {n - 1, n - 1}, {0, n / 2}, {n / 2, 0}, {n / 2, n / 2}, {n / 3, 2 * n / 3}, {n - 1, n / 2}, {n/2 + 1, n - 1}} {
			rects = append(rects, all[ij[0]*n+ij[1]])
		}
		orig, got, err := e.EmbedPatches(context.Background(), img, rects, 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.plan(rects)
		if err != nil {
			t.Fatal(err)
		}
		crops := []*image.NRGBA{img}
		for _, r := range rects {
			c := image.NewNRGBA(img.Rect)
			occludeRect(c, img, r)
			crops = append(crops, c)
		}
		want, err := e.Embed(context.Background(), crops)
		if err != nil {
			t.Fatal(err)
		}
		worst := maxDiff(orig, want[0])
		for j := range rects {
			worst = max(worst, maxDiff(got[j], want[j+1]))
		}
		t.Logf("grid %+v: %d stages on tiles, largest difference %.2g", g, len(p.stages), worst)
		if worst > 2e-5 {
			t.Errorf("grid %+v: incremental embeddings differ from whole crops by %v", g, worst)
		}
	}
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
