package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// magicLE is RecordMagic as it appears in the file.
var magicLE = binary.LittleEndian.AppendUint32(nil, RecordMagic)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func TestRecordLayout(t *testing.T) {
	// Hand-built expectations, following dmlc-core's WriteRecord.
	tests := []struct {
		name string
		rec  []byte
		file []byte
	}{
		{
			// magic | lrec = 3 | "abc" | one pad byte.
			name: "padded", rec: []byte("abc"),
			file: cat(magicLE, u32(3), []byte("abc\x00")),
		},
		{
			name: "empty", rec: []byte{},
			file: cat(magicLE, u32(0)),
		},
		{
			// The magic at offset 0 splits the record: an empty first part
			// (cflag 1, length 0), then the rest as the last part (cflag
			// 3, length 2, padded to 4).
			name: "magic first", rec: cat(magicLE, []byte("xy")),
			file: cat(magicLE, u32(1<<29), magicLE, u32(3<<29|2), []byte("xy\x00\x00")),
		},
		{
			// "abcd" magic "efgh" magic: first part "abcd" (cflag 1),
			// middle part "efgh" (cflag 2), empty last part (cflag 3).
			name: "two magics", rec: cat([]byte("abcd"), magicLE, []byte("efgh"), magicLE),
			file: cat(magicLE, u32(1<<29|4), []byte("abcd"), magicLE, u32(2<<29|4), []byte("efgh"), magicLE, u32(3<<29)),
		},
		{
			// An unaligned magic is not special.
			name: "unaligned magic", rec: cat([]byte("a"), magicLE),
			file: cat(magicLE, u32(5), []byte("a"), magicLE, []byte{0, 0, 0}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			off, err := NewRecordWriter(&buf).Write(tt.rec)
			if err != nil || off != 0 {
				t.Fatalf("Write: offset %d, %v", off, err)
			}
			if !bytes.Equal(buf.Bytes(), tt.file) {
				t.Errorf("file\n% x\nwant\n% x", buf.Bytes(), tt.file)
			}
			rr := NewRecordReader(&buf, "t.rec")
			got, err := rr.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.rec) {
				t.Errorf("read back % x, want % x", got, tt.rec)
			}
			if _, err := rr.Next(); err != io.EOF {
				t.Errorf("after the record: %v, want io.EOF", err)
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	var recs [][]byte
	for i := range 50 {
		r := bytes.Repeat([]byte{byte(i)}, i*7)
		if i%5 == 0 && len(r) >= 8 {
			copy(r[4*(i%3):], magicLE) // aligned magics inside
		}
		recs = append(recs, r)
	}
	var buf bytes.Buffer
	w := NewRecordWriter(&buf)
	var offsets []int64
	for _, r := range recs {
		off, err := w.Write(r)
		if err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, off)
	}
	rr := NewRecordReader(bytes.NewReader(buf.Bytes()), "t.rec")
	for i, want := range recs {
		if rr.Offset() != offsets[i] {
			t.Errorf("record %d at offset %d, written at %d", i, rr.Offset(), offsets[i])
		}
		got, err := rr.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("record %d differs", i)
		}
	}
	if _, err := rr.Next(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

func TestRecordErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		err  error
		off  int64
	}{
		{"bad magic", cat(u32(0x12345678), u32(0)), ErrSyntax, 0},
		{"half header", magicLE, ErrTruncated, 0},
		{"short data", cat(magicLE, u32(8), []byte("abc")), ErrTruncated, 0},
		{"cflag 5", cat(magicLE, u32(5<<29)), ErrSyntax, 0},
		{"starts mid-record", cat(magicLE, u32(2<<29)), ErrSyntax, 0},
		{"restarts", cat(magicLE, u32(1<<29), magicLE, u32(0)), ErrSyntax, 8},
		{"unfinished", cat(magicLE, u32(1<<29)), ErrTruncated, 0},
		{"second record bad", cat(magicLE, u32(0), u32(7), u32(0)), ErrSyntax, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr := NewRecordReader(bytes.NewReader(tt.in), "bad.rec")
			var err error
			for err == nil {
				_, err = rr.Next()
			}
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want ParseError with %v", err, tt.err)
			}
			if pe.Offset != tt.off {
				t.Errorf("error at offset %d, want %d: %v", pe.Offset, tt.off, err)
			}
		})
	}
}

func TestRecordHugeLengthNoAlloc(t *testing.T) {
	// A header claiming 512 MB with 4 bytes behind it: reading from a
	// pipe, memory grows only with the data that arrives.
	in := cat(magicLE, u32(maxRecordLen), []byte("abcd"))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := NewRecordReader(struct{ io.Reader }{bytes.NewReader(in)}, "p").Next()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("err = %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("allocated %d bytes for a 12-byte input", grew)
	}
}

