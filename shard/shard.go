// Package shard splits a set of photos into N disjoint parts for array jobs
// (Slurm job arrays, Kubernetes Indexed Jobs) and says which part a task
// is: from a --shard I/N flag or from the scheduler's environment.
//
// Shards are numbered from 1: "2/4" is the second of four, and 1/1 is the
// whole set. The photo's shard is a function of its key alone (its
// slash-separated path under the input folder, as the commands key masks
// and records): the first 8 bytes of SHA-256(key), scaled onto [1, N]. So
// the split needs no listing of the input, is the same on every machine,
// and adding or removing photos moves no other photo.
package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// MaxCount bounds N: far more tasks than any array job runs, and small
// enough that "I/N" always fits in an int on every platform.
const MaxCount = 1 << 20

// ErrSpec marks a shard that cannot be parsed or is out of range.
var ErrSpec = errors.New("bad shard")

// Spec is one shard of a split: Index of Count, 1 ≤ Index ≤ Count.
// The zero value is not valid; Whole is the unsplit set.
type Spec struct {
	Index, Count int
}

// Whole is the set not split: shard 1 of 1.
var Whole = Spec{Index: 1, Count: 1}

// Check reports whether s is a shard: 1 ≤ Index ≤ Count ≤ MaxCount.
func (s Spec) Check() error {
	switch {
	case s.Count < 1 || s.Count > MaxCount:
		return fmt.Errorf("%w: %d shards, want 1 to %d", ErrSpec, s.Count, MaxCount)
	case s.Index < 1 || s.Index > s.Count:
		return fmt.Errorf("%w: shard %d of %d, want 1 to %d (shards are numbered from 1)", ErrSpec, s.Index, s.Count, s.Count)
	}
	return nil
}

// String is "I/N", what Parse reads.
func (s Spec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// IsWhole reports whether s is the whole set.
func (s Spec) IsWhole() bool { return s.Count == 1 }

// Parse reads "I/N": the I-th of N shards, numbered from 1 (so "1/4" to
// "4/4"; "0/4" is an error that says so).
func Parse(v string) (Spec, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(v), "/")
	if !ok {
		return Spec{}, fmt.Errorf("%w: %q is not I/N (e.g. 2/4, the second of four)", ErrSpec, v)
	}
	i, erri := strconv.Atoi(strings.TrimSpace(is))
	n, errn := strconv.Atoi(strings.TrimSpace(ns))
	if erri != nil || errn != nil {
		return Spec{}, fmt.Errorf("%w: %q is not I/N with whole numbers I and N (e.g. 2/4)", ErrSpec, v)
	}
	s := Spec{Index: i, Count: n}
	if err := s.Check(); err != nil {
		return Spec{}, fmt.Errorf("%q: %w", v, err)
	}
	return s, nil
}

// Of returns the shard, 1 to n, of the photo called key (its
// slash-separated path under the input folder). n must be at least 1.
func Of(key string, n int) int {
	if n < 1 {
		panic(fmt.Sprintf("shard.Of: %d shards", n))
	}
	h := sha256.Sum256([]byte(key))
	// Multiply-high maps the 64-bit hash onto [0, n): every shard gets
	// 2^64/n hash values, give or take one, so for n ≤ MaxCount no shard
	// is favoured by more than 2^-44 of its share.
	hi, _ := bits.Mul64(binary.BigEndian.Uint64(h[:8]), uint64(n))
	return int(hi) + 1
}

// Has reports whether the photo called key belongs to shard s.
func (s Spec) Has(key string) bool {
	return s.Count <= 1 || Of(key, s.Count) == s.Index
}

// Filter returns the keys of s, in their order.
func (s Spec) Filter(keys []string) []string {
	if s.Count <= 1 {
		return keys
	}
	var out []string
	for _, k := range keys {
		if s.Has(k) {
			out = append(out, k)
		}
	}
	return out
}

// CheckSet reports whether specs are shards 1 to N of one N, each once:
// the parts of one whole run, as a merge needs them. names[i] names
// specs[i] in the error, which names a missing shard or the two parts in
// conflict.
func CheckSet(specs []Spec, names []string) error {
	if len(specs) == 0 {
		return errors.New("no shards")
	}
	n := specs[0].Count
	have := make(map[int]string, len(specs))
	for i, s := range specs {
		if s.Count != n {
			return fmt.Errorf("%s is shard %s, %s shard %s: shards of different splits", names[i], s, names[0], specs[0])
		}
		if o, ok := have[s.Index]; ok {
			return fmt.Errorf("%s and %s are both shard %s", o, names[i], s)
		}
		have[s.Index] = names[i]
	}
	var missing []string
	for i := 1; i <= n; i++ {
		if _, ok := have[i]; !ok {
			missing = append(missing, Spec{Index: i, Count: n}.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing shard %s (have %d of %d)", strings.Join(missing, ", "), len(specs), n)
	}
	return nil
}
