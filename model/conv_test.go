package model

import (
	"math"
	"math/rand"
	"testing"

	"gorgonia.org/tensor"
)

// naiveConv is the textbook definition, independent of im2col and GEMM.
func naiveConv(g *convGeom, x, w, b []float64) []float64 {
	y := make([]float64, g.n*g.m*g.oh*g.ow)
	for n := 0; n < g.n; n++ {
		for m := 0; m < g.m; m++ {
			gr := m / g.mg()
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					var s float64
					if b != nil {
						s = b[m]
					}
					for c := 0; c < g.cg(); c++ {
						for i := 0; i < g.kh; i++ {
							for j := 0; j < g.kw; j++ {
								iy, ix := oy*g.sh-g.pt+i*g.dh, ox*g.sw-g.pl+j*g.dw
								if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
									continue
								}
								s += w[((m*g.cg()+c)*g.kh+i)*g.kw+j] * x[((n*g.c+gr*g.cg()+c)*g.h+iy)*g.w+ix]
							}
						}
					}
					y[((n*g.m+m)*g.oh+oy)*g.ow+ox] = s
				}
			}
		}
	}
	return y
}

var convCases = []struct {
	name                string
	x, w                tensor.Shape
	group               int
	strides, pads, dils []int
	bias                bool
}{
	{"pointwise", tensor.Shape{2, 3, 5, 4}, tensor.Shape{4, 3, 1, 1}, 1, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, true},
	{"3x3 pad1", tensor.Shape{1, 2, 6, 5}, tensor.Shape{3, 2, 3, 3}, 1, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true},
	{"3x3 stride2", tensor.Shape{2, 2, 7, 6}, tensor.Shape{3, 2, 3, 3}, 1, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, false},
	{"depthwise", tensor.Shape{2, 4, 6, 6}, tensor.Shape{4, 1, 3, 3}, 4, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true},
	{"depthwise stride2", tensor.Shape{1, 3, 7, 8}, tensor.Shape{3, 1, 3, 3}, 3, []int{2, 2}, []int{1, 1, 1, 1}, []int{1, 1}, true},
	{"grouped", tensor.Shape{1, 4, 5, 5}, tensor.Shape{6, 2, 3, 3}, 2, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true},
	{"dilated", tensor.Shape{1, 2, 9, 9}, tensor.Shape{2, 2, 3, 3}, 1, []int{1, 1}, []int{2, 2, 2, 2}, []int{2, 2}, true},
	{"asymmetric pads", tensor.Shape{1, 2, 6, 7}, tensor.Shape{2, 2, 3, 2}, 1, []int{2, 1}, []int{0, 1, 2, 0}, []int{1, 1}, false},
	{"split by output channels", tensor.Shape{1, 8, 7, 7}, tensor.Shape{64, 8, 3, 3}, 1, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true},
	{"pointwise split by output channels", tensor.Shape{1, 16, 7, 7}, tensor.Shape{48, 16, 1, 1}, 1, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, true},
	{"split by columns", tensor.Shape{1, 3, 20, 20}, tensor.Shape{4, 3, 3, 3}, 1, []int{1, 1}, []int{1, 1, 1, 1}, []int{1, 1}, true},
	{"7x7 depthwise valid", tensor.Shape{2, 2, 7, 7}, tensor.Shape{2, 1, 7, 7}, 2, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, false},
}

func convInputs(t *testing.T, r *rand.Rand, i int) (*convGeom, [][]float64) {
	tc := convCases[i]
	g, err := newConvGeom(tc.x, tc.w, tc.group, tc.strides, tc.pads, tc.dils, tc.bias)
	if err != nil {
		t.Fatalf("%s: %v", tc.name, err)
	}
	in := [][]float64{randSlice(r, tc.x.TotalSize()), randSlice(r, tc.w.TotalSize())}
	if tc.bias {
		in = append(in, randSlice(r, g.m))
	}
	return g, in
}

func TestConvMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			g, in := convInputs(t, r, i)
			var b []float64
			if tc.bias {
				b = in[2]
			}
			want := naiveConv(g, in[0], in[1], b)
			got := run64(convKernel{g: g}, in)
			for j := range want {
				if d := got[j] - want[j]; d > 1e-12 || d < -1e-12 {
					t.Fatalf("output %d = %v, naive %v", j, got[j], want[j])
				}
			}
			checkFast32(t, convKernel{g: g}, in, 1e-5)
			checkFast32(t, convKernel{g: g, act: actRelu}, in, 1e-5)
			checkFast32(t, convKernel{g: g, act: actPRelu}, append(in, randSlice(r, g.m)), 1e-5)
		})
	}
}

func TestConvGradients(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i, tc := range convCases {
		t.Run(tc.name, func(t *testing.T) {
			g, in := convInputs(t, r, i)
			checkGradients(t, convKernel{g: g}, in)
		})
	}
}

