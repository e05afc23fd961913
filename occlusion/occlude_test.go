package occlusion

import (
	"context"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/maskinv/workbench/face"
)

// regionEmbedder is a model whose embedding depends only on the pixels of
// one region of the face: normalize(Σ (R−127), Σ (G−127), 1000) over the
// region. Hiding a patch changes the embedding exactly when the patch
// overlaps the region (the test faces have no grey pixels there).
type regionEmbedder struct {
	region image.Rectangle
	mu     sync.Mutex
	calls  []int // batch sizes seen
}

func (e *regionEmbedder) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	e.mu.Lock()
	e.calls = append(e.calls, len(crops))
	e.mu.Unlock()
	out := make([][]float32, len(crops))
	for i, c := range crops {
		out[i] = e.one(c)
	}
	return out, nil
}

func (e *regionEmbedder) one(c *image.NRGBA) []float32 {
	var r, g float64
	for y := e.region.Min.Y; y < e.region.Max.Y; y++ {
		for x := e.region.Min.X; x < e.region.Max.X; x++ {
			p := c.NRGBAAt(c.Rect.Min.X+x, c.Rect.Min.Y+y)
			r += float64(p.R) - 127
			g += float64(p.G) - 127
		}
	}
	v, err := face.Normalize([]float32{float32(r), float32(g), 1000})
	if err != nil {
		panic(err)
	}
	return v
}

// noiseFace is a 112×112 face of random colours, none of them the occluder
// grey in R or G.
func noiseFace(seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewNRGBA(image.Rect(0, 0, face.AlignedSize, face.AlignedSize))
	for i := 0; i < len(img.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			v := uint8(rng.IntN(255))
			if v >= Grey {
				v++ // skip 127
			}
			img.Pix[i+c] = v
		}
		img.Pix[i+3] = 255
	}
	return img
}

