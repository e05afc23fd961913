package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/maskinv/workbench/assets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// embeddedNets are the three models the app runs, with their input shapes.
func embeddedNets(t *testing.T) []struct {
	net   *Net
	shape []int
} {
	t.Helper()
	var out []struct {
		net   *Net
		shape []int
	}
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"fr_detect.onnx", assets.Detector()},
		{"fr_landmark.onnx", assets.Landmarker()},
		{"fr_feature.onnx", assets.Recognizer()},
	} {
		n, err := Decode(m.name, m.data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, struct {
			net   *Net
			shape []int
		}{n, n.InputShape()})
	}
	return out
}

func randomInput(seed uint64, shape []int) Tensor {
	r := rand.New(rand.NewPCG(seed, 1))
	in := NewTensor(shape...)
	for i := range in.Data {
		in.Data[i] = 2*r.Float32() - 1
	}
	return in
}

// graphRun runs the model's gorgonia graph on its tape machine, every
// kernel writing a fresh output, as Net.Run did before plans: the reference
// for the plan's slots, views and movement kernels.
func graphRun(t *testing.T, n *Net, in Tensor) []Tensor {
	t.Helper()
	_, p, err := n.buildGraph(in.Shape[0])
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(p.g)
	defer vm.Close()
	if err := G.Let(p.in, tensor.New(tensor.WithShape(in.Shape...), tensor.WithBacking(in.Data))); err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	outs := make([]Tensor, len(p.outputs))
	for i, o := range p.outputs {
		v := o.Value().(tensor.Tensor)
		if d, ok := v.(*tensor.Dense); ok && (d.IsMaterializable() || !d.DataOrder().IsContiguous()) {
			v = d.Materialize()
		}
		outs[i] = Tensor{Shape: append([]int(nil), v.Shape()...), Data: append([]float32(nil), v.Data().([]float32)...)}
	}
	return outs
}

// TestPooledRunsMatch: with slots shared and buffers reused across runs
// (stale contents included), every output of every embedded model equals,
// bit for bit, that of the gorgonia graph, run after run and across batch
// sizes.
func TestPooledRunsMatch(t *testing.T) {
	for _, m := range embeddedNets(t) {
		t.Run(m.net.Name(), func(t *testing.T) {
			for i, batch := range []int{2, 1, 2} {
				shape := append([]int{batch}, m.shape[1:]...)
				in := randomInput(uint64(i), shape)
				got, err := m.net.Run(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				want := graphRun(t, m.net, in)
				sameTensors(t, got, want)
			}
		})
	}
}

// TestInferenceMemoryBounded guards the fix for eval's 1.2 GB peak: a run
// holds only the activations still to be read, and a warm run allocates
// (almost) nothing. Before, each run allocated, and the graph kept, the
// output of every layer (435 MB for the recogniser at batch 32).
func TestInferenceMemoryBounded(t *testing.T) {
	net, err := Decode("fr_feature.onnx", assets.Recognizer())
	if err != nil {
		t.Fatal(err)
	}
	const batch = 8
	ctx := context.Background()
	in := randomInput(1, []int{batch, 3, 112, 112})
	if _, err := net.Run(ctx, in); err != nil {
		t.Fatal(err)
	}
	p, err := net.program(batch)
	if err != nil {
		t.Fatal(err)
	}
	var outputs, largest int64
	for _, k := range p.kernels {
		s := 4 * int64(k.outShape().TotalSize())
		outputs += s
		largest = max(largest, s)
	}
	// A chain of layers needs its widest input and output at once, plus a
	// residual branch or two; a third of all outputs is far above that and
	// far below keeping them all.
	if got := net.pool.allocated(); got > 3*largest || got > outputs/3 {
		t.Errorf("pool holds %d MB after a run; largest activation %d MB, all outputs %d MB", got>>20, largest>>20, outputs>>20)
	}
	for _, b := range []int{batch, 3} { // a smaller batch reuses the same buffers
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := net.Run(ctx, randomInput(2, []int{b, 3, 112, 112})); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if b == batch {
			if got := int64(after.TotalAlloc - before.TotalAlloc); got > outputs/20 {
				t.Errorf("a warm run at batch %d allocated %d MB; its outputs total %d MB", b, got>>20, outputs>>20)
			}
		}
	}
	pooled := net.pool.allocated()
	if _, err := net.Run(ctx, randomInput(3, []int{batch, 3, 112, 112})); err != nil {
		t.Fatal(err)
	}
	if got := net.pool.allocated(); got != pooled {
		t.Errorf("pool grew from %d to %d bytes on a third run", pooled, got)
	}
}

// TestPooledConcurrentRuns: programs of different batch sizes share the
// Net's pool; concurrent runs must not hand one buffer to two of them.
func TestPooledConcurrentRuns(t *testing.T) {
	net, err := Decode("fr_landmark.onnx", assets.Landmarker())
	if err != nil {
		t.Fatal(err)
	}
	shape := net.InputShape()
	inputs := make([]Tensor, 4)
	want := make([][]Tensor, len(inputs))
	for i := range inputs {
		inputs[i] = randomInput(uint64(i), append([]int{1 + i%3}, shape[1:]...))
		want[i] = graphRun(t, net, inputs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(inputs)*10)
	for i := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				got, err := net.Run(context.Background(), inputs[i])
				if err != nil {
					errs <- err.Error()
					return
				}
				for o := range want[i] {
					for j, v := range want[i][o].Data {
						if got[o].Data[j] != v {
							errs <- fmt.Sprintf("input %d: outputs differ from a sequential run", i)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
