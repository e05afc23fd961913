package model

import "fmt"

// Tensor is a dense float32 array in row-major order (NCHW for images).
// It is the currency between the engine and its callers; the engine keeps
// gorgonia types inside.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor allocates a zero tensor of the given shape.
func NewTensor(shape ...int) Tensor {
	return Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, volume(shape))}
}

// Len is the number of elements the shape holds.
func (t Tensor) Len() int { return volume(t.Shape) }

func (t Tensor) check() error {
	if t.Len() != len(t.Data) {
		return fmt.Errorf("tensor shape %v holds %d values, data has %d", t.Shape, t.Len(), len(t.Data))
	}
	return nil
}

func volume(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
