package gallery

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func randMatrix(rng *rand.Rand, rows, dim int) []float32 {
	m := make([]float32, rows*dim)
	for i := range m {
		m[i] = float32(rng.NormFloat64())
	}
	return m
}

// TestGoKernel: every score equals the in-order dot product bit for bit
// (whatever tile computed it), and a float64 reference within rounding.
func TestGoKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{1, 3, 4, 5, 9} {
		for _, n := range []int{1, 3, 4, 7, 8, 9, 33} {
			for _, k := range []int{1, 5, 512} {
				a, b := randMatrix(rng, m, k), randMatrix(rng, n, k)
				c := make([]float32, m*n)
				GoKernel(m, n, k, a, b, c)
				for i := range m {
					for j := range n {
						var ref float64
						for t := range k {
							ref += float64(a[i*k+t]) * float64(b[j*k+t])
						}
						got := c[i*n+j]
						if got != dot(a[i*k:(i+1)*k], b[j*k:(j+1)*k]) {
							t.Fatalf("m=%d n=%d k=%d: c[%d,%d] = %v differs from the in-order dot product", m, n, k, i, j, got)
						}
						if math.Abs(float64(got)-ref) > 1e-4*math.Sqrt(float64(k)) {
							t.Fatalf("m=%d n=%d k=%d: c[%d,%d] = %v, want %v", m, n, k, i, j, got, ref)
						}
					}
				}
			}
		}
	}
}

type refHit struct {
	row   int
	score float64
}

