package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/maskinv/workbench/assets"
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

// unpooled builds a program whose kernels allocate every output afresh and
// keep it, as the engine did before buffers were pooled: the reference.
func unpooled(t *testing.T, n *Net, batch int) *program {
	t.Helper()
	p, err := n.build(batch)
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range p.g.AllNodes() {
		if op, ok := node.Op().(*kernelOp); ok {
			op.mem = nil
		}
	}
	p.mem = nil
	return p
}

// TestPooledRunsMatch: with buffers handed back and reused (stale contents
// included), every output of every embedded model equals, bit for bit, that
// of a graph that never reuses memory, run after run and across batch sizes.
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
				want, err := unpooled(t, m.net, batch).run(in)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%d outputs, want %d", len(got), len(want))
				}
				for o := range want {
					for j := range want[o].Data {
						if got[o].Data[j] != want[o].Data[j] {
							t.Fatalf("run %d (batch %d): output %d[%d] = %v, want %v", i, batch, o, j, got[o].Data[j], want[o].Data[j])
						}
					}
				}
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
		if want[i], err = unpooled(t, net, inputs[i].Shape[0]).run(inputs[i]); err != nil {
			t.Fatal(err)
		}
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