func TestConvGeomErrors(t *testing.T) {
	tests := []struct {
		name  string
		x, w  tensor.Shape
		group int
	}{
		{"groups do not divide", tensor.Shape{1, 3, 5, 5}, tensor.Shape{4, 1, 3, 3}, 2},
		{"weight channels", tensor.Shape{1, 3, 5, 5}, tensor.Shape{4, 2, 3, 3}, 1},
		{"kernel larger than input", tensor.Shape{1, 1, 2, 2}, tensor.Shape{1, 1, 3, 3}, 1},
		{"3-D input", tensor.Shape{3, 5, 5}, tensor.Shape{1, 3, 3, 3}, 1},
	}
	for _, tc := range tests {
		if _, err := newConvGeom(tc.x, tc.w, tc.group, []int{1, 1}, []int{0, 0, 0, 0}, []int{1, 1}, false); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestDepthwiseShapes runs the fast depthwise kernels on the shapes that
// take their other paths: rows of 32 or more (computed row by row), planes
// taller than one band, asymmetric pads, strides that only the generic
// kernel takes, and global kernels over more planes than one group of
// eight. Each is checked against the textbook convolution.
func TestDepthwiseShapes(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	tests := []struct {
		name            string
		c, h, w, kh, kw int
		sh, sw          int
		pads            []int
		path            dwPath
	}{
		{"3x3 stride 1, wide rows", 3, 5, 40, 3, 3, 1, 1, []int{1, 1, 1, 1}, dw3x3S1},
		{"3x3 stride 1, tall plane, several bands", 2, 700, 9, 3, 3, 1, 1, []int{1, 1, 1, 1}, dw3x3S1},
		{"3x3 stride 1, no padding", 2, 6, 7, 3, 3, 1, 1, []int{0, 0, 0, 0}, dw3x3S1},
		{"3x3 stride 1, asymmetric pads", 3, 6, 7, 3, 3, 1, 1, []int{0, 1, 2, 0}, dw3x3S1},
		{"3x3 stride 2, wide rows", 2, 6, 70, 3, 3, 2, 2, []int{1, 1, 1, 1}, dw3x3S2},
		{"3x3 stride 2, tall plane, several bands", 2, 900, 10, 3, 3, 2, 2, []int{1, 1, 1, 1}, dw3x3S2},
		{"3x3 stride 2, odd sizes, no padding", 3, 9, 11, 3, 3, 2, 2, []int{0, 0, 0, 0}, dw3x3S2},
		{"3x3 stride 2, asymmetric pads", 3, 8, 9, 3, 3, 2, 2, []int{1, 0, 0, 1}, dw3x3S2},
		{"3x3 stride 2 by 1", 2, 8, 9, 3, 3, 2, 1, []int{1, 1, 1, 1}, dwGeneric},
		{"global 4x4 over 19 planes", 19, 4, 4, 4, 4, 1, 1, []int{0, 0, 0, 0}, dwGlobal},
		{"5x5 padded", 2, 9, 8, 5, 5, 1, 1, []int{2, 2, 2, 2}, dwGeneric},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := newConvGeom(tensor.Shape{2, tc.c, tc.h, tc.w}, tensor.Shape{tc.c, 1, tc.kh, tc.kw}, tc.c,
				[]int{tc.sh, tc.sw}, tc.pads, []int{1, 1}, true)
			if err != nil {
				t.Fatal(err)
			}
			if p := depthwisePath(g); p != tc.path {
				t.Fatalf("takes path %d, want %d", p, tc.path)
			}
			in := [][]float64{randSlice(r, 2*tc.c*tc.h*tc.w), randSlice(r, tc.c*tc.kh*tc.kw), randSlice(r, tc.c)}
			want := naiveConv(g, in[0], in[1], in[2])
			for act := actNone; act <= actPRelu; act++ {
				slope := randSlice(r, tc.c)
				k := convKernel{g: g, act: act}
				args := in
				if act == actPRelu {
					args = append(append([][]float64{}, in...), slope)
				}
				got := make([]float32, len(want))
				args32 := make([][]float32, len(args))
				for i := range args {
					args32[i] = to32(args[i])
				}
				k.do32(got, args32)
				for j, v := range want {
					switch {
					case v > 0:
					case act == actRelu:
						v = 0
					case act == actPRelu:
						v *= slope[j/(g.oh*g.ow)%tc.c]
					}
					if d := math.Abs(float64(got[j]) - v); d > 1e-5*math.Max(1, math.Abs(v)) || math.IsNaN(float64(got[j])) {
						t.Fatalf("act %d: output %d = %v, naive %v", act, j, got[j], v)
					}
				}
			}
		})
	}
}
