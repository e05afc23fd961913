package model

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maskinv/workbench/internal/parallel"
	G "gorgonia.org/gorgonia"
)

// The CPU engine runs a model as a plan (device_plan.go), like any device:
// the kernels in the order the graph builder recorded them, over slots
// that values with disjoint lives share. Gorgonia's graph is only the
// builder's scaffolding: its tape machine cost a tensor header, a shape
// check and a map lookup per kernel, and kept every batch size's graph
// alive. The slot buffers come from the Net's bufferPool, so runs reuse
// the same memory, and concurrent runs each take their own.
//
// A batch of one runs on every core at once: each kernel splits its work
// into sections (conv blocks, channel ranges) that a parallel.Team claims
// (or on one core, when that has been faster lately: see splitChoice).
// A larger batch runs as streams, one per core, each taking the next image
// and running it alone through the batch-of-one plan on its own core. That
// needs no synchronisation between layers, and an image's activations stay
// in the core's cache from layer to layer (about 30 % faster per image on
// the recogniser than whole-batch layers: batch 32's activations are 13 MB
// per layer). Every kernel computes an image the same way whatever the
// core count (see convBlocks), and the streams run every image alone, so
// an image's outputs do not depend on the batch it came in. (Batch-1 and
// whole-batch plans agree too, except where OpenBLAS rounds a product
// over the batch rows, such as a Gemm's, differently by its row count.)

// cores runs a kernel's parallel sections: parallel.Chunks semantics.
type cores interface {
	Chunks(n, size int, f func(lo, hi int))
}

// oneCore runs every section on the calling goroutine (a stream's core).
type oneCore struct{}

func (oneCore) Chunks(n, size int, f func(lo, hi int)) {
	size = max(size, 1)
	for lo := 0; lo < n; lo += size {
		f(lo, min(n, lo+size))
	}
}

// allCores starts goroutines for each section: kernels run outside a plan
// (gradient checks, training graphs, device tests) use it.
type allCores struct{}

func (allCores) Chunks(n, size int, f func(lo, hi int)) { parallel.Chunks(n, size, f) }

// hostKernel is a kernel whose float32 code splits its work into sections
// run by the cores it is given; its do32 gives it allCores.
type hostKernel interface {
	run32(c cores, out []float32, in [][]float32)
}

func run32(c cores, k kernel, out []float32, in [][]float32) {
	switch k := k.(type) {
	case hostKernel:
		k.run32(c, out, in)
	case mover:
		runMover(k, out, in)
	default:
		k.do32(out, in)
	}
}

// hostPlan is the CPU engine's program for one batch size.
type hostPlan struct {
	*plan
	kernels []kernel // the forward kernels, for FLOP counts
}

func (n *Net) build(batch int) (*hostPlan, error) {
	_, prog, err := n.buildGraph(batch)
	if err != nil {
		return nil, err
	}
	fuseResidualAdds(prog)
	pl, err := newPlan(prog, batch)
	if err != nil {
		return nil, fmt.Errorf("model %s: batch %d: %w", n.name, batch, err)
	}
	return &hostPlan{plan: pl, kernels: prog.kernels}, nil
}

// fuseResidualAdds rewrites the steps of a CPU program so that a
// convolution read only by an Add of two equal shapes computes the sum
// itself (convAddKernel), one pass and one parallel section fewer per
// residual block. The fused step takes the Add's place in the order, where
// both the convolution's inputs and the residual are ready.
func fuseResidualAdds(prog *program) {
	readers, producers := map[*G.Node]int{}, map[*G.Node]int{}
	at := map[*G.Node]int{}
	for i, s := range prog.steps {
		for _, in := range s.in {
			readers[in]++
		}
		producers[s.node]++
		at[s.node] = i
	}
	for _, o := range prog.outputs {
		readers[o]++ // the caller reads it too
	}
	drop := map[int]bool{}
	for j, s := range prog.steps {
		add, ok := s.k.(binaryKernel)
		if !ok || add.fn != fnAdd || !add.bc.shapes[0].Eq(add.bc.shapes[1]) || s.in[0] == s.in[1] || producers[s.node] != 1 {
			continue
		}
		for side, x := range s.in {
			i, made := at[x]
			if !made || readers[x] != 1 || producers[x] != 1 || drop[i] {
				continue
			}
			conv, isConv := prog.steps[i].k.(convKernel)
			if !isConv || conv.g.depthwise() {
				continue
			}
			in := append(append([]*G.Node(nil), prog.steps[i].in...), s.in[1-side])
			prog.steps[j] = step{node: s.node, k: convAddKernel{conv}, in: in}
			drop[i] = true
			break
		}
	}
	kept := prog.steps[:0]
	for i, s := range prog.steps {
		if !drop[i] {
			kept = append(kept, s)
		}
	}
	prog.steps = kept
}

// slots takes buffers for the plan's slots from the pool; give them back
// with release.
func (n *Net) slots(p *hostPlan) [][]float32 {
	s := make([][]float32, len(p.plan.slots))
	for i, size := range p.plan.slots {
		s[i] = n.pool.get(size)
	}
	return s
}

func (n *Net) release(slots [][]float32) {
	for _, s := range slots {
		n.pool.put(s)
	}
}

func (p *hostPlan) value(slots [][]float32, id int) []float32 {
	v := p.values[id]
	if v.konst != nil {
		return v.konst
	}
	return slots[v.slot][:v.len()]
}

