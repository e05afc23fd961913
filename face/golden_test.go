// Golden checks of the face stages against shared/golden: our engine
// (package model) on the reference crops, boxes and photos.

package face

import (
	"context"
	"image"
	"math"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/sharedtest"
	"github.com/maskinv/workbench/model"
)

// loadNet loads one faceplugin model from shared/models, or skips.
func loadNet(t testing.TB, name string) Runner {
	t.Helper()
	path := filepath.Join(sharedtest.Dir(t), "models", "faceplugin", name)
	net, err := model.Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return net
}

// TestGoldenEmbedding: the golden crop through our engine gives the golden
// embedding (cosine ≥ 0.9999, per shared/golden/README.md).
func TestGoldenEmbedding(t *testing.T) {
	shared, g := sharedtest.LoadReference(t)
	e := Embedder{Net: loadNet(t, "fr_feature.onnx")}
	for _, it := range g.Items {
		crop := mustDecode(t, filepath.Join(shared, "golden", it.Aligned))
		vecs, err := e.Embed(context.Background(), []*image.NRGBA{crop})
		if err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		cos := Cosine(vecs[0], it.Embedding)
		t.Logf("%-32s cosine %.6f", it.Key, cos)
		if cos < 0.9999 {
			t.Errorf("%s: cosine with golden embedding %.6f < 0.9999", it.Key, cos)
		}
	}
}

// TestGoldenLandmarks: landmarks on the golden box match the golden ones
// (mean distance ≤ 1.5 px per face; both are truncated to whole pixels).
func TestGoldenLandmarks(t *testing.T) {
	shared, g := sharedtest.LoadReference(t)
	l := Landmarker{Net: loadNet(t, "fr_landmark.onnx")}
	var total float64
	for _, it := range g.Items {
		src := mustDecode(t, filepath.Join(shared, it.Source))
		box := Box{it.Box[0], it.Box[1], it.Box[2], it.Box[3]}
		got, err := l.Landmarks(context.Background(), src, box)
		if err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		want := points(it.Landmarks68)
		var sum float64
		for i := range got {
			sum += math.Hypot(got[i].X-want[i].X, got[i].Y-want[i].Y)
		}
		mean := sum / float64(len(got))
		total += mean
		t.Logf("%-32s mean landmark error %.3f px", it.Key, mean)
		if mean > 1.5 {
			t.Errorf("%s: mean landmark error %.2f px > 1.5", it.Key, mean)
		}
	}
	t.Logf("all faces: mean landmark error %.3f px", total/float64(len(g.Items)))
}

// TestGoldenDetection: the chosen face's box matches the golden box. The
// reference kept the best box below the threshold for one masked face, so
// Fallback is on.
func TestGoldenDetection(t *testing.T) {
	shared, g := sharedtest.LoadReference(t)
	d := Detector{Net: loadNet(t, "fr_detect.onnx"), Config: DetectorConfig{Fallback: true}}
	for _, it := range g.Items {
		src := mustDecode(t, filepath.Join(shared, it.Source))
		faces, err := d.Detect(context.Background(), src)
		if err != nil {
			t.Fatalf("%s: %v", it.Key, err)
		}
		c, ok := ChooseFace(faces, src.Rect.Dx(), src.Rect.Dy())
		if !ok {
			t.Errorf("%s: no face", it.Key)
			continue
		}
		b := c.Faces[c.Index].Box
		d := math.Max(math.Max(math.Abs(b.X1-it.Box[0]), math.Abs(b.Y1-it.Box[1])), math.Max(math.Abs(b.X2-it.Box[2]), math.Abs(b.Y2-it.Box[3])))
		t.Logf("%-32s %s, box off by %.3f px", it.Key, c, d)
		if d > 1 {
			t.Errorf("%s: box %v, golden %v (off by %.2f px)", it.Key, b, it.Box, d)
		}
	}
}

// TestGoldenPipeline runs the whole pipeline on each golden photo and
// compares the crop and the embedding with the golden ones.
func TestGoldenPipeline(t *testing.T) {
	shared, g := sharedtest.LoadReference(t)
	p := NewPipeline(loadNet(t, "fr_detect.onnx"), loadNet(t, "fr_landmark.onnx"), loadNet(t, "fr_feature.onnx"))
	p.Detector.Config.Fallback = true
	for _, it := range g.Items {
		src := mustDecode(t, filepath.Join(shared, it.Source))
		res, err := p.Process(context.Background(), src)
		if err != nil {
			t.Errorf("%s: %v", it.Key, err)
			continue
		}
		want := mustDecode(t, filepath.Join(shared, "golden", it.Aligned))
		mean, worst := meanAbsDiff(res.Aligned, want)
		cos := Cosine(res.Embedding, it.Embedding)
		t.Logf("%-32s crop mean |Δ| %.3f (max %d), cosine %.5f", it.Key, mean, worst, cos)
		if cos < 0.99 {
			t.Errorf("%s: cosine with golden embedding %.4f < 0.99", it.Key, cos)
		}
	}
}