// TestRegionOnly is the synthetic case with a known answer: with a model
// that looks only at one region, every cell overlapping the region has a
// non-zero drop and every other cell exactly zero, on both faces; and each
// drop equals the definition computed one occluded image at a time.
func TestRegionOnly(t *testing.T) {
	regions := []image.Rectangle{
		image.Rect(30, 36, 50, 48), // an eye
		image.Rect(0, 0, 5, 5),     // a corner
		image.Rect(100, 96, 112, 112),
	}
	for _, region := range regions {
		emb := &regionEmbedder{region: region}
		p := Pair{NameA: "a", NameB: "b", A: noiseFace(1), B: noiseFace(2)}
		res, err := ComputePair(context.Background(), emb, Model{Name: "fake"}, p, Options{Patch: 8, Stride: 4, Batch: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Settings) != 1 || res.Settings[0].Setting != Unmasked {
			t.Fatalf("settings %+v, want the unmasked one only", res.Settings)
		}
		sm := res.Settings[0]
		ea, eb := emb.one(p.A), emb.one(p.B)
		if want := face.Cosine(ea, eb); sm.Score != want {
			t.Fatalf("score %v, want %v", sm.Score, want)
		}
		for side, c := range []struct {
			m              Map
			face, other    *image.NRGBA
			otherEmbedding []float32
		}{{sm.A, p.A, p.B, eb}, {sm.B, p.B, p.A, ea}} {
			for k, r := range res.Grid.Rects() {
				d := c.m.Drops[k]
				if r.Overlaps(region) == (d == 0) {
					t.Fatalf("region %v, face %d, patch %v: drop %v", region, side, r, d)
				}
				occ := image.NewNRGBA(c.face.Rect)
				occlude(occ, c.face, k, res.Grid.Rects())
				if want := sm.Score - face.Cosine(emb.one(occ), c.otherEmbedding); d != want {
					t.Fatalf("patch %v: drop %v, want %v", r, d, want)
				}
			}
		}
		// 2 faces × (729 + 1) crops in batches of 50: full ones but the last.
		wantCalls := slices.Repeat([]int{50}, 1460/50)
		wantCalls = append(wantCalls, 1460%50)
		if !slices.Equal(emb.calls, wantCalls) {
			t.Errorf("batches %v, want %v", emb.calls, wantCalls)
		}
		// The per-pixel map is non-zero exactly on the patches that overlap
		// the region.
		px := sm.A.Pixels()
		for y := 0; y < 112; y++ {
			for x := 0; x < 112; x++ {
				under := false
				for _, r := range res.Grid.Rects() {
					under = under || (image.Pt(x, y).In(r) && r.Overlaps(region))
				}
				if under == (px[y*112+x] == 0) {
					t.Fatalf("region %v: pixel (%d,%d) = %v", region, x, y, px[y*112+x])
				}
			}
		}
	}
}

// TestOccludeLeavesInputs: the faces are not modified.
func TestOccludeLeavesInputs(t *testing.T) {
	a, b := noiseFace(3), noiseFace(4)
	a0, b0 := slices.Clone(a.Pix), slices.Clone(b.Pix)
	if _, err := ComputePair(context.Background(), &regionEmbedder{region: image.Rect(0, 0, 112, 112)}, Model{}, Pair{A: a, B: b}, Options{Patch: 16, Stride: 8}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Pix, a0) || !slices.Equal(b.Pix, b0) {
		t.Fatal("ComputePair modified its faces")
	}
}

// TestSettings: with masked faces the three settings score the right
// versions against each other, and each face is embedded once.
func TestSettings(t *testing.T) {
	emb := &regionEmbedder{region: image.Rect(20, 20, 90, 90)}
	p := Pair{A: noiseFace(1), B: noiseFace(2), MaskedA: noiseFace(3), MaskedB: noiseFace(4)}
	res, err := ComputePair(context.Background(), emb, Model{}, p, Options{Patch: 28, Stride: 28})
	if err != nil {
		t.Fatal(err)
	}
	e := func(img *image.NRGBA) []float32 { return emb.one(img) }
	want := map[Setting][2]*image.NRGBA{Unmasked: {p.A, p.B}, OneMasked: {p.A, p.MaskedB}, BothMasked: {p.MaskedA, p.MaskedB}}
	if len(res.Settings) != 3 {
		t.Fatalf("%d settings, want 3", len(res.Settings))
	}
	for _, sm := range res.Settings {
		w := want[sm.Setting]
		if score := face.Cosine(e(w[0]), e(w[1])); sm.Score != score || sm.A.Score != score || sm.B.Score != score {
			t.Errorf("%s: scores %v %v %v, want %v", sm.Setting, sm.Score, sm.A.Score, sm.B.Score, score)
		}
		occ := image.NewNRGBA(w[1].Rect)
		occlude(occ, w[1], 5, res.Grid.Rects())
		if d := sm.Score - face.Cosine(e(w[0]), e(occ)); sm.B.Drops[5] != d {
			t.Errorf("%s: map B cell 5 = %v, want %v", sm.Setting, sm.B.Drops[5], d)
		}
	}
	total := 0
	for _, n := range emb.calls {
		total += n
	}
	if total != 4*(16+1) {
		t.Errorf("%d crops embedded, want %d", total, 4*17)
	}
}

// cancelEmbedder cancels its context during call number at.
type cancelEmbedder struct {
	regionEmbedder
	cancel context.CancelFunc
	at     int
	calls  int
}

func (e *cancelEmbedder) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	e.calls++
	if e.calls == e.at {
		e.cancel()
	}
	return e.regionEmbedder.Embed(ctx, crops)
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emb := &cancelEmbedder{regionEmbedder: regionEmbedder{region: image.Rect(0, 0, 8, 8)}, cancel: cancel, at: 3}
	var last [2]int
	_, err := ComputePair(ctx, emb, Model{}, Pair{A: noiseFace(1), B: noiseFace(2)},
		Options{Batch: 16, Progress: func(done, total int) { last = [2]int{done, total} }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if emb.calls != 3 {
		t.Errorf("%d embed calls, want 3 (none after the cancel)", emb.calls)
	}
	if last != [2]int{48, 1460} {
		t.Errorf("last progress %v, want [48 1460]", last)
	}
}

func TestProgress(t *testing.T) {
	var seen [][2]int
	emb := &regionEmbedder{region: image.Rect(0, 0, 8, 8)}
	if _, err := ComputePair(context.Background(), emb, Model{}, Pair{A: noiseFace(1), B: noiseFace(2)},
		Options{Patch: 16, Stride: 16, Batch: 40, Progress: func(d, n int) { seen = append(seen, [2]int{d, n}) }}); err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{0, 100}, {40, 100}, {80, 100}, {100, 100}}
	if !slices.Equal(seen, want) {
		t.Errorf("progress %v, want %v", seen, want)
	}
}

// badEmbedder returns a fixed number of vectors.
type badEmbedder struct{ n int }

func (e badEmbedder) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	return make([][]float32, e.n), nil
}

func TestBadInput(t *testing.T) {
	small := image.NewNRGBA(image.Rect(0, 0, 100, 112))
	tests := []struct {
		name string
		emb  Embedder
		p    Pair
		opt  Options
		want error
	}{
		{"wrong size", &regionEmbedder{}, Pair{A: small, B: noiseFace(1)}, Options{}, face.ErrSize},
		{"stride over patch", &regionEmbedder{}, Pair{A: noiseFace(1), B: noiseFace(1)}, Options{Patch: 4, Stride: 8}, ErrGrid},
		{"missing face", &regionEmbedder{}, Pair{A: noiseFace(1)}, Options{}, ErrPair},
		{"one masked face", &regionEmbedder{}, Pair{A: noiseFace(1), B: noiseFace(1), MaskedA: noiseFace(1)}, Options{}, ErrPair},
		{"short output", badEmbedder{n: 3}, Pair{A: noiseFace(1), B: noiseFace(1)}, Options{}, face.ErrOutput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ComputePair(context.Background(), tc.emb, Model{}, tc.p, tc.opt)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range [][2]float64{{0.0734, 0.1}, {0.051, 0.1}, {0.05, 0.05}, {0.021, 0.025}, {0.2, 0.2}, {0.19, 0.2}, {3, 5}, {0, 0.01}, {math.NaN(), 0.01}} {
		if got := niceCeil(tc[0]); math.Abs(got-tc[1]) > 1e-12 {
			t.Errorf("niceCeil(%v) = %v, want %v", tc[0], got, tc[1])
		}
	}
}
