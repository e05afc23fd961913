package train

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkHeadLoss is the margin head of an LFW folds 1–9 run: batch 32,
// 5298 identities, 512-d, forward and both gradients.
func BenchmarkHeadLoss(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	const n, c, d = 32, 5298, 512
	h := NewHead(c, d, r)
	emb := randVec(r, n*d, 1)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = r.Intn(c)
	}
	m, _ := ParseMargin("elastic-arc+")
	dEmb, dW := make([]float64, n*d), make([]float64, c*d)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Loss(m, emb, labels, r, dEmb, dW)
	}
}

// BenchmarkHeadStep is everything a training step does on the host beside
// the student, whatever device trains the student: the margin head's loss
// and gradients, the distillation term, and the head's SGD update, at
// batch 32 and 512-d, for the identities of an LFW folds 1–9 run (5298)
// and of MS1MV2 (85742). Compare ms/step with a student step on a device
// (model's BenchmarkTrainDevices) for the head's share.
func BenchmarkHeadStep(b *testing.B) {
	for _, c := range []int{5298, 85742} {
		b.Run(fmt.Sprintf("classes%d", c), func(b *testing.B) {
			r := rand.New(rand.NewSource(1))
			const n, d = 32, 512
			h := NewHead(c, d, r)
			emb, teacher := randVec(r, n*d, 1), randVec(r, n*d, 1)
			labels := make([]int, n)
			for i := range labels {
				labels[i] = r.Intn(c)
			}
			m, _ := ParseMargin("elastic-arc+")
			dEmb, dKD, dW := make([]float64, n*d), make([]float64, n*d), make([]float64, c*d)
			opt := &SGD{LR: 0.003, Momentum: 0.9, WeightDecay: 5e-4, ClipNorm: 5}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.Loss(m, emb, labels, r, dEmb, dW)
				KD(100, emb, teacher, d, dKD)
				if _, err := opt.Step(i, []Var{{Name: "head", F64: h.W, G64: dW}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
		})
	}
}
