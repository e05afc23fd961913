// Package train is MaskInv's training: margin losses (ElasticFace, ArcFace,
// CosFace) over a normalised classifier head, template-level knowledge
// distillation from a frozen teacher, SGD with momentum, data loading with
// synthetic masks, atomic checkpoints and the loop that ties them together.
// The network itself is a model.Trainable; everything here works on its
// output embeddings.
package train

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
)

// Kind is the shape of the margin: additive angular (Arc) or additive
// cosine (Cos).
type Kind int

const (
	Arc Kind = iota // logit s·cos(θ+m)
	Cos             // logit s·(cos θ − m)
)

// Margin is a margin-penalty softmax loss. With Std 0 it is ArcFace or
// CosFace; with Std > 0 each sample draws its margin from N(Mean, Std²)
// (ElasticFace), and Sorted gives the hardest samples (lowest target cosine)
// the largest draws (ElasticFace+).
type Margin struct {
	Kind   Kind
	Scale  float64
	Mean   float64
	Std    float64
	Sorted bool
}

// LossNames lists the names ParseMargin accepts.
var LossNames = []string{"elastic-arc", "elastic-arc+", "elastic-cos", "elastic-cos+", "arc", "cos"}

// ParseMargin returns the named loss with the published settings: s = 64;
// Arc m = 0.5, Cos m = 0.35; σ = 0.05 for the elastic ones (0 for ArcFace
// and CosFace).
func ParseMargin(name string) (Margin, error) {
	switch name {
	case "elastic-arc":
		return Margin{Kind: Arc, Scale: 64, Mean: 0.5, Std: 0.05}, nil
	case "elastic-arc+":
		return Margin{Kind: Arc, Scale: 64, Mean: 0.5, Std: 0.05, Sorted: true}, nil
	case "elastic-cos":
		return Margin{Kind: Cos, Scale: 64, Mean: 0.35, Std: 0.05}, nil
	case "elastic-cos+":
		return Margin{Kind: Cos, Scale: 64, Mean: 0.35, Std: 0.05, Sorted: true}, nil
	case "arc":
		return Margin{Kind: Arc, Scale: 64, Mean: 0.5}, nil
	case "cos":
		return Margin{Kind: Cos, Scale: 64, Mean: 0.35}, nil
	}
	return Margin{}, fmt.Errorf("unknown loss %q (want one of %v)", name, LossNames)
}

// Draw returns one margin per sample. target holds each sample's cosine to
// its own class. For a Sorted margin the draws are sorted ascending and the
// sample of rank k by descending target cosine receives draw k: the easiest
// sample gets the smallest margin and the hardest the largest. (The
// ElasticFace reference indexes the sorted draws with the sort permutation
// itself, margin[perm[i]], which is its inverse's job; we assign by rank.)
func (m Margin) Draw(r *rand.Rand, target []float64) []float64 {
	out := make([]float64, len(target))
	for i := range out {
		out[i] = m.Mean
		if m.Std > 0 {
			out[i] += m.Std * r.NormFloat64()
		}
	}
	if !m.Sorted {
		return out
	}
	sort.Float64s(out)
	perm := make([]int, len(target)) // perm[k] = sample of rank k
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(a, b int) bool { return target[perm[a]] > target[perm[b]] })
	assigned := make([]float64, len(target))
	for k, i := range perm {
		assigned[i] = out[k]
	}
	return assigned
}

// clampCos keeps a cosine strictly inside (−1, 1), where acos is smooth.
func clampCos(c float64) float64 { return math.Max(-1+1e-7, math.Min(1-1e-7, c)) }

// targetLogit is the margin-penalised cosine ϕ(c) of a sample's own class
// and dϕ/dc. For Arc, ϕ = cos(θ+m) while θ+m ≤ π; beyond π (where cos(θ+m)
// would turn back up and reward a worse angle) ϕ continues linearly from −1
// with slope 1, which keeps it continuous and increasing in c.
func (m Margin) targetLogit(c, margin float64) (phi, dphi float64) {
	if m.Kind == Cos {
		return c - margin, 1
	}
	th := math.Cos(math.Pi - margin) // c ≤ th ⇔ θ+m ≥ π
	if margin > 0 && c <= th {
		return -1 + (c - th), 1
	}
	c = clampCos(c)
	theta := math.Acos(c)
	return math.Cos(theta + margin), math.Sin(theta+margin) / math.Sin(theta)
}

