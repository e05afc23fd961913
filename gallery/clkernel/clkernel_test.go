package clkernel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"

	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/internal/opencl"
	"github.com/maskinv/workbench/internal/opencltest"
)

// TestDeviceEnv names the device the tests use ("opencl:P.D"), as in
// package model's tests; default: the first GPU, else the first device.
const TestDeviceEnv = "MASKINV_TEST_OPENCL"

// testDevice returns the platform and device indices of the test device,
// or skips (fails under MASKINV_REQUIRE_OPENCL=1) without one.
func testDevice(t testing.TB) (platform, device int) {
	t.Helper()
	if s := os.Getenv(TestDeviceEnv); s != "" {
		if _, err := fmt.Sscanf(s, "opencl:%d.%d", &platform, &device); err != nil {
			t.Fatalf("%s=%q: want opencl:P.D", TestDeviceEnv, s)
		}
		return platform, device
	}
	lib, err := opencl.Load()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	devs, err := lib.Devices()
	if err != nil {
		opencltest.Unavailable(t, err)
	}
	for _, d := range devs {
		if d.GPU() {
			return d.Platform.Index, d.Index
		}
	}
	return devs[0].Platform.Index, devs[0].Index
}

// openTest opens the test device with opt; the kernel is closed when the
// test ends.
func openTest(t testing.TB, opt Options) *Kernel {
	t.Helper()
	p, d := testDevice(t)
	k, err := Open(p, d, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := k.Close(); err != nil {
			t.Error(err)
		}
	})
	return k
}

// eachScores runs f as a subtest with each of the two scores kernels
// (the tiled one that GPUs run and the by-row one of CPU devices),
// whatever the device.
func eachScores(t *testing.T, k *Kernel, f func(t *testing.T)) {
	for _, tiled := range []bool{true, false} {
		t.Run(map[bool]string{true: "tiled", false: "by row"}[tiled], func(t *testing.T) {
			k.useTiled = tiled
			f(t)
		})
	}
}

// eachVariant runs f as a subtest with each scores kernel and each way of
// picking a chunk's best: best_few (in chunks of fewChunk rows when not
// 0) for up to 16 hits, or best's sort for any number.
func eachVariant(t *testing.T, k *Kernel, fewChunk int, f func(t *testing.T)) {
	if fewChunk > 0 {
		k.fewChunk = fewChunk
	}
	few := k.fewMax
	for _, max := range []int{few, 0} {
		t.Run(map[bool]string{true: "few", false: "sort"}[max > 0], func(t *testing.T) {
			k.fewMax = max
			eachScores(t, k, f)
		})
	}
}

func randMatrix(rng *rand.Rand, rows, dim int) []float32 {
	m := make([]float32, rows*dim)
	for i := range m {
		m[i] = float32(rng.NormFloat64())
	}
	return m
}

// testGallery has random rows, zero rows (a store's failed images) at
// the start, in the middle and at the end, and copies of row 10 scaled by
// powers of two, which tie with it bit for bit, across block and chunk
// boundaries.
func testGallery(rng *rand.Rand, n, dim int) []float32 {
	rows := randMatrix(rng, n, dim)
	for _, z := range []int{0, 3, n / 2, n - 1} {
		clear(rows[z*dim : (z+1)*dim])
	}
	for _, c := range []struct {
		row   int
		scale float32
	}{{57, 2}, {63, 0.25}, {64, 8}, {400, 0.5}, {n - 2, 4}} {
		for t := range dim {
			rows[c.row*dim+t] = rows[10*dim+t] * c.scale
		}
	}
	return rows
}

