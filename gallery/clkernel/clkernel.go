// Package clkernel searches a gallery on an OpenCL device (a GPU, or
// PoCL's CPU device): a gallery.Scanner that keeps the gallery's rows in
// device memory from one search to the next, scores a batch of queries
// against each block of rows there, and picks each chunk of a block's
// best rows there (up to 16 hits: a sorted list per work-item, then a sort
// of the lists; more: a sort of the chunk), so that only every chunk's
// best few rows come back to the host, which merges them (gallery.Top).
//
// The scores are gallery.GoKernel's: each summed over the dimensions in
// order, without fused multiply-adds (search.cl), then scaled by the row's
// inverse length as gallery.Search scales it. On a device that rounds as
// IEEE 754 says (PoCL does) they are equal bit for bit, so the hits and
// their order are Search's; ties go to the lower row, as in Search.
package clkernel

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/maskinv/workbench/gallery"
	"github.com/maskinv/workbench/internal/opencl"
)

//go:embed search.cl
var source string

// Work-group geometry of search.cl's scores kernel.
const (
	tileRows    = 64 // TR: rows per work-group
	tileQueries = 16 // TQ: queries per work-group
)

// Sizes the defaults are made of.
const (
	maxBlockRows = 1 << 18   // rows per block: 512 MB at 512-d, four blocks for a 1 M gallery
	defaultChunk = 2048      // rows a work-group sorts: 16 KB of local memory
	maxScores    = 256 << 20 // bytes of one query batch's scores of a block
	maxBatch     = 1024      // queries per batch
	maxGroup     = 256       // work-items of a chunk's sort
	fewMax       = 16        // KP of search.cl: the most hits best_few picks
	fewGroup     = 64        // work-items of best_few
)

// Options configure Open; the zero value is usable.
type Options struct {
	// MemoryLimit caps the device memory the gallery and a search's
	// buffers take, in bytes; 0: 60% of the device's memory (an engine on
	// the same device needs some). Blocks of rows beyond it are not kept:
	// every search copies them up again through one staging block.
	MemoryLimit int64
	// BlockRows is the rows per block (one buffer, scored at once); 0: as
	// many as the device's largest buffer holds, at most 262144.
	BlockRows int
	// ChunkRows is the rows one work-group sorts to pick their best when
	// a search asks for more than 16 hits, a power of two; 0: 2048, or
	// fewer where local memory is smaller. (Up to 16 hits, a work-group
	// picks from 4096 rows on a GPU, 16384 on a CPU device.)
	ChunkRows int
}

// Kernel is a gallery.Scanner (and a gallery.Kernel) on one OpenCL
// device. Searches from several goroutines take turns.
type Kernel struct {
	mu       sync.Mutex
	dev      *opencl.Device
	ctx      *opencl.Context
	prog     *opencl.Program
	tiled    *opencl.Kernel // scores, for GPUs
	byRow    *opencl.Kernel // scores_rows, for CPU devices
	useTiled bool
	best     *opencl.Kernel // for many hits per query
	few      *opencl.Kernel // best_few, for up to fewMax
	limit    int64
	block    int       // Options.BlockRows as given
	chunk    int       // best's rows per work-group
	group    int       // best's work-items
	fewMax   int       // the most hits best_few picks (tests lower it)
	fewChunk int       // best_few's rows per work-group
	fewGroup int       // best_few's work-items
	maxBatch int       // queries per batch at most (tests lower it)
	resident *resident // the gallery on the device; nil: none yet
}

