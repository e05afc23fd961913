package cli

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/engine"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/maskgen"
	"github.com/maskinv/workbench/occlusion"
)

// demoPair writes two demo photos of one person into dir.
func demoPair(t *testing.T, dir string) (a, b string) {
	t.Helper()
	var out [2]string
	for k, name := range []string{"Colin_Powell_0001.jpg", "Colin_Powell_0002.jpg"} {
		data, err := fs.ReadFile(assets.Demo(), "Colin_Powell/"+name)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = filepath.Join(dir, name)
		if err := os.WriteFile(out[k], data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1]
}

// TestOcclusionCommand runs occlusion on two demo photos with 16×16
// patches at stride 16 and checks the JSON against occlusion.ComputePair
// on the same crops and masks, made here; then with two models, the
// second without a threshold (its maps carry none).
func TestOcclusionCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: embeds 4 × 50 crops per model")
	}
	dir := t.TempDir()
	a, b := demoPair(t, dir)
	out, js := filepath.Join(dir, "occ.png"), filepath.Join(dir, "occ.json")
	stdout, stderr, code := runCLI(t, "occlusion", a, b, "--patch", "16", "--stride", "16", "--mask-style", "surgical", "--seed", "3", "--out", out, "--json", js)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "teacher blr-m: score") || !strings.Contains(stderr, "occlusion teacher") {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	got := readOcclusionJSON(t, js)
	want := directOcclusion(t, a, b)
	if len(got.Results) != 1 || got.FaceA != filepath.Base(a) || !strings.Contains(got.Mask, "surgical") {
		t.Fatalf("file: %+v", got)
	}
	r := got.Results[0]
	if r.Model.Name != "teacher" || r.Model.Threshold != engine.DefaultThreshold || r.Grid != want.Grid || len(r.Settings) != 3 {
		t.Fatalf("result %+v, grid want %+v", r.Model, want.Grid)
	}
	for k, s := range r.Settings {
		w := want.Settings[k]
		if s.Setting != w.Setting || s.Score != w.Score || !slices.Equal(s.A.Drops, w.A.Drops) || !slices.Equal(s.B.Drops, w.B.Drops) {
			t.Errorf("%s: maps differ from occlusion.ComputePair's", s.Setting.ID())
		}
	}
	if img, err := imageio.Decode(out); err != nil || img.Rect.Dx() < 800 {
		t.Errorf("figure: %v, %v", img.Rect, err)
	}

	second := writeSecondModel(t, dir)
	if _, stderr, code := runCLI(t, "occlusion", a, b, "--model", "teacher", "--model", second, "--patch", "16", "--stride", "16", "--out", out, "--json", js); code != 0 {
		t.Fatalf("two models: exit %d: %s", code, stderr)
	}
	two := readOcclusionJSON(t, js)
	if len(two.Results) != 2 || two.Results[1].Model.Name != "perturbed" || two.Results[1].Model.Threshold != 0 ||
		two.Results[0].Model.SHA256 == two.Results[1].Model.SHA256 || slices.Equal(two.Results[0].Settings[1].A.Drops, two.Results[1].Settings[1].A.Drops) {
		t.Errorf("two models: %+v, %+v", two.Results[0].Model, two.Results[1].Model)
	}
}

func readOcclusionJSON(t *testing.T, path string) occlusion.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := occlusion.Decode(bytes.NewReader(data), path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// directOcclusion is what the command should compute: the teacher's maps
// of the photos' aligned crops, masked as compare masks them.
func directOcclusion(t *testing.T, a, b string) *occlusion.Result {
	t.Helper()
	eng, err := engine.Load(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	surgical, _ := maskgen.ParseStyle("surgical")
	mask := maskgen.Config{Style: surgical, Seed: 3, Shift: nil}
	var p occlusion.Pair
	for k, path := range []string{a, b} {
		img, err := imageio.Decode(path)
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Locate(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mask.ApplyAligned(res.Aligned, filepath.ToSlash(path))
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			p.A, p.MaskedA = res.Aligned, m.Image
		} else {
			p.B, p.MaskedB = res.Aligned, m.Image
		}
	}
	emb, err := occlusion.NewNetEmbedder("teacher", assets.Recognizer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	res, err := occlusion.ComputePair(context.Background(), emb, occlusion.Model{Name: "teacher"}, p, occlusion.Options{Patch: 16, Stride: 16})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// cancelOnWrite cancels a context at the first write that contains what.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	what   string
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Contains(p, []byte(w.what)) {
		w.cancel()
	}
	return w.buf.Write(p)
}

// TestOcclusionCancel cancels the run at its first progress report: the
// command stops with context.Canceled and writes nothing.
func TestOcclusionCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: loads the face engine")
	}
	dir := t.TempDir()
	a, b := demoPair(t, dir)
	out := filepath.Join(dir, "occ.png")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errw := &cancelOnWrite{what: "occlusion teacher", cancel: cancel}
	err := runOcclusion(ctx, []string{a, b, "--out", out}, Stdio{Out: &bytes.Buffer{}, Err: errw})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled; stderr %s", err, errw.buf.String())
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a cancelled run wrote the figure")
	}
}

func TestOcclusionUsage(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.png")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"a.jpg", "--out", out}, "two photos"},
		{[]string{"a.jpg", "b.jpg"}, "--out is required"},
		{[]string{"a.jpg", "b.jpg", "--out", out, "--patch", "4", "--stride", "8"}, "--patch 4 --stride 8"},
		{[]string{"a.jpg", "b.jpg", "--out", out, "--json", out}, "same file"},
		{[]string{"a.jpg", "b.jpg", "--out", out, "--model", "teacher", "--model", "teacher", "--model", "teacher", "--model", "teacher", "--model", "teacher"}, "at most 4"},
	} {
		_, stderr, code := runCLI(t, append([]string{"occlusion"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}
