package app

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/maskinv/workbench/imageio"
)

// The comparison renderer draws into an *image.NRGBA with no GUI toolkit:
// `maskinv compare` and the desktop app's export share it, and the app's
// heatmap, legend and histogram views call its pieces (DrawHeatmap,
// DrawLegend, DrawHistogram) at screen size.

// ColorScale maps scores in [Lo, Hi] to colours; values outside take the
// end colours, NaN is grey.
type ColorScale struct {
	Lo, Hi float64
	lut    *[scaleSteps]color.NRGBA
}

const scaleSteps = 1024

// At is the colour of v.
func (s ColorScale) At(v float64) color.NRGBA {
	if math.IsNaN(v) {
		return color.NRGBA{128, 128, 128, 255}
	}
	k := int((v - s.Lo) / (s.Hi - s.Lo) * (scaleSteps - 1))
	return s.lut[max(0, min(scaleSteps-1, k))]
}

func newScale(lo, hi float64, stops []color.NRGBA) ColorScale {
	lut := new([scaleSteps]color.NRGBA)
	for k := range lut {
		t := float64(k) / (scaleSteps - 1) * float64(len(stops)-1)
		i := min(int(t), len(stops)-2)
		f := t - float64(i)
		a, b := stops[i], stops[i+1]
		mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
		lut[k] = color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
	}
	return ColorScale{Lo: lo, Hi: hi, lut: lut}
}

var (
	similarityScale = sync.OnceValue(func() ColorScale {
		// viridis: perceptually uniform, readable in grey and by most
		// colour-blind viewers.
		return newScale(-0.2, 1, []color.NRGBA{
			{68, 1, 84, 255}, {71, 44, 122, 255}, {59, 81, 139, 255}, {44, 113, 142, 255}, {33, 144, 141, 255},
			{39, 173, 129, 255}, {92, 200, 99, 255}, {170, 220, 50, 255}, {253, 231, 37, 255},
		})
	})
	differenceScale = sync.OnceValue(func() ColorScale {
		// RdBu: red where masks lower the score, blue where they raise it.
		return newScale(-0.5, 0.5, []color.NRGBA{
			{178, 24, 43, 255}, {214, 96, 77, 255}, {244, 165, 130, 255}, {253, 219, 199, 255}, {247, 247, 247, 255},
			{209, 229, 240, 255}, {146, 197, 222, 255}, {67, 147, 195, 255}, {33, 102, 172, 255},
		})
	})
)

// SimilarityScale is the one colour scale of every similarity heatmap:
// cosine −0.2 (and below) to 1, fixed so that exports compare.
func SimilarityScale() ColorScale { return similarityScale() }

// DifferenceScale is the scale of difference maps: −0.5 to +0.5.
func DifferenceScale() ColorScale { return differenceScale() }

// Heatmap is one matrix to draw.
type Heatmap struct {
	Title   string
	Caption string // axes, e.g. "rows unmasked, columns masked"
	Setting CompareSetting
	Diff    DiffKind // DiffNone for a similarity map
	Scores  ScoreMatrix
	Blocks  []IdentityBlock
	Scale   ColorScale
}

