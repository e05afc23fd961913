package train

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/imageio"
)

// CloseRecords closes a RecordIO dataset's file; other datasets have none.
func (d *Dataset) CloseRecords() error {
	if d.rec == nil {
		return nil
	}
	return d.rec.Close()
}

// recCrop decodes the image record under key, which must be an aligned crop.
func recCrop(x *dataset.IndexedRecords, key string) ([]byte, error) {
	k, err := strconv.Atoi(key)
	if err != nil {
		return nil, fmt.Errorf("record key %q: %w", key, err)
	}
	_, data, err := x.ReadImage(k)
	if err != nil {
		return nil, err
	}
	img, err := imageio.DecodeReader(bytes.NewReader(data), "record "+key)
	if err != nil {
		return nil, err
	}
	if !isCrop(img.Bounds()) {
		return nil, fmt.Errorf("record %s: %dx%d image, want an aligned 112×112 crop", key, img.Bounds().Dx(), img.Bounds().Dy())
	}
	return packRGB(img), nil
}
