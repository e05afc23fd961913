package clblast

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/maskinv/workbench/internal/opencl"
	"github.com/maskinv/workbench/internal/opencltest"
)

func openFirst(t *testing.T) (*Lib, *opencl.Context) {
	t.Helper()
	cl, err := opencl.Load()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	devs, err := cl.Devices()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	dev := devs[0]
	lib, err := Load()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	ctx, err := dev.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ctx.Release() })
	return lib, ctx
}

func upload(t *testing.T, ctx *opencl.Context, data []float32) *opencl.Buffer {
	t.Helper()
	b, err := ctx.NewBuffer(int64(4 * len(data)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Release() })
	if err := b.Write(0, data); err != nil {
		t.Fatal(err)
	}
	return b
}

func rnd(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*r.Float32() - 1
	}
	return s
}

// TestSgemmBatched checks a batch of products sharing one A (stride 0, as
// a pointwise convolution's weights) against a naive product, with B
// transposed.
func TestSgemmBatched(t *testing.T) {
	lib, ctx := openFirst(t)
	r := rand.New(rand.NewPCG(1, 2))
	const m, n, k, count = 7, 9, 5, 3
	a, b := rnd(r, m*k), rnd(r, count*n*k)
	ba, bb := upload(t, ctx, a), upload(t, ctx, b)
	bc := upload(t, ctx, make([]float32, count*m*n))
	err := lib.SgemmBatched(ctx, m, n, k, 0.5,
		Matrix{Buf: ba, Ld: k}, Matrix{Buf: bb, Ld: k, Trans: true, BatchStride: n * k}, 0,
		Matrix{Buf: bc, Ld: n, BatchStride: m * n}, count)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, count*m*n)
	if err := bc.Read(0, got); err != nil {
		t.Fatal(err)
	}
	for q := 0; q < count; q++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					s += float64(a[i*k+p]) * float64(b[q*n*k+j*k+p])
				}
				if g := got[q*m*n+i*n+j]; math.Abs(float64(g)-0.5*s) > 1e-5 {
					t.Fatalf("batch %d [%d,%d] = %v, want %v", q, i, j, g, 0.5*s)
				}
			}
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := Load("libclblast-missing.so.7"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing library: %v", err)
	}
	e := &Error{Func: "CLBlastSgemmStridedBatched", Code: -1017}
	if e.Error() != "CLBlastSgemmStridedBatched: CLBlastInvalidDimension (-1017)" {
		t.Errorf("%q", e.Error())
	}
	if !errors.Is(&Error{Code: -4}, opencl.ErrOutOfMemory) {
		t.Error("allocation failure is not out of memory")
	}
}
