package engine

import (
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/sharedtest"
)

// The embedded recognisers' hashes (assets/models/PROVENANCE.md).
const (
	teacherSHA256 = "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"
	studentSHA256 = "d3a07def881366d3510845bc96251c9311a101f5fe148ffe1c641632678fe5b3"
)

func must(s string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return s
}

func TestSources(t *testing.T) {
	te := Teacher()
	if sha, err := te.SHA256(); err != nil || sha != teacherSHA256 || !te.Embedded() || te.Threshold != DefaultThreshold {
		t.Errorf("teacher: sha %s, %v, %+v", sha, err, te.Name)
	}
	st := Student()
	if sha, err := st.SHA256(); err != nil || sha != studentSHA256 || !st.Embedded() || st.Threshold != StudentThreshold || st.Name != StudentName {
		t.Errorf("student: sha %s, %v, %s, threshold %v", sha, err, st.Name, st.Threshold)
	}
	for _, sha := range []string{teacherSHA256, studentSHA256} {
		if src, ok := BuiltInWithSHA256(sha); !ok || must(src.SHA256()) != sha {
			t.Errorf("BuiltInWithSHA256(%.12s…): %s, %v", sha, src.Name, ok)
		}
	}
	if src, ok := BuiltInWithSHA256(strings.Repeat("0", 64)); ok {
		t.Errorf("an unknown hash names %s", src.Name)
	}
	if b := BuiltIn(); len(b) != 2 || b[0].Name != TeacherName || b[1].Name != StudentName {
		t.Errorf("built-in recognisers %d, want the teacher then the student", len(b))
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

// TestStudentEmbedsGoldenCrop: the embedded student loads as an engine's
// recogniser at its own threshold and embeds the shared golden crops as
// unit 512-d vectors that differ from the teacher's (whose embedding of
// the same crop matches the reference runtime's, so the difference is the
// model's, not the crop's) yet stay near them, as a fine-tune distilled
// from the teacher should.
func TestStudentEmbedsGoldenCrop(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: decodes the models")
	}
	student, err := Load(Options{Recogniser: Student()})
	if err != nil {
		t.Fatal(err)
	}
	defer student.Close()
	if student.Threshold != StudentThreshold || student.Recogniser.Hash() != studentSHA256 {
		t.Fatalf("student engine: threshold %v, hash %s", student.Threshold, student.Recogniser.Hash())
	}
	teacher, err := Load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Close()
	studentDecidesDemoPairs(t, student)
	shared, ref := sharedtest.LoadReference(t)
	for _, it := range ref.Items[:min(len(ref.Items), 3)] {
		crop, err := imageio.Decode(filepath.Join(shared, "golden", it.Aligned))
		if err != nil {
			t.Fatal(err)
		}
		crops := []*image.NRGBA{crop}
		s, err := student.Embed(context.Background(), crops)
		if err != nil {
			t.Fatal(err)
		}
		te, err := teacher.Embed(context.Background(), crops)
		if err != nil {
			t.Fatal(err)
		}
		v := s[0]
		var norm float64
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("%s: component %d is %v", it.Key, i, x)
			}
			norm += float64(x) * float64(x)
		}
		toTeacher, teacherToRef := face.Cosine(v, te[0]), face.Cosine(te[0], it.Embedding)
		t.Logf("%s: student·teacher %.4f, teacher·reference %.5f", it.Key, toTeacher, teacherToRef)
		switch {
		case len(v) != 512 || math.Abs(math.Sqrt(norm)-1) > 1e-5:
			t.Errorf("%s: %d-d, norm %v; want a unit 512-d vector", it.Key, len(v), math.Sqrt(norm))
		case teacherToRef < 0.99:
			t.Errorf("%s: the teacher's embedding is off the reference (cosine %.4f)", it.Key, teacherToRef)
		case toTeacher > 0.99 || toTeacher < 0.5:
			t.Errorf("%s: cosine to the teacher's embedding %.4f, want a different vector near it (0.5 to 0.99)", it.Key, toTeacher)
		}
	}
}

// studentDecidesDemoPairs: at its threshold the student tells a genuine
// demo pair from an impostor one, unmasked.
func studentDecidesDemoPairs(t *testing.T, eng *Engine) {
	t.Helper()
	embed := func(p string) []float32 {
		img, err := imageio.DecodeFS(assets.Demo(), p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Process(context.Background(), img)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return res.Embedding
	}
	pairs := []struct {
		a, b string
		same bool
	}{
		{"Colin_Powell/Colin_Powell_0001.jpg", "Colin_Powell/Colin_Powell_0003.jpg", true},
		{"Angelina_Jolie/Angelina_Jolie_0001.jpg", "Angelina_Jolie/Angelina_Jolie_0002.jpg", true},
		{"Angelina_Jolie/Angelina_Jolie_0003.jpg", "Serena_Williams/Serena_Williams_0001.jpg", false},
		{"Colin_Powell/Colin_Powell_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0003.jpg", false},
	}
	for _, p := range pairs {
		score := face.Cosine(embed(p.a), embed(p.b))
		if (score >= eng.Threshold) != p.same {
			t.Errorf("%s vs %s: score %.4f at threshold %.4f, want same person %v", p.a, p.b, score, eng.Threshold, p.same)
		}
	}
}
