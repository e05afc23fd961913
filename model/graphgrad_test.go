package model

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/maskinv/workbench/internal/fdcheck"
)

// TestGraphGradients checks that the kernels' gradients are wired into
// gorgonia's symbolic differentiation: a small Conv → PRelu → BatchNorm →
// Gemm → Softmax network, differentiated by gorgonia's Grad on a tape
// machine, against central finite differences of the same graph.
func TestGraphGradients(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	g := G.NewGraph()
	mk := func(name string, shape ...int) *G.Node {
		v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(randSlice(r, tensor.Shape(shape).TotalSize())))
		return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithValue(v), G.WithName(name))
	}
	x, w, b := mk("x", 2, 2, 5, 5), mk("w", 3, 2, 3, 3), mk("b", 3)
	slope, fcW := mk("slope", 3, 1, 1), mk("fc", 4, 27)
	bnScale, bnBias, bnMean := mk("scale", 3), mk("bias", 3), mk("mean", 3)
	bnVar := G.NewTensor(g, tensor.Float64, 1, G.WithShape(3), G.WithValue(tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.5, 1, 2}))), G.WithName("var"))

	must := func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	geom, err := newConvGeom(x.Shape(), w.Shape(), 1, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, true)
	if err != nil {
		t.Fatal(err)
	}
	y := must(applyKernel(convKernel{g: geom}, x, w, b))
	pk, _ := newBinaryKernel(fnPRelu, y.Shape(), slope.Shape())
	y = must(applyKernel(pk, y, slope))
	y = must(applyKernel(batchNormKernel{y.Shape().Clone(), 1e-5}, y, bnScale, bnBias, bnMean, bnVar))
	y = must(G.Reshape(y, tensor.Shape{2, 27}))
	mm, _ := newMatmulKernel(y.Shape(), fcW.Shape(), false, true, 1)
	y = must(applyKernel(mm, y, fcW))
	sm, _ := newSoftmaxKernel(y.Shape().Clone(), 1)
	y = must(applyKernel(sm, y))
	weights := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 4), G.WithValue(tensor.New(tensor.WithShape(2, 4), tensor.WithBacking(randSlice(r, 8)))), G.WithName("r"))
	cost := must(G.Sum(must(G.HadamardProd(y, weights))))

	wrt := G.Nodes{x, w, b, slope, fcW, bnScale, bnBias}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	run := func() float64 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		return cost.Value().Data().(float64)
	}
	run()
	analytic := make([][]float64, len(grads))
	for i, gr := range grads {
		analytic[i] = append([]float64(nil), gr.Value().Data().([]float64)...)
	}
	for i, n := range wrt {
		worst := fdcheck.Worst(n.Value().Data().([]float64), analytic[i], run)
		if worst > 1e-6 {
			t.Errorf("gradient of %s off by %.3g", n.Name(), worst)
		}
	}
}
