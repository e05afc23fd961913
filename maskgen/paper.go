package maskgen

import (
	"image"
	"math"
	"sync"
)

// The paper style follows the MaskInv protocol: a mask template image with
// five key points is warped onto the face's five points by the
// least-squares homography, after the template's key points are moved by a
// random shift, and tinted with a random colour.
//
// Template coordinates ("template pixels") are 12 × those of a 112×112
// aligned crop, close to the reference's mask image (about 12.8 template
// pixels per crop pixel between the eyes), so that the protocol's shifts —
// vertical in [−40, 40), horizontal in [−10, 10) template pixels — move the
// mask by at most 3.3 and 0.8 crop pixels, as there. The key points are the
// true 112×112 ArcFace template × 12; the reference used the 96×112
// template's x-coordinates on 112×112 crops, which puts its masks 8 crop
// pixels to the left. The template art is ours: a pleated mask drawn by the
// same mesh code as the realistic styles.
const (
	paperScale = TemplateScale // template pixels per aligned-crop pixel

	// The template image is kept at 2 samples per crop pixel (a warp onto
	// a crop only ever shrinks it), covering crop coordinates
	// [paperX0, paperX0+paperW/2) × [paperY0, paperY0+paperH/2).
	paperRes         = 2
	paperX0, paperY0 = 10, 52
	paperW, paperH   = 184, 152
)

// paperShiftRange is the protocol's shift range, in template pixels.
var paperShiftRange = struct{ x0, x1, y0, y1 int }{-10, 10, -40, 40}

// paperTemplate is the template image: per sample, premultiplied shade and
// alpha, with one transparent sample of border on every side so that
// bilinear taps never leave the slice.
type paperTemplate struct {
	pix    []uint8 // (paperW+2)×(paperH+2) pairs (shade·alpha, alpha)
	stride int
}

// paperTpl is built on first use and never written again.
var paperTpl = sync.OnceValue(buildPaperTemplate)

// paperOutline is the template mask's top and bottom edges, in crop
// coordinates.
func paperOutline() *mesh {
	top := []Point{{15, 64.5}, {35, 60.6}, {56, 58.6}, {77, 60.6}, {97, 64.5}}
	bot := []Point{{19.5, 99}, {30, 111.5}, {56, 121.5}, {82, 111.5}, {92.5, 99}}
	m := newMesh(splineThrough(top), splineThrough(bot), 8)
	m.margin = 1.5
	return m
}

func buildPaperTemplate() *paperTemplate {
	tpl := &paperTemplate{stride: 2 * (paperW + 2)}
	tpl.pix = make([]uint8, tpl.stride*(paperH+2))
	m := paperOutline()
	// Draw in sample coordinates.
	for i := range m.top {
		m.top[i] = Point{(m.top[i].X - paperX0) * paperRes, (m.top[i].Y - paperY0) * paperRes}
		m.bot[i] = Point{(m.bot[i].X - paperX0) * paperRes, (m.bot[i].Y - paperY0) * paperRes}
	}
	m.margin *= paperRes
	sh := pleatedShade{pleats: 3}
	m.raster(image.Rect(0, 0, paperW, paperH), func(y, x0, x1 int, sp, tp plane) {
		for x := x0; x < x1; x++ {
			s, t := sp.at(x, y), tp.at(x, y)
			d := superellipseDist(s, t, 8, sp, tp)
			a := clamp01(0.5 - d/1.2)
			if a == 0 {
				continue
			}
			l := math.Min(1, sh.shade(s, t)/1.05)
			i := (y+1)*tpl.stride + 2*(x+1)
			tpl.pix[i] = uint8(math.Round(255 * a * l))
			tpl.pix[i+1] = uint8(math.Round(255 * a))
		}
	})
	return tpl
}

func paperChoose(rs func(string) *stream, cs ColorSpec, p *Params) {
	r := rs("shift")
	p.ShiftX = r.rangeInt(paperShiftRange.x0, paperShiftRange.x1)
	p.ShiftY = r.rangeInt(paperShiftRange.y0, paperShiftRange.y1)
	p.Texture = "solid"
	switch cs.Mode {
	case ColorFixed:
		p.Color = cs.Color
	default: // the protocol's colour is uniform random RGB
		p.Color = randomRGB(rs("color"))
	}
}

