package maskgen

import "math/bits"

// Random choices come from small counter-free generators seeded by a hash
// of (seed, image key, what is being chosen). Each choice has its own
// stream, so adding a choice to one style never changes another choice, and
// nothing depends on the order images are processed in. The generators are
// written out here, not taken from math/rand, so that their sequences can
// never change under us.

// stream is a splitmix64 generator.
type stream struct{ state uint64 }

func newStream(seed uint64, key, label string) *stream {
	h := uint64(14695981039346656037) // FNV-1a over key, a separator, label
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	h = (h ^ 0xff) * 1099511628211
	for i := 0; i < len(label); i++ {
		h = (h ^ uint64(label[i])) * 1099511628211
	}
	return &stream{state: mix64(seed^0x9e3779b97f4a7c15) ^ mix64(h)}
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *stream) uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return mix64(r.state)
}

// float64 is uniform in [0, 1).
func (r *stream) float64() float64 { return float64(r.uint64()>>11) / (1 << 53) }

// intn is uniform in [0, n); n > 0.
func (r *stream) intn(n int) int {
	hi, _ := bits.Mul64(r.uint64(), uint64(n))
	return int(hi)
}

// rangeInt is uniform in [lo, hi).
func (r *stream) rangeInt(lo, hi int) int { return lo + r.intn(hi-lo) }

// rangeFloat is uniform in [lo, hi), rounded to 1/1000 so that recorded
// parameters stay short and exact in JSON.
func (r *stream) rangeFloat(lo, hi float64) float64 {
	v := lo + (hi-lo)*r.float64()
	return float64(int64(v*1000+0.5*sign(v))) / 1000
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

// pick returns an index drawn with the given weights (not necessarily
// normalised, all ≥ 0, sum > 0).
func (r *stream) pick(weights []float64) int {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	x := r.float64() * sum
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}
