package compare

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/render"
)

// Heatmaps returns the three similarity maps and, unless diff is DiffNone,
// the difference map.
func (c *Comparison) Heatmaps(diff DiffKind) []render.Heatmap {
	caps := [NumSettings]string{"rows and columns unmasked", "rows unmasked, columns masked", "rows and columns masked"}
	var out []render.Heatmap
	for _, s := range Settings() {
		out = append(out, render.Heatmap{Title: s.String(), Caption: caps[s], Scores: c.Scores[s], Blocks: c.Blocks, Scale: render.SimilarityScale()})
	}
	if diff != DiffNone {
		out = append(out, render.Heatmap{Title: diff.Title(), Caption: "red: masks lower the score",
			Scores: c.Difference(diff), Blocks: c.Blocks, Scale: render.DifferenceScale()})
	}
	return out
}

// RenderOptions configure Render.
type RenderOptions struct {
	Diff DiffKind
	// Cell is the size of a heatmap cell in pixels; 0 picks the largest
	// that keeps a map within 360 pixels (at least 1: full resolution).
	Cell int
	// MaxFaces caps the faces strip; 0 means 24.
	MaxFaces int
	// Fonts write the text; nil: fonts of the render's own.
	Fonts *render.Fonts
}

// Layout constants of Render.
const (
	renderMargin = 20
	renderGap    = 28
	faceTile     = 64
	histH        = 200
)