// paperHomography maps template-image samples to image pixels.
func paperHomography(f *Face, p *Params) (homography, error) {
	var src, dst [5]Point
	for i, q := range arcFace112 {
		// As in the reference: src = key point + shift, so a positive
		// ShiftY moves the mask up.
		src[i] = Point{q.X*paperScale + float64(p.ShiftX), q.Y*paperScale + float64(p.ShiftY)}
		dst[i] = f.Points5[i]
	}
	h, err := fitHomography(src[:], dst[:])
	if err != nil {
		return homography{}, err
	}
	// sample (u, v) → template pixel ((u/res + x0)·scale, (v/res + y0)·scale)
	const k = float64(paperScale) / paperRes
	r := homography{k, 0, paperX0 * paperScale, 0, k, paperY0 * paperScale, 0, 0, 1}
	return h.mul(&r), nil
}

// drawPaper warps the template onto dst: inverse mapping over the bounding
// box of the warped template, bilinear taps in fixed point, one division
// per pixel.
func drawPaper(dst *image.NRGBA, cov *image.Alpha, f *Face, p *Params) error {
	fwd, err := paperHomography(f, p)
	if err != nil {
		return err
	}
	// w is affine in the sample coordinates, so positive at the four
	// corners means positive over the template: no point of it goes
	// behind the camera.
	var corners [4]Point
	for i, c := range [4]Point{{-1, -1}, {paperW, -1}, {-1, paperH}, {paperW, paperH}} {
		q, ok := fwd.apply(c)
		if !ok {
			return errDegenerate
		}
		corners[i] = q
	}
	box := pointsBounds(func(yield func(Point) bool) {
		for _, c := range corners {
			if !yield(c) {
				return
			}
		}
	}, 1).Intersect(dst.Rect)
	if box.Empty() {
		return nil
	}
	inv, err := fwd.inverse()
	if err != nil {
		return err
	}
	tpl := paperTpl()
	cr, cg, cb := uint32(p.Color.R), uint32(p.Color.G), uint32(p.Color.B)
	const uMax, vMax = paperW, paperH
	for y := box.Min.Y; y < box.Max.Y; y++ {
		fy := float64(y)
		nu := inv[0]*float64(box.Min.X) + inv[1]*fy + inv[2]
		nv := inv[3]*float64(box.Min.X) + inv[4]*fy + inv[5]
		nw := inv[6]*float64(box.Min.X) + inv[7]*fy + inv[8]
		row := dst.Pix[dst.PixOffset(box.Min.X, y):]
		crow := cov.Pix[cov.PixOffset(box.Min.X, y):]
		for x := 0; x < box.Dx(); x, nu, nv, nw = x+1, nu+inv[0], nv+inv[3], nw+inv[6] {
			if nw <= 0 {
				continue
			}
			iw := 1 / nw
			u, v := nu*iw, nv*iw
			if !(u > -1 && v > -1 && u < uMax && v < vMax) {
				continue
			}
			// u+1 ≥ 0 here, so truncation is floor.
			ui, vi := int(u+1), int(v+1)
			fx := uint32((u + 1 - float64(ui)) * 256)
			fy := uint32((v + 1 - float64(vi)) * 256)
			i := vi*tpl.stride + 2*ui
			t0 := tpl.pix[i : i+4 : i+4]
			t1 := tpl.pix[i+tpl.stride : i+tpl.stride+4 : i+tpl.stride+4]
			gx, gy := 256-fx, 256-fy
			a := ((uint32(t0[1])*gx+uint32(t0[3])*fx)*gy + (uint32(t1[1])*gx+uint32(t1[3])*fx)*fy + 1<<15) >> 16
			if a == 0 {
				continue
			}
			l := ((uint32(t0[0])*gx+uint32(t0[2])*fx)*gy + (uint32(t1[0])*gx+uint32(t1[2])*fx)*fy + 1<<15) >> 16
			blend(row[4*x:4*x+4:4*x+4], cr, cg, cb, l, a)
			if a >= 128 {
				crow[x] = 255
			}
		}
	}
	return nil
}

// blend composites colour (r, g, b)·l/255 with alpha a (0–255) over the
// non-premultiplied pixel px; l ≤ a is the premultiplied shade.
func blend(px []uint8, r, g, b, l, a uint32) {
	na := 255 - a
	if px[3] == 255 {
		px[0] = uint8((r*l + uint32(px[0])*na + 127) / 255)
		px[1] = uint8((g*l + uint32(px[1])*na + 127) / 255)
		px[2] = uint8((b*l + uint32(px[2])*na + 127) / 255)
		return
	}
	// General "over" with a translucent destination.
	da := uint32(px[3])
	oa := a*255 + da*na // ×255
	if oa == 0 {
		return
	}
	px[0] = uint8((r*l*255 + uint32(px[0])*da*na + oa/2) / oa)
	px[1] = uint8((g*l*255 + uint32(px[1])*da*na + oa/2) / oa)
	px[2] = uint8((b*l*255 + uint32(px[2])*da*na + oa/2) / oa)
	px[3] = uint8((oa + 127) / 255)
}
