package train

import (
	"math"
	"math/rand"
	"sort"
	"testing"

	"github.com/maskinv/workbench/internal/fdcheck"
)

func randVec(r *rand.Rand, n int, s float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s * (2*r.Float64() - 1)
	}
	return v
}

// refLoss is the textbook definition, term by term, with no care for speed
// or overflow: −log(e^{s·ϕ_y} / (e^{s·ϕ_y} + Σ_{j≠y} e^{s·cos_j})).
func refLoss(m Margin, cos []float64, classes int, labels []int, margins []float64) float64 {
	var total float64
	for i, y := range labels {
		c := cos[i*classes+y]
		var phi float64
		if m.Kind == Arc {
			phi = math.Cos(math.Acos(c) + margins[i])
		} else {
			phi = c - margins[i]
		}
		num := math.Exp(m.Scale * phi)
		den := num
		for j := 0; j < classes; j++ {
			if j != y {
				den += math.Exp(m.Scale * cos[i*classes+j])
			}
		}
		total += -math.Log(num / den)
	}
	return total / float64(len(labels))
}

func allMargins(t *testing.T) []Margin {
	var ms []Margin
	for _, name := range LossNames {
		m, err := ParseMargin(name)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

func TestMarginLossReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	const n, classes = 6, 5
	cos := randVec(r, n*classes, 0.9) // θ+m stays below π for these
	labels := []int{0, 1, 2, 3, 4, 0}
	for _, m := range allMargins(t) {
		m.Scale = 8 // keep the reference's plain exponentials finite
		margins := m.Draw(rand.New(rand.NewSource(2)), cos[:n])
		got := m.Loss(cos, classes, labels, margins, nil)
		want := refLoss(m, cos, classes, labels, margins)
		if math.Abs(got-want) > 1e-10*math.Max(1, want) {
			t.Errorf("%+v: loss %v, reference %v", m, got, want)
		}
	}
}

func TestMarginLossGradient(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const n, classes = 5, 4
	cos := randVec(r, n*classes, 0.99)
	cos[0] = -0.97 // θ+m beyond π for the arc losses: the guarded branch
	labels := []int{0, 1, 2, 3, 1}
	for _, m := range allMargins(t) {
		margins := m.Draw(rand.New(rand.NewSource(4)), []float64{cos[0], cos[5], cos[10], cos[15], cos[17]})
		dcos := make([]float64, len(cos))
		m.Loss(cos, classes, labels, margins, dcos)
		worst := fdcheck.Worst(cos, dcos, func() float64 { return m.Loss(cos, classes, labels, margins, nil) })
		if worst > 1e-6 {
			t.Errorf("%+v: gradient off by %.3g", m, worst)
		}
	}
}

func TestHeadGradient(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	const n, d, classes = 4, 6, 3
	for _, m := range allMargins(t) {
		m.Scale = 16
		h := NewHead(classes, d, r)
		emb := randVec(r, n*d, 1)
		labels := []int{0, 2, 1, 2}
		f := func() float64 { return h.Loss(m, emb, labels, rand.New(rand.NewSource(6)), nil, nil) }
		dEmb, dW := make([]float64, n*d), make([]float64, classes*d)
		h.Loss(m, emb, labels, rand.New(rand.NewSource(6)), dEmb, dW)
		if w := fdcheck.Worst(emb, dEmb, f); w > 1e-5 {
			t.Errorf("%+v: embedding gradient off by %.3g", m, w)
		}
		if w := fdcheck.Worst(h.W, dW, f); w > 1e-5 {
			t.Errorf("%+v: head gradient off by %.3g", m, w)
		}
	}
}

func TestKD(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	const n, d = 3, 5
	s, te := randVec(r, n*d, 1), randVec(r, n*d, 1)
	ds := make([]float64, n*d)
	KD(100, s, te, d, ds)
	if w := fdcheck.Worst(s, ds, func() float64 { return KD(100, s, te, d, nil) }); w > 1e-6 {
		t.Errorf("KD gradient off by %.3g", w)
	}
	// Scale does not matter, only direction; equal directions cost nothing.
	scaled := append([]float64(nil), te...)
	for i := range scaled {
		scaled[i] *= 3
	}
	if l := KD(100, scaled, te, d, nil); l > 1e-20 {
		t.Errorf("KD of parallel embeddings = %v", l)
	}
	// Reference: 100·mean over elements of the squared difference of unit rows.
	us, _ := normalise(s, d)
	ut, _ := normalise(te, d)
	var want float64
	for i := range us {
		want += (us[i] - ut[i]) * (us[i] - ut[i])
	}
	want *= 100 / float64(n*d)
	if got := KD(100, s, te, d, nil); math.Abs(got-want) > 1e-12 {
		t.Errorf("KD = %v, want %v", got, want)
	}
}

// TestSortedMargins: the hardest sample (lowest target cosine) gets the
// largest draw, and the assignment is the inverse of the sort permutation,
// not the permutation itself (the reference code's slip).
func TestSortedMargins(t *testing.T) {
	m, _ := ParseMargin("elastic-arc+")
	target := []float64{0.2, 0.9, -0.1, 0.5, 0.7}
	got := m.Draw(rand.New(rand.NewSource(8)), target)
	draws := Margin{Kind: Arc, Mean: 0.5, Std: 0.05}.Draw(rand.New(rand.NewSource(8)), target)
	sort.Float64s(draws)
	// perm: samples by descending target: 1 (0.9), 4, 3, 0, 2 (-0.1).
	perm := []int{1, 4, 3, 0, 2}
	for k, i := range perm {
		if got[i] != draws[k] {
			t.Errorf("sample %d (rank %d): margin %v, want %v", i, k, got[i], draws[k])
		}
	}
	buggy := make([]float64, len(target))
	for i := range buggy {
		buggy[i] = draws[perm[i]]
	}
	same := true
	for i := range got {
		same = same && got[i] == buggy[i]
	}
	if same {
		t.Error("test permutation is its own inverse; it cannot tell the two apart")
	}
	// Monotone: a lower target cosine never gets a smaller margin.
	for i := range target {
		for j := range target {
			if target[i] < target[j] && got[i] < got[j] {
				t.Errorf("sample %d (cos %v) margin %v < sample %d (cos %v) margin %v", i, target[i], got[i], j, target[j], got[j])
			}
		}
	}
}

func TestSigmaZeroIsArcCosFace(t *testing.T) {
	for _, name := range []string{"arc", "cos"} {
		m, _ := ParseMargin(name)
		for _, v := range m.Draw(rand.New(rand.NewSource(1)), []float64{0.1, 0.2, 0.3}) {
			if v != m.Mean {
				t.Errorf("%s: margin %v, want %v", name, v, m.Mean)
			}
		}
	}
	// ElasticFace draws vary around the mean with the configured spread.
	m, _ := ParseMargin("elastic-cos")
	d := m.Draw(rand.New(rand.NewSource(2)), make([]float64, 20000))
	var mean, sq float64
	for _, v := range d {
		mean += v
	}
	mean /= float64(len(d))
	for _, v := range d {
		sq += (v - mean) * (v - mean)
	}
	if sd := math.Sqrt(sq / float64(len(d))); math.Abs(mean-0.35) > 0.002 || math.Abs(sd-0.05) > 0.002 {
		t.Errorf("elastic-cos draws: mean %v sd %v", mean, sd)
	}
}

// TestArcGuard: beyond θ+m = π the target logit keeps falling with θ and
// is continuous at the boundary.
func TestArcGuard(t *testing.T) {
	m := Margin{Kind: Arc, Scale: 64, Mean: 0.5}
	th := math.Cos(math.Pi - 0.5)
	below, _ := m.targetLogit(th-1e-9, 0.5)
	above, _ := m.targetLogit(th+1e-9, 0.5)
	if math.Abs(below-above) > 1e-6 || math.Abs(above+1) > 1e-6 {
		t.Errorf("discontinuous at θ+m=π: %v vs %v", below, above)
	}
	prev := math.Inf(-1)
	for c := -1.0; c <= 1; c += 0.01 {
		phi, d := m.targetLogit(c, 0.5)
		if phi < prev || d < 0 {
			t.Fatalf("ϕ not increasing in cos at %v: %v after %v (slope %v)", c, phi, prev, d)
		}
		prev = phi
	}
}

func TestParseMargin(t *testing.T) {
	if _, err := ParseMargin("softmax"); err == nil {
		t.Error("unknown loss accepted")
	}
}
