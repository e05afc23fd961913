package maskgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"slices"
	"testing"
)

func TestParseShift(t *testing.T) {
	tests := []struct {
		in   string
		want *Shift // nil with ok: random
		ok   bool
	}{
		{"", nil, true},
		{"random", nil, true},
		{" random ", nil, true},
		{"3,-40", &Shift{3, -40}, true},
		{" -240 , 240 ", &Shift{-240, 240}, true},
		{"0,0", &Shift{}, true},
		{"241,0", nil, false},
		{"0,-241", nil, false},
		{"3", nil, false},
		{"3,4,5", nil, false},
		{"a,b", nil, false},
		{"1.5,2", nil, false},
		{"Random", nil, false},
	}
	for _, tc := range tests {
		got, err := ParseShift(tc.in)
		if !tc.ok {
			if !errors.Is(err, ErrShift) || got != nil {
				t.Errorf("ParseShift(%q) = %v, %v; want an ErrShift", tc.in, got, err)
			}
			continue
		}
		if err != nil || (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("ParseShift(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			continue
		}
		if again, err := ParseShift(got.String()); err != nil || !slices.Equal(shiftList(again), shiftList(got)) {
			t.Errorf("ParseShift(%q).String() = %q reads back as %v, %v", tc.in, got.String(), again, err)
		}
	}
}

func shiftList(s *Shift) []int {
	if s == nil {
		return nil
	}
	return []int{s.X, s.Y}
}

func TestShiftStringAndJSON(t *testing.T) {
	var random *Shift
	if s := random.String(); s != "random" {
		t.Errorf("nil shift prints %q, want random", s)
	}
	s := &Shift{-5, 35}
	if got := s.String(); got != "-5,35" {
		t.Errorf("String() = %q, want -5,35", got)
	}
	if x, y := (Shift{24, -36}).CropPixels(); x != 2 || y != -3 {
		t.Errorf("CropPixels() = %v, %v; want 2, -3", x, y)
	}
	b, err := json.Marshal(struct {
		Shift *Shift `json:"shift,omitempty"`
	}{s})
	if err != nil || string(b) != `{"shift":{"x":-5,"y":35}}` {
		t.Errorf("JSON %s, %v", b, err)
	}
}

func TestConfigString(t *testing.T) {
	mix, err := ParseStyle("mix:surgical=0.5,n95=0.5")
	if err != nil {
		t.Fatal(err)
	}
	navy, err := ParseColor("navy")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{}, "paper, colour auto, seed 0, shift random"},
		{Config{Style: mix, Color: navy, Seed: 9, Shift: &Shift{0, 30}}, "mix:surgical=0.5,n95=0.5, colour #232f55, seed 9, shift 0,30"},
		{Config{Color: ColorSpec{Mode: ColorRandom}, Seed: 1 << 63, Shift: &Shift{-240, 240}}, fmt.Sprintf("paper, colour random, seed %d, shift -240,240", uint64(1<<63))},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestStyleHasShift(t *testing.T) {
	for _, s := range Styles() {
		if got, want := StyleHasShift(s), s == "paper"; got != want {
			t.Errorf("StyleHasShift(%q) = %v, want %v", s, got, want)
		}
	}
	if StyleHasShift("random") || StyleHasShift("gaiter") {
		t.Error("a name that is not a style has a shift")
	}
	if got := ShiftStyles(); !slices.Equal(got, []string{"paper"}) {
		t.Errorf("ShiftStyles() = %v", got)
	}
}

// TestChooseShift: a fixed shift replaces the random shift of exactly the
// masks whose style has one, and changes nothing else; without one, Params
// are what they were.
func TestChooseShift(t *testing.T) {
	random, err := ParseStyle("random")
	if err != nil {
		t.Fatal(err)
	}
	sh := &Shift{7, -33}
	shifted, styles := 0, map[string]bool{}
	for k := range 200 {
		key := fmt.Sprintf("photos/%03d.jpg", k)
		plain := Config{Style: random, Seed: 4}.Choose(key)
		got := Config{Style: random, Seed: 4, Shift: sh}.Choose(key)
		want := plain
		if plain.Style == "paper" {
			want.ShiftX, want.ShiftY = sh.X, sh.Y
			shifted++
		}
		styles[plain.Style] = true
		if got != want {
			t.Fatalf("%s: shifted choice %+v, want %+v", key, got, want)
		}
	}
	if shifted == 0 || len(styles) != len(Styles()) {
		t.Fatalf("200 keys gave %d paper masks and styles %v", shifted, styles)
	}
}

func TestApplyRefusesShiftOutOfRange(t *testing.T) {
	c := Config{Shift: &Shift{0, MaxShift + 1}}
	if err := c.Validate(); !errors.Is(err, ErrShift) {
		t.Errorf("Validate() = %v, want ErrShift", err)
	}
	if _, err := c.Apply(syntheticFace(), AlignedFace(112, 112), "k"); !errors.Is(err, ErrShift) {
		t.Errorf("Apply: %v, want ErrShift", err)
	}
	if _, err := c.ApplyAligned(syntheticFace(), "k"); !errors.Is(err, ErrShift) {
		t.Errorf("ApplyAligned: %v, want ErrShift", err)
	}
	if err := (Config{Shift: &Shift{-MaxShift, MaxShift}}).Validate(); err != nil {
		t.Errorf("a shift at the limit: %v", err)
	}
}

// TestApplyAligned: on a crop at the origin it is Apply with the template;
// on a sub-image it masks the crop in place, as it would the same pixels
// at the origin (a mask misplaced by the offset would differ by far more
// than the tolerance), and leaves its source alone.
func TestApplyAligned(t *testing.T) {
	crop := syntheticFace()
	big := image.NewNRGBA(image.Rect(0, 0, 200, 180))
	at := image.Rect(30, 40, 142, 152)
	draw.Draw(big, at, crop, image.Point{}, draw.Src)
	sub := big.SubImage(at).(*image.NRGBA)
	before := append([]uint8(nil), big.Pix...)
	for name, spec := range allSpecs(t) {
		c := Config{Style: spec, Seed: 3, Shift: &Shift{5, 20}}
		got, err := c.ApplyAligned(crop, "a/b.jpg")
		if err != nil {
			t.Fatal(err)
		}
		want, err := c.Apply(crop, AlignedFace(112, 112), "a/b.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if got.Params != want.Params || !slices.Equal(got.Image.Pix, want.Image.Pix) || !slices.Equal(got.Coverage.Pix, want.Coverage.Pix) {
			t.Errorf("%s: ApplyAligned differs from Apply with the template", name)
		}
		moved, err := c.ApplyAligned(sub, "a/b.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if moved.Image.Rect != at || moved.Coverage.Rect != at {
			t.Fatalf("%s: bounds %v and %v, want %v", name, moved.Image.Rect, moved.Coverage.Rect, at)
		}
		shifted := image.NewNRGBA(image.Rect(0, 0, 112, 112))
		draw.Draw(shifted, shifted.Rect, moved.Image, at.Min, draw.Src)
		// The realistic styles' grain is keyed by the absolute pixel
		// position, so there the sub-image differs by up to twice its
		// amplitude (n95: 7 levels).
		tol := 16
		if name == "paper" {
			tol = 1
		}
		if msg := compareImages(shifted, want.Image, tol); msg != "" {
			t.Errorf("%s: sub-image masked unlike the crop: %s", name, msg)
		}
		if d := coverageDiff(moved.Coverage, want.Coverage, at.Min); d > 4 {
			t.Errorf("%s: coverage of the sub-image differs at %d pixels", name, d)
		}
	}
	if !slices.Equal(big.Pix, before) {
		t.Error("ApplyAligned wrote to its source")
	}
}

func coverageDiff(a, b *image.Alpha, off image.Point) int {
	n := 0
	for y := b.Rect.Min.Y; y < b.Rect.Max.Y; y++ {
		for x := b.Rect.Min.X; x < b.Rect.Max.X; x++ {
			if a.AlphaAt(x+off.X, y+off.Y) != b.AlphaAt(x, y) {
				n++
			}
		}
	}
	return n
}

// TestShiftMovesPaperMask: the shift is in template pixels, TemplateScale
// per crop pixel, and a positive X or Y moves the mask left or up. The
// face sits in the middle of a larger image, so no shift clips the mask.
func TestShiftMovesPaperMask(t *testing.T) {
	f := AlignedFace(112, 112)
	for i := range f.Points5 {
		f.Points5[i] = f.Points5[i].add(Point{44, 44})
	}
	centre := func(sh Shift) (float64, float64) {
		res, err := Config{Shift: &sh}.Apply(image.NewNRGBA(image.Rect(0, 0, 200, 200)), f, "k")
		if err != nil {
			t.Fatal(err)
		}
		var sx, sy, n float64
		for y := 0; y < 200; y++ {
			for x := 0; x < 200; x++ {
				if res.Coverage.AlphaAt(x, y).A != 0 {
					sx, sy, n = sx+float64(x), sy+float64(y), n+1
				}
			}
		}
		return sx / n, sy / n
	}
	x0, y0 := centre(Shift{})
	for _, sh := range []Shift{{0, 120}, {0, -120}, {60, 0}, {-36, 48}} {
		x, y := centre(sh)
		cx, cy := sh.CropPixels()
		if dx, dy := x-x0+cx, y-y0+cy; dx*dx+dy*dy > 0.3*0.3 {
			t.Errorf("shift %v moved the mask by (%.2f, %.2f) crop px, want (%.2f, %.2f)", sh, x-x0, y-y0, -cx, -cy)
		}
	}
}

// FuzzParseShift: an accepted shift is within MaxShift.
func FuzzParseShift(f *testing.F) {
	fuzzSetting(f, ParseShift, func(t *testing.T, in string, sh *Shift) {
		if sh != nil && (max(sh.X, sh.Y) > MaxShift || min(sh.X, sh.Y) < -MaxShift) {
			t.Fatalf("%q: accepted %v beyond ±%d", in, sh, MaxShift)
		}
	}, "", "random", "3,-40", " -240 , 240 ", "241,0", "1,2,3", "+5,-0", "9999999999999999999,1")
}
