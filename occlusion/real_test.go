package occlusion

import (
	"context"
	"image"
	"io/fs"
	"math"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/model"
)

// teacher is the embedded recogniser and a pipeline to align demo photos.
type teacher struct {
	pipe *face.Pipeline
	net  *model.Net
}

func loadTeacher(tb testing.TB) teacher {
	tb.Helper()
	det, err := model.Decode("fr_detect.onnx (embedded)", assets.Detector())
	if err != nil {
		tb.Fatal(err)
	}
	lmk, err := model.Decode("fr_landmark.onnx (embedded)", assets.Landmarker())
	if err != nil {
		tb.Fatal(err)
	}
	rec, err := model.Decode("fr_feature.onnx (embedded)", assets.Recognizer())
	if err != nil {
		tb.Fatal(err)
	}
	return teacher{pipe: face.NewPipeline(det, lmk, rec), net: rec}
}

// teacherEmbedder is a NetEmbedder of the embedded recogniser on dev (nil:
// the CPU engine).
func teacherEmbedder(tb testing.TB, dev *model.Device) *NetEmbedder {
	tb.Helper()
	e, err := NewNetEmbedder("fr_feature.onnx", assets.Recognizer(), dev)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// align finds and aligns the face of a demo photo ("Name/Name_0001.jpg").
func (tc teacher) align(tb testing.TB, key string) *image.NRGBA {
	tb.Helper()
	f, err := assets.Demo().Open(key)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := imageio.DecodeReader(f, key)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := tc.pipe.Locate(context.Background(), img)
	if err != nil {
		tb.Fatal(err)
	}
	return r.Aligned
}

// demoPair is two demo photos' aligned crops with paper masks (seed 1,
// keyed by path, as the comparison draws them).
func (tc teacher) demoPair(tb testing.TB, keyA, keyB string) Pair {
	tb.Helper()
	style, err := maskgen.ParseStyle("paper")
	if err != nil {
		tb.Fatal(err)
	}
	cfg := maskgen.Config{Style: style, Seed: 1}
	p := Pair{NameA: keyA, NameB: keyB, A: tc.align(tb, keyA), B: tc.align(tb, keyB)}
	ma, err := cfg.ApplyAligned(p.A, keyA)
	if err != nil {
		tb.Fatal(err)
	}
	mb, err := cfg.ApplyAligned(p.B, keyB)
	if err != nil {
		tb.Fatal(err)
	}
	p.MaskedA, p.MaskedB = ma.Image, mb.Image
	return p
}

// TestTeacherMaps runs the embedded recogniser on two demo photos of one
// person with 28-pixel patches (16 per face): each drop equals the one
// from embedding that occluded crop alone, and hiding parts of a face
// lowers a genuine pair's score on average.
func TestTeacherMaps(t *testing.T) {
	if _, err := fs.Stat(assets.Demo(), "Colin_Powell/Colin_Powell_0001.jpg"); err != nil {
		t.Fatal(err)
	}
	tc := loadTeacher(t)
	p := tc.demoPair(t, "Colin_Powell/Colin_Powell_0001.jpg", "Colin_Powell/Colin_Powell_0002.jpg")
	emb := &face.Embedder{Net: tc.net, Batch: 32}
	res, err := ComputePair(context.Background(), emb, Model{Name: "teacher"}, p, Options{Patch: 28, Stride: 28, Batch: 24})
	if err != nil {
		t.Fatal(err)
	}
	single := &face.Embedder{Net: tc.net, Batch: 1}
	one := func(img *image.NRGBA) []float32 {
		v, err := single.Embed(context.Background(), []*image.NRGBA{img})
		if err != nil {
			t.Fatal(err)
		}
		return v[0]
	}
	for _, sm := range res.Settings {
		a, b := p.A, p.B
		if sm.Setting != Unmasked {
			b = p.MaskedB
		}
		if sm.Setting == BothMasked {
			a = p.MaskedA
		}
		ea, eb := one(a), one(b)
		if want := face.Cosine(ea, eb); math.Abs(sm.Score-want) > 1e-5 {
			t.Errorf("%s: score %v, alone %v", sm.Setting, sm.Score, want)
		}
		sum := 0.0
		for k := range res.Grid.Rects() {
			occ := image.NewNRGBA(a.Rect)
			occlude(occ, a, k, res.Grid.Rects())
			want := face.Cosine(ea, eb) - face.Cosine(one(occ), eb)
			if math.Abs(sm.A.Drops[k]-want) > 1e-5 {
				t.Errorf("%s: cell %d drop %v, alone %v", sm.Setting, k, sm.A.Drops[k], want)
			}
			sum += sm.A.Drops[k] + sm.B.Drops[k]
		}
		t.Logf("%s: score %.4f, mean drop %.4f", sm.Setting, sm.Score, sum/float64(2*res.Grid.Cells()))
		if sum <= 0 {
			t.Errorf("%s: mean drop %v, want > 0 for a genuine pair", sm.Setting, sum/float64(2*res.Grid.Cells()))
		}
	}
}
