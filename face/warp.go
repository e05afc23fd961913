package face

import (
	"fmt"
	"image"
	"math"
)

// AlignedSize is the side of the aligned crop the recogniser takes.
const AlignedSize = 112

// OpenCV warpAffine's fixed point: coordinates with 10 fractional bits,
// reduced to 5 (1/32 pixel) to index the bilinear weight table, whose
// weights have 15 fractional bits.
const (
	warpABBits    = 10
	warpInterBits = 5
	warpTab       = 1 << warpInterBits
	warpCoefBits  = 15
)

// Warp returns the w×h image out(x,y) = img(m⁻¹(x,y)), where m maps img's
// pixel coordinates to the output's (as cv2.warpAffine takes it). Sampling is
// bilinear with OpenCV's arithmetic, so results equal
// cv2.warpAffine(img, m, (w,h)) with INTER_LINEAR and BORDER_CONSTANT 0:
// source positions are rounded to 1/32 pixel, the four weights are
// multiples of 1/32768, and taps outside the image count as black (so the
// crop fades to black over one pixel at the photo's border). The output
// is opaque: alpha is 255 everywhere.
func Warp(img image.Image, m Affine, w, h int) *image.NRGBA {
	src := asNRGBA(img)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	inv := m.Invert()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	const abScale = 1 << warpABBits
	const roundDelta = abScale / warpTab / 2
	adelta := make([]int, w)
	bdelta := make([]int, w)
	for x := 0; x < w; x++ {
		adelta[x] = cvRound(inv[0] * float64(x) * abScale)
		bdelta[x] = cvRound(inv[3] * float64(x) * abScale)
	}
	for y := 0; y < h; y++ {
		x0 := cvRound((inv[1]*float64(y)+inv[2])*abScale) + roundDelta
		y0 := cvRound((inv[4]*float64(y)+inv[5])*abScale) + roundDelta
		out := dst.Pix[y*dst.Stride:]
		for x := 0; x < w; x++ {
			X := (x0 + adelta[x]) >> (warpABBits - warpInterBits)
			Y := (y0 + bdelta[x]) >> (warpABBits - warpInterBits)
			sx, sy := X>>warpInterBits, Y>>warpInterBits
			fx, fy := X&(warpTab-1), Y&(warpTab-1)
			// Products of the 1-D weights (32−f, f)/32, scaled to 2^15.
			wts := [4]int{(warpTab - fx) * (warpTab - fy) * 32, fx * (warpTab - fy) * 32, (warpTab - fx) * fy * 32, fx * fy * 32}
			var acc [3]int
			for k, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				px, py := sx+d[0], sy+d[1]
				if px < 0 || py < 0 || px >= sw || py >= sh || wts[k] == 0 {
					continue // BORDER_CONSTANT: value 0
				}
				p := src.Pix[py*src.Stride+4*px:]
				acc[0] += int(p[0]) * wts[k]
				acc[1] += int(p[1]) * wts[k]
				acc[2] += int(p[2]) * wts[k]
			}
			o := out[4*x:]
			for c := 0; c < 3; c++ {
				o[c] = uint8(clampInt((acc[c]+1<<(warpCoefBits-1))>>warpCoefBits, 0, 255))
			}
			o[3] = 0xff
		}
	}
	return dst
}

// cvRound is OpenCV's saturate_cast<int>(double): round half to even,
// saturated to the int32 range (which also tames NaN and infinities).
func cvRound(v float64) int {
	r := math.RoundToEven(v)
	switch {
	case r != r: // NaN
		return math.MinInt32
	case r >= math.MaxInt32:
		return math.MaxInt32
	case r <= math.MinInt32:
		return math.MinInt32
	}
	return int(r)
}

// Align maps the five points (left eye, right eye, nose tip, left and right
// mouth corner, as Points5 returns them) onto ArcFaceTemplate with Umeyama
// and warps img into the 112×112 crop. It returns the crop and the transform
// from photo to crop.
func Align(img image.Image, pts [5]Point) (*image.NRGBA, Affine, error) {
	tmpl := ArcFaceTemplate()
	m, err := Umeyama(pts[:], tmpl[:])
	if err != nil {
		return nil, Affine{}, fmt.Errorf("align: %w", err)
	}
	return Warp(img, m, AlignedSize, AlignedSize), m, nil
}