// execute runs the plan on in (one input's data) over slots; the outputs
// are left in their slots. visit, when not nil, sees every step's output as
// soon as it is computed (tests watch values with it).
func (n *Net) execute(ctx context.Context, c cores, p *hostPlan, slots [][]float32, in []float32, visit func(k kernel, out []float32)) (err error) {
	defer func() {
		// A kernel indexing past a slice on a model the checks let through
		// is that model's error, not a reason to take the process down.
		if r := recover(); r != nil {
			err = fmt.Errorf("run: %v", r)
		}
	}()
	copy(p.value(slots, p.input), in)
	args := make([][]float32, 0, 8)
	for _, s := range p.steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		args = args[:0]
		for _, id := range s.in {
			args = append(args, p.value(slots, id))
		}
		out := p.value(slots, s.out)
		run32(c, s.k, out, args)
		if visit != nil {
			visit(s.k, out)
		}
	}
	return nil
}

// runTeam runs a whole batch through its own plan, every kernel on all
// cores; a batch of one, on all cores or on one, as n.split chooses.
func (n *Net) runTeam(ctx context.Context, in Tensor, visit func(k kernel, out []float32)) ([]Tensor, error) {
	p, err := n.program(in.Shape[0])
	if err != nil {
		return nil, err
	}
	slots := n.slots(p)
	defer n.release(slots)
	var c cores = oneCore{}
	split := in.Shape[0] > 1 || n.split.pick()
	if split && runtime.GOMAXPROCS(0) > 1 {
		team := parallel.NewTeam(0)
		defer team.Close()
		c = team
	}
	start := time.Now()
	if err := n.execute(ctx, c, p, slots, in.Data, visit); err != nil {
		return nil, err
	}
	if in.Shape[0] == 1 {
		n.split.record(split, time.Since(start))
	}
	outs := make([]Tensor, len(p.outputs))
	for i, id := range p.outputs {
		outs[i] = Tensor{Shape: append([]int(nil), p.values[id].shape...), Data: append([]float32(nil), p.value(slots, id)...)}
	}
	return outs, nil
}

// splitChoice decides whether a batch of one is split over every core or
// runs on one. Split, the recogniser takes 4.2 ms instead of 5.6 on two
// idle cores; but on a shared machine, when other work takes a core away
// in the middle of a block, the layer waits for it, and under a load of
// 6 on the 2 cores one core was faster (median 9.9 ms against 12.3). The
// outputs are the same bits either way, so the choice follows the
// measured time: each way's recent runs, in a moving average, and every
// eighth run the other way, to notice when the load changes.
type splitChoice struct {
	mu   sync.Mutex
	cost [2]float64 // moving average of a run's time, ns: [one core, split]
	runs int
}

func (c *splitChoice) pick() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs++
	switch {
	case c.cost[1] == 0:
		return true
	case c.cost[0] == 0:
		return false
	}
	best := c.cost[1] <= c.cost[0]
	if c.runs%8 == 0 {
		return !best
	}
	return best
}

func (c *splitChoice) record(split bool, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := 0
	if split {
		i = 1
	}
	if c.cost[i] == 0 {
		c.cost[i] = float64(d)
	} else {
		c.cost[i] += (float64(d) - c.cost[i]) / 4
	}
}

// runStreams runs a batch image by image through the batch-of-one plan,
// on one stream per core; with more cores than images, each stream is a
// team. The model must be separable (see findSeparable).
func (n *Net) runStreams(ctx context.Context, in Tensor) ([]Tensor, error) {
	p, err := n.program(1)
	if err != nil {
		return nil, err
	}
	batch := in.Shape[0]
	per := in.Len() / batch
	outs := make([]Tensor, len(p.outputs))
	for i, id := range p.outputs {
		shape := append([]int{batch}, p.values[id].shape[1:]...)
		outs[i] = Tensor{Shape: shape, Data: make([]float32, batch*p.values[id].len())}
	}
	workers := runtime.GOMAXPROCS(0)
	streams := min(batch, workers)
	var (
		next     atomic.Int64
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c cores = oneCore{}
			if size := workers / streams; size > 1 {
				team := parallel.NewTeam(size)
				defer team.Close()
				c = team
			}
			slots := n.slots(p)
			defer n.release(slots)
			for i := int(next.Add(1) - 1); i < batch && !failed.Load(); i = int(next.Add(1) - 1) {
				if err := n.execute(ctx, c, p, slots, in.Data[i*per:(i+1)*per], nil); err != nil {
					failed.Store(true)
					errOnce.Do(func() { firstErr = fmt.Errorf("image %d of %d: %w", i, batch, err) })
					return
				}
				for o, id := range p.outputs {
					v := p.value(slots, id)
					copy(outs[o].Data[i*len(v):], v)
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return outs, nil
}

// findSeparable decides, once at Decode, whether the model computes each
// image of a batch on its own, as far as shapes tell: every output has one
// row per image, at batch 1 and at batch 2. The streams rely on it, as
// device runs rely on it to split batches; a model that mixed images
// would have to reshape or transpose its batch axis away, which shows
// here.
func (n *Net) findSeparable() error {
	p, err := n.program(1)
	if err != nil {
		return err
	}
	_, two, err := n.buildGraph(2)
	if err != nil {
		return err
	}
	ok := len(p.outputs) == len(two.outputs)
	for i := 0; ok && i < len(p.outputs); i++ {
		a, b := p.values[p.outputs[i]].shape, two.outputs[i].Shape()
		ok = a.Dims() > 0 && b.Dims() == a.Dims() && a[0] == 1 && b[0] == 2
		for d := 1; ok && d < a.Dims(); d++ {
			ok = a[d] == b[d]
		}
	}
	n.separable = ok
	return nil
}
