package ui

import (
	"fmt"
	"image"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
)

// inspectorContent shows a pair: both faces unmasked and masked, each
// model's scores under each setting, its decision at its own threshold
// and whether masks flipped it; with two models, the change between them
// and whose decision masks flip.
func inspectorContent(models []pairModel) fyne.CanvasObject {
	p := models[0].info
	face := func(img image.Image, caption string) fyne.CanvasObject {
		c := canvas.NewImageFromImage(img)
		c.FillMode = canvas.ImageFillContain
		c.SetMinSize(fyne.NewSquareSize(112))
		l := widget.NewLabel(caption)
		l.Alignment = fyne.TextAlignCenter
		return container.NewBorder(nil, l, nil, nil, c)
	}
	faces := container.NewGridWithColumns(4,
		face(p.A.Aligned, "A"), face(p.A.Masked, "A masked"),
		face(p.B.Aligned, "B"), face(p.B.Masked, "B masked"))

	who := func(tag string, ph *compare.Photo) string {
		s := fmt.Sprintf("%s: %s", tag, ph.Key)
		if ph.Identity != "" {
			s += " (" + ph.Identity + ")"
		}
		return s
	}
	truth := "Identities unknown."
	if p.Known {
		truth = "Different identities."
		if p.SameIdentity {
			truth = "Same identity."
		}
	}
	thresholds := fmt.Sprintf("Threshold %.4f", p.Threshold)
	if len(models) > 1 {
		var ts []string
		for _, m := range models {
			ts = append(ts, fmt.Sprintf("%s %.4f", m.label, m.info.Threshold))
		}
		thresholds = "Thresholds " + strings.Join(ts, ", ")
	}
	info := container.NewVBox(widget.NewLabel(who("A", p.A)), widget.NewLabel(who("B", p.B)),
		widget.NewLabel(fmt.Sprintf("%s %s: same person when the score is at least the threshold.", truth, thresholds)))
	if len(models) > 1 {
		return container.NewVBox(faces, info, duoScoreTable(models[0], models[1]))
	}
	return container.NewVBox(faces, info, scoreTable(p))
}

// scoreTable is one model's four scores, decisions and flips.
func scoreTable(p compare.PairInfo) fyne.CanvasObject {
	cells := []fyne.CanvasObject{bold("Setting"), bold("Score"), bold("Decision"), bold("Flipped by masks")}
	for k, r := range p.Rows() {
		flip := widget.NewLabel("no")
		switch {
		case k == 0:
			flip.SetText("—")
		case r.Flipped:
			flip.SetText("yes")
			flip.Importance = widget.DangerImportance
			flip.TextStyle.Bold = true
		}
		cells = append(cells, widget.NewLabel(r.Label), widget.NewLabel(fmt.Sprintf("%.4f", r.Score)),
			widget.NewLabel(r.Decision), flip)
	}
	return container.NewGridWithColumns(4, cells...)
}

// duoScoreTable is both models' four scores with their decisions, the
// change from the first to the second, and whose decision masks flip.
func duoScoreTable(a, b pairModel) fyne.CanvasObject {
	cells := []fyne.CanvasObject{bold("Setting"), bold(a.label), bold(b.label), bold(b.label + " − " + a.label), bold("Masks flip")}
	ra, rb := a.info.Rows(), b.info.Rows()
	for k := range ra {
		flip := widget.NewLabel(flippedBy(ra[k].Flipped, rb[k].Flipped, a.label, b.label))
		switch {
		case k == 0:
			flip.SetText("—")
		case ra[k].Flipped || rb[k].Flipped:
			flip.Importance = widget.DangerImportance
			flip.TextStyle.Bold = true
		}
		cells = append(cells, widget.NewLabel(ra[k].Label), scoreLabel(ra[k]), scoreLabel(rb[k]),
			widget.NewLabel(fmt.Sprintf("%+.4f", rb[k].Score-ra[k].Score)), flip)
	}
	return container.NewGridWithColumns(5, cells...)
}

// scoreLabel is a score with its decision, short.
func scoreLabel(r compare.PairRow) *widget.Label {
	d := strings.NewReplacer("same person", "same", "different people", "different", " (correct)", ", right", " (wrong)", ", wrong").Replace(r.Decision)
	l := widget.NewLabel(fmt.Sprintf("%.4f %s", r.Score, d))
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// flippedBy says whose decision masks flip.
func flippedBy(a, b bool, la, lb string) string {
	switch {
	case a && b:
		return "both"
	case a:
		return la
	case b:
		return lb
	}
	return "neither"
}

func bold(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// pairModels are the compared models' views of rows i and j: model A's
// comparison, and model B's when two are compared.
func (wb *Workbench) pairModels(i, j int) []pairModel {
	a, _ := wb.slotModel(slotA)
	out := []pairModel{{label: wb.shortLabel(a), entry: a, info: wb.cmp.Pair(i, j)}}
	if c := wb.secondComparison(); c != nil {
		b, _ := wb.chosenEntry(slotB)
		out = append(out, pairModel{label: wb.shortLabel(b), entry: b, info: c.Pair(i, j)})
	}
	return out
}

// inspector is the open pair inspector, for tests.
type inspector struct {
	dlg  *dialog.CustomDialog
	tabs *container.AppTabs
	occ  *occlusionPanel
}

// showPair opens the pair inspector for rows i and j: the scores, and the
// occlusion maps of the compared models.
func (wb *Workbench) showPair(i, j int) {
	if wb.cmp == nil {
		return
	}
	models := wb.pairModels(i, j)
	p := models[0].info
	occ := newOcclusionPanel(wb, models, p)
	tabs := container.NewAppTabs(
		container.NewTabItem("Scores", inspectorContent(models)),
		container.NewTabItem("Occlusion maps", occ.view()))
	d := dialog.NewCustom(fmt.Sprintf("Pair: %s × %s", p.A.Name(), p.B.Name()), "Close", tabs, wb.win)
	d.Resize(fyne.NewSize(960, 680))
	d.Show()
	wb.inspector = &inspector{dlg: d, tabs: tabs, occ: occ}
}
