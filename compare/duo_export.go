package compare

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/render"
)

// ChangeHeatmaps are the three per-pair change maps, second − first, on
// the diverging difference scale (red where the second model scores
// lower).
func (d *Duo) ChangeHeatmaps() []render.Heatmap {
	l := d.Labels()
	var out []render.Heatmap
	for _, s := range Settings() {
		out = append(out, render.Heatmap{
			Title:   "change: " + s.String(),
			Caption: fmt.Sprintf("%s − %s; red: %s lower", l[1], l[0], l[1]),
			Scores:  d.Change(s), Blocks: d.Models[0].Blocks, Scale: render.DifferenceScale(),
		})
	}
	return out
}

// ModelLine describes model k for headers: "model 2, student:
// student.onnx, sha256 1a2b3c4d5e6f…, threshold 0.3100".
func (d *Duo) ModelLine(k int) string {
	c := d.Models[k]
	s := fmt.Sprintf("model %d, %s", k+1, d.Labels()[k])
	if c.Model.Name != "" && c.Model.Name != d.Labels()[k] {
		s += ": " + c.Model.Name
	}
	if h := c.Model.SHA256; len(h) >= 12 {
		s += ", sha256 " + h[:12] + "…"
	}
	return s + fmt.Sprintf(", threshold %.4f", c.Threshold)
}

// Summary is the photos' summary (the same for both models).
func (d *Duo) Summary() string { return d.Models[0].Summary() }

// FlipLines count each model's decision flips (Comparison.FlipLine, named
// by model) and which model's decisions masks flip.
func (d *Duo) FlipLines() []string {
	l := d.Labels()
	out := []string{l[0] + ": " + d.Models[0].FlipLine(), l[1] + ": " + d.Models[1].FlipLine()}
	sp := d.FlipSplits()
	var parts []string
	for _, s := range []Setting{SettingUM, SettingMM} {
		parts = append(parts, fmt.Sprintf("%s: %s only %d, %s only %d, both %d", s, l[0], sp[s].First, l[1], sp[s].Second, sp[s].Both))
	}
	return append(out, "Pairs whose decision masks flip, by model: "+strings.Join(parts, "; ")+".")
}

// StatsTable is both models' statistics (Comparison.StatsTable) with the
// model's label in a first column.
func (d *Duo) StatsTable() [][]string {
	var rows [][]string
	for k, c := range d.Models {
		t := c.StatsTable()
		if k == 0 {
			rows = append(rows, append([]string{"Model"}, t[0]...))
		}
		for _, r := range t[1:] {
			rows = append(rows, append([]string{d.Labels()[k]}, r...))
		}
	}
	return rows
}

// Render draws the two-model comparison: title, settings and both models;
// each model's three heatmaps on the one similarity scale with its own
// threshold on its legend; the three change maps (second − first) on the
// difference scale; each model's score histograms when identities are
// known; the faces; the statistics of both models, the flips of each and
// the split between them, and the photos that failed. opt.Diff is not
// used: the change maps take the difference map's place.
func (d *Duo) Render(opt RenderOptions) *image.NRGBA {
	if opt.Fonts == nil {
		opt.Fonts = render.NewFonts()
	}
	opt.Diff = DiffNone
	l := d.Labels()
	var parts [3]*comparisonRender // the models' maps, then the change maps
	for k := range parts {
		r := &comparisonRender{c: d.Models[min(k, 1)], opt: opt, fonts: opt.Fonts}
		r.layout()
		switch k {
		case 2:
			r.maps = d.ChangeHeatmaps()
		default:
			r.model = l[k]
			for m := range r.maps {
				r.maps[m].Title = l[k] + ": " + r.maps[m].Title
			}
		}
		parts[k] = r
	}
	dr := &duoRender{d: d, parts: parts, first: parts[0]}
	dr.layout()
	dst := image.NewNRGBA(image.Rect(0, 0, dr.first.width, dr.height))
	render.FillRect(dst, dst.Rect, color.NRGBA{255, 255, 255, 255})
	for _, p := range parts {
		p.dst = dst
	}
	y := dr.drawHeader(renderMargin)
	for k, p := range parts {
		y = p.drawMaps(y)
		if k < 2 {
			y = p.drawLegends(y)
			continue
		}
		x := renderMargin + p.labelW
		render.DrawLegend(dst, image.Rect(x, y, x+min(p.inner-p.labelW, 2*p.panelW+renderGap), y+render.LegendHeight), p.fonts,
			render.DifferenceScale(), fmt.Sprintf("change of cosine similarity, %s − %s", l[1], l[0]), math.NaN(), nil)
		y += render.LegendHeight + 16
	}
	for _, p := range parts[:2] {
		y = p.drawHistograms(y)
	}
	y = dr.first.drawFaces(y)
	dr.drawTables(y)
	return dst
}