// Render draws the whole comparison: title and settings, the
// heatmaps side by side on one colour scale with identity blocks outlined
// and a legend, the score histograms and error rates when identities are
// known, a strip of faces unmasked and masked, the decision flips and the
// photos that failed.
func (c *Comparison) Render(opt RenderOptions) *image.NRGBA {
	if opt.Fonts == nil {
		opt.Fonts = render.NewFonts()
	}
	r := &comparisonRender{c: c, opt: opt, fonts: opt.Fonts}
	r.layout()
	r.dst = image.NewNRGBA(image.Rect(0, 0, r.width, r.height))
	render.FillRect(r.dst, r.dst.Rect, color.NRGBA{255, 255, 255, 255})
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
	c     *Comparison
	opt   RenderOptions
	fonts *render.Fonts
	dst   *image.NRGBA

	n, cell, side  int // photos, pixels per heatmap cell, heatmap side
	maps           []render.Heatmap
	panelW, labelW int // width of one heatmap panel; of the identity names
	width, height  int
	inner          int // width inside the margins

	faces     []int // rows shown in the face strip
	perLine   int   // face tiles per line
	faceLines int
	failed    []string

	// model labels the legend and the histograms with the model's name,
	// in a Duo's picture ("" in a one-model one).
	model string
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
			if (b.End-b.Start)*r.cell >= render.StyleSmall.LineHeight() {
				r.labelW = max(r.labelW, min(r.fonts.Width(b.Name, render.StyleSmall)+8, 160))
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

	height := renderMargin + render.StyleTitle.LineHeight() + 2*render.StyleBody.LineHeight() + 12 // header
	height += render.StyleHeading.LineHeight() + render.StyleSmall.LineHeight() + 4 + r.side + 12  // maps
	height += render.LegendHeight + 16
	if len(c.Stats) > 0 {
		height += histH + 16
	}
	if r.faceLines > 0 {
		height += render.StyleHeading.LineHeight() + r.faceLines*(2*faceTile+render.StyleSmall.LineHeight()+10) + 8
	}
	r.height = height + textLines*render.StyleBody.LineHeight() + renderMargin
}

// Each draw method draws one section from y down and returns where the
// next section starts.

func (r *comparisonRender) drawHeader(y int) int {
	c, x0 := r.c, renderMargin
	r.fonts.Draw(r.dst, x0, y, "MaskInv comparison: "+c.Source, render.StyleTitle, r.inner)
	y += render.StyleTitle.LineHeight()
	r.fonts.Draw(r.dst, x0, y, c.Summary(), render.StyleBody, r.inner)
	y += render.StyleBody.LineHeight()
	r.fonts.Draw(r.dst, x0, y, fmt.Sprintf("Masks: %s (MaskInv protocol: drawn on the aligned 112×112 crops). Threshold %.4f: same person when cosine ≥ threshold.", c.Mask, c.Threshold), render.StyleBody, r.inner)
	return y + render.StyleBody.LineHeight() + 12
}

// drawMaps draws the heatmaps side by side, with the identity names left
// of the first one.
func (r *comparisonRender) drawMaps(y int) int {
	x0 := renderMargin
	x := x0 + r.labelW
	for _, h := range r.maps {
		r.fonts.Draw(r.dst, x, y, h.Title, render.StyleHeading, r.panelW)
		r.fonts.Draw(r.dst, x, y+render.StyleHeading.LineHeight(), h.Caption, render.StyleSmall, r.panelW)
		rect := image.Rect(x, 0, x+r.side, r.side).Add(image.Pt(0, y+render.StyleHeading.LineHeight()+render.StyleSmall.LineHeight()+4))
		render.DrawHeatmap(r.dst, rect, h)
		x += r.panelW + renderGap
	}
	top := y + render.StyleHeading.LineHeight() + render.StyleSmall.LineHeight() + 4
	if r.labelW > 0 {
		for _, b := range r.c.Blocks {
			if (b.End-b.Start)*r.cell < render.StyleSmall.LineHeight() {
				continue
			}
			my := top + (b.Start+b.End)*r.cell/2 - render.StyleSmall.LineHeight()/2
			tw := r.fonts.Width(b.Name, render.StyleSmall)
			r.fonts.Draw(r.dst, x0+max(0, r.labelW-8-tw), my, b.Name, render.StyleSmall, r.labelW-8)
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
	title := "cosine similarity"
	if r.model != "" {
		title += ", " + r.model
	}
	render.DrawLegend(r.dst, image.Rect(x0+r.labelW, y, x0+r.labelW+lw, y+render.LegendHeight), r.fonts, render.SimilarityScale(), title, r.c.Threshold, nil)
	if r.opt.Diff != DiffNone {
		dx := x0 + r.labelW + 3*(panelW+renderGap)
		render.DrawLegend(r.dst, image.Rect(dx, y, dx+panelW, y+render.LegendHeight), r.fonts, render.DifferenceScale(), "masked − unmasked", math.NaN(), nil)
	}
	return y + render.LegendHeight + 16
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
		h := c.Stats[k].Histogram()
		if r.model != "" {
			h.Title = r.model + ": " + h.Title
		}
		render.DrawHistogram(r.dst, image.Rect(hx, y, hx+hw, y+histH), r.fonts, h, c.Threshold)
	}
	return y + histH + 16
}

// drawFaces draws the face strip: each aligned crop above its masked copy.
func (r *comparisonRender) drawFaces(y int) int {
	if len(r.faces) == 0 {
		return y
	}
	x0 := renderMargin
	r.fonts.Draw(r.dst, x0, y, "Faces: aligned crop, and below it the same crop masked", render.StyleHeading, r.inner)
	y += render.StyleHeading.LineHeight()
	for k, row := range r.faces {
		p := r.c.Row(row)
		fx := x0 + (k%r.perLine)*(faceTile+8)
		fy := y + (k/r.perLine)*(2*faceTile+render.StyleSmall.LineHeight()+10)
		render.DrawScaled(r.dst, image.Rect(fx, fy, fx+faceTile, fy+faceTile), p.Aligned)
		render.DrawScaled(r.dst, image.Rect(fx, fy+faceTile+2, fx+faceTile, fy+2*faceTile+2), p.Masked)
		r.fonts.DrawTail(r.dst, fx, fy+2*faceTile+4, p.Name(), render.TextStyle{Size: 9, Color: color.NRGBA{60, 60, 60, 255}}, faceTile+6)
	}
	return y + r.faceLines*(2*faceTile+render.StyleSmall.LineHeight()+10) + 8
}

// drawTables draws the statistics table (or why there is none), the flips
// and the failures.
func (r *comparisonRender) drawTables(y int) {
	c, x0, inner := r.c, renderMargin, r.inner
	if len(c.Stats) > 0 {
		widths := []int{170, 200, 210, 80, 80, 80, 90, 80}
		for row, cells := range c.StatsTable() {
			st := render.StyleBody
			if row == 0 {
				st.Bold = true
			}
			cx := x0
			for k, cell := range cells {
				r.fonts.Draw(r.dst, cx, y, cell, st, widths[k]-8)
				cx += widths[k]
			}
			y += render.StyleBody.LineHeight()
		}
	} else {
		why := "Identities unknown (no subfolders per person, no Name_NNNN file names): no genuine/impostor statistics."
		if c.StatsErr != nil {
			why = "No statistics: " + c.StatsErr.Error()
		}
		r.fonts.Draw(r.dst, x0, y, why, render.StyleBody, inner)
		y += render.StyleBody.LineHeight()
	}
	r.fonts.Draw(r.dst, x0, y, c.FlipLine(), render.StyleBody, inner)
	y += render.StyleBody.LineHeight()
	if len(r.failed) == 0 {
		r.fonts.Draw(r.dst, x0, y, "Every photo was analysed.", render.StyleBody, inner)
		return
	}
	r.fonts.Draw(r.dst, x0, y, fmt.Sprintf("%d photos failed:", len(c.Photos)-r.n), render.StyleBody, inner)
	for _, line := range r.failed {
		y += render.StyleBody.LineHeight()
		r.fonts.Draw(r.dst, x0+12, y, line, render.StyleBody, inner-12)
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

// WritePNG renders the comparison and writes it to path atomically. It
// writes nothing, and fails with ErrNoFaces, when no photo has a face.
func (c *Comparison) WritePNG(path string, opt RenderOptions) error {
	if err := c.CheckRows(c.Source); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return imageio.WritePNG(path, c.Render(opt))
}
