package ui

import (
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/render"
)

// statsScreen shows, when identities are known, the genuine and impostor
// score histograms of each setting, EER and FMR100, and the pairs whose
// decision flips under masks (tap one to inspect it).
func statsScreen(wb *Workbench) fyne.CanvasObject {
	note := widget.NewLabel("Statistics need identities: one subfolder per person, or Name_NNNN file names.")
	note.Truncation = fyne.TextTruncateEllipsis

	hists := make([]fyne.CanvasObject, 3)
	for k := range hists {
		s := compare.Setting(k)
		hists[k] = imageView(fyne.NewSize(220, 170), func(dst *image.NRGBA) {
			if wb.cmp == nil {
				return
			}
			if st := wb.cmp.Stat(s); st != nil {
				render.DrawHistogram(dst, dst.Rect, wb.fonts, st.Histogram(), wb.cmp.Threshold)
			}
		})
	}
	histRow := container.NewGridWithColumns(3, hists...)

	widths := []float32{170, 170, 180, 70, 75, 75, 90, 50}
	rows := (&compare.Comparison{}).StatsTable() // the header
	table := widget.NewTable(
		func() (int, int) { return len(rows), len(widths) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.TextStyle.Bold = id.Row == 0
			l.SetText(rows[id.Row][id.Col])
		})
	for k, w := range widths {
		table.SetColumnWidth(k, w)
	}
	flipsHead := widget.NewLabel("")
	flipsHead.TextStyle.Bold = true
	flipsHead.Truncation = fyne.TextTruncateEllipsis
	flips := widget.NewList(
		func() int {
			if wb.cmp == nil {
				return 0
			}
			return len(wb.cmp.Flips)
		},
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if c := wb.cmp; id < len(c.Flips) {
				o.(*widget.Label).SetText(c.FlipText(c.Flips[id]))
			}
		})
	flips.OnSelected = func(id widget.ListItemID) {
		if c := wb.cmp; id < len(c.Flips) {
			f := c.Flips[id]
			wb.showPair(int(f.A), int(f.B))
		}
		flips.UnselectAll()
	}

	wb.onChange(func() {
		c := wb.cmp
		switch {
		case c.Stats != nil:
			note.SetText(fmt.Sprintf("%d identities; threshold t = %.4f. Genuine pairs green, impostor pairs orange; dashed line: t.", len(c.Blocks), c.Threshold))
		case c.StatsErr != nil:
			note.SetText("No statistics: " + c.StatsErr.Error())
		default:
			note.SetText("Identities unknown (no subfolder per person, no Name_NNNN file names): no genuine/impostor statistics.")
		}
		rows = c.StatsTable()
		table.Refresh()
		for _, h := range hists {
			h.Refresh()
		}
		flipsHead.SetText(c.FlipLine() + " Tap one to inspect it.")
		flips.Refresh()
	})
	top := container.NewVBox(note, withMinHeight(4*(widget.NewLabel("X").MinSize().Height+2)+4, table), histRow)
	return container.NewBorder(top, nil, nil, nil, container.NewBorder(flipsHead, nil, nil, nil, flips))
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
