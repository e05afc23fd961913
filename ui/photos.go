package ui

import (
	"fmt"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
)

// photosScreen lists the folder's photos as thumbnails with the face found
// outlined, and the photos that failed with the reason. Selecting a photo
// makes it the mask panel's preview.
func photosScreen(wb *Workbench) fyne.CanvasObject {
	summary := widget.NewLabel("No folder analysed yet.")
	summary.Truncation = fyne.TextTruncateEllipsis
	detail := widget.NewLabel("Select a photo to see what was found.")
	detail.Truncation = fyne.TextTruncateEllipsis

	grid := photoGrid(wb, detail)
	failedHead := widget.NewLabel("")
	failedHead.TextStyle.Bold = true
	failed := failedList(wb)

	wb.onChange(func() {
		c := wb.cmp
		summary.SetText(fmt.Sprintf("%s: %s", c.Source, c.Summary()))
		if n := len(c.Photos) - c.N(); n > 0 {
			failedHead.SetText(fmt.Sprintf("%d photos failed (no row in the heatmaps):", n))
		} else {
			failedHead.SetText("Every photo was analysed.")
		}
		grid.Refresh()
		failed.Refresh()
	})

	open := widget.NewButton("Open folder…", wb.onOpenFolder)
	top := container.NewBorder(nil, nil, open, nil, summary)
	failures := container.NewBorder(failedHead, nil, nil, nil, failed)
	split := container.NewVSplit(grid, failures)
	split.Offset = 0.78
	return container.NewBorder(top, detail, nil, nil, split)
}

// photoGrid shows every photo's thumbnail; selecting one tells in detail
// what was found in it and selects its row in the heatmaps.
func photoGrid(wb *Workbench, detail *widget.Label) *widget.GridWrap {
	photos := func() []compare.Photo {
		if wb.cmp == nil {
			return nil
		}
		return wb.cmp.Photos
	}
	grid := widget.NewGridWrap(
		func() int { return len(photos()) },
		newPhotoTile,
		func(id widget.GridWrapItemID, o fyne.CanvasObject) {
			ps := photos()
			if id >= len(ps) {
				return
			}
			updatePhotoTile(o, &ps[id])
		})
	grid.OnSelected = func(id widget.GridWrapItemID) {
		ps := photos()
		if id >= len(ps) {
			return
		}
		p := &ps[id]
		if p.Err != "" {
			detail.SetText("Failed: " + p.Err)
			return
		}
		ident := p.Identity
		if ident == "" {
			ident = "unknown identity"
		}
		detail.SetText(fmt.Sprintf("%s (%s): %d×%d photo, %s, box %.0f,%.0f %.0f×%.0f; mask %s covers %.0f%% of the crop",
			p.Key, ident, p.Size.X, p.Size.Y, p.Choice, p.Box[0], p.Box[1], p.Box[2], p.Box[3], p.Params.Style, 100*p.Coverage))
		wb.selectRow(p.Row)
	}
	return grid
}

// newPhotoTile is a thumbnail above its name.
func newPhotoTile() fyne.CanvasObject {
	img := canvas.NewImageFromImage(image.NewNRGBA(image.Rect(0, 0, 1, 1)))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSquareSize(compare.ThumbSize))
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	l.Alignment = fyne.TextAlignCenter
	return container.NewBorder(nil, l, nil, nil, img)
}

// updatePhotoTile shows p in a tile made by newPhotoTile; a failed photo's
// name is marked and shown in red.
func updatePhotoTile(o fyne.CanvasObject, p *compare.Photo) {
	box := o.(*fyne.Container)
	img := box.Objects[0].(*canvas.Image)
	l := box.Objects[1].(*widget.Label)
	img.Image = p.Thumb
	if p.Thumb == nil { // unreadable file
		img.Image = image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	img.Refresh()
	if p.Err != "" {
		l.Importance = widget.DangerImportance
		l.SetText("✗ " + p.Name())
	} else {
		l.Importance = widget.MediumImportance
		l.SetText(p.Name())
	}
}

// failedList lists why each failed photo has no row in the heatmaps.
func failedList(wb *Workbench) *widget.List {
	return widget.NewList(
		func() int {
			if wb.cmp == nil {
				return 0
			}
			return len(wb.cmp.Photos) - wb.cmp.N()
		},
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			fs := wb.cmp.Failed()
			if id < len(fs) {
				o.(*widget.Label).SetText(fs[id].Err)
			}
		})
}
