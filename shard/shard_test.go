package shard

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		err  string // substring of the error; "" for none
	}{
		{"1/1", Whole, ""},
		{"2/4", Spec{2, 4}, ""},
		{" 4 / 4 ", Spec{4, 4}, ""},
		{"0/4", Spec{}, "numbered from 1"},
		{"5/4", Spec{}, "want 1 to 4"},
		{"1/0", Spec{}, "0 shards"},
		{"-1/4", Spec{}, "numbered from 1"},
		{"1/1048577", Spec{}, "1048577 shards"},
		{"2", Spec{}, "not I/N"},
		{"a/b", Spec{}, "whole numbers"},
		{"1/2/3", Spec{}, "whole numbers"},
		{"", Spec{}, "not I/N"},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Parse(%q) error = %v, want ErrSpec mentioning %q", tc.in, err, tc.err)
		}
	}
}

// TestOfGolden freezes the assignment: stores made by one version are
// merged by another, and Merge checks every key against it. The expected
// shards come from Python: int.from_bytes(sha256(key)[:8], "big") * n >> 64, plus 1.
func TestOfGolden(t *testing.T) {
	ns := []int{1, 2, 4, 7, 100}
	tests := []struct {
		key  string
		want []int
	}{
		{"Aaron_Eckhart/Aaron_Eckhart_0001.jpg", []int{1, 1, 2, 2, 29}},
		{"a.png", []int{1, 1, 2, 4, 50}},
		{"x/y/z.jpeg", []int{1, 2, 4, 7, 97}},
		{"Zinedine_Zidane/Zinedine_Zidane_0003.jpg", []int{1, 1, 1, 1, 8}},
		{"", []int{1, 2, 4, 7, 89}},
	}
	for _, tc := range tests {
		for i, n := range ns {
			if got := Of(tc.key, n); got != tc.want[i] {
				t.Errorf("Of(%q, %d) = %d, want %d", tc.key, n, got, tc.want[i])
			}
		}
	}
}

// lfwLikeKeys makes n keys shaped like a dataset's: few folders, many
// near-identical names (the hard case for a weak hash).
func lfwLikeKeys(n, from int) []string {
	keys := make([]string, n)
	for i := range keys {
		j := from + i
		keys[i] = fmt.Sprintf("person_%05d/person_%05d_%04d.jpg", j/20, j/20, j%20+1)
	}
	return keys
}

// TestBalance checks each shard's share against the binomial spread of a
// uniform assignment: within 5 standard deviations, which a fair hash
// misses with probability below 1e-6 per shard.
func TestBalance(t *testing.T) {
	keys := lfwLikeKeys(200000, 0)
	for _, n := range []int{2, 3, 4, 7, 16, 100} {
		counts := make([]int, n+1)
		for _, k := range keys {
			counts[Of(k, n)]++
		}
		if counts[0] != 0 {
			t.Fatalf("n=%d: shard 0 assigned", n)
		}
		p := 1 / float64(n)
		mean := float64(len(keys)) * p
		sd := math.Sqrt(mean * (1 - p))
		for i := 1; i <= n; i++ {
			if d := math.Abs(float64(counts[i]) - mean); d > 5*sd {
				t.Errorf("n=%d: shard %d has %d keys, mean %.0f ± %.0f", n, i, counts[i], mean, sd)
			}
		}
	}
}

// TestFilterPartitionsAndIsStable: the shards of a set are disjoint and
// cover it, in order; adding keys leaves every earlier key where it was.
func TestFilterPartitionsAndIsStable(t *testing.T) {
	old := lfwLikeKeys(5000, 0)
	grown := append(slices.Clone(old), lfwLikeKeys(3000, 5000)...)
	slices.Sort(grown)
	const n = 4
	var union []string
	for i := 1; i <= n; i++ {
		s := Spec{i, n}
		part := s.Filter(old)
		if !slices.IsSorted(part) {
			t.Errorf("shard %v: Filter changed the order", s)
		}
		union = append(union, part...)
		inGrown := map[string]bool{}
		for _, k := range s.Filter(grown) {
			inGrown[k] = true
		}
		for _, k := range part {
			if !inGrown[k] {
				t.Fatalf("%q moved out of shard %v when keys were added", k, s)
			}
		}
	}
	slices.Sort(union)
	if !slices.Equal(union, old) {
		t.Fatalf("shards of %d keys hold %d keys (overlap or gap)", len(old), len(union))
	}
	if got := Whole.Filter(old); !slices.Equal(got, old) {
		t.Fatal("Whole.Filter dropped keys")
	}
}

