package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/occlusion"
)

// TestStudentModel: --model student names the embedded student in every
// command that takes --model, which then runs it at its own threshold
// (0.2756) and names it in what it writes.
func TestStudentModel(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs the face engine with the embedded student")
	}
	dir := t.TempDir()
	t.Setenv(app.ModelsEnv, filepath.Join(dir, "models.json"))
	studentSHA, err := engine.Student().SHA256()
	if err != nil {
		t.Fatal(err)
	}
	lfw := apptest.DemoLFW(t)
	a, b := filepath.Join(lfw, "Colin_Powell", "Colin_Powell_0001.jpg"), filepath.Join(lfw, "Colin_Powell", "Colin_Powell_0003.jpg")
	threshold := fmt.Sprintf("%.4f", engine.StudentThreshold)

	t.Run("verify", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, "verify", "--json", "--model", "student", a, b)
		var r app.VerifyResult
		if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil {
			t.Fatalf("exit %d: %s%s", code, stdout, stderr)
		}
		if r.Threshold != engine.StudentThreshold || !r.Same || r.Score < r.Threshold {
			t.Errorf("genuine pair: %+v, want same at %v", r, engine.StudentThreshold)
		}
	})

	t.Run("embed", func(t *testing.T) {
		vecs := map[string][]float32{}
		for _, ref := range []string{"teacher", "student"} {
			stdout, stderr, code := runCLI(t, "embed", "--json", "--model", ref, a)
			var r app.EmbedRecord
			if code != 0 || json.Unmarshal([]byte(strings.TrimSpace(stdout)), &r) != nil || len(r.Embedding) != 512 {
				t.Fatalf("%s: exit %d: %s%s", ref, code, stdout, stderr)
			}
			vecs[ref] = r.Embedding
		}
		if c := face.Cosine(vecs["teacher"], vecs["student"]); c > 0.99 {
			t.Errorf("student and teacher embeddings have cosine %.4f: the same model?", c)
		}
	})

	t.Run("compare", func(t *testing.T) {
		out, csvPath := filepath.Join(dir, "c.png"), filepath.Join(dir, "c.csv")
		stdout, stderr, code := runCLI(t, "compare", "--demo", "--model", "teacher", "--model", "student", "--out", out, "--csv", csvPath)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "model 2, student: "+engine.StudentName) || !strings.Contains(stdout, "threshold "+threshold) {
			t.Errorf("stdout does not name the student and its threshold:\n%s", stdout)
		}
		csv := strings.SplitN(readFileOrEmpty(csvPath), "\n", 3)
		if len(csv) < 2 || !strings.Contains(csv[0], "student_unmasked") || !strings.Contains(csv[1], ","+threshold+",") {
			t.Errorf("CSV header and first row: %q", csv)
		}
	})

	t.Run("eval", func(t *testing.T) {
		report := filepath.Join(dir, "eval.json")
		_, stderr, code := runCLI(t, "eval", "--dataset", "lfw="+lfw, "--protocol", "blr-blr", "--model", "student", "--no-cache", "--json", report)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var doc struct {
			Model  string `json:"model"`
			SHA256 string `json:"model_sha256"`
		}
		if err := json.Unmarshal([]byte(readFileOrEmpty(report)), &doc); err != nil || doc.SHA256 != studentSHA || doc.Model != engine.StudentName {
			t.Errorf("report names model %q (%.12s…), %v; want the student", doc.Model, doc.SHA256, err)
		}
	})

	t.Run("occlusion", func(t *testing.T) {
		out, js := filepath.Join(dir, "o.png"), filepath.Join(dir, "o.json")
		stdout, stderr, code := runCLI(t, "occlusion", a, b, "--model", "student", "--patch", "16", "--stride", "16", "--out", out, "--json", js)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		f, err := os.Open(js)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := occlusion.Decode(f, js)
		if err != nil {
			t.Fatal(err)
		}
		m := doc.Results[0].Model
		if m.Name != "student" || m.SHA256 != studentSHA || m.Threshold != engine.StudentThreshold || !strings.Contains(stdout, "student blr-blr: score") {
			t.Errorf("model %+v; stdout %s", m, stdout)
		}
	})
}
