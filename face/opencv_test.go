package face

import (
	"image"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/internal/testfile"
)

// The fixtures in testdata/cv2 were made by OpenCV 4.6 (gen.py there), the
// reference runtime. Our emulation of its arithmetic must be bit-exact.

type cvCases struct {
	Resize []struct {
		Name string `json:"name"`
		ROI  [4]int `json:"roi"`
		Size [2]int `json:"size"`
	} `json:"resize"`
	Warp [2][3]float64 `json:"warp"`
}

func loadCVCases(t *testing.T) (cvCases, *image.NRGBA) {
	t.Helper()
	var c cvCases
	testfile.ReadJSON(t, filepath.Join("testdata", "cv2", "cases.json"), &c)
	return c, mustDecode(t, filepath.Join("testdata", "cv2", "src.png"))
}

func TestResizeMatchesOpenCV(t *testing.T) {
	cases, src := loadCVCases(t)
	for _, c := range cases.Resize {
		t.Run(c.Name, func(t *testing.T) {
			roi := image.Rect(c.ROI[0], c.ROI[1], c.ROI[0]+c.ROI[2], c.ROI[1]+c.ROI[3])
			got := resizeLinear(src, roi, c.Size[0], c.Size[1])
			want := mustDecode(t, filepath.Join("testdata", "cv2", "resize_"+c.Name+".png"))
			if mean, worst := meanAbsDiff(got, want); worst != 0 {
				t.Errorf("differs from cv2.resize: mean %.4f, max %d", mean, worst)
			}
		})
	}
}

func TestGreyMatchesOpenCV(t *testing.T) {
	small := mustDecode(t, filepath.Join("testdata", "cv2", "resize_roi_64.png"))
	want := mustDecode(t, filepath.Join("testdata", "cv2", "gray_roi_64.png"))
	for i := 0; i < len(small.Pix); i += 4 {
		if g := grayCV(small.Pix[i], small.Pix[i+1], small.Pix[i+2]); g != want.Pix[i] {
			t.Fatalf("pixel %d: grey %d, OpenCV %d", i/4, g, want.Pix[i])
		}
	}
}

func TestWarpMatchesOpenCV(t *testing.T) {
	cases, src := loadCVCases(t)
	m := Affine{cases.Warp[0][0], cases.Warp[0][1], cases.Warp[0][2], cases.Warp[1][0], cases.Warp[1][1], cases.Warp[1][2]}
	got := Warp(src, m, 112, 112)
	want := mustDecode(t, filepath.Join("testdata", "cv2", "warp.png"))
	if mean, worst := meanAbsDiff(got, want); worst != 0 {
		t.Errorf("differs from cv2.warpAffine: mean %.4f, max %d", mean, worst)
	}
}
