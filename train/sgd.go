package train

import (
	"fmt"
	"math"
)

// Var is one tensor the optimiser updates: float32 network weights (F32,
// G32) or float64 head weights (F64, G64); the other pair is nil.
type Var struct {
	Name     string
	F32, G32 []float32
	F64, G64 []float64
}

func (v Var) size() int { return len(v.F32) + len(v.F64) }

// SGD is stochastic gradient descent with momentum and weight decay (as
// PyTorch's: g += wd·w; v = μ·v + g; w −= lr·v), a step learning-rate
// schedule and clipping of the global gradient norm. The zero Velocity
// starts from rest; it is exported so that checkpoints can carry it.
type SGD struct {
	LR          float64 // base learning rate
	Momentum    float64
	WeightDecay float64
	// Milestones are the steps at which the rate is multiplied by Gamma.
	Milestones []int
	Gamma      float64
	// ClipNorm rescales the whole gradient to at most this L2 norm (0: off).
	ClipNorm float64
	Velocity map[string][]float64
}

// Rate is the learning rate at a step.
func (o *SGD) Rate(step int) float64 {
	lr := o.LR
	for _, m := range o.Milestones {
		if step >= m {
			lr *= o.Gamma
		}
	}
	return lr
}

// GradNorm is the global L2 norm of the gradients.
func GradNorm(vars []Var) float64 {
	var s float64
	for _, v := range vars {
		for _, g := range v.G32 {
			s += float64(g) * float64(g)
		}
		for _, g := range v.G64 {
			s += g * g
		}
	}
	return math.Sqrt(s)
}

// Step applies one update at the given step number and returns the
// gradient norm before clipping.
func (o *SGD) Step(step int, vars []Var) (float64, error) {
	if o.Velocity == nil {
		o.Velocity = map[string][]float64{}
	}
	norm := GradNorm(vars)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("step %d: gradient norm %v", step, norm)
	}
	clip := 1.0
	if o.ClipNorm > 0 && norm > o.ClipNorm {
		clip = o.ClipNorm / norm
	}
	lr := o.Rate(step)
	for _, v := range vars {
		vel := o.Velocity[v.Name]
		if len(vel) != v.size() {
			if vel != nil {
				return norm, fmt.Errorf("momentum of %s has %d values, weight %d", v.Name, len(vel), v.size())
			}
			vel = make([]float64, v.size())
			o.Velocity[v.Name] = vel
		}
		if v.F32 != nil {
			update(v.F32, v.G32, vel, lr, o.Momentum, o.WeightDecay, clip)
		} else {
			update(v.F64, v.G64, vel, lr, o.Momentum, o.WeightDecay, clip)
		}
	}
	return norm, nil
}

func update[T float32 | float64](w, g []T, vel []float64, lr, mu, wd, clip float64) {
	for i := range w {
		d := clip*float64(g[i]) + wd*float64(w[i])
		vel[i] = mu*vel[i] + d
		w[i] -= T(lr * vel[i])
	}
}
