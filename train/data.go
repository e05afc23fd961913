package train

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/face"
	"github.com/maskinv/workbench/imageio"
	"github.com/maskinv/workbench/internal/parallel"
)

// Item is one training photo: its key (path under the dataset root, or
// record number) and its identity (class) number.
type Item = dataset.TrainItem

// Dataset is a list of photos with identity labels. Classes counts the
// identities; Names[label] is each one's name.
type Dataset struct {
	Root  string
	Items []Item
	Names []string
	rec   *dataset.IndexedRecords // RecordIO datasets: where the images are
}

// Classes is the number of identities.
func (d *Dataset) Classes() int { return len(d.Names) }

// Open reads the training data of the dataset kind called kind at path,
// from kinds (dataset.Builtin(): folder, lfw, rec). folds are, for LFW,
// the 0-based folds whose people may be trained on (dataset.TrainOptions).
// Close a RecordIO dataset's records when done (CloseRecords).
func Open(kinds *dataset.Kinds, kind, path string, folds []int) (*Dataset, error) {
	s, err := kinds.OpenTrain(kind, path, dataset.TrainOptions{Folds: folds})
	if err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	return FromSet(s), nil
}

// FromSet is the training dataset of s; it takes over s's records.
func FromSet(s *dataset.TrainSet) *Dataset {
	return &Dataset{Root: s.Root, Items: s.Items, Names: s.Names, rec: s.Records}
}

// Aligner turns a photo into the 112×112 aligned crop of its face
// (app.Engine's Locate does detection, landmarks and alignment).
type Aligner func(ctx context.Context, img image.Image) (*image.NRGBA, error)

// Crops holds every item's aligned crop as packed RGB, 112×112×3 bytes.
type Crops struct {
	Data   [][]byte // per item; nil where the photo had no usable face
	Failed int
	// Masked holds, per item, crops of the photo masked before alignment
	// (LoadPhotoMasks); empty where there are none.
	Masked     [][][]byte
	MaskFailed int    // items whose masked photo had no face found again
	NoPhoto    int    // items that are aligned crops: no photo to mask
	photo      []bool // per item: the crop was aligned from a photo
}

const cropBytes = face.AlignedSize * face.AlignedSize * 3

// LoadCrops decodes every item. Photos already 112×112 are taken as
// aligned crops; others go through align once and the crop is cached as a
// PNG under cacheDir (same relative path), so later runs skip detection.
// Items whose photo cannot be read or aligned are dropped from d (counted
// in Failed). progress is called after each item.
func LoadCrops(ctx context.Context, d *Dataset, align Aligner, cacheDir string, progress func(done, total int)) (*Crops, error) {
	c := &Crops{Data: make([][]byte, len(d.Items)), photo: make([]bool, len(d.Items))}
	errs := make([]error, len(d.Items))
	err := forEachItem(ctx, len(d.Items), progress, func(i int) {
		if d.rec != nil {
			c.Data[i], errs[i] = recCrop(d.rec, d.Items[i].Key)
		} else {
			c.Data[i], c.photo[i], errs[i] = loadCrop(ctx, d.Root, d.Items[i].Key, align, cacheDir)
		}
	})
	if err != nil {
		return nil, err
	}
	kept := d.Items[:0]
	data := c.Data[:0]
	photo := c.photo[:0]
	for i, it := range d.Items {
		if errs[i] != nil {
			c.Failed++
			continue
		}
		kept = append(kept, it)
		data = append(data, c.Data[i])
		photo = append(photo, c.photo[i])
	}
	d.Items, c.Data, c.photo = kept, data, photo
	if len(d.Items) == 0 {
		return nil, fmt.Errorf("training data: no usable face in %s (first error: %v)", d.Root, firstError(errs))
	}
	return c, nil
}

// forEachItem calls fn(i) for i in [0, n) on every core, reporting progress
// after each; it stops handing out items when ctx is cancelled and returns
// ctx's error then.
func forEachItem(ctx context.Context, n int, progress func(done, total int), fn func(i int)) error {
	var mu sync.Mutex
	done := 0
	return parallel.Each(ctx, n, 0, func(i int) {
		fn(i)
		mu.Lock()
		done++
		if progress != nil {
			progress(done, n)
		}
		mu.Unlock()
	})
}

func firstError(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ErrNoAligner marks a photo that needs alignment when none was given.
var ErrNoAligner = errors.New("photo is not a 112×112 aligned crop and no aligner was given")

// loadCrop returns the item's crop and whether it was aligned from a photo
// (a crop cached under cacheDir always was; a 112×112 input is a crop).
func loadCrop(ctx context.Context, root, key string, align Aligner, cacheDir string) (rgb []byte, photo bool, err error) {
	cached := ""
	if cacheDir != "" {
		cached = filepath.Join(cacheDir, filepath.FromSlash(strings.TrimSuffix(key, filepath.Ext(key)))+".png")
		if img, err := imageio.Decode(cached); err == nil && isCrop(img.Bounds()) {
			return packRGB(img), true, nil
		}
	}
	img, err := imageio.Decode(filepath.Join(root, filepath.FromSlash(key)))
	if err != nil {
		return nil, false, err
	}
	if isCrop(img.Bounds()) {
		return packRGB(img), false, nil
	}
	if align == nil {
		return nil, false, fmt.Errorf("%s: %w", key, ErrNoAligner)
	}
	crop, err := align(ctx, img)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", key, err)
	}
	if cached != "" {
		if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
			return nil, false, err
		}
		if err := imageio.WritePNG(cached, crop); err != nil {
			return nil, false, err
		}
	}
	return packRGB(crop), true, nil
}

func isCrop(b image.Rectangle) bool {
	return b.Dx() == face.AlignedSize && b.Dy() == face.AlignedSize
}

func packRGB(img *image.NRGBA) []byte {
	out := make([]byte, 0, cropBytes)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x++ {
			out = append(out, row[4*x], row[4*x+1], row[4*x+2])
		}
	}
	return out
}

// unpackRGB makes an NRGBA crop from packed RGB, mirrored left-right when
// flip is set.
func unpackRGB(rgb []byte, flip bool) *image.NRGBA {
	const s = face.AlignedSize
	img := image.NewNRGBA(image.Rect(0, 0, s, s))
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			sx := x
			if flip {
				sx = s - 1 - x
			}
			src := rgb[(y*s+sx)*3:]
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = src[0], src[1], src[2], 255
		}
	}
	return img
}
