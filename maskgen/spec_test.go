package maskgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"testing"
)

func TestParseStyle(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]float64 // nil: error
		canon   string
		wantErr error
	}{
		{"", map[string]float64{"paper": 1}, "paper", nil},
		{"paper", map[string]float64{"paper": 1}, "paper", nil},
		{" Surgical ", map[string]float64{"surgical": 1}, "surgical", nil},
		{"random", map[string]float64{"paper": 1.0 / 6, "surgical": 1.0 / 6, "n95": 1.0 / 6, "kn95": 1.0 / 6, "cloth": 1.0 / 6, "bandana": 1.0 / 6}, "random", nil},
		{"mix:surgical=0.5,n95=0.3,cloth=0.2", map[string]float64{"surgical": 0.5, "n95": 0.3, "cloth": 0.2}, "mix:surgical=0.5,n95=0.3,cloth=0.2", nil},
		{"mix:paper=1, kn95 = 3", map[string]float64{"paper": 0.25, "kn95": 0.75}, "mix:paper=1,kn95=3", nil},
		{"mix:bandana=2", map[string]float64{"bandana": 1}, "bandana", nil},
		{"gaiter", nil, "", ErrStyle},
		{"mix:", nil, "", ErrStyle},
		{"mix:surgical", nil, "", ErrStyle},
		{"mix:surgical=", nil, "", ErrStyle},
		{"mix:surgical=0", nil, "", ErrStyle},
		{"mix:surgical=-1", nil, "", ErrStyle},
		{"mix:surgical=NaN", nil, "", ErrStyle},
		{"mix:surgical=inf", nil, "", ErrStyle},
		{"mix:surgical=1e10", nil, "", ErrStyle},
		{"mix:surgical=1,surgical=2", nil, "", ErrStyle},
		{"mix:surgical=1,,n95=1", nil, "", ErrStyle},
		{"mix:random=1", nil, "", ErrStyle},
	}
	for _, tc := range tests {
		spec, err := ParseStyle(tc.in)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("ParseStyle(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseStyle(%q): %v", tc.in, err)
			continue
		}
		got := spec.Weights()
		if len(got) != len(tc.want) {
			t.Errorf("ParseStyle(%q) weights = %v, want %v", tc.in, got, tc.want)
		}
		for k, w := range tc.want {
			if math.Abs(got[k]-w) > 1e-12 {
				t.Errorf("ParseStyle(%q) weight of %s = %v, want %v", tc.in, k, got[k], w)
			}
		}
		if s := spec.String(); s != tc.canon {
			t.Errorf("ParseStyle(%q).String() = %q, want %q", tc.in, s, tc.canon)
		}
	}
}

func TestStylePickFrequencies(t *testing.T) {
	spec, err := ParseStyle("mix:surgical=0.5,n95=0.3,cloth=0.2")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	count := map[string]int{}
	for i := 0; i < n; i++ {
		count[Config{Style: spec, Seed: 1}.Choose("img/"+strconv.Itoa(i)+".png").Style]++
	}
	for name, w := range spec.Weights() {
		got := float64(count[name]) / n
		// 4.5 standard deviations of a binomial share.
		if tol := 4.5 * math.Sqrt(w*(1-w)/n); math.Abs(got-w) > tol {
			t.Errorf("%s picked %.4f of the time, want %.2f ± %.4f", name, got, w, tol)
		}
	}
	if len(count) != 3 {
		t.Errorf("picked styles %v, want only surgical, n95, cloth", count)
	}
}

func TestParseColor(t *testing.T) {
	tests := []struct {
		in   string
		want ColorSpec
		err  bool
	}{
		{"", ColorSpec{}, false},
		{"auto", ColorSpec{}, false},
		{"random", ColorSpec{Mode: ColorRandom}, false},
		{"RANDOM", ColorSpec{Mode: ColorRandom}, false},
		{"white", ColorSpec{ColorFixed, colorNames["white"]}, false},
		{" Navy ", ColorSpec{ColorFixed, colorNames["navy"]}, false},
		{"#1a2B3c", ColorSpec{ColorFixed, Color{0x1a, 0x2b, 0x3c}}, false},
		{"#fff", ColorSpec{ColorFixed, Color{255, 255, 255}}, false},
		{"#000000", ColorSpec{ColorFixed, Color{}}, false},
		{"1a2b3c", ColorSpec{}, true},
		{"#1a2b3", ColorSpec{}, true},
		{"#1a2b3g", ColorSpec{}, true},
		{"#", ColorSpec{}, true},
		{"##fff", ColorSpec{}, true},
		{"chartreuse", ColorSpec{}, true},
	}
	for _, tc := range tests {
		got, err := ParseColor(tc.in)
		if tc.err {
			if !errors.Is(err, ErrColor) {
				t.Errorf("ParseColor(%q) error = %v, want ErrColor", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestColorJSON(t *testing.T) {
	in := Params{Algorithm: Algorithm, Style: "cloth", Color: Color{1, 2, 255}, Color2: Color{0xaa, 0xbb, 0xcc}, Texture: "dots", Fit: 0.25, Seed: 1 << 63, Key: "a/b.png"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Params
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("round trip: %+v → %s → %+v", in, b, out)
	}
	if err := json.Unmarshal([]byte(`{"color":"blue"}`), &out); err == nil {
		t.Error(`"blue" accepted as a recorded colour; only #rrggbb is`)
	}
}

// fuzzSetting fuzzes the parser of a setting from seeds: no input panics,
// and an accepted value's String reads back as a value with the same
// String; check, when not nil, tests an accepted value further.
func fuzzSetting[T fmt.Stringer](f *testing.F, parse func(string) (T, error), check func(t *testing.T, in string, v T), seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		v, err := parse(in)
		if err != nil {
			return
		}
		again, err := parse(v.String())
		if err != nil || again.String() != v.String() {
			t.Fatalf("%q → %q → %v, %v", in, v.String(), again, err)
		}
		if check != nil {
			check(t, in, v)
		}
	})
}

// FuzzParseStyle: besides fuzzSetting's checks, an accepted spec's
// weights are of known styles and sum to 1.
func FuzzParseStyle(f *testing.F) {
	fuzzSetting(f, ParseStyle, func(t *testing.T, in string, spec StyleSpec) {
		var sum float64
		for name, w := range spec.Weights() {
			if !knownStyle(name) || !(w > 0) {
				t.Fatalf("%q: weight %v for %q", in, w, name)
			}
			sum += w
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("%q: weights sum to %v", in, sum)
		}
		_ = Config{Style: spec}.Choose(in) // picks a drawable style
	}, "paper", "random", "mix:surgical=0.5,n95=0.3,cloth=0.2", "mix:a=1", "mix:cloth=1e-300,kn95=7", "mix:,=", "MIX:N95=.5")
}

// FuzzParseColor: an accepted colour prints as its canonical spelling
// (#rrggbb when fixed) and parses back to itself.
func FuzzParseColor(f *testing.F) {
	fuzzSetting(f, ParseColor, nil, "", "random", "white", "#abc", "#A1B2C3", "#zzzzzz", "#12345")
}
