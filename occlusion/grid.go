package occlusion

import (
	"errors"
	"fmt"
	"image"
)

// ErrGrid reports a patch grid that cannot be laid out.
var ErrGrid = errors.New("occlusion: bad patch grid")

// Grid is the layout of occluding patches over a square face (see the
// package comment for the exact definition).
type Grid struct {
	Size   int `json:"size"`   // face side in pixels
	Patch  int `json:"patch"`  // patch side in pixels
	Stride int `json:"stride"` // step between patch positions in pixels
}

// MaxSize bounds Grid.Size, so that a grid read from a file cannot ask for
// an absurd allocation.
const MaxSize = 4096

// Validate checks 1 ≤ Stride ≤ Patch ≤ Size ≤ MaxSize.
func (g Grid) Validate() error {
	if g.Size < 1 || g.Size > MaxSize || g.Patch < 1 || g.Patch > g.Size || g.Stride < 1 || g.Stride > g.Patch {
		return fmt.Errorf("%w: size %d, patch %d, stride %d (want 1 ≤ stride ≤ patch ≤ size ≤ %d)",
			ErrGrid, g.Size, g.Patch, g.Stride, MaxSize)
	}
	return nil
}

// Starts are the patch positions along one axis: the first pixel of each
// patch, ascending; the last one is always Size−Patch. Nil for an invalid
// grid.
func (g Grid) Starts() []int {
	if g.Validate() != nil {
		return nil
	}
	var s []int
	for x := 0; x <= g.Size-g.Patch; x += g.Stride {
		s = append(s, x)
	}
	if last := s[len(s)-1]; last != g.Size-g.Patch {
		s = append(s, g.Size-g.Patch)
	}
	return s
}

// Side is the number of patch positions per axis; Cells the number of
// patches, Side².
func (g Grid) Side() int  { return len(g.Starts()) }
func (g Grid) Cells() int { n := g.Side(); return n * n }

// Rects are the patches in cell order: row by row from the top, left to
// right within a row.
func (g Grid) Rects() []image.Rectangle {
	s := g.Starts()
	r := make([]image.Rectangle, 0, len(s)*len(s))
	for _, y := range s {
		for _, x := range s {
			r = append(r, image.Rect(x, y, x+g.Patch, y+g.Patch))
		}
	}
	return r
}