// bruteForce ranks every row by float64 cosine (zero rows left out).
func bruteForce(rows []float32, dim int, q []float32) []refHit {
	var out []refHit
	var qq float64
	for _, v := range q {
		qq += float64(v) * float64(v)
	}
	for r := range len(rows) / dim {
		var d, rr float64
		for t, v := range rows[r*dim : (r+1)*dim] {
			d += float64(v) * float64(q[t])
			rr += float64(v) * float64(v)
		}
		if rr == 0 {
			continue
		}
		out = append(out, refHit{r, d / math.Sqrt(qq*rr)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

// testGallery has random rows, a few zero rows, and copies of row 10
// scaled by powers of two (the same cosine, bit for bit).
func testGallery(rng *rand.Rand, n, dim int) []float32 {
	rows := randMatrix(rng, n, dim)
	for _, z := range []int{0, 3, n - 1} {
		clear(rows[z*dim : (z+1)*dim])
	}
	for _, c := range []struct {
		row   int
		scale float32
	}{{57, 2}, {400, 0.5}, {n - 2, 4}} {
		for t := range dim {
			rows[c.row*dim+t] = rows[10*dim+t] * c.scale
		}
	}
	return rows
}

func TestSearchMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, dim, k = 3000, 24, 10
	rows := testGallery(rng, n, dim)
	g, err := New(rows, dim)
	if err != nil {
		t.Fatal(err)
	}
	queries := [][]float32{rows[10*dim : 11*dim], rows[200*dim : 201*dim]}
	for range 6 {
		queries = append(queries, randMatrix(rng, 1, dim))
	}
	got, err := g.Search(context.Background(), queries, Options{K: k, BlockRows: 256})
	if err != nil {
		t.Fatal(err)
	}
	for qi, q := range queries {
		ref := bruteForce(rows, dim, q)
		refScore := map[int]float64{}
		for _, h := range ref {
			refScore[h.row] = h.score
		}
		if len(got[qi]) != k {
			t.Fatalf("query %d: %d hits", qi, len(got[qi]))
		}
		for p, h := range got[qi] {
			if math.Abs(float64(h.Score)-ref[p].score) > 1e-5 {
				t.Fatalf("query %d: hit %d scores %v, the %d-th best is %v", qi, p, h.Score, p, ref[p].score)
			}
			if s, ok := refScore[h.Row]; !ok || math.Abs(float64(h.Score)-s) > 1e-5 {
				t.Fatalf("query %d: row %d scored %v, brute force %v", qi, h.Row, h.Score, s)
			}
			if p > 0 && better(got[qi][p-1], h) >= 0 {
				t.Fatalf("query %d: hits %d and %d out of order: %v, %v", qi, p-1, p, got[qi][p-1], h)
			}
		}
	}
	// Query 0 is row 10: it and its three scaled copies tie at the top, in
	// row order.
	var top []int
	for _, h := range got[0][:4] {
		top = append(top, h.Row)
		if h.Score != got[0][0].Score {
			t.Fatalf("scaled copies of the query score %v and %v", h.Score, got[0][0].Score)
		}
	}
	if !slices.Equal(top, []int{10, 57, 400, n - 2}) {
		t.Fatalf("tied hits %v, want rows 10, 57, 400, %d", top, n-2)
	}
	cut, err := g.Search(context.Background(), queries[:1], Options{K: 2, Workers: 3, BlockRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	if cut[0][0].Row != 10 || cut[0][1].Row != 57 {
		t.Fatalf("K=2 over four tied rows gave %v, want rows 10 and 57", cut[0])
	}
}

// TestSearchDeterministic: the hits are the same, bit for bit, however the
// gallery is split into blocks and workers.
func TestSearchDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, dim = 1000, 16
	rows := testGallery(rng, n, dim)
	g, _ := New(rows, dim)
	var queries [][]float32
	for range 9 {
		queries = append(queries, randMatrix(rng, 1, dim))
	}
	want, err := g.Search(context.Background(), queries, Options{K: 7, Workers: 1, BlockRows: n})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 2, 5} {
		for _, b := range []int{1, 3, 64, 999} {
			got, err := g.Search(context.Background(), queries, Options{K: 7, Workers: w, BlockRows: b})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("workers %d, blocks of %d: results differ (%v)", w, b, err)
			}
		}
	}
	// One query at a time gives the batch's results too.
	for i, q := range queries {
		one, _ := g.Search(context.Background(), [][]float32{q}, Options{K: 7})
		if !reflect.DeepEqual(one[0], want[i]) {
			t.Fatalf("query %d alone: %v, in a batch: %v", i, one[0], want[i])
		}
	}
}

func TestSearchSmallAndInjectedKernel(t *testing.T) {
	rows := []float32{0, 0, 1, 0, 0, 1, 1, 1}
	g, err := New(rows, 2)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	counting := func(m, n, k int, a, b, c []float32) {
		calls++
		GoKernel(m, n, k, a, b, c)
	}
	got, err := g.Search(context.Background(), [][]float32{{3, 0}}, Options{K: 10, Kernel: KernelFunc(counting), Workers: 1, BlockRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Hit{{Row: 1, Score: 1}, {Row: 3, Score: float32(1 / math.Sqrt(2))}, {Row: 2, Score: 0}}
	if calls != 2 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("hits %v after %d kernel calls, want %v (the zero row left out) after 2", got[0], calls, want)
	}
	if err := Name(got, func(r int) (string, error) { return []string{"a", "b", "c", "d"}[r], nil }); err != nil || got[0][0].Path != "b" {
		t.Fatalf("Name: %v %v", got[0], err)
	}
}

func TestSearchErrors(t *testing.T) {
	if _, err := New(make([]float32, 7), 2); !errors.Is(err, ErrShape) {
		t.Fatalf("New of 7 values in rows of 2: %v", err)
	}
	g, _ := New(make([]float32, 8), 2)
	for _, q := range [][]float32{{1, 2, 3}, {0, 0}, {float32(math.Inf(1)), 0}} {
		if _, err := g.Search(context.Background(), [][]float32{q}, Options{}); !errors.Is(err, ErrShape) {
			t.Errorf("query %v: %v", q, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Search(ctx, [][]float32{{1, 0}}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled search: %v", err)
	}
}

// benchmarkKernel reports GFLOP/s (2 per multiply-add) of GoKernel on m
// queries against 1024 rows of 512.
func benchmarkKernel(b *testing.B, m int) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, k = 1024, 512
	a, g, c := randMatrix(rng, m, k), randMatrix(rng, n, k), make([]float32, m*n)
	for b.Loop() {
		GoKernel(m, n, k, a, g, c)
	}
	b.ReportMetric(float64(b.N)*float64(m*n*k*2)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGoKernel1(b *testing.B)  { benchmarkKernel(b, 1) }
func BenchmarkGoKernel64(b *testing.B) { benchmarkKernel(b, 64) }

// failing is a Kernel that fails on the block of rows from bad.
type failing struct{ bad int }

func (f *failing) MulT(m, n, k int, a, b, c []float32) error {
	if f.bad < n {
		return errors.New("device lost")
	}
	f.bad -= n
	GoKernel(m, n, k, a, b, c)
	return nil
}

// scanner is a Scanner that records what Search hands it.
type scanner struct {
	KernelFunc // never called
	q          []float32
	k          int
}

func (s *scanner) Scan(ctx context.Context, g *Gallery, q []float32, k int) ([][]Hit, error) {
	s.q, s.k = q, k
	return [][]Hit{{{Row: 1, Score: 0.5}}}, nil
}

// TestKernelErrorsAndScanner: a kernel's error stops the search and is
// returned with the rows it failed on; a Scanner gets the whole search,
// with the queries at unit length and K's default.
func TestKernelErrorsAndScanner(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	g, _ := New(randMatrix(rng, 100, 4), 4)
	_, err := g.Search(context.Background(), [][]float32{{1, 2, 3, 4}}, Options{Kernel: &failing{bad: 30}, BlockRows: 10, Workers: 1})
	if err == nil || !strings.Contains(err.Error(), "rows 30 to 39: device lost") {
		t.Fatalf("failing kernel: %v", err)
	}
	s := &scanner{}
	hits, err := g.Search(context.Background(), [][]float32{{0, 3, 0, 4}}, Options{Kernel: s})
	if err != nil || !reflect.DeepEqual(hits, [][]Hit{{{Row: 1, Score: 0.5}}}) {
		t.Fatalf("Scanner's hits came back as %v, %v", hits, err)
	}
	if !reflect.DeepEqual(s.q, []float32{0, 0.6, 0, 0.8}) || s.k != 10 {
		t.Fatalf("the Scanner got queries %v and K %d, want [0 0.6 0 0.8] and 10", s.q, s.k)
	}
}
