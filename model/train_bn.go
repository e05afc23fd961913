package model

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// bnTrainKernel is BatchNormalization in training mode: inputs x, scale,
// bias, running mean, running var; the output normalises x with the
// statistics of the batch itself (biased variance), y = scale·x̂ + bias.
// The running statistics are not differentiated; Trainable.Step updates
// them after each step (updateRunning), outside the graph, as ONNX does:
// running = momentum·running + (1−momentum)·batch, with the unbiased
// batch variance.
type bnTrainKernel struct {
	shape    tensor.Shape
	eps      float64
	momentum float64
	// set by the forward pass, read by updateRunning
	mean, variance []float64
	running        [2]*G.Node
}

func (k *bnTrainKernel) String() string {
	return fmt.Sprintf("BatchNormTrain%v(eps=%g,momentum=%g)@%p", k.shape, k.eps, k.momentum, k)
}
func (k *bnTrainKernel) outShape() tensor.Shape { return k.shape }
func (k *bnTrainKernel) planes() (n, c, plane int) {
	n, c = k.shape[0], k.shape[1]
	return n, c, k.shape.TotalSize() / (n * c)
}
func (k *bnTrainKernel) do32(y []float32, in [][]float32) { bnTrainForward(k, y, in, true) }
func (k *bnTrainKernel) do64(y []float64, in [][]float64) { bnTrainForward(k, y, in, true) }
func (k *bnTrainKernel) vjp(i int) kernel {
	if i <= 2 {
		return bnTrainGrad{k, i}
	}
	return nil
}

// batchStats returns the per-channel mean and biased variance of x.
func batchStats[T float](k *bnTrainKernel, x []T) (mean, variance []float64) {
	n, c, plane := k.planes()
	mean, variance = make([]float64, c), make([]float64, c)
	m := float64(n * plane)
	for ch := 0; ch < c; ch++ {
		var s float64
		for b := 0; b < n; b++ {
			for _, v := range x[(b*c+ch)*plane : (b*c+ch+1)*plane] {
				s += float64(v)
			}
		}
		mu := s / m
		var q float64
		for b := 0; b < n; b++ {
			for _, v := range x[(b*c+ch)*plane : (b*c+ch+1)*plane] {
				d := float64(v) - mu
				q += d * d
			}
		}
		mean[ch], variance[ch] = mu, q/m
	}
	return mean, variance
}

func bnTrainForward[T float](k *bnTrainKernel, y []T, in [][]T, record bool) {
	n, c, plane := k.planes()
	x, scale, bias := in[0], in[1], in[2]
	mean, variance := batchStats(k, x)
	if record {
		k.mean, k.variance = mean, variance
	}
	for ch := 0; ch < c; ch++ {
		mul := float64(scale[ch]) / math.Sqrt(variance[ch]+k.eps)
		add := float64(bias[ch]) - mean[ch]*mul
		for b := 0; b < n; b++ {
			o := (b*c + ch) * plane
			for i, v := range x[o : o+plane] {
				y[o+i] = T(float64(v)*mul + add)
			}
		}
	}
}

// updateRunning folds the last batch's statistics into the running ones.
func (k *bnTrainKernel) updateRunning() {
	if k.mean == nil || k.running[0] == nil {
		return
	}
	unbias := k.unbias()
	rm := k.running[0].Value().Data().([]float32)
	rv := k.running[1].Value().Data().([]float32)
	for ch := range rm {
		rm[ch] = float32(k.momentum*float64(rm[ch]) + (1-k.momentum)*k.mean[ch])
		rv[ch] = float32(k.momentum*float64(rv[ch]) + (1-k.momentum)*k.variance[ch]*unbias)
	}
}

// unbias turns the biased variance of a batch into the unbiased one.
func (k *bnTrainKernel) unbias() float64 {
	n, _, plane := k.planes()
	if m := float64(n * plane); m > 1 {
		return m / (m - 1)
	}
	return 1
}

// bnTrainGrad maps (x, scale, bias, mean, var, y, dy) to the gradient of x,
// scale or bias through the batch statistics:
// dx = scale/σ · (dy − mean(dy) − x̂·mean(dy·x̂)), dscale = Σ dy·x̂, dbias = Σ dy.
type bnTrainGrad struct {
	k   *bnTrainKernel
	wrt int
}

func (g bnTrainGrad) String() string                   { return fmt.Sprintf("d%d%s", g.wrt, g.k) }
func (g bnTrainGrad) outShape() tensor.Shape           { return bnGradShape(g.k.shape, g.wrt) }
func (g bnTrainGrad) vjp(int) kernel                   { return nil }
func (g bnTrainGrad) do32(d []float32, in [][]float32) { bnTrainBackward(g, d, in) }
func (g bnTrainGrad) do64(d []float64, in [][]float64) { bnTrainBackward(g, d, in) }

func bnTrainBackward[T float](g bnTrainGrad, d []T, in [][]T) {
	n, c, plane := g.k.planes()
	x, scale, dy := in[0], in[1], in[len(in)-1]
	mean, variance := batchStats(g.k, x)
	m := float64(n * plane)
	for ch := 0; ch < c; ch++ {
		inv := 1 / math.Sqrt(variance[ch]+g.k.eps)
		var sdy, sdyx float64
		for b := 0; b < n; b++ {
			o := (b*c + ch) * plane
			for i := o; i < o+plane; i++ {
				sdy += float64(dy[i])
				sdyx += float64(dy[i]) * (float64(x[i]) - mean[ch]) * inv
			}
		}
		switch g.wrt {
		case 1:
			d[ch] = T(sdyx)
		case 2:
			d[ch] = T(sdy)
		default:
			f := float64(scale[ch]) * inv
			for b := 0; b < n; b++ {
				o := (b*c + ch) * plane
				for i := o; i < o+plane; i++ {
					xh := (float64(x[i]) - mean[ch]) * inv
					d[i] = T(f * (float64(dy[i]) - sdy/m - xh*sdyx/m))
				}
			}
		}
	}
}

// buildBatchNormTrain adds a training-mode BatchNorm; its running
// statistics are graph nodes that Step updates and Export writes back.
func buildBatchNormTrain(b *builder, n *irNode, in []value) (value, error) {
	k := &bnTrainKernel{shape: in[0].shape().Clone(), eps: attrFloat(n, "epsilon", 1e-5), momentum: attrFloat(n, "momentum", 0.9)}
	v, err := b.kernelNode(k, in...)
	if err != nil {
		return value{}, err
	}
	for i := 0; i < 2; i++ {
		node, err := b.lift(in[3+i])
		if err != nil {
			return value{}, err
		}
		k.running[i] = node
		if b.stats == nil {
			b.stats = map[*G.Node]bool{}
		}
		b.stats[node] = true
	}
	return v, nil
}
