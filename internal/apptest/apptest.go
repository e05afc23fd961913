// Package apptest holds the file fixtures that the tests of app, cli and
// folder share: synthetic aligned crops written as files, small input
// trees, and hashes that prove trees equal or unchanged. No dataset
// pixels.
package apptest

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/assets"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/maskgen"
)

// Crop draws a synthetic w×h "aligned crop": a gradient with a skin
// ellipse, different for each variant.
func Crop(w, h, variant int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{uint8(40 + x + variant*30), uint8(80 + y/2), uint8(120 + variant*20), 255}
			dx, dy := float64(x-w/2)/(0.37*float64(w)), float64(y-h*3/5)/(0.48*float64(h))
			if dx*dx+dy*dy < 1 {
				c = color.NRGBA{220, uint8(170 + variant*5), 150, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// WriteImage writes img to path (PNG for .png, else JPEG at quality 90),
// making its folders.
func WriteImage(t testing.TB, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".png") {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, path, buf.String())
}

// WriteFile writes data to name, making its folders.
func WriteFile(t testing.TB, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Symlink makes a symbolic link, or skips the test where there are none.
func Symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}

// MaskInput builds a small input tree of aligned crops in nested folders,
// PNG and JPEG, a scaled crop, a text file and a hidden file.
func MaskInput(t testing.TB) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in")
	WriteImage(t, filepath.Join(in, "alice", "alice_0001.png"), Crop(112, 112, 0))
	WriteImage(t, filepath.Join(in, "alice", "alice_0002.jpg"), Crop(112, 112, 1))
	WriteImage(t, filepath.Join(in, "bob", "sub", "bob_0001.png"), Crop(112, 112, 2))
	WriteImage(t, filepath.Join(in, "carol.JPEG"), Crop(112, 112, 3))
	WriteImage(t, filepath.Join(in, "big.png"), Crop(224, 224, 4)) // aligned, scaled template
	WriteFile(t, filepath.Join(in, "pairs.txt"), "alice 1 2\n")
	WriteFile(t, filepath.Join(in, ".hidden.png"), "not even an image")
	return in
}

// TreeHashes maps every file under root (slash path) to its bytes' CRC,
// mode and modification time, to prove trees equal or unchanged.
func TreeHashes(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%08x %v %v", crc32.ChecksumIEEE(b), info.Mode(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ContentHashes is TreeHashes with the bytes' CRC alone.
func ContentHashes(t testing.TB, root string) map[string]string {
	t.Helper()
	out := TreeHashes(t, root)
	for k, v := range out {
		out[k] = strings.Fields(v)[0]
	}
	return out
}

// LandmarkFinder finds a face at the aligned template's place shifted by
// Offset, or none (face.ErrNoFace) in images whose top-left pixel is black.
type LandmarkFinder struct{ Offset maskgen.Point }

// Find implements app.LandmarkFinder.
func (f LandmarkFinder) Find(img image.Image) (maskgen.Face, error) {
	if r, g, b, _ := img.At(img.Bounds().Min.X, img.Bounds().Min.Y).RGBA(); r|g|b == 0 {
		return maskgen.Face{}, fmt.Errorf("fake engine: %w", face.ErrNoFace)
	}
	fc := maskgen.AlignedFace(112, 112)
	for i := range fc.Points5 {
		fc.Points5[i].X += f.Offset.X
		fc.Points5[i].Y += f.Offset.Y
	}
	return fc, nil
}

// FailDirFS fails ReadDir for the folder Bad, as an unreadable folder
// does (root ignores permissions, so chmod cannot make one in CI).
type FailDirFS struct {
	fs.FS
	Bad string
}

// ReadDir implements fs.ReadDirFS.
func (f FailDirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.Bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return fs.ReadDir(f.FS, name)
}

// DemoLFW lays the embedded demo photos out as a small LFW with a View-2
// pairs.txt: two folds of two genuine and two impostor pairs, which the
// teacher separates perfectly.
func DemoLFW(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	demo := assets.Demo()
	err := fs.WalkDir(demo, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jpg") {
			return err
		}
		b, err := fs.ReadFile(demo, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	pairs := "2 2\n" +
		"Aaron_Peirsol 1 2\nAngelina_Jolie 1 3\nAaron_Peirsol 1 Angelina_Jolie 2\nAaron_Peirsol 3 Angelina_Jolie 1\n" +
		"Colin_Powell 1 2\nSerena_Williams 2 3\nColin_Powell 3 Serena_Williams 1\nColin_Powell 2 Serena_Williams 2\n"
	WriteFile(t, filepath.Join(dir, "pairs.txt"), pairs)
	return dir
}
