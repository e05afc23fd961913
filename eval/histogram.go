package eval

import "math"

// Histogram counts genuine and impostor scores in equal bins over
// [Lo, Hi); scores outside fall into the end bins.
type Histogram struct {
	Lo, Hi            float64
	Genuine, Impostor []int
}

// The range and bins of the workbench's score histograms: cosine −0.4 to 1
// in bins 0.025 wide.
const (
	HistogramLo, HistogramHi = -0.4, 1.0
	HistogramBins            = 56
)

// NewHistogram bins scores (same[i]: genuine pair) into bins equal bins
// over [lo, hi).
func NewHistogram(scores []float64, same []bool, lo, hi float64, bins int) Histogram {
	h := Histogram{Lo: lo, Hi: hi, Genuine: make([]int, bins), Impostor: make([]int, bins)}
	for k, v := range scores {
		b := int(math.Floor((v - lo) / (hi - lo) * float64(bins)))
		b = max(0, min(bins-1, b))
		if same[k] {
			h.Genuine[b]++
		} else {
			h.Impostor[b]++
		}
	}
	return h
}
