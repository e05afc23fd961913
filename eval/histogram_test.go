package eval

import (
	"fmt"
	"testing"
)

// TestNewHistogram: scores land in the bin of their value, classes apart,
// and values outside the range in the end bins.
func TestNewHistogram(t *testing.T) {
	scores := []float64{-5, -0.4, 0.0, 0.24, 0.25, 0.99, 1.0, 9}
	same := []bool{true, false, true, true, false, true, false, false}
	h := NewHistogram(scores, same, 0, 1, 4)
	if fmt.Sprint(h.Genuine) != "[3 0 0 1]" || fmt.Sprint(h.Impostor) != "[1 1 0 2]" {
		t.Errorf("genuine %v, impostor %v; want [3 0 0 1] and [1 1 0 2]", h.Genuine, h.Impostor)
	}
	if h.Lo != 0 || h.Hi != 1 {
		t.Errorf("range [%v, %v)", h.Lo, h.Hi)
	}
}
