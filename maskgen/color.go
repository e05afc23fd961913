package maskgen

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Color is an opaque sRGB colour. It marshals as "#rrggbb".
type Color struct{ R, G, B uint8 }

func (c Color) String() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// MarshalText writes "#rrggbb".
func (c Color) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads "#rrggbb" (as recorded in manifests).
func (c *Color) UnmarshalText(b []byte) error {
	v, err := parseHex(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ErrColor reports a colour that ParseColor cannot read.
var ErrColor = errors.New("maskgen: bad colour")

// colorNames are the names --color accepts.
var colorNames = map[string]Color{
	"white":    {0xf4, 0xf4, 0xf2},
	"black":    {0x24, 0x24, 0x26},
	"grey":     {0x9a, 0x9c, 0x9e},
	"gray":     {0x9a, 0x9c, 0x9e},
	"blue":     {0x7f, 0xb8, 0xdc}, // surgical blue
	"navy":     {0x23, 0x2f, 0x55},
	"green":    {0x8f, 0xd1, 0xb8}, // surgical mint
	"olive":    {0x5c, 0x63, 0x3a},
	"red":      {0xb2, 0x22, 0x22},
	"burgundy": {0x6d, 0x1f, 0x2e},
	"pink":     {0xf0, 0xa8, 0xbe},
	"purple":   {0x6a, 0x4c, 0x93},
	"yellow":   {0xe8, 0xc5, 0x47},
	"orange":   {0xe0, 0x7a, 0x2f},
	"beige":    {0xd8, 0xc6, 0xa6},
	"brown":    {0x6b, 0x4a, 0x2f},
	"denim":    {0x4a, 0x6a, 0x8f},
}

// ColorNames lists the colour names ParseColor accepts, sorted.
func ColorNames() []string {
	names := make([]string, 0, len(colorNames))
	for n := range colorNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ColorMode says how a ColorSpec picks colours.
type ColorMode uint8

const (
	// ColorAuto uses each style's own colours: uniform random RGB for
	// paper (the protocol), a palette of real mask colours for the others.
	ColorAuto ColorMode = iota
	// ColorRandom draws a uniform random RGB colour for every style.
	ColorRandom
	// ColorFixed uses one colour for every mask.
	ColorFixed
)

// ColorSpec is a parsed --color value. The zero value is ColorAuto.
type ColorSpec struct {
	Mode  ColorMode
	Color Color // when Mode is ColorFixed
}

func (c ColorSpec) String() string {
	switch c.Mode {
	case ColorRandom:
		return "random"
	case ColorFixed:
		return c.Color.String()
	}
	return "auto"
}

// ParseColor reads a colour spec: "" or "auto" (the style's own colours),
// "random", a name from ColorNames, or "#rrggbb" / "#rgb" (case-insensitive,
// surrounding spaces ignored).
func ParseColor(s string) (ColorSpec, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "", "auto":
		return ColorSpec{}, nil
	case "random":
		return ColorSpec{Mode: ColorRandom}, nil
	}
	if c, ok := colorNames[s]; ok {
		return ColorSpec{Mode: ColorFixed, Color: c}, nil
	}
	if strings.HasPrefix(s, "#") {
		c, err := parseHex(s)
		if err != nil {
			return ColorSpec{}, err
		}
		return ColorSpec{Mode: ColorFixed, Color: c}, nil
	}
	return ColorSpec{}, fmt.Errorf("%w %q: want auto, random, a name (%s) or #RRGGBB", ErrColor, s, strings.Join(ColorNames(), ", "))
}

func parseHex(s string) (Color, error) {
	h := strings.TrimPrefix(strings.ToLower(s), "#")
	if len(h) != 6 && len(h) != 3 || len(h) == len(s) {
		return Color{}, fmt.Errorf("%w %q: want #RRGGBB", ErrColor, s)
	}
	var v [6]uint8
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c >= '0' && c <= '9':
			v[i] = c - '0'
		case c >= 'a' && c <= 'f':
			v[i] = c - 'a' + 10
		default:
			return Color{}, fmt.Errorf("%w %q: %q is not a hex digit", ErrColor, s, c)
		}
	}
	if len(h) == 3 {
		return Color{v[0] * 17, v[1] * 17, v[2] * 17}, nil
	}
	return Color{v[0]<<4 | v[1], v[2]<<4 | v[3], v[4]<<4 | v[5]}, nil
}

// randomRGB is a uniform random colour.
func randomRGB(r *stream) Color {
	x := r.uint64()
	return Color{uint8(x), uint8(x >> 8), uint8(x >> 16)}
}

// swatch is one palette entry with its weight.
type swatch struct {
	c Color
	w float64
}

func pickSwatch(r *stream, pal []swatch) Color {
	ws := make([]float64, len(pal))
	for i, s := range pal {
		ws[i] = s.w
	}
	return pal[r.pick(ws)].c
}

// luma is a 0–255 brightness.
func (c Color) luma() float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }
