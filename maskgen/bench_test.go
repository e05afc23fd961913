package maskgen

import (
	"image"
	"strconv"
	"testing"

	"github.com/maskinv/workbench/internal/cputime"
)

// benchMask masks img with the given style b.N times (a new key each time,
// so colours and shifts vary as in a real run) and reports masks/s of wall
// time and, where the OS says, masks per CPU-second of the process (the
// figure to compare on a machine shared with other work; run with -cpu 1).
// Each mask includes copying the source, as Apply does.
func benchMask(b *testing.B, style string, img image.Image, face Face) {
	spec, err := ParseStyle(style)
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Style: spec, Seed: 1}
	keys := make([]string, 256)
	for i := range keys {
		keys[i] = "img/" + strconv.Itoa(i) + ".png"
	}
	if _, err := cfg.Apply(img, face, keys[0]); err != nil { // builds the paper template
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0, ok := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cfg.Apply(img, face, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "masks/s")
	if cpu1, ok1 := cputime.Process(); ok && ok1 && cpu1 > cpu0 {
		b.ReportMetric(float64(b.N)/(cpu1-cpu0).Seconds(), "masks/cpu-s")
	}
}

func benchAligned(b *testing.B, style string) {
	benchMask(b, style, syntheticFace(), AlignedFace(112, 112))
}

func BenchmarkPaperAligned(b *testing.B)    { benchAligned(b, "paper") }
func BenchmarkSurgicalAligned(b *testing.B) { benchAligned(b, "surgical") }
func BenchmarkN95Aligned(b *testing.B)      { benchAligned(b, "n95") }
func BenchmarkKN95Aligned(b *testing.B)     { benchAligned(b, "kn95") }
func BenchmarkClothAligned(b *testing.B)    { benchAligned(b, "cloth") }
func BenchmarkBandanaAligned(b *testing.B)  { benchAligned(b, "bandana") }

// BenchmarkSurgicalRaw250 masks a 250×250 photo-sized image with 68
// landmarks (the mean face scaled ×2 into it), as on raw LFW photos.
func BenchmarkSurgicalRaw250(b *testing.B) {
	img := image.NewNRGBA(image.Rect(0, 0, 250, 250))
	copy(img.Pix, make([]uint8, len(img.Pix)))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	p68 := make([]Point, 68)
	for i, p := range canonical68 {
		p68[i] = Point{2*p.X + 13, 2*p.Y + 5}
	}
	face, err := FaceFrom68(p68)
	if err != nil {
		b.Fatal(err)
	}
	benchMask(b, "surgical", img, face)
}
