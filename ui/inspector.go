package ui

import (
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
)

// inspectorContent shows a pair: both faces unmasked and masked, the scores
// under each setting, the decision at the threshold and whether masks
// flipped it.
func inspectorContent(p compare.PairInfo) fyne.CanvasObject {
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
	info := container.NewVBox(widget.NewLabel(who("A", p.A)), widget.NewLabel(who("B", p.B)),
		widget.NewLabel(fmt.Sprintf("%s Threshold %.4f: same person when the score is at least the threshold.", truth, p.Threshold)))

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
	table := container.NewGridWithColumns(4, cells...)
	return container.NewVBox(faces, info, table)
}

func bold(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	return l
}

// showInspector opens the pair inspector over w.
func showInspector(w fyne.Window, p compare.PairInfo) dialog.Dialog {
	d := dialog.NewCustom(fmt.Sprintf("Pair: %s × %s", p.A.Name(), p.B.Name()), "Close", inspectorContent(p), w)
	d.Show()
	return d
}
