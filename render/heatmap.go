package render

import (
	"image"
	"image/color"
)

// Matrix is an N×N matrix of scores, row-major.
type Matrix struct {
	N    int
	Data []float32
}

// At is the score of row i against column j.
func (m Matrix) At(i, j int) float64 { return float64(m.Data[i*m.N+j]) }

// Block is a run of rows [Start, End) that belong together (one identity):
// DrawHeatmap outlines it on the diagonal.
type Block struct {
	Name       string
	Start, End int
}

// Heatmap is one matrix to draw.
type Heatmap struct {
	Title   string
	Caption string // axes, e.g. "rows unmasked, columns masked"
	Scores  Matrix
	Blocks  []Block
	Scale   ColorScale
}

// HeatmapRect is the square a heatmap occupies in bounds: the largest one,
// centred.
func HeatmapRect(bounds image.Rectangle) image.Rectangle {
	side := min(bounds.Dx(), bounds.Dy())
	x := bounds.Min.X + (bounds.Dx()-side)/2
	y := bounds.Min.Y + (bounds.Dy()-side)/2
	return image.Rect(x, y, x+side, y+side)
}

// HeatmapCell is the cell (row i, column j) under point p of an n×n
// heatmap drawn in the square r.
func HeatmapCell(r image.Rectangle, n int, p image.Point) (i, j int, ok bool) {
	if n == 0 || !p.In(r) {
		return 0, 0, false
	}
	side := r.Dx()
	return (p.Y - r.Min.Y) * n / side, (p.X - r.Min.X) * n / side, true
}

// cellEdge is the first pixel offset of cell i of n over side pixels: the
// inverse of HeatmapCell's mapping.
func cellEdge(i, n, side int) int { return (i*side + n - 1) / n }

// HeatmapCellRect is the pixel rectangle of cell (i, j) in the square r.
func HeatmapCellRect(r image.Rectangle, n, i, j int) image.Rectangle {
	side := r.Dx()
	return image.Rect(r.Min.X+cellEdge(j, n, side), r.Min.Y+cellEdge(i, n, side),
		r.Min.X+cellEdge(j+1, n, side), r.Min.Y+cellEdge(i+1, n, side))
}

// DrawHeatmap draws h into the square r of dst and outlines the blocks of
// two or more rows on the diagonal. When cells are at least a pixel, each
// pixel takes the colour of the cell it falls in; when there are more
// cells than pixels, each pixel shows the mean of the cells it covers, so
// that the picture stays honest at any size.
func DrawHeatmap(dst *image.NRGBA, r image.Rectangle, h Heatmap) {
	n := h.Scores.N
	side := r.Dx()
	if n == 0 || side <= 0 {
		return
	}
	clip := r.Intersect(dst.Rect)
	if n > side {
		drawHeatmapPooled(dst, r, clip, h)
	} else {
		drawHeatmapCells(dst, r, clip, h)
	}
	width := 1
	if side/n >= 8 {
		width = 2
	}
	for _, b := range h.Blocks {
		if b.Name == "" || b.End-b.Start < 2 {
			continue
		}
		q := image.Rect(r.Min.X+cellEdge(b.Start, n, side), r.Min.Y+cellEdge(b.Start, n, side),
			r.Min.X+cellEdge(b.End, n, side), r.Min.Y+cellEdge(b.End, n, side))
		StrokeRect(dst, q, width, color.NRGBA{255, 255, 255, 255})
	}
}

// drawHeatmapCells draws a heatmap with at least a pixel per cell: each
// pixel takes the colour of its cell.
func drawHeatmapCells(dst *image.NRGBA, r, clip image.Rectangle, h Heatmap) {
	n, side := h.Scores.N, r.Dx()
	cols := make([]int, clip.Dx()) // cell column of each pixel column
	for x := range cols {
		cols[x] = (clip.Min.X + x - r.Min.X) * n / side
	}
	for y := clip.Min.Y; y < clip.Max.Y; y++ {
		i := (y - r.Min.Y) * n / side
		row := h.Scores.Data[i*n : (i+1)*n]
		px := dst.Pix[dst.PixOffset(clip.Min.X, y):]
		for x, j := range cols {
			c := h.Scale.At(float64(row[j]))
			px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = c.R, c.G, c.B, 255
		}
	}
}

// drawHeatmapPooled draws a heatmap with more cells than pixels: pixel p
// covers cells [⌊p·n/side⌋, ⌊(p+1)·n/side⌋), at least one, which holds the
// cell HeatmapCell reports for it, and shows their mean. One pass over the
// matrix.
func drawHeatmapPooled(dst *image.NRGBA, r, clip image.Rectangle, h Heatmap) {
	n, side := h.Scores.N, r.Dx()
	edge := make([]int, side+1) // first cell of each pixel, and n
	for p := range edge {
		edge[p] = p * n / side
	}
	sums := make([]float64, side)
	for y := clip.Min.Y; y < clip.Max.Y; y++ {
		py := y - r.Min.Y
		clear(sums)
		for i := edge[py]; i < edge[py+1]; i++ {
			row := h.Scores.Data[i*n : (i+1)*n]
			for px := 0; px < side; px++ {
				for _, v := range row[edge[px]:edge[px+1]] {
					sums[px] += float64(v)
				}
			}
		}
		rows := edge[py+1] - edge[py]
		out := dst.Pix[dst.PixOffset(clip.Min.X, y):]
		for x := 0; x < clip.Dx(); x++ {
			px := clip.Min.X + x - r.Min.X
			c := h.Scale.At(sums[px] / float64(rows*(edge[px+1]-edge[px])))
			out[4*x], out[4*x+1], out[4*x+2], out[4*x+3] = c.R, c.G, c.B, 255
		}
	}
}
