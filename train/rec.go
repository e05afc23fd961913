package train

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/maskinv/workbench/dataset"
	"github.com/maskinv/workbench/imageio"
)

// FromRec reads an InsightFace-style MXNet RecordIO dataset: dir holds
// train.rec and train.idx, images are aligned 112×112 crops. With the
// InsightFace layout (record 0 lists the identity records) each identity
// range is a class; without it every record is an image labelled by its
// header. Close the returned dataset's records when done (CloseRecords).
func FromRec(dir string) (*Dataset, error) {
	x, err := dataset.OpenIndexedRecords(filepath.Join(dir, "train.rec"), filepath.Join(dir, "train.idx"))
	if err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	d := &Dataset{Root: dir, rec: x}
	layout, err := dataset.ReadRecLayout(x)
	switch {
	case err == nil:
		for _, id := range layout.Identities {
			label := len(d.Names)
			d.Names = append(d.Names, strconv.Itoa(id.Key))
			for k := id.Start; k < id.End; k++ {
				d.Items = append(d.Items, Item{Key: strconv.Itoa(k), Label: label})
			}
		}
	case errors.Is(err, dataset.ErrNotFound):
		classes := map[int]int{}
		for _, e := range x.Entries() {
			h, _, err := x.ReadImage(e.Key)
			if err != nil {
				x.Close()
				return nil, fmt.Errorf("training data: %w", err)
			}
			c := int(h.ClassLabel())
			label, ok := classes[c]
			if !ok {
				label = len(d.Names)
				classes[c] = label
				d.Names = append(d.Names, strconv.Itoa(c))
			}
			d.Items = append(d.Items, Item{Key: strconv.Itoa(e.Key), Label: label})
		}
	default:
		x.Close()
		return nil, fmt.Errorf("training data: %w", err)
	}
	if len(d.Items) == 0 {
		x.Close()
		return nil, fmt.Errorf("training data: no images in %s", dir)
	}
	return d, nil
}

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
