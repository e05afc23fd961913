package model

import (
	"context"
	"fmt"
)

// Learner is a network in training, wherever it runs: *Trainable on the
// CPU engine, *DeviceTrainable on a device (Device.Trainable picks). A
// trainer drives both the same way: Step (forward, the caller's loss on
// the host, backward), GradSquares for the global gradient norm, then SGD.
type Learner interface {
	Batch() int
	Features() int
	// Params lists the weights in the model's order. On the CPU engine the
	// slices are the live weights; on a device they are host copies that
	// Pull refreshes (weights, gradients, velocities) and Push sends back
	// after the caller changed them (initialisation, a resumed checkpoint).
	Params() []Param
	Pull() error
	Push() error
	// Step runs the network forward on x, calls loss on its output and
	// back-propagates into the gradients; it returns the loss and a copy
	// of the output.
	Step(ctx context.Context, x Tensor, loss LossFunc) (float64, Tensor, error)
	// GradSquares is Σ g² over every gradient of the last Step.
	GradSquares() (float64, error)
	// SGD updates every learnable weight from its gradient and velocity.
	SGD(s SGDStep) error
	// Export returns the model as ONNX with the current weights.
	Export() ([]byte, error)
}

// Both trainables are Learners.
var (
	_ Learner = (*Trainable)(nil)
	_ Learner = (*DeviceTrainable)(nil)
)

// SGDStep is one update of stochastic gradient descent with momentum and
// weight decay, PyTorch's rule, with the gradient scaled by Clip (global
// norm clipping, 1 when off):
//
//	d = Clip·g + WeightDecay·w;  v = Momentum·v + d;  w −= LR·v
type SGDStep struct {
	LR, Momentum, WeightDecay, Clip float64
}

// SGDUpdate applies s to the weights w with gradients g and velocities
// vel, in float64 arithmetic: the one definition of the update on the host
// (the head of a trainer, and the CPU engine's weights).
func SGDUpdate[T float32 | float64](w, g []T, vel []float64, s SGDStep) {
	for i := range w {
		d := s.Clip*float64(g[i]) + s.WeightDecay*float64(w[i])
		vel[i] = s.Momentum*vel[i] + d
		w[i] -= T(s.LR * vel[i])
	}
}

// Pull does nothing on the CPU engine: Params are the live weights.
func (t *Trainable) Pull() error { return nil }

// Push does nothing on the CPU engine: Params are the live weights.
func (t *Trainable) Push() error { return nil }

// GradSquares is Σ g² over the gradients of the last Step.
func (t *Trainable) GradSquares() (float64, error) {
	var s float64
	for _, p := range t.params {
		for _, g := range p.Grad {
			s += float64(g) * float64(g)
		}
	}
	return s, nil
}

// SGD updates every learnable weight in place.
func (t *Trainable) SGD(s SGDStep) error {
	for _, p := range t.params {
		if p.Grad == nil {
			continue
		}
		if len(p.Velocity) != len(p.Value) {
			return fmt.Errorf("model %s: momentum of %s has %d values, weight %d", t.net.name, p.Name, len(p.Velocity), len(p.Value))
		}
		SGDUpdate(p.Value, p.Grad, p.Velocity, s)
	}
	return nil
}

// Trainable makes a Learner of n for batches of the given size on d: the
// CPU engine's Trainable, or a DeviceTrainable.
func (d *Device) Trainable(n *Net, batch int) (Learner, error) {
	if d == nil || d.IsCPU() {
		return n.Trainable(batch)
	}
	return d.NewDeviceTrainable(n, batch)
}

// checkVelocities rejects a velocity whose length does not match its weight
// (a checkpoint of another model); a nil velocity of a learnable weight is
// replaced by zeros (at rest).
func checkVelocities(name string, params []Param) error {
	for i, p := range params {
		if p.Grad == nil {
			continue
		}
		if p.Velocity == nil {
			params[i].Velocity = make([]float64, len(p.Value))
			continue
		}
		if len(p.Velocity) != len(p.Value) {
			return fmt.Errorf("model %s: momentum of %s has %d values, weight %d", name, p.Name, len(p.Velocity), len(p.Value))
		}
	}
	return nil
}
