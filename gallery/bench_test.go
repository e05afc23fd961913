package gallery_test

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/gallery/blaskernel"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

// BenchmarkSearch1M searches a synthetic gallery of 1,000,000 × 512
// random embeddings, memory-mapped from a store: one query at a time and
// batches of 64, with the Go kernel and with OpenBLAS. It reports
// queries/s and the process's memory after the searches (RSS, split into
// anonymous memory and the mapped file's pages).
//
// The store takes a few minutes and 2 GB of disk to make. Set
// MASKINV_GALLERY_STORE=DIR to keep it in DIR and reuse it in later runs
// (and so measure memory in a process that did not write it);
// MASKINV_GALLERY_ROWS changes the size.
func BenchmarkSearch1M(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv("MASKINV_GALLERY_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("MASKINV_GALLERY_ROWS=%q", v)
		}
		rows = n
	}
	const dim = 512
	dir := os.Getenv("MASKINV_GALLERY_STORE")
	if dir == "" {
		dir = filepath.Join(b.TempDir(), "gallery")
	}
	if _, err := os.Stat(filepath.Join(dir, store.MetaName)); err != nil {
		makeGallery(b, dir, rows, dim)
	}
	start := time.Now()
	st, err := store.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if st.Len() != rows || st.Dim() != dim {
		b.Fatalf("%s holds %d×%d, want %d×%d", dir, st.Len(), st.Dim(), rows, dim)
	}
	opened := time.Since(start)
	g, err := gallery.New(st.Matrix(), dim)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("open %v, row lengths %v (first touch of the mapped file)", opened, time.Since(start)-opened)
	rng := rand.New(rand.NewPCG(9, 9))
	queries := make([][]float32, 64)
	for i := range queries {
		queries[i] = append([]float32(nil), st.Row(rng.IntN(rows))...)
		for t := range queries[i] {
			queries[i][t] += float32(rng.NormFloat64()) * 0.5 // a noisy copy of a gallery row
		}
	}
	for _, k := range []struct {
		name   string
		kernel gallery.Kernel
	}{{"go", gallery.KernelFunc(gallery.GoKernel)}, {"openblas", blaskernel.New()}} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/batch%d", k.name, batch), func(b *testing.B) {
				for b.Loop() {
					hits, err := g.Search(context.Background(), queries[:batch], gallery.Options{K: 10, Kernel: k.kernel})
					if err != nil {
						b.Fatal(err)
					}
					if len(hits[0]) != 10 {
						b.Fatalf("%d hits", len(hits[0]))
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "queries/s")
				reportMemory(b)
			})
		}
	}
}

// makeGallery writes a store of random unit-length rows through the
// store's Writer, and logs its write rate.
func makeGallery(b *testing.B, dir string, rows, dim int) {
	start := time.Now()
	w, err := store.Create(dir, store.Params{Model: strings.Repeat("0", 64), Pipeline: "synthetic", Dim: dim, Shard: shard.Whole}, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	vec := make([]float32, dim)
	keys := make([]string, rows)
	for i := range rows {
		keys[i] = fmt.Sprintf("id%06d/%07d.jpg", i/50, i)
		var s float64
		for t := range vec {
			vec[t] = float32(rng.NormFloat64())
			s += float64(vec[t]) * float64(vec[t])
		}
		for t := range vec {
			vec[t] /= float32(math.Sqrt(s))
		}
		if err := w.Add(store.Record{Path: keys[i]}, vec); err != nil {
			b.Fatal(err)
		}
	}
	added := time.Since(start)
	if _, err := w.Finish(keys); err != nil {
		b.Fatal(err)
	}
	mb := float64(rows*dim*4) / 1e6
	b.Logf("made %d×%d store: Add %v (%.0f rows/s, %.0f MB/s), Finish %v", rows, dim, added,
		float64(rows)/added.Seconds(), mb/added.Seconds(), time.Since(start)-added)
}

// reportMemory reports the process's resident memory from
// /proc/self/status: all of it, anonymous (heap, stacks) and file-backed
// (the mapped store's pages that were touched, shared with the page cache).
func reportMemory(b *testing.B) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return // not Linux: no figures
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, _ := strings.Cut(sc.Text(), ":")
		unit := map[string]string{"VmRSS": "RSS-MB", "RssAnon": "anon-MB", "RssFile": "file-MB"}[name]
		if unit == "" {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(val), " kB"))
		if err == nil {
			b.ReportMetric(float64(kb)/1024, unit)
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
}