// duoRender lays out what a Duo's picture adds to the sections of
// comparisonRender: the header naming both models, and the tables.
type duoRender struct {
	d      *Duo
	parts  [3]*comparisonRender
	first  *comparisonRender
	height int
}

func (dr *duoRender) textLines() int {
	n := len(dr.d.FlipLines()) + 1 + len(dr.first.failed) // flips, "every photo…" or "N failed:"
	for _, c := range dr.d.Models {
		if len(c.Stats) == 0 {
			n++ // why there are none
		}
	}
	if t := dr.d.StatsTable(); len(t) > 1 {
		n += len(t)
	}
	return n
}

func (dr *duoRender) layout() {
	f, body := dr.first, render.StyleBody.LineHeight()
	h := renderMargin + render.StyleTitle.LineHeight() + 4*body + 12 // header
	h += 3 * (render.StyleHeading.LineHeight() + render.StyleSmall.LineHeight() + 4 + f.side + 12 + render.LegendHeight + 16)
	for _, c := range dr.d.Models {
		if len(c.Stats) > 0 {
			h += histH + 16
		}
	}
	if f.faceLines > 0 {
		h += render.StyleHeading.LineHeight() + f.faceLines*(2*faceTile+render.StyleSmall.LineHeight()+10) + 8
	}
	dr.height = h + dr.textLines()*body + renderMargin
}

func (dr *duoRender) drawHeader(y int) int {
	f, d, x0 := dr.first, dr.d, renderMargin
	f.fonts.Draw(f.dst, x0, y, "MaskInv comparison of two models: "+d.Models[0].Source, render.StyleTitle, f.inner)
	y += render.StyleTitle.LineHeight()
	lines := []string{
		d.Summary(),
		fmt.Sprintf("Masks: %s (MaskInv protocol: drawn on the aligned 112×112 crops, the same for both models). Each model decides at its own threshold: same person when cosine ≥ threshold.", d.Models[0].Mask),
		d.ModelLine(0), d.ModelLine(1),
	}
	for _, s := range lines {
		f.fonts.Draw(f.dst, x0, y, s, render.StyleBody, f.inner)
		y += render.StyleBody.LineHeight()
	}
	return y + 12
}

// drawTables draws both models' statistics (or why there are none), the
// flips and the failures.
func (dr *duoRender) drawTables(y int) {
	f, d, x0 := dr.first, dr.d, renderMargin
	line := func(s string, st render.TextStyle, indent int) {
		f.fonts.Draw(f.dst, x0+indent, y, s, st, f.inner-indent)
		y += render.StyleBody.LineHeight()
	}
	if t := d.StatsTable(); len(t) > 1 {
		widths := []int{110, 160, 190, 200, 76, 76, 76, 86, 60}
		for row, cells := range t {
			st := render.StyleBody
			st.Bold = row == 0
			cx := x0
			for k, cell := range cells {
				f.fonts.Draw(f.dst, cx, y, cell, st, widths[k]-8)
				cx += widths[k]
			}
			y += render.StyleBody.LineHeight()
		}
	}
	for k, c := range d.Models {
		if len(c.Stats) > 0 {
			continue
		}
		why := "identities unknown (no subfolders per person, no Name_NNNN file names): no genuine/impostor statistics."
		if c.StatsErr != nil {
			why = "no statistics: " + c.StatsErr.Error()
		}
		line(d.Labels()[k]+": "+why, render.StyleBody, 0)
	}
	for _, s := range d.FlipLines() {
		line(s, render.StyleBody, 0)
	}
	if len(f.failed) == 0 {
		line("Every photo was analysed.", render.StyleBody, 0)
		return
	}
	line(fmt.Sprintf("%d photos failed:", len(d.Models[0].Photos)-f.n), render.StyleBody, 0)
	for _, s := range f.failed {
		line(s, render.StyleBody, 12)
	}
}

