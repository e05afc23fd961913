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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/gallery/blaskernel"
	"github.com/maskinv/workbench/gallery/clkernel"
	"github.com/maskinv/workbench/internal/opencl"
	"github.com/maskinv/workbench/internal/opencltest"
	"github.com/maskinv/workbench/shard"
	"github.com/maskinv/workbench/store"
)

// BenchmarkSearch1M searches a synthetic gallery of 1,000,000 × 512
// random embeddings, memory-mapped from a store: one query at a time and
// batches of 64, with the Go kernel, with OpenBLAS and on every OpenCL
// device (clkernel: the rows copied to the device once, before timing; the
// copy's time is logged). It reports queries/s and the process's memory
// after the searches (RSS, split into anonymous memory and the mapped
// file's pages; PoCL's device memory is the process's own, so its runs
// report its copy of the gallery as anonymous memory).
//
// The store takes a few minutes and 2 GB of disk to make. Set
// MASKINV_GALLERY_STORE=DIR to keep it in DIR and reuse it in later runs
// (and so measure memory in a process that did not write it), or
// MASKINV_GALLERY_STORE=memory to make the rows in memory, without a
// store (a GPU check measures the search, not the store);
// MASKINV_GALLERY_ROWS changes the size, MASKINV_GALLERY_BATCHES the
// batch sizes (default 1,64). Without OpenCL the devices are left out
// (with MASKINV_REQUIRE_OPENCL=1 that fails the benchmark).
func BenchmarkSearch1M(b *testing.B) {
	rows, batches := 1_000_000, []int{1, 64}
	if v := os.Getenv("MASKINV_GALLERY_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("MASKINV_GALLERY_ROWS=%q", v)
		}
		rows = n
	}
	if v := os.Getenv("MASKINV_GALLERY_BATCHES"); v != "" {
		batches = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("MASKINV_GALLERY_BATCHES=%q", v)
			}
			batches = append(batches, n)
		}
	}
	const dim = 512
	matrix, row := benchGallery(b, rows, dim)
	start := time.Now()
	g, err := gallery.New(matrix, dim)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("row lengths %v (for a store, the first touch of its mapped file)", time.Since(start))
	rng := rand.New(rand.NewPCG(9, 9))
	queries := make([][]float32, slices.Max(batches))
	for i := range queries {
		queries[i] = append([]float32(nil), row(rng.IntN(rows))...)
		for t := range queries[i] {
			queries[i][t] += float32(rng.NormFloat64()) * 0.5 // a noisy copy of a gallery row
		}
	}
	for _, k := range []struct {
		name   string
		kernel gallery.Kernel
	}{{"go", gallery.KernelFunc(gallery.GoKernel)}, {"openblas", blaskernel.New()}} {
		benchSearches(b, g, k.name, k.kernel, queries, batches)
	}
	// The devices after the CPU kernels, one at a time, so that the memory
	// the CPU kernels report holds no device's copy (PoCL's is the
	// process's own memory).
	devs, err := openCLDevices()
	if err != nil {
		if opencltest.Required() {
			b.Fatal(err)
		}
		b.Logf("no OpenCL device searched: %v", err)
	}
	for _, d := range devs {
		k := loadOnDevice(b, d, g)
		benchSearches(b, g, fmt.Sprintf("opencl-%d.%d", d.Platform.Index, d.Index), k, queries, batches)
		if err := k.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSearches runs the searches of queries in each batch size with
// kernel, as sub-benchmarks NAME/batchN.
func benchSearches(b *testing.B, g *gallery.Gallery, name string, kernel gallery.Kernel, queries [][]float32, batches []int) {
	for _, batch := range batches {
		b.Run(fmt.Sprintf("%s/batch%d", name, batch), func(b *testing.B) {
			for b.Loop() {
				hits, err := g.Search(context.Background(), queries[:batch], gallery.Options{K: 10, Kernel: kernel})
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

// loadOnDevice opens d and copies g there, logging how long the copy
// took.
func loadOnDevice(b *testing.B, d *opencl.Device, g *gallery.Gallery) *clkernel.Kernel {
	k, err := clkernel.Open(d.Platform.Index, d.Index, clkernel.Options{})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := k.Load(g); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %d rows copied to the device in %v (%d of them kept there)", k, g.Len(), time.Since(start), k.KeptRows())
	return k
}

// benchGallery returns the benchmark's rows (row-major) and a row getter:
// a store's memory map, made first unless MASKINV_GALLERY_STORE names one
// already made, or rows made in memory (MASKINV_GALLERY_STORE=memory).
func benchGallery(b *testing.B, rows, dim int) ([]float32, func(int) []float32) {
	dir := os.Getenv("MASKINV_GALLERY_STORE")
	if dir == "memory" {
		start := time.Now()
		m := make([]float32, rows*dim)
		err := randomRows(rows, dim, func(i int, vec []float32) error {
			copy(m[i*dim:], vec)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("made %d×%d rows in memory in %v", rows, dim, time.Since(start))
		return m, func(i int) []float32 { return m[i*dim : (i+1)*dim] }
	}
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
	b.Cleanup(func() { st.Close() })
	if st.Len() != rows || st.Dim() != dim {
		b.Fatalf("%s holds %d×%d, want %d×%d", dir, st.Len(), st.Dim(), rows, dim)
	}
	b.Logf("open %v", time.Since(start))
	return st.Matrix(), st.Row
}

// openCLDevices lists every OpenCL device.
func openCLDevices() ([]*opencl.Device, error) {
	lib, err := opencl.Load()
	if err != nil {
		return nil, err
	}
	return lib.Devices()
}

// randomRows calls add with rows random unit vectors of dim values, in
// order, the same ones every time (the vector is reused between calls).
func randomRows(rows, dim int, add func(i int, vec []float32) error) error {
	rng := rand.New(rand.NewPCG(1, 1))
	vec := make([]float32, dim)
	for i := range rows {
		var s float64
		for t := range vec {
			vec[t] = float32(rng.NormFloat64())
			s += float64(vec[t]) * float64(vec[t])
		}
		for t := range vec {
			vec[t] /= float32(math.Sqrt(s))
		}
		if err := add(i, vec); err != nil {
			return err
		}
	}
	return nil
}

// makeGallery writes a store of randomRows through the store's Writer,
// and logs its write rate.
func makeGallery(b *testing.B, dir string, rows, dim int) {
	start := time.Now()
	w, err := store.Create(dir, store.Params{Model: strings.Repeat("0", 64), Pipeline: "synthetic", Dim: dim, Shard: shard.Whole}, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, rows)
	err = randomRows(rows, dim, func(i int, vec []float32) error {
		keys[i] = fmt.Sprintf("id%06d/%07d.jpg", i/50, i)
		return w.Add(store.Record{Path: keys[i]}, vec)
	})
	if err != nil {
		b.Fatal(err)
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
