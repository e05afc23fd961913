package maskgen

import (
	"errors"
	"fmt"
	"image"
	"image/draw"

	"github.com/maskinv/workbench/imageio"
)

// Algorithm names the drawing code's version. It is recorded in every
// Params: a change to any style that alters pixels must change it, so that
// `maskinv mask` reruns know their earlier outputs are stale.
const Algorithm = "maskgen/1"

// Params is every choice made for one mask. Render redraws the same mask
// from it; manifests record it. Units: ShiftX/ShiftY in template pixels
// (paper); Fit is where the top edge sits on the nose bridge (0 = the
// upper landmark of the style's pair, 1 = the lower); Drop is how far the
// mask reaches below the chin, in eye distances; Pattern scales the
// texture's period; Angle turns stripes (degrees); Grain seeds the
// per-pixel noise.
type Params struct {
	Algorithm string  `json:"algorithm"`
	Style     string  `json:"style"`
	Color     Color   `json:"color"`
	Color2    Color   `json:"color2,omitzero"`
	Texture   string  `json:"texture"`
	ShiftX    int     `json:"shift_x,omitzero"`
	ShiftY    int     `json:"shift_y,omitzero"`
	Fit       float64 `json:"fit,omitzero"`
	Drop      float64 `json:"drop,omitzero"`
	Pattern   float64 `json:"pattern,omitzero"`
	Angle     int     `json:"angle,omitzero"`
	Grain     uint32  `json:"grain,omitzero"`
	Seed      uint64  `json:"seed"`
	Key       string  `json:"key"`
}

// Config says which masks to make. The zero value makes paper masks of
// random colour with seed 0 and the protocol's random shift.
type Config struct {
	Style StyleSpec
	Color ColorSpec
	Seed  uint64
	// Shift, when not nil, replaces the random shift of the styles that
	// have one (StyleHasShift: paper) in every mask; Apply refuses one
	// beyond MaxShift.
	Shift *Shift
}

// Validate reports settings Apply would refuse: a shift out of range.
func (c Config) Validate() error { return c.Shift.check() }

// String describes the settings, e.g. "paper, colour auto, seed 0, shift
// random"; different settings give different strings.
func (c Config) String() string {
	return fmt.Sprintf("%s, colour %s, seed %d, shift %s", c.Style, c.Color, c.Seed, c.Shift)
}

// style is one mask style: it makes its random choices, then draws.
type style interface {
	choose(rs func(label string) *stream, cs ColorSpec, p *Params)
	draw(dst *image.NRGBA, cov *image.Alpha, f *Face, p *Params) error
}

type paperStyle struct{}

func (paperStyle) choose(rs func(string) *stream, cs ColorSpec, p *Params) { paperChoose(rs, cs, p) }
func (paperStyle) draw(dst *image.NRGBA, cov *image.Alpha, f *Face, p *Params) error {
	return drawPaper(dst, cov, f, p)
}

// builder is a realistic style (see realistic.go and skeleton.go): what
// it draws at random, and how it builds its shape on a face.
type builder interface {
	choices() choices
	build(g *faceGeom, p *Params) shape
}

type realisticStyle struct{ b builder }

func (r realisticStyle) choose(rs func(string) *stream, cs ColorSpec, p *Params) {
	r.b.choices().choose(rs, cs, p)
}

func (r realisticStyle) draw(dst *image.NRGBA, cov *image.Alpha, f *Face, p *Params) error {
	return drawRealistic(dst, cov, f, p, r.b.build)
}

func styleOf(name string) (style, bool) {
	switch name {
	case "paper":
		return paperStyle{}, true
	case "surgical":
		return realisticStyle{surgical{}}, true
	case "n95":
		return realisticStyle{n95{}}, true
	case "kn95":
		return realisticStyle{kn95{}}, true
	case "cloth":
		return realisticStyle{cloth{}}, true
	case "bandana":
		return realisticStyle{bandana{}}, true
	}
	return nil, false
}