// TestMulTMatchesGoKernel: the device's products are GoKernel's bit for
// bit (sums in order, no fused multiply-adds), across tile edges.
func TestMulTMatchesGoKernel(t *testing.T) {
	k := openTest(t, Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	eachScores(t, k, func(t *testing.T) {
		for _, m := range []int{1, 3, 16, 17, 33} {
			for _, n := range []int{1, 63, 64, 130} {
				for _, dim := range []int{1, 31, 33, 512} {
					a, b := randMatrix(rng, m, dim), randMatrix(rng, n, dim)
					want, got := make([]float32, m*n), make([]float32, m*n)
					gallery.GoKernel(m, n, dim, a, b, want)
					if err := k.MulT(m, n, dim, a, b, got); err != nil {
						t.Fatal(err)
					}
					for i := range got {
						if d := math.Abs(float64(got[i] - want[i])); d > roundingBound(k, a[i/n*dim:], b[i%n*dim:], dim) {
							t.Fatalf("m=%d n=%d dim=%d: c[%d] = %v, GoKernel %v", m, n, dim, i, got[i], want[i])
						}
					}
				}
			}
		}
	})
}

// TestScanMatchesSearch: gallery.Search with the device kernel returns
// what it returns with GoKernel, bit for bit: the same rows in the same
// order (ties to the lower row), the same scores, zero rows never hit;
// with one block or several, chunks smaller than K, blocks not kept on
// the device, and queries in several batches.
func TestScanMatchesSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, dim = 1500, 48
	rows := testGallery(rng, n, dim)
	g, err := gallery.New(rows, dim)
	if err != nil {
		t.Fatal(err)
	}
	queries := [][]float32{rows[10*dim : 11*dim], rows[200*dim : 201*dim]}
	for range 19 { // a full tile of 16 queries and a part of one
		queries = append(queries, randMatrix(rng, 1, dim))
	}
	// Room for a search's buffers, the stage and 3 blocks of 256 rows.
	fourBlocks := (&Kernel{maxBatch: maxBatch}).workBytes(256, dim) + 4*(4*256*(dim+1))
	tests := []struct {
		name  string
		opt   Options
		batch int // queries per batch; 0: the default
		kept  int // rows that stay on the device
		ks    []int
	}{
		{"one block", Options{}, 0, n, []int{1, 2, 4, 10, 16, 17}},
		{"blocks of 300 in chunks of 64", Options{BlockRows: 300, ChunkRows: 64}, 0, n, []int{1, 2, 5, 16, 64, 100, 400, n + 5}},
		{"chunks of 2", Options{BlockRows: 100, ChunkRows: 2}, 0, n, []int{1, 3}},
		{"batches of 3", Options{BlockRows: 512, ChunkRows: 128}, 3, n, []int{7}},
		{"batches of 17", Options{BlockRows: 512, ChunkRows: 128}, 17, n, []int{7}},
		{"no block kept", Options{BlockRows: 256, ChunkRows: 64, MemoryLimit: 1}, 0, 0, []int{10, 300}},
		{"3 of 6 blocks kept", Options{BlockRows: 256, ChunkRows: 64, MemoryLimit: fourBlocks}, 0, 768, []int{10, 300}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := openTest(t, tc.opt)
			if tc.batch > 0 {
				k.maxBatch = tc.batch
			}
			eachVariant(t, k, tc.opt.ChunkRows*3/2, func(t *testing.T) {
				for _, hits := range tc.ks {
					want, err := g.Search(context.Background(), queries, gallery.Options{K: hits})
					if err != nil {
						t.Fatal(err)
					}
					got, err := g.Search(context.Background(), queries, gallery.Options{K: hits, Kernel: k})
					if err != nil {
						t.Fatal(err)
					}
					checkHits(t, k, g, queries, hits, got, want)
				}
			})
			if kept := k.KeptRows(); kept != tc.kept {
				t.Errorf("%d rows kept on the device, want %d", kept, tc.kept)
			}
		})
	}
}

// exact reports whether the device must give GoKernel's scores bit for
// bit: a CPU device (PoCL) rounds as IEEE 754 says and keeps products and
// sums apart as search.cl asks. A GPU's compiler may still fuse them, so
// on a GPU the tests allow float32 rounding and log whether the scores
// were equal all the same.
func exact(k *Kernel) bool { return k.dev.Type&opencl.TypeCPU != 0 }

