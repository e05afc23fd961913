package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/maskinv/workbench/folder"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/apptest"
	"github.com/maskinv/workbench/maskgen"
)

func readMaskManifestFile(t *testing.T, out string) *MaskManifest {
	t.Helper()
	m, err := ReadMaskManifestFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// uninterrupted masks the aligned crops under in in one go, with style
// and seed, into the folder full, and returns it with the hashes of what it
// wrote: what every resumed or forced run must end with.
func uninterrupted(t *testing.T, in, style string, seed uint64) (full string, want map[string]string) {
	t.Helper()
	full = filepath.Join(t.TempDir(), "full")
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, full, style, seed)); err != nil {
		t.Fatal(err)
	}
	return full, apptest.ContentHashes(t, full)
}

func maskAlignedOpts(in, out string, style string, seed uint64) MaskOptions {
	spec, err := maskgen.ParseStyle(style)
	if err != nil {
		panic(err)
	}
	return MaskOptions{In: in, Out: out, Aligned: true, Config: maskgen.Config{Style: spec, Seed: seed}}
}

func TestMaskDatasetAligned(t *testing.T) {
	in := apptest.MaskInput(t)
	before := apptest.TreeHashes(t, in)
	out := filepath.Join(t.TempDir(), "out")
	var calls atomic.Int32
	opt := maskAlignedOpts(in, out, "random", 11)
	opt.Progress = func(done, total int) {
		calls.Add(1)
		if total != 5 || done > total {
			t.Errorf("progress %d/%d", done, total)
		}
	}
	sum, err := MaskDataset(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Images != 5 || sum.Masked != 5 || sum.Failed != 0 || sum.Skipped != 0 || sum.Copied != 1 {
		t.Errorf("summary %+v", sum)
	}
	if calls.Load() < 6 {
		t.Errorf("progress reported %d times, want start + every image", calls.Load())
	}
	if after := apptest.TreeHashes(t, in); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("input tree changed:\nbefore %v\nafter  %v", before, after)
	}
	m := readMaskManifestFile(t, out)
	if m.Style != "random" || m.Seed != 11 || !m.Aligned || m.Algorithm != maskgen.Algorithm {
		t.Errorf("manifest header %+v", m)
	}
	var keys []string
	for _, rec := range m.Images {
		keys = append(keys, rec.Key)
		if rec.Error != "" || rec.Output != rec.Key || rec.Source != rec.Key || rec.Seed != 11 {
			t.Errorf("record %+v", rec)
		}
		if rec.Params != opt.Config.Choose(rec.Key) || rec.Style != rec.Params.Style || rec.Color != rec.Params.Color.String() {
			t.Errorf("%s: recorded params %+v, want %+v", rec.Key, rec.Params, opt.Config.Choose(rec.Key))
		}
		if rec.Coverage < 0.1 || rec.Coverage > 0.7 {
			t.Errorf("%s: coverage %v", rec.Key, rec.Coverage)
		}
		f, err := os.Open(filepath.Join(out, filepath.FromSlash(rec.Output)))
		if err != nil {
			t.Fatal(err)
		}
		img, format, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", rec.Output, err)
		}
		wantFormat := "png"
		if !strings.HasSuffix(rec.Key, ".png") {
			wantFormat = "jpeg"
		}
		wantSize := 112
		if rec.Key == "big.png" {
			wantSize = 224
		}
		if format != wantFormat || img.Bounds() != image.Rect(0, 0, wantSize, wantSize) {
			t.Errorf("%s: %s %v", rec.Output, format, img.Bounds())
		}
	}
	want := []string{"alice/alice_0001.png", "alice/alice_0002.jpg", "big.png", "bob/sub/bob_0001.png", "carol.JPEG"}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("manifest keys %v, want %v (sorted, images only)", keys, want)
	}
	if b, err := os.ReadFile(filepath.Join(out, "pairs.txt")); err != nil || string(b) != "alice 1 2\n" {
		t.Errorf("pairs.txt not copied: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, ".hidden.png")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hidden file copied: %v", err)
	}
	// No temporary files left behind.
	for k := range apptest.TreeHashes(t, out) {
		if strings.Contains(k, ".maskinv-") {
			t.Errorf("temporary file %s left", k)
		}
	}
}

