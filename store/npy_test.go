package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maskinv/workbench/shard"
)

func TestNPYHeaderRoundTrip(t *testing.T) {
	for _, shape := range [][2]int{{0, 512}, {1, 1}, {3, 512}, {5_800_000, 512}, {1 << 40, 1 << 20}} {
		h := npyHeader(shape[0], shape[1])
		if len(h)%npyAlign != 0 || h[len(h)-1] != '\n' {
			t.Fatalf("%v: header of %d bytes, not %d-aligned or not newline-ended", shape, len(h), npyAlign)
		}
		info, err := parseNPYHeader(h)
		if err != nil || info.rows != shape[0] || info.cols != shape[1] || info.offset != len(h) {
			t.Fatalf("%v: parsed %+v, %v", shape, info, err)
		}
	}
}

// TestNPYHeaderForeign reads headers as other writers make them: numpy's
// version 2.0, double quotes, no trailing comma, keys in another order.
func TestNPYHeaderForeign(t *testing.T) {
	mk := func(major byte, dict string) []byte {
		pre := 10
		if major > 1 {
			pre = 12
		}
		n := (pre + len(dict) + 1 + 15) / 16 * 16
		b := append([]byte(nil), npyMagic...)
		b = append(b, major, 0)
		if major > 1 {
			b = binary.LittleEndian.AppendUint32(b, uint32(n-pre))
		} else {
			b = binary.LittleEndian.AppendUint16(b, uint16(n-pre))
		}
		b = append(b, dict...)
		for len(b) < n-1 {
			b = append(b, ' ')
		}
		return append(b, '\n')
	}
	tests := []struct {
		name string
		b    []byte
		rows int
		err  string
	}{
		{"v2", mk(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 3), }"), 7, ""},
		{"v3 double quotes", mk(3, `{"shape": (2,3), "fortran_order": False, "descr": "<f4"}`), 2, ""},
		{"big-endian", mk(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (7, 3), }"), 0, "dtype"},
		{"fortran", mk(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (7, 3), }"), 0, "fortran_order"},
		{"1-D", mk(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"), 0, "2-D"},
		{"3-D", mk(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 3, 2), }"), 0, "2-D"},
		{"no shape", mk(1, "{'descr': '<f4', 'fortran_order': False, }"), 0, `"shape"`},
		{"key twice", mk(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (7, 3)}"), 0, "twice"},
		{"negative", mk(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-7, 3), }"), 0, "bad dimension"},
		{"zero columns", mk(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 0), }"), 0, "0 columns"},
		{"version 4", append(append([]byte(nil), npyMagic...), 4, 0, 0, 0, 0, 0), 0, "version 4.0"},
	}
	for _, tc := range tests {
		info, err := parseNPYHeader(tc.b)
		if tc.err == "" {
			if err != nil || info.rows != tc.rows || info.offset != len(tc.b) {
				t.Errorf("%s: %+v, %v", tc.name, info, err)
			}
			continue
		}
		if !errors.Is(err, errNPY) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want errNPY mentioning %q", tc.name, err, tc.err)
		}
	}
}

// numpyPython finds a Python 3 that has numpy, or skips.
func numpyPython(t *testing.T) string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py
		}
	}
	t.Skip("SKIP: no python3 with numpy (apt-get install python3-numpy): numpy.load of our .npy was not checked")
	return ""
}

// TestNumpyLoads: numpy.load reads embeddings.npy as our reader does:
// shape, dtype and every value (the SHA-256 of the array's bytes), and one
// value printed.
func TestNumpyLoads(t *testing.T) {
	py := numpyPython(t)
	dir := t.TempDir()
	writeStore(t, dir, shard.Whole, testKeys(57))
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var raw bytes.Buffer
	for _, v := range s.Matrix() {
		binary.Write(&raw, binary.LittleEndian, v)
	}
	sum := sha256.Sum256(raw.Bytes())
	script := `import hashlib, sys, numpy as np
a = np.load(sys.argv[1])
print(a.shape, a.dtype, hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest(), repr(float(a[3, 5])))`
	out, err := exec.Command(py, "-c", script, filepath.Join(dir, EmbeddingsName)).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	want := fmt.Sprintf("(57, 8) float32 %s %s", hex.EncodeToString(sum[:]), pyRepr(float64(s.Row(3)[5])))
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("numpy says %q\nwe say     %q", got, want)
	}
}