// Heatmaps returns the three similarity maps and, unless diff is DiffNone,
// the difference map.
func (c *Comparison) Heatmaps(diff DiffKind) []Heatmap {
	caps := [NumSettings]string{"rows and columns unmasked", "rows unmasked, columns masked", "rows and columns masked"}
	var out []Heatmap
	for _, s := range CompareSettings() {
		out = append(out, Heatmap{Title: s.String(), Caption: caps[s], Setting: s, Scores: c.Scores[s], Blocks: c.Blocks, Scale: SimilarityScale()})
	}
	if diff != DiffNone {
		out = append(out, Heatmap{Title: diff.Title(), Caption: "red: masks lower the score", Setting: diff.setting(), Diff: diff,
			Scores: c.Difference(diff), Blocks: c.Blocks, Scale: DifferenceScale()})
	}
	return out
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

// DrawHeatmap draws h into the square r of dst and outlines the identity
// blocks of two or more photos on the diagonal. When cells are at least a
// pixel, each pixel takes the colour of the cell it falls in; when there
// are more cells than pixels, each pixel shows the mean of the cells it
// covers, so that the picture stays honest at any size.
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
		strokeRect(dst, q, width, color.NRGBA{255, 255, 255, 255})
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

// Text faces for the renderer: Go Regular and Go Bold (BSD licence, in
// golang.org/x/image), drawn without hinting so output is identical
// everywhere.
type fontKey struct {
	bold bool
	size float64
}

var (
	fontMu    sync.Mutex
	fontFaces = map[fontKey]font.Face{}
	fontData  = sync.OnceValues(func() (*opentype.Font, *opentype.Font) {
		r, err := opentype.Parse(goregular.TTF)
		if err != nil {
			panic(err) // embedded data
		}
		b, err := opentype.Parse(gobold.TTF)
		if err != nil {
			panic(err)
		}
		return r, b
	})
)

// textFace returns a shared face. Faces cache glyphs and are not safe for
// concurrent use, so drawText holds fontMu while it uses one.
func textFace(bold bool, size float64) font.Face {
	k := fontKey{bold, size}
	if f, ok := fontFaces[k]; ok {
		return f
	}
	reg, b := fontData()
	src := reg
	if bold {
		src = b
	}
	f, err := opentype.NewFace(src, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		panic(err)
	}
	fontFaces[k] = f
	return f
}

// textStyle is how drawText writes.
type textStyle struct {
	size  float64
	bold  bool
	color color.Color
}

var (
	styleTitle   = textStyle{20, true, color.NRGBA{20, 20, 20, 255}}
	styleHeading = textStyle{14, true, color.NRGBA{20, 20, 20, 255}}
	styleBody    = textStyle{13, false, color.NRGBA{30, 30, 30, 255}}
	styleSmall   = textStyle{11, false, color.NRGBA{60, 60, 60, 255}}
)

// lineHeight is the distance between baselines of st.
func (st textStyle) lineHeight() int { return int(math.Ceil(st.size * 1.35)) }

// drawText writes s with its top-left corner at (x, y) and returns its
// advance width. maxW > 0 cuts it with "…" to fit.
func drawText(dst *image.NRGBA, x, y int, s string, st textStyle, maxW int) int {
	fontMu.Lock()
	defer fontMu.Unlock()
	f := textFace(st.bold, st.size)
	if maxW > 0 {
		s = fitText(f, s, maxW)
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(st.color), Face: f,
		Dot: fixed.P(x, y+int(math.Round(st.size*0.95)))}
	d.DrawString(s)
	return (d.Dot.X - fixed.I(x)).Ceil()
}

// drawTextTail is drawText keeping the end of s when it must cut it
// ("…rsol_0001"): the end of a photo's name tells its photos apart.
func drawTextTail(dst *image.NRGBA, x, y int, s string, st textStyle, maxW int) int {
	r := []rune(s)
	for len(r) > 0 && textWidth(string(r), st) > maxW {
		r = r[1:]
		if textWidth("…"+string(r), st) <= maxW {
			return drawText(dst, x, y, "…"+string(r), st, 0)
		}
	}
	return drawText(dst, x, y, string(r), st, 0)
}

// strconvTrim formats a tick value with as few decimals as it needs (at
// most two).
func strconvTrim(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// textWidth measures s in st.
func textWidth(s string, st textStyle) int {
	fontMu.Lock()
	defer fontMu.Unlock()
	return font.MeasureString(textFace(st.bold, st.size), s).Ceil()
}

func fitText(f font.Face, s string, maxW int) string {
	if font.MeasureString(f, s).Ceil() <= maxW {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		t := string(r) + "…"
		if font.MeasureString(f, t).Ceil() <= maxW {
			return t
		}
	}
	return ""
}

func fillRect(dst *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// blendRect draws c (with its alpha) over r.
func blendRect(dst *image.NRGBA, r image.Rectangle, c color.NRGBA) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Over)
}

// LegendHeight is the height DrawLegend needs.
const LegendHeight = 44

// DrawLegend draws the colour bar of s across r (LegendHeight tall), with
// ticks every 0.2 (0.25 for a difference scale) and, when threshold is not
// NaN, a marker at the threshold. Text and ticks are drawn in ink (nil: dark
// grey), so that the GUI can match its theme.
func DrawLegend(dst *image.NRGBA, r image.Rectangle, s ColorScale, title string, threshold float64, ink color.Color) {
	small := styleSmall
	if ink != nil {
		small.color = ink
	}
	tickColor := color.NRGBAModel.Convert(small.color).(color.NRGBA)
	bar := image.Rect(r.Min.X, r.Min.Y+16, r.Max.X, r.Min.Y+30)
	drawText(dst, r.Min.X, r.Min.Y, title, small, r.Dx())
	w := bar.Dx()
	if w <= 1 {
		return
	}
	for x := 0; x < w; x++ {
		c := s.At(s.Lo + (s.Hi-s.Lo)*float64(x)/float64(w-1))
		fillRect(dst, image.Rect(bar.Min.X+x, bar.Min.Y, bar.Min.X+x+1, bar.Max.Y), c)
	}
	strokeRect(dst, bar, 1, color.NRGBA{90, 90, 90, 255})
	xOf := func(v float64) int { return bar.Min.X + int(math.Round((v-s.Lo)/(s.Hi-s.Lo)*float64(w-1))) }
	step := 0.2
	if s.Lo < 0 && s.Hi > 0 && s.Hi-s.Lo <= 1.01 {
		step = 0.25
	}
	for k := math.Ceil(s.Lo/step - 1e-9); k*step <= s.Hi+1e-9; k++ {
		v := k * step
		x := xOf(v)
		fillRect(dst, image.Rect(x, bar.Max.Y, x+1, bar.Max.Y+3), tickColor)
		label := strconvTrim(v)
		if v > 1e-9 && s.Lo < 0 && s.Hi <= 0.5+1e-9 {
			label = "+" + label
		}
		if math.Abs(v) < 1e-9 {
			label = "0"
		}
		tw := textWidth(label, small)
		drawText(dst, min(max(x-tw/2, r.Min.X), r.Max.X-tw), bar.Max.Y+2, label, small, 0)
	}
	if !math.IsNaN(threshold) && threshold >= s.Lo && threshold <= s.Hi {
		x := xOf(threshold)
		fillRect(dst, image.Rect(x-1, bar.Min.Y-3, x+1, bar.Max.Y+3), color.NRGBA{230, 30, 30, 255})
		label := fmt.Sprintf("threshold %.4f", threshold)
		tw := textWidth(label, styleSmall)
		lx := min(max(x-tw/2, r.Min.X+textWidth(title, small)+12), r.Max.X-tw)
		drawText(dst, lx, r.Min.Y, label, textStyle{11, true, color.NRGBA{230, 40, 40, 255}}, 0)
	}
}

// Histogram colours: genuine pairs green, impostor pairs orange.
var (
	genuineColor  = color.NRGBA{27, 158, 119, 255}
	impostorColor = color.NRGBA{217, 95, 2, 255}
)

// DrawHistogram draws the genuine and impostor score densities of st in r
// (each class normalised to unit area), the threshold as a red line, and a
// title with the error rates.
func DrawHistogram(dst *image.NRGBA, r image.Rectangle, st *SettingStats, threshold float64) {
	fillRect(dst, r, color.NRGBA{255, 255, 255, 255})
	drawText(dst, r.Min.X+4, r.Min.Y+2, st.Setting.String(), textStyle{12, true, color.NRGBA{20, 20, 20, 255}}, r.Dx()-8)
	drawText(dst, r.Min.X+4, r.Min.Y+18, fmt.Sprintf("EER %.1f%%, FMR100 %.1f%%", 100*st.EER, 100*st.FMR100), styleSmall, r.Dx()-8)
	// Key.
	kx := r.Min.X + 4
	for _, k := range []struct {
		name string
		c    color.NRGBA
		n    int
	}{{"genuine", genuineColor, st.Genuine.N}, {"impostor", impostorColor, st.Impostor.N}} {
		fillRect(dst, image.Rect(kx, r.Min.Y+36, kx+10, r.Min.Y+44), k.c)
		kx += 14 + drawText(dst, kx+14, r.Min.Y+33, fmt.Sprintf("%s (%d)", k.name, k.n), styleSmall, 0) + 10
	}
	plot := image.Rect(r.Min.X+4, r.Min.Y+50, r.Max.X-4, r.Max.Y-16)
	if plot.Dx() < 10 || plot.Dy() < 10 {
		return
	}
	h := st.Hist
	bins := len(h.Genuine)
	dens := func(counts []int, n int) []float64 {
		out := make([]float64, bins)
		for k, c := range counts {
			if n > 0 {
				out[k] = float64(c) / float64(n)
			}
		}
		return out
	}
	g, im := dens(h.Genuine, st.Genuine.N), dens(h.Impostor, st.Impostor.N)
	top := 0.0
	for k := range bins {
		top = math.Max(top, math.Max(g[k], im[k]))
	}
	if top == 0 {
		top = 1
	}
	xOf := func(v float64) int {
		return plot.Min.X + int(math.Round((v-h.Lo)/(h.Hi-h.Lo)*float64(plot.Dx())))
	}
	for k := range bins {
		x0 := plot.Min.X + k*plot.Dx()/bins
		x1 := plot.Min.X + (k+1)*plot.Dx()/bins
		for _, cl := range []struct {
			d []float64
			c color.NRGBA
		}{{im, impostorColor}, {g, genuineColor}} {
			hgt := int(math.Round(cl.d[k] / top * float64(plot.Dy())))
			if hgt > 0 {
				c := cl.c
				c.A = 150
				blendRect(dst, image.Rect(x0, plot.Max.Y-hgt, x1, plot.Max.Y), c)
			}
		}
	}
	axis := color.NRGBA{90, 90, 90, 255}
	fillRect(dst, image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+1), axis)
	for v := -0.4; v <= 1.0+1e-9; v += 0.2 {
		x := xOf(v)
		fillRect(dst, image.Rect(x, plot.Max.Y, x+1, plot.Max.Y+3), axis)
		label := fmt.Sprintf("%.1f", v)
		if math.Abs(v) < 1e-9 {
			label = "0"
		}
		tw := textWidth(label, styleSmall)
		drawText(dst, min(max(x-tw/2, r.Min.X), r.Max.X-tw), plot.Max.Y+3, label, styleSmall, 0)
	}
	if threshold >= h.Lo && threshold <= h.Hi {
		x := xOf(threshold)
		for y := plot.Min.Y; y < plot.Max.Y; y += 6 {
			fillRect(dst, image.Rect(x, y, x+1, min(y+3, plot.Max.Y)), color.NRGBA{230, 30, 30, 255})
		}
	}
}