func TestImageRecord(t *testing.T) {
	tests := []struct {
		name string
		h    IRHeader
	}{
		{"one label", IRHeader{Label: 42, ID: 7, ID2: 9}},
		{"labels", IRHeader{Flag: 2, Labels: []float32{3, 8}, ID: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := PackImageRecord(tt.h, []byte("JPEG"))
			// 24-byte header + 4 bytes per label + image.
			if len(rec) != 24+4*len(tt.h.Labels)+4 {
				t.Fatalf("record of %d bytes", len(rec))
			}
			h, img, err := UnpackImageRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h, tt.h) || string(img) != "JPEG" {
				t.Errorf("got %+v %q, want %+v", h, img, tt.h)
			}
		})
	}
	// flag 0: the label is Label (42); flag 2: the first of Labels.
	if l := tests[0].h.ClassLabel(); l != 42 {
		t.Errorf("class label %v", l)
	}
	if l := tests[1].h.ClassLabel(); l != 3 {
		t.Errorf("class label %v", l)
	}
	// Hand-made bytes: flag 1, label 0, ids 0, one label 5.0 (0x40a00000).
	raw := cat(u32(1), u32(0), make([]byte, 16), u32(0x40a00000), []byte("img"))
	h, img, err := UnpackImageRecord(raw)
	if err != nil || h.Flag != 1 || h.Labels[0] != 5 || string(img) != "img" {
		t.Errorf("hand record: %+v %q %v", h, img, err)
	}
	for _, bad := range [][]byte{make([]byte, 23), cat(u32(3), make([]byte, 20), u32(0))} {
		if _, _, err := UnpackImageRecord(bad); !errors.Is(err, ErrTruncated) {
			t.Errorf("% x: err = %v, want ErrTruncated", bad, err)
		}
	}
}

func TestRecordIndex(t *testing.T) {
	in := "0\t0\n1\t40\n\n7\t96\n"
	entries, err := ParseRecordIndex(strings.NewReader(in), "t.idx")
	if err != nil {
		t.Fatal(err)
	}
	want := []IndexEntry{{0, 0}, {1, 40}, {7, 96}}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("entries %v", entries)
	}
	var buf bytes.Buffer
	if err := WriteRecordIndex(&buf, entries); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "0\t0\n1\t40\n7\t96\n" {
		t.Errorf("written %q", buf.String())
	}
	errTests := []struct {
		name, in string
		line     int
	}{
		{"one field", "0\n", 1},
		{"not a number", "0\t0\nx\t4\n", 2},
		{"negative offset", "0\t-4\n", 1},
		{"duplicate", "0\t0\n1\t8\n0\t16\n", 3},
	}
	for _, tt := range errTests {
		_, err := ParseRecordIndex(strings.NewReader(tt.in), "t.idx")
		wantParseError(t, err, ErrSyntax, tt.line)
	}
}

// writeInsightFaceRec writes train.rec/train.idx in InsightFace's layout:
// record 0 with labels (first identity key, end key), image records
// 1..n labelled with their class, then one record per identity with
// labels (first image key, end image key).
func writeInsightFaceRec(t *testing.T, dir string, classes [][]string) (rec, idx string) {
	t.Helper()
	rec, idx = filepath.Join(dir, "train.rec"), filepath.Join(dir, "train.idx")
	rf, err := os.Create(rec)
	if err != nil {
		t.Fatal(err)
	}
	xf, err := os.Create(idx)
	if err != nil {
		t.Fatal(err)
	}
	w := NewIndexedRecordWriter(rf, xf)
	nImages := 0
	for _, c := range classes {
		nImages += len(c)
	}
	first := nImages + 1
	end := first + len(classes)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Write(0, PackImageRecord(IRHeader{Labels: []float32{float32(first), float32(end)}}, nil)))
	key := 1
	var ranges [][2]int
	for label, c := range classes {
		start := key
		for _, img := range c {
			must(w.Write(key, PackImageRecord(IRHeader{Label: float32(label), ID: uint64(key)}, []byte(img))))
			key++
		}
		ranges = append(ranges, [2]int{start, key})
	}
	for i, r := range ranges {
		must(w.Write(first+i, PackImageRecord(IRHeader{Labels: []float32{float32(r[0]), float32(r[1])}}, nil)))
	}
	must(w.Flush())
	must(rf.Close())
	must(xf.Close())
	return rec, idx
}

