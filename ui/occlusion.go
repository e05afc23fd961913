package ui

import (
	"context"
	"fmt"
	"image"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/compare"
	"github.com/maskinv/workbench/modelreg"
	"github.com/maskinv/workbench/occlusion"
	"github.com/maskinv/workbench/progress"
)

// occlusionKey identifies one model's occlusion maps of one pair: the
// model, the two photos (of the analysed folder), their masks and the
// patch grid.
type occlusionKey struct {
	sha           string
	a, b          string // photo keys
	mask          string // maskgen.Config.String()
	patch, stride int
}

// occlusionCache keeps every occlusion result computed for the analysed
// folder, so that reopening a pair shows its maps at once. It is touched
// on the UI goroutine only, and emptied when another folder is analysed.
type occlusionCache map[occlusionKey]*occlusion.Result

// Patch sizes and strides offered; the defaults are the package's.
var (
	patchChoices  = []string{"4", "8", "12", "16", "24", "32"}
	strideChoices = []string{"2", "4", "8", "16"}
)

// pairModel is one model's view of the inspected pair.
type pairModel struct {
	label string
	entry modelreg.Entry
	info  compare.PairInfo
}

// occlusionPanel is the inspector's tab of occlusion maps: which models,
// patch size and stride, a button that computes the maps missing from the
// cache in a job (progress and Cancel in the panel, since the dialog
// covers the status bar), and the maps over each face with a colour bar.
type occlusionPanel struct {
	wb     *Workbench
	models []pairModel
	pair   occlusion.Pair
	mask   string

	which          *widget.Select // which models; only with two
	patch, stride  *widget.Select
	compute        *widget.Button
	job            *jobView
	note           *widget.Label
	maps           *fyne.Container
	shownFor       []occlusionKey // what maps shows
	overlays       []*canvas.Image
	colourBarScale occlusion.Scale
}

func newOcclusionPanel(wb *Workbench, models []pairModel, p compare.PairInfo) *occlusionPanel {
	o := &occlusionPanel{wb: wb, models: models, mask: wb.cmp.Mask.String(), job: wb.newJobView(), note: widget.NewLabel("")}
	o.pair = occlusion.Pair{NameA: p.A.Name(), NameB: p.B.Name(), A: p.A.Aligned, B: p.B.Aligned, MaskedA: p.A.Masked, MaskedB: p.B.Masked}
	o.note.Truncation = fyne.TextTruncateEllipsis
	o.patch = widget.NewSelect(patchChoices, nil)
	o.patch.SetSelected(strconv.Itoa(occlusion.DefaultPatch))
	o.stride = widget.NewSelect(strideChoices, nil)
	o.stride.SetSelected(strconv.Itoa(occlusion.DefaultStride))
	selects := []*widget.Select{o.patch, o.stride}
	if len(models) > 1 {
		o.which = widget.NewSelect([]string{models[0].label, models[1].label, "both"}, nil)
		o.which.SetSelectedIndex(2)
		selects = append(selects, o.which)
	}
	for _, s := range selects {
		s.OnChanged = func(string) { o.update() }
	}
	o.compute = widget.NewButton("Compute occlusion maps", o.start)
	o.compute.Importance = widget.HighImportance
	o.maps = container.NewVBox()
	o.update()
	return o
}

// view lays the panel out.
func (o *occlusionPanel) view() fyne.CanvasObject {
	controls := []fyne.CanvasObject{widget.NewLabel("Patch"), o.patch, widget.NewLabel("stride"), o.stride}
	if o.which != nil {
		controls = append([]fyne.CanvasObject{widget.NewLabel("Model"), o.which}, controls...)
	}
	controls = append(controls, o.compute)
	progressRow := container.NewBorder(nil, nil, nil, container.NewHBox(
		container.NewGridWrap(fyne.NewSize(200, o.job.bar.MinSize().Height), o.job.bar), o.job.cancelBt), o.job.status)
	top := container.NewVBox(container.NewHBox(controls...), progressRow, o.note)
	return container.NewBorder(top, nil, nil, nil, container.NewVScroll(o.maps))
}