// TestMaskDatasetDeterministic: same settings, different worker counts and
// folders, byte-identical results; another seed, different ones.
func TestMaskDatasetDeterministic(t *testing.T) {
	in := apptest.MaskInput(t)
	var results []map[string]string
	for _, workers := range []int{1, 4} {
		out := filepath.Join(t.TempDir(), "out")
		opt := maskAlignedOpts(in, out, "mix:paper=1,surgical=1,cloth=2", 3)
		opt.Workers = workers
		if _, err := MaskDataset(context.Background(), opt); err != nil {
			t.Fatal(err)
		}
		results = append(results, apptest.ContentHashes(t, out))
	}
	if fmt.Sprint(results[0]) != fmt.Sprint(results[1]) {
		t.Errorf("1 and 4 workers differ:\n%v\n%v", results[0], results[1])
	}
	out := filepath.Join(t.TempDir(), "out")
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "mix:paper=1,surgical=1,cloth=2", 4)); err != nil {
		t.Fatal(err)
	}
	other := apptest.ContentHashes(t, out)
	if other["alice/alice_0001.png"] == results[0]["alice/alice_0001.png"] {
		t.Error("seeds 3 and 4 gave the same image")
	}
}

// TestMaskDatasetResume interrupts a run, resumes it, and compares with an
// uninterrupted run; then reruns a finished job (nothing rewritten), one
// with a tampered output, and one with other parameters.
func TestMaskDatasetResume(t *testing.T) {
	in := apptest.MaskInput(t)
	_, want := uninterrupted(t, in, "random", 5)

	out := filepath.Join(t.TempDir(), "out")
	opt, sum := interruptedMask(t, in, out)
	// An unfinished run has a journal and no manifest yet.
	if _, err := os.Stat(filepath.Join(out, ManifestName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("manifest written by an interrupted run: %v", err)
	}
	if got := len(readJournalFile(t, out)); got < 2 || got >= 5 || sum.Masked != got {
		t.Fatalf("interrupted run journalled %d images, summary %+v", got, sum)
	}

	sum, err := MaskDataset(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped < 2 || sum.Skipped+sum.Masked != 5 {
		t.Errorf("resumed run: %+v", sum)
	}
	if got := apptest.ContentHashes(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("resumed run differs from an uninterrupted one:\n%v\n%v", got, want)
	}

	// Finished: a rerun skips everything and rewrites no image.
	stamp := apptest.TreeHashes(t, out)
	sum, err = MaskDataset(context.Background(), opt)
	if err != nil || sum.Skipped != 5 || sum.Masked != 0 {
		t.Fatalf("rerun of a finished job: %+v, %v", sum, err)
	}
	after := apptest.TreeHashes(t, out)
	for k, v := range stamp {
		if k != ManifestName && after[k] != v {
			t.Errorf("rerun rewrote %s", k)
		}
	}

	// A changed output is not ours any more: refused, and with Force
	// redone, alone. A deleted one is redone.
	if err := os.WriteFile(filepath.Join(out, "big.png"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "carol.JPEG")); err != nil {
		t.Fatal(err)
	}
	if _, err = MaskDataset(context.Background(), opt); !errors.Is(err, folder.ErrForeignFiles) || !strings.Contains(err.Error(), "big.png") {
		t.Fatalf("rerun after a change: %v, want folder.ErrForeignFiles naming big.png", err)
	}
	opt.Force = true
	sum, err = MaskDataset(context.Background(), opt)
	if err != nil || sum.Masked != 2 || sum.Skipped != 3 {
		t.Fatalf("forced rerun after damage: %+v, %v", sum, err)
	}
	opt.Force = false
	if got := apptest.ContentHashes(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Error("repaired output differs")
	}

	// Other parameters: everything is redone.
	opt.Config.Seed = 6
	sum, err = MaskDataset(context.Background(), opt)
	if err != nil || sum.Masked != 5 || sum.Skipped != 0 {
		t.Fatalf("rerun with another seed: %+v, %v", sum, err)
	}
	if m := readMaskManifestFile(t, out); m.Seed != 6 || m.Images[0].Seed != 6 {
		t.Errorf("manifest after a seed change: %+v", m)
	}
}

// readJournalFile returns the image records of out's journal.
func readJournalFile(t *testing.T, out string) []MaskRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(out, JournalName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runs, _, torn, err := readMaskJournal(f)
	if err != nil || torn {
		t.Fatalf("journal: torn %v, %v", torn, err)
	}
	var recs []MaskRecord
	for _, r := range runs {
		recs = append(recs, r.Images...)
	}
	return recs
}

// TestMaskDatasetBadInputs: each bad image is recorded with its error and
// the others are masked.
func TestMaskDatasetBadInputs(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in")
	apptest.WriteImage(t, filepath.Join(in, "good", "a.png"), apptest.Crop(160, 160, 0))
	apptest.WriteImage(t, filepath.Join(in, "good", "b.jpg"), apptest.Crop(160, 160, 1))
	noFace := apptest.Crop(160, 160, 2)
	noFace.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 255})
	apptest.WriteImage(t, filepath.Join(in, "noface.png"), noFace)
	apptest.WriteImage(t, filepath.Join(in, "blocked", "c.png"), apptest.Crop(160, 160, 3))
	if err := os.WriteFile(filepath.Join(in, "garbage.png"), []byte("this is not a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	var jbuf bytes.Buffer
	jpeg.Encode(&jbuf, apptest.Crop(160, 160, 4), nil)
	if err := os.WriteFile(filepath.Join(in, "truncated.jpg"), jbuf.Bytes()[:jbuf.Len()/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "huge.png"), maskHugePNGHeader(20000, 20000), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	// The output folder "blocked" cannot be made: a file has its name.
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "blocked"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	spec, _ := maskgen.ParseStyle("mix:surgical=1,paper=1")
	opt := MaskOptions{In: in, Out: out, Finder: apptest.LandmarkFinder{Offset: maskgen.Point{X: 24, Y: 20}}, Config: maskgen.Config{Style: spec, Seed: 2}}
	sum, err := MaskDataset(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Images != 7 || sum.Masked != 2 || sum.Failed != 5 {
		t.Errorf("summary %+v", sum)
	}
	wantErr := map[string]string{
		"blocked/c.png": "not a directory",
		"garbage.png":   "not a supported image format",
		"huge.png":      "exceeds the size budget",
		"noface.png":    "no face found",
		"truncated.jpg": "truncated",
	}
	for _, rec := range readMaskManifestFile(t, out).Images {
		want, bad := wantErr[rec.Key]
		switch {
		case bad && !strings.Contains(rec.Error, want):
			t.Errorf("%s: error %q, want it to mention %q", rec.Key, rec.Error, want)
		case bad && rec.Output != "":
			t.Errorf("%s: failed but has output %q", rec.Key, rec.Output)
		case !bad && (rec.Error != "" || rec.Points5 == nil || rec.Coverage <= 0):
			t.Errorf("%s: %+v", rec.Key, rec)
		}
		if rec.Params.Style == "" {
			t.Errorf("%s: no parameters recorded", rec.Key)
		}
	}
	// A rerun retries the failures (and finds them still failing).
	sum, err = MaskDataset(context.Background(), opt)
	if err != nil || sum.Skipped != 2 || sum.Failed != 5 {
		t.Errorf("rerun: %+v, %v", sum, err)
	}
}

// TestMaskDatasetReadOnlyOutput uses file permissions, which root ignores.
func TestMaskDatasetReadOnlyOutput(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop writes (TestMaskDatasetBadInputs covers unwritable outputs another way)")
	}
	in := apptest.MaskInput(t)
	out := filepath.Join(t.TempDir(), "out")
	if err := os.MkdirAll(filepath.Join(out, "alice"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(out, "alice"), 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(out, "alice"), 0o755)
	sum, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 || sum.Masked != 3 {
		t.Errorf("summary %+v, want the two alice images failed", sum)
	}
	for _, rec := range readMaskManifestFile(t, out).Images {
		if strings.HasPrefix(rec.Key, "alice/") != (rec.Error != "") {
			t.Errorf("%s: error %q", rec.Key, rec.Error)
		}
	}
}

func TestMaskDatasetRefusesOverlap(t *testing.T) {
	in := apptest.MaskInput(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Join(in, "alice"), link); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		"same":         in,
		"inside":       filepath.Join(in, "masked"),
		"deep inside":  filepath.Join(in, "alice", "x", "y"),
		"dot-dot":      filepath.Join(in, "..", filepath.Base(in), "masked"),
		"through link": filepath.Join(link, "masked"),
		"input inside": filepath.Dir(in),
	} {
		before := apptest.TreeHashes(t, in)
		_, err := MaskDataset(context.Background(), maskAlignedOpts(in, out, "paper", 1))
		if !errors.Is(err, folder.ErrNested) {
			t.Errorf("%s: error %v, want folder.ErrNested", name, err)
		}
		if fmt.Sprint(apptest.TreeHashes(t, in)) != fmt.Sprint(before) {
			t.Fatalf("%s: input changed", name)
		}
	}
	// A sibling whose name starts with the input's is fine.
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(in, in+"-masked", "paper", 1)); err != nil {
		t.Errorf("sibling output: %v", err)
	}
	if _, err := MaskDataset(context.Background(), maskAlignedOpts(filepath.Join(in, "missing"), t.TempDir(), "paper", 1)); err == nil {
		t.Error("missing input accepted")
	}
	if _, err := MaskDataset(context.Background(), MaskOptions{In: in, Out: t.TempDir()}); err == nil {
		t.Error("raw mode without a finder accepted")
	}
}

// maskHugePNGHeader is a PNG signature and IHDR chunk claiming w×h pixels, with
// no image data: enough for DecodeConfig.
func maskHugePNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 6 // 8-bit RGBA
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

func TestReadMaskManifest(t *testing.T) {
	good := `{"tool":"maskinv mask","version":1,"algorithm":"maskgen/1","images":[{"key":"a/b.png","source":"a/b.png","output":"a/b.png","params":{"style":"paper","color":"#010203"}}]}`
	if m, err := ReadMaskManifest(strings.NewReader(good)); err != nil || m.Images[0].Params.Color != (maskgen.Color{R: 1, G: 2, B: 3}) {
		t.Errorf("good manifest: %+v, %v", m, err)
	}
	for name, doc := range map[string]string{
		"not json":     `{`,
		"version":      `{"version":2}`,
		"dot-dot key":  `{"version":1,"images":[{"key":"../x.png"}]}`,
		"absolute key": `{"version":1,"images":[{"key":"/etc/x.png"}]}`,
		"empty key":    `{"version":1,"images":[{"key":""}]}`,
		"backslash":    `{"version":1,"images":[{"key":"a\\..\\..\\x.png"}]}`,
		"twice":        `{"version":1,"images":[{"key":"a.png"},{"key":"a.png"}]}`,
		"bad output":   `{"version":1,"images":[{"key":"a.png","output":"../a.png"}]}`,
		"bad colour":   `{"version":1,"images":[{"key":"a.png","params":{"color":"red"}}]}`,
		"copy dot-dot": `{"version":1,"images":[],"copies":[{"path":"../x","sha256":"00"}]}`,
		"copy twice":   `{"version":1,"images":[],"copies":[{"path":"x","sha256":"00"},{"path":"x","sha256":"00"}]}`,
	} {
		if _, err := ReadMaskManifest(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzReadMaskManifest: no input panics; an accepted manifest survives a
// write and read unchanged.
func FuzzReadMaskManifest(f *testing.F) {
	f.Add([]byte(`{"tool":"maskinv mask","version":1,"algorithm":"maskgen/1","style":"random","seed":3,"images":[{"key":"a/b.png","source":"a/b.png","output":"a/b.png","coverage":0.25,"params":{"algorithm":"maskgen/1","style":"cloth","color":"#010203","color2":"#ffffff","texture":"dots","fit":0.5,"seed":3,"key":"a/b.png"}}]}`))
	f.Add([]byte(`{"version":1,"images":[{"key":"x.jpg","error":"no face found","points5":[{"x":1,"y":2},{"x":3,"y":4},{"x":5,"y":6},{"x":7,"y":8},{"x":9,"y":10}]}]}`))
	f.Add([]byte(`{"version":1,"images":[{"key":"../x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMaskManifest(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ReadMaskManifest(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-read: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(again)
		if !bytes.Equal(b, b2) {
			t.Fatalf("not stable:\n%s\n%s", b, b2)
		}
		keys := make([]string, len(m.Images))
		for i, rec := range m.Images {
			keys[i] = rec.Key
		}
		sort.Strings(keys)
		for i := 1; i < len(keys); i++ {
			if keys[i] == keys[i-1] {
				t.Fatalf("duplicate key %q accepted", keys[i])
			}
		}
	})
}

// TestMaskDatasetShift: the fixed shift reaches the dataset and its
// manifest, and moves the mask.
func TestMaskDatasetShift(t *testing.T) {
	in := apptest.MaskInput(t)
	outs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for k, sh := range []*maskgen.Shift{nil, {X: 0, Y: 120}} {
		if _, err := MaskDataset(context.Background(), MaskOptions{In: in, Out: outs[k], Aligned: true, Config: maskgen.Config{Shift: sh}}); err != nil {
			t.Fatal(err)
		}
	}
	m := readMaskManifestFile(t, outs[1])
	if m.Shift == nil || *m.Shift != (maskgen.Shift{X: 0, Y: 120}) {
		t.Errorf("manifest shift %v", m.Shift)
	}
	for _, rec := range m.Images {
		if rec.Error == "" && (rec.Params.ShiftX != 0 || rec.Params.ShiftY != 120) {
			t.Errorf("%s: params %+v, want the fixed shift", rec.Key, rec.Params)
		}
	}
	a, err := imageio.Decode(filepath.Join(outs[0], "alice", "alice_0001.png"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := imageio.Decode(filepath.Join(outs[1], "alice", "alice_0001.png"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("a shift of 10 crop pixels left the mask where it was")
	}
	if readMaskManifestFile(t, outs[0]).Shift != nil {
		t.Error("no shift given, but the manifest records one")
	}
	if _, err := MaskDataset(context.Background(), MaskOptions{In: in, Out: outs[0], Aligned: true, Config: maskgen.Config{Shift: &maskgen.Shift{X: 0, Y: 999}}}); !errors.Is(err, maskgen.ErrShift) {
		t.Errorf("out-of-range shift: err %v", err)
	}
}
