package train

import (
	"math"
	"math/rand"
	"testing"

	"github.com/maskinv/workbench/model"
)

// TestSGDReducesLoss: least squares ‖Ax − b‖²/n, a tiny synthetic problem,
// falls by two orders of magnitude under SGD with momentum.
func TestSGDReducesLoss(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	const n, d = 40, 5
	a, truth := randVec(r, n*d, 1), randVec(r, d, 1)
	b := make([]float64, n)
	for i := range b {
		b[i] = dot(a[i*d:(i+1)*d], truth)
	}
	x32 := make([]float32, d)
	g32 := make([]float32, d)
	loss := func() float64 {
		var s float64
		clear(g32)
		for i := 0; i < n; i++ {
			var p float64
			for j := 0; j < d; j++ {
				p += a[i*d+j] * float64(x32[j])
			}
			e := p - b[i]
			s += e * e / n
			for j := 0; j < d; j++ {
				g32[j] += float32(2 * e * a[i*d+j] / n)
			}
		}
		return s
	}
	opt := &SGD{LR: 0.05, Momentum: 0.9, WeightDecay: 0, Milestones: []int{150}, Gamma: 0.1, ClipNorm: 10}
	first := loss()
	var last float64
	for step := 0; step < 200; step++ {
		last = loss()
		if _, err := opt.Step(step, []Var{{Name: "x", F32: x32, G32: g32}}); err != nil {
			t.Fatal(err)
		}
	}
	if last > first/100 {
		t.Errorf("loss %v → %v, want a 100× drop", first, last)
	}
}

func TestSGDUpdateRule(t *testing.T) {
	w := []float64{1, -2}
	g := []float64{3, 4} // norm 5
	opt := &SGD{LR: 0.1, Momentum: 0.9, WeightDecay: 0.5, ClipNorm: 1, Milestones: []int{1}, Gamma: 0.1}
	norm, err := opt.Step(0, []Var{{Name: "w", F64: w, G64: g}})
	if err != nil || norm != 5 {
		t.Fatalf("norm %v err %v", norm, err)
	}
	// clip to norm 1: g = (0.6, 0.8); + wd·w = (0.5, −1); v = (1.1, −0.2)
	want := []float64{1 - 0.1*1.1, -2 + 0.1*0.2}
	for i := range w {
		if math.Abs(w[i]-want[i]) > 1e-12 {
			t.Fatalf("w = %v, want %v", w, want)
		}
	}
	if opt.Rate(0) != 0.1 || math.Abs(opt.Rate(1)-0.01) > 1e-15 {
		t.Errorf("schedule: %v %v", opt.Rate(0), opt.Rate(1))
	}
	if _, err := opt.Step(1, []Var{{Name: "w", F64: w, G64: []float64{math.NaN(), 0}}}); err == nil {
		t.Error("NaN gradient accepted")
	}
}

func TestInitRandom(t *testing.T) {
	params := []model.Param{
		{Name: "w", Op: "Conv", Input: 1, Shape: []int{8, 4, 3, 3}, Value: make([]float32, 288)},
		{Name: "b", Op: "Conv", Input: 2, Shape: []int{8}, Value: []float32{1, 1, 1, 1, 1, 1, 1, 1}},
		{Name: "s", Op: "PRelu", Input: 1, Shape: []int{8, 1, 1}, Value: make([]float32, 8)},
		{Name: "g", Op: "BatchNormalization", Input: 1, Shape: []int{8}, Value: make([]float32, 8)},
	}
	initRandom(params, rand.New(rand.NewSource(1)))
	var sq float64
	for _, v := range params[0].Value {
		sq += float64(v) * float64(v)
	}
	if std := math.Sqrt(sq / 288); math.Abs(std-math.Sqrt(2.0/36)) > 0.05 {
		t.Errorf("conv weight std %v, want He %v", std, math.Sqrt(2.0/36))
	}
	if params[1].Value[0] != 0 || params[2].Value[0] != 0.25 || params[3].Value[0] != 1 {
		t.Errorf("bias %v, slope %v, bn scale %v; want 0, 0.25, 1", params[1].Value[0], params[2].Value[0], params[3].Value[0])
	}
}
