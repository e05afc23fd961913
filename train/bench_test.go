package train

import (
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
