package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"
)

// sqLoss is L = ½ Σ (out − target)², a loss that follows the learner's own
// output, so two learners agree step after step only if they train alike.
func sqLoss(target []float32) LossFunc {
	return func(out, grad []float32) float64 {
		var s float64
		for i, v := range out {
			d := v - target[i]
			grad[i] = d
			s += 0.5 * float64(d) * float64(d)
		}
		return s
	}
}

// trainRun is what a learner went through: the loss of each step, the
// global gradient norm of each step, and its weights at the end.
type trainRun struct {
	losses, norms []float64
	params        []Param
}

// trainSteps trains l for len(xs) steps on xs (cycled targets), with a
// global norm clip at clipNorm as train.SGD does.
func trainSteps(t *testing.T, l Learner, xs []Tensor, target []float32, s SGDStep, clipNorm float64) trainRun {
	t.Helper()
	ctx := context.Background()
	var run trainRun
	for i, x := range xs {
		loss, _, err := l.Step(ctx, x, sqLoss(target))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		sq, err := l.GradSquares()
		if err != nil {
			t.Fatal(err)
		}
		norm := math.Sqrt(sq)
		step := s
		step.Clip = 1
		if clipNorm > 0 && norm > clipNorm {
			step.Clip = clipNorm / norm
		}
		if err := l.SGD(step); err != nil {
			t.Fatal(err)
		}
		run.losses = append(run.losses, loss)
		run.norms = append(run.norms, norm)
	}
	if err := l.Pull(); err != nil {
		t.Fatal(err)
	}
	run.params = l.Params()
	return run
}

func relDiff(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-12)
}

