package face

import (
	"fmt"
	"math"
)

// Choice records which face of a photo the pipeline used and why.
type Choice struct {
	Index    int         // index into Faces of the face used
	Faces    []Detection // every face the detector kept, highest score first
	Eligible int         // faces at least half as tall as the tallest
	Aligned  bool        // aligned mode: the input was the crop, no detection
}

// String describes the choice for logs and the UI, e.g.
// "face 2 of 3 (nearest the centre of 2 large faces)".
func (c Choice) String() string {
	switch {
	case c.Aligned:
		return "aligned input (no detection)"
	case len(c.Faces) == 0:
		return "no face"
	}
	s := "1 face"
	if len(c.Faces) > 1 {
		s = fmt.Sprintf("face %d of %d (nearest the centre of %d large faces)", c.Index+1, len(c.Faces), c.Eligible)
		if c.Eligible == 1 {
			s = fmt.Sprintf("face %d of %d (the only large face)", c.Index+1, len(c.Faces))
		}
	}
	if f := c.Faces[c.Index]; f.Fallback {
		s += fmt.Sprintf(", below threshold (score %.2f)", f.Score)
	}
	return s
}

// ChooseFace picks the subject of a w×h photo among faces: of the faces at
// least half as tall as the tallest, the one whose box centre is nearest
// the image centre (ties: the higher score, i.e. the earlier one). LFW
// photos often show bystanders; the subject is centred and large. ok is
// false when faces is empty.
func ChooseFace(faces []Detection, w, h int) (c Choice, ok bool) {
	if len(faces) == 0 {
		return Choice{}, false
	}
	tallest := 0.0
	for _, f := range faces {
		tallest = math.Max(tallest, f.Box.H())
	}
	mid := Point{float64(w) / 2, float64(h) / 2}
	best, bestD := -1, math.Inf(1)
	eligible := 0
	for i, f := range faces {
		if f.Box.H() < tallest/2 {
			continue
		}
		eligible++
		ctr := f.Box.Center()
		if d := math.Hypot(ctr.X-mid.X, ctr.Y-mid.Y); d < bestD {
			best, bestD = i, d
		}
	}
	return Choice{Index: best, Faces: faces, Eligible: eligible}, true
}
