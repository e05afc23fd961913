package model

import (
	"fmt"

	"gorgonia.org/tensor"
)

// Kernels that only a device trainer runs: the optimiser, the gradient
// norm and the running statistics of batch norm, which the CPU Trainable
// computes outside its graph. Each do32/do64 is the reference that the
// device code is tested against. Some write an input in place as well as
// their output (said below): the backend interface has one output per
// kernel, and these update state that lives across steps.

// sgdKernel is one SGDStep on a weight of n values: inputs (w, g, v), the
// output is w itself, updated in place, and the velocity v (input 2) is
// updated in place too. Arithmetic is float32, as on a device.
type sgdKernel struct {
	s SGDStep
	n int
}

func (k sgdKernel) String() string {
	return fmt.Sprintf("SGD(n=%d,lr=%g,mu=%g,wd=%g,clip=%g)", k.n, k.s.LR, k.s.Momentum, k.s.WeightDecay, k.s.Clip)
}
func (k sgdKernel) outShape() tensor.Shape           { return tensor.Shape{k.n} }
func (k sgdKernel) vjp(int) kernel                   { return nil }
func (k sgdKernel) do32(w []float32, in [][]float32) { sgdRef(k.s, w, in) }
func (k sgdKernel) do64(w []float64, in [][]float64) { sgdRef(k.s, w, in) }

func sgdRef[T float](s SGDStep, w []T, in [][]T) {
	w0, g, vel := in[0], in[1], in[2]
	lr, mu, wd, clip := T(s.LR), T(s.Momentum), T(s.WeightDecay), T(s.Clip)
	for i := range w {
		v := mu*vel[i] + (clip*g[i] + wd*w0[i])
		vel[i] = v
		w[i] = w0[i] - lr*v
	}
}

// sumSquaresKernel writes Σ g² of its input (n values) into element at of
// its output, a vector of total values (one per weight), leaving the other
// elements as they are: the norms of all weights then come down at once.
type sumSquaresKernel struct{ n, at, total int }

func (k sumSquaresKernel) String() string {
	return fmt.Sprintf("SumSquares(n=%d,at=%d/%d)", k.n, k.at, k.total)
}
func (k sumSquaresKernel) outShape() tensor.Shape           { return tensor.Shape{k.total} }
func (k sumSquaresKernel) vjp(int) kernel                   { return nil }
func (k sumSquaresKernel) do32(y []float32, in [][]float32) { y[k.at] = float32(sumSquares(in[0])) }
func (k sumSquaresKernel) do64(y []float64, in [][]float64) { y[k.at] = sumSquares(in[0]) }

func sumSquares[T float](g []T) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return s
}

// bnRunningKernel folds the batch statistics of a training batch norm's
// input into its running statistics, as bnTrainKernel.updateRunning does
// on the CPU: inputs (x, running mean, running var); the output is the
// running mean, updated in place, and the running var (input 2) is updated
// in place too.
type bnRunningKernel struct{ k *bnTrainKernel }

func (k bnRunningKernel) String() string         { return "Running" + k.k.String() }
func (k bnRunningKernel) outShape() tensor.Shape { return tensor.Shape{k.k.shape[1]} }
func (k bnRunningKernel) vjp(int) kernel         { return nil }
func (k bnRunningKernel) do32(rm []float32, in [][]float32) {
	mean, variance := batchStats(k.k, in[0])
	rm0, rv := in[1], in[2]
	u := k.k.unbias()
	for c := range rm {
		rm[c] = float32(k.k.momentum*float64(rm0[c]) + (1-k.k.momentum)*mean[c])
		rv[c] = float32(k.k.momentum*float64(rv[c]) + (1-k.k.momentum)*variance[c]*u)
	}
}
func (k bnRunningKernel) do64(rm []float64, in [][]float64) {
	mean, variance := batchStats(k.k, in[0])
	rm0, rv := in[1], in[2]
	u := k.k.unbias()
	for c := range rm {
		rm[c] = k.k.momentum*rm0[c] + (1-k.k.momentum)*mean[c]
		rv[c] = k.k.momentum*rv[c] + (1-k.k.momentum)*variance[c]*u
	}
}

// hostLoss stands for the loss in a training plan: its input is the
// network's output, its output d loss / d output, and the device trainer
// computes it on the host (the caller's LossFunc). No backend runs it.
type hostLoss struct{ shape tensor.Shape }

func (k hostLoss) String() string              { return fmt.Sprintf("HostLoss%v", k.shape) }
func (k hostLoss) outShape() tensor.Shape      { return k.shape }
func (k hostLoss) vjp(int) kernel              { return nil }
func (k hostLoss) do32([]float32, [][]float32) {}
func (k hostLoss) do64([]float64, [][]float64) {}