// RenderOptions configure RenderComparison.
type RenderOptions struct {
	Diff DiffKind
	// Cell is the size of a heatmap cell in pixels; 0 picks the largest
	// that keeps a map within 360 pixels (at least 1: full resolution).
	Cell int
	// MaxFaces caps the faces strip; 0 means 24.
	MaxFaces int
}

// Layout constants of RenderComparison.
const (
	renderMargin = 20
	renderGap    = 28
	faceTile     = 64
	histH        = 200
)

// RenderComparison draws the whole comparison: title and settings, the
// heatmaps side by side on one colour scale with identity blocks outlined
// and a legend, the score histograms and error rates when identities are
// known, a strip of faces unmasked and masked, the decision flips and the
// photos that failed.
func RenderComparison(c *Comparison, opt RenderOptions) *image.NRGBA {
	r := &comparisonRender{c: c, opt: opt}
	r.layout()
	r.dst = image.NewNRGBA(image.Rect(0, 0, r.width, r.height))
	fillRect(r.dst, r.dst.Rect, color.NRGBA{255, 255, 255, 255})
	y := r.drawHeader(renderMargin)
	y = r.drawMaps(y)
	y = r.drawLegends(y)
	y = r.drawHistograms(y)
	y = r.drawFaces(y)
	r.drawTables(y)
	return r.dst
}

