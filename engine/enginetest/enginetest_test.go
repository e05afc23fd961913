package enginetest

import (
	"bytes"
	"context"
	"image"
	"testing"

	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/sharedtest"
)

// TestPerturbedTeacher: the same seed gives the same bytes, the model
// runs, and its embeddings differ from the teacher's, but not so much
// that a face stops resembling itself.
func TestPerturbedTeacher(t *testing.T) {
	a, err := PerturbedTeacher(1, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	b, err := PerturbedTeacher(1, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two perturbations with one seed differ")
	}
	c, err := PerturbedTeacher(2, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("seeds 1 and 2 gave the same model")
	}
	crop, err := imageio.Decode(sharedtest.Path(t, "golden", "aligned", "lfw_Alex_Sink_0002.png"))
	if err != nil {
		t.Fatal(err)
	}
	var vecs [2][]float32
	for k, src := range []engine.Source{engine.Teacher(), {Name: "perturbed.onnx", Data: a}} {
		net, err := src.Decode()
		if err != nil {
			t.Fatal(err)
		}
		e := &face.Embedder{Net: net}
		v, err := e.Embed(context.Background(), []*image.NRGBA{crop})
		if err != nil {
			t.Fatal(err)
		}
		vecs[k] = v[0]
	}
	if cos := face.Cosine(vecs[0], vecs[1]); cos > 0.99 || cos < 0.5 {
		t.Errorf("cosine between the teacher's and the perturbed model's embedding of one face is %.4f, want within [0.5, 0.99]", cos)
	}
}
