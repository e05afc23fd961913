package face

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
)

// TestGoldenAlign needs no model: it warps each golden source photo with
// the golden five points and compares with the crop the reference runtime
// fed the recogniser (shared/golden/aligned). The warp is OpenCV-exact, so
// what remains is JPEG decoding: Go's inverse DCT differs from libjpeg's by
// a level here and there (PNG sources from MFR2 match exactly).
func TestGoldenAlign(t *testing.T) {
	shared, g := sharedtest.LoadReference(t)
	var total float64
	for _, it := range g.Items {
		l5, err := Points5(points(it.Landmarks68))
		if err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		for i, p := range points(it.Landmarks5) {
			if math.Abs(p.X-l5[i].X) > 1e-9 || math.Abs(p.Y-l5[i].Y) > 1e-9 {
				t.Errorf("%s: Points5[%d] = %v, golden %v", it.Key, i, l5[i], p)
			}
		}
		src := mustDecode(t, filepath.Join(shared, it.Source))
		crop, _, err := Align(src, l5)
		if err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		want := mustDecode(t, filepath.Join(shared, "golden", it.Aligned))
		mean, worst := meanAbsDiff(crop, want)
		total += mean
		t.Logf("%-32s mean |Δ| %.4f levels, max %d", it.Key, mean, worst)
		if mean > 0.25 {
			t.Errorf("%s: aligned crop differs from golden: mean %.3f levels (max %d)", it.Key, mean, worst)
		}
	}
	mean := total / float64(len(g.Items))
	t.Logf("all %d crops: mean |Δ| %.4f levels", len(g.Items), mean)
	if mean > 0.1 {
		t.Errorf("mean |Δ| over all crops %.3f levels, want ≤ 0.1", mean)
	}
}

func BenchmarkAlignGolden(b *testing.B) {
	shared, g := sharedtest.LoadReference(b)
	it := g.Items[0]
	src := mustDecode(b, filepath.Join(shared, it.Source))
	l5, _ := Points5(points(it.Landmarks68))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Align(src, l5); err != nil {
			b.Fatal(err)
		}
	}
}