// roundingBound is how far two float32 sums of the products a[t]·b[t],
// t < dim, taken in order, may differ when one rounds each product and
// the other fuses them into the sums: 0 on an exact device, else twice
// the classic bound of dim·2⁻²⁴·Σ|a[t]·b[t]|.
func roundingBound(k *Kernel, a, b []float32, dim int) float64 {
	if exact(k) {
		return 0
	}
	var s float64
	for t := range dim {
		s += math.Abs(float64(a[t]) * float64(b[t]))
	}
	return 2 * float64(dim) * 0x1p-24 * s
}

// checkHits fails unless got (the device's hits for the queries in g, K
// each) are want (GoKernel's): equal on an exact device; elsewhere the
// same number of hits, each a row with a length, none twice, scoring
// within scoreTolerance of GoKernel's score for that row, and the i-th
// score of each query within it of want's i-th (near-equal rows may swap).
func checkHits(t *testing.T, k *Kernel, g *gallery.Gallery, queries [][]float32, hits int, got, want [][]gallery.Hit) {
	t.Helper()
	if exact(k) {
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("K=%d: the device's hits differ from GoKernel's%s", hits, firstDifference(got, want))
		}
		return
	}
	all, err := g.Search(context.Background(), queries, gallery.Options{K: g.Len()})
	if err != nil || len(got) != len(want) {
		t.Fatalf("K=%d: %d queries answered, want %d (%v)", hits, len(got), len(want), err)
	}
	for q := range want {
		score := map[int]float32{}
		for _, h := range all[q] {
			score[h.Row] = h.Score
		}
		if len(got[q]) != len(want[q]) {
			t.Fatalf("K=%d: query %d has %d hits, want %d", hits, q, len(got[q]), len(want[q]))
		}
		for i, h := range got[q] {
			s, ok := score[h.Row]
			if !ok || math.Abs(float64(h.Score-s)) > scoreTolerance || math.Abs(float64(h.Score-want[q][i].Score)) > scoreTolerance {
				t.Fatalf("K=%d: query %d hit %d is %+v (GoKernel: %v, %v), want %+v within %g", hits, q, i, h, s, ok, want[q][i], scoreTolerance)
			}
			delete(score, h.Row) // a row twice fails
		}
	}
	t.Logf("K=%d: the device's scores are within %g of GoKernel's; bit for bit the same hits: %v", hits, scoreTolerance, reflect.DeepEqual(got, want))
}

// scoreTolerance bounds the difference of two cosine scores of unit
// vectors of up to 64 values summed in order, one with its products
// rounded, the other fused: 2·64·2⁻²⁴ < 1e-5.
const scoreTolerance = 1e-5

// firstDifference describes the first hit where got and want differ.
func firstDifference(got, want [][]gallery.Hit) string {
	for q := range min(len(got), len(want)) {
		for i := range max(len(got[q]), len(want[q])) {
			var g, w gallery.Hit
			if i < len(got[q]) {
				g = got[q][i]
			}
			if i < len(want[q]) {
				w = want[q][i]
			}
			if g != w {
				return fmt.Sprintf(": query %d hit %d is %+v, want %+v (%d and %d hits)", q, i, g, w, len(got[q]), len(want[q]))
			}
		}
	}
	return fmt.Sprintf(": %d and %d queries", len(got), len(want))
}

