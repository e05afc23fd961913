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

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// FigureOptions configure Figure. The zero value is a sensible default.
type FigureOptions struct {
	Scale     Scale // 0: ScaleFor(results...)
	FaceScale int   // face pixels per crop pixel; 0: 2
	Title     string
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
	if opt.Scale.Max <= 0 {
		opt.Scale = ScaleFor(results...)
	}
	if opt.FaceScale <= 0 {
		opt.FaceScale = 2
	}
	ts, err := newTypesetter()
	if err != nil {
		return nil, err
	}
	f := figureLayout{p: p, results: results, opt: opt, ts: ts, face: opt.FaceScale * p.A.Rect.Dx()}
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
	ts      *typesetter
	face    int // side of a drawn face
}

func (f *figureLayout) groupX(g int) int { return figMargin + g*(2*f.face+figGap+figGroupGap) }

// headerHeight is the height of the title, explanation and column
// headings above the first row.
func headerHeight() int {
	return lineH(titleSize) + 2*lineH(bodySize) + figGap + lineH(headSize) + lineH(smallSize) + figGap
}

// rowHeight is the height of one setting's row: label, faces, captions.
func (f *figureLayout) rowHeight() int {
	return lineH(headSize) + f.face + 2*lineH(smallSize) + figGap
}

func (f *figureLayout) draw() *image.NRGBA {
	settings := f.p.Settings()
	groups := 1 + len(f.results)
	w := f.groupX(groups) + barWidth + barLabels + figMargin
	h := figMargin + headerHeight() + len(settings)*f.rowHeight() + figMargin
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)

	y := figMargin
	title := f.opt.Title
	if title == "" {
		title = fmt.Sprintf("Occlusion maps: %s vs %s", f.p.NameA, f.p.NameB)
	}
	y += f.ts.text(img, figMargin, y, title, titleSize, true, w-2*figMargin)
	g := f.results[0].Grid
	y += f.ts.text(img, figMargin, y, fmt.Sprintf("Drop in cosine score when a %d×%d grey patch hides the region (stride %d, %d patches per face).",
		g.Patch, g.Patch, g.Stride, g.Cells()), bodySize, false, w-2*figMargin)
	y += f.ts.text(img, figMargin, y, "Red: the region supports the score; blue: hiding it raises the score.", bodySize, false, w-2*figMargin)
	y += figGap
	f.ts.text(img, f.groupX(0), y, "faces", headSize, true, 2*f.face+figGap)
	for k, r := range f.results {
		x := f.groupX(k + 1)
		f.ts.text(img, x, y, r.Model.Name, headSize, true, 2*f.face+figGap)
		th := "no threshold known"
		if r.Model.Threshold != 0 {
			th = "threshold " + strconv.FormatFloat(r.Model.Threshold, 'f', 4, 64)
		}
		f.ts.text(img, x, y+lineH(headSize), th, smallSize, false, 2*f.face+figGap)
	}
	y = figMargin + headerHeight()
	for _, s := range settings {
		f.drawRow(img, y, s)
		y += f.rowHeight()
	}
	top := figMargin + headerHeight() + lineH(headSize)
	bottom := y - f.rowHeight() + lineH(headSize) + f.face
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
	f.ts.text(img, figMargin, y, s.String()+" ("+s.ID()+")", headSize, true, f.groupX(len(f.results)+1))
	y += lineH(headSize)
	x0, x1 := f.groupX(0), f.groupX(0)+f.face+figGap
	drawScaled(img, image.Pt(x0, y), a, f.opt.FaceScale)
	drawScaled(img, image.Pt(x1, y), b, f.opt.FaceScale)
	f.ts.tail(img, x0, y+f.face+2, f.p.NameA, f.face)
	f.ts.tail(img, x1, y+f.face+2, f.p.NameB, f.face)
	for k, r := range f.results {
		x := f.groupX(k + 1)
		m, ok := r.Setting(s)
		if !ok {
			f.ts.text(img, x, y+f.face/2, "not computed", bodySize, false, 2*f.face+figGap)
			continue
		}
		drawScaled(img, image.Pt(x, y), Overlay(a, m.A, f.opt.Scale), f.opt.FaceScale)
		drawScaled(img, image.Pt(x+f.face+figGap, y), Overlay(b, m.B, f.opt.Scale), f.opt.FaceScale)
		f.ts.text(img, x, y+f.face+2, scoreCaption(m, r.Model.Threshold), smallSize, false, 2*f.face+figGap)
		f.ts.text(img, x, y+f.face+2+lineH(smallSize), fmt.Sprintf("largest drop: A %+.3f, B %+.3f", maxDrop(m.A), maxDrop(m.B)),
			smallSize, false, 2*f.face+figGap)
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
	f.ts.text(img, r.Min.X, r.Min.Y-2*lineH(smallSize), "score drop", smallSize, true, barWidth+barLabels)
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
		f.ts.text(img, r.Max.X+6, y-lineH(smallSize)/2, label, smallSize, false, barLabels)
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

// Text sizes in points (72 DPI, so pixels).
const (
	titleSize = 18
	headSize  = 13
	bodySize  = 12
	smallSize = 11
)

func lineH(size float64) int { return int(math.Ceil(size * 1.35)) }

// typesetter draws text in the Go fonts. Font faces cache glyphs and are
// not safe for concurrent use, so each figure makes its own.
type typesetter struct {
	faces map[[2]int]font.Face
	reg   *opentype.Font
	bold  *opentype.Font
}

func newTypesetter() (*typesetter, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("occlusion: font: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("occlusion: font: %w", err)
	}
	return &typesetter{faces: map[[2]int]font.Face{}, reg: reg, bold: bold}, nil
}

func (t *typesetter) face(size float64, bold bool) font.Face {
	k := [2]int{int(size * 10), 0}
	src := t.reg
	if bold {
		k[1], src = 1, t.bold
	}
	if f, ok := t.faces[k]; ok {
		return f
	}
	f, err := opentype.NewFace(src, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		// The Go fonts at a positive size always make a face.
		panic(fmt.Sprintf("occlusion: font face %v: %v", size, err))
	}
	t.faces[k] = f
	return f
}

// text draws s with its top at y, cut with "…" to maxW pixels, and returns
// the line height.
func (t *typesetter) text(dst *image.NRGBA, x, y int, s string, size float64, bold bool, maxW int) int {
	f := t.face(size, bold)
	if font.MeasureString(f, s).Ceil() > maxW {
		r := []rune(s)
		for len(r) > 0 && font.MeasureString(f, string(r)+"…").Ceil() > maxW {
			r = r[:len(r)-1]
		}
		s = string(r) + "…"
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.NRGBA{25, 25, 25, 255}), Face: f,
		Dot: fixed.P(x, y+int(math.Round(size*0.95)))}
	d.DrawString(s)
	return lineH(size)
}

// tail is text keeping the end of s ("…rsol_0001"): the end of a photo's
// name tells photos of one person apart.
func (t *typesetter) tail(dst *image.NRGBA, x, y int, s string, maxW int) {
	f := t.face(smallSize, false)
	if font.MeasureString(f, s).Ceil() > maxW {
		r := []rune(s)
		for len(r) > 0 && font.MeasureString(f, "…"+string(r)).Ceil() > maxW {
			r = r[1:]
		}
		s = "…" + string(r)
	}
	t.text(dst, x, y, s, smallSize, false, maxW)
}
