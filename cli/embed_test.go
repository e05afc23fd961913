package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/app"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/internal/sharedtest"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return out.String(), errb.String(), code
}

// TestEmbedJSONContract runs `embed --json` on real photos, an aligned
// crop and broken files, and checks every line against the documented
// record: 512 unit-length floats, a box and five points, or an error that
// names the file, while the batch goes on.
func TestEmbedJSONContract(t *testing.T) {
	lfw := sharedtest.Path(t, "data", "lfw")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jpg")
	text := filepath.Join(dir, "notes.png")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(text, []byte("not an image"), 0o644)
	photo := filepath.Join(lfw, "Ozzy_Osbourne", "Ozzy_Osbourne_0002.jpg")
	stdout, stderr, code := runCLI(t, "embed", "--json", photo, empty, text)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), stdout)
	}
	var recs []app.EmbedRecord
	for _, l := range lines {
		var r app.EmbedRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	good := recs[0]
	if good.Error != "" || len(good.Embedding) != 512 || len(good.Box) != 4 || len(good.Landmarks5) != 5 {
		t.Fatalf("photo record incomplete: error %q, %d floats, box %v, %d points", good.Error, len(good.Embedding), good.Box, len(good.Landmarks5))
	}
	var norm float64
	for _, v := range good.Embedding {
		norm += float64(v) * float64(v)
	}
	if norm < 0.999 || norm > 1.001 {
		t.Errorf("embedding norm² %v, want 1", norm)
	}
	if !strings.Contains(good.Face, "of 2") {
		t.Errorf("face choice %q should report the two faces in this photo", good.Face)
	}
	for i, p := range []string{empty, text} {
		if r := recs[i+1]; r.Path != p || !strings.Contains(r.Error, p) || r.Embedding != nil {
			t.Errorf("record %+v: want an error naming %s and no embedding", r, p)
		}
	}
	if !strings.Contains(stderr, "1 embedded, 2 failed") {
		t.Errorf("summary missing from stderr: %q", stderr)
	}
}

