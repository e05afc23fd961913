package maskgen

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"
	"testing"

	"github.com/maskinv/workbench/imageio"
)

func allSpecs(t testing.TB) map[string]StyleSpec {
	t.Helper()
	specs := map[string]StyleSpec{}
	for _, name := range Styles() {
		s, err := ParseStyle(name)
		if err != nil {
			t.Fatal(err)
		}
		specs[name] = s
	}
	return specs
}

func TestHomographyRecovers(t *testing.T) {
	want := homography{0.9, 0.12, 14, -0.08, 1.1, -6, 2e-4, -3e-4, 1}
	var src, dst [5]Point
	for i, p := range []Point{{10, 12}, {90, 8}, {50, 60}, {15, 100}, {85, 105}} {
		q, ok := want.apply(p)
		if !ok {
			t.Fatal("test homography sends a point to infinity")
		}
		src[i], dst[i] = p, q
	}
	for _, n := range []int{4, 5} {
		got, err := fitHomography(src[:n], dst[:n])
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-9*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%d points: h[%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
		inv, err := got.inverse()
		if err != nil {
			t.Fatal(err)
		}
		for i := range src[:n] {
			p, _ := inv.apply(dst[i])
			if p.sub(src[i]).norm() > 1e-9 {
				t.Errorf("inverse(%v) = %v, want %v", dst[i], p, src[i])
			}
		}
	}
}

func TestHomographyLeastSquares(t *testing.T) {
	// Five points that no homography fits exactly: the fit must still be
	// close to the similarity that almost fits them.
	src := arcFace112[:]
	dst := make([]Point, 5)
	for i, p := range src {
		dst[i] = Point{2*p.X + 10, 2*p.Y + 20}
	}
	dst[NoseTip].X += 0.5
	h, err := fitHomography(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range src {
		q, _ := h.apply(p)
		if d := q.sub(dst[i]).norm(); d > 0.5 {
			t.Errorf("point %d lands %.3f px from its target", i, d)
		}
	}
}

func TestSimilarity(t *testing.T) {
	s := similarity{a: 1.2 * math.Cos(0.3), b: 1.2 * math.Sin(0.3), tx: 5, ty: -7}
	dst := make([]Point, 5)
	for i, p := range arcFace112 {
		dst[i] = s.apply(p)
	}
	got := fitSimilarity(arcFace112[:], dst)
	if math.Abs(got.a-s.a)+math.Abs(got.b-s.b)+math.Abs(got.tx-s.tx)+math.Abs(got.ty-s.ty) > 1e-9 {
		t.Fatalf("fitSimilarity = %+v, want %+v", got, s)
	}
}

func TestAlignedFace(t *testing.T) {
	for _, tc := range []struct {
		w, h   int
		dx, sc float64 // want template·sc + (dx, 0)
	}{{112, 112, 0, 1}, {96, 112, -8, 1}, {224, 224, 0, 2}, {128, 112, 8, 1}} {
		f := AlignedFace(tc.w, tc.h)
		for i, p := range f.Points5 {
			want := Point{arcFace112[i].X*tc.sc + tc.dx, arcFace112[i].Y * tc.sc}
			if p.sub(want).norm() > 1e-9 {
				t.Errorf("AlignedFace(%d, %d) point %d = %v, want %v", tc.w, tc.h, i, p, want)
			}
		}
		if f.Points68 != nil {
			t.Errorf("AlignedFace has 68 landmarks")
		}
	}
}

func TestPoints5From68(t *testing.T) {
	p5, err := Points5From68(canonical68[:])
	if err != nil {
		t.Fatal(err)
	}
	for i := range p5 {
		if d := p5[i].sub(arcFace112[i]).norm(); d > 2.5 {
			t.Errorf("mean face key point %d is %v, %.2f px from the template %v", i, p5[i], d, arcFace112[i])
		}
	}
	var p68 [68]Point
	for i := range p68 {
		p68[i] = Point{float64(i), float64(2 * i)}
	}
	p5, _ = Points5From68(p68[:])
	want := [5]Point{{39, 78}, {45, 90}, {30, 60}, {54, 108}, {59, 118}}
	if p5 != want {
		t.Errorf("Points5From68 = %v, want %v", p5, want)
	}
	if _, err := Points5From68(p68[:67]); !errors.Is(err, ErrLandmarks) {
		t.Errorf("67 landmarks: error %v, want ErrLandmarks", err)
	}
}

// TestCanonical68 recomputes the mean face from shared/golden/reference.json.
func TestCanonical68(t *testing.T) {
	_, refs := loadReference(t)
	var sum [68]Point
	for _, r := range refs {
		f, err := refFace(r)
		if err != nil {
			t.Fatal(err)
		}
		sim := fitSimilarity(f.Points5[:], arcFace112[:])
		for i, p := range f.Points68 {
			sum[i] = sum[i].add(sim.apply(p))
		}
	}
	mirror := []int{16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
		26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 27, 28, 29, 30, 35, 34, 33, 32, 31,
		45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
		54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65}
	n := float64(len(refs))
	for i := range sum {
		m := sum[mirror[i]].mul(1 / n)
		want := lerp(sum[i].mul(1/n), Point{112 - m.X, m.Y}, 0.5)
		if d := want.sub(canonical68[i]).norm(); d > 0.01 {
			t.Errorf("canonical68[%d] = %v, recomputed %v", i, canonical68[i], want)
		}
	}
}

func TestChooseDeterministic(t *testing.T) {
	for name, spec := range allSpecs(t) {
		cfg := Config{Style: spec, Seed: 42}
		a, b := cfg.Choose("x/1.png"), cfg.Choose("x/1.png")
		if a != b {
			t.Errorf("%s: Choose differs between calls: %+v vs %+v", name, a, b)
		}
		if a.Style != name || a.Algorithm != Algorithm || a.Seed != 42 || a.Key != "x/1.png" {
			t.Errorf("%s: Choose = %+v", name, a)
		}
		seen := map[Color]bool{}
		for i := 0; i < 20; i++ {
			seen[cfg.Choose(strconv.Itoa(i)).Color] = true
		}
		if len(seen) < 2 {
			t.Errorf("%s: 20 keys gave one colour", name)
		}
		if c := (Config{Style: spec, Seed: 43}).Choose("x/1.png"); c == a {
			t.Errorf("%s: seeds 42 and 43 made the same choices", name)
		}
	}
}

func TestPaperChoices(t *testing.T) {
	fixed, _ := ParseColor("#102030")
	for i := 0; i < 2000; i++ {
		p := Config{Seed: 9}.Choose(strconv.Itoa(i))
		if p.Style != "paper" || p.ShiftX < -10 || p.ShiftX >= 10 || p.ShiftY < -40 || p.ShiftY >= 40 {
			t.Fatalf("paper params out of the protocol's range: %+v", p)
		}
		if q := (Config{Seed: 9, Color: fixed}).Choose(strconv.Itoa(i)); q.Color != (Color{0x10, 0x20, 0x30}) || q.ShiftY != p.ShiftY {
			t.Fatalf("fixed colour: %+v (shift must not depend on the colour choice)", q)
		}
	}
}

// TestPaperAligned: on an aligned crop with no shift, the homography is the
// template scale exactly, so the mask sits where it was drawn.
func TestPaperAligned(t *testing.T) {
	f := AlignedFace(112, 112)
	h, err := paperHomography(&f, &Params{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Point{{0, 0}, {100, 50}, {paperW, paperH}} {
		got, _ := h.apply(c)
		want := Point{c.X/paperRes + paperX0, c.Y/paperRes + paperY0}
		if got.sub(want).norm() > 1e-9 {
			t.Errorf("sample %v → %v, want %v", c, got, want)
		}
	}
	// A positive ShiftY moves the mask up (the reference's convention).
	up, _ := paperHomography(&f, &Params{ShiftY: 36})
	p, _ := up.apply(Point{100, 50})
	q, _ := h.apply(Point{100, 50})
	if d := q.Y - p.Y; math.Abs(d-3) > 1e-9 {
		t.Errorf("ShiftY 36 moved the mask up by %v px, want 3", d)
	}
}

// opaqueImage hides an image's concrete type, so that Render takes its
// generic path.
type opaqueImage struct{ draw.Image }

// naivePaper is the paper style written plainly: float homography per
// pixel, float bilinear taps, At/Set.
func naivePaper(dst draw.Image, f Face, p Params) *image.Alpha {
	fwd, _ := paperHomography(&f, &p)
	inv, _ := fwd.inverse()
	tpl := paperTpl()
	tap := func(u, v, ch int) float64 {
		return float64(tpl.pix[(v+1)*tpl.stride+2*(u+1)+ch])
	}
	b := dst.Bounds()
	cov := image.NewAlpha(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			q, ok := inv.apply(Point{float64(x), float64(y)})
			if !ok || !(q.X > -1 && q.Y > -1 && q.X < paperW && q.Y < paperH) {
				continue
			}
			u0, v0 := int(math.Floor(q.X)), int(math.Floor(q.Y))
			fx, fy := q.X-float64(u0), q.Y-float64(v0)
			bil := func(ch int) float64 {
				return (tap(u0, v0, ch)*(1-fx)+tap(u0+1, v0, ch)*fx)*(1-fy) + (tap(u0, v0+1, ch)*(1-fx)+tap(u0+1, v0+1, ch)*fx)*fy
			}
			a, l := bil(1)/255, bil(0)/255
			c := color.NRGBAModel.Convert(dst.At(x, y)).(color.NRGBA)
			mix := func(src uint8, col uint8) uint8 {
				return uint8(math.Round(float64(col)*l + float64(src)*(1-a)))
			}
			dst.Set(x, y, color.NRGBA{mix(c.R, p.Color.R), mix(c.G, p.Color.G), mix(c.B, p.Color.B), 255})
			if a >= 0.5 {
				cov.SetAlpha(x, y, color.Alpha{255})
			}
		}
	}
	return cov
}

func TestPaperMatchesNaive(t *testing.T) {
	faces := map[string]Face{"aligned": AlignedFace(112, 112)}
	tilted := AlignedFace(112, 112)
	for i, p := range tilted.Points5 {
		tilted.Points5[i] = Point{0.9*p.X - 0.2*p.Y + 20, 0.2*p.X + 0.9*p.Y - 5}
	}
	tilted.Points5[RightMouth].Y += 3
	faces["tilted"] = tilted
	for name, f := range faces {
		for seed := uint64(0); seed < 3; seed++ {
			p := Config{Seed: seed}.Choose("k")
			fast := syntheticFace()
			covFast, err := Render(fast, f, p)
			if err != nil {
				t.Fatal(err)
			}
			slow := syntheticFace()
			covSlow := naivePaper(slow, f, p)
			worst, differ := 0, 0
			for i := range fast.Pix {
				d := int(fast.Pix[i]) - int(slow.Pix[i])
				worst = max(worst, d, -d)
			}
			for i := range covFast.Pix {
				if covFast.Pix[i] != covSlow.Pix[i] {
					differ++
				}
			}
			// Fixed-point taps (8-bit fractions) against float ones.
			if worst > 2 {
				t.Errorf("%s seed %d: fast and naive paper differ by %d levels", name, seed, worst)
			}
			if differ > 8 {
				t.Errorf("%s seed %d: coverage differs at %d pixels", name, seed, differ)
			}
		}
	}
}

func TestRasterMeshCoversOnce(t *testing.T) {
	g := newFaceGeom(&Face{Points5: AlignedFace(112, 112).Points5})
	for _, b := range []builder{surgical{}, n95{}, kn95{}, cloth{}, bandana{}} {
		p := Params{Fit: 0.5, Drop: 0.1, Pattern: 1}
		sh := b.build(&g, &p)
		sh.mesh.margin = 2
		clip := image.Rect(-20, -20, 140, 180)
		hits := map[image.Point]int{}
		sh.mesh.raster(clip, func(y, x0, x1 int, sp, tp plane) {
			for x := x0; x < x1; x++ {
				hits[image.Pt(x, y)]++
			}
		})
		// The mesh's outer boundary, margin included.
		grid, cols, rows := sh.mesh.grid()
		var poly []Point
		for k := 0; k < cols; k++ {
			poly = append(poly, grid[k].p)
		}
		for j := 1; j < rows; j++ {
			poly = append(poly, grid[j*cols+cols-1].p)
		}
		for k := cols - 2; k >= 0; k-- {
			poly = append(poly, grid[(rows-1)*cols+k].p)
		}
		for j := rows - 2; j > 0; j-- {
			poly = append(poly, grid[j*cols].p)
		}
		for y := clip.Min.Y; y < clip.Max.Y; y++ {
			for x := clip.Min.X; x < clip.Max.X; x++ {
				p := Point{float64(x), float64(y)}
				n := hits[image.Pt(x, y)]
				if n > 1 {
					t.Fatalf("%T: pixel (%d,%d) drawn %d times", b, x, y, n)
				}
				// Every pixel well inside the boundary is drawn (the
				// boundary is snapped to 1/16 px). Outside, only where a
				// sharp corner folds its margin over: within the margin.
				in, dist := pointInPolygon(p, poly)
				if in && dist > 0.1 && n != 1 || !in && dist > sh.mesh.margin+0.1 && n != 0 {
					t.Fatalf("%T: pixel (%d,%d) inside=%v (%.2f px from the edge) drawn %d times", b, x, y, in, dist, n)
				}
			}
		}
	}
}

func TestRasterSharedEdges(t *testing.T) {
	// A square split along its diagonal, with pixel centres exactly on
	// every edge: each pixel of the closed-open square is drawn once.
	v := func(x, y float64) vertex { return vertex{p: Point{x, y}} }
	hits := map[image.Point]int{}
	count := func(y, x0, x1 int, _, _ plane) {
		for x := x0; x < x1; x++ {
			hits[image.Pt(x, y)]++
		}
	}
	clip := image.Rect(-10, -10, 20, 20)
	rasterTriangle(v(0, 0), v(8, 0), v(8, 8), clip, count)
	rasterTriangle(v(0, 0), v(8, 8), v(0, 8), clip, count)
	rasterTriangle(v(8, 0), v(16, 0), v(8, 8), clip, count)
	rasterTriangle(v(16, 0), v(16, 8), v(8, 8), clip, count)
	for p, n := range hits {
		if n != 1 {
			t.Errorf("pixel %v drawn %d times", p, n)
		}
	}
	// A closed-open rule: 16×8 interior+edge pixels, one row and column of
	// the outer edges excluded.
	if len(hits) != 16*8 {
		t.Errorf("%d pixels drawn, want %d", len(hits), 16*8)
	}
}

// pointInPolygon reports whether p is inside poly (even-odd) and its
// distance to the nearest edge.
func pointInPolygon(p Point, poly []Point) (bool, float64) {
	in := false
	dist := math.Inf(1)
	for i := range poly {
		a, b := poly[i], poly[(i+1)%len(poly)]
		dist = math.Min(dist, segmentDist(p, a, b))
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < a.X+(p.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y) {
			in = !in
		}
	}
	return in, dist
}

func TestApplyDeterministicAndPure(t *testing.T) {
	src := syntheticFace()
	orig := bytes.Clone(src.Pix)
	for name, spec := range allSpecs(t) {
		cfg := Config{Style: spec, Seed: 5}
		a, err := cfg.Apply(src, AlignedFace(112, 112), "a.png")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := cfg.Apply(src, AlignedFace(112, 112), "a.png")
		if !bytes.Equal(a.Image.Pix, b.Image.Pix) || !bytes.Equal(a.Coverage.Pix, b.Coverage.Pix) {
			t.Errorf("%s: two Applies differ", name)
		}
		if !bytes.Equal(src.Pix, orig) {
			t.Fatalf("%s: Apply modified its source", name)
		}
		// Render from the recorded Params alone redraws the same mask,
		// on another image type too.
		re := image.NewRGBA(src.Rect)
		draw.Draw(re, re.Rect, src, image.Point{}, draw.Src)
		cov, err := Render(opaqueImage{re}, AlignedFace(112, 112), a.Params)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(re.Pix, a.Image.Pix) || !bytes.Equal(cov.Pix, a.Coverage.Pix) {
			t.Errorf("%s: Render(Params) on RGBA differs from Apply", name)
		}
		if fr := a.CoveredFraction(); fr < 0.15 || fr > 0.6 {
			t.Errorf("%s: covers %.3f of an aligned crop", name, fr)
		}
		// Only pixels near the coverage change (soft edges, shadow,
		// loops): nothing farther than 4 px away.
		for y := 0; y < 112; y++ {
			for x := 0; x < 112; x++ {
				i := src.PixOffset(x, y)
				if bytes.Equal(src.Pix[i:i+4], a.Image.Pix[i:i+4]) || nearCovered(a.Coverage, x, y, 4) {
					continue
				}
				t.Errorf("%s: pixel (%d,%d) changed, far from the coverage", name, x, y)
				return
			}
		}
	}
}

func nearCovered(cov *image.Alpha, x, y, r int) bool {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if image.Pt(x+dx, y+dy).In(cov.Rect) && cov.AlphaAt(x+dx, y+dy).A != 0 {
				return true
			}
		}
	}
	return false
}

func TestCoverageBinary(t *testing.T) {
	for name, spec := range allSpecs(t) {
		res, err := Config{Style: spec, Seed: 1}.Apply(syntheticFace(), AlignedFace(112, 112), "k")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range res.Coverage.Pix {
			if v != 0 && v != 255 {
				t.Fatalf("%s: coverage value %d", name, v)
			}
		}
		if res.Coverage.Rect != res.Image.Rect {
			t.Errorf("%s: coverage bounds %v, image %v", name, res.Coverage.Rect, res.Image.Rect)
		}
	}
}

func TestBadInputs(t *testing.T) {
	good := AlignedFace(112, 112)
	nan := good
	nan.Points5[NoseTip].X = math.NaN()
	tiny := Face{Points5: [5]Point{{10, 10}, {10.5, 10}, {10.2, 10.3}, {10, 10.6}, {10.5, 10.6}}}
	short := good
	short.Points68 = make([]Point, 10)
	far := good
	far.Points5[LeftEye].X = 1e300
	for name, f := range map[string]Face{"nan": nan, "tiny": tiny, "10 landmarks": short, "far": far} {
		for style, spec := range allSpecs(t) {
			if _, err := (Config{Style: spec}).Apply(syntheticFace(), f, "k"); !errors.Is(err, ErrLandmarks) {
				t.Errorf("%s face, %s: error %v, want ErrLandmarks", name, style, err)
			}
		}
	}
	p := Config{}.Choose("k")
	p.Style = "gaiter"
	if _, err := Render(syntheticFace(), good, p); !errors.Is(err, ErrParams) {
		t.Errorf("unknown style: %v", err)
	}
	p = Config{}.Choose("k")
	p.Algorithm = "maskgen/0"
	if _, err := Render(syntheticFace(), good, p); !errors.Is(err, ErrParams) {
		t.Errorf("old algorithm: %v", err)
	}
	// Points that fold the template behind the camera are refused, not
	// drawn as garbage.
	fold := Face{Points5: [5]Point{{70, 50}, {40, 50}, {56, 70}, {40, 90}, {70, 90}}}
	fold.Points5[NoseTip] = Point{56, 20}
	if _, err := (Config{}).Apply(syntheticFace(), fold, "k"); err != nil && !errors.Is(err, ErrLandmarks) {
		t.Errorf("folded face: %v", err)
	}
}

// TestFaceOffImage: faces partly or wholly outside the image draw what
// lands inside and never panic.
func TestFaceOffImage(t *testing.T) {
	for _, off := range []Point{{-80, 0}, {0, 90}, {500, 500}, {-2000, -2000}} {
		f := AlignedFace(112, 112)
		for i := range f.Points5 {
			f.Points5[i] = f.Points5[i].add(off)
		}
		for name, spec := range allSpecs(t) {
			if _, err := (Config{Style: spec}).Apply(syntheticFace(), f, "k"); err != nil {
				t.Errorf("offset %v, %s: %v", off, name, err)
			}
		}
	}
}

// TestToNRGBA: maskgen's copy is imageio's conversion at the source's
// bounds (sub-images included), and a copy, not a view.
func TestToNRGBA(t *testing.T) {
	src := syntheticFace()
	ycc := image.NewYCbCr(src.Rect, image.YCbCrSubsampleRatio420)
	for y := 0; y < 112; y++ {
		for x := 0; x < 112; x++ {
			c := src.NRGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)] = yy
			ycc.Cb[ycc.COffset(x, y)] = cb
			ycc.Cr[ycc.COffset(x, y)] = cr
		}
	}
	gray := image.NewGray(image.Rect(3, 4, 40, 50))
	draw.Draw(gray, gray.Rect, src, image.Point{}, draw.Src)
	rgba := image.NewRGBA(src.Rect)
	draw.Draw(rgba, rgba.Rect, &image.Uniform{color.NRGBA{200, 100, 50, 128}}, image.Point{}, draw.Src)
	pal := image.NewPaletted(image.Rect(0, 0, 9, 9), color.Palette{color.Black, color.NRGBA{10, 200, 30, 255}})
	pal.Pix[5] = 1
	for name, img := range map[string]image.Image{
		"nrgba": src, "nrgba-sub": src.SubImage(image.Rect(10, 20, 90, 100)),
		"ycbcr": ycc, "ycbcr-sub": ycc.SubImage(image.Rect(5, 7, 60, 61)),
		"gray": gray, "rgba": rgba, "paletted": pal,
	} {
		got, want := toNRGBA(img), imageio.ToNRGBA(img)
		b := img.Bounds()
		if got.Rect != b {
			t.Errorf("%s: bounds %v, want %v", name, got.Rect, b)
			continue
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if g, w := got.NRGBAAt(x, y), want.NRGBAAt(x-b.Min.X, y-b.Min.Y); g != w {
					t.Fatalf("%s: (%d,%d) = %v, imageio has %v", name, x, y, g, w)
				}
			}
		}
	}
	before := src.NRGBAAt(50, 50)
	toNRGBA(src).SetNRGBA(50, 50, color.NRGBA{1, 2, 3, 4})
	if src.NRGBAAt(50, 50) != before {
		t.Error("toNRGBA returned a view of its source")
	}
}

