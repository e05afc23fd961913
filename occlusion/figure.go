package occlusion

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"
	"strings"

	"github.com/maskinv/workbench/render"
)

// FigureOptions configure Figure. The zero value is a sensible default.
type FigureOptions struct {
	Scale     Scale         // 0: ScaleFor(results...)
	FaceScale int           // face pixels per crop pixel; 0: 2
	Title     string        // "": "Occlusion maps: A vs B"
	Fonts     *render.Fonts // nil: a new one
}

// ErrNoResults: Figure was given nothing to draw.
var ErrNoResults = errors.New("occlusion: no results to draw")

// Figure draws one pair's occlusion maps: a row per setting (the unmasked
// pair, then unmasked–masked and masked–masked when the pair has masked
// faces), each with the setting's two faces as they are and, for each
// model side by side, both faces under their maps with the pair's score;
// one colour scale for every map, drawn as a bar on the right.
func Figure(p Pair, results []*Result, opt FigureOptions) (*image.NRGBA, error) {
	if len(results) == 0 {
		return nil, ErrNoResults
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	for _, r := range results {
		if err := r.check(p.A.Rect.Dx()); err != nil {
			return nil, err
		}
	}
	if opt.Scale.Max <= 0 {
		opt.Scale = ScaleFor(results...)
	}
	if opt.FaceScale <= 0 {
		opt.FaceScale = 2
	}
	if opt.Fonts == nil {
		opt.Fonts = render.NewFonts()
	}
	f := figureLayout{p: p, results: results, opt: opt, fonts: opt.Fonts, face: opt.FaceScale * p.A.Rect.Dx()}
	return f.draw(), nil
}

const (
	figMargin   = 16
	figGap      = 8  // between the two faces of a group
	figGroupGap = 28 // between groups
	barWidth    = 18
	barLabels   = 64
)

type figureLayout struct {
	p       Pair
	results []*Result
	opt     FigureOptions
	fonts   *render.Fonts
	face    int // side of a drawn face
}

func (f *figureLayout) groupX(g int) int { return figMargin + g*(2*f.face+figGap+figGroupGap) }

// headerHeight is the height of the title, explanation and column
// headings above the first row.
func headerHeight() int {
	return render.StyleTitle.LineHeight() + 2*render.StyleBody.LineHeight() + figGap + render.StyleHeading.LineHeight() + render.StyleSmall.LineHeight() + figGap
}

// rowHeight is the height of one setting's row: label, faces, captions.
func (f *figureLayout) rowHeight() int {
	return render.StyleHeading.LineHeight() + f.face + 2*render.StyleSmall.LineHeight() + figGap
}

func (f *figureLayout) draw() *image.NRGBA {
	settings := f.p.Settings()
	groups := 1 + len(f.results)
	w := f.groupX(groups) + barWidth + barLabels + figMargin
	h := figMargin + headerHeight() + len(settings)*f.rowHeight() + figMargin
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)

	y := figMargin
	heading := f.opt.Title
	if heading == "" {
		heading = fmt.Sprintf("Occlusion maps: %s vs %s", f.p.NameA, f.p.NameB)
	}
	f.fonts.Draw(img, figMargin, y, heading, render.StyleTitle, w-2*figMargin)
	y += render.StyleTitle.LineHeight()
	g := f.results[0].Grid
	f.fonts.Draw(img, figMargin, y, fmt.Sprintf("Drop in cosine score when a %d×%d grey patch hides the region (stride %d, %d patches per face).",
		g.Patch, g.Patch, g.Stride, g.Cells()), render.StyleBody, w-2*figMargin)
	y += render.StyleBody.LineHeight()
	f.fonts.Draw(img, figMargin, y, "Red: the region supports the score; blue: hiding it raises the score.", render.StyleBody, w-2*figMargin)
	y += render.StyleBody.LineHeight() + figGap
	f.fonts.Draw(img, f.groupX(0), y, "faces", render.StyleHeading, 2*f.face+figGap)
	for k, r := range f.results {
		x := f.groupX(k + 1)
		f.fonts.Draw(img, x, y, r.Model.Name, render.StyleHeading, 2*f.face+figGap)
		th := "no threshold known"
		if r.Model.Threshold != 0 {
			th = "threshold " + strconv.FormatFloat(r.Model.Threshold, 'f', 4, 64)
		}
		f.fonts.Draw(img, x, y+render.StyleHeading.LineHeight(), th, render.StyleSmall, 2*f.face+figGap)
	}
	y = figMargin + headerHeight()
	for _, s := range settings {
		f.drawRow(img, y, s)
		y += f.rowHeight()
	}
	top := figMargin + headerHeight() + render.StyleHeading.LineHeight()
	bottom := y - f.rowHeight() + render.StyleHeading.LineHeight() + f.face
	f.drawBar(img, image.Rect(f.groupX(groups), top, f.groupX(groups)+barWidth, bottom))
	return img
}

