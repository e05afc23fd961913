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
	hists := newStatsHistograms(wb)
	table := newStatsTable()
	flipsHead := widget.NewLabel("")
	flipsHead.TextStyle.Bold = true
	flipsHead.Truncation = fyne.TextTruncateEllipsis
	flips := newFlipList(wb)

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
			table.show(d.StatsTable(), true)
			flipsHead.SetText(d.FlipLines()[2] + " Tap one to inspect it.")
		} else {
			table.show(c.StatsTable(), false)
			flipsHead.SetText(c.FlipLine() + " Tap one to inspect it.")
		}
		hists.refresh(wb.duo != nil)
		flips.refresh()
	})
	top := container.NewVBox(note, withMinHeight(4*(widget.NewLabel("X").MinSize().Height+2)+4, table.table), hists.rows[0], hists.rows[1])
	return container.NewBorder(top, nil, nil, nil, container.NewBorder(flipsHead, nil, nil, nil, flips.list))
}

// statsHistograms are one row of score histograms per model, each at its
// own threshold; the second row shows with two models.
type statsHistograms struct {
	rows  [2]*fyne.Container
	hists [2][]*canvas.Raster
}

func newStatsHistograms(wb *Workbench) *statsHistograms {
	h := &statsHistograms{}
	models := func() []*compare.Comparison {
		if wb.duo != nil {
			return wb.duo.Models[:]
		}
		return []*compare.Comparison{wb.cmp}
	}
	for m := range h.hists {
		var objs []fyne.CanvasObject
		for k := range compare.NumSettings {
			r := imageView(fyne.NewSize(220, 170), func(dst *image.NRGBA) {
				cs := models()
				if wb.cmp == nil || m >= len(cs) {
					return
				}
				if st := cs[m].Stat(k); st != nil {
					hist := st.Histogram()
					if len(cs) > 1 {
						hist.Title = cs[m].Model.Label + ": " + hist.Title
					}
					render.DrawHistogram(dst, dst.Rect, wb.fonts, hist, wb.shownThreshold(cs[m]))
				}
			})
			h.hists[m] = append(h.hists[m], r)
			objs = append(objs, r)
		}
		h.rows[m] = container.NewGridWithColumns(3, objs...)
	}
	h.rows[1].Hide()
	return h
}

func (h *statsHistograms) refresh(two bool) {
	if two {
		h.rows[1].Show()
	} else {
		h.rows[1].Hide()
	}
	for _, row := range h.hists {
		for _, r := range row {
			r.SetMinSize(fyne.NewSize(220, histHeight(two)))
			r.Refresh()
		}
	}
}

// statsTable is the table of error rates: a model column first with two
// models.
type statsTable struct {
	table *widget.Table
	rows  [][]string
	cols  []float32
}

// statsWidths are the table's column widths with one model.
var statsWidths = []float32{170, 170, 180, 70, 75, 75, 90, 50}

func newStatsTable() *statsTable {
	st := &statsTable{rows: (&compare.Comparison{}).StatsTable()} // the header
	st.table = widget.NewTable(
		func() (int, int) { return len(st.rows), len(st.cols) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.TextStyle.Bold = id.Row == 0
			l.SetText(st.rows[id.Row][id.Col])
		})
	st.setWidths(statsWidths)
	return st
}

func (st *statsTable) setWidths(ws []float32) {
	st.cols = ws
	for k, w := range ws {
		st.table.SetColumnWidth(k, w)
	}
}

// show shows rows; two says they have a model column first.
func (st *statsTable) show(rows [][]string, two bool) {
	st.rows = rows
	if two {
		st.setWidths(append([]float32{90}, statsWidths...))
	} else {
		st.setWidths(statsWidths)
	}
	st.table.Refresh()
}

// flipList lists the flipped decisions; tapping one opens its pair.
type flipList struct {
	wb    *Workbench
	list  *widget.List
	flips []modelFlip
}

func newFlipList(wb *Workbench) *flipList {
	fl := &flipList{wb: wb}
	fl.list = widget.NewList(
		func() int { return len(fl.flips) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(fl.flips) {
				o.(*widget.Label).SetText(fl.flips[id].text)
			}
		})
	fl.list.OnSelected = func(id widget.ListItemID) {
		if id < len(fl.flips) {
			f := fl.flips[id].flip
			wb.showPair(int(f.A), int(f.B))
		}
		fl.list.UnselectAll()
	}
	return fl
}

func (fl *flipList) refresh() {
	fl.flips = modelFlips(fl.wb)
	fl.list.Refresh()
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
