package maskgen

import (
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLFWPlacement masks real LFW photos, placed by the reference
// landmarks of shared/golden/reference.json, in every style and a few
// seeds: the mask must cover the nose tip and both mouth corners, and no
// covered pixel may reach the eye line.
func TestLFWPlacement(t *testing.T) {
	shared, refs := loadReference(t)
	tested := 0
	for _, r := range refs {
		if !strings.HasPrefix(r.Source, "data/lfw/") {
			continue
		}
		face, err := refFace(r)
		if err != nil {
			t.Fatal(err)
		}
		img := decodeFile(t, filepath.Join(shared, r.Source))
		eyeL, eyeR := face.Points5[LeftEye], face.Points5[RightEye]
		dir := eyeR.sub(eyeL).unit()
		below := Point{-dir.Y, dir.X} // perpendicular, pointing down the face
		for name, spec := range allSpecs(t) {
			for seed := uint64(0); seed < 3; seed++ {
				res, err := Config{Style: spec, Seed: seed}.Apply(img, face, r.Key)
				if err != nil {
					t.Fatalf("%s %s: %v", r.Key, name, err)
				}
				for _, i := range []int{30, 48, 54} {
					p := face.Points68[i]
					if res.Coverage.AlphaAt(int(p.X+0.5), int(p.Y+0.5)).A == 0 {
						t.Errorf("%s %s seed %d: landmark %d %v not covered", r.Key, name, seed, i, p)
					}
				}
				worst := 1e9
				cov := res.Coverage
				for y := cov.Rect.Min.Y; y < cov.Rect.Max.Y; y++ {
					for x := cov.Rect.Min.X; x < cov.Rect.Max.X; x++ {
						if cov.Pix[cov.PixOffset(x, y)] != 0 {
							worst = min(worst, Point{float64(x), float64(y)}.sub(eyeL).dot(below))
						}
					}
				}
				if worst <= 0 {
					t.Errorf("%s %s seed %d: mask reaches %.1f px above the eye line", r.Key, name, seed, -worst)
				}
			}
		}
		tested++
	}
	if tested < 20 {
		t.Fatalf("only %d LFW faces in reference.json", tested)
	}
}

func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%v (shared/ data missing?)", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
