package occlusion

import (
	"context"
	"fmt"
	"testing"

	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/internal/cputime"
	"github.com/maskinv/workbench/model"
)

// benchPair times the figure's whole computation for one pair of demo
// photos: four faces (A, B and their masked versions) under every patch
// of an 8×8 / stride 4 grid, 4 × 730 embeddings, with emb. It reports
// seconds and CPU-seconds per pair and embeddings per second.
func benchPair(b *testing.B, emb func(teacher) Embedder, opt Options) {
	tc := loadTeacher(b)
	p := tc.demoPair(b, "Colin_Powell/Colin_Powell_0001.jpg", "Colin_Powell/Colin_Powell_0002.jpg")
	e := emb(tc)
	// Warm up: models and graphs for the tile and batch sizes, buffer
	// pools (the unmasked pair has the grid's tiles and last batch).
	if _, err := ComputePair(context.Background(), e, Model{}, Pair{A: p.A, B: p.B}, opt); err != nil {
		b.Fatal(err)
	}
	cpu0, ok := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ComputePair(context.Background(), e, Model{}, p, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	per := 4 * (opt.Grid(112).Cells() + 1)
	b.ReportMetric(b.Elapsed().Seconds()/n, "s/pair")
	b.ReportMetric(n*float64(per)/b.Elapsed().Seconds(), "emb/s")
	if cpu1, ok1 := cputime.Process(); ok && ok1 {
		b.ReportMetric((cpu1-cpu0).Seconds()/n, "cpu-s/pair")
	}
}

func plainEmbedder(batch int) func(teacher) Embedder {
	return func(tc teacher) Embedder { return &face.Embedder{Net: tc.net, Batch: batch} }
}

// BenchmarkPairPlain: every occluded crop embedded whole, at several batch
// sizes (the crops per engine run).
func BenchmarkPairPlain(b *testing.B) {
	for _, batch := range []int{16, 32, 64} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			benchPair(b, plainEmbedder(batch), Options{Batch: batch})
		})
	}
}

func netEmbedder(b *testing.B, maxTile float64) func(teacher) Embedder {
	return func(tc teacher) Embedder {
		e := teacherEmbedder(b, nil)
		e.MaxTile = maxTile
		return e
	}
}

// BenchmarkPairIncremental: the same maps through NetEmbedder.EmbedPatches.
func BenchmarkPairIncremental(b *testing.B) {
	for _, c := range []struct {
		maxTile float64
		batch   int
	}{{0.5, 32}, {0.3, 32}, {0.7, 32}, {0.5, 64}} {
		b.Run(fmt.Sprintf("maxtile%.1f_batch%d", c.maxTile, c.batch), func(b *testing.B) {
			benchPair(b, netEmbedder(b, c.maxTile), Options{Batch: c.batch})
		})
	}
}

// BenchmarkPatchParts splits an occluded face's cost at 8×8 / stride 4:
// CPU milliseconds per patch of the tiled stages and of the whole-map
// rest of the network, and per face of a whole embedding, each run alone
// on batches of 64.
func BenchmarkPatchParts(b *testing.B) {
	e := teacherEmbedder(b, nil)
	p, err := e.plan(Grid{112, 8, 4}.Rects())
	if err != nil {
		b.Fatal(err)
	}
	const batch = 64
	ctx := context.Background()
	cpuPer := func(net model.Model, in model.Tensor) float64 {
		if _, err := net.Run(ctx, in); err != nil { // build the graph
			b.Fatal(err)
		}
		c0, _ := cputime.Process()
		for i := 0; i < b.N; i++ {
			if _, err := net.Run(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		c1, _ := cputime.Process()
		return (c1 - c0).Seconds() * 1e3 / float64(b.N*batch)
	}
	tiles := 0.0
	for i, st := range p.stages {
		net, err := e.sub(i, i+1, st.tile[0], st.tile[1], 0)
		if err != nil {
			b.Fatal(err)
		}
		tiles += cpuPer(net, testTensor(batch, st.seg.InC, st.tile[0], st.tile[1]))
	}
	last := p.stages[len(p.stages)-1].seg
	tail, err := e.sub(len(p.stages), len(e.segs), last.Out[0], last.Out[1], 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(tiles, "tiles-cpu-ms/patch")
	b.ReportMetric(cpuPer(tail, testTensor(batch, last.OutC, last.Out[0], last.Out[1])), "rest-cpu-ms/patch")
	b.ReportMetric(cpuPer(e.Net(), testTensor(batch, 3, 112, 112)), "whole-cpu-ms/face")
}

func testTensor(n, c, h, w int) model.Tensor {
	t := model.NewTensor(n, c, h, w)
	for i := range t.Data {
		t.Data[i] = float32(i%251)/125 - 1
	}
	return t
}

func BenchmarkPairWorkers(b *testing.B) {
	for _, w := range [][2]int{{1, 1}, {1, 2}, {2, 2}} {
		b.Run(fmt.Sprintf("p%d_c%d", w[0], w[1]), func(b *testing.B) {
			benchPair(b, func(tc teacher) Embedder {
				e := teacherEmbedder(b, nil)
				e.producers, e.consumers = w[0], w[1]
				return e
			}, Options{Batch: 32})
		})
	}
}
