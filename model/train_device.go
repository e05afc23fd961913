package model

import (
	"context"
	"errors"
	"fmt"

	"gorgonia.org/tensor"
)

// DeviceTrainable is a Net in training on a device: the Learner that
// Trainable is on the CPU engine, running the same training graph as a
// trainPlan. The weights, their gradients and SGD velocities stay on the
// device; a step uploads the batch, downloads the output for the loss and
// uploads its gradient. Params are host copies (Pull, Push). It is not
// safe for concurrent use; its runs take turns with every other model on
// the device. Close releases its device memory.
type DeviceTrainable struct {
	net    *Net
	dev    *Device
	batch  int
	pl     *trainPlan
	params []Param
	// Device memory: fixed values (weights) and constants by value, the
	// plan's slots, a velocity per learnable weight, the norms of SGD.
	bufs   map[int]buffer
	slots  []buffer
	vel    []buffer
	norms  buffer
	bytes  int64 // all of the above
	out    []float32
	grad   []float32
	closed bool
}

// NewDeviceTrainable builds the training plan of n for batches of the
// given size on d and uploads its weights. d must not be the CPU engine.
func (d *Device) NewDeviceTrainable(n *Net, batch int) (_ *DeviceTrainable, err error) {
	if d.IsCPU() {
		return nil, fmt.Errorf("model %s: the CPU engine trains with Net.Trainable: %w", n.name, ErrNoDevice)
	}
	defer n.recoverTrainBuild(batch, &err)
	tg, err := n.trainGraph(batch)
	if err != nil {
		return nil, err
	}
	pl, err := newTrainPlan(tg, batch)
	if err != nil {
		return nil, fmt.Errorf("model %s: training plan for batch %d: %w", n.name, batch, err)
	}
	t := &DeviceTrainable{net: n, dev: d, batch: batch, pl: pl, params: tg.params, bufs: map[int]buffer{}}
	size := pl.values[pl.output].len()
	t.out, t.grad = make([]float32, size), make([]float32, size)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, fmt.Errorf("model %s: device %s is closed: %w", n.name, d, ErrNoDevice)
	}
	if err := t.allocLocked(); err != nil {
		_ = t.releaseLocked() // the allocation error is the one to report
		return nil, t.memoryError(err)
	}
	if err := t.pushLocked(); err != nil {
		_ = t.releaseLocked()
		return nil, err
	}
	return t, nil
}

// allocLocked takes the device memory of the plan. Call with d.mu held.
func (t *DeviceTrainable) allocLocked() error {
	d := t.dev
	take := func(n int) (buffer, error) {
		b, err := d.alloc(n)
		if err != nil {
			return nil, err
		}
		t.bytes += 4 * int64(b.len())
		d.weights += 4 * int64(b.len())
		return b, nil
	}
	var err error
	for v, pv := range t.pl.values {
		if pv.fixed || pv.konst != nil {
			if t.bufs[v], err = take(pv.len()); err != nil {
				return err
			}
		}
		if pv.konst != nil {
			if err := t.bufs[v].write(pv.konst); err != nil {
				return err
			}
		}
	}
	t.vel = make([]buffer, len(t.params))
	for i, p := range t.params {
		if p.Grad != nil {
			if t.vel[i], err = take(len(p.Value)); err != nil {
				return err
			}
		}
	}
	if t.norms, err = take(len(t.params)); err != nil {
		return err
	}
	t.slots = make([]buffer, len(t.pl.slots))
	for i, n := range t.pl.slots {
		if t.slots[i], err = take(n); err != nil {
			return err
		}
	}
	return nil
}

// memoryError names the batch that failed and estimates the one that fits
// beside the weights, from the activations' bytes per image. Call with the
// trainable's memory released.
func (t *DeviceTrainable) memoryError(err error) error {
	if !errors.Is(err, ErrDeviceMemory) {
		return err
	}
	d := t.dev
	var fixed int64 // weights, constants, velocities, norms
	for _, pv := range t.pl.values {
		if pv.fixed || pv.konst != nil {
			fixed += 4 * int64(pv.len())
		}
	}
	for _, p := range t.params {
		if p.Grad != nil {
			fixed += 4 * int64(len(p.Value))
		}
	}
	fixed += 4 * int64(len(t.params))
	fits := 0
	if per := t.pl.bytes() / int64(t.batch); per > 0 {
		fits = min(t.batch-1, int((d.limit-d.weights-fixed)/per))
	}
	return &DeviceMemoryError{Device: d.String(), Model: t.net.name, Batch: t.batch, Fits: max(fits, 0),
		Err: fmt.Errorf("training: %w", err)}
}

