package maskgen

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Styles lists the mask styles, paper first.
func Styles() []string {
	return []string{"paper", "surgical", "n95", "kn95", "cloth", "bandana"}
}

func knownStyle(name string) bool {
	for _, s := range Styles() {
		if s == name {
			return true
		}
	}
	return false
}

// ErrStyle reports a style spec that ParseStyle cannot read.
var ErrStyle = errors.New("maskgen: bad style")

// StyleSpec is a parsed --style value: a weighted choice of styles. The zero
// value means "paper".
type StyleSpec struct {
	names   []string
	weights []float64 // as given, same length as names
	random  bool      // spelled "random"
}

// ParseStyle reads a style spec: a style name (see Styles), "random" (every
// style with the same weight), or "mix:NAME=W,NAME=W,..." with positive
// weights (they need not sum to 1; they are normalised). Names are
// case-insensitive; each may appear once.
func ParseStyle(s string) (StyleSpec, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return StyleSpec{}, nil
	case s == "random":
		all := Styles()
		w := make([]float64, len(all))
		for i := range w {
			w[i] = 1
		}
		return StyleSpec{names: all, weights: w, random: true}, nil
	case knownStyle(s):
		return StyleSpec{names: []string{s}, weights: []float64{1}}, nil
	case !strings.HasPrefix(s, "mix:"):
		return StyleSpec{}, fmt.Errorf("%w %q: want one of %s, random, or mix:NAME=WEIGHT[,NAME=WEIGHT]", ErrStyle, s, strings.Join(Styles(), ", "))
	}
	var spec StyleSpec
	for _, part := range strings.Split(strings.TrimPrefix(s, "mix:"), ",") {
		name, ws, ok := strings.Cut(strings.TrimSpace(part), "=")
		name, ws = strings.TrimSpace(name), strings.TrimSpace(ws)
		if !ok || name == "" || ws == "" {
			return StyleSpec{}, fmt.Errorf("%w %q: %q is not NAME=WEIGHT", ErrStyle, s, part)
		}
		if !knownStyle(name) {
			return StyleSpec{}, fmt.Errorf("%w %q: unknown style %q (have %s)", ErrStyle, s, name, strings.Join(Styles(), ", "))
		}
		for _, n := range spec.names {
			if n == name {
				return StyleSpec{}, fmt.Errorf("%w %q: %s given twice", ErrStyle, s, name)
			}
		}
		w, err := strconv.ParseFloat(ws, 64)
		if err != nil || !(w > 0) || math.IsInf(w, 0) || w > 1e9 {
			return StyleSpec{}, fmt.Errorf("%w %q: weight %q of %s must be a positive number", ErrStyle, s, ws, name)
		}
		spec.names = append(spec.names, name)
		spec.weights = append(spec.weights, w)
	}
	return spec, nil
}

// String is the canonical spelling, which ParseStyle reads back to the
// same spec.
func (s StyleSpec) String() string {
	switch {
	case len(s.names) == 0:
		return "paper"
	case s.random:
		return "random"
	case len(s.names) == 1:
		return s.names[0]
	}
	parts := make([]string, len(s.names))
	for i, n := range s.names {
		parts[i] = n + "=" + strconv.FormatFloat(s.weights[i], 'g', -1, 64)
	}
	return "mix:" + strings.Join(parts, ",")
}

// Weights returns the styles and their normalised weights.
func (s StyleSpec) Weights() map[string]float64 {
	if len(s.names) == 0 {
		return map[string]float64{"paper": 1}
	}
	var sum float64
	for _, w := range s.weights {
		sum += w
	}
	m := make(map[string]float64, len(s.names))
	for i, n := range s.names {
		m[n] = s.weights[i] / sum
	}
	return m
}

func (s StyleSpec) pick(r *stream) string {
	switch len(s.names) {
	case 0:
		return "paper"
	case 1:
		return s.names[0]
	}
	return s.names[r.pick(s.weights)]
}
