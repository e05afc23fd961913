package maskgen

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/testfile"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current code")

// goldenCases are the golden images: every style on the synthetic aligned
// face, and every texture on the cloth mask.
func goldenCases(t *testing.T) map[string]Result {
	t.Helper()
	src, face := syntheticFace(), AlignedFace(112, 112)
	out := map[string]Result{}
	for name, spec := range allSpecs(t) {
		res, err := Config{Style: spec, Seed: 7}.Apply(src, face, "golden/face.png")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = res
	}
	for _, tex := range []string{"solid", "twotone", "stripes", "dots", "check"} {
		clothSpec, _ := ParseStyle("cloth")
		p := Config{Style: clothSpec, Seed: 7}.Choose("golden/face.png")
		p.Texture, p.Color, p.Color2, p.Angle = tex, Color{0x23, 0x2f, 0x55}, Color{0xf4, 0xf2, 0xec}, 45
		img := toNRGBA(src)
		cov, err := Render(img, face, p)
		if err != nil {
			t.Fatal(err)
		}
		out["cloth-"+tex] = Result{Image: img, Coverage: cov, Params: p}
	}
	return out
}

// TestGolden compares each case, per channel within 2 levels, with
// testdata/golden/NAME.png, and its coverage map with NAME-coverage.png
// (exactly). Mismatches are written to testdata/failed/.
func TestGolden(t *testing.T) {
	for name, res := range goldenCases(t) {
		for suffix, img := range map[string]image.Image{"": res.Image, "-coverage": res.Coverage} {
			file := name + suffix + ".png"
			path := filepath.Join("testdata", "golden", file)
			if *update {
				if err := writePNG(path, img); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := testfile.DecodePNG(path)
			if err != nil {
				t.Errorf("%s: %v (run go test -run TestGolden -update to create it)", file, err)
				continue
			}
			tol := 2
			if suffix != "" {
				tol = 0
			}
			if msg := compareImages(img, want, tol); msg != "" {
				failed := filepath.Join("testdata", "failed", file)
				if err := writePNG(failed, img); err != nil {
					t.Error(err)
				}
				t.Errorf("%s: %s; got written to %s", file, msg, failed)
			}
		}
	}
}

func compareImages(got, want image.Image, tol int) string {
	if got.Bounds() != want.Bounds() {
		return fmt.Sprintf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	bad := 0
	b := got.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, a1 := got.At(x, y).RGBA()
			r2, g2, b2, a2 := want.At(x, y).RGBA()
			for _, d := range [4]int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8), int(a1>>8) - int(a2>>8)} {
				if d > tol || -d > tol {
					bad++
					break
				}
			}
		}
	}
	if bad > 0 {
		return fmt.Sprintf("%d pixels differ by more than %d levels", bad, tol)
	}
	return ""
}

func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
