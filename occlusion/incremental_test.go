package occlusion

import (
	"context"
	"errors"
	"image"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
)

// TestIncrementalMatchesPlain: the incremental embeddings of the teacher
// equal whole-crop embeddings, for patches at the corners, edges and
// middle of several grids.
func TestIncrementalMatchesPlain(t *testing.T) {
	tc := loadTeacher(t)
	img := tc.align(t, "Serena_Williams/Serena_Williams_0002.jpg")
	e := teacherEmbedder(t, nil)
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
		origs, gots, err := e.EmbedPatches(context.Background(), []*image.NRGBA{img}, rects, 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		orig, got := origs[0], gots[0]
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

// TestNetEmbedderPair: through OccludeFaces, with batches that straddle
// faces, NetEmbedder's maps equal those of whole crops.
func TestNetEmbedderPair(t *testing.T) {
	tc := loadTeacher(t)
	p := tc.demoPair(t, "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Angelina_Jolie/Angelina_Jolie_0002.jpg")
	e := teacherEmbedder(t, nil)
	opt := Options{Patch: 28, Stride: 14, Batch: 30}
	var last [2]int
	opt.Progress = func(d, n int) { last = [2]int{d, n} }
	fast, err := ComputePair(context.Background(), e, Model{}, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	if last != [2]int{4 * 50, 4 * 50} {
		t.Errorf("last progress %v, want [200 200]", last)
	}
	opt.Progress = nil
	plain, err := ComputePair(context.Background(), &face.Embedder{Net: e.Net(), Batch: 30}, Model{}, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range plain.Settings {
		f := fast.Settings[i]
		if math.Abs(f.Score-s.Score) > 1e-5 {
			t.Errorf("%s: score %v, whole crops %v", s.Setting, f.Score, s.Score)
		}
		for k := range s.A.Drops {
			if math.Abs(f.A.Drops[k]-s.A.Drops[k]) > 1e-5 || math.Abs(f.B.Drops[k]-s.B.Drops[k]) > 1e-5 {
				t.Fatalf("%s cell %d: drops %v %v, whole crops %v %v", s.Setting, k, f.A.Drops[k], f.B.Drops[k], s.A.Drops[k], s.B.Drops[k])
			}
		}
	}
}

// TestNetEmbedderCancel: cancelling stops the pipeline with the context's
// error, and its goroutine ends.
func TestNetEmbedderCancel(t *testing.T) {
	tc := loadTeacher(t)
	img := tc.align(t, "Colin_Powell/Colin_Powell_0003.jpg")
	e := teacherEmbedder(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := runtime.NumGoroutine()
	seen := 0
	_, err := OccludeFaces(ctx, e, []*image.NRGBA{img, img}, Options{Patch: 16, Stride: 8, Batch: 8, Progress: func(d, n int) {
		seen = d
		if d >= 40 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if seen >= 2*170 {
		t.Errorf("progress reached %d of %d after the cancel", seen, 2*170)
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the cancel, %d before", n, before)
	}
}

// TestNetEmbedderFallback: without a split (a model whose first layer is
// not local), EmbedPatches embeds whole crops and gives the same vectors.
func TestNetEmbedderFallback(t *testing.T) {
	tc := loadTeacher(t)
	faces := []*image.NRGBA{tc.align(t, "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"), tc.align(t, "Colin_Powell/Colin_Powell_0002.jpg")}
	e := teacherEmbedder(t, nil)
	rects := Grid{112, 40, 36}.Rects()
	fastOrig, fast, err := e.EmbedPatches(context.Background(), faces, rects, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.split, e.segs = nil, nil
	if e.Incremental() {
		t.Fatal("still incremental")
	}
	n := 0
	wholeOrig, whole, err := e.EmbedPatches(context.Background(), faces, rects, 5, func(k int) { n += k })
	if err != nil {
		t.Fatal(err)
	}
	if n != 2*(len(rects)+1) {
		t.Errorf("progress counted %d, want %d", n, 2*(len(rects)+1))
	}
	for f := range faces {
		worst := maxDiff(fastOrig[f], wholeOrig[f])
		for k := range rects {
			worst = max(worst, maxDiff(fast[f][k], whole[f][k]))
		}
		if worst > 2e-5 {
			t.Errorf("face %d: whole crops differ by %v", f, worst)
		}
	}
}

func TestNetEmbedderBadInput(t *testing.T) {
	e := teacherEmbedder(t, nil)
	good := image.NewNRGBA(image.Rect(0, 0, 112, 112))
	tests := []struct {
		name  string
		faces []*image.NRGBA
		rects []image.Rectangle
		want  error
	}{
		{"small face", []*image.NRGBA{image.NewNRGBA(image.Rect(0, 0, 100, 112))}, []image.Rectangle{image.Rect(0, 0, 8, 8)}, face.ErrSize},
		{"patch outside", []*image.NRGBA{good}, []image.Rectangle{image.Rect(108, 0, 116, 8)}, ErrGrid},
		{"empty patch", []*image.NRGBA{good}, []image.Rectangle{image.Rect(8, 8, 8, 16)}, ErrGrid},
	}
	split, segs := e.split, e.segs
	for _, tc := range tests {
		for _, incremental := range []bool{true, false} {
			e.split, e.segs = split, segs
			if !incremental {
				e.split, e.segs = nil, nil
			}
			if _, _, err := e.EmbedPatches(context.Background(), tc.faces, tc.rects, 8, nil); !errors.Is(err, tc.want) {
				t.Errorf("%s (incremental %v): error %v, want %v", tc.name, incremental, err, tc.want)
			}
		}
	}
	if _, err := NewNetEmbedder("detector", assets.Detector(), nil); !errors.Is(err, engine.ErrModelInput) {
		t.Errorf("the detector as a recogniser: %v, want engine.ErrModelInput", err)
	}
}
