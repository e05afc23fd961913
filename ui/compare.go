package ui

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/render"
)

// diffChoices are the difference-map options, in compare.DiffKind order.
var diffChoices = []string{"No difference map", "Difference: (unmasked vs masked) − unmasked", "Difference: (masked vs masked) − unmasked"}

// showKind is what the Compare screen shows of two models.
type showKind int

const (
	showBoth   showKind = iota // model A's maps above model B's
	showA                      // model A's alone
	showB                      // model B's alone
	showChange                 // the per-pair change, B − A
)

// showChoices are the options of the show picker, in showKind order.
func showChoices(la, lb string) []string {
	return []string{la + " and " + lb, la + " only", lb + " only", "change: " + lb + " − " + la}
}

// compareScreen shows the three heatmaps side by side on one colour scale,
// an optional difference map, the legend and the export buttons; with two
// models, each model's maps (at its own threshold) and the change between
// them, switched from the comparisons held (no embedding).
func compareScreen(wb *Workbench) fyne.CanvasObject {
	hoverInfo := widget.NewLabel("Hover a cell for its pair and score; click it to inspect the pair.")
	hoverInfo.Truncation = fyne.TextTruncateEllipsis
	v := &compareView{wb: wb, summary: widget.NewLabel("Analysing the demo folder…")}
	v.summary.Truncation = fyne.TextTruncateEllipsis
	wb.compareView = v

	v.panels = make([]*heatmapPanel, 8) // two rows of three settings and a difference map
	for k := range v.panels {
		v.panels[k] = newHeatmapPanel(wb, hoverInfo)
	}
	wb.heatmaps = nil
	for _, p := range v.panels {
		wb.heatmaps = append(wb.heatmaps, p.map_)
	}
	v.grid = container.NewGridWithColumns(3, v.panels[0].box, v.panels[1].box, v.panels[2].box)

	fg := func() color.Color { return theme.Color(theme.ColorNameForeground) }
	for k := range v.legends {
		v.legends[k] = imageView(fyne.NewSize(320, render.LegendHeight), func(dst *image.NRGBA) {
			c, title := v.legendModel(k)
			if c == nil {
				return
			}
			render.DrawLegend(dst, dst.Rect, wb.fonts, render.SimilarityScale(), title, wb.shownThreshold(c), fg())
		})
	}
	v.legends[1].Hide()
	v.diffLegend = imageView(fyne.NewSize(220, render.LegendHeight), func(dst *image.NRGBA) {
		title := "masked − unmasked"
		if v.changeShown {
			l := wb.duo.Labels()
			title = fmt.Sprintf("change, %s − %s", l[1], l[0])
		}
		render.DrawLegend(dst, dst.Rect, wb.fonts, render.DifferenceScale(), title, math.NaN(), fg())
	})
	v.diffLegend.Hide()

	diffSel := widget.NewSelect(diffChoices, nil)
	diffSel.SetSelectedIndex(int(wb.diff))
	diffSel.OnChanged = func(string) {
		wb.diff = compare.DiffKind(diffSel.SelectedIndex())
		v.refresh()
	}
	v.show = widget.NewSelect(showChoices("model A", "model B"), nil)
	v.show.SetSelectedIndex(int(showBoth))
	v.show.OnChanged = func(string) { v.refresh() }
	v.show.Disable()
	wb.onChange(v.refresh)

	open := widget.NewButton("Open folder…", wb.onOpenFolder)
	diffBox := container.NewGridWrap(fyne.NewSize(360, diffSel.MinSize().Height), diffSel)
	bar := container.NewHBox(open, diffBox, wb.exportPNGButton, wb.exportCSVButton)
	pick := func(label string, o fyne.CanvasObject, w float32) fyne.CanvasObject {
		return container.NewHBox(widget.NewLabel(label), container.NewGridWrap(fyne.NewSize(w, diffSel.MinSize().Height), o))
	}
	// The model row shows once there is a model to pick besides the
	// teacher (the Models screen adds them).
	models := container.NewHBox(pick("Model A", wb.modelPicker(slotA), 230), pick("B", wb.modelPicker(slotB), 230), pick("Show", v.show, 250))
	models.Hide()
	v.modelRow = models
	v.legendRow = container.NewGridWithColumns(1, v.legends[0], v.legends[1])
	legends := container.NewBorder(nil, nil, nil, v.diffLegend, v.legendRow)
	bottom := container.NewVBox(legends, hoverInfo)
	page := container.NewBorder(container.NewVBox(bar, models, v.summary), bottom, nil, nil, v.grid)
	wb.onModels(func() {
		if len(wb.models.list) > 1 {
			models.Show()
		} else {
			models.Hide()
		}
		page.Refresh()
	})
	return page
}

// compareView holds the widgets of the compare screen that change with the
// comparison, the models shown and the difference map chosen.
type compareView struct {
	wb         *Workbench
	summary    *widget.Label
	panels     []*heatmapPanel
	grid       *fyne.Container
	show       *widget.Select
	legends    [2]*canvas.Raster // similarity scale with each shown model's threshold
	diffLegend *canvas.Raster
	legendRow  *fyne.Container // the similarity legends
	modelRow   *fyne.Container // the model pickers

	shown       []*compare.Comparison // the comparison of each row of maps shown (nil: the change row)
	changeShown bool
}

// legendModel is the comparison whose threshold legend k marks, and the
// legend's title.
func (v *compareView) legendModel(k int) (*compare.Comparison, string) {
	var cs []*compare.Comparison
	for _, c := range v.shown {
		if c != nil {
			cs = append(cs, c)
		}
	}
	if k >= len(cs) {
		return nil, ""
	}
	title := "cosine similarity"
	if v.wb.duo != nil {
		title += ", " + cs[k].Model.Label
	}
	return cs[k], title
}

// heatmapPanel is one titled heatmap. What it shows (and its tooltips)
// is set by the view's refresh.
type heatmapPanel struct {
	title *widget.Label
	map_  *heatmap
	box   *fyne.Container
	tip   func(i, j int) string
}

// newHeatmapPanel makes a panel; hovering a cell tells its pair and score
// in hoverInfo, clicking it opens the pair.
func newHeatmapPanel(wb *Workbench, hoverInfo *widget.Label) *heatmapPanel {
	p := &heatmapPanel{title: widget.NewLabel("")}
	p.title.TextStyle.Bold = true
	p.title.Truncation = fyne.TextTruncateEllipsis
	p.map_ = newHeatmap(func(i, j int) string {
		if p.tip == nil {
			return ""
		}
		return p.tip(i, j)
	}, func(i, j int) { wb.showPair(i, j) })
	p.map_.onHover = func(text string) {
		if text != "" {
			hoverInfo.SetText(text)
		}
	}
	p.box = container.NewBorder(p.title, nil, nil, nil, p.map_)
	return p
}

// mapRow is one row of heatmaps: a model's, or the change between two.
type mapRow struct {
	c    *compare.Comparison // nil for the change row
	maps []render.Heatmap
	tips []func(i, j int) string
}

// rows are the rows of maps to show.
func (v *compareView) rows() []mapRow {
	wb := v.wb
	model := func(c *compare.Comparison, prefix bool) mapRow {
		r := mapRow{c: c, maps: c.Heatmaps(wb.diff)}
		for k := range r.maps {
			if prefix {
				r.maps[k].Title = c.Model.Label + ": " + r.maps[k].Title
			}
			s, diff := compare.Setting(min(k, 2)), compare.DiffNone
			if k == 3 {
				diff = wb.diff
			}
			r.tips = append(r.tips, func(i, j int) string { return c.CellText(s, diff, i, j) })
		}
		return r
	}
	d := wb.duo
	if d == nil {
		return []mapRow{model(wb.cmp, false)}
	}
	switch showKind(v.show.SelectedIndex()) {
	case showA:
		return []mapRow{model(d.Models[0], true)}
	case showB:
		return []mapRow{model(d.Models[1], true)}
	case showChange:
		r := mapRow{maps: d.ChangeHeatmaps()}
		for _, s := range compare.Settings() {
			r.tips = append(r.tips, func(i, j int) string { return d.ChangeText(s, i, j) })
		}
		return []mapRow{r}
	}
	return []mapRow{model(d.Models[0], true), model(d.Models[1], true)}
}

// refresh shows the current comparisons: one row of maps per model shown
// (or the change row), with a fourth column for the difference map when
// one is chosen.
func (v *compareView) refresh() {
	wb := v.wb
	c := wb.cmp
	if c == nil {
		return
	}
	v.syncShow()
	rows := v.rows()
	cols := len(rows[0].maps)
	var objs []fyne.CanvasObject
	v.shown, v.changeShown = nil, false
	for r, row := range rows {
		v.shown = append(v.shown, row.c)
		v.changeShown = v.changeShown || row.c == nil
		for k, hm := range row.maps {
			p := v.panels[4*r+k]
			p.title.SetText(hm.Title)
			p.map_.SetHeatmap(hm)
			p.map_.minSide = heatmapMinSide
			if len(rows) > 1 {
				p.map_.minSide = heatmapMinSideTwoRows
			}
			p.tip = row.tips[k]
			objs = append(objs, p.box)
		}
	}
	v.grid.Objects = objs
	v.grid.Layout = layout.NewGridLayoutWithColumns(cols)
	v.grid.Refresh()
	if wb.diff != compare.DiffNone || v.changeShown {
		v.diffLegend.Show()
	} else {
		v.diffLegend.Hide()
	}
	if len(rows) > 1 {
		v.legends[1].Show()
	} else {
		v.legends[1].Hide()
	}
	if v.changeShown {
		v.legends[0].Hide()
	} else {
		v.legends[0].Show()
	}
	v.legendRow.Layout = layout.NewGridLayoutWithColumns(len(rows))
	v.legendRow.Refresh()
	for _, l := range v.legends {
		l.Refresh()
	}
	v.diffLegend.Refresh()
	v.summary.SetText(v.summaryText())
}

// syncShow labels the show picker with the models' names, enabled only
// with two models.
func (v *compareView) syncShow() {
	d := v.wb.duo
	if d == nil {
		v.show.Disable()
		return
	}
	l := d.Labels()
	i := v.show.SelectedIndex()
	v.show.Options = showChoices(l[0], l[1])
	v.show.Selected = v.show.Options[max(i, 0)]
	v.show.Enable()
	v.show.Refresh()
}

// summaryText describes the comparison and the models' thresholds.
func (v *compareView) summaryText() string {
	wb := v.wb
	c := wb.cmp
	if wb.duo == nil {
		return fmt.Sprintf("%s: %s Masks: %s. Threshold %.4f.", c.Source, c.Summary(), c.Mask, c.Threshold)
	}
	d := wb.duo
	l := d.Labels()
	s := fmt.Sprintf("%s: %s Masks: %s. Thresholds: %s %.4f, %s %.4f.", c.Source, c.Summary(), c.Mask, l[0], d.Models[0].Threshold, l[1], d.Models[1].Threshold)
	for k := range 2 {
		if e, ok := wb.slotModel(k); ok && e.ThresholdSource == modelreg.ThresholdNone {
			s += " " + l[k] + " has no threshold yet (Models screen)."
		}
	}
	return s
}
