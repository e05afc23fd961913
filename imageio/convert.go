package imageio

import (
	"image"
	"image/color"
	"image/draw"
)

// ToNRGBA returns a new *image.NRGBA copy of img with bounds moved to (0,0).
// Common decoder outputs have fast paths; the rest go through draw.Draw.
// YCbCr is converted the way libjpeg does it (see ycbcrToNRGBA), and 16-bit
// samples keep their high byte, as libpng's strip_16 (used by OpenCV) does.
func ToNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.NRGBA:
		dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		for y := 0; y < b.Dy(); y++ {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*b.Dx()], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		return dst
	case *image.YCbCr:
		return ycbcrToNRGBA(m)
	case *image.Gray:
		return grayRows(b, m.Pix, m.PixOffset, 1)
	case *image.Gray16:
		return grayRows(b, m.Pix, m.PixOffset, 2) // big-endian: the high byte comes first
	case *image.NRGBA64:
		return highBytes(b, m.Pix, m.PixOffset)
	case *image.RGBA64:
		// Premultiplied: exact high bytes when opaque (16-bit RGB PNGs are),
		// otherwise go through the colour model.
		if m.Opaque() {
			return highBytes(b, m.Pix, m.PixOffset)
		}
	case *image.RGBA:
		if m.Opaque() {
			return convertRows(b, func(y int, row []byte) {
				copy(row, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
			})
		}
	case *image.Paletted:
		pal := make([]color.NRGBA, len(m.Palette))
		for i, c := range m.Palette {
			pal[i] = color.NRGBAModel.Convert(c).(color.NRGBA)
		}
		return convertRows(b, func(y int, row []byte) {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				var c color.NRGBA // out-of-range indices read as transparent black
				if int(src[x]) < len(pal) {
					c = pal[src[x]]
				}
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = c.R, c.G, c.B, c.A
			}
		})
	}
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// grayRows converts grey samples of size bytes each, keeping the first
// (high) byte; off is the source's PixOffset.
func grayRows(b image.Rectangle, pix []byte, off func(x, y int) int, size int) *image.NRGBA {
	return convertRows(b, func(y int, row []byte) {
		src := pix[off(b.Min.X, b.Min.Y+y):]
		for x := 0; x < b.Dx(); x++ {
			v := src[size*x]
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 0xff
		}
	})
}

// highBytes converts 16-bit RGBA samples (8 bytes a pixel, big-endian) by
// their high bytes; off is the source's PixOffset.
func highBytes(b image.Rectangle, pix []byte, off func(x, y int) int) *image.NRGBA {
	return convertRows(b, func(y int, row []byte) {
		src := pix[off(b.Min.X, b.Min.Y+y):]
		for x := 0; x < b.Dx(); x++ {
			for c := 0; c < 4; c++ {
				row[4*x+c] = src[8*x+2*c]
			}
		}
	})
}

func convertRows(b image.Rectangle, fill func(y int, row []byte)) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		fill(y, dst.Pix[y*dst.Stride:y*dst.Stride+4*b.Dx()])
	}
	return dst
}

// libjpeg's jdcolor.c constants: 16-bit fixed point, FIX(x) rounded.
const (
	jScaleBits = 16
	jHalf      = 1 << (jScaleBits - 1)
	jCrR       = 91881  // FIX(1.40200)
	jCbB       = 116130 // FIX(1.77200)
	jCrG       = 46802  // FIX(0.71414)
	jCbG       = 22554  // FIX(0.34414)
)

// ycbcrRGB is libjpeg's ycc_rgb_convert for one pixel.
func ycbcrRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy, u, v := int(y), int(cb)-128, int(cr)-128
	return clamp8(yy + (jCrR*v+jHalf)>>jScaleBits),
		clamp8(yy + (-jCbG*u+jHalf-jCrG*v)>>jScaleBits),
		clamp8(yy + (jCbB*u+jHalf)>>jScaleBits)
}