func (t *DeviceTrainable) Batch() int      { return t.batch }
func (t *DeviceTrainable) Features() int   { return len(t.out) / t.batch }
func (t *DeviceTrainable) Params() []Param { return t.params }
func (t *DeviceTrainable) Device() string  { return t.dev.String() }

// Close releases the trainable's device memory.
func (t *DeviceTrainable) Close() error {
	t.dev.mu.Lock()
	defer t.dev.mu.Unlock()
	return t.releaseLocked()
}

func (t *DeviceTrainable) releaseLocked() error {
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	release := func(b buffer) {
		if b != nil {
			errs = append(errs, b.release())
		}
	}
	for _, b := range t.bufs {
		release(b)
	}
	for _, b := range t.vel {
		release(b)
	}
	for _, b := range t.slots {
		release(b)
	}
	release(t.norms)
	t.dev.used -= t.bytes
	t.dev.weights -= t.bytes
	t.bytes = 0
	return errors.Join(errs...)
}

// arg is value v as a kernel argument: its own buffer (weights, constants)
// or its slot, a view sharing the storage of the value it views.
func (t *DeviceTrainable) arg(v int) devTensor {
	pv := t.pl.values[v]
	if b, ok := t.bufs[v]; ok {
		return devTensor{b, pv.len()}
	}
	if r := root(t.pl.alias, v); t.pl.values[r].fixed {
		return devTensor{t.bufs[r], pv.len()}
	}
	return devTensor{t.slots[pv.slot], pv.len()}
}

func (t *DeviceTrainable) lock() error {
	t.dev.mu.Lock()
	if t.dev.closed || t.closed {
		t.dev.mu.Unlock()
		return fmt.Errorf("model %s: device %s or the trainable on it was closed: %w", t.net.name, t.dev, ErrNoDevice)
	}
	return nil
}

// Step runs one training step on the device, as Trainable.Step does on the
// CPU: forward, loss on the host, backward into the gradients; training
// batch norms also update their running statistics.
func (t *DeviceTrainable) Step(ctx context.Context, x Tensor, loss LossFunc) (float64, Tensor, error) {
	if err := ctx.Err(); err != nil {
		return 0, Tensor{}, err
	}
	if err := x.check(); err != nil {
		return 0, Tensor{}, err
	}
	if want := t.pl.values[t.pl.input].shape; !want.Eq(tensor.Shape(x.Shape)) {
		return 0, Tensor{}, fmt.Errorf("model %s: training input %v, want %v: %w", t.net.name, x.Shape, want, ErrShape)
	}
	if err := t.lock(); err != nil {
		return 0, Tensor{}, err
	}
	defer t.dev.mu.Unlock()
	var l float64
	if err := t.arg(t.pl.input).buf.write(x.Data); err != nil {
		return 0, Tensor{}, t.stepError(err)
	}
	for i, s := range t.pl.steps {
		if i%16 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, Tensor{}, err
			}
		}
		if i == t.pl.loss {
			var err error
			if l, err = t.hostLoss(loss); err != nil {
				return 0, Tensor{}, t.stepError(err)
			}
			continue
		}
		if err := t.run(s.k, s.out, s.in); err != nil {
			return 0, Tensor{}, t.stepError(fmt.Errorf("step %d: %w", i, err))
		}
	}
	if err := t.dev.be.wait(); err != nil {
		return 0, Tensor{}, t.stepError(err)
	}
	out := Tensor{Shape: []int{t.batch, len(t.out) / t.batch}, Data: append([]float32(nil), t.out...)}
	return l, out, nil
}

func (t *DeviceTrainable) run(k kernel, out int, in []int) error {
	args := make([]devTensor, len(in))
	for j, v := range in {
		args[j] = t.arg(v)
	}
	return t.dev.be.run(k, t.arg(out), args)
}

// hostLoss brings the output down, runs the loss on it and sends its
// gradient up. The device is free while the loss runs (it may run other
// models there, e.g. a teacher): the step's buffers are its own. Call with
// the device locked; it is locked again on return, also on error.
func (t *DeviceTrainable) hostLoss(loss LossFunc) (float64, error) {
	if err := t.arg(t.pl.output).buf.read(t.out); err != nil {
		return 0, fmt.Errorf("reading the output: %w", err)
	}
	clear(t.grad)
	t.dev.mu.Unlock()
	l := loss(t.out, t.grad)
	t.dev.mu.Lock()
	if t.dev.closed || t.closed {
		return 0, fmt.Errorf("closed during the loss: %w", ErrNoDevice)
	}
	if err := t.arg(t.pl.dOut).buf.write(t.grad); err != nil {
		return 0, fmt.Errorf("writing the loss gradient: %w", err)
	}
	return l, nil
}

