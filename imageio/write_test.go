package imageio

import (
	"bytes"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWritePNGRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.png")
	pic := testPicture(23, 17)
	for i := 0; i < 2; i++ { // the second write replaces the first
		if err := WritePNG(path, pic); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Pix, pic.Pix) {
		t.Error("PNG round trip changed pixels")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	assertOnlyFiles(t, dir, "out.png")
}

func TestWriteJPEGRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jpg")
	// Smooth content: sharp colour edges are where 4:2:0 chroma loses most,
	// and they would measure the codec rather than the writer.
	pic := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for i := range pic.Pix {
		pic.Pix[i] = uint8(60 + i%4*30 + i/4%32*2 + i/128*3)
		if i%4 == 3 {
			pic.Pix[i] = 255
		}
	}
	if err := WriteJPEG(path, pic, 0); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum int
	for i := range got.Pix {
		d := int(got.Pix[i]) - int(pic.Pix[i])
		sum += max(d, -d)
	}
	if mean := float64(sum) / float64(len(got.Pix)); mean > 2 {
		t.Errorf("mean |Δ| %.2f after JPEG q%d round trip", mean, DefaultJPEGQuality)
	}
	if err := WriteJPEG(path, pic, 101); err == nil {
		t.Error("quality 101 accepted")
	}
	assertOnlyFiles(t, dir, "out.jpg")
}

func TestWriteAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteAtomic(path, func(w io.Writer) error {
		io.WriteString(w, "partial")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file now %q, want the old content", b)
	}
	assertOnlyFiles(t, dir, "keep.txt")

	if err := WritePNG(filepath.Join(dir, "missing", "x.png"), testPicture(2, 2)); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Errorf("directory holds %v, want %v (temporary files left?)", got, names)
		return
	}
	for i := range got {
		if got[i] != names[i] {
			t.Errorf("directory holds %v, want %v", got, names)
		}
	}
}