// comparisonRender is the report's layout, worked out in full before
// drawing so that the image is allocated once at its final height, and the
// image the sections are drawn into, top to bottom.
type comparisonRender struct {
	c   *Comparison
	opt RenderOptions
	dst *image.NRGBA

	n, cell, side  int // photos, pixels per heatmap cell, heatmap side
	maps           []Heatmap
	panelW, labelW int // width of one heatmap panel; of the identity names
	width, height  int
	inner          int // width inside the margins

	faces     []int // rows shown in the face strip
	perLine   int   // face tiles per line
	faceLines int
	failed    []string
}

func (r *comparisonRender) layout() {
	c := r.c
	r.n = c.N()
	r.cell = r.opt.Cell
	if r.cell <= 0 {
		r.cell = max(1, (360+r.n-1)/max(r.n, 1)) // at least 360 px, whole pixels per cell
	}
	r.side = max(r.n*r.cell, 1)
	r.maps = c.Heatmaps(r.opt.Diff)
	r.panelW = max(r.side, 200)

	// Identity names left of the first map, when a block is tall enough.
	if len(c.Blocks) > 1 {
		for _, b := range c.Blocks {
			if (b.End-b.Start)*r.cell >= styleSmall.lineHeight() {
				r.labelW = max(r.labelW, min(textWidth(b.Name, styleSmall)+8, 160))
			}
		}
	}
	mapsW := r.labelW + len(r.maps)*r.panelW + (len(r.maps)-1)*renderGap
	r.width = max(2*renderMargin+mapsW, 1240)
	r.inner = r.width - 2*renderMargin

	r.faces = stripRows(c, r.opt.MaxFaces)
	r.perLine = max(1, (r.inner+8)/(faceTile+8))
	r.faceLines = (len(r.faces) + r.perLine - 1) / r.perLine
	r.failed = c.FailureLines(10)
	textLines := 4 + len(c.Stats) + len(r.failed)
	if len(c.Stats) > 0 {
		textLines++ // the table's header
	}

	height := renderMargin + styleTitle.lineHeight() + 2*styleBody.lineHeight() + 12 // header
	height += styleHeading.lineHeight() + styleSmall.lineHeight() + 4 + r.side + 12  // maps
	height += LegendHeight + 16
	if len(c.Stats) > 0 {
		height += histH + 16
	}
	if r.faceLines > 0 {
		height += styleHeading.lineHeight() + r.faceLines*(2*faceTile+styleSmall.lineHeight()+10) + 8
	}
	r.height = height + textLines*styleBody.lineHeight() + renderMargin
}

