package model

// runMover is how the CPU engine runs a data movement: the strided copies
// of its copies(), after merging the dimensions that are contiguous in both
// source and destination, with the innermost run a copy() when it is
// contiguous on both sides. The detector's concatenations and transposes
// took a third of its time through runCopies, the portable reference,
// which recomputes both offsets for every element.
func runMover(m mover, y []float32, in [][]float32) {
	cps, zero := m.copies()
	if zero {
		clear(y)
	}
	for _, c := range cps {
		copyStrided(c, y, in[c.src])
	}
}

func copyStrided(c stridedCopy, dst, src []float32) {
	dims, ss, ds := mergeDims(c)
	if volume(dims) == 0 {
		return
	}
	if len(dims) == 0 {
		dst[c.dstOff] = src[c.srcOff]
		return
	}
	last := len(dims) - 1
	n, sl, dl := dims[last], ss[last], ds[last]
	idx := make([]int, last)
	so, do := c.srcOff, c.dstOff
	for range volume(dims[:last]) {
		if sl == 1 && dl == 1 && n >= 16 { // below that, a call costs more than the loop
			copy(dst[do:do+n], src[so:so+n])
		} else {
			for i := 0; i < n; i++ {
				dst[do+i*dl] = src[so+i*sl]
			}
		}
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			so += ss[d]
			do += ds[d]
			if idx[d] < dims[d] {
				break
			}
			so -= ss[d] * dims[d]
			do -= ds[d] * dims[d]
			idx[d] = 0
		}
	}
}

// mergeDims drops the unit dimensions of a copy and merges each dimension
// into the next where both strides step over exactly the next one.
func mergeDims(c stridedCopy) (dims, ss, ds []int) {
	for d, n := range c.dims {
		if n == 1 {
			continue
		}
		if k := len(dims) - 1; k >= 0 && ss[k] == n*c.srcStride[d] && ds[k] == n*c.dstStride[d] {
			dims[k] *= n
			ss[k], ds[k] = c.srcStride[d], c.dstStride[d]
			continue
		}
		dims = append(dims, n)
		ss = append(ss, c.srcStride[d])
		ds = append(ds, c.dstStride[d])
	}
	return dims, ss, ds
}
