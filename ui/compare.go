package ui

import (
	"fmt"
	"image"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/app"
)

// diffChoices are the difference-map options, in app.DiffKind order.
var diffChoices = []string{"No difference map", "Difference: (unmasked vs masked) − unmasked", "Difference: (masked vs masked) − unmasked"}

// compareScreen shows the three heatmaps side by side on one colour scale,
// an optional difference map, the legend and the export buttons.
func compareScreen(wb *Workbench) fyne.CanvasObject {
	hoverInfo := widget.NewLabel("Hover a cell for its pair and score; click it to inspect the pair.")
	hoverInfo.Truncation = fyne.TextTruncateEllipsis
	summary := widget.NewLabel("Analysing the demo folder…")
	summary.Truncation = fyne.TextTruncateEllipsis

	type panel struct {
		title *widget.Label
		map_  *heatmap
		box   *fyne.Container
	}
	panels := make([]*panel, 4)
	for k := range panels {
		p := &panel{title: widget.NewLabel("")}
		p.title.TextStyle.Bold = true
		p.title.Truncation = fyne.TextTruncateEllipsis
		setting := app.CompareSetting(min(k, 2))
		p.map_ = newHeatmap(func(i, j int) string {
			diff := app.DiffNone
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
		panels[k] = p
	}
	wb.heatmaps = nil
	for _, p := range panels {
		wb.heatmaps = append(wb.heatmaps, p.map_)
	}
	grid := container.NewGridWithColumns(3, panels[0].box, panels[1].box, panels[2].box)

	legend := imageView(fyne.NewSize(320, app.LegendHeight), func(dst *image.NRGBA) {
		t := math.NaN()
		if wb.cmp != nil {
			t = wb.cmp.Threshold
		}
		app.DrawLegend(dst, dst.Rect, app.SimilarityScale(), "cosine similarity", t, theme.Color(theme.ColorNameForeground))
	})
	diffLegend := imageView(fyne.NewSize(220, app.LegendHeight), func(dst *image.NRGBA) {
		app.DrawLegend(dst, dst.Rect, app.DifferenceScale(), "masked − unmasked", math.NaN(), theme.Color(theme.ColorNameForeground))
	})
	diffLegend.Hide()

	diffSel := widget.NewSelect(diffChoices, nil)
	diffSel.SetSelectedIndex(int(wb.diff))

	refresh := func() {
		c := wb.cmp
		if c == nil {
			return
		}
		maps := c.Heatmaps(wb.diff)
		for k, p := range panels {
			if k < len(maps) {
				p.title.SetText(maps[k].Title)
				p.map_.SetHeatmap(maps[k])
			}
		}
		cols := []fyne.CanvasObject{panels[0].box, panels[1].box, panels[2].box}
		if wb.diff != app.DiffNone {
			cols = append(cols, panels[3].box)
			diffLegend.Show()
		} else {
			diffLegend.Hide()
		}
		grid.Objects = cols
		grid.Layout = layout.NewGridLayoutWithColumns(len(cols))
		grid.Refresh()
		legend.Refresh()
		summary.SetText(fmt.Sprintf("%s: %s Masks: %s. Threshold %.4f.", c.Source, c.Summary(), c.Mask, c.Threshold))
	}
	diffSel.OnChanged = func(string) {
		wb.diff = app.DiffKind(diffSel.SelectedIndex())
		refresh()
	}
	wb.onChange(refresh)

	open := widget.NewButton("Open folder…", wb.onOpenFolder)
	diffBox := container.NewGridWrap(fyne.NewSize(360, diffSel.MinSize().Height), diffSel)
	bar := container.NewHBox(open, diffBox, wb.exportPNGButton, wb.exportCSVButton)
	legends := container.NewBorder(nil, nil, nil, diffLegend, legend)
	bottom := container.NewVBox(legends, hoverInfo)
	return container.NewBorder(container.NewVBox(bar, summary), bottom, nil, nil, grid)
}

// showPair opens the pair inspector for rows i and j.
func (wb *Workbench) showPair(i, j int) {
	if wb.cmp == nil {
		return
	}
	showInspector(wb.win, wb.cmp.Pair(i, j))
}
