package eval

import "fmt"

// Moments describes one class of scores. Std is the population standard
// deviation; both are NaN when N is 0.
type Moments struct {
	Mean float64
	Std  float64
	N    int
}

// ScoreMoments returns the moments of the genuine and the impostor scores.
func ScoreMoments(scores []float64, same []bool) (genuine, impostor Moments) {
	if len(scores) != len(same) {
		panic(fmt.Sprintf("eval: %d scores but %d labels", len(scores), len(same)))
	}
	var g, im []float64
	for i, s := range scores {
		if same[i] {
			g = append(g, s)
		} else {
			im = append(im, s)
		}
	}
	genuine.Mean, genuine.Std = meanStd(g)
	impostor.Mean, impostor.Std = meanStd(im)
	genuine.N, impostor.N = len(g), len(im)
	return genuine, impostor
}

// FDR is Fisher's discriminant ratio (μG − μI)² / (σG² + σI²): how far
// apart the two score distributions are relative to their spread. It is
// +Inf when both classes have zero spread and different means, NaN when
// the means are equal too.
func FDR(genuine, impostor Moments) float64 {
	d := genuine.Mean - impostor.Mean
	return d * d / (genuine.Std*genuine.Std + impostor.Std*impostor.Std)
}
