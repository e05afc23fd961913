package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"go/build"
	"image/png"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// accessors maps each file documented in PROVENANCE.md to the accessor that
// returns it, so the test covers both the bytes and the wiring.
func accessors() map[string]func() []byte {
	return map[string]func() []byte{
		"fr_feature.onnx":      Recognizer,
		"maskinv_student.onnx": Student,
		"fr_detect.onnx":       Detector,
		"fr_landmark.onnx":     Landmarker,
		"LICENSE":              func() []byte { return []byte(License()) },
	}
}

// documentedHashes reads "| file | sha256 | ..." rows from PROVENANCE.md,
// the single place the expected hashes are written down.
func documentedHashes(t *testing.T) map[string]string {
	t.Helper()
	row := regexp.MustCompile(`(?m)^\| *([^| ]+) *\| *([0-9a-f]{64}) *\|`)
	got := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(Provenance(), -1) {
		if _, dup := got[m[1]]; dup {
			t.Fatalf("PROVENANCE.md lists %s twice", m[1])
		}
		got[m[1]] = m[2]
	}
	return got
}

func TestEmbeddedFilesMatchDocumentedHashes(t *testing.T) {
	want := documentedHashes(t)
	acc := accessors()
	for name := range acc {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is embedded but PROVENANCE.md gives no sha256 for it", name)
		}
	}
	for name, hash := range want {
		get, ok := acc[name]
		if !ok {
			t.Errorf("PROVENANCE.md lists %s, which no accessor returns", name)
			continue
		}
		sum := sha256.Sum256(get())
		if got := hex.EncodeToString(sum[:]); got != hash {
			t.Errorf("%s: sha256 %s, PROVENANCE.md says %s (corrupted or replaced copy?)", name, got, hash)
		}
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	a := Recognizer()
	orig := a[0]
	a[0] ^= 0xff
	if b := Recognizer(); b[0] != orig {
		t.Fatal("changing one caller's slice changed the embedded model")
	}
}

func TestLicenseIsMIT(t *testing.T) {
	if l := License(); !strings.HasPrefix(l, "MIT License") {
		t.Errorf("LICENSE starts %q, want the MIT licence", l[:min(len(l), 40)])
	}
}

func TestIcon(t *testing.T) {
	cfg, err := png.DecodeConfig(bytes.NewReader(Icon()))
	if err != nil {
		t.Fatalf("icon is not a PNG: %v", err)
	}
	if cfg.Width != 512 || cfg.Height != 512 {
		t.Errorf("icon is %d×%d, want 512×512", cfg.Width, cfg.Height)
	}
}

// Headless commands link this package; pulling in fyne here would drag the
// GUI toolkit (and cgo) into them.
func TestNoFyneImport(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if strings.HasPrefix(imp, "fyne.io/") {
			t.Errorf("assets imports %s; only package ui may wrap assets for fyne", imp)
		}
	}
}

func TestDemoFolder(t *testing.T) {
	people := map[string]int{}
	err := fs.WalkDir(Demo(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && path.Ext(p) == ".jpg" {
			people[path.Dir(p)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(people) < 3 {
		t.Fatalf("demo folder has %d people, want several: %v", len(people), people)
	}
	for who, n := range people {
		if n < 2 {
			t.Errorf("%s has %d photo(s): genuine pairs need at least two", who, n)
		}
	}
}
