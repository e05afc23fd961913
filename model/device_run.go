package model

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// backend is one compute device: the single interface a kind of device
// implements (OpenCL here; CUDA through the driver API, Vulkan or Metal
// would be one more implementation). It knows buffers and kernels; plans,
// memory budgets, weight caching and batch splitting are the Device's and
// DeviceNet's, shared by every backend.
type backend interface {
	// alloc returns device memory for n float32 values. Out of memory is
	// an error matching ErrDeviceMemory.
	alloc(n int) (buffer, error)
	// run enqueues out = k(in...) for any kernel of the engine (forward,
	// gradient or movement); steps run in the order they were enqueued.
	// A kernel the backend does not implement is an error matching
	// ErrUnsupported.
	run(k kernel, out devTensor, in []devTensor) error
	// wait blocks until all enqueued work is done and reports its errors.
	wait() error
	close() error
}

// buffer is device memory holding float32 values.
type buffer interface {
	// write copies src to the start of the buffer; read fills dst from
	// it after all work enqueued before. Both block until done.
	write(src []float32) error
	read(dst []float32) error
	len() int // capacity in values
	release() error
}

// devTensor is a value on the device: a buffer (possibly larger, when a
// slot is shared) and the number of values it holds.
type devTensor struct {
	buf buffer
	n   int
}

// Device is an opened compute device: the CPU engine, or a backend with its
// memory. Runs on one device are serialised (one in-order queue). Close
// releases it; nets bound to it stop working then.
type Device struct {
	spec     DeviceSpec
	info     DeviceInfo
	be       backend // nil for the CPU engine
	fallback string
	limit    int64 // bytes the engine may use on the device
	maxBatch int   // the largest batch of one device run

	mu      sync.Mutex // one run at a time; guards what follows
	free    []buffer   // slot buffers not in use
	used    int64      // bytes allocated: weights, free and busy buffers
	weights int64
	closed  bool
}

// CPU is the device of the CPU engine.
func CPU() *Device {
	return &Device{spec: DeviceSpec{Kind: DeviceCPU, Platform: -1, Device: -1}, info: DeviceInfo{Spec: "cpu", Name: "CPU engine", Type: "CPU"}}
}

// IsCPU reports whether models bound to d run on the CPU engine.
func (d *Device) IsCPU() bool { return d.be == nil }

// Info describes the device.
func (d *Device) Info() DeviceInfo { return d.info }

// Fallback says why "auto" chose the CPU engine ("" when it did not).
func (d *Device) Fallback() string { return d.fallback }

func (d *Device) String() string {
	if d.IsCPU() {
		return "cpu"
	}
	return fmt.Sprintf("%s (%s)", d.info.Spec, d.info.Name)
}

// MemoryLimit is the device memory the engine may use, in bytes (0 for
// the CPU engine).
func (d *Device) MemoryLimit() int64 { return d.limit }

