package train

import (
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"

	"github.com/maskinv/workbench/imageio"
)

// PhotoMasker draws a mask on a raw photo and aligns the masked photo
// again, the way a photo of a person wearing a mask is aligned at test
// time. It returns one aligned 112×112 crop per key; each key draws its own
// mask (maskgen's key).
//
// Why: on a masked face the landmark model misplaces the mouth and jaw, so
// the aligned crop of a real masked photo is shifted and zoomed compared
// with the unmasked one (on MFR2 many crops show little more than the
// eyes). A mask drawn on an already aligned crop never shows the student
// that; a mask drawn on the photo before alignment does.
type PhotoMasker func(ctx context.Context, img image.Image, keys []string) ([]*image.NRGBA, error)

// PhotoMaskKey is the maskgen key of an item's k-th photo mask.
func PhotoMaskKey(itemKey string, k int) string { return fmt.Sprintf("%s#photo%d", itemKey, k) }

// LoadPhotoMasks gives every item of d its variants photo-masked crops
// (c.Masked), through mask, caching each as a PNG under cacheDir. Items
// that are already aligned crops have no photo to mask (counted in
// c.NoPhoto), and items whose masked photo yields no usable face are
// counted in c.MaskFailed; both keep none and are masked on the crop
// instead. c must come from LoadCrops on d.
func LoadPhotoMasks(ctx context.Context, d *Dataset, c *Crops, mask PhotoMasker, variants int, cacheDir string, progress func(done, total int)) error {
	if len(c.Data) != len(d.Items) || len(c.photo) != len(d.Items) {
		return fmt.Errorf("photo masks: %d crops for %d items (crops must come from LoadCrops)", len(c.Data), len(d.Items))
	}
	c.Masked = make([][][]byte, len(d.Items))
	if variants <= 0 || d.rec != nil {
		return nil
	}
	outcome := make([]photoMaskOutcome, len(d.Items))
	err := forEachItem(ctx, len(d.Items), progress, func(i int) {
		if !c.photo[i] {
			outcome[i] = photoMaskNoPhoto
			return
		}
		c.Masked[i], outcome[i] = photoMasks(ctx, d.Root, d.Items[i].Key, mask, variants, cacheDir)
	})
	if err != nil {
		return err
	}
	for _, o := range outcome {
		switch o {
		case photoMaskFailed:
			c.MaskFailed++
		case photoMaskNoPhoto:
			c.NoPhoto++
		}
	}
	return nil
}

type photoMaskOutcome uint8

const (
	photoMaskOK photoMaskOutcome = iota
	photoMaskFailed
	photoMaskNoPhoto
)

func photoMasks(ctx context.Context, root, key string, mask PhotoMasker, variants int, cacheDir string) ([][]byte, photoMaskOutcome) {
	paths := make([]string, variants)
	out := make([][]byte, 0, variants)
	for k := range paths {
		if cacheDir != "" {
			paths[k] = filepath.Join(cacheDir, filepath.FromSlash(strings.TrimSuffix(key, filepath.Ext(key)))+fmt.Sprintf(".m%d.png", k))
			if img, err := imageio.Decode(paths[k]); err == nil && isCrop(img.Bounds()) {
				out = append(out, packRGB(img))
			}
		}
	}
	if len(out) == variants {
		return out, photoMaskOK
	}
	img, err := imageio.Decode(filepath.Join(root, filepath.FromSlash(key)))
	if err != nil {
		return nil, photoMaskFailed
	}
	keys := make([]string, variants)
	for k := range keys {
		keys[k] = PhotoMaskKey(key, k)
	}
	crops, err := mask(ctx, img, keys)
	if err != nil || len(crops) != variants {
		return nil, photoMaskFailed
	}
	out = out[:0]
	for k, crop := range crops {
		if paths[k] != "" {
			// A cache that cannot be written only costs the next run time.
			if os.MkdirAll(filepath.Dir(paths[k]), 0o755) == nil {
				_ = imageio.WritePNG(paths[k], crop)
			}
		}
		out = append(out, packRGB(crop))
	}
	return out, photoMaskOK
}
