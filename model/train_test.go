package model

import (
	"bytes"
	"context"
	"math"
	"math/rand"
	"testing"
)

// trainNet decodes trainModel(withBN).
func trainNet(tb testing.TB, withBN bool) *Net {
	tb.Helper()
	net, err := Decode("train.onnx", trainModel(withBN))
	if err != nil {
		tb.Fatal(err)
	}
	return net
}

// trainModel is a small network with every op the student needs: Conv,
// PRelu, depthwise Conv (stride 2), optionally BatchNormalization, a
// residual Add, Flatten and Gemm, on N×3×8×8 input.
func trainModel(withBN bool) []byte {
	r := rand.New(rand.NewSource(3))
	w := func(n int, s float64) []float32 {
		o := make([]float32, n)
		for i := range o {
			o[i] = float32(s * (2*r.Float64() - 1))
		}
		return o
	}
	one, four := 1, 4
	nodes := [][]byte{
		nodeProto("Conv", "conv0", []string{"x", "w0", "b0"}, []string{"c0"}, attr{name: "pads", ints: []int{1, 1, 1, 1}}),
		nodeProto("PRelu", "act0", []string{"c0", "s0"}, []string{"a0"}),
		nodeProto("Conv", "dw1", []string{"a0", "w1"}, []string{"c1"}, attr{name: "pads", ints: []int{1, 1, 1, 1}}, attr{name: "strides", ints: []int{2, 2}}, attr{name: "group", i: &four}),
	}
	inits := [][]byte{
		initializer("w0", []int{4, 3, 3, 3}, w(108, 0.4)),
		initializer("b0", []int{4}, w(4, 0.1)),
		initializer("s0", []int{4, 1, 1}, []float32{0.25, 0.1, 0.3, 0.2}),
		initializer("w1", []int{4, 1, 3, 3}, w(36, 0.5)),
		initializer("w2", []int{4, 4, 1, 1}, w(16, 0.5)),
		initializer("fc", []int{5, 64}, w(320, 0.2)),
		initializer("fcb", []int{5}, w(5, 0.1)),
	}
	last := "c1"
	if withBN {
		nodes = append(nodes, nodeProto("BatchNormalization", "bn1", []string{"c1", "g", "beta", "mu", "var"}, []string{"n1"}))
		inits = append(inits,
			initializer("g", []int{4}, []float32{1, 0.5, 1.5, 0.8}), initializer("beta", []int{4}, w(4, 0.1)),
			initializer("mu", []int{4}, make([]float32, 4)), initializer("var", []int{4}, []float32{1, 1, 1, 1}))
		last = "n1"
	}
	nodes = append(nodes,
		nodeProto("Conv", "pw2", []string{last, "w2"}, []string{"c2"}),
		nodeProto("Add", "res", []string{"c2", last}, []string{"r"}),
		nodeProto("Flatten", "flat", []string{"r"}, []string{"f"}, attr{name: "axis", i: &one}),
		nodeProto("Gemm", "fc", []string{"f", "fc", "fcb"}, []string{"y"}, attr{name: "transB", i: &one}),
	)
	return modelBytes(graphSpec{nodes: nodes, initializers: inits,
		inputs: [][]byte{valueInfo("x", 1, 3, 8, 8)}, outputs: [][]byte{valueInfo("y", 1, 5)}})
}

func trainInput(r *rand.Rand, n int) Tensor {
	x := NewTensor(n, 3, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32(2*r.Float64() - 1)
	}
	return x
}

// dotLoss is L = Σ out·r: its gradient is r.
func dotLoss(r []float32) LossFunc {
	return func(out, grad []float32) float64 {
		var s float64
		for i, v := range out {
			s += float64(v) * float64(r[i])
			grad[i] = r[i]
		}
		return s
	}
}

// TestTrainableGradients checks every weight's gradient (Conv, PRelu,
// depthwise Conv, BatchNorm in training mode, residual Add, Gemm) against
// central finite differences of the float32 training graph.
func TestTrainableGradients(t *testing.T) {
	for _, bn := range []bool{false, true} {
		net := trainNet(t, bn)
		tr, err := net.Trainable(3)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewSource(5))
		x := trainInput(r, 3)
		weights := make([]float32, 15)
		for i := range weights {
			weights[i] = float32(2*r.Float64() - 1)
		}
		ctx := context.Background()
		if _, _, err := tr.Step(ctx, x, dotLoss(weights)); err != nil {
			t.Fatal(err)
		}
		want := len(trainModelParams(bn))
		if len(tr.Params()) != want {
			t.Fatalf("bn=%v: %d params, want %d", bn, len(tr.Params()), want)
		}
		for _, p := range tr.Params() {
			if p.Grad == nil {
				continue
			}
			analytic := append([]float32(nil), p.Grad...)
			var num, diff float64
			for j := range p.Value {
				const h = 1e-3
				orig := p.Value[j]
				p.Value[j] = orig + h
				up, _, _ := tr.Step(ctx, x, dotLoss(weights))
				p.Value[j] = orig - h
				down, _, _ := tr.Step(ctx, x, dotLoss(weights))
				p.Value[j] = orig
				g := (up - down) / (2 * h)
				num += g * g
				diff += (g - float64(analytic[j])) * (g - float64(analytic[j]))
			}
			if rel := math.Sqrt(diff / math.Max(num, 1e-6)); rel > 2e-2 {
				t.Errorf("bn=%v: gradient of %s off by %.3g (relative norm)", bn, p.Name, rel)
			}
		}
	}
}