// Close releases the device's memory and context.
func (d *Device) Close() error {
	if d.IsCPU() {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, b := range d.free {
		errs = append(errs, b.release())
	}
	d.free = nil
	errs = append(errs, d.be.close())
	return errors.Join(errs...)
}

// Model runs one model on one device: *Net on the CPU engine, *DeviceNet
// on a device. Run has the semantics of Net.Run on every device.
type Model interface {
	Run(ctx context.Context, in Tensor) ([]Tensor, error)
	Name() string
	Hash() string
	InputShape() []int
	FLOPs() float64
	// Device names the device the model runs on ("cpu", "opencl:0.0 (…)").
	Device() string
}

// Device is "cpu": a Net runs on the CPU engine.
func (n *Net) Device() string { return "cpu" }

// Bind makes n run on the device: the CPU engine returns n itself, a
// device a DeviceNet holding n's weights in device memory.
func (d *Device) Bind(n *Net) (Model, error) {
	if d.IsCPU() {
		return n, nil
	}
	return d.NewDeviceNet(n)
}

// alloc takes a buffer of at least n values from the free list (the
// smallest that fits) or allocates one within the memory limit, first
// giving back free buffers when the limit is near. Call with d.mu held.
func (d *Device) alloc(n int) (buffer, error) {
	best := -1
	for i, b := range d.free {
		if b.len() >= n && (best < 0 || b.len() < d.free[best].len()) {
			best = i
		}
	}
	if best >= 0 {
		b := d.free[best]
		d.free = append(d.free[:best], d.free[best+1:]...)
		return b, nil
	}
	need := 4 * int64(n)
	if d.used+need > d.limit {
		d.trim()
	}
	if d.used+need > d.limit {
		return nil, fmt.Errorf("%s more would pass the limit of %s (%s in use): %w", mib(need), mib(d.limit), mib(d.used), ErrDeviceMemory)
	}
	b, err := d.be.alloc(n)
	if errors.Is(err, ErrDeviceMemory) {
		d.trim()
		b, err = d.be.alloc(n)
	}
	if err != nil {
		return nil, err
	}
	d.used += need
	return b, nil
}

// trim releases the free buffers. Call with d.mu held.
func (d *Device) trim() {
	for _, b := range d.free {
		d.used -= 4 * int64(b.len())
		_ = b.release() // releasing memory we no longer use cannot be acted on
	}
	d.free = nil
}

// DeviceNet is a Net bound to a device: its weights uploaded once, a plan
// per batch size, and batches split to fit the device's memory. It is safe
// for concurrent use (runs on one device take turns).
type DeviceNet struct {
	net *Net
	dev *Device

	mu     sync.Mutex
	plans  map[int]*plan
	consts map[[32]byte]buffer // weights on the device, by content
	// byData finds a constant's buffer by its host slice without hashing
	// it again (plans of every batch size share the Net's weights).
	byData map[constKey]buffer
	chunk  int // the largest batch per device run, once known
	closed bool
}

type constKey struct {
	p *float32
	n int
}

// NewDeviceNet uploads n's weights to the device. d must not be the CPU.
func (d *Device) NewDeviceNet(n *Net) (*DeviceNet, error) {
	if d.IsCPU() {
		return nil, fmt.Errorf("model %s: the CPU engine runs *Net directly: %w", n.name, ErrNoDevice)
	}
	r := &DeviceNet{net: n, dev: d, plans: map[int]*plan{}, consts: map[[32]byte]buffer{}, byData: map[constKey]buffer{}}
	pl, err := r.plan(n.declaredBatch())
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("model %s: device %s is closed: %w", n.name, d, ErrNoDevice)
	}
	for _, v := range pl.values {
		if v.konst != nil {
			if _, err := r.constant(v.konst); err != nil {
				r.releaseLocked()
				return nil, fmt.Errorf("model %s: uploading weights to %s: %w", n.name, d, err)
			}
		}
	}
	return r, nil
}

func (r *DeviceNet) Name() string       { return r.net.Name() }
func (r *DeviceNet) Hash() string       { return r.net.Hash() }
func (r *DeviceNet) InputShape() []int  { return r.net.InputShape() }
func (r *DeviceNet) FLOPs() float64     { return r.net.FLOPs() }
func (r *DeviceNet) Device() string     { return r.dev.String() }
func (r *DeviceNet) Net() *Net          { return r.net }
func (r *DeviceNet) DeviceInfo() string { return r.dev.info.String() }

// Close releases the model's weights on the device.
func (r *DeviceNet) Close() error {
	r.dev.mu.Lock()
	defer r.dev.mu.Unlock()
	return r.releaseLocked()
}

func (r *DeviceNet) releaseLocked() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var errs []error
	for k, b := range r.consts {
		r.dev.used -= 4 * int64(b.len())
		r.dev.weights -= 4 * int64(b.len())
		errs = append(errs, b.release())
		delete(r.consts, k)
	}
	clear(r.byData)
	return errors.Join(errs...)
}