// TestVerify checks decisions on a genuine and an impostor LFW pair, and
// that an aligned golden crop verifies against itself.
func TestVerify(t *testing.T) {
	lfw := sharedtest.Path(t, "data", "lfw")
	golden := sharedtest.Path(t, "golden", "aligned", "lfw_Alex_Sink_0002.png")
	tests := []struct {
		name string
		args []string
		same bool
	}{
		{"genuine", []string{filepath.Join(lfw, "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"), filepath.Join(lfw, "Aaron_Peirsol/Aaron_Peirsol_0002.jpg")}, true},
		{"impostor", []string{filepath.Join(lfw, "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"), filepath.Join(lfw, "AJ_Cook/AJ_Cook_0001.jpg")}, false},
		{"aligned self", []string{"--aligned", golden, golden}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, append([]string{"verify", "--json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var r app.VerifyResult
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("%q: %v", stdout, err)
			}
			if r.Same != tc.same || r.Threshold != engine.DefaultThreshold || (r.Score >= r.Threshold) != r.Same {
				t.Errorf("got %+v, want same=%v", r, tc.same)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	dir := t.TempDir()
	notModel := filepath.Join(dir, "model.onnx")
	os.WriteFile(notModel, []byte("garbage"), 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify", "only-one.jpg"}, 2, "want two images"},
		{[]string{"embed"}, 2, "no images"},
		{[]string{"embed", filepath.Join(dir, "missing.jpg")}, 1, "missing.jpg"},
		{[]string{"embed", "--model", notModel, dir}, 1, "no images"},
		{[]string{"verify", "--model", notModel, "a", "b"}, 2, "--threshold"},
		{[]string{"nosuch"}, 2, "unknown command"},
	}
	for _, tc := range tests {
		_, stderr, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func TestBadRecogniser(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "a.png")
	apptest.WriteImage(t, img, apptest.Crop(112, 112, 0))
	notModel := filepath.Join(dir, "model.onnx")
	os.WriteFile(notModel, []byte("garbage"), 0o644)
	_, stderr, code := runCLI(t, "embed", "--aligned", "--model", notModel, img)
	if code != 1 || !strings.Contains(stderr, "model.onnx") {
		t.Errorf("exit %d, stderr %q: want an error naming model.onnx", code, stderr)
	}
	// The landmark model is a valid ONNX file with the wrong input shape.
	lmk := sharedtest.Path(t, "models", "faceplugin", "fr_landmark.onnx")
	_, stderr, code = runCLI(t, "embed", "--aligned", "--model", lmk, img)
	if code != 1 || !strings.Contains(stderr, "fr_landmark.onnx") || !strings.Contains(stderr, "112") {
		t.Errorf("exit %d, stderr %q: want an input-shape error naming the model", code, stderr)
	}
}

// TestMaskRawPhotosWithEngine masks real photos through the embedded face
// engine (the path `maskinv mask` takes without --aligned).
func TestMaskRawPhotosWithEngine(t *testing.T) {
	lfw := sharedtest.Path(t, "data", "lfw")
	in, out := filepath.Join(t.TempDir(), "in"), filepath.Join(t.TempDir(), "out")
	for _, name := range []string{"Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "AJ_Cook/AJ_Cook_0001.jpg"} {
		data, err := os.ReadFile(filepath.Join(lfw, name))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(in, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(in, name), data, 0o644)
	}
	if _, stderr, code := runCLI(t, "mask", "--in", in, "--out", out, "--style", "surgical", "--seed", "3"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := readManifest(t, out)
	if len(m.Images) != 2 {
		t.Fatalf("%d manifest records, want 2", len(m.Images))
	}
	for _, rec := range m.Images {
		if rec.Error != "" || rec.Points5 == nil || rec.Coverage < 0.03 {
			t.Errorf("%s: error %q, points %v, coverage %v", rec.Key, rec.Error, rec.Points5, rec.Coverage)
		}
	}
}

// TestEmbedScanErrorsArePerPath: what a folder scan skips comes back as a
// record naming the path, and the other images are still listed.
func TestEmbedScanErrorsArePerPath(t *testing.T) {
	dir := t.TempDir()
	apptest.WriteImage(t, filepath.Join(dir, "a", "x.png"), apptest.Crop(8, 8, 0))
	apptest.Symlink(t, "gone", filepath.Join(dir, "a", "y.png"))
	paths, skipped, err := app.ImagePaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || paths[0] != filepath.Join(dir, "a", "x.png") {
		t.Errorf("paths %v", paths)
	}
	bad := filepath.Join(dir, "a", "y.png")
	if len(skipped) != 1 || skipped[0].Path != bad || !strings.Contains(skipped[0].Error, bad) || !strings.Contains(skipped[0].Error, "broken symbolic link") {
		t.Errorf("skipped %+v", skipped)
	}
	// Only skipped paths: they are still reported, then the error.
	only := t.TempDir()
	apptest.Symlink(t, "gone", filepath.Join(only, "z.png"))
	stdout, stderr, code := runCLI(t, "embed", "--json", only)
	if code != 1 || !strings.Contains(stdout, "broken symbolic link") || !strings.Contains(stderr, "no images found") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

// TestEmbedUnreadableSubfolderChmod is the same through permissions,
// which root ignores.
func TestEmbedUnreadableSubfolderChmod(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop reads (TestScanUnreadableFolder covers it through an fs.FS)")
	}
	dir := t.TempDir()
	apptest.WriteImage(t, filepath.Join(dir, "a", "x.png"), apptest.Crop(8, 8, 0))
	apptest.WriteImage(t, filepath.Join(dir, "b", "y.png"), apptest.Crop(8, 8, 1))
	if err := os.Chmod(filepath.Join(dir, "b"), 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, "b"), 0o755)
	paths, skipped, err := app.ImagePaths([]string{dir})
	if err != nil || len(paths) != 1 || len(skipped) != 1 || !strings.Contains(skipped[0].Error, "permission denied") {
		t.Errorf("paths %v, skipped %+v, err %v", paths, skipped, err)
	}
}