func TestCheckSet(t *testing.T) {
	tests := []struct {
		name  string
		specs []Spec
		want  string // "" for a whole set, else in the error
	}{
		{"whole", []Spec{Whole}, ""},
		{"four in any order", []Spec{{3, 4}, {1, 4}, {4, 4}, {2, 4}}, ""},
		{"missing one", []Spec{{1, 4}, {2, 4}, {4, 4}}, "missing shard 3/4 (have 3 of 4)"},
		{"missing two", []Spec{{2, 4}, {4, 4}}, "missing shard 1/4, 3/4 (have 2 of 4)"},
		{"twice", []Spec{{1, 3}, {2, 3}, {2, 3}, {3, 3}}, "part1 and part2 are both shard 2/3"},
		{"other split", []Spec{{1, 2}, {2, 2}, {3, 4}}, "part2 is shard 3/4, part0 shard 1/2: shards of different splits"},
		{"none", nil, "no shards"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names := make([]string, len(tc.specs))
			for i := range names {
				names[i] = fmt.Sprint("part", i)
			}
			err := CheckSet(tc.specs, names)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
				t.Errorf("CheckSet(%v) = %v, want %q", tc.specs, err, tc.want)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	slurm := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		flag   string
		shards int
		env    map[string]string
		want   Spec
		err    error // nil: success
		msg    string
	}{
		{"nothing", "", 0, nil, Whole, nil, ""},
		{"flag", "3/4", 0, nil, Spec{3, 4}, nil, ""},
		{"flag and shards agree", "3/4", 4, nil, Spec{3, 4}, nil, ""},
		{"flag and shards disagree", "3/4", 5, nil, Spec{}, ErrSpec, "disagree"},
		{"flag beats env", "1/2", 0, slurm(EnvSlurmID, "3", EnvSlurmMin, "1", EnvSlurmMax, "4"), Spec{1, 2}, nil, ""},
		{"bad flag", "0/2", 0, nil, Spec{}, ErrSpec, "--shard"},
		{"slurm 1-4", "", 0, slurm(EnvSlurmID, "3", EnvSlurmMin, "1", EnvSlurmMax, "4", EnvSlurmCount, "4"), Spec{3, 4}, nil, ""},
		{"slurm 0-3", "", 0, slurm(EnvSlurmID, "0", EnvSlurmMin, "0", EnvSlurmMax, "3", EnvSlurmCount, "4"), Spec{1, 4}, nil, ""},
		{"slurm count only", "", 0, slurm(EnvSlurmID, "7", EnvSlurmMin, "5", EnvSlurmCount, "8"), Spec{3, 8}, nil, ""},
		{"slurm max only", "", 0, slurm(EnvSlurmID, "12", EnvSlurmMin, "10", EnvSlurmMax, "13"), Spec{3, 4}, nil, ""},
		{"slurm step", "", 0, slurm(EnvSlurmID, "8", EnvSlurmMin, "0", EnvSlurmMax, "12", EnvSlurmStep, "4", EnvSlurmCount, "4"), Spec{3, 4}, nil, ""},
		{"slurm off step", "", 0, slurm(EnvSlurmID, "6", EnvSlurmMin, "0", EnvSlurmMax, "12", EnvSlurmStep, "4", EnvSlurmCount, "4"), Spec{}, ErrEnv, "step 4"},
		{"slurm list", "", 0, slurm(EnvSlurmID, "3", EnvSlurmMin, "1", EnvSlurmMax, "7", EnvSlurmCount, "3"), Spec{}, ErrEnv, "list"},
		{"slurm shards agree", "", 4, slurm(EnvSlurmID, "2", EnvSlurmMin, "1", EnvSlurmMax, "4", EnvSlurmCount, "4"), Spec{2, 4}, nil, ""},
		{"slurm resubmitted alone", "", 4, slurm(EnvSlurmID, "3", EnvSlurmMin, "3", EnvSlurmMax, "3", EnvSlurmCount, "1"), Spec{}, ErrEnv, "--shard I/4"},
		{"slurm no min", "", 0, slurm(EnvSlurmID, "3", EnvSlurmCount, "4"), Spec{}, ErrEnv, EnvSlurmMin},
		{"slurm no size", "", 0, slurm(EnvSlurmID, "3", EnvSlurmMin, "1"), Spec{}, ErrEnv, EnvSlurmCount},
		{"slurm id below min", "", 0, slurm(EnvSlurmID, "0", EnvSlurmMin, "1", EnvSlurmCount, "4"), Spec{}, ErrEnv, "not in an array"},
		{"slurm id above max", "", 0, slurm(EnvSlurmID, "5", EnvSlurmMin, "1", EnvSlurmMax, "4"), Spec{}, ErrEnv, "above"},
		{"slurm id beyond count", "", 0, slurm(EnvSlurmID, "5", EnvSlurmMin, "1", EnvSlurmCount, "4"), Spec{}, ErrSpec, "shard 5 of 4"},
		{"slurm garbage", "", 0, slurm(EnvSlurmID, "x", EnvSlurmMin, "1", EnvSlurmCount, "4"), Spec{}, ErrEnv, "not a whole number"},
		{"k8s", "", 4, slurm(EnvK8sIndex, "0"), Spec{1, 4}, nil, ""},
		{"k8s last", "", 4, slurm(EnvK8sIndex, "3"), Spec{4, 4}, nil, ""},
		{"k8s no count", "", 0, slurm(EnvK8sIndex, "1"), Spec{}, ErrEnv, "--shards"},
		{"k8s out of range", "", 4, slurm(EnvK8sIndex, "4"), Spec{}, ErrEnv, "0 to 3"},
		{"k8s negative", "", 4, slurm(EnvK8sIndex, "-1"), Spec{}, ErrEnv, "not a whole number"},
		{"both schedulers", "", 4, slurm(EnvK8sIndex, "1", EnvSlurmID, "1"), Spec{}, ErrEnv, "both"},
		{"shards without env", "", 4, nil, Spec{}, ErrEnv, "--shard I/4"},
		{"shards out of range", "", -1, nil, Spec{}, ErrSpec, "--shards -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, src, err := Detect(tc.flag, tc.shards, func(k string) string { return tc.env[k] })
			if tc.err == nil {
				if err != nil || got != tc.want {
					t.Fatalf("Detect = %v, %v; want %v", got, err, tc.want)
				}
				if (src == "") != got.IsWhole() {
					t.Errorf("source %q for %v", src, got)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Detect error = %v, want %v mentioning %q", err, tc.err, tc.msg)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1/1", "2/4", "0/4", "4/3", "x", "1/", "/1", " 3 / 9 ", "1/99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := Parse(v)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("Parse(%q): error %v is not ErrSpec", v, err)
			}
			return
		}
		if s.Check() != nil {
			t.Fatalf("Parse(%q) = %v, which is not valid", v, s)
		}
		if back, err := Parse(s.String()); err != nil || back != s {
			t.Fatalf("Parse(%q) = %v does not round-trip: %v, %v", v, s, back, err)
		}
	})
}

// BenchmarkAssignMS1MV2 assigns 5.8 M keys shaped like MS1MV2's (85,742
// identities of about 68 images) to 100 shards: ns per key, and the
// largest and smallest shard as a share of the mean.
func BenchmarkAssignMS1MV2(b *testing.B) {
	const people, each, n = 85742, 68, 100
	keys := make([]string, 0, people*each)
	for p := range people {
		for i := range each {
			keys = append(keys, fmt.Sprintf("m.%07x/%d.jpg", p*2654435761%(1<<28), i))
		}
	}
	counts := make([]int, n+1)
	for b.Loop() {
		clear(counts)
		for _, k := range keys {
			counts[Of(k, n)]++
		}
	}
	mean := float64(len(keys)) / n
	lo, hi := slices.Min(counts[1:]), slices.Max(counts[1:])
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
	b.ReportMetric(float64(hi)/mean, "max/mean")
	b.ReportMetric(float64(lo)/mean, "min/mean")
}