// FuzzRenderFace: arbitrary key points never panic; they either draw or
// return ErrLandmarks.
func FuzzRenderFace(f *testing.F) {
	a := AlignedFace(112, 112).Points5
	f.Add(a[0].X, a[0].Y, a[1].X, a[1].Y, a[2].X, a[2].Y, a[3].X, a[3].Y, a[4].X, a[4].Y, uint8(0))
	f.Add(70.0, 50.0, 40.0, 50.0, 56.0, 20.0, 40.0, 90.0, 70.0, 90.0, uint8(1))
	f.Add(0.0, 0.0, 1e6, 0.0, 5e5, 1.0, 0.0, 1e6, 1e6, 1e6, uint8(3))
	styles := Styles()
	f.Fuzz(func(t *testing.T, x0, y0, x1, y1, x2, y2, x3, y3, x4, y4 float64, style uint8) {
		face := Face{Points5: [5]Point{{x0, y0}, {x1, y1}, {x2, y2}, {x3, y3}, {x4, y4}}}
		spec, _ := ParseStyle(styles[int(style)%len(styles)])
		res, err := Config{Style: spec}.Apply(image.NewNRGBA(image.Rect(0, 0, 64, 64)), face, "k")
		if err != nil {
			if !errors.Is(err, ErrLandmarks) {
				t.Fatalf("error %v is not ErrLandmarks", err)
			}
			return
		}
		if fr := res.CoveredFraction(); fr < 0 || fr > 1 {
			t.Fatalf("covered fraction %v", fr)
		}
	})
}
