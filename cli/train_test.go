package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/internal/sharedtest"
	"github.com/maskinv/workbench/train"
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
	var rec app.EmbedRecord
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &rec); err != nil || len(rec.Embedding) != 512 {
		t.Fatalf("embed output %q: %v", stdout, err)
	}
	// Resuming a finished run does nothing more and still succeeds, also
	// for a run made before folders were marked: its checkpoint is the
	// proof that the folder is ours.
	if err := os.Remove(filepath.Join(out, folder.MarkerName("train"))); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "train", "--data", data, "--out", out, "--batch", "2", "--max-steps", "2", "--lr", "1e-4", "--resume", "--crops", t.TempDir()); code != 0 || !strings.Contains(stderr, "resumed at step 2") {
		t.Errorf("resume: exit %d: %s", code, stderr)
	}
	if ours, _ := folder.Marked(out, "train"); !ours {
		t.Error("a resumed run did not mark its folder")
	}
	// A checkpoint of another run proves nothing: resuming it fails and
	// replaces nothing.
	if _, stderr, code := runCLI(t, "train", "--data", data, "--out", out, "--batch", "2", "--max-steps", "3", "--lr", "1e-4", "--resume", "--crops", t.TempDir()); code != 1 || !strings.Contains(stderr, "checkpoint") {
		t.Errorf("resume with other settings: exit %d: %s", code, stderr)
	}
}

// TestTrainPhotoMasks trains a step on raw LFW photos with every masked
// input taken from photo masks: each photo gets its masked variant,
// cached where the log says, and a rerun reuses the cache.
func TestTrainPhotoMasks(t *testing.T) {
	if testing.Short() {
		t.Skip("aligns photos and trains a step")
	}
	lfw := sharedtest.Path(t, "data", "lfw")
	data, crops := t.TempDir(), t.TempDir()
	for _, name := range []string{"Serena_Williams/Serena_Williams_0001.jpg", "Serena_Williams/Serena_Williams_0004.jpg",
		"Alex_Sink/Alex_Sink_0002.jpg", "Alex_Sink/Alex_Sink_0003.jpg"} {
		b, err := os.ReadFile(filepath.Join(lfw, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(data, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"train", "--data", data, "--crops", crops, "--batch", "2", "--max-steps", "1", "--lr", "1e-4",
		"--mask-prob", "1", "--photo-masks", "1", "--photo-mask-share", "1", "--mask-style", "surgical"}
	for run := 0; run < 2; run++ {
		_, stderr, code := runCLI(t, append(args, "--out", t.TempDir())...)
		if code != 0 {
			t.Fatalf("train: exit %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "photo masks: 1 per photo") || strings.Contains(stderr, "have no photo mask") {
			t.Errorf("run %d log:\n%s", run, stderr)
		}
		masks, _ := filepath.Glob(filepath.Join(crops, "photo-masks", "*", "*", "*.m0.png"))
		if len(masks) != 4 {
			t.Errorf("run %d: %d cached photo masks, want 4", run, len(masks))
		}
	}
}

// TestTrainRefusesForeign: train checks --out before loading anything.
func TestTrainRefusesForeign(t *testing.T) {
	out := t.TempDir()
	apptest.WriteFile(t, filepath.Join(out, "student.onnx"), "my model")
	_, stderr, code := runCLI(t, "train", "--data", filepath.Join(t.TempDir(), "missing"), "--out", out)
	if code != 1 || !strings.Contains(stderr, "student.onnx") || !strings.Contains(stderr, "--force") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "train", "--data", filepath.Join(t.TempDir(), "missing"), "--out", out, "--force")
	if code != 1 || strings.Contains(stderr, "--force") {
		t.Errorf("--force: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "student.onnx")); string(b) != "my model" {
		t.Error("student.onnx replaced by a run that wrote nothing")
	}
}

// TestTrainTeacherRef: --teacher takes every model reference --model
// takes (the embedded student too) and hands train.Run its source.
func TestTrainTeacherRef(t *testing.T) {
	t.Setenv(app.ModelsEnv, filepath.Join(t.TempDir(), "models.json"))
	second := writeSecondModel(t, t.TempDir())
	tests := []struct {
		ref, name string
		code      int
	}{
		{"", engine.TeacherName, 0},
		{"teacher", engine.TeacherName, 0},
		{"student", engine.StudentName, 0},
		{second, "perturbed.onnx", 0},
		{"nosuch", "", 2},
	}
	for _, tt := range tests {
		var got *train.Options
		run := func(_ context.Context, opt train.Options) (train.Result, error) {
			got = &opt
			return train.Result{}, nil
		}
		var out, errb bytes.Buffer
		args := []string{"--data", t.TempDir(), "--out", t.TempDir(), "--teacher", tt.ref}
		code := exitStatus(context.Background(), "train", runTrain(context.Background(), args, Stdio{Out: &out, Err: &errb}, run), &errb)
		if code != tt.code {
			t.Errorf("--teacher %q: exit %d, want %d: %s", tt.ref, code, tt.code, errb.String())
			continue
		}
		if code == 0 && (got == nil || got.Teacher.Name != tt.name) {
			t.Errorf("--teacher %q: train.Run got %+v, want the teacher %s", tt.ref, got, tt.name)
		}
	}
}
