package ui

import (
	"fmt"
	"image"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/maskgen"
)

// Shift slider ranges, in template pixels: ±5 crop pixels across, ±10 up
// and down.
const shiftRangeX, shiftRangeY = 5 * maskgen.TemplateScale, 10 * maskgen.TemplateScale

// maskPanel edits the mask settings with a live preview on the selected
// face; "Apply to all photos" redoes the masked half of the comparison,
// and "Create masked dataset…" writes a masked copy of the folder.
type maskPanel struct {
	wb *Workbench

	photo          *widget.Label
	prev, next     *widget.Button
	style, color   *widget.Select
	seed           *widget.Entry
	fixed          *widget.Check
	shiftX, shiftY *widget.Slider
	shiftText      *widget.Label
	apply, create  *widget.Button
	applied        *widget.Label
	before, after  *canvas.Image
	params         *widget.Label

	syncing bool // controls being set from the settings: ignore their callbacks
}

func masksScreen(wb *Workbench) fyne.CanvasObject {
	mp := &maskPanel{wb: wb}
	wb.maskPanel = mp
	return mp.build()
}

func (mp *maskPanel) build() fyne.CanvasObject {
	wb := mp.wb
	mp.photo = widget.NewLabel("No photo")
	mp.photo.Truncation = fyne.TextTruncateEllipsis
	mp.prev = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { wb.selectRow(wb.selected - 1) })
	mp.next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { wb.selectRow(wb.selected + 1) })

	styles := append(maskgen.Styles(), "random")
	mp.style = widget.NewSelect(styles, func(string) { mp.edited() })
	colors := append([]string{"auto", "random"}, maskgen.ColorNames()...)
	mp.color = widget.NewSelect(colors, func(string) { mp.edited() })
	mp.seed = widget.NewEntry()
	mp.seed.Validator = func(s string) error {
		_, err := strconv.ParseUint(s, 10, 64)
		return err
	}
	mp.seed.OnChanged = func(string) { mp.edited() }
	mp.fixed = widget.NewCheck("Fixed shift ("+strings.Join(maskgen.ShiftStyles(), ", ")+" style)", func(bool) { mp.edited() })
	mp.shiftX = widget.NewSlider(-shiftRangeX, shiftRangeX)
	mp.shiftY = widget.NewSlider(-shiftRangeY, shiftRangeY)
	mp.shiftX.OnChanged = func(float64) { mp.edited() }
	mp.shiftY.OnChanged = func(float64) { mp.edited() }
	mp.shiftText = widget.NewLabel("")
	mp.apply = widget.NewButton("Apply to all photos", wb.applyMask)
	mp.apply.Importance = widget.HighImportance
	mp.create = widget.NewButton("Create masked dataset…", wb.onCreateDataset)
	mp.applied = widget.NewLabel("")
	mp.applied.Truncation = fyne.TextTruncateEllipsis

	form := widget.NewForm(
		widget.NewFormItem("Style", mp.style),
		widget.NewFormItem("Colour", mp.color),
		widget.NewFormItem("Seed", mp.seed),
		widget.NewFormItem("Shift", mp.fixed),
		widget.NewFormItem("Across", mp.shiftX),
		widget.NewFormItem("Up", mp.shiftY),
		widget.NewFormItem("", mp.shiftText),
	)
	nav := container.NewBorder(nil, nil, mp.prev, mp.next, mp.photo)
	controls := container.NewVBox(nav, form, container.NewHBox(mp.apply, mp.create), mp.applied)

	mp.before = previewImage()
	mp.after = previewImage()
	mp.params = widget.NewLabel("")
	mp.params.Alignment = fyne.TextAlignCenter
	pics := container.NewGridWithColumns(2,
		container.NewBorder(nil, centered("Aligned crop"), nil, nil, mp.before),
		container.NewBorder(nil, centered("Masked preview"), nil, nil, mp.after))
	preview := container.NewVBox(pics, mp.params)

	wb.onChange(mp.refresh)
	mp.refresh()
	return container.NewBorder(nil, nil, container.NewPadded(controls), nil, container.NewVScroll(preview))
}

func previewImage() *canvas.Image {
	img := canvas.NewImageFromImage(image.NewNRGBA(image.Rect(0, 0, 1, 1)))
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSquareSize(260))
	return img
}