// relNorm is ‖a − b‖ / ‖b‖ (a tiny ‖b‖ counts as 1e-12).
func relNorm(a, b []float32) float64 {
	var d, n float64
	for i := range b {
		e := float64(a[i]) - float64(b[i])
		d += e * e
		n += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(d / math.Max(n, 1e-24))
}

// snapshot copies the weights of params.
func snapshot(params []Param) [][]float32 {
	w := make([][]float32, len(params))
	for i, p := range params {
		w[i] = append([]float32(nil), p.Value...)
	}
	return w
}

// minus is a − b.
func minus(a, b []float32) []float32 {
	d := make([]float32, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}

// compareRuns asserts equal losses and gradient norms (lossTol relative,
// per step) and equal training: per weight, the change from init (the
// weights both started from) and the velocity agree to paramTol in
// relative L2 norm.
func compareRuns(t *testing.T, got, want trainRun, init [][]float32, lossTol, paramTol float64) {
	t.Helper()
	for i := range want.losses {
		if e := relDiff(got.losses[i], want.losses[i]); e > lossTol || math.IsNaN(got.losses[i]) {
			t.Errorf("step %d: loss %.8g on the device, %.8g on the CPU (relative %.2g > %g)", i, got.losses[i], want.losses[i], e, lossTol)
		}
		if e := relDiff(got.norms[i], want.norms[i]); e > lossTol {
			t.Errorf("step %d: gradient norm %.8g on the device, %.8g on the CPU (relative %.2g > %g)", i, got.norms[i], want.norms[i], e, lossTol)
		}
	}
	if len(got.params) != len(want.params) {
		t.Fatalf("%d params, want %d", len(got.params), len(want.params))
	}
	worst, what := 0.0, ""
	for i, p := range want.params {
		g := got.params[i]
		if g.Name != p.Name || (g.Grad == nil) != (p.Grad == nil) {
			t.Fatalf("param %d: %s (learnable %v), want %s (%v)", i, g.Name, g.Grad != nil, p.Name, p.Grad != nil)
		}
		if e := relNorm(minus(g.Value, init[i]), minus(p.Value, init[i])); e > worst {
			worst, what = e, p.Name
		}
		if p.Grad == nil {
			continue
		}
		v32 := func(v []float64) []float32 {
			o := make([]float32, len(v))
			for j, x := range v {
				o[j] = float32(x)
			}
			return o
		}
		if e := relNorm(v32(g.Velocity), v32(p.Velocity)); e > worst {
			worst, what = e, p.Name+" (velocity)"
		}
	}
	if worst > paramTol {
		t.Errorf("weight %s: the device changed it by %.2g (relative L2) from the CPU's change > %g", what, worst, paramTol)
	}
	t.Logf("%d steps: final loss %.6g (CPU %.6g); largest difference of weight changes %.2g (%s)", len(want.losses),
		got.losses[len(got.losses)-1], want.losses[len(want.losses)-1], worst, what)
}

// trainCase trains the small test network on the CPU and on dev from the
// same weights and data.
func trainCase(t *testing.T, dev *Device, bn bool, batch, steps int) (got, want trainRun, init [][]float32) {
	t.Helper()
	net, err := Decode("train.onnx", trainModel(bn))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(21))
	xs := make([]Tensor, steps)
	for i := range xs {
		xs[i] = trainInput(r, batch)
	}
	target := make([]float32, batch*5)
	for i := range target {
		target[i] = float32(2*r.Float64() - 1)
	}
	s := SGDStep{LR: 0.03, Momentum: 0.9, WeightDecay: 5e-4}
	cpu, err := net.Trainable(batch)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := dev.Trainable(net, batch)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := dl.(interface{ Close() error }); ok {
		t.Cleanup(func() { _ = c.Close() })
	}
	init = snapshot(cpu.Params())
	want = trainSteps(t, cpu, xs, target, s, 4)
	got = trainSteps(t, dl, xs, target, s, 4)
	return got, want, init
}

// TestHostTrainMatchesCPU runs the device trainer on the host backend (the
// CPU kernels through a training plan): the plan's forward, loss, backward
// with summed gradients, running statistics and SGD must train as the CPU
// Trainable does. Only the float32 velocity and the order of summing
// gradients differ, so the tolerance is tight.
func TestHostTrainMatchesCPU(t *testing.T) {
	for _, bn := range []bool{false, true} {
		t.Run(fmt.Sprintf("bn=%v", bn), func(t *testing.T) {
			got, want, init := trainCase(t, newHostDevice(1<<30, 64, nil), bn, 3, 12)
			compareRuns(t, got, want, init, 1e-5, 1e-5)
			if want.losses[len(want.losses)-1] > 0.8*want.losses[0] {
				t.Errorf("loss %.4g → %.4g: the test network did not learn, the comparison proves little", want.losses[0], want.losses[len(want.losses)-1])
			}
		})
	}
}

// TestHostTrainGradients: after one step the device trainer's gradients,
// pulled to the host, are the CPU Trainable's.
func TestHostTrainGradients(t *testing.T) {
	net, err := Decode("train.onnx", trainModel(true))
	if err != nil {
		t.Fatal(err)
	}
	x := trainInput(rand.New(rand.NewSource(2)), 4)
	target := make([]float32, 20)
	for i := range target {
		target[i] = float32(i%7) / 7
	}
	cpu, err := net.Trainable(4)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := newHostDevice(1<<30, 64, nil).NewDeviceTrainable(net, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	ctx := context.Background()
	lc, oc, err := cpu.Step(ctx, x, sqLoss(target))
	if err != nil {
		t.Fatal(err)
	}
	ld, od, err := dl.Step(ctx, x, sqLoss(target))
	if err != nil {
		t.Fatal(err)
	}
	if lc != ld || !slices.Equal(oc.Shape, od.Shape) {
		t.Fatalf("loss %v, output %v on the device; %v, %v on the CPU", ld, od.Shape, lc, oc.Shape)
	}
	if err := dl.Pull(); err != nil {
		t.Fatal(err)
	}
	for i, p := range cpu.Params() {
		q := dl.Params()[i]
		a, b := p.Value, q.Value
		if p.Grad != nil {
			a, b = p.Grad, q.Grad
		}
		if e := relNorm(b, a); e > 1e-6 {
			t.Errorf("%s: device %v, CPU %v (relative %.2g)", p.Name, b, a, e)
		}
	}
}

// TestDeviceTrainableExport: a device-trained student exports with the
// weights on the device, and the export decodes to a model running as the
// CPU Trainable with those weights.
func TestDeviceTrainableExport(t *testing.T) {
	got, _, _ := trainCase(t, newHostDevice(1<<30, 64, nil), true, 2, 3)
	net, err := Decode("train.onnx", trainModel(true))
	if err != nil {
		t.Fatal(err)
	}
	dl, err := newHostDevice(1<<30, 64, nil).NewDeviceTrainable(net, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	for i, p := range dl.Params() {
		copy(p.Value, got.params[i].Value)
	}
	if err := dl.Push(); err != nil {
		t.Fatal(err)
	}
	data, err := dl.Export()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Decode("exported.onnx", data)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := again.Trainable(2)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range tr.Params() {
		for j, v := range p.Value {
			if v != got.params[i].Value[j] {
				t.Fatalf("%s[%d]: exported %v, trained %v", p.Name, j, v, got.params[i].Value[j])
			}
		}
	}
}

// TestDeviceTrainableMemory: a training plan that does not fit is a
// DeviceMemoryError naming a smaller batch, and leaves the device's
// accounting as it was.
func TestDeviceTrainableMemory(t *testing.T) {
	net, err := Decode("train.onnx", trainModel(false))
	if err != nil {
		t.Fatal(err)
	}
	dev := newHostDevice(64<<10, 64, nil)
	_, err = dev.NewDeviceTrainable(net, 64)
	var me *DeviceMemoryError
	if !errors.As(err, &me) || !errors.Is(err, ErrDeviceMemory) {
		t.Fatalf("got %v, want a DeviceMemoryError", err)
	}
	if me.Batch != 64 || me.Fits >= 64 || me.Fits < 1 {
		t.Errorf("batch %d, fits %d: want 64 and a smaller batch that fits", me.Batch, me.Fits)
	}
	if dev.used != 0 || dev.weights != 0 {
		t.Errorf("after the failure %d bytes in use, %d of weights: want 0", dev.used, dev.weights)
	}
	dl, err := dev.NewDeviceTrainable(net, me.Fits)
	if err != nil {
		t.Fatalf("batch %d, said to fit: %v", me.Fits, err)
	}
	if err := dl.Close(); err != nil {
		t.Fatal(err)
	}
	if dev.used != 0 || dev.weights != 0 {
		t.Errorf("after Close %d bytes in use, %d of weights: want 0", dev.used, dev.weights)
	}
}

// TestDeviceTrainableLossUsesDevice: the loss may run another model on
// the same device (the device is free during the loss), without deadlock.
func TestDeviceTrainableLossUsesDevice(t *testing.T) {
	net, err := Decode("train.onnx", trainModel(false))
	if err != nil {
		t.Fatal(err)
	}
	dev := newHostDevice(1<<30, 64, nil)
	teacher, err := dev.NewDeviceNet(net)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := dev.NewDeviceTrainable(net, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	x := trainInput(rand.New(rand.NewSource(4)), 2)
	loss := func(out, grad []float32) float64 {
		o, err := teacher.Run(context.Background(), x)
		if err != nil {
			t.Error(err)
			return 0
		}
		return sqLoss(o[0].Data)(out, grad)
	}
	l, _, err := dl.Step(context.Background(), x, loss)
	if err != nil {
		t.Fatal(err)
	}
	if l != 0 {
		t.Errorf("loss %v against the same model's output, want 0", l)
	}
}
