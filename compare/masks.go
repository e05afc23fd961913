package compare

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/maskinv/workbench/maskgen"
)

// MaskShift is a fixed shift of the paper style's template key points, in
// template pixels (12 per pixel of a 112×112 aligned crop; a positive Y
// moves the mask up), instead of the protocol's random shift (X in
// [−10, 10), Y in [−40, 40)). See maskgen.Params.
type MaskShift struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// MaxMaskShift bounds a fixed shift on either axis: 240 template pixels
// are 20 pixels of an aligned crop.
const MaxMaskShift = 240

// ErrMaskShift reports a fixed shift out of range.
var ErrMaskShift = errors.New("mask shift out of range")

func (s *MaskShift) Check() error {
	if s != nil && (s.X < -MaxMaskShift || s.X > MaxMaskShift || s.Y < -MaxMaskShift || s.Y > MaxMaskShift) {
		return fmt.Errorf("%w: (%d, %d), want each within ±%d template pixels", ErrMaskShift, s.X, s.Y, MaxMaskShift)
	}
	return nil
}

// String is "random" for nil, else "X,Y" (what ParseMaskShift reads).
func (s *MaskShift) String() string {
	if s == nil {
		return "random"
	}
	return fmt.Sprintf("%d,%d", s.X, s.Y)
}

// ParseMaskShift reads "X,Y" (template pixels); "" and "random" give nil,
// the protocol's random shift.
func ParseMaskShift(v string) (*MaskShift, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "random" {
		return nil, nil
	}
	xs, ys, ok := strings.Cut(v, ",")
	x, errx := strconv.Atoi(strings.TrimSpace(xs))
	y, erry := strconv.Atoi(strings.TrimSpace(ys))
	if !ok || errx != nil || erry != nil {
		return nil, fmt.Errorf("%w: %q is not X,Y in template pixels", ErrMaskShift, v)
	}
	s := &MaskShift{X: x, Y: y}
	return s, s.Check()
}

// MaskParams is cfg's choices for the image called key, with the paper
// style's random shift replaced by shift when shift is not nil. Every
// masked image of the app (datasets, comparisons, the GUI's preview) is
// drawn from it.
func MaskParams(cfg maskgen.Config, shift *MaskShift, key string) maskgen.Params {
	p := cfg.Choose(key)
	if shift != nil && p.Style == "paper" {
		p.ShiftX, p.ShiftY = shift.X, shift.Y
	}
	return p
}