func clamp8(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ycbcrToNRGBA converts like libjpeg-turbo with its default settings: chroma
// subsampled 2× is upsampled with the "fancy" triangle filter (h2v1, h1v2,
// h2v2 in jdsample.c), other ratios replicate samples, and colours use
// libjpeg's fixed-point arithmetic. The fancy path needs the whole chroma
// planes, so sub-images (origin not at 0,0) replicate samples instead.
func ycbcrToNRGBA(m *image.YCbCr) *image.NRGBA {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	var cb, cr []uint8 // full-resolution chroma, w×h, when upsampled
	if b.Min == (image.Point{}) {
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio420:
			cb, cr = fancyH2V2(m.Cb, m.CStride, w, h), fancyH2V2(m.Cr, m.CStride, w, h)
		case image.YCbCrSubsampleRatio422:
			cb, cr = fancyH2V1(m.Cb, m.CStride, w, h), fancyH2V1(m.Cr, m.CStride, w, h)
		case image.YCbCrSubsampleRatio440:
			cb, cr = fancyH1V2(m.Cb, m.CStride, w, h), fancyH1V2(m.Cr, m.CStride, w, h)
		}
	}
	for y := 0; y < h; y++ {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		ys := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < w; x++ {
			var u, v uint8
			if cb != nil {
				u, v = cb[y*w+x], cr[y*w+x]
			} else {
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				u, v = m.Cb[ci], m.Cr[ci]
			}
			r, g, bl := ycbcrRGB(ys[x], u, v)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r, g, bl, 0xff
		}
	}
	return dst
}

// fancyH2V2 is jdsample.c's h2v2_fancy_upsample: each output sample is
// (9·nearest + 3·horizontal + 3·vertical + 1·diagonal)/16, computed as a
// vertical 3:1 sum then a horizontal 3:1 sum with libjpeg's alternating
// rounding (+8, +7). Rows beyond the edges replicate the edge row.
func fancyH2V2(p []uint8, stride, w, h int) []uint8 {
	cw, ch := (w+1)/2, (h+1)/2
	out := make([]uint8, w*h)
	sums := make([]int, cw)
	line := make([]uint8, 2*cw)
	for y := 0; y < h; y++ {
		cy := y / 2
		far := cy - 1 // even output rows lean on the chroma row above
		if y%2 == 1 {
			far = cy + 1
		}
		far = max(0, min(far, ch-1))
		near, other := p[cy*stride:], p[far*stride:]
		for i := range sums {
			sums[i] = 3*int(near[i]) + int(other[i])
		}
		fancyRow(line, sums, 8, 7, 4)
		copy(out[y*w:(y+1)*w], line)
	}
	return out
}

// fancyH2V1 is jdsample.c's h2v1_fancy_upsample (3:1 horizontally, rounding
// +1 towards the left neighbour and +2 towards the right).
func fancyH2V1(p []uint8, stride, w, h int) []uint8 {
	cw := (w + 1) / 2
	out := make([]uint8, w*h)
	line := make([]uint8, 2*cw)
	for y := 0; y < h; y++ {
		fancyRow(line, p[y*stride:y*stride+cw], 1, 2, 2)
		copy(out[y*w:(y+1)*w], line)
	}
	return out
}

// fancyRow is libjpeg's horizontal triangle filter, doubling in into line:
// samples 2i and 2i+1 are (3·in[i] + in[i−1] + left) >> shift and
// (3·in[i] + in[i+1] + right) >> shift, in[i] standing in for a missing
// neighbour at either end.
func fancyRow[T uint8 | int](line []uint8, in []T, left, right, shift int) {
	n := len(in)
	for i := 0; i < n; i++ {
		v := int(in[i])
		prev, next := v, v
		if i > 0 {
			prev = int(in[i-1])
		}
		if i < n-1 {
			next = int(in[i+1])
		}
		line[2*i] = uint8((3*v + prev + left) >> shift)
		line[2*i+1] = uint8((3*v + next + right) >> shift)
	}
}

// fancyH1V2 is jdsample.c's h1v2_fancy_upsample (3:1 vertically, +1 for
// the upper output row, +2 for the lower).
func fancyH1V2(p []uint8, stride, w, h int) []uint8 {
	ch := (h + 1) / 2
	out := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		cy := y / 2
		far, bias := cy-1, 1
		if y%2 == 1 {
			far, bias = cy+1, 2
		}
		far = max(0, min(far, ch-1))
		near, other := p[cy*stride:], p[far*stride:]
		row := out[y*w : (y+1)*w]
		for x := range row {
			row[x] = uint8((3*int(near[x]) + int(other[x]) + bias) >> 2)
		}
	}
	return out
}