// WritePNG renders the duo and writes it to path atomically. It writes
// nothing, and fails with ErrNoFaces, when no photo has a face.
func (d *Duo) WritePNG(path string, opt RenderOptions) error {
	if err := d.Models[0].CheckRows(d.Models[0].Source); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return imageio.WritePNG(path, d.Render(opt))
}

// notTagChar is what a label loses in a CSV column name.
var notTagChar = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ColumnTags are the prefixes of each model's CSV columns: its label,
// reduced to letters, digits, '.', '-' and '_', and distinct ("model1",
// "model2" when nothing is left or they are equal).
func (d *Duo) ColumnTags() [2]string {
	var out [2]string
	for k, c := range d.Models {
		l := c.Model.Label
		if l == "" {
			l = c.Model.Name
		}
		out[k] = strings.Trim(notTagChar.ReplaceAllString(l, "_"), "_")
		if out[k] == "" {
			out[k] = fmt.Sprintf("model%d", k+1)
		}
	}
	if out[0] == out[1] {
		out[0], out[1] = out[0]+"_1", out[1]+"_2"
	}
	return out
}

// duoScoreColumns name a model's columns after its tag, in this order.
var duoScoreColumns = [...]string{"unmasked", "unmasked_masked", "masked_unmasked", "masked"}

// WriteCSV writes one line per pair of rows i < j: the two photos and
// their identities as Comparison.WriteCSV does; then, for each model, its
// four scores, its threshold and the settings under which masks flip its
// decision, in columns named after the model (TAG_unmasked, …,
// TAG_threshold, TAG_flipped, with ColumnTags); then the change of each
// score, second − first (change_unmasked, …).
func (d *Duo) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	head := []string{"photo_a", "photo_b", "identity_a", "identity_b", "same_identity"}
	for _, tag := range d.ColumnTags() {
		for _, c := range duoScoreColumns {
			head = append(head, tag+"_"+c)
		}
		head = append(head, tag+"_threshold", tag+"_flipped")
	}
	for _, c := range duoScoreColumns {
		head = append(head, "change_"+c)
	}
	bw.WriteString(strings.Join(head, ",") + "\n")
	first := d.Models[0]
	var line []byte
	for i := range d.N() {
		a := first.Row(i)
		for j := i + 1; j < d.N(); j++ {
			b := first.Row(j)
			line = line[:0]
			for _, f := range []string{a.Key, b.Key, a.Identity, b.Identity} {
				line = append(appendCSVField(line, f), ',')
			}
			switch {
			case !first.Known:
			case a.Identity == b.Identity:
				line = append(line, "yes"...)
			default:
				line = append(line, "no"...)
			}
			var scores [2][4]float64
			for k, c := range d.Models {
				scores[k] = [4]float64{c.Scores[SettingUU].At(i, j), c.Scores[SettingUM].At(i, j), c.Scores[SettingUM].At(j, i), c.Scores[SettingMM].At(i, j)}
				line = appendModelColumns(line, scores[k], c.Threshold)
			}
			for k := range scores[0] {
				line = append(line, ',')
				line = strconv.AppendFloat(line, float64(float32(scores[1][k])-float32(scores[0][k])), 'f', 5, 32)
			}
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// appendModelColumns appends one model's four scores, its threshold and
// its flips, each after a comma.
func appendModelColumns(line []byte, scores [4]float64, t float64) []byte {
	base := scores[0] >= t
	var flipped []string
	for k, v := range scores {
		line = append(line, ',')
		line = strconv.AppendFloat(line, v, 'f', 5, 32)
		if (v >= t) != base {
			flipped = append(flipped, duoScoreColumns[k])
		}
	}
	line = append(line, ',')
	line = strconv.AppendFloat(line, t, 'f', -1, 64)
	line = append(line, ',')
	return append(line, strings.Join(flipped, " ")...)
}

// WriteCSVFile writes WriteCSV's output to path atomically. It writes
// nothing, and fails with ErrNoFaces, when no photo has a face.
func (d *Duo) WriteCSVFile(path string) error {
	if err := d.Models[0].CheckRows(d.Models[0].Source); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return imageio.WriteAtomic(path, d.WriteCSV)
}
