package cli

import (
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/apptest"
)

// twoFacePhoto pastes demo photos left and right onto one grey canvas,
// right nearer the centre, so that the engine must choose right's face.
func twoFacePhoto(t *testing.T, path, left, right string) {
	t.Helper()
	l, err := imageio.DecodeFS(assets.Demo(), left)
	if err != nil {
		t.Fatal(err)
	}
	r, err := imageio.DecodeFS(assets.Demo(), right)
	if err != nil {
		t.Fatal(err)
	}
	// 250-px LFW photos at x 0 and 260 of 620: centres 125 and 385, the
	// canvas centre 310.
	img := image.NewNRGBA(image.Rect(0, 0, 620, 250))
	draw.Draw(img, img.Rect, image.NewUniform(color.NRGBA{128, 128, 128, 255}), image.Point{}, draw.Src)
	draw.Draw(img, l.Rect, l, image.Point{}, draw.Src)
	draw.Draw(img, r.Rect.Add(image.Pt(260, 0)), r, image.Point{}, draw.Src)
	apptest.WriteImage(t, path, img)
}

// TestVerifyReportsFace verifies a synthetic two-face photo against other
// photos of each of its two people: the report says which face of the two
// was used (text and JSON, whose earlier fields stay), and the decisions
// show it was the one nearest the centre.
func TestVerifyReportsFace(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine")
	}
	dir := t.TempDir()
	group := filepath.Join(dir, "group.png")
	twoFacePhoto(t, group, "Colin_Powell/Colin_Powell_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
	copyDemo(t, dir, "Aaron_Peirsol/Aaron_Peirsol_0002.jpg", "Colin_Powell/Colin_Powell_0002.jpg")
	const twoFaces = " of 2 (nearest the centre of 2 large faces)"
	tests := []struct {
		other string
		same  bool
	}{
		{"Aaron_Peirsol_0002.jpg", true},
		{"Colin_Powell_0002.jpg", false},
	}
	for _, tc := range tests {
		t.Run(tc.other, func(t *testing.T) {
			other := filepath.Join(dir, tc.other)
			stdout, stderr, code := runCLI(t, "verify", "--json", group, other)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var raw map[string]any
			if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
				t.Fatalf("%q: %v", stdout, err)
			}
			for _, k := range []string{"score", "threshold", "same", "face_a", "face_b"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("JSON %s lacks %q", stdout, k)
				}
			}
			var r app.VerifyResult
			json.Unmarshal([]byte(stdout), &r)
			if r.Same != tc.same {
				t.Errorf("same = %v (score %.4f), want %v: the centred face should have been used", r.Same, r.Score, tc.same)
			}
			if !strings.HasPrefix(r.FaceA, "face ") || !strings.HasSuffix(r.FaceA, twoFaces) || r.FaceB != "1 face" {
				t.Errorf("face_a %q, face_b %q: want face k%s and 1 face", r.FaceA, r.FaceB, twoFaces)
			}
			text, stderr, code := runCLI(t, "verify", group, other)
			if code != 0 {
				t.Fatalf("text: exit %d: %s", code, stderr)
			}
			if !strings.Contains(text, group+": "+r.FaceA+"\n") || !strings.Contains(text, other+": 1 face\n") {
				t.Errorf("text output does not say which faces were used:\n%s", text)
			}
		})
	}
}
