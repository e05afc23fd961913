package render

import (
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// TextStyle is how text is written.
type TextStyle struct {
	Size  float64 // points at 72 DPI: pixels
	Bold  bool
	Color color.Color
}

// The styles of the workbench's pictures.
var (
	StyleTitle   = TextStyle{20, true, color.NRGBA{20, 20, 20, 255}}
	StyleHeading = TextStyle{14, true, color.NRGBA{20, 20, 20, 255}}
	StyleBody    = TextStyle{13, false, color.NRGBA{30, 30, 30, 255}}
	StyleSmall   = TextStyle{11, false, color.NRGBA{60, 60, 60, 255}}
)

// LineHeight is the distance between baselines of st.
func (st TextStyle) LineHeight() int { return int(math.Ceil(st.Size * 1.35)) }

// Fonts writes text in Go Regular and Go Bold (BSD licence, in
// golang.org/x/image), drawn without hinting so that output is identical
// everywhere. It keeps a face per style, and a face caches glyphs and is
// not safe for concurrent use, so Fonts serialises its users.
type Fonts struct {
	mu            sync.Mutex
	regular, bold *opentype.Font
	faces         map[fontKey]font.Face
}

type fontKey struct {
	bold bool
	size float64
}

// NewFonts parses the embedded fonts.
func NewFonts() *Fonts {
	r, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err) // embedded data: a broken build, not bad input
	}
	b, err := opentype.Parse(gobold.TTF)
	if err != nil {
		panic(err)
	}
	return &Fonts{regular: r, bold: b, faces: map[fontKey]font.Face{}}
}

// face returns the face of a style; f.mu must be held.
func (f *Fonts) face(bold bool, size float64) font.Face {
	k := fontKey{bold, size}
	if fc, ok := f.faces[k]; ok {
		return fc
	}
	src := f.regular
	if bold {
		src = f.bold
	}
	fc, err := opentype.NewFace(src, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		panic(err) // only for a size or DPI out of range
	}
	f.faces[k] = fc
	return fc
}

// Draw writes s with its top-left corner at (x, y) and returns its advance
// width. maxW > 0 cuts it with "…" to fit.
func (f *Fonts) Draw(dst *image.NRGBA, x, y int, s string, st TextStyle, maxW int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	fc := f.face(st.Bold, st.Size)
	if maxW > 0 {
		s = fitText(fc, s, maxW)
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(st.Color), Face: fc,
		Dot: fixed.P(x, y+int(math.Round(st.Size*0.95)))}
	d.DrawString(s)
	return (d.Dot.X - fixed.I(x)).Ceil()
}

// DrawTail is Draw keeping the end of s when it must cut it ("…rsol_0001"):
// the end of a photo's name tells its photos apart.
func (f *Fonts) DrawTail(dst *image.NRGBA, x, y int, s string, st TextStyle, maxW int) int {
	r := []rune(s)
	for len(r) > 0 && f.Width(string(r), st) > maxW {
		r = r[1:]
		if f.Width("…"+string(r), st) <= maxW {
			return f.Draw(dst, x, y, "…"+string(r), st, 0)
		}
	}
	return f.Draw(dst, x, y, string(r), st, 0)
}

// Width measures s in st.
func (f *Fonts) Width(s string, st TextStyle) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return font.MeasureString(f.face(st.Bold, st.Size), s).Ceil()
}

func fitText(f font.Face, s string, maxW int) string {
	if font.MeasureString(f, s).Ceil() <= maxW {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		t := string(r) + "…"
		if font.MeasureString(f, t).Ceil() <= maxW {
			return t
		}
	}
	return ""
}

// trimTick formats a tick value with as few decimals as it needs (at most
// two).
func trimTick(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