// Each draw method draws one section from y down and returns where the
// next section starts.

func (r *comparisonRender) drawHeader(y int) int {
	c, x0 := r.c, renderMargin
	drawText(r.dst, x0, y, "MaskInv comparison: "+c.Source, styleTitle, r.inner)
	y += styleTitle.lineHeight()
	drawText(r.dst, x0, y, c.Summary(), styleBody, r.inner)
	y += styleBody.lineHeight()
	drawText(r.dst, x0, y, fmt.Sprintf("Masks: %s (MaskInv protocol: drawn on the aligned 112×112 crops). Threshold %.4f: same person when cosine ≥ threshold.", c.Mask, c.Threshold), styleBody, r.inner)
	return y + styleBody.lineHeight() + 12
}

// drawMaps draws the heatmaps side by side, with the identity names left
// of the first one.
func (r *comparisonRender) drawMaps(y int) int {
	x0 := renderMargin
	x := x0 + r.labelW
	for _, h := range r.maps {
		drawText(r.dst, x, y, h.Title, styleHeading, r.panelW)
		drawText(r.dst, x, y+styleHeading.lineHeight(), h.Caption, styleSmall, r.panelW)
		rect := image.Rect(x, 0, x+r.side, r.side).Add(image.Pt(0, y+styleHeading.lineHeight()+styleSmall.lineHeight()+4))
		DrawHeatmap(r.dst, rect, h)
		x += r.panelW + renderGap
	}
	top := y + styleHeading.lineHeight() + styleSmall.lineHeight() + 4
	if r.labelW > 0 {
		for _, b := range r.c.Blocks {
			if (b.End-b.Start)*r.cell < styleSmall.lineHeight() {
				continue
			}
			my := top + (b.Start+b.End)*r.cell/2 - styleSmall.lineHeight()/2
			tw := textWidth(b.Name, styleSmall)
			drawText(r.dst, x0+max(0, r.labelW-8-tw), my, b.Name, styleSmall, r.labelW-8)
		}
	}
	return top + r.side + 12
}

