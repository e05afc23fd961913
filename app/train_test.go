package app

import (
	"encoding/json"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/imageio"
)

func TestTrainUsage(t *testing.T) {
	for _, args := range [][]string{
		{"train"},
		{"train", "--data", "x"},
		{"train", "--data", "x", "--out", "y", "--batch", "1"},
		{"train", "--data", "x", "--out", "y", "--loss", "softmax"},
		{"train", "--data", "bin=x", "--out", "y"},
		{"train", "--data", "lfw=x", "--out", "y", "--train-folds", "0-3"},
	} {
		if _, stderr, code := runCLI(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
}

// TestTrainCommandEndToEnd trains two steps on a synthetic folder of
// aligned crops, then embeds a crop with the exported student.
func TestTrainCommandEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the recogniser for two steps")
	}
	data, out := t.TempDir(), t.TempDir()
	var crop string
	for i, name := range []string{"Ann", "Bob"} {
		dir := filepath.Join(data, name)
		os.MkdirAll(dir, 0o755)
		for j := 0; j < 2; j++ {
			img := image.NewNRGBA(image.Rect(0, 0, 112, 112))
			for y := 0; y < 112; y++ {
				for x := 0; x < 112; x++ {
					img.SetNRGBA(x, y, color.NRGBA{uint8(x*2 + i*90), uint8(y*2 + j*40), uint8(x + y), 255})
				}
			}
			crop = filepath.Join(dir, name+string(rune('0'+j))+".png")
			if err := imageio.WritePNG(crop, img); err != nil {
				t.Fatal(err)
			}
		}
	}
	stdout, stderr, code := runCLI(t, "train", "--data", data, "--out", out, "--batch", "2", "--max-steps", "2", "--lr", "1e-4", "--crops", t.TempDir())
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "trained 2 steps") || !strings.Contains(stderr, "margin") || !strings.Contains(stderr, "ETA") {
		t.Errorf("train output:\n%s\n%s", stdout, stderr)
	}
	student := filepath.Join(out, "student.onnx")
	stdout, stderr, code = runCLI(t, "embed", "--json", "--aligned", "--model", student, crop)
	if code != 0 {
		t.Fatalf("embed with the student: exit %d: %s", code, stderr)
	}
	var rec EmbedRecord
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &rec); err != nil || len(rec.Embedding) != 512 {
		t.Fatalf("embed output %q: %v", stdout, err)
	}
	// Resuming a finished run does nothing more and still succeeds.
	if _, stderr, code := runCLI(t, "train", "--data", data, "--out", out, "--batch", "2", "--max-steps", "2", "--lr", "1e-4", "--resume", "--crops", t.TempDir()); code != 0 || !strings.Contains(stderr, "resumed at step 2") {
		t.Errorf("resume: exit %d: %s", code, stderr)
	}
}
