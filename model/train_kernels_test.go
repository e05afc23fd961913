package model

import (
	"math/rand"
	"testing"
)

// TestTrainKernelsFast compares the float32 gradient fast paths (C
// depthwise, pointwise GEMM, im2col + GEMM, PReLU, Add) with the generic
// float64 reference, whose gradients TestKernelGradients checks by finite
// differences.
func TestTrainKernelsFast(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	cases := []struct {
		x, w        []int
		group       int
		stride, pad int
		bias        bool
	}{
		{[]int{2, 4, 9, 9}, []int{4, 1, 3, 3}, 4, 1, 1, false},   // depthwise 3×3
		{[]int{2, 4, 9, 8}, []int{4, 1, 3, 3}, 4, 2, 1, true},    // depthwise stride 2
		{[]int{3, 6, 7, 7}, []int{6, 1, 7, 7}, 6, 1, 0, false},   // global depthwise (GDC)
		{[]int{2, 5, 6, 6}, []int{7, 5, 1, 1}, 1, 1, 0, true},    // pointwise
		{[]int{3, 3, 10, 10}, []int{4, 3, 3, 3}, 1, 2, 1, false}, // first layer
		{[]int{2, 4, 6, 6}, []int{4, 2, 3, 3}, 2, 1, 1, false},   // grouped: reference path
	}
	for _, c := range cases {
		g, err := newConvGeom(c.x, c.w, c.group, []int{c.stride, c.stride}, []int{c.pad, c.pad, c.pad, c.pad}, []int{1, 1}, c.bias)
		if err != nil {
			t.Fatal(err)
		}
		in := [][]float64{randSlice(r, volume(c.x)), randSlice(r, volume(c.w))}
		if c.bias {
			in = append(in, randSlice(r, c.w[0]))
		}
		y := run64(convKernel{g: g}, in)
		args := append(in, y, randSlice(r, len(y)))
		checkFast32(t, convGradX{g}, args, 1e-4)
		checkFast32(t, convGradW{g}, args, 1e-4)
	}
	for _, fn := range []binaryFn{fnPRelu, fnAdd} {
		shapeB := []int{1, 5, 1, 1}
		if fn == fnAdd {
			shapeB = []int{3, 5, 4, 4}
		}
		k, err := newBinaryKernel(fn, []int{3, 5, 4, 4}, shapeB)
		if err != nil {
			t.Fatal(err)
		}
		in := [][]float64{randSlice(r, 240), randSlice(r, volume(shapeB))}
		y := run64(k, in)
		args := append(in, y, randSlice(r, len(y)))
		checkFast32(t, binaryGrad{k, 0}, args, 1e-5)
		checkFast32(t, binaryGrad{k, 1}, args, 1e-5)
	}
}
