package train

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/maskinv/workbench/imageio"
)

// photoFolder writes an identity folder of 160×160 "photos" (not aligned
// crops) plus one 112×112 crop, which has no photo to mask.
func photoFolder(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(rel string, size int, shade uint8) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		img := image.NewNRGBA(image.Rect(0, 0, size, size))
		for i := range img.Pix {
			img.Pix[i] = shade
		}
		if err := imageio.WritePNG(p, img); err != nil {
			t.Fatal(err)
		}
	}
	write("A/a.png", 160, 10)
	write("A/b.png", 160, 20)
	write("B/a.png", 160, 30)
	write("B/crop.png", 112, 40)
	return root
}

// fakeMasker "aligns" a photo by taking its top-left 112×112 corner and
// writes the key's variant number into the first pixel, so the test can
// tell the variants apart; photos of shade 30 have no face once masked.
func fakeMasker(calls *atomic.Int64) PhotoMasker {
	return func(ctx context.Context, img image.Image, keys []string) ([]*image.NRGBA, error) {
		calls.Add(1)
		src := imageio.ToNRGBA(img)
		if src.Pix[0] == 30 {
			return nil, errors.New("no face once masked")
		}
		out := make([]*image.NRGBA, len(keys))
		for k := range keys {
			c := image.NewNRGBA(image.Rect(0, 0, 112, 112))
			for y := 0; y < 112; y++ {
				copy(c.Pix[c.PixOffset(0, y):c.PixOffset(112, y)], src.Pix[src.PixOffset(0, y):])
			}
			c.Pix[0] = uint8(200 + k)
			out[k] = c
		}
		return out, nil
	}
}

// TestLoadPhotoMasks: every photo gets its variants, an aligned crop and a
// photo without a face once masked get none (counted), and a second run
// reads every variant from the cache without masking anything.
func TestLoadPhotoMasks(t *testing.T) {
	root := photoFolder(t)
	cache := t.TempDir()
	ctx := context.Background()
	identity := func(ctx context.Context, img image.Image) (*image.NRGBA, error) {
		src := imageio.ToNRGBA(img)
		return src.SubImage(image.Rect(0, 0, 112, 112)).(*image.NRGBA), nil
	}
	load := func(calls *atomic.Int64) *Crops {
		d, c := loadFolder(t, root, identity)
		if err := LoadPhotoMasks(ctx, d, c, fakeMasker(calls), 3, cache, nil); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"A/a.png": 3, "A/b.png": 3, "B/a.png": 0, "B/crop.png": 0}
		for i, it := range d.Items {
			if got := len(c.Masked[i]); got != want[it.Key] {
				t.Errorf("%s: %d photo masks, want %d", it.Key, got, want[it.Key])
			}
			for k, m := range c.Masked[i] {
				if len(m) != cropBytes || m[0] != uint8(200+k) {
					t.Errorf("%s variant %d: %d bytes, first %d", it.Key, k, len(m), m[0])
				}
			}
		}
		if c.MaskFailed != 1 || c.NoPhoto != 1 {
			t.Errorf("MaskFailed = %d, NoPhoto = %d, want 1 and 1", c.MaskFailed, c.NoPhoto)
		}
		return c
	}
	var first, second atomic.Int64
	load(&first)
	load(&second)
	if first.Load() != 3 || second.Load() != 1 {
		t.Errorf("masker called %d times, then %d (want 3, then 1: only the faceless photo again)", first.Load(), second.Load())
	}
}

// TestStudentInputsUsePhotoMasks: with every input masked and a share of 1
// the student sees one of its item's photo-masked crops (mirrored with the
// teacher's flip); with a share of 0 it never does.
func TestStudentInputsUsePhotoMasks(t *testing.T) {
	root := synthFolder(t, 2, 2)
	tr := newTestTrainer(t, root, t.TempDir())
	n := len(tr.data.Items)
	tr.crops.Masked = make([][][]byte, n)
	for i := range tr.crops.Masked {
		v := make([]byte, cropBytes)
		for j := range v {
			v[j] = uint8(240 + i) // brighter than any synthetic crop pixel left of x = 4
		}
		tr.crops.Masked[i] = [][]byte{v}
	}
	items := []int{0, 1}
	for _, share := range []float64{0, 1} {
		tr.cfg.MaskProb, tr.cfg.PhotoMaskShare = 1, share
		x, _, err := tr.studentInputs(0, items)
		if err != nil {
			t.Fatal(err)
		}
		const plane = 112 * 112
		for k, i := range items {
			want := (float32(240+i) - 127) / 128
			got := x.Data[k*3*plane+plane/2]
			if (got == want) != (share == 1) {
				t.Errorf("share %g, item %d: input %g, photo-mask value %g", share, i, got, want)
			}
		}
	}
}

// TestForEachItemCancel: a cancelled context stops the loop with its error.
func TestForEachItemCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var n atomic.Int64
	err := forEachItem(ctx, 1000, nil, func(int) { n.Add(1) })
	if !errors.Is(err, context.Canceled) || n.Load() == 1000 {
		t.Errorf("err %v after %d of 1000 items", err, n.Load())
	}
}