func trainModelParams(bn bool) []string {
	p := []string{"w0", "b0", "s0", "w1", "w2", "fc", "fcb"}
	if bn {
		p = append(p, "g", "beta", "mu", "var")
	}
	return p
}

func TestTrainableLeavesNetUnchanged(t *testing.T) {
	net := trainNet(t, false)
	x := trainInput(rand.New(rand.NewSource(1)), 2)
	before, err := net.Run(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := net.Trainable(2)
	if err != nil {
		t.Fatal(err)
	}
	if p := tr.Params()[0]; p.Name != "w0" || p.Op != "Conv" || p.Input != 1 {
		t.Errorf("first param %s is input %d of %s, want w0, Conv input 1", p.Name, p.Input, p.Op)
	}
	for _, p := range tr.Params() {
		for i := range p.Value {
			p.Value[i] *= 2
		}
	}
	after, _ := net.Run(context.Background(), x)
	for i := range before[0].Data {
		if before[0].Data[i] != after[0].Data[i] {
			t.Fatal("changing a Trainable's weights changed the Net")
		}
	}
}

// TestExportRoundTrip: changed weights, exported, decoded and run give the
// trainable's own outputs; BatchNorm running statistics travel too.
func TestExportRoundTrip(t *testing.T) {
	net := trainNet(t, false)
	tr, err := net.Trainable(2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(9))
	for _, p := range tr.Params() {
		for i := range p.Value {
			p.Value[i] += float32(0.1 * (2*r.Float64() - 1))
		}
	}
	x := trainInput(r, 2)
	_, out, err := tr.Step(context.Background(), x, dotLoss(make([]float32, 10)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := tr.Export()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode("exported.onnx", data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Run(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out.Data {
		if d := math.Abs(float64(v - got[0].Data[i])); d > 1e-4 {
			t.Fatalf("output %d: exported %v, trainable %v", i, got[0].Data[i], v)
		}
	}
	// Unchanged weights export to the same bytes' meaning: re-export of the
	// decoded model with its own weights is byte-identical.
	tr2, err := again.Trainable(1)
	if err != nil {
		t.Fatal(err)
	}
	data2, err := tr2.Export()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, data2) {
		t.Error("re-exporting unchanged weights changed the bytes")
	}

	bnNet, err := Decode("bn.onnx", trainModel(true))
	if err != nil {
		t.Fatal(err)
	}
	bt, err := bnNet.Trainable(4)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bt.Step(context.Background(), trainInput(r, 4), dotLoss(make([]float32, 20))); err != nil {
		t.Fatal(err)
	}
	var mu []float32
	for _, p := range bt.Params() {
		if p.Name == "mu" {
			mu = p.Value
		}
	}
	if mu == nil || (mu[0] == 0 && mu[1] == 0) {
		t.Fatalf("running mean not updated: %v", mu)
	}
	if _, err := bt.Export(); err != nil {
		t.Fatal(err)
	}
}

func TestBNTrainGradients(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	k := &bnTrainKernel{shape: []int{3, 2, 2, 3}, eps: 1e-5, momentum: 0.9}
	in := [][]float64{randSlice(r, 36), {1.5, -0.5}, {0.1, 0.2}, {0, 0}, {1, 1}}
	checkGradients(t, k, in)
}

func TestRewriteInitializersRejects(t *testing.T) {
	if _, err := rewriteInitializers(trainModel(false), map[string]Tensor{"nope": {Shape: []int{1}, Data: []float32{1}}}); err == nil {
		t.Error("unknown initializer accepted")
	}
	if _, err := rewriteInitializers([]byte{0x0a, 0xff}, nil); err == nil {
		t.Error("corrupt bytes accepted")
	}
}

// TestRecoverTrainBuild: a panic while a training graph is built comes back
// as an error naming the model and batch, with a nil result.
func TestRecoverTrainBuild(t *testing.T) {
	n := &Net{name: "m.onnx"}
	build := func() (_ *Trainable, err error) {
		defer n.recoverTrainBuild(4, &err)
		panic("shape (3, 4) does not fit")
	}
	got, err := build()
	if got != nil {
		t.Errorf("result %v after a panic, want nil", got)
	}
	if want := "model m.onnx: building training graph for batch 4: shape (3, 4) does not fit"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