// chosen are the models whose maps are shown.
func (o *occlusionPanel) chosen() []pairModel {
	if o.which == nil {
		return o.models
	}
	switch i := o.which.SelectedIndex(); i {
	case 0, 1:
		return o.models[i : i+1]
	}
	return o.models
}

// grid is the chosen patch size and stride.
func (o *occlusionPanel) grid() (patch, stride int, err error) {
	patch, _ = strconv.Atoi(o.patch.Selected)
	stride, _ = strconv.Atoi(o.stride.Selected)
	g := occlusion.Options{Patch: patch, Stride: stride}.Grid(o.pair.A.Rect.Dx())
	if err := g.Validate(); err != nil {
		return 0, 0, fmt.Errorf("a stride larger than the patch leaves gaps: choose a stride of at most %d", patch)
	}
	return patch, stride, nil
}

// keys are the cache keys of the chosen models' maps at the chosen grid.
func (o *occlusionPanel) keys(patch, stride int) []occlusionKey {
	var out []occlusionKey
	for _, m := range o.chosen() {
		out = append(out, occlusionKey{sha: m.entry.SHA256, a: o.models[0].info.A.Key, b: o.models[0].info.B.Key, mask: o.mask, patch: patch, stride: stride})
	}
	return out
}

// update shows the cached maps of the current choice, or says they are
// to be computed.
func (o *occlusionPanel) update() {
	patch, stride, err := o.grid()
	if err != nil {
		o.note.SetText(err.Error())
		o.compute.Disable()
		return
	}
	o.compute.Enable()
	keys := o.keys(patch, stride)
	var results []*occlusion.Result
	for _, k := range keys {
		if r := o.wb.occlusion[k]; r != nil {
			results = append(results, r)
		}
	}
	if len(results) < len(keys) {
		g := occlusion.Options{Patch: patch, Stride: stride}.Grid(o.pair.A.Rect.Dx())
		o.note.SetText(fmt.Sprintf("%d×%d grey patches at stride %d: %d embeddings per face, 4 faces per model. Not computed yet.", patch, patch, stride, g.Cells()+1))
		o.compute.SetText("Compute occlusion maps")
		if len(results) == 0 {
			o.showMaps(nil, nil)
			return
		}
	} else {
		o.compute.SetText("Computed")
		o.compute.Disable()
		o.note.SetText("Score drop when a grey patch hides a region: red, the region supports the score; blue, hiding it raises the score.")
	}
	o.showMaps(keys, results)
}

// start computes the chosen models' missing maps in a job.
func (o *occlusionPanel) start() {
	patch, stride, err := o.grid()
	if err != nil {
		return
	}
	var todo []pairModel
	var keys []occlusionKey
	for i, k := range o.keys(patch, stride) {
		if o.wb.occlusion[k] == nil {
			todo, keys = append(todo, o.chosen()[i]), append(keys, k)
		}
	}
	if len(todo) == 0 {
		return
	}
	wb, pair := o.wb, o.pair
	label := fmt.Sprintf("Occlusion maps of %s × %s", pair.NameA, pair.NameB)
	wb.runJobIn(o.job, label, func(ctx context.Context, prog progress.Func) (func(), error) {
		eng, err := wb.engine()
		if err != nil {
			return nil, err
		}
		results := make([]*occlusion.Result, len(todo))
		for i, m := range todo {
			emb, err := wb.recs.get(eng, m.entry)
			if err != nil {
				return nil, err
			}
			part := func(done, total int) { prog(i*total+done, len(todo)*total) }
			results[i], err = occlusion.ComputePair(ctx, emb, occlusion.Model{Name: m.label, SHA256: m.entry.SHA256, Threshold: m.info.Threshold},
				pair, occlusion.Options{Patch: patch, Stride: stride, Progress: part})
			if err != nil {
				return nil, err
			}
		}
		return func() {
			for i, k := range keys {
				wb.occlusion[k] = results[i]
			}
			o.update()
			msg := fmt.Sprintf("%s: done on %s.", label, eng.Device())
			o.job.status.SetText(msg)
			wb.status.SetText(msg)
		}, nil
	})
}

