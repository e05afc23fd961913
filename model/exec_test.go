package model

import (
	"context"
	"errors"
	"math/rand"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// oneImage is image i of a batch, as a batch of one.
func oneImage(in Tensor, i int) Tensor {
	per := in.Len() / in.Shape[0]
	return Tensor{Shape: append([]int{1}, in.Shape[1:]...), Data: in.Data[i*per : (i+1)*per]}
}

// TestBatchInvariance: an image's outputs are the same bits whether it
// runs alone (split over the cores or on one: a Net's first runs of one
// image try both), in a batch (image by image on per-core streams), or in
// a whole-batch plan with every kernel on all cores; and whatever the core
// count. The embedding store relies on it: an embedding must not depend
// on how the work was batched or on the machine's cores.
func TestBatchInvariance(t *testing.T) {
	for _, m := range embeddedNets(t) {
		t.Run(m.net.Name(), func(t *testing.T) {
			if !m.net.separable {
				t.Fatal("the model is not found separable")
			}
			in := randomInput(11, append([]int{5}, m.shape[1:]...))
			ctx := context.Background()
			var alone []Tensor
			for i := 0; i < 5; i++ {
				o, err := m.net.Run(ctx, oneImage(in, i))
				if err != nil {
					t.Fatal(err)
				}
				if alone, err = appendBatch(alone, o, 1, 5, 1); err != nil {
					t.Fatal(err)
				}
			}
			for _, procs := range []int{1, 2, 3} {
				old := runtime.GOMAXPROCS(procs)
				streams, err := m.net.Run(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				whole, err := m.net.runTeam(ctx, in, nil)
				runtime.GOMAXPROCS(old)
				if err != nil {
					t.Fatal(err)
				}
				sameTensors(t, streams, alone)
				sameTensors(t, whole, alone)
			}
		})
	}
}

// countdownCtx is a context whose Err turns Canceled after n calls.
type countdownCtx struct {
	context.Context
	n atomic.Int32
}

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestRunCancelledMidway: a run stops between layers once its context is
// done, on both ways of running, and says why.
func TestRunCancelledMidway(t *testing.T) {
	net := loadShared(t, "fr_feature.onnx")
	for _, batch := range []int{1, 4} {
		ctx := &countdownCtx{Context: context.Background()}
		ctx.n.Store(10) // past the input checks, well before the last of 62 layers
		_, err := net.Run(ctx, netInput(net, batch, 1))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("batch %d: err = %v, want context.Canceled", batch, err)
		}
	}
}

// TestResidualAddsFused: the recogniser's residual Adds are folded into
// the convolutions before them (TestPooledRunsMatch and
// TestHostPlanMatchesNet check that the outputs keep every bit), and a
// fused kernel matches its float64 reference.
func TestResidualAddsFused(t *testing.T) {
	net := loadShared(t, "fr_feature.onnx")
	p, err := net.program(1)
	if err != nil {
		t.Fatal(err)
	}
	fused, adds := 0, 0
	for _, s := range p.steps {
		switch k := s.k.(type) {
		case convAddKernel:
			fused++
		case binaryKernel:
			if k.fn == fnAdd {
				adds++
			}
		}
	}
	if fused < 10 || adds > 0 {
		t.Errorf("%d fused residual adds and %d separate ones; the recogniser has 12 residual blocks", fused, adds)
	}
	r := rand.New(rand.NewSource(5))
	g, in := convInputs(t, r, 0) // pointwise, with bias
	res := randSlice(r, g.outShape().TotalSize())
	for _, act := range []activation{actNone, actRelu} {
		checkFast32(t, convAddKernel{convKernel{g: g, act: act}}, append(in, res), 1e-5)
	}
}

// TestSplitChoice: a batch of one is split over the cores first, then run
// on one core once, and from then on the way that has been faster, trying
// the other every eighth run; a way that turns slower loses its place.
func TestSplitChoice(t *testing.T) {
	var c splitChoice
	ms := time.Millisecond
	cost := map[bool]time.Duration{true: 4 * ms, false: 6 * ms}
	var picks []bool
	for range 24 {
		split := c.pick()
		picks = append(picks, split)
		c.record(split, cost[split])
	}
	if !picks[0] || picks[1] {
		t.Fatalf("first runs %v, want split then one core", picks[:2])
	}
	for i, split := range picks[2:] {
		want := (i+3)%8 != 0 // the 8th, 16th, 24th run tries the slower way
		if split != want {
			t.Fatalf("run %d: split %v, want %v (picks %v)", i+3, split, want, picks)
		}
	}
	cost[true] = 20 * ms // the machine got busy: splitting now loses
	var last bool
	for range 40 {
		last = c.pick()
		c.record(last, cost[last])
	}
	if last && c.runs%8 != 0 {
		t.Errorf("still splitting after the split runs slowed to %v: costs %v", cost[true], c.cost)
	}
}