// Open opens OpenCL device platform.device (the indices of the spec
// "opencl:P.D" under which `maskinv devices` lists it) and builds the
// search kernels there. Without OpenCL, or without that device, the error
// wraps opencl.ErrNoLoader, ErrNoPlatform or ErrNoDevice.
func Open(platform, device int, opt Options) (_ *Kernel, err error) {
	dev, err := findDevice(platform, device)
	if err != nil {
		return nil, err
	}
	k := &Kernel{dev: dev, limit: opt.MemoryLimit, block: opt.BlockRows, chunk: opt.ChunkRows, maxBatch: maxBatch}
	defer func() {
		if err != nil {
			_ = k.Close() // the error that stopped Open is the one to report
			err = fmt.Errorf("gallery search on %s: %w", k, err)
		}
	}()
	if k.limit <= 0 {
		k.limit = dev.GlobalMemory / 10 * 6
	}
	if k.chunk == 0 {
		for k.chunk = defaultChunk; k.chunk > 64 && int64(8*k.chunk) > dev.LocalMemory/2; k.chunk /= 2 {
		}
	}
	if k.chunk < 1 || k.chunk&(k.chunk-1) != 0 || int64(8*k.chunk) > dev.LocalMemory {
		return k, fmt.Errorf("chunks of %d rows: want a power of two whose scores and rows fit in %d bytes of local memory", k.chunk, dev.LocalMemory)
	}
	if k.block < 0 || int64(k.block)*4 > maxScores {
		return k, fmt.Errorf("blocks of %d rows: want at most %d", k.block, maxScores/4)
	}
	if k.ctx, err = dev.NewContext(); err != nil {
		return k, err
	}
	if k.prog, err = k.ctx.Build(source, ""); err != nil {
		return k, fmt.Errorf("building the search kernels: %w", err)
	}
	if k.tiled, err = k.prog.Kernel("scores"); err != nil {
		return k, err
	}
	if k.byRow, err = k.prog.Kernel("scores_rows"); err != nil {
		return k, err
	}
	if k.best, err = k.prog.Kernel("best"); err != nil {
		return k, err
	}
	if k.few, err = k.prog.Kernel("best_few"); err != nil {
		return k, err
	}
	k.plan()
	return k, nil
}

// plan sizes the work of the device's kernels: the tiled scores on GPUs,
// scores_rows on CPU devices; work-groups within the kernels' limits, and
// on a CPU device long shares of a chunk per work-item for best_few (its
// items run one after the other: fewer chunks, fewer candidates).
func (k *Kernel) plan() {
	cpu := k.dev.Type&opencl.TypeCPU != 0
	k.useTiled = !cpu
	for k.group = maxGroup; k.group > 1 && (k.group > k.best.MaxWorkGroup || 2*k.group > k.chunk); k.group /= 2 {
	}
	k.fewMax, k.fewGroup = fewMax, min(fewGroup, k.few.MaxWorkGroup)
	k.fewChunk = k.fewGroup * 64
	if cpu {
		k.fewChunk = k.fewGroup * 256
	}
	// best_few's merge sorts fewGroup·fewMax entries in local memory.
	for k.fewMax > 0 && int64(8*nextPow2(k.fewGroup*k.fewMax)) > k.dev.LocalMemory {
		k.fewMax /= 2
	}
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}

// findDevice finds the OpenCL device with the given indices.
func findDevice(platform, device int) (*opencl.Device, error) {
	lib, err := opencl.Load()
	if err != nil {
		return nil, err
	}
	devs, err := lib.Devices()
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		if d.Platform.Index == platform && d.Index == device {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: no OpenCL device opencl:%d.%d", opencl.ErrNoDevice, platform, device)
}

// String names the device as `maskinv devices` does: "opencl:P.D: NAME".
func (k *Kernel) String() string {
	return fmt.Sprintf("opencl:%d.%d: %s", k.dev.Platform.Index, k.dev.Index, k.dev.Name)
}

// Close releases the gallery's rows on the device, the kernels and the
// context.
func (k *Kernel) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	errs := []error{k.resident.release()}
	k.resident = nil
	errs = append(errs, k.tiled.Release(), k.byRow.Release(), k.best.Release(), k.few.Release(), k.prog.Release())
	if k.ctx != nil {
		errs = append(errs, k.ctx.Release())
		k.ctx = nil
	}
	return errors.Join(errs...)
}

