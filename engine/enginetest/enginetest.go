// Package enginetest builds recognisers for tests: deterministic variants
// of the embedded teacher, to stand in for a second model (a student)
// where none is embedded.
package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/model"
)

// PerturbedTeacher is the embedded recogniser's ONNX with the weights of
// its last weighted layer (the final 1×1 convolution, 512×512) moved by
// Gaussian noise of scale times their standard deviation, drawn from seed:
// the same graph and input, embeddings that differ from the teacher's by
// an amount scale sets, and the same bytes for the same seed and scale.
func PerturbedTeacher(seed uint64, scale float64) ([]byte, error) {
	net, err := model.Decode("fr_feature.onnx (embedded)", assets.Recognizer())
	if err != nil {
		return nil, err
	}
	tr, err := net.Trainable(1)
	if err != nil {
		return nil, err
	}
	params := tr.Params()
	last := -1
	for k, p := range params {
		if p.Op == "Conv" && p.Input == 1 {
			last = k
		}
	}
	if last < 0 {
		return nil, fmt.Errorf("perturb: the teacher has no convolution")
	}
	w := params[last].Value
	var sum, sq float64
	for _, v := range w {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean := sum / float64(len(w))
	sd := math.Sqrt(max(sq/float64(len(w))-mean*mean, 0))
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := range w {
		w[i] += float32(scale * sd * rng.NormFloat64())
	}
	return tr.Export()
}
