package face

import (
	"context"
	"fmt"
	"image"
	"math"

	"github.com/maskinv/workbench/model"
)

// DefaultBatch is how many crops Embedder sends per model run when Batch is 0.
const DefaultBatch = 8

// Embedder computes L2-normalised embeddings of aligned 112×112 crops with
// fr_feature.onnx.
type Embedder struct {
	Net Runner
	// Batch is the number of crops per run (0 → DefaultBatch). The model's
	// final Reshape fixes the batch dimension to 1, so a batched run may
	// return 1×(N·512) instead of N×512; both layouts are accepted. A
	// lone crop, whatever Batch, runs as a batch of two (see Embed), so
	// that an embedding is the same bits whatever batch it came in: the
	// recogniser must take batches of two.
	Batch int
}

// Embed returns one unit-length embedding per crop, in order.
func (e *Embedder) Embed(ctx context.Context, crops []*image.NRGBA) ([][]float32, error) {
	batch := e.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	for i, c := range crops {
		if c.Rect.Dx() != AlignedSize || c.Rect.Dy() != AlignedSize {
			return nil, fmt.Errorf("embed: crop %d is %d×%d, want %d×%d: %w",
				i, c.Rect.Dx(), c.Rect.Dy(), AlignedSize, AlignedSize, ErrSize)
		}
	}
	out := make([][]float32, 0, len(crops))
	for start := 0; start < len(crops); start += batch {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("embed: %w", err)
		}
		part := crops[start:min(start+batch, len(crops))]
		run := part
		if len(part) == 1 {
			// A batch of one rounds differently from every larger batch
			// (the BLAS likely takes another kernel for a one-row
			// product): alone, a crop embeds a few 1e-8 away from where
			// it does in any batch of two or more, which agree bit for
			// bit. So that an embedding does not depend on how work was
			// batched (shards, resumed runs, eval's batches), a lone
			// crop runs beside a copy of itself.
			run = []*image.NRGBA{part[0], part[0]}
		}
		res, err := e.Net.Run(ctx, RecogniserInput(run))
		if err != nil {
			return nil, fmt.Errorf("embed: run model on crops %d..%d: %w", start, start+len(part)-1, err)
		}
		vecs, err := splitEmbeddings(res, len(run))
		if err != nil {
			return nil, fmt.Errorf("embed: crops %d..%d: %w", start, start+len(part)-1, err)
		}
		out = append(out, vecs[:len(part)]...)
	}
	return out, nil
}

// RecogniserInput lays aligned crops out as the recogniser's input,
// N×3×112×112, planes R, G, B, values (p−127)/128, as fr_feature.js's
// preprocessFeature does. The trainer feeds teacher and student with it.
func RecogniserInput(crops []*image.NRGBA) model.Tensor {
	const plane = AlignedSize * AlignedSize
	t := model.Tensor{Shape: []int{len(crops), 3, AlignedSize, AlignedSize}, Data: make([]float32, len(crops)*3*plane)}
	for n, c := range crops {
		d := t.Data[n*3*plane:]
		for y := 0; y < AlignedSize; y++ {
			row := c.Pix[c.PixOffset(c.Rect.Min.X, c.Rect.Min.Y+y):]
			for x := 0; x < AlignedSize; x++ {
				i := y*AlignedSize + x
				d[i] = (float32(row[4*x]) - 127) / 128
				d[plane+i] = (float32(row[4*x+1]) - 127) / 128
				d[2*plane+i] = (float32(row[4*x+2]) - 127) / 128
			}
		}
	}
	return t
}

// splitEmbeddings cuts the first output into n equal rows and normalises them.
func splitEmbeddings(res []model.Tensor, n int) ([][]float32, error) {
	if len(res) == 0 || len(res[0].Data) == 0 || len(res[0].Data)%n != 0 {
		var shape []int
		if len(res) > 0 {
			shape = res[0].Shape
		}
		return nil, fmt.Errorf("output shape %v for %d crops: %w", shape, n, ErrOutput)
	}
	data := res[0].Data
	dim := len(data) / n
	vecs := make([][]float32, n)
	for i := range vecs {
		v, err := Normalize(data[i*dim : (i+1)*dim])
		if err != nil {
			return nil, fmt.Errorf("crop %d: %w", i, err)
		}
		vecs[i] = v
	}
	return vecs, nil
}

// Normalize returns v scaled to unit L2 length (a new slice). A zero or
// non-finite vector is an error: it means the model failed.
func Normalize(v []float32) ([]float32, error) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	norm := math.Sqrt(ss)
	if norm == 0 || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return nil, fmt.Errorf("embedding of length %d has norm %v: %w", len(v), norm, ErrOutput)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / norm)
	}
	return out, nil
}

// Cosine is the cosine similarity of a and b (in float64; 0 if either is
// zero). Vectors of different lengths are a programmer error and panic.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("face.Cosine: lengths %d and %d differ", len(a), len(b)))
	}
	var ab, aa, bb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
