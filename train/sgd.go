package train

import (
	"fmt"
	"math"

	"github.com/maskinv/workbench/model"
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
// PyTorch's: g += wd·w; v = μ·v + g; w −= lr·v; model.SGDStep), a step
// learning-rate schedule and clipping of the global gradient norm. It
// updates host tensors (Vars) itself and a network's weights through its
// model.Learner, where they live (on the CPU or a device), with the same
// rule. The zero Velocity starts from rest; it holds the Vars' momentum
// (a Learner keeps its own) and is exported so that checkpoints carry it.
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
	return math.Sqrt(gradSquares(vars))
}

func gradSquares(vars []Var) float64 {
	var s float64
	for _, v := range vars {
		for _, g := range v.G32 {
			s += float64(g) * float64(g)
		}
		for _, g := range v.G64 {
			s += g * g
		}
	}
	return s
}

// Step applies one update at the given step number to the vars and to the
// weights of the networks, and returns the gradient norm before clipping:
// one global norm over all of them.
func (o *SGD) Step(step int, vars []Var, nets ...model.Learner) (float64, error) {
	if o.Velocity == nil {
		o.Velocity = map[string][]float64{}
	}
	sq := gradSquares(vars)
	for _, n := range nets {
		s, err := n.GradSquares()
		if err != nil {
			return 0, err
		}
		sq += s
	}
	norm := math.Sqrt(sq)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("step %d: gradient norm %v", step, norm)
	}
	s := model.SGDStep{LR: o.Rate(step), Momentum: o.Momentum, WeightDecay: o.WeightDecay, Clip: 1}
	if o.ClipNorm > 0 && norm > o.ClipNorm {
		s.Clip = o.ClipNorm / norm
	}
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
			model.SGDUpdate(v.F32, v.G32, vel, s)
		} else {
			model.SGDUpdate(v.F64, v.G64, vel, s)
		}
	}
	for _, n := range nets {
		if err := n.SGD(s); err != nil {
			return norm, err
		}
	}
	return norm, nil
}