// constant returns the device copy of a constant, uploading it the first
// time. Call with the device lock held.
func (r *DeviceNet) constant(c []float32) (buffer, error) {
	dk := constKey{unsafe.SliceData(c), len(c)}
	if b, ok := r.byData[dk]; ok {
		return b, nil
	}
	key := sha256.Sum256(unsafe.Slice((*byte)(unsafe.Pointer(dk.p)), 4*len(c)))
	if b, ok := r.consts[key]; ok {
		r.byData[dk] = b
		return b, nil
	}
	b, err := r.dev.alloc(len(c))
	if err != nil {
		return nil, err
	}
	if err := b.write(c); err != nil {
		r.dev.free = append(r.dev.free, b)
		return nil, err
	}
	r.consts[key] = b
	r.byData[dk] = b
	r.dev.weights += 4 * int64(b.len())
	return b, nil
}

func (r *DeviceNet) plan(batch int) (*plan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.plans[batch]; ok {
		return p, nil
	}
	p, err := r.net.devicePlan(batch)
	if err != nil {
		return nil, err
	}
	r.plans[batch] = p
	return p, nil
}

// DeviceOptions tune an opened device; the zero value is the default.
type DeviceOptions struct {
	// MemoryLimit caps the device memory the engine uses, in bytes; 0
	// takes 80% of the device's memory (the rest is the driver's, the
	// display's, other programs').
	MemoryLimit int64
	// MaxBatch caps the images of one device run (larger batches are
	// split); 0 means 512, past which GPUs gain nothing.
	MaxBatch int
	// GEMM chooses the code of matrix products (Gemm, 1×1 convolutions):
	// GEMMTiled (the default, "") or GEMMCLBlast.
	GEMM string
}

// Matrix-product implementations of an OpenCL device (DeviceOptions.GEMM).
const (
	// GEMMTiled is the engine's own tiled kernels, built with the others.
	GEMMTiled = "tiled"
	// GEMMCLBlast is CLBlast (libclblast.so.1, loaded at run time), tuned
	// per device; it compiles each routine at first use, 15–60 s on PoCL.
	GEMMCLBlast = "clblast"
)

const defaultMaxBatch = 512

// MaxBatch is the largest batch one device run takes: Run splits larger
// ones. It is what fits the memory left beside the weights of every model
// bound to the device, at most DeviceOptions.MaxBatch.
func (r *DeviceNet) MaxBatch() (int, error) {
	r.mu.Lock()
	c := r.chunk
	r.mu.Unlock()
	if c > 0 {
		return c, nil
	}
	p1, err := r.plan(1)
	if err != nil {
		return 0, err
	}
	r.dev.mu.Lock()
	avail := r.dev.limit - r.dev.weights
	r.dev.mu.Unlock()
	per, biggest := p1.bytes(), p1.largestSlot()
	c = r.dev.maxBatch
	if per > 0 {
		c = min(c, int(avail/per))
	}
	if maxAlloc := r.dev.info.MaxAlloc; biggest > 0 && maxAlloc > 0 {
		c = min(c, int(maxAlloc/biggest))
	}
	if c < 1 {
		return 0, &DeviceMemoryError{Device: r.dev.String(), Model: r.net.name, Batch: 1,
			Err: fmt.Errorf("one image needs %s of activations, %s are free beside the weights: %w", mib(per), mib(avail), ErrDeviceMemory)}
	}
	r.mu.Lock()
	r.chunk = c
	r.mu.Unlock()
	return c, nil
}

// Run evaluates the model on a batch on the device, as Net.Run does on the
// CPU: the batch is uploaded once, stays on the device through every layer
// and its outputs come back once, in chunks of at most MaxBatch images.
func (r *DeviceNet) Run(ctx context.Context, in Tensor) ([]Tensor, error) {
	if err := r.net.checkInput(ctx, in); err != nil {
		return nil, err
	}
	total := in.Shape[0]
	chunk, err := r.MaxBatch()
	if err != nil {
		return nil, err
	}
	per := in.Len() / total
	var outs []Tensor
	for lo := 0; lo < total; {
		hi := min(total, lo+chunk)
		part := Tensor{Shape: append([]int{hi - lo}, in.Shape[1:]...), Data: in.Data[lo*per : hi*per]}
		o, err := r.runChunk(ctx, part)
		if errors.Is(err, ErrDeviceMemory) && hi-lo > 1 {
			// The estimate was optimistic (other programs share the
			// device): halve the chunk for this and later runs.
			chunk = (hi - lo) / 2
			r.mu.Lock()
			r.chunk = chunk
			r.mu.Unlock()
			continue
		}
		if err != nil {
			return nil, err
		}
		if outs, err = appendBatch(outs, o, hi-lo, total, chunk); err != nil {
			return nil, fmt.Errorf("model %s on %s: %w", r.net.name, r.dev, err)
		}
		lo = hi
	}
	return outs, nil
}