// Load copies g's rows and their inverse lengths to the device, where
// they stay for the searches of g that follow, until another gallery is
// searched or loaded (which releases them) or Close. Searching a gallery
// loads it; Load lets a caller pay the copy up front.
func (k *Kernel) Load(g *gallery.Gallery) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(g); err != nil {
		return fmt.Errorf("gallery search on %s: %w", k, err)
	}
	return nil
}

// KeptRows is how many rows of the loaded gallery stay on the device; the
// others are copied up at every search (see Options.MemoryLimit).
func (k *Kernel) KeptRows() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.resident == nil {
		return 0
	}
	n := 0
	for _, b := range k.resident.blocks {
		if b.rows != nil {
			n += b.hi - b.lo
		}
	}
	return n
}

// Scan implements gallery.Scanner: the k best rows of g for each of the
// unit-length queries q (row-major, g.Dim() values each).
func (k *Kernel) Scan(ctx context.Context, g *gallery.Gallery, q []float32, hits int) ([][]gallery.Hit, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	out, err := k.scan(ctx, g, q, hits)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("gallery search on %s: %w", k, err)
	}
	return out, err
}

// MulT implements gallery.Kernel on the device: c = a·bᵀ, a m×dim and b
// n×dim, copied up and the product copied back at each call (Scan keeps
// the gallery on the device instead).
func (k *Kernel) MulT(m, n, dim int, a, b, c []float32) (err error) {
	if m == 0 || n == 0 {
		return nil
	}
	if len(a) < m*dim || len(b) < n*dim || len(c) < m*n {
		panic(fmt.Sprintf("clkernel: %d×%d·(%d×%d)ᵀ with %d, %d, %d values", m, dim, n, dim, len(a), len(b), len(c)))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var bufs buffers
	defer func() { err = errors.Join(err, bufs.release()) }()
	ab, bb, cb, one := bufs.alloc(k.ctx, m*dim), bufs.alloc(k.ctx, n*dim), bufs.alloc(k.ctx, m*n), bufs.alloc(k.ctx, 1)
	if bufs.err != nil {
		return bufs.err
	}
	if err := errors.Join(ab.Write(0, a[:m*dim]), bb.Write(0, b[:n*dim])); err != nil {
		return err
	}
	if err := k.launchScores(ab, bb, one, cb, m, n, dim, false); err != nil {
		return err
	}
	return cb.Read(0, c[:m*n])
}

// launchScores enqueues search.cl's scores (scores_rows on a CPU device)
// for m queries against n rows (dim values each) into c (m×n), scaled by
// inv when scale.
func (k *Kernel) launchScores(q, rows, inv, c *opencl.Buffer, m, n, dim int, scale bool) error {
	s := int32(0)
	if scale {
		s = 1
	}
	kern := k.byRow
	if k.useTiled {
		kern = k.tiled
	}
	if err := kern.SetArgs(q, rows, inv, c, int32(m), int32(n), int32(dim), int32(n), s); err != nil {
		return err
	}
	return kern.Launch([]int{roundUp(n, tileRows), (m + tileQueries - 1) / tileQueries}, []int{tileRows, 1})
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// buffers allocates device buffers and releases them together; the first
// allocation error stops the rest.
type buffers struct {
	list []*opencl.Buffer
	err  error
}

// alloc returns a buffer of n floats (at least one), or nil after an
// error.
func (bs *buffers) alloc(ctx *opencl.Context, n int) *opencl.Buffer {
	if bs.err != nil {
		return nil
	}
	b, err := ctx.NewBuffer(4 * int64(max(n, 1)))
	if err != nil {
		bs.err = err
		return nil
	}
	bs.list = append(bs.list, b)
	return b
}

func (bs *buffers) release() error {
	var errs []error
	for _, b := range bs.list {
		errs = append(errs, b.Release())
	}
	bs.list = nil
	return errors.Join(errs...)
}

// rowOf reads a row number that the device wrote as an int into a float
// buffer (the binding reads floats).
func rowOf(v float32) int { return int(int32(math.Float32bits(v))) }