func (r *comparisonRender) drawLegends(y int) int {
	x0, panelW := renderMargin, r.panelW
	lw := min(r.inner-r.labelW, 3*panelW+2*renderGap)
	if r.opt.Diff != DiffNone {
		lw = min(lw, 2*panelW+renderGap)
	}
	DrawLegend(r.dst, image.Rect(x0+r.labelW, y, x0+r.labelW+lw, y+LegendHeight), SimilarityScale(), "cosine similarity", r.c.Threshold, nil)
	if r.opt.Diff != DiffNone {
		dx := x0 + r.labelW + 3*(panelW+renderGap)
		DrawLegend(r.dst, image.Rect(dx, y, dx+panelW, y+LegendHeight), DifferenceScale(), "masked − unmasked", math.NaN(), nil)
	}
	return y + LegendHeight + 16
}

// drawHistograms draws one histogram per statistics row, as many as fit.
func (r *comparisonRender) drawHistograms(y int) int {
	c := r.c
	if len(c.Stats) == 0 {
		return y
	}
	hw := max(r.panelW, 240)
	for k := range c.Stats {
		hx := renderMargin + r.labelW + k*(hw+renderGap)
		if hx+hw > r.width-renderMargin {
			break
		}
		DrawHistogram(r.dst, image.Rect(hx, y, hx+hw, y+histH), &c.Stats[k], c.Threshold)
	}
	return y + histH + 16
}

// drawFaces draws the face strip: each aligned crop above its masked copy.
func (r *comparisonRender) drawFaces(y int) int {
	if len(r.faces) == 0 {
		return y
	}
	x0 := renderMargin
	drawText(r.dst, x0, y, "Faces: aligned crop, and below it the same crop masked", styleHeading, r.inner)
	y += styleHeading.lineHeight()
	for k, row := range r.faces {
		p := r.c.Row(row)
		fx := x0 + (k%r.perLine)*(faceTile+8)
		fy := y + (k/r.perLine)*(2*faceTile+styleSmall.lineHeight()+10)
		drawScaled(r.dst, image.Rect(fx, fy, fx+faceTile, fy+faceTile), p.Aligned)
		drawScaled(r.dst, image.Rect(fx, fy+faceTile+2, fx+faceTile, fy+2*faceTile+2), p.Masked)
		drawTextTail(r.dst, fx, fy+2*faceTile+4, p.Name(), textStyle{9, false, color.NRGBA{60, 60, 60, 255}}, faceTile+6)
	}
	return y + r.faceLines*(2*faceTile+styleSmall.lineHeight()+10) + 8
}

// drawTables draws the statistics table (or why there is none), the flips
// and the failures.
func (r *comparisonRender) drawTables(y int) {
	c, x0, inner := r.c, renderMargin, r.inner
	if len(c.Stats) > 0 {
		widths := []int{170, 200, 210, 80, 80, 80, 90, 80}
		for row, cells := range c.StatsTable() {
			st := styleBody
			if row == 0 {
				st.bold = true
			}
			cx := x0
			for k, cell := range cells {
				drawText(r.dst, cx, y, cell, st, widths[k]-8)
				cx += widths[k]
			}
			y += styleBody.lineHeight()
		}
	} else {
		why := "Identities unknown (no subfolders per person, no Name_NNNN file names): no genuine/impostor statistics."
		if c.StatsErr != nil {
			why = "No statistics: " + c.StatsErr.Error()
		}
		drawText(r.dst, x0, y, why, styleBody, inner)
		y += styleBody.lineHeight()
	}
	drawText(r.dst, x0, y, c.FlipLine(), styleBody, inner)
	y += styleBody.lineHeight()
	if len(r.failed) == 0 {
		drawText(r.dst, x0, y, "Every photo was analysed.", styleBody, inner)
		return
	}
	drawText(r.dst, x0, y, fmt.Sprintf("%d photos failed:", len(c.Photos)-r.n), styleBody, inner)
	for _, line := range r.failed {
		y += styleBody.lineHeight()
		drawText(r.dst, x0+12, y, line, styleBody, inner-12)
	}
}