// appendBatch adds one chunk's outputs to those of the chunks before; a
// single chunk is returned as it is.
func appendBatch(outs, o []Tensor, n, total, chunk int) ([]Tensor, error) {
	if n == total {
		return o, nil
	}
	if outs == nil {
		outs = make([]Tensor, len(o))
		for i, t := range o {
			if len(t.Shape) == 0 || t.Shape[0] != n {
				return nil, &DeviceMemoryError{Batch: total, Fits: chunk,
					Err: fmt.Errorf("output %d has shape %v, not one row per image, so the batch cannot be split: %w", i, t.Shape, ErrDeviceMemory)}
			}
			outs[i] = Tensor{Shape: append([]int{total}, t.Shape[1:]...), Data: make([]float32, 0, t.Len()/n*total)}
		}
	}
	for i, t := range o {
		outs[i].Data = append(outs[i].Data, t.Data...)
	}
	return outs, nil
}

// runChunk runs one batch that fits the device.
func (r *DeviceNet) runChunk(ctx context.Context, in Tensor) ([]Tensor, error) {
	pl, err := r.plan(in.Shape[0])
	if err != nil {
		return nil, err
	}
	d := r.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || r.closed {
		return nil, fmt.Errorf("model %s: device %s or the model's weights on it were closed: %w", r.net.name, d, ErrNoDevice)
	}
	slots := make([]buffer, len(pl.slots))
	defer func() {
		for _, b := range slots {
			if b != nil {
				d.free = append(d.free, b)
			}
		}
	}()
	for i, n := range pl.slots {
		if slots[i], err = d.alloc(n); err != nil {
			return nil, r.memoryError(in.Shape[0], err)
		}
	}
	arg := func(v int) (devTensor, error) {
		pv := pl.values[v]
		if pv.konst != nil {
			b, err := r.constant(pv.konst)
			return devTensor{b, len(pv.konst)}, err
		}
		return devTensor{slots[pv.slot], pv.len()}, nil
	}
	if err := slots[pl.values[pl.input].slot].write(in.Data); err != nil {
		return nil, r.memoryError(in.Shape[0], err)
	}
	for i, s := range pl.steps {
		if i%16 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		ins := make([]devTensor, len(s.in))
		for j, v := range s.in {
			if ins[j], err = arg(v); err != nil {
				return nil, r.memoryError(in.Shape[0], err)
			}
		}
		out, _ := arg(s.out)
		if err := d.be.run(s.k, out, ins); err != nil {
			return nil, r.memoryError(in.Shape[0], fmt.Errorf("model %s on %s: step %d: %w", r.net.name, d, i, err))
		}
	}
	return r.download(pl, slots, in.Shape[0])
}

// download reads the plan's outputs back to the host.
func (r *DeviceNet) download(pl *plan, slots []buffer, batch int) ([]Tensor, error) {
	outs := make([]Tensor, len(pl.outputs))
	for i, o := range pl.outputs {
		pv := pl.values[o]
		t := Tensor{Shape: append([]int(nil), pv.shape...), Data: make([]float32, pv.len())}
		if pv.konst != nil {
			copy(t.Data, pv.konst)
		} else if err := slots[pv.slot].read(t.Data); err != nil {
			return nil, r.memoryError(batch, fmt.Errorf("model %s on %s: reading output %d: %w", r.net.name, r.dev, i, err))
		}
		outs[i] = t
	}
	return outs, nil
}

// memoryError names the batch that failed and the one that should fit
// when err is an out-of-memory error.
func (r *DeviceNet) memoryError(batch int, err error) error {
	if !errors.Is(err, ErrDeviceMemory) {
		return err
	}
	return &DeviceMemoryError{Device: r.dev.String(), Model: r.net.name, Batch: batch, Fits: batch / 2, Err: err}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