// Choose makes every random choice for the image called key: which style,
// colour, shift, texture. It depends on (c, key) only. A fixed c.Shift
// replaces the style's random shift (unchecked: Apply checks it).
func (c Config) Choose(key string) Params {
	rs := func(label string) *stream { return newStream(c.Seed, key, label) }
	p := Params{Algorithm: Algorithm, Seed: c.Seed, Key: key}
	p.Style = c.Style.pick(rs("style"))
	st, _ := styleOf(p.Style) // the spec holds known names only
	st.choose(rs, c.Color, &p)
	if sh, ok := st.(shifter); ok && c.Shift != nil {
		sh.shift(&p, *c.Shift)
	}
	return p
}

// Result is one masked image.
type Result struct {
	Image    *image.NRGBA
	Coverage *image.Alpha // 255 where the mask covers the pixel, else 0
	Params   Params
}

// CoveredFraction is the share of the image's pixels that the mask covers.
func (r Result) CoveredFraction() float64 { return CoveredFraction(r.Coverage) }

// CoveredFraction is the share of a coverage map's pixels that are set.
func CoveredFraction(cov *image.Alpha) float64 {
	if cov == nil || cov.Rect.Empty() {
		return 0
	}
	n := 0
	for y := cov.Rect.Min.Y; y < cov.Rect.Max.Y; y++ {
		for _, v := range cov.Pix[cov.PixOffset(cov.Rect.Min.X, y):][:cov.Rect.Dx()] {
			if v != 0 {
				n++
			}
		}
	}
	return float64(n) / float64(cov.Rect.Dx()*cov.Rect.Dy())
}

// Apply masks a copy of src (src is not modified) with the choices for key,
// placed by f. The copy has src's bounds.
func (c Config) Apply(src image.Image, f Face, key string) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	p := c.Choose(key)
	img := toNRGBA(src)
	cov, err := Render(img, f, p)
	if err != nil {
		return Result{}, err
	}
	return Result{Image: img, Coverage: cov, Params: p}, nil
}

// ApplyAligned masks a copy of an aligned crop (src is not modified) with
// the choices for key: the mask is placed by the ArcFace template for the
// crop's size (AlignedFace), at the crop's bounds, so that a sub-image is
// masked as the crop it is. This is the one way to mask an aligned crop.
func (c Config) ApplyAligned(crop image.Image, key string) (Result, error) {
	b := crop.Bounds()
	f := AlignedFace(b.Dx(), b.Dy())
	for i := range f.Points5 {
		f.Points5[i].X += float64(b.Min.X)
		f.Points5[i].Y += float64(b.Min.Y)
	}
	return c.Apply(crop, f, key)
}

// ErrParams reports Params that Render cannot draw.
var ErrParams = errors.New("maskgen: bad parameters")

var errDegenerate = fmt.Errorf("%w: the key points fold the mask template over", ErrLandmarks)

// Render draws the mask p describes onto dst, in place, and returns the
// coverage map (bounds of dst). *image.NRGBA is drawn directly; any other
// draw.Image is converted, drawn, and written back.
func Render(dst draw.Image, f Face, p Params) (*image.Alpha, error) {
	if p.Algorithm != Algorithm {
		return nil, fmt.Errorf("%w: made by %q, this is %q", ErrParams, p.Algorithm, Algorithm)
	}
	st, ok := styleOf(p.Style)
	if !ok {
		return nil, fmt.Errorf("%w: unknown style %q", ErrParams, p.Style)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	img, direct := dst.(*image.NRGBA)
	if !direct {
		img = toNRGBA(dst)
	}
	cov := image.NewAlpha(img.Rect)
	if err := st.draw(img, cov, &f, &p); err != nil {
		return nil, err
	}
	if !direct {
		draw.Draw(dst, img.Rect, img, img.Rect.Min, draw.Src)
	}
	return cov, nil
}

// toNRGBA returns a new *image.NRGBA copy of src with src's bounds:
// imageio's conversion, the project's one (YCbCr converted as libjpeg
// does), whose copy starts at (0, 0), given src's origin back.
func toNRGBA(src image.Image) *image.NRGBA {
	img := imageio.ToNRGBA(src)
	img.Rect = src.Bounds()
	return img
}