// occlusionFace is the side a face is shown at, at least.
const occlusionFace = 96

// showMaps lays out results as a table: a row per setting with its
// scores, the setting's two faces, and each chosen model's two faces
// under their maps; one colour bar for all.
func (o *occlusionPanel) showMaps(keys []occlusionKey, results []*occlusion.Result) {
	o.shownFor, o.overlays = keys, nil
	if len(results) == 0 {
		o.maps.Objects = nil
		o.maps.Refresh()
		return
	}
	scale := occlusion.ScaleFor(results...)
	o.colourBarScale = scale
	cols := 2 + len(results)
	heads := []fyne.CanvasObject{widget.NewLabel(""), centered(o.pair.NameA + " · " + o.pair.NameB)}
	for _, r := range results {
		heads = append(heads, centered(r.Model.Name+thresholdNote(r.Model.Threshold)))
	}
	for _, h := range heads[1:] {
		h.(*widget.Label).TextStyle.Bold = true
		h.(*widget.Label).Truncation = fyne.TextTruncateEllipsis
	}
	rows := []fyne.CanvasObject{container.NewGridWithColumns(cols, heads...)}
	for _, s := range o.pair.Settings() {
		a, b := o.pair.A, o.pair.B
		if s != occlusion.Unmasked {
			b = o.pair.MaskedB
		}
		if s == occlusion.BothMasked {
			a = o.pair.MaskedA
		}
		text := s.String()
		cells := []fyne.CanvasObject{nil, o.faces(a, b)}
		for _, r := range results {
			m, _ := r.Setting(s)
			cells = append(cells, o.faces(occlusion.Overlay(a, m.A, scale), occlusion.Overlay(b, m.B, scale)))
			text += fmt.Sprintf("\n%s %.3f", r.Model.Name, m.Score)
		}
		label := widget.NewLabel(text)
		label.Truncation = fyne.TextTruncateEllipsis
		cells[0] = label
		rows = append(rows, container.NewGridWithColumns(cols, cells...))
	}
	o.maps.Objects = []fyne.CanvasObject{container.NewBorder(nil, nil, nil, colourBar(scale), container.NewVBox(rows...))}
	o.maps.Refresh()
}

// thresholdNote is a model heading's threshold, if known.
func thresholdNote(t float64) string {
	if t == 0 {
		return " (no threshold)"
	}
	return fmt.Sprintf(" (t = %.4f)", t)
}

// faces shows two faces side by side.
func (o *occlusionPanel) faces(a, b *image.NRGBA) fyne.CanvasObject {
	img := func(m *image.NRGBA) fyne.CanvasObject {
		c := canvas.NewImageFromImage(m)
		c.FillMode = canvas.ImageFillContain
		c.ScaleMode = canvas.ImageScalePixels
		c.SetMinSize(fyne.NewSquareSize(occlusionFace))
		o.overlays = append(o.overlays, c)
		return c
	}
	return container.NewGridWithColumns(2, img(a), img(b))
}

// colourBar is the scale as a vertical bar with its ends and zero marked.
func colourBar(s occlusion.Scale) fyne.CanvasObject {
	bar := imageView(fyne.NewSize(16, 200), func(dst *image.NRGBA) { occlusion.DrawColorBar(dst, dst.Rect, s) })
	label := func(v string) *widget.Label { return widget.NewLabel(v) }
	ticks := container.NewVBox(label(fmt.Sprintf("≥ +%.3g", s.Max)), layout.NewSpacer(), label("0"), layout.NewSpacer(), label(fmt.Sprintf("≤ −%.3g", s.Max)))
	bar.SetMinSize(fyne.NewSize(16, 3*occlusionFace))
	head := widget.NewLabel("score drop")
	head.TextStyle.Bold = true
	return container.NewBorder(head, nil, nil, nil, container.NewHBox(bar, ticks))
}