func (t *DeviceTrainable) stepError(err error) error {
	if errors.Is(err, ErrDeviceMemory) {
		return &DeviceMemoryError{Device: t.dev.String(), Model: t.net.name, Batch: t.batch, Fits: t.batch / 2, Err: err}
	}
	return fmt.Errorf("model %s on %s: training step: %w", t.net.name, t.dev, err)
}

// GradSquares is Σ g² over the gradients of the last Step: one sum per
// weight on the device, all brought down at once and added in float64.
func (t *DeviceTrainable) GradSquares() (float64, error) {
	if err := t.lock(); err != nil {
		return 0, err
	}
	defer t.dev.mu.Unlock()
	norms := devTensor{t.norms, len(t.params)}
	for i, g := range t.pl.grad {
		if g < 0 {
			continue
		}
		a := t.arg(g)
		if err := t.dev.be.run(sumSquaresKernel{a.n, i, len(t.params)}, norms, []devTensor{a}); err != nil {
			return 0, t.stepError(err)
		}
	}
	host := make([]float32, len(t.params))
	if err := t.norms.read(host); err != nil {
		return 0, t.stepError(err)
	}
	var s float64
	for i, g := range t.pl.grad {
		if g >= 0 {
			s += float64(host[i])
		}
	}
	return s, nil
}

// SGD updates every learnable weight and its velocity on the device.
func (t *DeviceTrainable) SGD(s SGDStep) error {
	if err := t.lock(); err != nil {
		return err
	}
	defer t.dev.mu.Unlock()
	for i, g := range t.pl.grad {
		if g < 0 {
			continue
		}
		w := t.arg(t.pl.param[i])
		args := []devTensor{w, t.arg(g), {t.vel[i], w.n}}
		if err := t.dev.be.run(sgdKernel{s, w.n}, w, args); err != nil {
			return t.stepError(err)
		}
	}
	if err := t.dev.be.wait(); err != nil {
		return t.stepError(err)
	}
	return nil
}

// Pull copies the weights, their gradients and velocities from the device
// into Params.
func (t *DeviceTrainable) Pull() error {
	if err := t.lock(); err != nil {
		return err
	}
	defer t.dev.mu.Unlock()
	var tmp []float32
	for i, p := range t.params {
		if err := t.arg(t.pl.param[i]).buf.read(p.Value); err != nil {
			return t.stepError(fmt.Errorf("reading %s: %w", p.Name, err))
		}
		if p.Grad == nil {
			continue
		}
		if err := t.arg(t.pl.grad[i]).buf.read(p.Grad); err != nil {
			return t.stepError(fmt.Errorf("reading the gradient of %s: %w", p.Name, err))
		}
		tmp = resize(tmp, len(p.Value))
		if err := t.vel[i].read(tmp); err != nil {
			return t.stepError(fmt.Errorf("reading the velocity of %s: %w", p.Name, err))
		}
		for j, v := range tmp {
			p.Velocity[j] = float64(v)
		}
	}
	return nil
}

// Push sends Params' weights and velocities to the device (a nil velocity
// is at rest).
func (t *DeviceTrainable) Push() error {
	if err := t.lock(); err != nil {
		return err
	}
	defer t.dev.mu.Unlock()
	return t.pushLocked()
}

func (t *DeviceTrainable) pushLocked() error {
	if err := checkVelocities(t.net.name, t.params); err != nil {
		return err
	}
	var tmp []float32
	for i, p := range t.params {
		if len(p.Value) != t.pl.values[t.pl.param[i]].len() {
			return fmt.Errorf("model %s: weight %s has %d values, want %d", t.net.name, p.Name, len(p.Value), t.pl.values[t.pl.param[i]].len())
		}
		if err := t.arg(t.pl.param[i]).buf.write(p.Value); err != nil {
			return t.stepError(fmt.Errorf("writing %s: %w", p.Name, err))
		}
		if p.Grad == nil {
			continue
		}
		tmp = resize(tmp, len(p.Value))
		for j, v := range t.params[i].Velocity {
			tmp[j] = float32(v)
		}
		if err := t.vel[i].write(tmp); err != nil {
			return t.stepError(fmt.Errorf("writing the velocity of %s: %w", p.Name, err))
		}
	}
	return nil
}

// Export returns the model as ONNX with the weights on the device.
func (t *DeviceTrainable) Export() ([]byte, error) {
	if err := t.Pull(); err != nil {
		return nil, err
	}
	return t.net.exportParams(t.params)
}

// resize returns s with n elements, reusing its storage when it can.
func resize(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
