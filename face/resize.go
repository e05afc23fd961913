package face

import (
	"image"
	"math"
)

// OpenCV's fixed-point scales: resize coefficients have 11 fractional bits.
const (
	resizeCoefBits  = 11
	resizeCoefScale = 1 << resizeCoefBits
)

// resizeLinear resizes the rectangle r of src to dw×dh exactly as OpenCV 4.6's
// cv::resize with INTER_LINEAR does on 8-bit images, because the reference
// runtime fed the models such resizes and the landmark model is sensitive to
// single grey levels (its output is truncated to whole pixels):
//
//   - sample centres map as sx = (dx+0.5)·scale − 0.5, computed in float32,
//     clamped to the edge pixels;
//   - horizontal weights are rounded to 1/2048 independently (they may sum
//     to 2047 or 2049), and the horizontal pass sums exactly in integers;
//   - the vertical pass rounds as OpenCV's SIMD path (VResizeLinearVec_32s8u)
//     does: ((S0>>4)·b0>>16 + (S1>>4)·b1>>16 + 2) >> 2. OpenCV uses a
//     slightly different scalar formula for the last few values of a row when
//     3·dw is not a multiple of 16; our sizes (320, 64) never hit it;
//   - an exact 2× reduction is done as OpenCV does it, by INTER_AREA
//     averaging with (a+b+c+d+2)>>2.
//
// All four channels are resized; r must lie within src.Rect.
func resizeLinear(src *image.NRGBA, r image.Rectangle, dw, dh int) *image.NRGBA {
	sw, sh := r.Dx(), r.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, dw, dh))
	if sw == dw && sh == dh {
		for y := 0; y < dh; y++ {
			o := src.PixOffset(r.Min.X, r.Min.Y+y)
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*dw], src.Pix[o:o+4*dw])
		}
		return dst
	}
	// OpenCV derives the scale from the inverse ratio, in double precision.
	scaleX := 1 / (float64(dw) / float64(sw))
	scaleY := 1 / (float64(dh) / float64(sh))
	if isTwo(scaleX) && isTwo(scaleY) {
		halve(src, r, dst)
		return dst
	}

	xofs := make([]int, dw)
	alpha := make([][2]int32, dw)
	for dx := 0; dx < dw; dx++ {
		fx := float32((float64(dx)+0.5)*scaleX - 0.5)
		sx := int(math.Floor(float64(fx)))
		fx -= float32(sx)
		if sx < 0 {
			fx, sx = 0, 0
		}
		if sx >= sw-1 {
			fx, sx = 0, sw-1
		}
		xofs[dx] = sx
		alpha[dx] = [2]int32{roundCoef((1 - fx) * resizeCoefScale), roundCoef(fx * resizeCoefScale)}
	}

	// Horizontally resized source rows, computed once each on demand.
	rows := make([][]int32, sh)
	hrow := func(sy int) []int32 {
		if rows[sy] != nil {
			return rows[sy]
		}
		row := make([]int32, 4*dw)
		s := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+sy):]
		for dx := 0; dx < dw; dx++ {
			i, a := 4*xofs[dx], alpha[dx]
			for c := 0; c < 4; c++ {
				v := int32(s[i+c]) * a[0]
				if a[1] != 0 {
					v += int32(s[i+4+c]) * a[1]
				}
				row[4*dx+c] = v
			}
		}
		rows[sy] = row
		return row
	}

	for dy := 0; dy < dh; dy++ {
		fy := float32((float64(dy)+0.5)*scaleY - 0.5)
		sy := int(math.Floor(float64(fy)))
		fy -= float32(sy)
		b0, b1 := roundCoef((1-fy)*resizeCoefScale), roundCoef(fy*resizeCoefScale)
		r0, r1 := hrow(clampInt(sy, 0, sh-1)), hrow(clampInt(sy+1, 0, sh-1))
		out := dst.Pix[dy*dst.Stride : dy*dst.Stride+4*dw]
		for i := range out {
			v := ((r0[i]>>4)*b0>>16 + (r1[i]>>4)*b1>>16 + 2) >> 2
			out[i] = uint8(clampInt(int(v), 0, 255))
		}
	}
	return dst
}

// roundCoef is OpenCV's saturate_cast<short>(float): round half to even.
func roundCoef(v float32) int32 { return int32(math.RoundToEven(float64(v))) }

// isTwo reports whether OpenCV treats a scale as exactly 2 (within DBL_EPSILON).
func isTwo(s float64) bool { return math.Abs(s-2) < 0x1p-52 }

// halve is OpenCV's fast INTER_AREA path for an exact 2× reduction.
func halve(src *image.NRGBA, r image.Rectangle, dst *image.NRGBA) {
	b := dst.Rect
	for y := 0; y < b.Dy(); y++ {
		s0 := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+2*y):]
		s1 := src.Pix[src.PixOffset(r.Min.X, r.Min.Y+2*y+1):]
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < b.Dx(); x++ {
			for c := 0; c < 4; c++ {
				i := 8*x + c
				out[4*x+c] = uint8((int(s0[i]) + int(s0[i+4]) + int(s1[i]) + int(s1[i+4]) + 2) >> 2)
			}
		}
	}
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// grayCV is OpenCV 4.6's 8-bit RGB→grey with 15-bit coefficients, applied
// the way the JS applies it: COLOR_BGR2GRAY on RGBA data, so the first
// channel (red) gets blue's weight. That is, 0.114R + 0.587G + 0.299B.
func grayCV(c0, c1, c2 uint8) uint8 {
	const wFirst, wMid, wLast = 3735, 19235, 9798 // BY15, GY15, RY15
	return uint8((int(c0)*wFirst + int(c1)*wMid + int(c2)*wLast + 1<<14) >> 15)
}
