package ui

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/maskinv/workbench/render"
)

// heatmap shows one N×N score matrix as a square image drawn by
// render.DrawHeatmap: one raster, redrawn from the cached scores only when the
// matrix or the widget's size changes (never one object per cell, so
// N = 2000 costs the same to display as N = 12). Hovering a cell outlines it
// and shows its tooltip; tapping it calls onTap.
type heatmap struct {
	widget.BaseWidget

	hm      render.Heatmap
	version int     // bumped by SetHeatmap
	minSide float32 // the smallest side it may be laid out at

	hover struct {
		on   bool
		i, j int
		pos  fyne.Position
	}
	tip     func(i, j int) string // tooltip text of a cell
	onTap   func(i, j int)
	onHover func(text string) // "" when the pointer leaves
}

var (
	_ desktop.Hoverable = (*heatmap)(nil)
	_ fyne.Tappable     = (*heatmap)(nil)
)

func newHeatmap(tip func(i, j int) string, onTap func(i, j int)) *heatmap {
	h := &heatmap{tip: tip, onTap: onTap, minSide: heatmapMinSide}
	h.ExtendBaseWidget(h)
	return h
}

// SetHeatmap shows hm.
func (h *heatmap) SetHeatmap(hm render.Heatmap) {
	h.hm = hm
	h.version++
	h.hover.on = false
	h.Refresh()
}

// square is the map's square in widget coordinates.
func (h *heatmap) square() (pos fyne.Position, side float32) {
	s := h.Size()
	side = min(s.Width, s.Height)
	return fyne.NewPos((s.Width-side)/2, (s.Height-side)/2), side
}

// cellAt is the cell under p.
func (h *heatmap) cellAt(p fyne.Position) (i, j int, ok bool) {
	n := h.hm.Scores.N
	o, side := h.square()
	x, y := p.X-o.X, p.Y-o.Y
	if n == 0 || side <= 0 || x < 0 || y < 0 || x >= side || y >= side {
		return 0, 0, false
	}
	i = min(n-1, int(y/side*float32(n)))
	j = min(n-1, int(x/side*float32(n)))
	return i, j, true
}

// MouseIn is part of desktop.Hoverable.
func (h *heatmap) MouseIn(ev *desktop.MouseEvent) { h.MouseMoved(ev) }

// MouseMoved is part of desktop.Hoverable.
func (h *heatmap) MouseMoved(ev *desktop.MouseEvent) {
	i, j, ok := h.cellAt(ev.Position)
	if ok == h.hover.on && i == h.hover.i && j == h.hover.j && ok {
		h.hover.pos = ev.Position
		h.Refresh()
		return
	}
	h.hover.on, h.hover.i, h.hover.j, h.hover.pos = ok, i, j, ev.Position
	if h.onHover != nil {
		text := ""
		if ok {
			text = h.tip(i, j)
		}
		h.onHover(text)
	}
	h.Refresh()
}

// MouseOut is part of desktop.Hoverable.
func (h *heatmap) MouseOut() {
	h.hover.on = false
	if h.onHover != nil {
		h.onHover("")
	}
	h.Refresh()
}

// Tapped opens the cell's pair.
func (h *heatmap) Tapped(ev *fyne.PointEvent) {
	if i, j, ok := h.cellAt(ev.Position); ok && h.onTap != nil {
		h.onTap(i, j)
	}
}

// CreateRenderer is part of fyne.Widget.
func (h *heatmap) CreateRenderer() fyne.WidgetRenderer {
	r := &heatmapRenderer{h: h}
	r.raster = canvas.NewRaster(r.draw)
	r.raster.ScaleMode = canvas.ImageScalePixels
	r.cell = canvas.NewRectangle(color.Transparent)
	r.cell.StrokeWidth = 2
	r.tipBg = canvas.NewRectangle(color.NRGBA{20, 20, 20, 230})
	r.tipBg.CornerRadius = 4
	r.tipText = canvas.NewText("", color.White)
	r.tipText.TextSize = theme.CaptionTextSize()
	r.Refresh()
	return r
}

type heatmapRenderer struct {
	h       *heatmap
	raster  *canvas.Raster
	cell    *canvas.Rectangle
	tipBg   *canvas.Rectangle
	tipText *canvas.Text

	cached        *image.NRGBA
	cachedVersion int
}

// draw renders the map at the raster's pixel size, reusing the last image
// while neither the size nor the matrix changed.
func (r *heatmapRenderer) draw(w, h int) image.Image {
	if c := r.cached; c != nil && c.Rect.Dx() == w && c.Rect.Dy() == h && r.cachedVersion == r.h.version {
		return c
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	render.DrawHeatmap(img, render.HeatmapRect(img.Rect), r.h.hm)
	r.cached, r.cachedVersion = img, r.h.version
	return img
}

func (r *heatmapRenderer) Layout(size fyne.Size) {
	r.raster.Resize(size)
	r.placeHover(size)
}

// The smallest side of a heatmap: one row of them, or two rows (two
// models) in the same window.
const heatmapMinSide, heatmapMinSideTwoRows = 140, 100

func (r *heatmapRenderer) MinSize() fyne.Size { return fyne.NewSquareSize(r.h.minSide) }

func (r *heatmapRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.raster, r.cell, r.tipBg, r.tipText}
}

func (r *heatmapRenderer) Destroy() {}

func (r *heatmapRenderer) Refresh() {
	if r.cachedVersion != r.h.version {
		r.raster.Refresh()
	}
	r.cell.StrokeColor = theme.Color(theme.ColorNameForeground)
	r.placeHover(r.h.Size())
	canvas.Refresh(r.cell)
	canvas.Refresh(r.tipBg)
	canvas.Refresh(r.tipText)
}

// placeHover outlines the hovered cell and puts the tooltip beside the
// pointer, inside the widget.
func (r *heatmapRenderer) placeHover(size fyne.Size) {
	h := r.h
	if !h.hover.on || h.hm.Scores.N == 0 {
		r.cell.Hide()
		r.tipBg.Hide()
		r.tipText.Hide()
		return
	}
	o, side := h.square()
	n := float32(h.hm.Scores.N)
	cs := side / n
	pad := float32(math.Max(0, float64(3-cs)/2)) // keep tiny cells visible
	r.cell.Move(fyne.NewPos(o.X+float32(h.hover.j)*cs-pad, o.Y+float32(h.hover.i)*cs-pad))
	r.cell.Resize(fyne.NewSquareSize(cs + 2*pad))
	r.cell.Show()

	r.tipText.Text = h.tip(h.hover.i, h.hover.j)
	ts := r.tipText.MinSize()
	box := fyne.NewSize(ts.Width+12, ts.Height+6)
	x, y := h.hover.pos.X+14, h.hover.pos.Y+14
	if x+box.Width > size.Width {
		x = h.hover.pos.X - 6 - box.Width
	}
	if y+box.Height > size.Height {
		y = h.hover.pos.Y - 6 - box.Height
	}
	x, y = max(0, x), max(0, y)
	r.tipBg.Move(fyne.NewPos(x, y))
	r.tipBg.Resize(box)
	r.tipText.Move(fyne.NewPos(x+6, y+3))
	r.tipText.Resize(ts)
	r.tipBg.Show()
	r.tipText.Show()
}

// imageView is a raster drawn by an app function at the raster's pixel
// size, such as a legend or a histogram.
func imageView(min fyne.Size, paint func(dst *image.NRGBA)) *canvas.Raster {
	r := canvas.NewRaster(func(w, h int) image.Image {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		paint(img)
		return img
	})
	r.SetMinSize(min)
	return r
}
