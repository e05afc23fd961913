package eval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Errors for data on which a metric is undefined.
var (
	ErrNotFinite  = errors.New("eval: score is NaN or infinite")
	ErrNoPairs    = errors.New("eval: no pairs")
	ErrNoGenuine  = errors.New("eval: no genuine pairs")
	ErrNoImpostor = errors.New("eval: no impostor pairs")
	ErrFolds      = errors.New("eval: need at least two folds")
)

// Point is one operating point: pairs with score >= Threshold are accepted.
type Point struct {
	Threshold float64
	FAR       float64 // impostor pairs accepted / impostor pairs (FMR)
	TAR       float64 // genuine pairs accepted / genuine pairs (1 − FNMR)
}

// Curve is a ROC curve. Points run from the strictest threshold (+Inf:
// nothing accepted, FAR = TAR = 0) down to the lowest score (everything
// accepted, FAR = TAR = 1); FAR and TAR never decrease along it. There is
// one point per distinct score, so ties move the curve diagonally.
type Curve struct {
	Points   []Point
	Genuine  int // number of genuine pairs
	Impostor int // number of impostor pairs
}

// scored is one pair reduced to what sorting needs.
type scored struct {
	s    float64
	same bool
}

// ROC computes the ROC curve of scores labelled by same (true = genuine).
// It panics if the lengths differ.
func ROC(scores []float64, same []bool) (Curve, error) {
	ps, err := pack(scores, same)
	if err != nil {
		return Curve{}, err
	}
	g, im := count(ps)
	if g == 0 {
		return Curve{}, ErrNoGenuine
	}
	if im == 0 {
		return Curve{}, ErrNoImpostor
	}
	// Descending: walking down the thresholds accepts more pairs.
	slices.SortFunc(ps, func(a, b scored) int { return cmp.Compare(b.s, a.s) })
	c := Curve{Genuine: g, Impostor: im, Points: make([]Point, 0, len(ps)+1)}
	c.Points = append(c.Points, Point{Threshold: math.Inf(1)})
	tp, fp := 0, 0
	for i := 0; i < len(ps); {
		// Take the whole group of equal scores at once: a threshold cannot
		// separate them.
		j := i
		for ; j < len(ps) && ps[j].s == ps[i].s; j++ {
			if ps[j].same {
				tp++
			} else {
				fp++
			}
		}
		c.Points = append(c.Points, Point{
			Threshold: ps[i].s,
			FAR:       float64(fp) / float64(im),
			TAR:       float64(tp) / float64(g),
		})
		i = j
	}
	return c, nil
}

// AUC is the area under the curve by the trapezoid rule. Because tied
// scores form one diagonal step, it equals P(g > i) + ½·P(g = i) for a
// random genuine score g and impostor score i.
func (c Curve) AUC() float64 {
	var a float64
	for k := 1; k < len(c.Points); k++ {
		p, q := c.Points[k-1], c.Points[k]
		a += (q.FAR - p.FAR) * (q.TAR + p.TAR) / 2
	}
	return a
}

// EER is the equal error rate: the rate where FAR = FRR, linearly
// interpolated between the two operating points where FAR − FRR changes
// sign (operating points are discrete, so an exact crossing rarely exists).
// threshold is interpolated the same way; where one end is the +Inf point
// the finite end's threshold is returned.
func (c Curve) EER() (rate, threshold float64) {
	pts := c.Points
	for k := 1; k < len(pts); k++ {
		b := pts[k]
		db := b.FAR - (1 - b.TAR)
		if db < 0 {
			continue
		}
		a := pts[k-1]
		da := a.FAR - (1 - a.TAR) // < 0: the previous point had not crossed
		alpha := -da / (db - da)
		rate = a.FAR + alpha*(b.FAR-a.FAR)
		threshold = b.Threshold
		if !math.IsInf(a.Threshold, 0) {
			threshold = a.Threshold + alpha*(b.Threshold-a.Threshold)
		}
		return rate, threshold
	}
	// Unreachable for a curve made by ROC: its last point has FAR = 1,
	// FRR = 0.
	return math.NaN(), math.NaN()
}

// FNMRAtFMR is the lowest FNMR (= FRR) over operating points with FMR <=
// fmr: FMR100 is FNMRAtFMR(0.01), FMR1000 FNMRAtFMR(0.001). No
// interpolation: the operating point must be reachable by a threshold.
func (c Curve) FNMRAtFMR(fmr float64) float64 {
	return 1 - c.TARAtFAR(fmr)
}

// TARAtFAR is the highest TAR over operating points with FAR <= far.
func (c Curve) TARAtFAR(far float64) float64 {
	// A relative slack absorbs rounding in fp/impostors, so that e.g. 3
	// accepts out of 3000 count as FAR <= 1e-3.
	limit := far * (1 + 1e-9)
	best := 0.0
	for _, p := range c.Points {
		if p.FAR > limit {
			break // FAR only grows along the curve
		}
		best = p.TAR
	}
	return best
}

// DETPoint is one point of a detection error trade-off curve.
type DETPoint struct {
	Threshold float64
	FMR       float64 // = FAR
	FNMR      float64 // = 1 − TAR
}

// DET returns the curve's points as error rates, in the same order.
func (c Curve) DET() []DETPoint {
	d := make([]DETPoint, len(c.Points))
	for k, p := range c.Points {
		d[k] = DETPoint{Threshold: p.Threshold, FMR: p.FAR, FNMR: 1 - p.TAR}
	}
	return d
}

// pack zips scores and labels, rejecting NaN (it would poison sorting) and
// infinities (no threshold lies beyond them; cosines are finite anyway).
func pack(scores []float64, same []bool) ([]scored, error) {
	if len(scores) != len(same) {
		panic(fmt.Sprintf("eval: %d scores but %d labels", len(scores), len(same)))
	}
	ps := make([]scored, len(scores))
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("pair %d: %w", i, ErrNotFinite)
		}
		ps[i] = scored{s: s, same: same[i]}
	}
	return ps, nil
}

func count(ps []scored) (genuine, impostor int) {
	for _, p := range ps {
		if p.same {
			genuine++
		} else {
			impostor++
		}
	}
	return genuine, impostor
}
