package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/shard"
)

// benchRows and benchDim size the store benchmarks: 2 GB at 1 M rows
// would not fit in a benchmark loop on this machine; 100 k × 512 is 205 MB.
const benchRows, benchDim = 100_000, 512

func benchParams(sp shard.Spec) Params {
	p := testParams(sp)
	p.Dim = benchDim
	return p
}

// benchRecord is a photo record with box and landmarks, as embed makes.
func benchRecord(i int) Record {
	return Record{Path: fmt.Sprintf("m.%07x/%d.jpg", i/68*2654435761%(1<<28), i%68),
		Box: []float64{31.5, 40.25, 112, 140}, Landmarks5: [][2]float64{{50, 60}, {80, 60.5}, {65, 80}, {52, 100}, {78, 100}}, Face: "1 face"}
}

// writeBench writes the rows of shard sp of the bench set into dir.
func writeBench(b *testing.B, dir string, sp shard.Spec) int {
	w := create(b, dir, benchParams(sp), Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	vec := make([]float32, benchDim)
	var keys []string
	for i := range benchRows {
		rec := benchRecord(i)
		if !sp.Has(rec.Path) {
			continue
		}
		for t := range vec {
			vec[t] = float32(rng.NormFloat64())
		}
		if err := w.Add(rec, vec); err != nil {
			b.Fatal(err)
		}
		keys = append(keys, rec.Path)
	}
	if _, err := w.Finish(keys); err != nil {
		b.Fatal(err)
	}
	return len(keys)
}

// BenchmarkWrite: Add of 100 k rows of 512 (journalled, fsynced every 256)
// and Finish (sorted, written out, fsynced). MB/s counts the vectors.
func BenchmarkWrite(b *testing.B) {
	b.SetBytes(benchRows * benchDim * 4)
	for i := 0; b.Loop(); i++ {
		writeBench(b, filepath.Join(b.TempDir(), fmt.Sprint(i)), shard.Whole)
	}
}

// BenchmarkOpenScan: Open (map, count index lines) and a pass summing every
// value, from the page cache.
func BenchmarkOpenScan(b *testing.B) {
	benchOpen(b, func(s *Store) error {
		var sum float32
		for _, v := range s.Matrix() {
			sum += v
		}
		if sum == 0 {
			return errors.New("nothing read")
		}
		return nil
	})
}

// BenchmarkVerify: Open and Verify (both files hashed, every record parsed).
func BenchmarkVerify(b *testing.B) {
	benchOpen(b, (*Store).Verify)
}

// benchOpen writes the bench set once, then times Open, use and Close of
// it.
func benchOpen(b *testing.B, use func(*Store) error) {
	dir := filepath.Join(b.TempDir(), "s")
	writeBench(b, dir, shard.Whole)
	b.SetBytes(benchRows * benchDim * 4)
	for b.Loop() {
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if err := use(s); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkMerge4: Merge of the four shards of the 100 k set.
func BenchmarkMerge4(b *testing.B) {
	root := b.TempDir()
	var srcs []string
	for i := 1; i <= 4; i++ {
		dir := filepath.Join(root, fmt.Sprint(i))
		writeBench(b, dir, shard.Spec{Index: i, Count: 4})
		srcs = append(srcs, dir)
	}
	b.SetBytes(benchRows * benchDim * 4)
	for i := 0; b.Loop(); i++ {
		if _, err := Merge(context.Background(), filepath.Join(root, fmt.Sprint("out", i)), srcs, MergeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
