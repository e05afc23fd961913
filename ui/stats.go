package ui

import (
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/render"
)

// statsScreen shows, when identities are known, the genuine and impostor
// score histograms of each setting, EER and FMR100, and the pairs whose
// decision flips under masks (tap one to inspect it); with two models,
// each model's, at its own threshold.
func statsScreen(wb *Workbench) fyne.CanvasObject {
	note := widget.NewLabel("Statistics need identities: one subfolder per person, or Name_NNNN file names.")
	note.Truncation = fyne.TextTruncateEllipsis

	// One row of histograms per model, each at its own threshold.
	models := func() []*compare.Comparison {
		if wb.duo != nil {
			return wb.duo.Models[:]
		}
		return []*compare.Comparison{wb.cmp}
	}
	var hists [2][]*canvas.Raster
	var histRows [2]*fyne.Container
	for m := range hists {
		var objs []fyne.CanvasObject
		for k := range compare.NumSettings {
			r := imageView(fyne.NewSize(220, 170), func(dst *image.NRGBA) {
				cs := models()
				if wb.cmp == nil || m >= len(cs) {
					return
				}
				if st := cs[m].Stat(k); st != nil {
					h := st.Histogram()
					if len(cs) > 1 {
						h.Title = cs[m].Model.Label + ": " + h.Title
					}
					render.DrawHistogram(dst, dst.Rect, wb.fonts, h, wb.shownThreshold(cs[m]))
				}
			})
			hists[m] = append(hists[m], r)
			objs = append(objs, r)
		}
		histRows[m] = container.NewGridWithColumns(3, objs...)
	}
	histRows[1].Hide()

	widths := []float32{170, 170, 180, 70, 75, 75, 90, 50}
	duoWidths := append([]float32{90}, widths...)
	rows := (&compare.Comparison{}).StatsTable() // the header
	cols := widths
	table := widget.NewTable(
		func() (int, int) { return len(rows), len(cols) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.TextStyle.Bold = id.Row == 0
			l.SetText(rows[id.Row][id.Col])
		})
	setWidths := func(ws []float32) {
		cols = ws
		for k, w := range ws {
			table.SetColumnWidth(k, w)
		}
	}
	setWidths(widths)
	flipsHead := widget.NewLabel("")
	flipsHead.TextStyle.Bold = true
	flipsHead.Truncation = fyne.TextTruncateEllipsis
	var flips []modelFlip
	flipList := widget.NewList(
		func() int { return len(flips) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(flips) {
				o.(*widget.Label).SetText(flips[id].text)
			}
		})
	flipList.OnSelected = func(id widget.ListItemID) {
		if id < len(flips) {
			f := flips[id].flip
			wb.showPair(int(f.A), int(f.B))
		}
		flipList.UnselectAll()
	}

	wb.onChange(func() {
		c := wb.cmp
		switch {
		case c.Stats != nil:
			note.SetText(statsNote(wb, c))
		case c.StatsErr != nil:
			note.SetText("No statistics: " + c.StatsErr.Error())
		default:
			note.SetText("Identities unknown (no subfolder per person, no Name_NNNN file names): no genuine/impostor statistics.")
		}
		if d := wb.duo; d != nil {
			rows = d.StatsTable()
			setWidths(duoWidths)
			flipsHead.SetText(d.FlipLines()[2] + " Tap one to inspect it.")
			histRows[1].Show()
		} else {
			rows = c.StatsTable()
			setWidths(widths)
			flipsHead.SetText(c.FlipLine() + " Tap one to inspect it.")
			histRows[1].Hide()
		}
		for _, row := range hists {
			for _, h := range row {
				h.SetMinSize(fyne.NewSize(220, histHeight(wb.duo != nil)))
				h.Refresh()
			}
		}
		table.Refresh()
		flips = modelFlips(wb)
		flipList.Refresh()
	})
	top := container.NewVBox(note, withMinHeight(4*(widget.NewLabel("X").MinSize().Height+2)+4, table), histRows[0], histRows[1])
	return container.NewBorder(top, nil, nil, nil, container.NewBorder(flipsHead, nil, nil, nil, flipList))
}

// histHeight is a histogram's height: two rows of them with two models.
func histHeight(two bool) float32 {
	if two {
		return 120
	}
	return 170
}

// statsNote is the line above the statistics.
func statsNote(wb *Workbench, c *compare.Comparison) string {
	if d := wb.duo; d != nil {
		l := d.Labels()
		return fmt.Sprintf("%d identities; thresholds %s %.4f, %s %.4f. Genuine pairs green, impostor pairs orange; dashed line: the model's threshold.",
			len(c.Blocks), l[0], d.Models[0].Threshold, l[1], d.Models[1].Threshold)
	}
	return fmt.Sprintf("%d identities; threshold t = %.4f. Genuine pairs green, impostor pairs orange; dashed line: t.", len(c.Blocks), c.Threshold)
}

// modelFlip is a flipped decision in the list, with its text.
type modelFlip struct {
	flip compare.Flip
	text string
}

// modelFlips lists model A's flips, then model B's, named by model when
// there are two.
func modelFlips(wb *Workbench) []modelFlip {
	var out []modelFlip
	if wb.duo == nil {
		for _, f := range wb.cmp.Flips {
			out = append(out, modelFlip{f, wb.cmp.FlipText(f)})
		}
		return out
	}
	l := wb.duo.Labels()
	for k, c := range wb.duo.Models {
		for _, f := range c.Flips {
			out = append(out, modelFlip{f, l[k] + ": " + c.FlipText(f)})
		}
	}
	return out
}

// withMinHeight gives o at least height h (a table's own minimum is one row).
func withMinHeight(h float32, o fyne.CanvasObject) fyne.CanvasObject {
	return container.New(minHeightLayout(h), o)
}

type minHeightLayout float32

func (l minHeightLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(objs[0].MinSize().Width, max(float32(l), objs[0].MinSize().Height))
}

func (l minHeightLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(size)
}