func TestIndexedRecordsInsightFace(t *testing.T) {
	classes := [][]string{
		{"a0", "a1", "a2"},
		{"b0"},
		{"c0", "c1" + string(magicLE)}, // a split record among the rest
	}
	rec, idx := writeInsightFaceRec(t, t.TempDir(), classes)
	x, err := OpenIndexedRecords(rec, idx)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if n := len(x.Entries()); n != 1+6+3 {
		t.Errorf("%d index entries, want 10", n)
	}
	layout, err := ReadRecLayout(x)
	if err != nil {
		t.Fatal(err)
	}
	// Images are keys 1..6, identities keys 7..9.
	want := RecLayout{ImageStart: 1, ImageEnd: 7, Identities: []IdentityRange{
		{Key: 7, Start: 1, End: 4}, {Key: 8, Start: 4, End: 5}, {Key: 9, Start: 5, End: 7},
	}}
	if !reflect.DeepEqual(layout, want) {
		t.Errorf("layout %+v, want %+v", layout, want)
	}
	// Random access, backwards, through the layout.
	for label := len(want.Identities) - 1; label >= 0; label-- {
		id := want.Identities[label]
		for key := id.End - 1; key >= id.Start; key-- {
			h, img, err := x.ReadImage(key)
			if err != nil {
				t.Fatal(err)
			}
			if wantImg := classes[label][key-id.Start]; string(img) != wantImg || h.ClassLabel() != float32(label) {
				t.Errorf("key %d: %q label %v, want %q %d", key, img, h.ClassLabel(), wantImg, label)
			}
		}
	}
	if _, err := x.Read(99); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
	// Sequential reading sees the same records in key order.
	f, err := os.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rr := NewRecordReader(f, rec)
	for _, e := range x.Entries() {
		if rr.Offset() != e.Offset {
			t.Fatalf("key %d at %d, index says %d", e.Key, rr.Offset(), e.Offset)
		}
		seq, err := rr.Next()
		if err != nil {
			t.Fatal(err)
		}
		byKey, err := x.Read(e.Key)
		if err != nil || !bytes.Equal(seq, byKey) {
			t.Fatalf("key %d differs between sequential and random access (%v)", e.Key, err)
		}
	}
}

func TestIndexedRecordsErrors(t *testing.T) {
	dir := t.TempDir()
	rec, idx := writeInsightFaceRec(t, dir, [][]string{{"a"}})
	// An offset past the end of the .rec is reported at its .idx line.
	body, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.idx")
	if err := os.WriteFile(bad, append(body, []byte("5\t99999\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = OpenIndexedRecords(rec, bad)
	wantParseError(t, err, ErrSyntax, 4)

	// An offset inside a record: the reader finds no magic there.
	if err := os.WriteFile(bad, []byte("0\t4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := OpenIndexedRecords(rec, bad)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	_, err = x.Read(0)
	wantParseError(t, err, ErrSyntax, 0)

	// Record 0 without labels: not an InsightFace layout.
	plainRec, plainIdx := filepath.Join(dir, "p.rec"), filepath.Join(dir, "p.idx")
	rf, _ := os.Create(plainRec)
	xf, _ := os.Create(plainIdx)
	w := NewIndexedRecordWriter(rf, xf)
	if err := w.Write(0, PackImageRecord(IRHeader{Label: 1}, []byte("img"))); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	rf.Close()
	xf.Close()
	px, err := OpenIndexedRecords(plainRec, plainIdx)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	if _, err := ReadRecLayout(px); !errors.Is(err, ErrNotFound) {
		t.Errorf("plain rec layout: %v, want ErrNotFound", err)
	}
}

func TestKeyRange(t *testing.T) {
	for _, tt := range []struct {
		labels []float32
		ok     bool
	}{
		{[]float32{1, 5}, true},
		{[]float32{5, 5}, true},
		{[]float32{5, 1}, false},
		{[]float32{1.5, 3}, false},
		{[]float32{-1, 3}, false},
		{[]float32{1, 1 << 25}, false},
		{[]float32{1}, false},
	} {
		_, _, err := keyRange(tt.labels)
		if (err == nil) != tt.ok {
			t.Errorf("keyRange(%v): %v", tt.labels, err)
		}
	}
}

func ExampleRecordWriter() {
	var buf bytes.Buffer
	w := NewRecordWriter(&buf)
	for _, s := range []string{"first", "second"} {
		off, _ := w.Write([]byte(s))
		fmt.Println(s, "at", off)
	}
	// Output:
	// first at 0
	// second at 16
}