// pyRepr formats a float64 as Python's repr does, for the values here.
func pyRepr(v float64) string {
	s := fmt.Sprint(v)
	if !strings.ContainsAny(s, ".e") && !math.IsInf(v, 0) {
		s += ".0"
	}
	return s
}

func FuzzNPYHeader(f *testing.F) {
	f.Add(npyHeader(3, 512))
	f.Add(npyHeader(0, 1))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'shape': (1,2)}"))
	f.Add([]byte("\x93NUMPY\x01\x00\x04\x00{}\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parseNPYHeader(b)
		if err != nil {
			if !errors.Is(err, errNPY) {
				t.Fatalf("error %v is not errNPY", err)
			}
			return
		}
		if info.offset > len(b) || info.offset%4 != 0 || info.rows < 0 || info.cols < 1 || info.cols > maxCols || info.rows > maxDim {
			t.Fatalf("accepted %q as %+v", b, info)
		}
		again, err := parseNPYHeader(npyHeader(info.rows, info.cols))
		if err != nil || again.rows != info.rows || again.cols != info.cols {
			t.Fatalf("%+v does not round-trip: %+v, %v", info, again, err)
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	rec, _ := testImage("a/b.jpg", 8)
	rec.Status = StatusOK
	line, _ := recordLine(rec)
	f.Add(line[:len(line)-1])
	f.Add([]byte(`{"path":"x.png","status":"error","error":"no face"}`))
	f.Add([]byte(`{"path":"../x.png","status":"ok"}`))
	f.Add([]byte(`{"path":"x.png","status":"ok","box":[1,2,3]}`))
	f.Add([]byte(`{"path":"x.png","status":"ok"} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(b)
		if err != nil {
			return
		}
		line, err := recordLine(r)
		if err != nil {
			if strings.Contains(err.Error(), "bytes, want under") {
				return
			}
			t.Fatalf("parsed %+v but cannot write it: %v", r, err)
		}
		back, err := parseRecord(line[:len(line)-1])
		if err != nil || fmt.Sprint(back) != fmt.Sprint(r) {
			t.Fatalf("%+v does not round-trip: %+v, %v", r, back, err)
		}
		again, _ := recordLine(back)
		if !bytes.Equal(again, line) {
			t.Fatalf("line not canonical: %q then %q", line, again)
		}
	})
}

func FuzzParseMeta(f *testing.F) {
	dir := f.TempDir()
	writeStore(f, dir, shard.Spec{Index: 2, Count: 3}, testKeys(10))
	b, err := os.ReadFile(filepath.Join(dir, MetaName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"format":"maskinv embedding store","version":1}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMeta(bytes.NewReader(b))
		if err != nil {
			return
		}
		if _, err := m.Params(); err != nil || m.Count < 0 || m.Failed > m.Count {
			t.Fatalf("accepted %q: %+v", b, m)
		}
		back, err := parseMeta(bytes.NewReader(metaBytes(m)))
		if err != nil || !bytes.Equal(metaBytes(back), metaBytes(m)) {
			t.Fatalf("%+v does not round-trip: %v", m, err)
		}
	})
}

func FuzzReadJournal(f *testing.F) {
	b := writeJournal(f, f.TempDir(), testKeys(3))
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("MSJ1\x01\x00\x00\x00P\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		jc, err := readJournal(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, errJournal) {
				t.Fatalf("error %v is not errJournal", err)
			}
			return
		}
		if jc.valid > int64(len(b)) {
			t.Fatalf("valid %d beyond %d bytes", jc.valid, len(b))
		}
		for _, e := range jc.entries {
			end := e.recOff + int64(e.recLen)
			if e.vecOff >= 0 {
				end = e.vecOff + 4*int64(jc.params.Dim)
			}
			if e.recOff < 0 || end > jc.valid {
				t.Fatalf("entry %+v outside the %d valid bytes", e, jc.valid)
			}
			if _, err := parseRecord(b[e.recOff : e.recOff+int64(e.recLen)]); err != nil {
				t.Fatalf("entry %+v: %v", e, err)
			}
		}
	})
}