// TestScanTiesAndZeroRows: the copies of a row tie at the top in row
// order, across block and chunk edges, picked by best_few (6 hits) or
// best (a K beyond the rows with a length, which gives each of them once,
// never a zero row).
func TestScanTiesAndZeroRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, dim = 700, 8
	g, err := gallery.New(testGallery(rng, n, dim), dim)
	if err != nil {
		t.Fatal(err)
	}
	k := openTest(t, Options{BlockRows: 60, ChunkRows: 4})
	k.fewChunk = 7
	q := [][]float32{g.Rows()[10*dim : 11*dim]}
	for _, hits := range []int{6, n + 1} {
		got, err := g.Search(context.Background(), q, gallery.Options{K: hits, Kernel: k})
		if err != nil {
			t.Fatal(err)
		}
		top := got[0][:6]
		for i, row := range []int{10, 57, 63, 64, 400, n - 2} {
			if top[i].Row != row || top[i].Score != top[0].Score {
				t.Fatalf("K=%d: tied hits %+v, want rows 10, 57, 63, 64, 400, %d with one score", hits, top, n-2)
			}
		}
		seen := map[int]bool{}
		for _, h := range got[0] {
			if seen[h.Row] || g.InvNorms()[h.Row] == 0 {
				t.Fatalf("K=%d: row %d is a hit twice or has no length", hits, h.Row)
			}
			seen[h.Row] = true
		}
		if want := min(hits, n-4); len(seen) != want {
			t.Fatalf("%d hits for K=%d, want %d", len(seen), hits, want)
		}
	}
}

// TestEmptyGallery: a gallery without rows gives every query no hits, as
// on the CPU.
func TestEmptyGallery(t *testing.T) {
	g, err := gallery.New(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	k := openTest(t, Options{})
	got, err := g.Search(context.Background(), [][]float32{{1, 0, 0, 0}, {0, 1, 0, 0}}, gallery.Options{Kernel: k})
	if err != nil || len(got) != 2 || got[0] != nil || got[1] != nil {
		t.Fatalf("hits %v, error %v: want two queries without hits", got, err)
	}
}

// TestGalleryStays: the rows stay on the device from one search to the
// next (the same buffers), and searching another gallery replaces them.
func TestGalleryStays(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	g1, _ := gallery.New(randMatrix(rng, 100, 16), 16)
	g2, _ := gallery.New(randMatrix(rng, 50, 16), 16)
	k := openTest(t, Options{BlockRows: 64, ChunkRows: 16})
	if err := k.Load(g1); err != nil {
		t.Fatal(err)
	}
	first := k.resident.blocks[0].rows
	q := [][]float32{randMatrix(rng, 1, 16)}
	for _, g := range []*gallery.Gallery{g1, g1, g2} {
		want, _ := g.Search(context.Background(), q, gallery.Options{K: 3})
		got, err := g.Search(context.Background(), q, gallery.Options{K: 3, Kernel: k})
		if err != nil {
			t.Fatal(err)
		}
		checkHits(t, k, g, q, 3, got, want)
	}
	if k.resident.g != g2 || k.KeptRows() != 50 || first.Handle() != 0 {
		t.Errorf("after searching another gallery: resident %p (want %p), %d rows kept, first gallery's buffer not released", k.resident.g, g2, k.KeptRows())
	}
}

func TestCancelAndErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	g, _ := gallery.New(randMatrix(rng, 300, 8), 8)
	k := openTest(t, Options{BlockRows: 100})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Search(ctx, [][]float32{randMatrix(rng, 1, 8)}, gallery.Options{Kernel: k}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
	p, d := testDevice(t)
	for _, opt := range []Options{{ChunkRows: 3}, {ChunkRows: 1 << 30}, {BlockRows: -1}} {
		if k, err := Open(p, d, opt); err == nil {
			_ = k.Close()
			t.Errorf("Open with %+v: no error", opt)
		}
	}
	if _, err := Open(p, d+1000, Options{}); !errors.Is(err, opencl.ErrNoDevice) {
		t.Errorf("Open of a device that is not there: %v", err)
	}
	const block = 1 << 20
	dim := int(k.dev.MaxAlloc/(4*block)) + 1
	wide, _ := gallery.New(make([]float32, 2*dim), dim)
	if err := openTest(t, Options{BlockRows: block}).Load(wide); err == nil {
		t.Errorf("blocks of %d rows of %d floats, beyond the device's largest buffer of %d bytes: no error", block, dim, k.dev.MaxAlloc)
	}
}
