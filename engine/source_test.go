package engine

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/imageio"
)

// teacherSHA256 is fr_feature.onnx's hash (assets/models/PROVENANCE.md).
const teacherSHA256 = "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"

func TestSources(t *testing.T) {
	te := Teacher()
	if sha, err := te.SHA256(); err != nil || sha != teacherSHA256 || !te.Embedded() || te.Threshold != DefaultThreshold {
		t.Errorf("teacher: sha %s, %v, %+v", sha, err, te.Name)
	}
	if _, err := Student(); !errors.Is(err, ErrNoStudent) || !strings.Contains(err.Error(), "no embedded student") {
		t.Errorf("student: %v", err)
	}
	dir := t.TempDir()
	if _, err := FileSource(filepath.Join(dir, "missing.onnx")); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: %v", err)
	}
	lmk := filepath.Join(dir, "landmarks.onnx")
	os.WriteFile(lmk, assets.Landmarker(), 0o644)
	src, err := FileSource(lmk)
	if err != nil || src.Embedded() || src.Name != "landmarks.onnx" || src.Threshold != 0 {
		t.Fatalf("file source %+v, %v", src.Name, err)
	}
	if _, err := src.Decode(); !errors.Is(err, ErrModelInput) || !strings.Contains(err.Error(), "landmarks.onnx") {
		t.Errorf("wrong input shape: %v, want ErrModelInput naming the file", err)
	}
	// A source by path alone reads the file when asked.
	lazy := Source{Name: "landmarks.onnx", Path: lmk}
	if b, err := lazy.Bytes(); err != nil || len(b) != len(assets.Landmarker()) {
		t.Errorf("lazy bytes: %d, %v", len(b), err)
	}
	if _, err := (Source{Name: "nothing"}).Bytes(); err == nil {
		t.Error("a source without file or bytes gave bytes")
	}
}

// TestLoadRecogniser: a second recogniser loaded beside the engine's
// embeds exactly as the engine does when it is the same model; one the
// engine refuses is an error and leaves the engine working.
func TestLoadRecogniser(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: decodes the models")
	}
	eng, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	img, err := imageio.DecodeFS(assets.Demo(), "Colin_Powell/Colin_Powell_0001.jpg")
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Locate(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	crops := []*image.NRGBA{res.Aligned, res.Aligned}
	want, err := eng.Embed(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := eng.LoadRecogniser(Teacher())
	if err != nil {
		t.Fatal(err)
	}
	got, err := rec.Embed(context.Background(), crops)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got[0], want[0]) || rec.Model.Hash() != teacherSHA256 || rec.Threshold != DefaultThreshold {
		t.Errorf("second teacher: embeddings equal %v, hash %s, threshold %v", slices.Equal(got[0], want[0]), rec.Model.Hash(), rec.Threshold)
	}
	bad := Source{Name: "garbage.onnx", Data: []byte("garbage")}
	if _, err := eng.LoadRecogniser(bad); err == nil || !strings.Contains(err.Error(), "garbage.onnx") {
		t.Errorf("garbage: %v", err)
	}
	if _, err := eng.Embed(context.Background(), crops); err != nil {
		t.Errorf("the engine after a refused model: %v", err)
	}
}

// TestLoadWithSource: Options.Recogniser chooses the engine's recogniser
// and its threshold (none for a file).
func TestLoadWithSource(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: decodes the models")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "copy.onnx")
	os.WriteFile(p, assets.Recognizer(), 0o644)
	src, err := FileSource(p)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := Load(Options{Recogniser: src})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if eng.Threshold != 0 || eng.Recogniser.Name() != "copy.onnx" || eng.Recogniser.Hash() != teacherSHA256 {
		t.Errorf("file source: threshold %v, name %s", eng.Threshold, eng.Recogniser.Name())
	}
}
