package maskgen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Shift is a fixed shift of the paper style's template key points, in
// template pixels (TemplateScale per pixel of a 112×112 aligned crop; a
// positive Y moves the mask up), used instead of the protocol's random
// shift (X in [−10, 10), Y in [−40, 40)). Styles without a shift (see
// StyleHasShift) ignore it. It marshals as {"x":X,"y":Y}.
type Shift struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// TemplateScale is how many template pixels, the unit of Shift and of
// Params.ShiftX/ShiftY, make one pixel of a 112×112 aligned crop.
const TemplateScale = 12

// MaxShift bounds a fixed shift on either axis: 240 template pixels are
// 20 pixels of an aligned crop.
const MaxShift = 240

// ErrShift reports a fixed shift out of range or unreadable.
var ErrShift = errors.New("mask shift out of range")

// ParseShift reads "X,Y" (template pixels); "" and "random" give nil, the
// protocol's random shift.
func ParseShift(v string) (*Shift, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "random" {
		return nil, nil
	}
	xs, ys, ok := strings.Cut(v, ",")
	x, errx := strconv.Atoi(strings.TrimSpace(xs))
	y, erry := strconv.Atoi(strings.TrimSpace(ys))
	if !ok || errx != nil || erry != nil {
		return nil, fmt.Errorf("%w: %q is not X,Y in template pixels", ErrShift, v)
	}
	s := &Shift{X: x, Y: y}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// String is "random" for nil, else "X,Y" (what ParseShift reads).
func (s *Shift) String() string {
	if s == nil {
		return "random"
	}
	return fmt.Sprintf("%d,%d", s.X, s.Y)
}

// CropPixels is the shift in pixels of a 112×112 aligned crop.
func (s Shift) CropPixels() (x, y float64) {
	return float64(s.X) / TemplateScale, float64(s.Y) / TemplateScale
}

// check refuses a shift beyond MaxShift; nil (random) is fine.
func (s *Shift) check() error {
	if s != nil && (s.X < -MaxShift || s.X > MaxShift || s.Y < -MaxShift || s.Y > MaxShift) {
		return fmt.Errorf("%w: (%d, %d), want each within ±%d template pixels", ErrShift, s.X, s.Y, MaxShift)
	}
	return nil
}

// shifter is a style whose mask a Shift moves.
type shifter interface {
	shift(p *Params, s Shift)
}

func (paperStyle) shift(p *Params, s Shift) { p.ShiftX, p.ShiftY = s.X, s.Y }

// StyleHasShift reports whether Config.Shift moves the masks of the style
// called name (see Styles).
func StyleHasShift(name string) bool {
	st, ok := styleOf(name)
	if !ok {
		return false
	}
	_, ok = st.(shifter)
	return ok
}

// ShiftStyles lists the styles that have a shift, in the order of Styles.
func ShiftStyles() []string {
	var out []string
	for _, s := range Styles() {
		if StyleHasShift(s) {
			out = append(out, s)
		}
	}
	return out
}
