package ui

import (
	"fmt"
	"image"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/render"
)

// diffChoices are the difference-map options, in compare.DiffKind order.
var diffChoices = []string{"No difference map", "Difference: (unmasked vs masked) − unmasked", "Difference: (masked vs masked) − unmasked"}

// compareScreen shows the three heatmaps side by side on one colour scale,
// an optional difference map, the legend and the export buttons.
func compareScreen(wb *Workbench) fyne.CanvasObject {
	hoverInfo := widget.NewLabel("Hover a cell for its pair and score; click it to inspect the pair.")
	hoverInfo.Truncation = fyne.TextTruncateEllipsis
	v := &compareView{wb: wb, summary: widget.NewLabel("Analysing the demo folder…")}
	v.summary.Truncation = fyne.TextTruncateEllipsis

	v.panels = make([]*heatmapPanel, 4)
	for k := range v.panels {
		v.panels[k] = newHeatmapPanel(wb, k, hoverInfo)
	}
	wb.heatmaps = nil
	for _, p := range v.panels {
		wb.heatmaps = append(wb.heatmaps, p.map_)
	}
	v.grid = container.NewGridWithColumns(3, v.panels[0].box, v.panels[1].box, v.panels[2].box)

	v.legend = imageView(fyne.NewSize(320, render.LegendHeight), func(dst *image.NRGBA) {
		t := math.NaN()
		if wb.cmp != nil {
			t = wb.cmp.Threshold
		}
		render.DrawLegend(dst, dst.Rect, wb.fonts, render.SimilarityScale(), "cosine similarity", t, theme.Color(theme.ColorNameForeground))
	})
	v.diffLegend = imageView(fyne.NewSize(220, render.LegendHeight), func(dst *image.NRGBA) {
		render.DrawLegend(dst, dst.Rect, wb.fonts, render.DifferenceScale(), "masked − unmasked", math.NaN(), theme.Color(theme.ColorNameForeground))
	})
	v.diffLegend.Hide()

	diffSel := widget.NewSelect(diffChoices, nil)
	diffSel.SetSelectedIndex(int(wb.diff))
	diffSel.OnChanged = func(string) {
		wb.diff = compare.DiffKind(diffSel.SelectedIndex())
		v.refresh()
	}
	wb.onChange(v.refresh)

	open := widget.NewButton("Open folder…", wb.onOpenFolder)
	diffBox := container.NewGridWrap(fyne.NewSize(360, diffSel.MinSize().Height), diffSel)
	bar := container.NewHBox(open, diffBox, wb.exportPNGButton, wb.exportCSVButton)
	legends := container.NewBorder(nil, nil, nil, v.diffLegend, v.legend)
	bottom := container.NewVBox(legends, hoverInfo)
	return container.NewBorder(container.NewVBox(bar, v.summary), bottom, nil, nil, v.grid)
}

// compareView holds the widgets of the compare screen that change with the
// comparison and with the difference map chosen.
type compareView struct {
	wb                 *Workbench
	summary            *widget.Label
	panels             []*heatmapPanel
	grid               *fyne.Container
	legend, diffLegend *canvas.Raster
}

// heatmapPanel is one titled heatmap: the three settings, then the
// difference map, shown only when one is chosen.
type heatmapPanel struct {
	title *widget.Label
	map_  *heatmap
	box   *fyne.Container
}

// newHeatmapPanel makes panel k; hovering a cell tells its pair and score in
// hoverInfo, clicking it opens the pair.
func newHeatmapPanel(wb *Workbench, k int, hoverInfo *widget.Label) *heatmapPanel {
	p := &heatmapPanel{title: widget.NewLabel("")}
	p.title.TextStyle.Bold = true
	p.title.Truncation = fyne.TextTruncateEllipsis
	setting := compare.Setting(min(k, 2))
	p.map_ = newHeatmap(func(i, j int) string {
		diff := compare.DiffNone
		if k == 3 {
			diff = wb.diff
		}
		return wb.cmp.CellText(setting, diff, i, j)
	}, func(i, j int) { wb.showPair(i, j) })
	p.map_.onHover = func(text string) {
		if text != "" {
			hoverInfo.SetText(text)
		}
	}
	p.box = container.NewBorder(p.title, nil, nil, nil, p.map_)
	return p
}

// refresh shows the current comparison, with a fourth column for the
// difference map when one is chosen.
func (v *compareView) refresh() {
	wb := v.wb
	c := wb.cmp
	if c == nil {
		return
	}
	maps := c.Heatmaps(wb.diff)
	for k, p := range v.panels {
		if k < len(maps) {
			p.title.SetText(maps[k].Title)
			p.map_.SetHeatmap(maps[k])
		}
	}
	cols := []fyne.CanvasObject{v.panels[0].box, v.panels[1].box, v.panels[2].box}
	if wb.diff != compare.DiffNone {
		cols = append(cols, v.panels[3].box)
		v.diffLegend.Show()
	} else {
		v.diffLegend.Hide()
	}
	v.grid.Objects = cols
	v.grid.Layout = layout.NewGridLayoutWithColumns(len(cols))
	v.grid.Refresh()
	v.legend.Refresh()
	v.summary.SetText(fmt.Sprintf("%s: %s Masks: %s. Threshold %.4f.", c.Source, c.Summary(), c.Mask, c.Threshold))
}

// showPair opens the pair inspector for rows i and j.
func (wb *Workbench) showPair(i, j int) {
	if wb.cmp == nil {
		return
	}
	showInspector(wb.win, wb.cmp.Pair(i, j))
}