// Summary is "folder: 12 photos, 12 analysed, 0 failed; 4 identities".
func (c *Comparison) Summary() string {
	ids := "identities unknown"
	if c.Known {
		ids = fmt.Sprintf("%d identities", len(c.Blocks))
	}
	return fmt.Sprintf("%d photos: %d analysed, %d failed; %s.", len(c.Photos), c.N(), len(c.Photos)-c.N(), ids)
}

// StatsTable is the statistics as a table: a header row, then one row per
// setting (rates in percent, t the threshold, flips against the unmasked
// decisions).
func (c *Comparison) StatsTable() [][]string {
	rows := [][]string{{"Setting", "Genuine mean ± SD (n)", "Impostor mean ± SD (n)", "EER", "FMR100", "FMR at t", "FNMR at t", "Flips"}}
	for _, st := range c.Stats {
		flips := ""
		if st.Setting != SettingUU {
			flips = fmt.Sprint(c.FlipCount[st.Setting])
		}
		rows = append(rows, []string{st.Setting.String(),
			fmt.Sprintf("%.3f ± %.3f (%d)", st.Genuine.Mean, st.Genuine.Std, st.Genuine.N),
			fmt.Sprintf("%.3f ± %.3f (%d)", st.Impostor.Mean, st.Impostor.Std, st.Impostor.N),
			fmt.Sprintf("%.2f%%", 100*st.EER), fmt.Sprintf("%.2f%%", 100*st.FMR100),
			fmt.Sprintf("%.2f%%", 100*st.FMR), fmt.Sprintf("%.2f%%", 100*st.FNMR), flips})
	}
	return rows
}

// Line is one line of statistics for st.
func (st SettingStats) Line() string {
	return fmt.Sprintf("%s: genuine %.3f ± %.3f (%d pairs), impostor %.3f ± %.3f (%d pairs); EER %.2f%%, FMR100 %.2f%%; at the threshold FMR %.2f%%, FNMR %.2f%%",
		st.Setting, st.Genuine.Mean, st.Genuine.Std, st.Genuine.N, st.Impostor.Mean, st.Impostor.Std, st.Impostor.N,
		100*st.EER, 100*st.FMR100, 100*st.FMR, 100*st.FNMR)
}

// FlipLine counts the decision flips, e.g. "Decisions flipped by masks at
// the threshold: unmasked vs masked 5 of 132 pairs, masked vs masked 2 of 66."
func (c *Comparison) FlipLine() string {
	n := c.N()
	return fmt.Sprintf("Decisions flipped by masks at the threshold: %s %d of %d pairs, %s %d of %d pairs.",
		SettingUM, c.FlipCount[SettingUM], n*(n-1), SettingMM, c.FlipCount[SettingMM], n*(n-1)/2)
}

// stripRows picks the rows of the faces strip: the first photo of each
// identity, then the others in order, at most max (0: 24), sorted.
func stripRows(c *Comparison, limit int) []int {
	if limit <= 0 {
		limit = 24
	}
	n := c.N()
	if n <= limit {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	picked := make([]bool, n)
	var out []int
	for _, b := range c.Blocks {
		if len(out) == limit {
			break
		}
		out = append(out, b.Start)
		picked[b.Start] = true
	}
	for i := 0; i < n && len(out) < limit; i++ {
		if !picked[i] {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// drawScaled draws src scaled to fill r.
func drawScaled(dst *image.NRGBA, r image.Rectangle, src image.Image) {
	if src == nil {
		fillRect(dst, r, color.NRGBA{200, 200, 200, 255})
		return
	}
	s := imaging.Resize(src, r.Dx(), r.Dy(), imaging.Linear)
	draw.Draw(dst, r, s, image.Point{}, draw.Src)
}

// WritePNG renders the comparison and writes it to path atomically. It
// writes nothing, and fails with ErrNoFaces, when no photo has a face.
func (c *Comparison) WritePNG(path string, opt RenderOptions) error {
	if err := c.checkRows(c.Source); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return imageio.WritePNG(path, RenderComparison(c, opt))
}
