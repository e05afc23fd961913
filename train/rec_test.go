package train

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/maskinv/workbench/dataset"
)

// writeRec writes an InsightFace-layout train.rec/train.idx: record 0 holds
// (first identity key, end key), images 1..n, then one record per identity
// with its image range.
func writeRec(t *testing.T, dir string, perID []int) [][]byte {
	t.Helper()
	rf, err := os.Create(filepath.Join(dir, "train.rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	xf, err := os.Create(filepath.Join(dir, "train.idx"))
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	w := dataset.NewIndexedRecordWriter(rf, xf)
	total := 0
	for _, n := range perID {
		total += n
	}
	first := total + 1
	if err := w.Write(0, dataset.PackImageRecord(dataset.IRHeader{Labels: []float32{float32(first), float32(first + len(perID))}}, nil)); err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	key := 1
	for id, n := range perID {
		for j := 0; j < n; j++ {
			img := image.NewNRGBA(image.Rect(0, 0, 112, 112))
			for y := 0; y < 112; y++ {
				for x := 0; x < 112; x++ {
					img.SetNRGBA(x, y, color.NRGBA{uint8(x + id*40), uint8(y + j*30), uint8(key), 255})
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(key, dataset.PackImageRecord(dataset.IRHeader{Label: float32(id)}, buf.Bytes())); err != nil {
				t.Fatal(err)
			}
			want = append(want, packRGB(img))
			key++
		}
	}
	start := 1
	for i, n := range perID {
		h := dataset.IRHeader{Labels: []float32{float32(start), float32(start + n)}}
		if err := w.Write(first+i, dataset.PackImageRecord(h, nil)); err != nil {
			t.Fatal(err)
		}
		start += n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestRecRoundTrip: a RecordIO file we write reads back as the same
// crops under the same identities.
func TestRecRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := writeRec(t, dir, []int{2, 1, 3})
	d, err := Open(dataset.Builtin(), "rec", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.CloseRecords()
	if d.Classes() != 3 || len(d.Items) != 6 {
		t.Fatalf("%d classes, %d items; want 3 and 6", d.Classes(), len(d.Items))
	}
	labels := []int{0, 0, 1, 2, 2, 2}
	for i, it := range d.Items {
		if it.Label != labels[i] {
			t.Errorf("item %d label %d, want %d", i, it.Label, labels[i])
		}
	}
	crops, err := LoadCrops(context.Background(), d, nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !bytes.Equal(crops.Data[i], want[i]) {
			t.Fatalf("crop %d differs from what was written", i)
		}
	}
}