// Loss is the mean cross-entropy over the batch of the margin logits:
// cos is n×classes (row-major) cosines between normalised embeddings and
// normalised class weights, margins one per sample (from Draw). It writes
// d loss / d cos into dcos (same size; nil to skip).
func (m Margin) Loss(cos []float64, classes int, labels []int, margins []float64, dcos []float64) float64 {
	n := len(labels)
	logits := make([]float64, classes)
	var total float64
	for i := 0; i < n; i++ {
		row := cos[i*classes : (i+1)*classes]
		y := labels[i]
		for j, c := range row {
			logits[j] = m.Scale * c
		}
		phi, dphi := m.targetLogit(row[y], margins[i])
		logits[y] = m.Scale * phi
		mx := logits[0]
		for _, v := range logits {
			mx = math.Max(mx, v)
		}
		var z float64
		for j, v := range logits {
			logits[j] = math.Exp(v - mx)
			z += logits[j]
		}
		total += -(m.Scale*phi - mx - math.Log(z))
		if dcos == nil {
			continue
		}
		drow := dcos[i*classes : (i+1)*classes]
		for j := range drow {
			p := logits[j] / z
			if j == y {
				drow[j] = m.Scale * (p - 1) * dphi / float64(n)
			} else {
				drow[j] = m.Scale * p / float64(n)
			}
		}
	}
	return total / float64(n)
}

// normalise returns the rows of x (rows×d) scaled to unit length, and the
// original lengths.
func normalise(x []float64, d int) (unit, norms []float64) {
	rows := len(x) / d
	unit, norms = make([]float64, len(x)), make([]float64, rows)
	for r := 0; r < rows; r++ {
		var s float64
		for _, v := range x[r*d : (r+1)*d] {
			s += v * v
		}
		norms[r] = math.Max(math.Sqrt(s), 1e-12)
		for i, v := range x[r*d : (r+1)*d] {
			unit[r*d+i] = v / norms[r]
		}
	}
	return unit, norms
}

// normaliseBack maps d loss / d unit to d loss / d x through x ↦ x/|x|:
// dx = (du − u·(u·du)) / |x|. It works in place on du.
func normaliseBack(unit, norms, du []float64, d int) {
	for r := range norms {
		u, g := unit[r*d:(r+1)*d], du[r*d:(r+1)*d]
		var dot float64
		for i := range u {
			dot += u[i] * g[i]
		}
		for i := range g {
			g[i] = (g[i] - u[i]*dot) / norms[r]
		}
	}
}

// Head is the classifier of a margin loss: one weight row per class,
// compared with the embeddings by cosine.
type Head struct {
	Classes, Dim int
	W            []float64 // Classes × Dim
}

// NewHead returns a head with rows drawn from N(0, 0.01²) by r.
func NewHead(classes, dim int, r *rand.Rand) *Head {
	h := &Head{Classes: classes, Dim: dim, W: make([]float64, classes*dim)}
	for i := range h.W {
		h.W[i] = 0.01 * r.NormFloat64()
	}
	return h
}

// HeadLoss is the margin loss of embeddings emb (n×Dim) with their labels
// through the head, and its gradients: dEmb (n×Dim) and dW (Classes×Dim),
// either nil to skip. r draws the margins.
func (h *Head) Loss(m Margin, emb []float64, labels []int, r *rand.Rand, dEmb, dW []float64) float64 {
	n, d, c := len(labels), h.Dim, h.Classes
	ue, ne := normalise(emb, d)
	uw, nw := normalise(h.W, d)
	cos := make([]float64, n*c)
	parallelRows(n, func(i int) {
		for j := 0; j < c; j++ {
			cos[i*c+j] = dot(ue[i*d:(i+1)*d], uw[j*d:(j+1)*d])
		}
	})
	target := make([]float64, n)
	for i, y := range labels {
		target[i] = cos[i*c+y]
	}
	margins := m.Draw(r, target)
	dcos := make([]float64, n*c)
	loss := m.Loss(cos, c, labels, margins, dcos)
	if dEmb != nil { // dê = dcos·ŵ
		clear(dEmb)
		parallelRows(n, func(i int) {
			g := dEmb[i*d : (i+1)*d]
			for j := 0; j < c; j++ {
				if s := dcos[i*c+j]; s != 0 {
					axpy(s, uw[j*d:(j+1)*d], g)
				}
			}
		})
		normaliseBack(ue, ne, dEmb, d)
	}
	if dW != nil { // dŵ = dcosᵀ·ê
		clear(dW)
		parallelRows(c, func(j int) {
			g := dW[j*d : (j+1)*d]
			for i := 0; i < n; i++ {
				axpy(dcos[i*c+j], ue[i*d:(i+1)*d], g)
			}
		})
		normaliseBack(uw, nw, dW, d)
	}
	return loss
}

// KD is the template-level distillation term w·mean((ŝ − t̂)²) over all n×d
// elements, ŝ and t̂ the unit-length student and teacher embeddings, and its
// gradient with respect to the student's raw embeddings (nil to skip).
func KD(w float64, student, teacher []float64, d int, dStudent []float64) float64 {
	us, ns := normalise(student, d)
	ut, _ := normalise(teacher, d)
	var s float64
	scale := w / float64(len(student))
	for i := range us {
		diff := us[i] - ut[i]
		s += diff * diff
		if dStudent != nil {
			dStudent[i] = 2 * scale * diff
		}
	}
	if dStudent != nil {
		normaliseBack(us, ns, dStudent, d)
	}
	return scale * s
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(s float64, x, y []float64) {
	for i := range x {
		y[i] += s * x[i]
	}
}