func centered(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Alignment = fyne.TextAlignCenter
	return l
}

// refresh shows the workbench's settings and selection.
func (mp *maskPanel) refresh() {
	wb := mp.wb
	s := wb.mask
	mp.syncing = true
	// Set the selects only when they disagree, so that a colour picked by
	// name stays shown by its name.
	if cur, err := maskgen.ParseStyle(mp.style.Selected); err != nil || cur.String() != s.Style.String() {
		mp.style.SetSelected(s.Style.String())
	}
	if cur, err := maskgen.ParseColor(mp.color.Selected); err != nil || cur != s.Color {
		name := s.Color.String()
		if !slices.Contains(mp.color.Options, name) {
			mp.color.Options = append(mp.color.Options, name)
		}
		mp.color.SetSelected(name)
	}
	mp.seed.SetText(strconv.FormatUint(s.Seed, 10))
	mp.fixed.SetChecked(s.Shift != nil)
	if s.Shift != nil {
		mp.shiftX.SetValue(float64(s.Shift.X))
		mp.shiftY.SetValue(float64(s.Shift.Y))
	}
	mp.syncing = false
	mp.update()
}

// edited reads the controls into the workbench's settings.
func (mp *maskPanel) edited() {
	if mp.syncing {
		return
	}
	wb := mp.wb
	s := wb.mask
	if st, err := maskgen.ParseStyle(mp.style.Selected); err == nil {
		s.Style = st
	}
	if cs, err := maskgen.ParseColor(mp.color.Selected); err == nil {
		s.Color = cs
	}
	if v, err := strconv.ParseUint(mp.seed.Text, 10, 64); err == nil {
		s.Seed = v
	}
	s.Shift = nil
	if mp.fixed.Checked {
		s.Shift = &maskgen.Shift{X: int(mp.shiftX.Value), Y: int(mp.shiftY.Value)}
	}
	wb.mask = s
	mp.update()
}

// update redraws the preview and the state of the buttons.
func (mp *maskPanel) update() {
	wb := mp.wb
	s := wb.mask
	if s.Shift != nil {
		mp.shiftX.Enable()
		mp.shiftY.Enable()
		cx, cy := s.Shift.CropPixels()
		mp.shiftText.SetText(fmt.Sprintf("(%d, %d) template px = (%.1f, %.1f) crop px", s.Shift.X, s.Shift.Y, cx, cy))
	} else {
		mp.shiftX.Disable()
		mp.shiftY.Disable()
		mp.shiftText.SetText("random, per photo (the protocol's)")
	}
	c := wb.cmp
	if c == nil || wb.selected < 0 {
		mp.photo.SetText("No photo")
		mp.apply.Disable()
		mp.create.Disable()
		mp.prev.Disable()
		mp.next.Disable()
		return
	}
	mp.create.Enable()
	mp.prev.Enable()
	mp.next.Enable()
	if wb.selected == 0 {
		mp.prev.Disable()
	}
	if wb.selected == c.N()-1 {
		mp.next.Disable()
	}
	if s.String() == c.Mask.String() {
		mp.apply.Disable()
		mp.applied.SetText("Comparison masks: " + c.Mask.String())
	} else {
		mp.apply.Enable()
		mp.applied.SetText("Not applied yet; comparison masks: " + c.Mask.String())
	}
	p := c.Row(wb.selected)
	mp.photo.SetText(fmt.Sprintf("Photo %d of %d: %s", wb.selected+1, c.N(), p.Key))
	mp.before.Image = p.Aligned
	mp.before.Refresh()
	res, err := s.ApplyAligned(p.Aligned, p.Key)
	if err != nil {
		mp.params.SetText(err.Error())
		return
	}
	mp.after.Image = res.Image
	mp.after.Refresh()
	q := res.Params
	shift := ""
	if maskgen.StyleHasShift(q.Style) {
		shift = fmt.Sprintf(", shift (%d, %d)", q.ShiftX, q.ShiftY)
	}
	mp.params.SetText(fmt.Sprintf("%s, colour %s%s; covers %.0f%% of the crop", q.Style, q.Color, shift, 100*res.CoveredFraction()))
}