// drawRow draws setting s's faces and maps with the row's top at y.
func (f *figureLayout) drawRow(img *image.NRGBA, y int, s Setting) {
	a, b := f.p.A, f.p.B
	if s == OneMasked || s == BothMasked {
		b = f.p.MaskedB
	}
	if s == BothMasked {
		a = f.p.MaskedA
	}
	f.fonts.Draw(img, figMargin, y, s.String()+" ("+s.ID()+")", render.StyleHeading, f.groupX(len(f.results)+1))
	y += render.StyleHeading.LineHeight()
	x0, x1 := f.groupX(0), f.groupX(0)+f.face+figGap
	drawScaled(img, image.Pt(x0, y), a, f.opt.FaceScale)
	drawScaled(img, image.Pt(x1, y), b, f.opt.FaceScale)
	f.fonts.DrawTail(img, x0, y+f.face+2, f.p.NameA, render.StyleSmall, f.face)
	f.fonts.DrawTail(img, x1, y+f.face+2, f.p.NameB, render.StyleSmall, f.face)
	for k, r := range f.results {
		x := f.groupX(k + 1)
		m, ok := r.Setting(s)
		if !ok {
			f.fonts.Draw(img, x, y+f.face/2, "not computed", render.StyleBody, 2*f.face+figGap)
			continue
		}
		drawScaled(img, image.Pt(x, y), Overlay(a, m.A, f.opt.Scale), f.opt.FaceScale)
		drawScaled(img, image.Pt(x+f.face+figGap, y), Overlay(b, m.B, f.opt.Scale), f.opt.FaceScale)
		f.fonts.Draw(img, x, y+f.face+2, scoreCaption(m, r.Model.Threshold), render.StyleSmall, 2*f.face+figGap)
		f.fonts.Draw(img, x, y+f.face+2+render.StyleSmall.LineHeight(), fmt.Sprintf("largest drop: A %+.3f, B %+.3f", maxDrop(m.A), maxDrop(m.B)),
			render.StyleSmall, 2*f.face+figGap)
	}
}

func scoreCaption(m SettingMaps, threshold float64) string {
	s := "score " + strconv.FormatFloat(m.Score, 'f', 3, 64)
	if threshold == 0 {
		return s
	}
	if m.Score >= threshold {
		return s + " · same person"
	}
	return s + " · different people"
}

// maxDrop is the drop of largest magnitude, with its sign.
func maxDrop(m Map) float64 {
	v := 0.0
	for _, d := range m.Drops {
		if math.Abs(d) > math.Abs(v) {
			v = d
		}
	}
	return v
}

// drawBar draws the colour bar in r with ticks at −Max, −Max/2, 0, Max/2
// and Max (values beyond take the end colours) and its caption above.
func (f *figureLayout) drawBar(img *image.NRGBA, r image.Rectangle) {
	DrawColorBar(img, r, f.opt.Scale)
	f.fonts.Draw(img, r.Min.X, r.Min.Y-2*render.StyleSmall.LineHeight(), "score drop", render.TextStyle{Size: render.StyleSmall.Size, Bold: true, Color: render.StyleSmall.Color}, barWidth+barLabels)
	tick := color.NRGBA{40, 40, 40, 255}
	for k := 0; k <= 4; k++ {
		v := f.opt.Scale.Max * (1 - float64(k)/2)
		y := r.Min.Y + int(math.Round(float64(k)/4*float64(r.Dy()-1)))
		for x := r.Max.X; x < r.Max.X+4; x++ {
			img.SetNRGBA(x, y, tick)
		}
		label := signed(v)
		switch k {
		case 0:
			label = "≥ " + label
		case 4:
			label = "≤ " + label
		}
		f.fonts.Draw(img, r.Max.X+6, y-render.StyleSmall.LineHeight()/2, label, render.StyleSmall, barLabels)
	}
}

func signed(v float64) string {
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if v > 0 {
		s = "+" + s
	}
	return s
}

// drawScaled draws src with its top-left at at, each pixel k×k.
func drawScaled(dst *image.NRGBA, at image.Point, src *image.NRGBA, k int) {
	b := src.Rect
	for y := 0; y < b.Dy()*k; y++ {
		for x := 0; x < b.Dx()*k; x++ {
			dst.SetNRGBA(at.X+x, at.Y+y, src.NRGBAAt(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
}
