package testfile

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeTB records a Fatal instead of stopping the test.
type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	panic(f)
}
func (f *fakeTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

// failure runs fn and returns the message it failed with ("" if none).
func failure(fn func(tb testing.TB)) (msg string) {
	tb := &fakeTB{}
	defer func() {
		if r := recover(); r != nil {
			if r != tb {
				panic(r)
			}
			msg = tb.msg
		}
	}()
	fn(tb)
	return ""
}

func TestReadJSON(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.json"), filepath.Join(dir, "bad.json")
	write(t, good, `{"name":"x","sizes":[1,2]}`)
	write(t, bad, `{"name":`)
	var v struct {
		Name  string `json:"name"`
		Sizes []int  `json:"sizes"`
	}
	if msg := failure(func(tb testing.TB) { ReadJSON(tb, good, &v) }); msg != "" || v.Name != "x" || len(v.Sizes) != 2 {
		t.Errorf("good file: %q, %+v", msg, v)
	}
	if msg := failure(func(tb testing.TB) { ReadJSON(tb, bad, &v) }); !strings.Contains(msg, "bad.json") {
		t.Errorf("bad file: failure %q does not name it", msg)
	}
	if msg := failure(func(tb testing.TB) { ReadJSON(tb, filepath.Join(dir, "none.json"), &v) }); !strings.Contains(msg, "none.json") {
		t.Errorf("missing file: failure %q does not name it", msg)
	}
}

func TestReadPNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.png")
	want := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	want.SetNRGBA(2, 1, color.NRGBA{10, 20, 30, 255})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, want); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := ReadPNG(t, path)
	if got.Bounds() != want.Rect || color.NRGBAModel.Convert(got.At(2, 1)) != want.At(2, 1) {
		t.Errorf("read back %v with (2,1) = %v", got.Bounds(), got.At(2, 1))
	}
	notPNG := filepath.Join(dir, "b.png")
	write(t, notPNG, "GIF89a")
	if msg := failure(func(tb testing.TB) { ReadPNG(tb, notPNG) }); !strings.Contains(msg, "b.png") {
		t.Errorf("not a PNG: failure %q does not name the file", msg)
	}
	if _, err := DecodePNG(filepath.Join(dir, "none.png")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v, want a not-exist error", err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
