package dataset

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// Every parser is fuzzed for panics, and where we also write the format,
// for the round trip: what parses, written back, parses to the same
// value.

// checkParseError fails unless err is a *ParseError or a plain I/O error
// from the reader (none here: inputs are in memory).
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
}

// checkLineError is checkParseError for text formats: the error names a
// line, counted from 1, even for an empty file.
func checkLineError(t *testing.T, err error) {
	t.Helper()
	checkParseError(t, err)
	var pe *ParseError
	errors.As(err, &pe)
	if pe.Line < 1 {
		t.Fatalf("error %v names line %d", err, pe.Line)
	}
}

// fuzzText fuzzes a text format we also write, from seeds: input that
// parses writes back as text that parses to the same value; input that
// does not gives a *ParseError, naming a line when lines is set.
func fuzzText[T any](f *testing.F, parse func(io.Reader, string) ([]T, error), write func(io.Writer, []T) error, lines bool, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parse(bytes.NewReader(data), "fuzz")
		if err != nil {
			if lines {
				checkLineError(t, err)
			} else {
				checkParseError(t, err)
			}
			return
		}
		var buf bytes.Buffer
		if err := write(&buf, v); err != nil {
			t.Fatalf("parsed %T does not write: %v", v, err)
		}
		back, err := parse(&buf, "again")
		if err != nil {
			t.Fatalf("written %T does not parse: %v\n%s", v, err, buf.Bytes())
		}
		// Empty input may parse as nil and read back as empty.
		if len(v) > 0 && !reflect.DeepEqual(back, v) {
			t.Fatalf("round trip changed the %T", v)
		}
	})
}

func FuzzLFWPairs(f *testing.F) {
	fuzzText(f, ParseLFWPairs, WriteLFWPairs, true,
		smallLFW, "1 1\nA 1 2\nA 1 B 2\n", "1 1\r\nA\t1\t2\r\nA 01 B +2\r\n\r\n", "2 1\nA 1 2\n")
}

func FuzzMFR2Pairs(f *testing.F) {
	fuzzText(f, ParseMFR2Pairs, WriteMFR2Pairs, true, smallMFR2Pairs, "A 1 2", "A 1 B 2\r\n")
}

func FuzzMFR2Labels(f *testing.F) {
	fuzzText(f, ParseMFR2Labels, WriteMFR2Labels, true, smallMFR2Labels, "A, 1, no-mask\n\nB,2,N95", "A, 1, cloth black \n")
}

func FuzzBin(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bin", "*.bin"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	var buf bytes.Buffer
	if err := WriteBin(&buf, testSet(3, false)); err == nil {
		f.Add(buf.Bytes())
	}
	f.Add([]byte{opProto, 2, opEmptyList, opEmptyList, opTuple2, opStop})
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := DecodeBin(bytes.NewReader(data), "fuzz")
		var scanned [][]byte
		same, scanErr := ScanBin(bytes.NewReader(data), "fuzz", func(_ int, img []byte) error {
			scanned = append(scanned, img)
			return nil
		})
		if err != nil {
			checkParseError(t, err)
			if scanErr == nil {
				t.Fatalf("ScanBin reads what DecodeBin refuses (%v)", err)
			}
			return
		}
		if scanErr == nil && (!reflect.DeepEqual(same, set.Same) || len(scanned) != len(set.Images)) {
			t.Fatal("ScanBin and DecodeBin disagree")
		}
		var out bytes.Buffer
		if err := WriteBin(&out, set); err != nil {
			t.Fatalf("decoded set does not write: %v", err)
		}
		back, err := DecodeBin(&out, "again")
		if err != nil {
			t.Fatalf("written set does not decode: %v", err)
		}
		if len(back.Images) != len(set.Images) || len(back.Same) != len(set.Same) {
			t.Fatal("round trip changed the set")
		}
		for i := range back.Images {
			if !bytes.Equal(back.Images[i], set.Images[i]) {
				t.Fatalf("round trip changed image %d", i)
			}
		}
		for i := range back.Same {
			if back.Same[i] != set.Same[i] {
				t.Fatalf("round trip changed label %d", i)
			}
		}
	})
}

func FuzzRecordIO(f *testing.F) {
	var buf bytes.Buffer
	w := NewRecordWriter(&buf)
	for _, r := range [][]byte{
		[]byte("abc"), {}, cat(magicLE, []byte("xy")), cat([]byte("abcd"), magicLE, []byte("efgh"), magicLE),
		PackImageRecord(IRHeader{Labels: []float32{1, 2}}, []byte("img")),
	} {
		w.Write(r)
	}
	f.Add(buf.Bytes())
	f.Add(cat(magicLE, u32(1<<29)))
	f.Add(cat(magicLE, u32(maxRecordLen), []byte("abcd")))
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := NewRecordReader(bytes.NewReader(data), "fuzz")
		var recs [][]byte
		for {
			r, err := rr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				checkParseError(t, err)
				break
			}
			recs = append(recs, r)
			// Image headers: what unpacks packs back to the same bytes.
			if h, img, err := UnpackImageRecord(r); err == nil {
				if !bytes.Equal(PackImageRecord(h, img), r) {
					t.Fatal("image record round trip changed the bytes")
				}
			}
		}
		var out bytes.Buffer
		w := NewRecordWriter(&out)
		for _, r := range recs {
			if _, err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		back := NewRecordReader(&out, "again")
		for i, want := range recs {
			got, err := back.Next()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("record %d: round trip gave %q (%v), want %q", i, got, err, want)
			}
		}
		if _, err := back.Next(); err != io.EOF {
			t.Fatalf("rewritten file has more: %v", err)
		}
	})
}

func FuzzRecordIndex(f *testing.F) {
	fuzzText(f, ParseRecordIndex, WriteRecordIndex, false, "0\t0\n1\t40\n\n7\t96\n", "-3 5\r\n", "0\t0\n0\t8\n")
}

func FuzzImageRecord(f *testing.F) {
	f.Add(PackImageRecord(IRHeader{Label: 3, ID: 1}, []byte("jpeg")))
	f.Add(PackImageRecord(IRHeader{Labels: []float32{1, 2, 3}}, nil))
	f.Add(cat(u32(0xffffffff), make([]byte, 20)))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, img, err := UnpackImageRecord(data)
		if err != nil {
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("error %v does not wrap ErrTruncated", err)
			}
			return
		}
		if !bytes.Equal(PackImageRecord(h, img), data) {
			t.Fatal("round trip changed the bytes")
		}
	})
}
